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
#include "strmap.h"
#include "utf8.h"

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

char *extract_copy(const char *text, size_t len)
{
    char *copy = malloc(len + 1);

    if (copy) {
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    return copy;
}

/* Generators allocate through these, so ex->gen_bytes is the memory they hold, known at
 * every callback without asking each one (max_record_bytes). Each block carries its size in
 * a header of HEADER bytes (which keeps malloc's alignment). */
#define HEADER 16

static void *gen_malloc(void *ctx, size_t size)
{
    struct extract *ex = ctx;
    unsigned char *block = malloc(size + HEADER);

    if (block == NULL)
        return NULL;
    memcpy(block, &size, sizeof size);
    ex->gen_bytes += size;
    return block + HEADER;
}

static void gen_free(void *ctx, void *ptr)
{
    struct extract *ex = ctx;
    unsigned char *block;
    size_t size;

    if (ptr == NULL)
        return;
    block = (unsigned char *)ptr - HEADER;
    memcpy(&size, block, sizeof size);
    ex->gen_bytes -= size;
    free(block);
}

static void *gen_realloc(void *ctx, void *ptr, size_t size)
{
    struct extract *ex = ctx;
    unsigned char *block, *grown;
    size_t old;

    if (ptr == NULL)
        return gen_malloc(ctx, size);
    block = (unsigned char *)ptr - HEADER;
    memcpy(&old, block, sizeof old);
    grown = realloc(block, size + HEADER);
    if (grown == NULL)
        return NULL; /* the block stays the generator's, as realloc leaves it */
    memcpy(grown, &size, sizeof size);
    ex->gen_bytes = ex->gen_bytes - old + size;
    return grown + HEADER;
}

/* Strings reach the generators clean already (the callbacks repair them). */
yajl_gen extract_gen_new(struct extract *ex)
{
    yajl_alloc_funcs funcs = {gen_malloc, gen_realloc, gen_free, ex};
    yajl_gen gen = yajl_gen_alloc(&funcs);

    if (gen)
        yajl_gen_config(gen, yajl_gen_validate_utf8, 0);
    return gen;
}

/* A generator that held more than this is freed, not emptied, when its value is done: one
 * large record must not keep its memory for the rest of the body. */
#define GEN_KEEP_BYTES 65536

void extract_gen_reset(yajl_gen *gen)
{
    const unsigned char *buf;
    size_t len;

    if (*gen == NULL)
        return;
    yajl_gen_get_buf(*gen, &buf, &len);
    if (len > GEN_KEEP_BYTES) {
        yajl_gen_free(*gen);
        *gen = NULL;
        return;
    }
    yajl_gen_clear(*gen);
    yajl_gen_reset(*gen, NULL);
}

/* Every key of extra passes here: a key is written as clean UTF-8 whatever became of it on
 * the way (a key cut at max_string_bytes or at a note's bound may end inside a character;
 * the fuzz target found one), so extra always stays JSON PostgreSQL accepts. */
int extract_gen_key(yajl_gen gen, const char *key)
{
    size_t len = strlen(key), clean_len;
    char *clean;
    int rc;

    if (gen == NULL)
        return -1;
    if (utf8_clean_prefix(key, len) == len)
        return yajl_gen_string(gen, (const unsigned char *)key, len) == yajl_gen_status_ok ? 0 : -1;
    clean = malloc(UTF8_CLEAN_MAX(len));
    if (clean == NULL)
        return -1;
    clean_len = utf8_clean(clean, key, len);
    rc = yajl_gen_string(gen, (const unsigned char *)clean, clean_len) == yajl_gen_status_ok ? 0
                                                                                             : -1;
    free(clean);
    return rc;
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

/* A key set larger than this is freed, not kept, when its record is done. */
#define KEY_SET_KEEP 64

/* The builder now holds `held` bytes of values and key set: keep the extractor's sum. */
static void set_held(struct builder *b, size_t held)
{
    *b->record_bytes = *b->record_bytes - b->held + held;
    b->held = held;
}

void extract_builder_reset(struct builder *b)
{
    for (int i = 0; i < RECORD_MAX_COLUMNS; i++) {
        free(b->values[i]);
        b->values[i] = NULL;
    }
    extract_gen_reset(&b->extra);
    b->extra_open = false;
    b->bad_fields[0] = '\0';
    b->repeated_fields[0] = '\0';
    if (b->unknown_keys.capacity > KEY_SET_KEEP) {
        free(b->unknown_keys.slots);
        memset(&b->unknown_keys, 0, sizeof b->unknown_keys);
    } else if (b->unknown_keys.count > 0) {
        memset(b->unknown_keys.slots, 0, b->unknown_keys.capacity * sizeof(uint64_t));
        b->unknown_keys.count = 0;
    }
    set_held(b, b->unknown_keys.capacity * sizeof(uint64_t));
}

void extract_set_value(struct builder *b, int column, char *value)
{
    size_t held = b->held;

    if (b->values[column])
        held -= strlen(b->values[column]);
    free(b->values[column]);
    b->values[column] = value;
    if (value)
        held += strlen(value);
    set_held(b, held);
}

/* Append key to a record's list of names for its warning (as much as fits). */
static void note_name(char *list, size_t size, const char *key)
{
    size_t used = strlen(list);
    if (used + strlen(key) + 3 < size)
        snprintf(list + used, size - used, "%s%s", used ? ", " : "", key);
}

/* Whether the list note_name built holds key. */
static bool names_contain(const char *list, const char *key)
{
    size_t len = strlen(key);

    for (const char *at = list; (at = strstr(at, key)) != NULL; at++) {
        if ((at == list || at[-1] == ' ') && (at[len] == '\0' || at[len] == ','))
            return true;
        if (*at == '\0')
            break; /* an empty key matches at the end */
    }
    return false;
}

void extract_note_bad_field(struct builder *b, const char *key)
{
    note_name(b->bad_fields, sizeof b->bad_fields, key);
}

/* ---- repeated keys (see object_key in extract_sax.c for what they do) ---- */

void extract_note_repeated_key(struct extract *ex, const struct frame *top)
{
    struct builder *b = extract_builder_for(ex, top->scope);

    if (b == NULL) { /* the list wrapper: no record to name it in */
        log_warn("%s response: key \"%.64s\" appears more than once in one object; every "
                 "one is read",
                 ex->body->name, top->key);
        return;
    }
    if (!names_contain(b->repeated_fields, top->key))
        note_name(b->repeated_fields, sizeof b->repeated_fields, top->key);
}

/* Insert hash into the set; 1 if it was there already, 0 if added, -1 out of memory. */
static int key_set_add(struct key_set *set, uint64_t hash)
{
    size_t mask, i;

    hash |= 1; /* 0 marks an empty slot */
    if ((set->count + 1) * 2 > set->capacity) {
        size_t capacity = set->capacity ? set->capacity * 2 : 16;
        uint64_t *slots = calloc(capacity, sizeof *slots);
        if (slots == NULL)
            return -1;
        for (size_t k = 0; k < set->capacity; k++) {
            if (set->slots[k] == 0)
                continue;
            for (i = set->slots[k] & (capacity - 1); slots[i] != 0; i = (i + 1) & (capacity - 1))
                ;
            slots[i] = set->slots[k];
        }
        free(set->slots);
        set->slots = slots;
        set->capacity = capacity;
    }
    mask = set->capacity - 1;
    for (i = hash & mask; set->slots[i] != 0; i = (i + 1) & mask)
        if (set->slots[i] == hash)
            return 1;
    set->slots[i] = hash;
    set->count++;
    return 0;
}

int extract_note_unknown_key(struct extract *ex, const struct frame *top)
{
    struct builder *b = extract_builder_for(ex, top->scope);
    const struct scope_def *scope = top->scope;
    size_t capacity;
    uint64_t hash;
    int seen;

    if (b == NULL)
        return 1; /* the list wrapper's unknown members are dropped anyway */
    /* keyed by scope too: publishedSources shares the participant's record. Two different
     * keys with the same 64-bit hash would only cost a wrong warning. */
    hash = strmap_hash(STRMAP_HASH_SEED, (const char *)&scope, sizeof scope);
    hash = strmap_hash(hash, top->key, strlen(top->key));
    capacity = b->unknown_keys.capacity;
    seen = key_set_add(&b->unknown_keys, hash);
    if (seen < 0)
        return extract_fail(ex, LK_ENOMEM, "out of memory");
    set_held(b, b->held + (b->unknown_keys.capacity - capacity) * sizeof(uint64_t));
    if (seen)
        extract_note_repeated_key(ex, top);
    return 1;
}

bool extract_field_kept(const struct extract *ex)
{
    const struct frame *top = &ex->frames[ex->frame_count - 1];
    return top->field && (top->kept & 1u << (top->field - top->scope->fields));
}

void extract_mark_kept(struct extract *ex)
{
    struct frame *top = extract_top(ex);
    if (top->field)
        top->kept |= 1u << (top->field - top->scope->fields);
}

/* ---- what the records being built hold ---- */

static size_t gen_content(yajl_gen gen)
{
    const unsigned char *buf;
    size_t len = 0;

    if (gen)
        yajl_gen_get_buf(gen, &buf, &len);
    return len;
}

int extract_check_held(struct extract *ex)
{
    size_t held = ex->record_bytes, generated;
    const char *what = "session";

    /* the generators' memory first (one counter); only near the bound their exact content,
     * which is at least half of it (their buffers double) */
    if (ex->limits.max_record_bytes == 0 || held + ex->gen_bytes <= ex->limits.max_record_bytes)
        return 1;
    generated = gen_content(ex->nested_extra) + gen_content(ex->scratch);
    for (int i = 0; i < RECORD_KIND_COUNT; i++)
        generated += gen_content(ex->builders[i].extra);
    if (held + generated <= ex->limits.max_record_bytes)
        return 1;
    for (int i = ex->frame_count - 1; i >= 0; i--) {
        if (ex->frames[i].scope->record != SCOPE_NO_RECORD && ex->frames[i].scope->name) {
            what = ex->frames[i].scope->name;
            break;
        }
    }
    extract_fail(ex, LK_EAPI,
                 "%s response%s%.128s: a %s record holds more than the limit of %zu bytes",
                 ex->body->name, ex->session_id[0] ? " for session " : "", ex->session_id, what,
                 ex->limits.max_record_bytes);
    lk_error_detail(ex->err, "raise max_record_bytes in the configuration if this is legitimate "
                             "data");
    return 0;
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
    if (*gen == NULL && (*gen = extract_gen_new(ex)) == NULL)
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
    if (b->repeated_fields[0])
        log_warn_repeated("repeated key",
                          "%s %s: repeated keys in one object: %s; the last value is kept", what,
                          id, b->repeated_fields);
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
    yajl_gen_status status;

    switch (kind) {
    case JK_NULL:
        status = yajl_gen_null(gen);
        break;
    case JK_BOOL:
        status = yajl_gen_bool(gen, text[0] == 't');
        break;
    case JK_NUMBER:
        /* jsonb stores numbers as numeric: one it cannot hold (1e1000000) would fail the
         * whole row, so it is kept as a string of its original text */
        if (convert_numeric(text, len) == CONVERT_OK)
            status = yajl_gen_number(gen, text, len);
        else
            status = yajl_gen_string(gen, (const unsigned char *)text, len);
        break;
    case JK_STRING:
    default:
        status = yajl_gen_string(gen, (const unsigned char *)text, len);
        break;
    }
    return status == yajl_gen_status_ok ? 0 : -1;
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
    case FT_BYTES: /* a byte count below zero is no count: NULL, and the original kept */
        return textual ? convert_integer(text, len, 0, INT64_MAX, out) : CONVERT_INVALID;
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
            *out = extract_copy(text, len); /* clean already (the callbacks repair text) */
        return 1;
    case FT_NUMERIC: /* stored as sent: a numeric has no longest canonical form */
        if (kind == JK_BOOL || convert_numeric(text, len) != CONVERT_OK)
            return 0;
        *out = extract_copy(text, len);
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

/* Keep key: original in the scope's extra (a number as a JSON string of its text, as the
 * contract says of a number its column cannot hold) and note the field as unconvertible. */
static int keep_original(struct extract *ex, struct frame *top, enum json_kind kind,
                         const char *text, size_t len, bool unconvertible)
{
    yajl_gen extra = extract_extra_for(ex, top->scope);
    struct builder *b = extract_builder_for(ex, top->scope);

    if (put_scalar(extra, top->key, kind == JK_NUMBER ? JK_STRING : kind, text, len) != 0)
        return extract_fail(ex, LK_ENOMEM, "could not keep an unconvertible value in extra");
    extract_mark_kept(ex);
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

/* details roomId equals the list's sessionId; the id asked for keys the rows. A response
 * about another session is never stored under the asked id: the whole response is an error
 * (the caller discards what was already emitted, and the day stays pending). */
static int check_session_id(struct extract *ex, char *value)
{
    if (value && strcmp(value, ex->session_id) != 0) {
        extract_fail(ex, LK_EDATA, "details response for session %.128s is about session %.128s",
                     ex->session_id, value);
        lk_error_detail(ex->err, "the details roomId is not the session asked for; nothing of "
                                 "this response is stored");
        free(value);
        return 0;
    }
    free(value);
    return 1;
}

int extract_scalar_in_map(struct extract *ex, enum json_kind kind, const char *text, size_t len)
{
    struct frame *top = extract_top(ex);
    const struct field_spec *field = top->field;
    char *value;

    if (kind == JK_STRING && !extract_note_cut(ex, top, text, len))
        return 0;

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
    if (kind != JK_NULL && value == NULL &&
        (field->type == FT_TEXT || field->type == FT_SESSION_ID))
        return extract_fail(ex, LK_ENOMEM, "out of memory");
    if (field->type == FT_SESSION_ID)
        return check_session_id(ex, value);
    extract_set_value(extract_builder_for(ex, top->scope), field->column, value);
    /* a repeated key whose earlier value is in extra: the last one goes there too, so that
     * jsonb (which keeps the last of a repeated key) does not show a stale original */
    if (extract_field_kept(ex))
        return keep_original(ex, top, kind, text, len, false);
    return 1;
}
