/* config_yaml.c -- reading the config file: its bytes, one YAML document, its keys by line.
 *
 * Flow: the whole file is read (capped at 1 MiB; owned by root or the running user, writable
 * by its owner only) and loaded with libyaml's document API; the root must be a mapping (or
 * empty); each pair is checked for shape (a scalar key, known, not repeated, api_secret and
 * api_secret_file not both) and, unless the environment gives that key (its value is then not
 * read: no secret file opened), its value (not null) handed to config.c, which checks and
 * stores it; "projects" may be a sequence, read here item by item. A second document ("---"
 * and more keys) is an error, not ignored.
 *
 * Invariants: every error names "file:line" (and the key); the file bytes, every scalar node
 * and libyaml's buffers are wiped before they are freed, since they may hold the secret.
 */
#include "config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "error.h"
#include "log.h"
#include "secret.h"

#define CONFIG_FILE_MAX ((size_t)1024 * 1024)

/* Room for "path:line" in messages. */
#define WHERE_MAX 600

/* Grow buf (size bytes, len used) to twice its size by malloc + copy rather than realloc, so
 * no unwiped copy is left behind. 0, or ENOMEM (buf unchanged). */
static int grow_wiped(char **buf, size_t *size, size_t len)
{
    size_t new_size = *size ? *size * 2 : 4096;
    char *bigger = malloc(new_size);

    if (bigger == NULL)
        return ENOMEM;
    if (*buf != NULL) {
        memcpy(bigger, *buf, len);
        secret_free_n(*buf, *size);
    }
    *buf = bigger;
    *size = new_size;
    return 0;
}

int config_read_file(const char *path, size_t cap, char **out, size_t *out_len,
                     struct config_file_info *info_out)
{
    struct stat info;
    FILE *fp = NULL;
    char *buf = NULL;
    size_t len = 0, size = 0, n;
    int rc = 0;

    *out = NULL;
    *out_len = 0;
    errno = 0;
    fp = fopen(path, "rb");
    if (fp == NULL || fstat(fileno(fp), &info) != 0) {
        rc = errno ? errno : EIO;
        goto done;
    }
    if (info_out) { /* of the file read, not of whatever the path names later */
        info_out->mode = (unsigned int)(info.st_mode & 07777);
        info_out->uid = (long)info.st_uid;
    }
    do {
        if (len + 1 >= size && (rc = grow_wiped(&buf, &size, len)) != 0)
            goto done;
        errno = 0;
        n = fread(buf + len, 1, size - len - 1, fp);
        len += n;
        if (len > cap) {
            rc = EFBIG;
            goto done;
        }
        if (n == 0 && ferror(fp)) {
            rc = errno ? errno : EIO;
            goto done;
        }
    } while (n != 0);
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

/* A list or a mapping where def takes a scalar (or, for projects, a scalar or a list). */
static int wrong_shape(const struct key_def *def, const yaml_node_t *value, const char *where,
                       struct lk_error *err)
{
    config_expect(def, where, err);
    lk_error_detail(err, "found %s", node_kind(value));
    return LK_ECONFIG;
}

/* The scalar value of `name` in a project's mapping, or NULL (absent). *bad is set when the
 * mapping holds a key other than id, api_key, api_secret_file and max_requests_per_minute,
 * or a value not a scalar. */
static const yaml_node_t *entry_value(yaml_document_t *doc, const yaml_node_t *map,
                                      const char *name, const yaml_node_t **bad)
{
    static const char *const known[] = {"id", "api_key", "api_secret_file",
                                        "max_requests_per_minute"};
    const yaml_node_t *found = NULL;

    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top;
         pair++) {
        const yaml_node_t *key = yaml_document_get_node(doc, pair->key);
        const yaml_node_t *value = yaml_document_get_node(doc, pair->value);
        bool is_known = false;

        if (key->type != YAML_SCALAR_NODE || value->type != YAML_SCALAR_NODE || is_null(value)) {
            *bad = key;
            continue;
        }
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            is_known |= strcmp((const char *)key->data.scalar.value, known[i]) == 0;
        if (!is_known)
            *bad = key;
        else if (strcmp((const char *)key->data.scalar.value, name) == 0)
            found = value;
    }
    return found;
}

/* A project's own max_requests_per_minute: a whole number 1..CONFIG_MAX_RPM. */
static int read_project_max_rpm(struct loader *ld, const yaml_node_t *value, const char *where,
                                int *out)
{
    const char *text = (const char *)value->data.scalar.value;
    char *end;
    long rpm = strtol(text, &end, 10);

    if (end == text || *end != '\0' || rpm < 1 || rpm > CONFIG_MAX_RPM) {
        lk_error_set(ld->err, LK_ECONFIG,
                     "%s: a project's \"max_requests_per_minute\" must be a whole number from 1 "
                     "to %d",
                     where, CONFIG_MAX_RPM);
        lk_error_detail(ld->err, "found \"%.40s\" on line %zu", text, value->start_mark.line + 1);
        return LK_ECONFIG;
    }
    *out = (int)rpm;
    return 0;
}

/* A "projects" item written as a mapping {id, api_key, api_secret_file,
 * max_requests_per_minute}: the project with its own credentials and rate ceiling (each falls
 * back to the top-level one when absent). */
static int project_entry(struct loader *ld, struct id_list *list, yaml_document_t *doc,
                         const yaml_node_t *item, const char *where)
{
    const yaml_node_t *bad = NULL;
    const yaml_node_t *id = entry_value(doc, item, "id", &bad);
    const yaml_node_t *key = entry_value(doc, item, "api_key", &bad);
    const yaml_node_t *file = entry_value(doc, item, "api_secret_file", &bad);
    const yaml_node_t *rpm = entry_value(doc, item, "max_requests_per_minute", &bad);
    int rc;

    if (bad != NULL || id == NULL) {
        lk_error_set(ld->err, LK_ECONFIG,
                     "%s: a \"projects\" entry written as a mapping takes id (required), "
                     "api_key, api_secret_file and max_requests_per_minute, each a single value",
                     where);
        if (bad != NULL && bad->type == YAML_SCALAR_NODE)
            lk_error_detail(ld->err, "found \"%.60s\" on line %zu",
                            (const char *)bad->data.scalar.value, bad->start_mark.line + 1);
        else
            lk_error_detail(ld->err, "found no id");
        return LK_ECONFIG;
    }
    rc = config_add_project(list, (const char *)id->data.scalar.value, id->data.scalar.length,
                            where, "\"projects\"", ld->err);
    if (rc == 0 && key != NULL)
        rc = config_set_string(&list->keys[list->count - 1], (const char *)key->data.scalar.value,
                               key->data.scalar.length, false, ld->err);
    if (rc == 0 && file != NULL)
        rc = config_read_secret_file(ld, (const char *)file->data.scalar.value, where,
                                     &list->secrets[list->count - 1]);
    if (rc == 0 && rpm != NULL)
        rc = read_project_max_rpm(ld, rpm, where, &list->max_rpm[list->count - 1]);
    return rc;
}

/* One item of the "projects" sequence: an id, or a mapping with the project's credentials. */
static int project_item(struct loader *ld, struct id_list *list, yaml_document_t *doc,
                        const yaml_node_t *item)
{
    char where[WHERE_MAX];

    snprintf(where, sizeof where, "%s:%zu", ld->path, item->start_mark.line + 1);
    if (item->type == YAML_MAPPING_NODE)
        return project_entry(ld, list, doc, item, where);
    if (item->type != YAML_SCALAR_NODE || is_null(item)) {
        lk_error_set(ld->err, LK_ECONFIG,
                     "%s: every item of \"projects\" must be a project id or a mapping "
                     "{id, api_key, api_secret_file}",
                     where);
        lk_error_detail(ld->err, "found %s", is_null(item) ? "an empty item" : node_kind(item));
        return LK_ECONFIG;
    }
    return config_add_project(list, (const char *)item->data.scalar.value, item->data.scalar.length,
                              where, "\"projects\"", ld->err);
}

/* The sequence (or single scalar) under "projects". */
static int apply_projects(struct loader *ld, const struct key_def *def, yaml_document_t *doc,
                          const yaml_node_t *value, const char *where)
{
    struct id_list list = {NULL, NULL, NULL, NULL, 0, 0};
    int rc = LK_ECONFIG;

    if (value->type == YAML_MAPPING_NODE) {
        rc = wrong_shape(def, value, where, ld->err);
        goto done;
    }
    if (value->type == YAML_SCALAR_NODE) {
        rc = config_add_project(&list, (const char *)value->data.scalar.value,
                                value->data.scalar.length, where, "\"projects\"", ld->err);
        if (rc != 0)
            goto done;
    } else if (value->data.sequence.items.start == value->data.sequence.items.top) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: \"projects\" is an empty list", where);
        lk_error_detail(ld->err, "list at least one project id, or remove the key and set "
                                 "LIVEKIT_PROJECT_ID");
        goto done;
    }
    for (yaml_node_item_t *it = value->data.sequence.items.start;
         value->type == YAML_SEQUENCE_NODE && it < value->data.sequence.items.top; it++) {
        rc = project_item(ld, &list, doc, yaml_document_get_node(doc, *it));
        if (rc != 0)
            goto done;
    }
    config_take_projects(ld->cfg, &list);
    rc = 0;
done:
    config_id_list_dispose(&list);
    return rc;
}

/* Store one key's value; where is "file:line" of the key. */
static int apply_value(struct loader *ld, const struct key_def *def, yaml_document_t *doc,
                       const yaml_node_t *value, const char *where)
{
    struct config_scalar scalar;

    if (is_null(value)) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: \"%s\" has no value", where, def->name);
        lk_error_detail(ld->err, "give it a value, or remove the line to use the default");
        return LK_ECONFIG;
    }
    if (def->kind == KIND_PROJECTS)
        return apply_projects(ld, def, doc, value, where);
    if (value->type != YAML_SCALAR_NODE)
        return wrong_shape(def, value, where, ld->err);
    scalar.text = (const char *)value->data.scalar.value;
    scalar.len = value->data.scalar.length;
    scalar.plain = value->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return config_apply_scalar(ld, def, &scalar, where);
}

/* An unknown key's error; "api_secret s3cr3t: x" would otherwise echo the secret. */
static int unknown_key(const struct loader *ld, const char *name, const char *where)
{
    char show[80];

    if (strncmp(name, "api_secret", 10) == 0) {
        lk_error_set(ld->err, LK_ECONFIG,
                     "%s: unknown key starting with \"api_secret\" (not shown)", where);
        lk_error_detail(ld->err, "did you mean \"api_secret_file\" or \"api_secret\"?");
    } else {
        lk_error_set(ld->err, LK_ECONFIG, "%s: unknown key \"%s\"", where,
                     config_shown(show, sizeof show, name));
        config_hint_unknown_key(name, ld->err);
    }
    return LK_ECONFIG;
}

/* The inline secret and the secret file exclude each other. */
static int check_secret_sources(const struct loader *ld, const struct key_def *def,
                                const char *where)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        if (&config_keys[i] != def && ld->seen[i] != 0 &&
            ((def->kind == KIND_SECRET && config_keys[i].kind == KIND_SECRET_FILE) ||
             (def->kind == KIND_SECRET_FILE && config_keys[i].kind == KIND_SECRET))) {
            lk_error_set(ld->err, LK_ECONFIG, "%s: api_secret and api_secret_file are both set",
                         where);
            lk_error_detail(ld->err, "the other one is at line %zu; keep api_secret_file",
                            ld->seen[i]);
            return LK_ECONFIG;
        }
    }
    return 0;
}

/* One key: value pair of the top-level mapping. */
static int apply_pair(struct loader *ld, yaml_document_t *doc, const yaml_node_t *key,
                      const yaml_node_t *value)
{
    char where[WHERE_MAX];
    const struct key_def *def;
    size_t index;
    int rc;

    snprintf(where, sizeof where, "%s:%zu", ld->path, key->start_mark.line + 1);
    if (key->type != YAML_SCALAR_NODE) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: found %s where a key was expected", where,
                     node_kind(key));
        lk_error_detail(ld->err, "keys are plain names such as \"projects\" or \"page_limit\"");
        return LK_ECONFIG;
    }
    def = config_find_key((const char *)key->data.scalar.value, key->data.scalar.length);
    if (def == NULL)
        return unknown_key(ld, (const char *)key->data.scalar.value, where);
    index = (size_t)(def - config_keys);
    if (ld->seen[index] != 0) {
        lk_error_set(ld->err, LK_ECONFIG, "%s: duplicate key \"%s\"", where, def->name);
        lk_error_detail(ld->err, "first set at line %zu; keep one", ld->seen[index]);
        return LK_ECONFIG;
    }
    ld->seen[index] = key->start_mark.line + 1;
    if ((rc = check_secret_sources(ld, def, where)) != 0)
        return rc;
    if (config_env_gives(def)) { /* the environment wins: the file's value is not read */
        log_debug("%s: \"%s\" is not read: the environment gives it", where, def->name);
        return 0;
    }
    return apply_value(ld, def, doc, value, where);
}

/* libyaml's own message for a document it could not load. */
static int yaml_failure(const struct loader *ld, const yaml_parser_t *parser)
{
    const char *problem = parser->problem ? parser->problem : "unknown problem";

    switch (parser->error) {
    case YAML_MEMORY_ERROR:
        return config_out_of_memory(ld->err);
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
static void delete_document(yaml_document_t *doc)
{
    for (yaml_node_t *node = doc->nodes.start; node < doc->nodes.top; node++)
        if (node->type == YAML_SCALAR_NODE)
            secret_wipe(node->data.scalar.value, node->data.scalar.length);
    yaml_document_delete(doc);
}

static void delete_parser(yaml_parser_t *parser)
{
    if (parser->buffer.start != NULL)
        secret_wipe(parser->buffer.start, (size_t)(parser->buffer.end - parser->buffer.start));
    if (parser->raw_buffer.start != NULL)
        secret_wipe(parser->raw_buffer.start,
                    (size_t)(parser->raw_buffer.end - parser->raw_buffer.start));
    yaml_parser_delete(parser);
}

/* Whose the config file is and who may write it: as ssh treats its config, a file another
 * user could write (or owns, and so could make writable) could point lkarchive at their own
 * API, database or secret file. Root's and the running user's own files are trusted. */
static int check_file_trust(struct loader *ld, long uid)
{
    long me = (long)geteuid();

    if (ld->file_mode & (S_IWGRP | S_IWOTH)) {
        lk_error_set(ld->err, LK_ECONFIG, "config file \"%s\" can be written by %s (mode %04o)",
                     ld->path, (ld->file_mode & S_IWOTH) ? "other users" : "its group",
                     ld->file_mode);
        lk_error_detail(ld->err, "make it writable by its owner only: chmod go-w %s", ld->path);
        return LK_ECONFIG;
    }
    if (uid != 0 && uid != me) {
        lk_error_set(ld->err, LK_ECONFIG,
                     "config file \"%s\" is owned by uid %ld, neither root nor the user "
                     "running lkarchive (uid %ld)",
                     ld->path, uid, me);
        lk_error_detail(ld->err, "give it to root or to this user: chown root %s", ld->path);
        return LK_ECONFIG;
    }
    return 0;
}

/* The file's bytes, with the error naming the file when they cannot be read. */
static int read_config_text(struct loader *ld, char **text, size_t *len)
{
    struct config_file_info info = {0, 0};
    int errnum = config_read_file(ld->path, CONFIG_FILE_MAX, text, len, &info);

    ld->file_mode = info.mode;
    if (errnum == ENOMEM)
        return config_out_of_memory(ld->err);
    if (errnum == EFBIG) {
        lk_error_set(ld->err, LK_ECONFIG, "config file \"%s\" is larger than %zu KiB", ld->path,
                     CONFIG_FILE_MAX / 1024);
        return LK_ECONFIG;
    }
    if (errnum != 0) {
        lk_error_set(ld->err, LK_ECONFIG, "could not read config file \"%s\": %s", ld->path,
                     strerror(errnum));
        return LK_ECONFIG;
    }
    return check_file_trust(ld, info.uid);
}

/* Apply every pair of the document's root mapping (an empty document has none). */
static int apply_document(struct loader *ld, yaml_document_t *doc)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    int rc;

    if (root == NULL || is_null(root))
        return 0; /* a file holding only "~": no keys, like an empty file */
    if (root->type != YAML_MAPPING_NODE) {
        lk_error_set(ld->err, LK_ECONFIG,
                     "%s:%zu: the file must be a mapping of keys to values, not %s", ld->path,
                     root->start_mark.line + 1,
                     root->type == YAML_SEQUENCE_NODE ? "a list" : "a single value");
        lk_error_detail(ld->err, "write one \"key: value\" per line, as in "
                                 "lkarchive.example.yaml");
        return LK_ECONFIG;
    }
    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
         pair < root->data.mapping.pairs.top; pair++) {
        rc = apply_pair(ld, doc, yaml_document_get_node(doc, pair->key),
                        yaml_document_get_node(doc, pair->value));
        if ((rc = config_note_problem(ld, rc)) != 0) /* a bad key: note it, read the next */
            return rc;
    }
    return 0;
}

/* A stray "---" followed by more keys would otherwise be ignored. */
static int check_no_second_document(const struct loader *ld, yaml_parser_t *parser)
{
    yaml_document_t extra;
    yaml_node_t *root;
    int rc = 0;

    if (!yaml_parser_load(parser, &extra))
        return yaml_failure(ld, parser);
    root = yaml_document_get_root_node(&extra);
    if (root != NULL) {
        lk_error_set(ld->err, LK_ECONFIG, "%s:%zu: a second YAML document", ld->path,
                     root->start_mark.line + 1);
        lk_error_detail(ld->err, "the file must hold one document; remove the \"---\" line");
        rc = LK_ECONFIG;
    }
    delete_document(&extra);
    return rc;
}

int config_load_file(struct loader *ld)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    bool parser_ready = false, doc_ready = false;
    char *text = NULL;
    size_t len = 0;
    int rc;

    if ((rc = read_config_text(ld, &text, &len)) != 0)
        goto done;
    if (!yaml_parser_initialize(&parser)) {
        rc = config_out_of_memory(ld->err);
        goto done;
    }
    parser_ready = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = yaml_failure(ld, &parser);
        goto done;
    }
    doc_ready = true;
    if ((rc = apply_document(ld, &doc)) != 0)
        goto done;
    rc = check_no_second_document(ld, &parser);
done:
    if (doc_ready)
        delete_document(&doc);
    if (parser_ready)
        delete_parser(&parser);
    secret_free_n(text, len);
    return rc;
}
