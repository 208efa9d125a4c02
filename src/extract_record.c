/* extract_record.c -- building records: converted column values, `extra`, emission.
 *
 * Flow: a scalar under a known key is converted (convert.c) into its column of the scope's
 * builder; an unknown key, or a value that cannot be converted, is written with yajl_gen into
 * the builder's `extra` object with its original value (and an unconvertible one is named in
 * one warning per record). A handler's close (extract_list.c, extract_details.c) hands the
 * builder to the sink through extract_emit. Containers kept in `extra` come through the
 * capture of extract_sax.c and are spliced in with extract_splice_json.
 *
 * Invariants: see extract_internal.h; builders own their value strings until reset.
 */
#include "extract_internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "error.h"
#include "log.h"

int extract_fail(struct extract *ex, int code, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    if (ex->rc == 0) {
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        ex->rc = code;
        lk_error_set(ex->err, code, "%s", what);
    }
    return 0; /* stop yajl */
}

char *extract_clean_copy(const unsigned char *text, size_t len, size_t *out_len)
{
    size_t nuls = 0, j = 0;
    char *copy;

    if (len == 0 || memchr(text, 0, len) == NULL) { /* the usual case: a plain copy */
        copy = malloc(len + 1);
        if (copy == NULL)
            return NULL;
        memcpy(copy, text, len);
        copy[len] = '\0';
        if (out_len)
            *out_len = len;
        return copy;
    }

    for (size_t i = 0; i < len; i++)
        nuls += text[i] == 0;
    copy = malloc(len + nuls * 2 + 1);
    if (copy == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == 0) {
            copy[j++] = (char)0xEF;
            copy[j++] = (char)0xBF;
            copy[j++] = (char)0xBD;
        } else {
            copy[j++] = (char)text[i];
        }
    }
    copy[j] = '\0';
    if (out_len)
        *out_len = j;
    return copy;
}

int extract_gen_clean_string(yajl_gen gen, const unsigned char *text, size_t len)
{
    size_t clean_len;
    char *clean;
    int status;

    if (memchr(text, 0, len) == NULL)
        return yajl_gen_string(gen, text, len) == yajl_gen_status_ok ? 0 : -1;
    clean = extract_clean_copy(text, len, &clean_len);
    if (clean == NULL)
        return -1;
    status = yajl_gen_string(gen, (const unsigned char *)clean, clean_len);
    free(clean);
    return status == yajl_gen_status_ok ? 0 : -1;
}

yajl_gen extract_gen_new(void)
{
    yajl_gen gen = yajl_gen_alloc(NULL);
    if (gen)
        yajl_gen_config(gen, yajl_gen_validate_utf8, 0);
    return gen;
}

void extract_gen_reset(yajl_gen gen)
{
    if (gen) {
        yajl_gen_clear(gen);
        yajl_gen_reset(gen, NULL);
    }
}

int extract_gen_key(yajl_gen gen, const char *key)
{
    if (gen == NULL)
        return -1;
    return yajl_gen_string(gen, (const unsigned char *)key, strlen(key)) == yajl_gen_status_ok ? 0
                                                                                               : -1;
}

/* ---- splicing a captured JSON value into another generator ---- */

static int splice_null(void *ctx)
{
    return yajl_gen_null(ctx) == yajl_gen_status_ok;
}
static int splice_boolean(void *ctx, int value)
{
    return yajl_gen_bool(ctx, value) == yajl_gen_status_ok;
}
static int splice_number(void *ctx, const char *text, size_t len)
{
    return yajl_gen_number(ctx, text, len) == yajl_gen_status_ok;
}
static int splice_string(void *ctx, const unsigned char *text, size_t len)
{
    return yajl_gen_string(ctx, text, len) == yajl_gen_status_ok;
}
static int splice_start_map(void *ctx)
{
    return yajl_gen_map_open(ctx) == yajl_gen_status_ok;
}
static int splice_end_map(void *ctx)
{
    return yajl_gen_map_close(ctx) == yajl_gen_status_ok;
}
static int splice_start_array(void *ctx)
{
    return yajl_gen_array_open(ctx) == yajl_gen_status_ok;
}
static int splice_end_array(void *ctx)
{
    return yajl_gen_array_close(ctx) == yajl_gen_status_ok;
}

static const yajl_callbacks splice_callbacks = {
    splice_null,      splice_boolean,   NULL,          NULL,           splice_number,
    splice_string,    splice_start_map, splice_string, splice_end_map, splice_start_array,
    splice_end_array,
};

int extract_splice_json(yajl_gen dst, const unsigned char *text, size_t len)
{
    yajl_handle parser = yajl_alloc(&splice_callbacks, NULL, dst);
    int ok;

    if (parser == NULL)
        return -1;
    ok = yajl_parse(parser, text, len) == yajl_status_ok &&
         yajl_complete_parse(parser) == yajl_status_ok;
    yajl_free(parser);
    return ok ? 0 : -1;
}

/* ---- builders ---- */

void extract_builder_reset(struct builder *b)
{
    for (int i = 0; i < RECORD_MAX_COLUMNS; i++) {
        free(b->values[i]);
        b->values[i] = NULL;
    }
    extract_gen_reset(b->extra);
    b->extra_open = false;
    b->bad_fields[0] = '\0';
}

void extract_set_value(struct builder *b, int column, char *value)
{
    free(b->values[column]);
    b->values[column] = value;
}

void extract_note_bad_field(struct builder *b, const char *key)
{
    size_t used = strlen(b->bad_fields);
    if (used + strlen(key) + 3 < sizeof b->bad_fields)
        snprintf(b->bad_fields + used, sizeof b->bad_fields - used, "%s%s", used ? ", " : "", key);
}

struct builder *extract_builder_for(struct extract *ex, const struct scope_def *scope)
{
    return scope->record == SCOPE_NO_RECORD ? NULL : &ex->builders[scope->record];
}

yajl_gen extract_extra_for(struct extract *ex, const struct scope_def *scope)
{
    yajl_gen *gen;
    bool *open;
    struct builder *b;

    if (scope->nested_extra) {
        gen = &ex->nested_extra;
        open = &ex->nested_extra_open;
    } else {
        b = extract_builder_for(ex, scope);
        if (b == NULL)
            return NULL;
        gen = &b->extra;
        open = &b->extra_open;
    }
    if (*gen == NULL && (*gen = extract_gen_new()) == NULL)
        return NULL;
    if (!*open) {
        yajl_gen_map_open(*gen);
        *open = true;
    }
    return *gen;
}

void extract_report_unknown(struct extract *ex, const struct scope_def *scope, const char *key)
{
    char path[192];
    if (ex->sink.on_unknown_field == NULL)
        return;
    snprintf(path, sizeof path, "%s.%.128s", scope->name, key);
    ex->sink.on_unknown_field(ex->sink.ctx, path);
}

/* ---- emitting records ---- */

const char *extract_finish_extra(yajl_gen gen, bool open)
{
    const unsigned char *buf;
    size_t len;

    if (!open)
        return "{}";
    yajl_gen_map_close(gen);
    yajl_gen_get_buf(gen, &buf, &len);
    return (const char *)buf;
}

int extract_emit(struct extract *ex, enum record_kind kind, char *const *values, const char *extra)
{
    struct record rec;
    int rc;

    rec.kind = kind;
    memcpy(rec.values, values, sizeof rec.values);
    rec.extra = extra;
    rc = ex->sink.on_record(ex->sink.ctx, &rec, ex->err);
    if (rc != 0) {
        ex->rc = rc;
        return 0;
    }
    return 1;
}

void extract_warn_bad_fields(const struct builder *b, const char *what, const char *id)
{
    if (b->bad_fields[0])
        log_warn_repeated("conversion",
                          "%s %s: could not convert %s; stored NULL, original kept in extra", what,
                          id, b->bad_fields);
}

int extract_emit_builder(struct extract *ex, enum record_kind kind, const char *what,
                         const char *id)
{
    struct builder *b = &ex->builders[kind];

    extract_warn_bad_fields(b, what, id);
    return extract_emit(ex, kind, b->values, extract_finish_extra(b->extra, b->extra_open));
}

/* ---- converting scalars ---- */

int extract_gen_scalar(yajl_gen gen, enum json_kind kind, const char *text, size_t len)
{
    switch (kind) {
    case JK_NULL:
        return yajl_gen_null(gen) == yajl_gen_status_ok ? 0 : -1;
    case JK_BOOL:
        return yajl_gen_bool(gen, text[0] == 't') == yajl_gen_status_ok ? 0 : -1;
    case JK_NUMBER:
        return yajl_gen_number(gen, text, len) == yajl_gen_status_ok ? 0 : -1;
    case JK_STRING:
    default:
        return extract_gen_clean_string(gen, (const unsigned char *)text, len);
    }
}

/* A boolean column takes JSON true/false and the strings "true"/"false". */
static enum convert_result convert_bool(enum json_kind kind, const char *text, size_t len,
                                        char *out)
{
    if (kind == JK_BOOL) {
        strcpy(out, text[0] == 't' ? "t" : "f");
        return CONVERT_OK;
    }
    if (kind == JK_STRING && len == 4 && memcmp(text, "true", 4) == 0) {
        strcpy(out, "t");
        return CONVERT_OK;
    }
    if (kind == JK_STRING && len == 5 && memcmp(text, "false", 5) == 0) {
        strcpy(out, "f");
        return CONVERT_OK;
    }
    return CONVERT_INVALID;
}

/* The canonical text of a timestamp, integer or boolean column into out. */
static enum convert_result convert_fixed(enum field_type type, enum json_kind kind,
                                         const char *text, size_t len, char *out)
{
    bool textual = kind == JK_STRING || kind == JK_NUMBER;
    int64_t max = type == FT_INT64 ? INT64_MAX : type == FT_INT32 ? INT32_MAX : INT16_MAX;
    int64_t min = type == FT_INT64 ? INT64_MIN : type == FT_INT32 ? INT32_MIN : INT16_MIN;

    switch (type) {
    case FT_TIMESTAMP:
        if (kind == JK_STRING)
            return convert_timestamp_text(text, len, out);
        return kind == JK_NUMBER ? convert_timestamp_epoch(text, len, out) : CONVERT_INVALID;
    case FT_INT64:
    case FT_INT32:
    case FT_INT16:
        return textual ? convert_integer(text, len, min, max, out) : CONVERT_INVALID;
    case FT_BOOL:
        return convert_bool(kind, text, len, out);
    default:
        return CONVERT_UNSET; /* FT_IGNORED, FT_CHILD: nothing to store */
    }
}

/* Convert a scalar for a typed column: 1 and *out set (NULL = SQL NULL), or 0 if invalid. */
static int convert_scalar(enum field_type type, enum json_kind kind, const char *text, size_t len,
                          char **out)
{
    char buf[CONVERT_TIMESTAMP_MAX > CONVERT_INT_MAX ? CONVERT_TIMESTAMP_MAX : CONVERT_INT_MAX];
    enum convert_result result;

    *out = NULL;
    if (kind == JK_NULL)
        return 1;
    switch (type) {
    case FT_TEXT:
    case FT_SESSION_ID:
        if (kind == JK_BOOL)
            *out = strdup(text[0] == 't' ? "true" : "false");
        else
            *out = extract_clean_copy((const unsigned char *)text, len, NULL);
        return 1;
    case FT_NUMERIC: /* stored as sent: a numeric has no longest canonical form */
        if (kind == JK_BOOL || convert_numeric(text, len) != CONVERT_OK)
            return 0;
        *out = extract_clean_copy((const unsigned char *)text, len, NULL);
        return 1;
    default:
        result = convert_fixed(type, kind, text, len, buf);
        break;
    }
    if (result == CONVERT_INVALID)
        return 0;
    if (result == CONVERT_OK)
        *out = strdup(buf);
    return 1;
}

/* key: value into extra. 0, or -1 (extra NULL or out of memory). */
static int put_scalar(yajl_gen extra, const char *key, enum json_kind kind, const char *text,
                      size_t len)
{
    if (extract_gen_key(extra, key) != 0)
        return -1;
    return extract_gen_scalar(extra, kind, text, len);
}

/* Keep key: original in the scope's extra and note the field as unconvertible. */
static int keep_original(struct extract *ex, const struct frame *top, enum json_kind kind,
                         const char *text, size_t len, bool unconvertible)
{
    yajl_gen extra = extract_extra_for(ex, top->scope);
    struct builder *b = extract_builder_for(ex, top->scope);

    if (put_scalar(extra, top->key, kind, text, len) != 0)
        return extract_fail(ex, LK_ENOMEM, "could not keep an unconvertible value in extra");
    if (b && unconvertible)
        extract_note_bad_field(b, top->key);
    return 1;
}

/* A key the scope does not know: kept in extra, or only reported in a scope without record. */
static int unknown_scalar(struct extract *ex, const struct frame *top, enum json_kind kind,
                          const char *text, size_t len)
{
    yajl_gen extra;

    if (top->scope->record == SCOPE_NO_RECORD) {
        extract_report_unknown(ex, top->scope, top->key);
        return 1;
    }
    extra = extract_extra_for(ex, top->scope);
    extract_report_unknown(ex, top->scope, top->key);
    if (put_scalar(extra, top->key, kind, text, len) != 0)
        return extract_fail(ex, LK_ENOMEM, "could not keep an unknown field in extra");
    return 1;
}

/* details roomId equals the list's sessionId; the id asked for keys the rows. */
static int check_session_id(struct extract *ex, const struct frame *top, char *value,
                            enum json_kind kind, const char *text, size_t len)
{
    if (value && strcmp(value, ex->session_id) != 0) {
        log_warn("session %s: details roomId is \"%.64s\"; kept in extra", ex->session_id, value);
        free(value);
        return keep_original(ex, top, kind, text, len, false);
    }
    free(value);
    return 1;
}

int extract_scalar_in_map(struct extract *ex, enum json_kind kind, const char *text, size_t len)
{
    struct frame *top = extract_top(ex);
    const struct field_spec *field = top->field;
    char *value;

    if (field == NULL)
        return unknown_scalar(ex, top, kind, text, len);
    if (field->type == FT_IGNORED)
        return 1;
    if (field->type == FT_CHILD && top->scope->record == SCOPE_NO_RECORD && kind != JK_NULL)
        return extract_fail(ex, LK_EDATA, "%s", top->scope->bad_child);
    if (field->type == FT_CHILD) /* e.g. "participants": null is an empty list */
        return kind == JK_NULL ? 1 : keep_original(ex, top, kind, text, len, true);
    if (!convert_scalar(field->type, kind, text, len, &value)) {
        extract_set_value(extract_builder_for(ex, top->scope), field->column, NULL);
        return keep_original(ex, top, kind, text, len, true);
    }
    if (kind != JK_NULL && value == NULL && field->type == FT_TEXT)
        return extract_fail(ex, LK_ENOMEM, "out of memory");
    if (field->type == FT_SESSION_ID)
        return check_session_id(ex, top, value, kind, text, len);
    extract_set_value(extract_builder_for(ex, top->scope), field->column, value);
    return 1;
}
