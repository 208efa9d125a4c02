/* config.c -- lkarchive's settings: a YAML file (libyaml document API) overlaid by the
 * environment; see config.h.
 *
 * Flow: defaults -> the whole file is read (capped at 1 MiB) and loaded as one YAML document
 * -> each key of the top-level mapping is looked up in the table `keys` (name, kind, range,
 * field) and stored -> the contract's environment variables replace what the file said ->
 * cross-checks (min_page_limit against page_limit) and, for config_load, the credentials.
 * Invariants: every error names where it comes from ("file:line" or "environment") and the
 * key; a bad value is an error, never a silent default; every string in struct config is
 * heap-owned by it; the secret never reaches a message or a log line, and every buffer that
 * held it (file bytes, YAML nodes, libyaml's buffers, the secret file) is wiped before it is
 * freed.
 */
#include "config.h"

#include "error.h"
#include "log.h"
#include "secret.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define CONFIG_FILE_MAX ((size_t)1024 * 1024)
#define SECRET_FILE_MAX ((size_t)64 * 1024)
#define DEFAULT_BASE_URL "https://cloud-api.livekit.io"
#define DEFAULT_MIN_PAGE_LIMIT 10

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
    long long min, max; /* inclusive range of the integer kinds */
    size_t offset;      /* of the field in struct config (unused by projects, secret file) */
};

#define FIELD(f) offsetof(struct config, f)

/* Every key the file may hold, in the order config/lkarchive.example.yaml documents them. */
static const struct key_def keys[] = {
    {"projects", KIND_PROJECTS, 0, 0, 0},
    {"api_key", KIND_STRING, 0, 0, FIELD(api_key)},
    {"api_secret", KIND_SECRET, 0, 0, FIELD(api_secret)},
    {"api_secret_file", KIND_SECRET_FILE, 0, 0, 0},
    {"base_url", KIND_URL, 0, 0, FIELD(base_url)},
    {"database_url", KIND_STRING, 0, 0, FIELD(database_url)},
    {"window_days", KIND_INT, 1, 7, FIELD(window_days)},
    {"page_limit", KIND_INT, 1, 100000, FIELD(page_limit)},
    {"min_page_limit", KIND_INT, 1, 100000, FIELD(min_page_limit)},
    {"connect_timeout", KIND_LONG, 1, 600, FIELD(connect_timeout_s)},
    {"request_timeout", KIND_LONG, 1, 3600, FIELD(request_timeout_s)},
    {"token_ttl", KIND_INT, 60, 86400, FIELD(token_ttl_s)},
    {"max_string_bytes", KIND_SIZE, 1024, 268435456, FIELD(max_string_bytes)},
    {"max_depth", KIND_INT, 8, 1024, FIELD(max_depth)},
    {"max_attempts", KIND_INT, 1, 20, FIELD(max_attempts)},
    {"retry_base_ms", KIND_INT, 10, 60000, FIELD(retry_base_ms)},
    {"run_budget", KIND_INT, 1, 86400, FIELD(run_budget_s)},
    {"max_concurrency", KIND_INT, 1, 64, FIELD(max_concurrency)},
    {"requests_per_second", KIND_INT, 0, 1000, FIELD(requests_per_second)},
    {"lock_wait", KIND_INT, 0, 3600, FIELD(lock_wait_s)},
    {"db_reconnect_attempts", KIND_INT, 1, 20, FIELD(db_reconnect_attempts)},
    {"acknowledge_gaps", KIND_BOOL, 0, 1, FIELD(acknowledge_gaps)},
    {"log_level", KIND_LOG_LEVEL, 0, 0, FIELD(log_level)},
};

#define KEY_COUNT (sizeof keys / sizeof keys[0])

/* One file being loaded. */
struct loader {
    struct config *cfg;
    const char *path;
    struct lk_error *err;
    size_t seen[KEY_COUNT]; /* 1-based line where each key was set, 0 = not set */
};

/* A growing list of project ids, moved into struct config once complete. */
struct id_list {
    char **items;
    size_t count, cap;
};

static void id_list_dispose(struct id_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = list->cap = 0;
}

static int out_of_memory(struct lk_error *err)
{
    lk_error_set(err, LK_ENOMEM, "out of memory while reading the configuration");
    return LK_ENOMEM;
}

/* Copy at most 60 bytes of s into buf (64+ bytes) for a message: control characters become
 * '?', a cut is marked with "...", and is made at a UTF-8 character boundary. */
static const char *shown(char *buf, size_t size, const char *s)
{
    size_t n = strlen(s), keep = n, i;

    assert(size >= 64);
    if (keep > 60) {
        keep = 60;
        while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
            keep--;
    }
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
static int set_string(char **slot, const char *s, size_t len, bool secret, struct lk_error *err)
{
    char *copy = malloc(len + 1);

    if (copy == NULL)
        return out_of_memory(err);
    memcpy(copy, s, len);
    copy[len] = '\0';
    if (secret)
        secret_free(*slot);
    else
        free(*slot);
    *slot = copy;
    return 0;
}

/* Read a whole file (at most cap bytes) into a NUL-terminated heap buffer. Returns 0, an errno
 * value (EFBIG when larger than cap). Buffers are wiped when they move or are dropped: this
 * reads the secret file too. */
static int read_whole_file(const char *path, size_t cap, char **out, size_t *out_len)
{
    FILE *fp = NULL;
    char *buf = NULL;
    size_t len = 0, size = 0;
    int rc = 0;

    *out = NULL;
    *out_len = 0;
    errno = 0;
    fp = fopen(path, "rb");
    if (fp == NULL) {
        rc = errno ? errno : EIO;
        goto done;
    }
    for (;;) {
        size_t n;

        if (len + 1 >= size) {
            /* malloc + copy rather than realloc, so no unwiped copy is left behind */
            size_t new_size = size ? size * 2 : 4096;
            char *bigger = malloc(new_size);

            if (bigger == NULL) {
                rc = ENOMEM;
                goto done;
            }
            if (buf != NULL) {
                memcpy(bigger, buf, len);
                secret_free_n(buf, size);
            }
            buf = bigger;
            size = new_size;
        }
        errno = 0;
        n = fread(buf + len, 1, size - len - 1, fp);
        len += n;
        if (len > cap) {
            rc = EFBIG;
            goto done;
        }
        if (n == 0) {
            if (ferror(fp)) {
                rc = errno ? errno : EIO;
                goto done;
            }
            break;
        }
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
done:
    secret_free_n(buf, size);
    if (fp != NULL)
        fclose(fp);
    return rc;
}

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

/* Append id (length len) to list after checking it; where/what name the source in errors. */
static int add_project(struct id_list *list, const char *id, size_t len, const char *where,
                       const char *what, struct lk_error *err)
{
    char show[80];
    char *copy = NULL;
    int rc = LK_ECONFIG;

    copy = malloc(len + 1);
    if (copy == NULL) {
        rc = out_of_memory(err);
        goto done;
    }
    memcpy(copy, id, len);
    copy[len] = '\0';
    if (len == 0 || strlen(copy) != len) {
        lk_error_set(err, LK_ECONFIG, "%s: %s holds an empty project id", where, what);
        lk_error_detail(err, "project ids look like \"p_...\"");
        goto done;
    }
    if (!valid_project_id(copy)) {
        lk_error_set(err, LK_ECONFIG,
                     "%s: project id \"%s\" may contain only letters, digits, \"_\" and \"-\"",
                     where, shown(show, sizeof show, copy));
        lk_error_detail(err, "project ids look like \"p_...\"; list several projects as a YAML "
                             "sequence, or comma-separated in LIVEKIT_PROJECT_ID");
        goto done;
    }
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], copy) == 0) {
            lk_error_set(err, LK_ECONFIG, "%s: project \"%s\" is listed twice in %s", where, copy,
                         what);
            goto done;
        }
    }
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;
        char **items = realloc(list->items, cap * sizeof *items);

        if (items == NULL) {
            rc = out_of_memory(err);
            goto done;
        }
        list->items = items;
        list->cap = cap;
    }
    list->items[list->count++] = copy;
    copy = NULL;
    rc = 0;
done:
    free(copy);
    return rc;
}

/* Replace cfg's projects with list's (list is emptied). */
static void take_projects(struct config *cfg, struct id_list *list)
{
    for (size_t i = 0; i < cfg->project_count; i++)
        free(cfg->projects[i]);
    free(cfg->projects);
    cfg->projects = list->items;
    cfg->project_count = list->count;
    list->items = NULL;
    list->count = list->cap = 0;
}

/* Check an http(s) URL and store it without trailing slashes. */
static int set_url(char **slot, const char *url, const char *where, const char *what,
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
        lk_error_detail(err, "found \"%s\"; the default is %s", shown(show, sizeof show, url),
                        DEFAULT_BASE_URL);
        return LK_ECONFIG;
    }
    return set_string(slot, url, len, false, err);
}

static int set_log_level(char **slot, const char *name, const char *where, const char *what,
                         struct lk_error *err)
{
    char show[80];
    enum log_level level;

    if (log_level_from_name(name, &level) != 0) {
        lk_error_set(err, LK_ECONFIG, "%s: %s must be one of error, warn, info, debug", where,
                     what);
        lk_error_detail(err, "found \"%s\"", shown(show, sizeof show, name));
        return LK_ECONFIG;
    }
    return set_string(slot, name, strlen(name), false, err);
}

/* Edit distance of two short strings (for "did you mean"); longer than 63 bytes: far. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64], i, j;

    if (la >= 64 || lb >= 64)
        return SIZE_MAX;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t diagonal = row[0];

        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);

            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

/* The detail line for an unknown key: near keys (a typo, or a prefix), else every key. */
static void hint_unknown_key(const char *name, struct lk_error *err)
{
    char list[768];
    size_t used = 0, near = 0;

    list[0] = '\0';
    for (size_t i = 0; i < KEY_COUNT; i++) {
        size_t len = strlen(name);
        bool close = edit_distance(name, keys[i].name) <= 2 ||
                     (len >= 4 && strncmp(keys[i].name, name, len) == 0);

        if (close && used < sizeof list) {
            used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%s\"", near ? ", " : "",
                                     keys[i].name);
            near++;
        }
    }
    if (near == 1) {
        lk_error_detail(err, "did you mean %s?", list);
        return;
    }
    if (near > 1) {
        lk_error_detail(err, "did you mean one of %s?", list);
        return;
    }
    for (size_t i = 0; i < KEY_COUNT && used < sizeof list; i++)
        used +=
            (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", keys[i].name);
    lk_error_detail(err, "known keys: %s", list);
}

/* Plain "", "~" and "null" (any case YAML allows) are YAML's null: a key without a value. */
static bool is_null(const yaml_node_t *node)
{
    const char *s = (const char *)node->data.scalar.value;

    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static const char *node_kind(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "a scalar";
    }
}

/* The type error of a key: message says what is expected, detail what was found (the inline
 * secret's value is never shown). */
static int wrong_type(const struct key_def *def, const yaml_node_t *value, const char *where,
                      struct lk_error *err)
{
    char show[80];

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
    if (value->type != YAML_SCALAR_NODE)
        lk_error_detail(err, "found %s", node_kind(value));
    else if (def->kind == KIND_SECRET)
        lk_error_detail(err, "found a scalar (not shown)");
    else if (value->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        lk_error_detail(err, "found the quoted string \"%s\"; write it without quotes",
                        shown(show, sizeof show, (const char *)value->data.scalar.value));
    else
        lk_error_detail(err, "found \"%s\"",
                        shown(show, sizeof show, (const char *)value->data.scalar.value));
    return LK_ECONFIG;
}

/* Join a relative api_secret_file to the directory of the config file, so a cron job's
 * working directory does not matter. Returns a heap string or NULL (out of memory). */
static char *resolve_beside(const char *config_path, const char *file)
{
    const char *slash = strrchr(config_path, '/');
    size_t dir_len = slash ? (size_t)(slash - config_path) + 1 : 0;
    size_t file_len = strlen(file);
    char *joined;

    if (file[0] == '/')
        dir_len = 0;
    joined = malloc(dir_len + file_len + 1);
    if (joined == NULL)
        return NULL;
    memcpy(joined, config_path, dir_len);
    memcpy(joined + dir_len, file, file_len + 1);
    return joined;
}

/* api_secret_file: read it, strip trailing whitespace, keep it as the secret. */
static int read_secret_file(struct loader *ld, const char *file, const char *where)
{
    char *path = NULL, *text = NULL;
    size_t len = 0;
    int rc = LK_ECONFIG, errnum;

    path = resolve_beside(ld->path, file);
    if (path == NULL) {
        rc = out_of_memory(ld->err);
        goto done;
    }
    errnum = read_whole_file(path, SECRET_FILE_MAX, &text, &len);
    if (errnum == ENOMEM) {
        rc = out_of_memory(ld->err);
        goto done;
    }
    if (errnum == EFBIG) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: api_secret_file \"%s\" is larger than %zu KiB",
                     where, path, SECRET_FILE_MAX / 1024);
        lk_error_detail(ld->err, "the file must hold only the API secret");
        goto done;
    }
    if (errnum != 0) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: could not read api_secret_file \"%s\": %s", where,
                     path, strerror(errnum));
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
    rc = set_string(&ld->cfg->api_secret, text, len, true, ld->err);
done:
    secret_free_n(text, len);
    free(path);
    return rc;
}

/* The sequence (or single scalar) under "projects". */
static int apply_projects(struct loader *ld, const struct key_def *def, yaml_document_t *doc,
                          yaml_node_t *value, const char *where)
{
    struct id_list list = {NULL, 0, 0};
    char item_where[600];
    int rc = LK_ECONFIG;

    if (value->type == YAML_MAPPING_NODE) {
        rc = wrong_type(def, value, where, ld->err);
        goto done;
    }
    if (value->type == YAML_SCALAR_NODE) {
        rc = add_project(&list, (const char *)value->data.scalar.value, value->data.scalar.length,
                         where, "\"projects\"", ld->err);
        if (rc != 0)
            goto done;
    } else {
        if (value->data.sequence.items.start == value->data.sequence.items.top) {
            lk_error_set(ld->err, LK_ECONFIG, "%s: \"projects\" is an empty list", where);
            lk_error_detail(ld->err, "list at least one project id, or remove the key and set "
                                     "LIVEKIT_PROJECT_ID");
            goto done;
        }
        for (yaml_node_item_t *it = value->data.sequence.items.start;
             it < value->data.sequence.items.top; it++) {
            yaml_node_t *item = yaml_document_get_node(doc, *it);

            snprintf(item_where, sizeof item_where, "%s:%zu", ld->path, item->start_mark.line + 1);
            if (item->type != YAML_SCALAR_NODE || is_null(item)) {
                lk_error_set(ld->err, LK_ECONFIG,
                             "%s: every item of \"projects\" must be a project id", item_where);
                lk_error_detail(ld->err, "found %s",
                                is_null(item) ? "an empty item" : node_kind(item));
                rc = LK_ECONFIG;
                goto done;
            }
            rc = add_project(&list, (const char *)item->data.scalar.value, item->data.scalar.length,
                             item_where, "\"projects\"", ld->err);
            if (rc != 0)
                goto done;
        }
    }
    take_projects(ld->cfg, &list);
    rc = 0;
done:
    id_list_dispose(&list);
    return rc;
}

/* Store one key's value; where is "file:line" of the key. */
static int apply_value(struct loader *ld, const struct key_def *def, yaml_document_t *doc,
                       yaml_node_t *value, const char *where)
{
    void *field = (char *)ld->cfg + def->offset;
    const char *text;
    size_t len;
    long long number;

    if (is_null(value)) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: \"%s\" has no value", where, def->name);
        lk_error_detail(ld->err, "give it a value, or remove the line to use the default");
        return LK_ECONFIG;
    }
    if (def->kind == KIND_PROJECTS)
        return apply_projects(ld, def, doc, value, where);
    if (value->type != YAML_SCALAR_NODE)
        return wrong_type(def, value, where, ld->err);
    text = (const char *)value->data.scalar.value;
    len = value->data.scalar.length;
    if (strlen(text) != len) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: \"%s\" contains a NUL character", where, def->name);
        return LK_ECONFIG;
    }
    switch (def->kind) {
    case KIND_INT:
    case KIND_LONG:
    case KIND_SIZE:
        if (value->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !parse_decimal(text, &number) ||
            number < def->min || number > def->max)
            return wrong_type(def, value, where, ld->err);
        if (def->kind == KIND_INT)
            *(int *)field = (int)number;
        else if (def->kind == KIND_LONG)
            *(long *)field = (long)number;
        else
            *(size_t *)field = (size_t)number;
        return 0;
    case KIND_BOOL:
        if (value->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
            return wrong_type(def, value, where, ld->err);
        if (strcasecmp(text, "true") == 0 || strcasecmp(text, "yes") == 0)
            *(bool *)field = true;
        else if (strcasecmp(text, "false") == 0 || strcasecmp(text, "no") == 0)
            *(bool *)field = false;
        else
            return wrong_type(def, value, where, ld->err);
        return 0;
    default:
        break;
    }
    if (len == 0) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: \"%s\" is empty", where, def->name);
        lk_error_detail(ld->err, "give it a value, or remove the line to use the default");
        return LK_ECONFIG;
    }
    switch (def->kind) {
    case KIND_URL:
        return set_url((char **)field, text, where, "\"base_url\"", ld->err);
    case KIND_LOG_LEVEL:
        return set_log_level((char **)field, text, where, "\"log_level\"", ld->err);
    case KIND_SECRET:
        log_warn("%s: api_secret is written in the config file; api_secret_file or "
                 "LIVEKIT_API_SECRET keep it out of it",
                 where);
        return set_string((char **)field, text, len, true, ld->err);
    case KIND_SECRET_FILE:
        return read_secret_file(ld, text, where);
    default:
        return set_string((char **)field, text, len, false, ld->err);
    }
}

static const struct key_def *find_key(const char *name, size_t len)
{
    if (strlen(name) != len)
        return NULL;
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* One key: value pair of the top-level mapping. */
static int apply_pair(struct loader *ld, yaml_document_t *doc, yaml_node_t *key, yaml_node_t *value)
{
    char where[600], show[80];
    const struct key_def *def;
    const char *name;
    size_t index;

    snprintf(where, sizeof where, "%s:%zu", ld->path, key->start_mark.line + 1);
    if (key->type != YAML_SCALAR_NODE) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: found %s where a key was expected", where,
                     node_kind(key));
        lk_error_detail(ld->err, "keys are plain names such as \"projects\" or \"page_limit\"");
        return LK_ECONFIG;
    }
    name = (const char *)key->data.scalar.value;
    def = find_key(name, key->data.scalar.length);
    if (def == NULL) {
        /* "api_secret s3cr3t: x" would otherwise echo the secret as a key name */
        if (strncmp(name, "api_secret", 10) == 0) {
            lk_error_set(ld->err, LK_ECONFIG,
                         "%s: unknown key starting with \"api_secret\" "
                         "(not shown)",
                         where);
            lk_error_detail(ld->err, "did you mean \"api_secret_file\" or \"api_secret\"?");
        } else {
            lk_error_set(ld->err, LK_ECONFIG, "%s: unknown key \"%s\"", where,
                         shown(show, sizeof show, name));
            hint_unknown_key(name, ld->err);
        }
        return LK_ECONFIG;
    }
    index = (size_t)(def - keys);
    if (ld->seen[index] != 0) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: duplicate key \"%s\"", where, def->name);
        lk_error_detail(ld->err, "first set at line %zu; keep one", ld->seen[index]);
        return LK_ECONFIG;
    }
    ld->seen[index] = key->start_mark.line + 1;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        /* the inline secret and the secret file exclude each other */
        if (i != index && ld->seen[i] != 0 &&
            ((def->kind == KIND_SECRET && keys[i].kind == KIND_SECRET_FILE) ||
             (def->kind == KIND_SECRET_FILE && keys[i].kind == KIND_SECRET))) {
            lk_error_set(ld->err, LK_ECONFIG, "%s: api_secret and api_secret_file are both set",
                         where);
            lk_error_detail(ld->err, "the other one is at line %zu; keep api_secret_file",
                            ld->seen[i]);
            return LK_ECONFIG;
        }
    }
    return apply_value(ld, def, doc, value, where);
}

/* libyaml's own message for a document it could not load. */
static int yaml_failure(const struct loader *ld, const yaml_parser_t *parser)
{
    const char *problem = parser->problem ? parser->problem : "unknown problem";

    switch (parser->error) {
    case YAML_MEMORY_ERROR:
        return out_of_memory(ld->err);
    case YAML_READER_ERROR:
        lk_error_set(ld->err, LK_ECONFIG, "%s: not readable as YAML text: %s", ld->path, problem);
        lk_error_detail(ld->err, "at byte %zu; the file must be UTF-8 (or UTF-16) text",
                        parser->problem_offset);
        return LK_ECONFIG;
    default:
        lk_error_set(ld->err, LK_ECONFIG, "%s:%zu: YAML syntax error: %s", ld->path,
                     parser->problem_mark.line + 1, problem);
        if (parser->context != NULL)
            lk_error_detail(ld->err, "%s (line %zu, column %zu)", parser->context,
                            parser->context_mark.line + 1, parser->context_mark.column + 1);
        else
            lk_error_detail(ld->err, "at column %zu", parser->problem_mark.column + 1);
        return LK_ECONFIG;
    }
}

/* Scalars may hold the inline secret: wipe them before libyaml frees the document. */
static void wipe_document(yaml_document_t *doc)
{
    for (yaml_node_t *node = doc->nodes.start; node < doc->nodes.top; node++)
        if (node->type == YAML_SCALAR_NODE)
            secret_wipe(node->data.scalar.value, node->data.scalar.length);
}

static void wipe_parser(yaml_parser_t *parser)
{
    if (parser->buffer.start != NULL)
        secret_wipe(parser->buffer.start, (size_t)(parser->buffer.end - parser->buffer.start));
    if (parser->raw_buffer.start != NULL)
        secret_wipe(parser->raw_buffer.start,
                    (size_t)(parser->raw_buffer.end - parser->raw_buffer.start));
}

/* Read and apply the file. */
static int load_file(struct loader *ld)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool parser_ready = false, doc_ready = false, extra_ready = false;
    yaml_node_t *root;
    char *text = NULL;
    size_t len = 0;
    int rc = LK_ECONFIG, errnum;

    errnum = read_whole_file(ld->path, CONFIG_FILE_MAX, &text, &len);
    if (errnum == ENOMEM) {
        rc = out_of_memory(ld->err);
        goto done;
    }
    if (errnum == EFBIG) {
        lk_error_set(ld->err, LK_ECONFIG, "config file \"%s\" is larger than %zu KiB", ld->path,
                     CONFIG_FILE_MAX / 1024);
        goto done;
    }
    if (errnum != 0) {
        lk_error_set(ld->err, LK_ECONFIG, "could not read config file \"%s\": %s", ld->path,
                     strerror(errnum));
        goto done;
    }
    if (!yaml_parser_initialize(&parser)) {
        rc = out_of_memory(ld->err);
        goto done;
    }
    parser_ready = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = yaml_failure(ld, &parser);
        goto done;
    }
    doc_ready = true;
    root = yaml_document_get_root_node(&doc);
    if (root != NULL && is_null(root))
        root = NULL; /* a file holding only "~": no keys, like an empty file */
    if (root != NULL && root->type != YAML_MAPPING_NODE) {
        lk_error_set(ld->err, LK_ECONFIG,
                     "%s:%zu: the file must be a mapping of keys to values, not %s", ld->path,
                     root->start_mark.line + 1,
                     root->type == YAML_SEQUENCE_NODE ? "a list" : "a single value");
        lk_error_detail(ld->err, "write one \"key: value\" per line, as in "
                                 "lkarchive.example.yaml");
        goto done;
    }
    if (root != NULL) {
        for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
             pair < root->data.mapping.pairs.top; pair++) {
            rc = apply_pair(ld, &doc, yaml_document_get_node(&doc, pair->key),
                            yaml_document_get_node(&doc, pair->value));
            if (rc != 0)
                goto done;
        }
    }
    /* a stray "---" followed by more keys would otherwise be ignored */
    if (!yaml_parser_load(&parser, &extra)) {
        rc = yaml_failure(ld, &parser);
        goto done;
    }
    extra_ready = true;
    root = yaml_document_get_root_node(&extra);
    if (root != NULL) {
        lk_error_set(ld->err, LK_ECONFIG, "%s:%zu: a second YAML document", ld->path,
                     root->start_mark.line + 1);
        lk_error_detail(ld->err, "the file must hold one document; remove the \"---\" line");
        rc = LK_ECONFIG;
        goto done;
    }
    rc = 0;
done:
    if (extra_ready) {
        wipe_document(&extra);
        yaml_document_delete(&extra);
    }
    if (doc_ready) {
        wipe_document(&doc);
        yaml_document_delete(&doc);
    }
    if (parser_ready) {
        wipe_parser(&parser);
        yaml_parser_delete(&parser);
    }
    secret_free_n(text, len);
    return rc;
}

/* An environment variable's value; empty counts as unset. */
static const char *env_value(const char *name)
{
    const char *value = getenv(name);

    return (value != NULL && value[0] != '\0') ? value : NULL;
}

/* LIVEKIT_PROJECT_ID: one id or several, comma-separated (blanks around ids ignored). */
static int env_projects(struct config *cfg, const char *value, struct lk_error *err)
{
    struct id_list list = {NULL, 0, 0};
    const char *p = value;
    int rc = 0;

    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        rc = add_project(&list, p, len, "environment", "LIVEKIT_PROJECT_ID", err);
        if (rc != 0)
            goto done;
        if (end == NULL)
            break;
        p = end + 1;
    }
    take_projects(cfg, &list);
done:
    id_list_dispose(&list);
    return rc;
}

/* The contract's variables replace what the file said. */
static int apply_environment(struct config *cfg, struct lk_error *err)
{
    const char *value;
    int rc = 0;

    if ((value = env_value("LIVEKIT_API_KEY")) != NULL)
        rc = set_string(&cfg->api_key, value, strlen(value), false, err);
    if (rc == 0 && (value = env_value("LIVEKIT_API_SECRET")) != NULL)
        rc = set_string(&cfg->api_secret, value, strlen(value), true, err);
    if (rc == 0 && (value = env_value("LIVEKIT_PROJECT_ID")) != NULL)
        rc = env_projects(cfg, value, err);
    if (rc == 0 && (value = env_value("LIVEKIT_ANALYTICS_URL")) != NULL)
        rc = set_url(&cfg->base_url, value, "environment", "LIVEKIT_ANALYTICS_URL", err);
    if (rc == 0 && (value = env_value("DATABASE_URL")) != NULL)
        rc = set_string(&cfg->database_url, value, strlen(value), false, err);
    if (rc == 0 && (value = env_value("LKARCHIVE_LOG_LEVEL")) != NULL)
        rc = set_log_level(&cfg->log_level, value, "environment", "LKARCHIVE_LOG_LEVEL", err);
    return rc;
}

static size_t key_line(const struct loader *ld, const char *name)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(keys[i].name, name) == 0)
            return ld->seen[i];
    return 0;
}

/* What only all sources together can tell. */
static int validate(const struct loader *ld, bool strict)
{
    const struct config *cfg = ld->cfg;
    const char *source = ld->path ? " in the config file" : "";
    size_t line = key_line(ld, "min_page_limit");

    if (line != 0 && cfg->min_page_limit > cfg->page_limit) {
        lk_error_set(ld->err, LK_ECONFIG,
                     "%s:%zu: \"min_page_limit\" (%d) must not be larger than page_limit (%d)",
                     ld->path, line, cfg->min_page_limit, cfg->page_limit);
        return LK_ECONFIG;
    }
    if (!strict)
        return 0;
    if (cfg->api_key == NULL) {
        lk_error_set(ld->err, LK_ECONFIG, "no API key: set LIVEKIT_API_KEY or \"api_key\"%s",
                     source);
    } else if (cfg->api_secret == NULL) {
        lk_error_set(ld->err, LK_ECONFIG,
                     "no API secret: set LIVEKIT_API_SECRET or \"api_secret_file\"%s", source);
    } else if (cfg->project_count == 0) {
        lk_error_set(ld->err, LK_ECONFIG, "no project: set LIVEKIT_PROJECT_ID or \"projects\"%s",
                     source);
    } else {
        return 0;
    }
    if (ld->path == NULL)
        lk_error_detail(ld->err, "no config file was given (--config or LKARCHIVE_CONFIG)");
    return LK_ECONFIG;
}

/* Belt and braces: an error built from a value the user mixed up (the secret pasted as a
 * project id, say) must still not carry the secret. */
static void redact(char *text, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    char *hit;

    if (n < 4)
        return;
    while ((hit = strstr(text, secret)) != NULL) {
        memmove(hit + 3, hit + n, strlen(hit + n) + 1);
        memcpy(hit, "***", 3);
    }
}

static int load(struct config **out, const char *path, bool strict, struct lk_error *err)
{
    struct loader ld;
    struct config *cfg = NULL;
    int rc;

    assert(out != NULL);
    *out = NULL;
    cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL) {
        rc = out_of_memory(err);
        goto done;
    }
    cfg->window_days = 7;
    cfg->page_limit = 100;
    cfg->min_page_limit = DEFAULT_MIN_PAGE_LIMIT;
    cfg->connect_timeout_s = 10;
    cfg->request_timeout_s = 120;
    cfg->token_ttl_s = 600;
    cfg->max_string_bytes = (size_t)1024 * 1024;
    cfg->max_depth = 64;
    cfg->max_attempts = 5;
    cfg->retry_base_ms = 500;
    cfg->run_budget_s = 10800;
    cfg->max_concurrency = 8;
    cfg->requests_per_second = 0;
    cfg->lock_wait_s = 0;
    cfg->db_reconnect_attempts = 5;
    cfg->acknowledge_gaps = false;
    rc = set_string(&cfg->base_url, DEFAULT_BASE_URL, strlen(DEFAULT_BASE_URL), false, err);
    if (rc == 0)
        rc = set_string(&cfg->log_level, "info", 4, false, err);
    if (rc == 0 && path != NULL)
        rc = set_string(&cfg->source_path, path, strlen(path), false, err);
    if (rc != 0)
        goto done;

    memset(&ld, 0, sizeof ld);
    ld.cfg = cfg;
    ld.path = path;
    ld.err = err;
    if (path != NULL && (rc = load_file(&ld)) != 0)
        goto done;
    if ((rc = apply_environment(cfg, err)) != 0)
        goto done;
    /* a page_limit below the default floor lowers the floor with it */
    if (key_line(&ld, "min_page_limit") == 0 && cfg->min_page_limit > cfg->page_limit)
        cfg->min_page_limit = cfg->page_limit;
    if ((rc = validate(&ld, strict)) != 0)
        goto done;
    *out = cfg;
    cfg = NULL;
done:
    if (rc != 0 && err != NULL) {
        redact(err->message, getenv("LIVEKIT_API_SECRET"));
        redact(err->detail, getenv("LIVEKIT_API_SECRET"));
        if (cfg != NULL) {
            redact(err->message, cfg->api_secret);
            redact(err->detail, cfg->api_secret);
        }
    }
    config_free(cfg);
    return rc;
}

int config_load(struct config **out, const char *path, struct lk_error *err)
{
    return load(out, path, true, err);
}

int config_load_relaxed(struct config **out, const char *path, struct lk_error *err)
{
    return load(out, path, false, err);
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->project_count; i++)
        free(cfg->projects[i]);
    free(cfg->projects);
    free(cfg->api_key);
    secret_free(cfg->api_secret);
    free(cfg->base_url);
    free(cfg->database_url);
    free(cfg->log_level);
    free(cfg->source_path);
    secret_wipe(cfg, sizeof *cfg);
    free(cfg);
}
