/* config_value.c -- checking and storing one setting's value; see config_internal.h.
 *
 * Flow: config_apply_scalar takes one scalar of a key (from a default of the table or from the
 * file) and checks it by the key's kind: integers are plain decimals within the key's range,
 * booleans true/false/yes/no, URLs http(s) without trailing slashes, log levels by name,
 * api_secret_file the path of a file whose contents become the secret, a database_url with a
 * password (libpq's parser says) only in a file group and others cannot read. Project ids are
 * checked one by one into a list that replaces the configured projects once complete. The
 * environment (config.c) uses the same setters.
 * Invariants: a bad value is an error naming where it came from and the key, never a silent
 * default; the secret never reaches a message; every buffer that held it is wiped.
 */
#include "config_internal.h"

#include <assert.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "error.h"
#include "log.h"
#include "secret.h"
#include "utf8.h"

#define SECRET_FILE_MAX ((size_t)64 * 1024)

int config_out_of_memory(struct lk_error *err)
{
    lk_error_set(err, LK_ENOMEM, "out of memory while reading the configuration");
    return LK_ENOMEM;
}

/* Copy at most 60 bytes of s into buf (64+ bytes) for a message: control characters become
 * '?', a cut is marked with "...", and is made at a UTF-8 character boundary. */
const char *config_shown(char *buf, size_t size, const char *s)
{
    size_t n = strlen(s), i;
    size_t cap = size - 4 < 60 ? size - 4 : 60; /* room for "..." and the NUL */
    size_t keep = utf8_cut(s, n, cap);

    assert(size >= 64);
    for (i = 0; i < keep; i++)
        buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) ? '?' : s[i];
    if (keep < n) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* Heap copy of s (length len) into *slot, replacing (and freeing) what was there. */
int config_set_string(char **slot, const char *s, size_t len, bool secret, struct lk_error *err)
{
    char *copy = malloc(len + 1);

    if (copy == NULL)
        return config_out_of_memory(err);
    memcpy(copy, s, len);
    copy[len] = '\0';
    if (secret)
        secret_free(*slot);
    else
        free(*slot);
    *slot = copy;
    return 0;
}

/* ---- projects ---- */

/* Letters, digits, '_' and '-' only: the id goes into URL paths unescaped. */
static bool valid_project_id(const char *id)
{
    if (*id == '\0')
        return false;
    for (; *id != '\0'; id++) {
        char c = *id;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* The error for an id that is empty, badly formed or repeated; 0 for a good one. */
static int check_project(const struct id_list *list, const char *id, size_t len, const char *where,
                         const char *what, struct lk_error *err)
{
    char show[80];

    if (len == 0 || strlen(id) != len) {
        lk_error_set(err, LK_ECONFIG, "%s: %s holds an empty project id", where, what);
        lk_error_detail(err, "project ids look like \"p_...\"");
        return LK_ECONFIG;
    }
    if (!valid_project_id(id)) {
        lk_error_set(err, LK_ECONFIG,
                     "%s: project id \"%s\" may contain only letters, digits, \"_\" and \"-\"",
                     where, config_shown(show, sizeof show, id));
        lk_error_detail(err, "project ids look like \"p_...\"; list several projects as a YAML "
                             "sequence, or comma-separated in LIVEKIT_PROJECT_ID");
        return LK_ECONFIG;
    }
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], id) == 0) {
            lk_error_set(err, LK_ECONFIG, "%s: project \"%s\" is listed twice in %s", where, id,
                         what);
            return LK_ECONFIG;
        }
    }
    return 0;
}

int config_add_project(struct id_list *list, const char *id, size_t len, const char *where,
                       const char *what, struct lk_error *err)
{
    char *copy = malloc(len + 1);
    int rc;

    if (copy == NULL) {
        rc = config_out_of_memory(err);
        goto done;
    }
    memcpy(copy, id, len);
    copy[len] = '\0';
    if ((rc = check_project(list, copy, len, where, what, err)) != 0)
        goto done;
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;
        char **items = realloc(list->items, cap * sizeof *items);
        char **keys = items ? realloc(list->keys, cap * sizeof *keys) : NULL;
        char **secrets = keys ? realloc(list->secrets, cap * sizeof *secrets) : NULL;
        int *max_rpm = secrets ? realloc(list->max_rpm, cap * sizeof *max_rpm) : NULL;

        if (items)
            list->items = items;
        if (keys)
            list->keys = keys;
        if (secrets)
            list->secrets = secrets;
        if (max_rpm == NULL) {
            rc = config_out_of_memory(err);
            goto done;
        }
        list->max_rpm = max_rpm;
        list->cap = cap;
    }
    list->keys[list->count] = NULL;
    list->secrets[list->count] = NULL;
    list->max_rpm[list->count] = 0;
    list->items[list->count++] = copy;
    copy = NULL;
done:
    free(copy);
    return rc;
}

void config_clear_projects(struct config *cfg)
{
    for (size_t i = 0; i < cfg->project_count; i++) {
        free(cfg->projects[i]);
        if (cfg->project_api_keys)
            free(cfg->project_api_keys[i]);
        if (cfg->project_api_secrets)
            secret_free(cfg->project_api_secrets[i]);
    }
    free(cfg->projects);
    free(cfg->project_api_keys);
    free(cfg->project_api_secrets);
    free(cfg->project_max_rpm);
}

void config_take_projects(struct config *cfg, struct id_list *list)
{
    config_clear_projects(cfg);
    cfg->projects = list->items;
    cfg->project_api_keys = list->keys;
    cfg->project_api_secrets = list->secrets;
    cfg->project_max_rpm = list->max_rpm;
    cfg->project_count = list->count;
    list->items = list->keys = list->secrets = NULL;
    list->max_rpm = NULL;
    list->count = list->cap = 0;
}

void config_id_list_dispose(struct id_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i]);
        free(list->keys[i]);
        secret_free(list->secrets[i]);
    }
    free(list->items);
    free(list->keys);
    free(list->secrets);
    free(list->max_rpm);
    list->items = list->keys = list->secrets = NULL;
    list->max_rpm = NULL;
    list->count = list->cap = 0;
}

int config_expect(const struct key_def *def, const char *where, struct lk_error *err)
{
    switch (def->kind) {
    case KIND_INT:
    case KIND_LONG:
    case KIND_SIZE:
        lk_error_set(err, LK_ECONFIG, "%s: \"%s\" must be an integer between %lld and %lld", where,
                     def->name, def->min, def->max);
        break;
    case KIND_BOOL:
        lk_error_set(err, LK_ECONFIG, "%s: \"%s\" must be true or false", where, def->name);
        break;
    case KIND_LOG_LEVEL:
        lk_error_set(err, LK_ECONFIG, "%s: \"%s\" must be one of error, warn, info, debug", where,
                     def->name);
        break;
    case KIND_PROJECTS:
        lk_error_set(err, LK_ECONFIG, "%s: \"%s\" must be a project id or a list of project ids",
                     where, def->name);
        break;
    default:
        lk_error_set(err, LK_ECONFIG, "%s: \"%s\" must be a string", where, def->name);
        break;
    }
    return LK_ECONFIG;
}

/* A scalar an integer or boolean key does not take: say what it takes and what was found. */
static int wrong_scalar(const struct key_def *def, const struct config_scalar *value,
                        const char *where, struct lk_error *err)
{
    char show[80];

    config_expect(def, where, err);
    if (!value->plain)
        lk_error_detail(err, "found the quoted string \"%s\"; write it without quotes",
                        config_shown(show, sizeof show, value->text));
    else
        lk_error_detail(err, "found \"%s\"", config_shown(show, sizeof show, value->text));
    return LK_ECONFIG;
}

/* ---- values ---- */

/* Plain decimal: an optional '-', then digits without a leading zero; saturates far beyond
 * every key's range so a huge number is reported as out of range, not wrapped. */
static bool parse_decimal(const char *s, long long *out)
{
    bool negative = false;
    long long v = 0;

    if (*s == '-') {
        negative = true;
        s++;
    }
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v < 1000000000000000LL)
            v = v * 10 + (*s - '0');
    }
    *out = negative ? -v : v;
    return true;
}

/* An integer key: plain decimal within the key's range, into an int, long or size_t field. */
static int set_number(const struct loader *ld, const struct key_def *def,
                      const struct config_scalar *value, const char *where)
{
    void *field = (char *)ld->cfg + def->offset;
    long long number;

    if (!value->plain || !parse_decimal(value->text, &number) || number < def->min ||
        number > def->max)
        return wrong_scalar(def, value, where, ld->err);
    if (def->kind == KIND_INT)
        *(int *)field = (int)number;
    else if (def->kind == KIND_LONG)
        *(long *)field = (long)number;
    else
        *(size_t *)field = (size_t)number;
    return 0;
}

/* A boolean key: plain true/false or yes/no, any case. */
static int set_bool(const struct loader *ld, const struct key_def *def,
                    const struct config_scalar *value, const char *where)
{
    bool *field = (bool *)((char *)ld->cfg + def->offset);

    if (value->plain &&
        (strcasecmp(value->text, "true") == 0 || strcasecmp(value->text, "yes") == 0))
        *field = true;
    else if (value->plain &&
             (strcasecmp(value->text, "false") == 0 || strcasecmp(value->text, "no") == 0))
        *field = false;
    else
        return wrong_scalar(def, value, where, ld->err);
    return 0;
}

/* Check an http(s) URL and store it without trailing slashes. */
int config_set_url(char **slot, const char *url, const char *where, const char *what,
                   struct lk_error *err)
{
    char show[80];
    size_t len = strlen(url);
    size_t scheme = strncasecmp(url, "https://", 8) == 0  ? 8
                    : strncasecmp(url, "http://", 7) == 0 ? 7
                                                          : 0;

    while (len > scheme && url[len - 1] == '/')
        len--;
    if (scheme == 0 || len == scheme || strpbrk(url, " \t\r\n") != NULL) {
        lk_error_set(err, LK_ECONFIG, "%s: %s must be an http:// or https:// URL", where, what);
        lk_error_detail(err, "found \"%s\"; the default is %s",
                        config_shown(show, sizeof show, url),
                        config_find_key("base_url", 8)->default_value);
        return LK_ECONFIG;
    }
    return config_set_string(slot, url, len, false, err);
}

int config_set_log_level(char **slot, const char *name, const char *where, const char *what,
                         struct lk_error *err)
{
    char show[80];
    enum log_level level;

    if (log_level_from_name(name, &level) != 0) {
        lk_error_set(err, LK_ECONFIG, "%s: %s must be one of error, warn, info, debug", where,
                     what);
        lk_error_detail(err, "found \"%s\"", config_shown(show, sizeof show, name));
        return LK_ECONFIG;
    }
    return config_set_string(slot, name, strlen(name), false, err);
}

char *config_resolve_beside(const char *config_path, const char *file)
{
    const char *slash = config_path ? strrchr(config_path, '/') : NULL;
    size_t dir_len = slash ? (size_t)(slash - config_path) + 1 : 0;
    size_t file_len = strlen(file);
    char *joined;

    if (file[0] == '/')
        dir_len = 0;
    joined = malloc(dir_len + file_len + 1);
    if (joined == NULL)
        return NULL;
    if (dir_len > 0)
        memcpy(joined, config_path, dir_len);
    memcpy(joined + dir_len, file, file_len + 1);
    return joined;
}

/* The error for a secret file that could not be read (errnum from config_read_file). */
static int secret_file_error(struct lk_error *err, int errnum, const char *path, const char *where)
{
    if (errnum == ENOMEM)
        return config_out_of_memory(err);
    if (errnum == EFBIG) {
        lk_error_set(err, LK_ECONFIG, "%s: api_secret_file \"%s\" is larger than %zu KiB", where,
                     path, SECRET_FILE_MAX / 1024);
        lk_error_detail(err, "the file must hold only the API secret");
        return LK_ECONFIG;
    }
    lk_error_set(err, LK_ECONFIG, "%s: could not read api_secret_file \"%s\": %s", where, path,
                 strerror(errnum));
    return LK_ECONFIG;
}

/* api_secret_file: read it, strip trailing whitespace, keep it as the secret. */
int config_read_secret_file(const struct loader *ld, const char *file, const char *where,
                            char **slot)
{
    char *path = NULL, *text = NULL;
    struct config_file_info info = {0, 0};
    size_t len = 0;
    int rc = LK_ECONFIG, errnum;

    path = config_resolve_beside(ld->path, file);
    if (path == NULL) {
        rc = config_out_of_memory(ld->err);
        goto done;
    }
    errnum = config_read_file(path, SECRET_FILE_MAX, &text, &len, &info);
    if (errnum != 0) {
        rc = secret_file_error(ld->err, errnum, path, where);
        goto done;
    }
    if (info.mode & (S_IRWXG | S_IRWXO)) { /* as ssh treats a private key */
        lk_error_set(ld->err, LK_ECONFIG,
                     "%s: api_secret_file \"%s\" can be used by group or others (mode %04o)", where,
                     path, info.mode);
        lk_error_detail(ld->err, "make it private to the user running lkarchive: chmod 600 %s",
                        path);
        goto done;
    }
    while (len > 0 && strchr(" \t\r\n\v\f", text[len - 1]) != NULL)
        text[--len] = '\0';
    if (len == 0) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: api_secret_file \"%s\" is empty", where, path);
        lk_error_detail(ld->err, "put the API secret of the project's API key in it");
        goto done;
    }
    if (strlen(text) != len) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: api_secret_file \"%s\" contains a NUL byte", where,
                     path);
        goto done;
    }
    rc = config_set_string(slot, text, len, true, ld->err);
done:
    secret_free_n(text, len);
    free(path);
    return rc;
}

/* Whether a libpq connection string or URI holds a password (libpq's own parser reads it;
 * one it cannot parse is left for the connection to report). The parsed copy is wiped. */
static bool conninfo_has_password(const char *conninfo)
{
    char *message = NULL;
    PQconninfoOption *options = PQconninfoParse(conninfo, &message);
    bool found = false;

    for (PQconninfoOption *o = options; o != NULL && o->keyword != NULL; o++) {
        if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0') {
            found = true;
            secret_wipe(o->val, strlen(o->val));
        }
    }
    PQconninfoFree(options);
    PQfreemem(message);
    return found;
}

/* A password in database_url is a secret: as the inline api_secret, only in a file that
 * neither group nor others can read. The URL itself is never shown. */
static int check_database_url(const struct loader *ld, const char *url, const char *where)
{
    if (!(ld->file_mode & (S_IRGRP | S_IROTH)) || !conninfo_has_password(url))
        return 0;
    lk_error_set(ld->err, LK_ECONFIG,
                 "%s: database_url holds a password and the config file can be read by group or "
                 "others (mode %04o)",
                 where, ld->file_mode);
    lk_error_detail(ld->err,
                    "keep the password in ~/.pgpass (or PGPASSFILE) and drop it from the URL, or "
                    "chmod 600 %s, or set DATABASE_URL",
                    ld->path);
    return LK_ECONFIG;
}

int config_apply_scalar(const struct loader *ld, const struct key_def *def,
                        const struct config_scalar *value, const char *where)
{
    char **field = (char **)((char *)ld->cfg + def->offset);
    char what[64];

    assert(def->kind != KIND_PROJECTS);
    if (strlen(value->text) != value->len) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: \"%s\" contains a NUL character", where, def->name);
        return LK_ECONFIG;
    }
    if (def->kind == KIND_INT || def->kind == KIND_LONG || def->kind == KIND_SIZE)
        return set_number(ld, def, value, where);
    if (def->kind == KIND_BOOL)
        return set_bool(ld, def, value, where);
    if (value->len == 0) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: \"%s\" is empty", where, def->name);
        lk_error_detail(ld->err, "give it a value, or remove the line to use the default");
        return LK_ECONFIG;
    }
    snprintf(what, sizeof what, "\"%s\"", def->name);
    switch (def->kind) {
    case KIND_URL:
        return config_set_url(field, value->text, where, what, ld->err);
    case KIND_LOG_LEVEL:
        return config_set_log_level(field, value->text, where, what, ld->err);
    case KIND_SECRET:
        if (ld->file_mode & (S_IRGRP | S_IROTH)) {
            lk_error_set(ld->err, LK_ECONFIG,
                         "%s: the config file holds api_secret and can be read by group or "
                         "others (mode %04o)",
                         where, ld->file_mode);
            lk_error_detail(ld->err,
                            "chmod 600 %s, or move the secret to api_secret_file (mode 600) or "
                            "LIVEKIT_API_SECRET",
                            ld->path);
            return LK_ECONFIG;
        }
        log_warn("%s: api_secret is written in the config file; api_secret_file or "
                 "LIVEKIT_API_SECRET keep it out of it",
                 where);
        return config_set_string(field, value->text, value->len, true, ld->err);
    case KIND_SECRET_FILE:
        return config_read_secret_file(ld, value->text, where, &ld->cfg->api_secret);
    default:
        if (strcmp(def->name, "database_url") == 0 &&
            check_database_url(ld, value->text, where) != 0)
            return LK_ECONFIG;
        return config_set_string(field, value->text, value->len, false, ld->err);
    }
}
