/* config_internal.h -- what the config*.c files share; no other module includes it.
 *
 * config.c owns the table of keys (kind, range, field, default) and the order of the sources
 * (defaults, file, environment) and the cross-checks. config_value.c checks and stores one
 * value by its key's kind, and the project ids. config_yaml.c owns the file: its bytes,
 * libyaml's document, the line of every key, and the errors about the file's shape (keys,
 * nulls, lists where a value belongs). Values cross from the file to the settings as
 * struct config_scalar.
 */
#ifndef LK_CONFIG_INTERNAL_H
#define LK_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error.h"

struct lk_error;

enum key_kind {
    KIND_PROJECTS,    /* a project id or a sequence of them */
    KIND_STRING,      /* a non-empty string */
    KIND_SECRET,      /* the inline secret: a string never echoed */
    KIND_SECRET_FILE, /* path of a file holding the secret */
    KIND_URL,         /* http(s) URL, trailing '/' stripped */
    KIND_INT,         /* plain decimal into an int field */
    KIND_LONG,        /* plain decimal into a long field */
    KIND_SIZE,        /* plain decimal into a size_t field */
    KIND_BOOL,        /* true/false/yes/no into a bool field */
    KIND_LOG_LEVEL    /* error|warn|info|debug */
};

struct key_def {
    const char *name;
    enum key_kind kind;
    long long min, max;        /* inclusive range of the integer kinds */
    size_t offset;             /* of the field in struct config (unused by projects, secret file) */
    const char *default_value; /* applied like a plain scalar before the file; NULL: none */
};

/* The number of entries of config_keys (checked where the table is defined). */
#define CONFIG_KEY_COUNT 39

/* Every key the file may hold, in the order config/lkarchive.example.yaml documents them. */
extern const struct key_def config_keys[CONFIG_KEY_COUNT];

/* Problems of one load kept to be reported together. */
#define CONFIG_PROBLEMS_KEPT 8

/* One load: the config being filled, the file (NULL: none) and the caller's error record. */
struct loader {
    struct config *cfg;
    const char *path;
    unsigned int file_mode; /* the config file's permission bits (st_mode & 07777) */
    struct lk_error *err;
    size_t seen[CONFIG_KEY_COUNT]; /* 1-based line where each key was set, 0 = not set */
    /* the problems found so far, reported together at the end (config_note_problem) */
    struct lk_error problems[CONFIG_PROBLEMS_KEPT];
    int problem_count; /* may exceed CONFIG_PROBLEMS_KEPT: the rest are counted */
};

/* A scalar value as given: text is NUL-terminated after len bytes (it may hold a NUL before);
 * plain: written without quotes (defaults count as plain). */
struct config_scalar {
    const char *text;
    size_t len;
    bool plain;
};

/* A growing list of project ids, moved into struct config once complete. */
struct id_list {
    char **items;
    char **keys, **secrets; /* each item's own api_key and secret, NULL when it has none */
    int *max_rpm;           /* each item's own max_requests_per_minute, 0 when it has none */
    size_t count, cap;
};

/* ---- config.c ---- */

/* The key called name (len bytes, which may hold a NUL), or NULL. */
const struct key_def *config_find_key(const char *name, size_t len);

/* Whether an environment variable gives def's value (LIVEKIT_API_SECRET or
 * LKARCHIVE_API_SECRET_FILE give api_secret and api_secret_file, LIVEKIT_PROJECT_ID the
 * projects with their credentials, ...): the file's value is then not read. Cannot fail. */
bool config_env_gives(const struct key_def *def);

/* rc is a step's result: an LK_ECONFIG in ld->err is noted (kept to be reported with every
 * other problem at the end of the load) and 0 returned, so the load goes on; anything else
 * (0, LK_ENOMEM) is returned as it is. */
int config_note_problem(struct loader *ld, int rc);

/* The detail of an unknown key's error: the keys it is near, or every key. */
void config_hint_unknown_key(const char *name, struct lk_error *err);

/* ---- config_value.c ---- */

/* Set err to out of memory; returns LK_ENOMEM. */
int config_out_of_memory(struct lk_error *err);

/* At most 60 bytes of s, control characters as '?', for a message; buf holds 64+ bytes. */
const char *config_shown(char *buf, size_t size, const char *s);

/* The message saying what def takes ("\"x\" must be ..."); returns LK_ECONFIG. The caller
 * adds a detail saying what was found. */
int config_expect(const struct key_def *def, const char *where, struct lk_error *err);

/* Heap copy of s (len bytes) into *slot, freeing what was there (wiped first if secret).
 * Returns 0 or LK_ENOMEM. */
int config_set_string(char **slot, const char *s, size_t len, bool secret, struct lk_error *err);

/* Check an http(s) URL and store it without trailing slashes; where and what name the source
 * in errors. Returns 0, LK_ECONFIG or LK_ENOMEM. */
int config_set_url(char **slot, const char *url, const char *where, const char *what,
                   struct lk_error *err);

/* Check a log level name (error, warn, info, debug) and store it. As config_set_url. */
int config_set_log_level(char **slot, const char *name, const char *where, const char *what,
                         struct lk_error *err);

/* Check and store one scalar of def (not KIND_PROJECTS); where names its source. Returns 0,
 * LK_ECONFIG or LK_ENOMEM. */
int config_apply_scalar(const struct loader *ld, const struct key_def *def,
                        const struct config_scalar *value, const char *where);

/* Append id (len bytes) to list after checking it; where and what name the source. */
int config_add_project(struct id_list *list, const char *id, size_t len, const char *where,
                       const char *what, struct lk_error *err);

/* A relative path joined to the directory of config_path (NULL: as given), so a cron job's
 * working directory does not matter. Returns a heap string, or NULL when out of memory. */
char *config_resolve_beside(const char *config_path, const char *file);

/* Read an api_secret_file (resolved beside the config file; private to the user, not
 * empty) into *slot; where names the key's place. Returns 0, LK_ECONFIG or LK_ENOMEM. */
int config_read_secret_file(const struct loader *ld, const char *file, const char *where,
                            char **slot);
/* Free cfg's projects (the fields are left dangling: set or free them next). */
void config_clear_projects(struct config *cfg);

/* Replace cfg's projects with list's (list is emptied). Cannot fail. */
void config_take_projects(struct config *cfg, struct id_list *list);

/* Free the ids and empty the list. Cannot fail. */
void config_id_list_dispose(struct id_list *list);

/* ---- config_ca.c ---- */

/* Choose the CA bundle of the API's TLS: LKARCHIVE_CA_FILE, else ca_file (written at
 * file_line of the file, resolved beside it), else CURL_CA_BUNDLE, else SSL_CERT_FILE; sets
 * cfg->ca_file (the path) and cfg->ca_source (none: both NULL, the system store). With check,
 * the file must be a readable PEM bundle. Returns 0, LK_ECONFIG (err names the source and
 * the file) or LK_ENOMEM. */
int config_choose_ca_file(struct loader *ld, size_t file_line, bool check);

/* ---- config_yaml.c ---- */

/* What config_read_file tells of the file it read (fstat of the open file). */
struct config_file_info {
    unsigned int mode; /* permission bits, st_mode & 07777 */
    long uid;          /* owner */
};

/* Read a whole file (at most cap bytes) into a NUL-terminated heap buffer that the caller
 * frees with secret_free_n(*out, *out_len + 1) (it may hold the secret); info_out (NULL: not
 * wanted) gets its mode and owner. Returns 0 or an errno value (EFBIG when larger than cap). */
int config_read_file(const char *path, size_t cap, char **out, size_t *out_len,
                     struct config_file_info *info_out);

/* Read ld->path and apply every key of it, noting lines in ld->seen. Returns 0, LK_ECONFIG
 * (err names the file, line and key) or LK_ENOMEM. */
int config_load_file(struct loader *ld);

#endif
