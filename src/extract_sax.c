/* extract_sax.c -- the yajl SAX callbacks: frames, nesting depth and captured values.
 *
 * Flow: each container that opens pushes a frame naming its scope (from the body's
 * struct body_def, then from the field_spec of the key it is the value of); a key selects the
 * field_spec of the top frame; a scalar goes to extract_scalar_in_map (extract_record.c); an
 * object closing calls its scope's close, which emits the record. Containers that are not
 * scopes (an unknown field's object, a value of the wrong shape, a {seconds, nanos} timestamp)
 * are "captured": their events are forwarded to a generator (or dropped) until they close.
 *
 * Invariants: the frame stack never holds more than limits.max_depth + 2 frames (enter_depth
 * stops deeper bodies first); while a capture is active no frame is pushed or popped.
 */
#include "extract_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "error.h"
#include "utf8.h"

static const char *const KEEP_FAILED = "could not keep a field in extra";

/* ---- frames ---- */

static int push_frame(struct extract *ex, const struct scope_def *scope)
{
    struct frame *frame;

    if (ex->frame_count == ex->frame_capacity)
        return extract_fail(ex, LK_EDATA, "JSON nesting too deep");
    frame = &ex->frames[ex->frame_count++];
    frame->scope = scope;
    frame->field = NULL;
    frame->key = NULL;
    frame->index = 0;
    frame->seen = 0;
    frame->kept = 0;
    return 1;
}

static void pop_frame(struct extract *ex)
{
    struct frame *frame = &ex->frames[--ex->frame_count];
    free(frame->key);
    frame->key = NULL;
}

static int enter_depth(struct extract *ex)
{
    if (++ex->depth > ex->limits.max_depth)
        return extract_fail(ex, LK_EDATA, "JSON nesting deeper than the limit of %d",
                            ex->limits.max_depth);
    return 1;
}

/* Open or close a container in gen; 1, or 0 when the generator fails. */
static int gen_container(struct extract *ex, yajl_gen gen, bool is_map, bool open)
{
    yajl_gen_status status = open ? (is_map ? yajl_gen_map_open(gen) : yajl_gen_array_open(gen))
                                  : (is_map ? yajl_gen_map_close(gen) : yajl_gen_array_close(gen));

    return status == yajl_gen_status_ok ? 1 : extract_fail(ex, LK_ENOMEM, "%s", KEEP_FAILED);
}

/* ---- capture ---- */

void extract_capture_reset(struct capture *cap)
{
    free(cap->seconds);
    free(cap->nanos);
    free(cap->key);
    memset(cap, 0, sizeof *cap);
}

/* Start forwarding the value of the top frame's key (a container, now open) to gen. */
static int capture_start(struct extract *ex, yajl_gen gen, bool timestamp_object)
{
    struct frame *top = extract_top(ex);
    struct capture *cap = &ex->cap;

    extract_capture_reset(cap);
    cap->active = true;
    cap->gen = gen;
    cap->depth = 1;
    cap->timestamp_object = timestamp_object;
    cap->timestamp_valid = true;
    cap->scope = top->scope;
    cap->owner = extract_builder_for(ex, top->scope);
    cap->column = top->field ? top->field->column : 0;
    cap->key = strdup(top->key ? top->key : "");
    if (cap->key == NULL)
        return extract_fail(ex, LK_ENOMEM, "out of memory");
    if (timestamp_object) {
        if (ex->scratch == NULL && (ex->scratch = extract_gen_new(ex)) == NULL)
            return extract_fail(ex, LK_ENOMEM, "out of memory");
        cap->gen = ex->scratch;
    }
    return 1;
}

/* A {seconds, nanos} object closed: store the time, or keep the object as the original. */
static int capture_finish_timestamp(struct extract *ex)
{
    struct capture *cap = &ex->cap;
    char buf[CONVERT_TIMESTAMP_MAX];
    enum convert_result result = CONVERT_INVALID;
    const unsigned char *text;
    size_t len;
    yajl_gen extra;

    if (cap->timestamp_valid)
        result = convert_timestamp_parts(cap->seconds, cap->seconds ? strlen(cap->seconds) : 0,
                                         cap->nanos, cap->nanos ? strlen(cap->nanos) : 0, buf);
    if (result != CONVERT_INVALID) {
        char *value = result == CONVERT_OK ? strdup(buf) : NULL;
        if (result == CONVERT_OK && value == NULL)
            return extract_fail(ex, LK_ENOMEM, "out of memory");
        extract_set_value(cap->owner, cap->column, value);
        if (!extract_field_kept(ex))
            return 1;
        /* a repeated key whose earlier value is in extra: this last one goes there too */
    } else {
        extract_set_value(cap->owner, cap->column, NULL);
        extract_note_bad_field(cap->owner, cap->key);
    }
    extra = extract_extra_for(ex, cap->scope);
    yajl_gen_get_buf(ex->scratch, &text, &len);
    if (extract_gen_key(extra, cap->key) != 0 || extract_splice_json(extra, text, len) != 0)
        return extract_fail(ex, LK_ENOMEM, "could not keep an unconvertible timestamp in extra");
    extract_mark_kept(ex);
    return 1;
}

/* The captured value is complete. */
static int capture_end(struct extract *ex)
{
    int ok = 1;
    if (ex->cap.timestamp_object) {
        ok = capture_finish_timestamp(ex);
        extract_gen_reset(&ex->scratch); /* a large object must not stay in memory */
    }
    extract_capture_reset(&ex->cap);
    return ok;
}

/* Track {seconds, nanos}: only those two keys with scalar values make a valid timestamp. */
static void capture_timestamp_scalar(struct capture *cap, enum json_kind kind, const char *text,
                                     size_t len)
{
    char **slot;

    if (cap->depth != 1 || cap->timestamp_key == 0 || kind == JK_NULL)
        return; /* nested values and unknown keys already made it invalid; null means 0 */
    if (kind == JK_BOOL || len > 24) {
        cap->timestamp_valid = false;
        return;
    }
    slot = cap->timestamp_key == 1 ? &cap->seconds : &cap->nanos;
    free(*slot);
    *slot = malloc(len + 1);
    if (*slot == NULL) {
        cap->timestamp_valid = false;
        return;
    }
    memcpy(*slot, text, len);
    (*slot)[len] = '\0';
}

static int capture_key(struct extract *ex, const unsigned char *text, size_t len)
{
    struct capture *cap = &ex->cap;

    if (cap->timestamp_object && cap->depth == 1) {
        cap->timestamp_key = len == 7 && memcmp(text, "seconds", 7) == 0 ? 1
                             : len == 5 && memcmp(text, "nanos", 5) == 0 ? 2
                                                                         : 0;
        if (cap->timestamp_key == 0)
            cap->timestamp_valid = false;
    }
    if (cap->gen && yajl_gen_string(cap->gen, text, len) != yajl_gen_status_ok)
        return extract_fail(ex, LK_ENOMEM, "%s", KEEP_FAILED);
    return 1;
}

static int capture_container_start(struct extract *ex, bool is_map)
{
    ex->cap.depth++;
    if (ex->cap.timestamp_object)
        ex->cap.timestamp_valid = false;
    if (ex->cap.gen == NULL)
        return 1;
    return gen_container(ex, ex->cap.gen, is_map, true);
}

static int capture_container_end(struct extract *ex, bool is_map)
{
    if (ex->cap.gen && !gen_container(ex, ex->cap.gen, is_map, false))
        return 0;
    if (--ex->cap.depth == 0)
        return capture_end(ex);
    return 1;
}

/* ---- yajl callbacks ---- */

static int on_scalar(struct extract *ex, enum json_kind kind, const char *text, size_t len)
{
    struct frame *top;

    if (ex->cap.active) {
        if (ex->cap.timestamp_object)
            capture_timestamp_scalar(&ex->cap, kind, text, len);
        if (ex->cap.gen && extract_gen_scalar(ex->cap.gen, kind, text, len) != 0)
            return extract_fail(ex, LK_ENOMEM, "%s", KEEP_FAILED);
        return 1;
    }
    if (ex->frame_count == 0)
        return extract_fail(ex, LK_EDATA, "%s response is not a JSON object", ex->body->name);
    top = extract_top(ex);
    if (top->scope->fields != NULL)
        return extract_scalar_in_map(ex, kind, text, len);
    top->index++;
    if (kind == JK_NULL)
        return 1; /* a null entry carries nothing to keep */
    return extract_fail(ex, LK_EDATA, "%s", top->scope->entry_not_object);
}

/* Past this, the buffer of repaired strings is freed after its string was used. */
#define CLEAN_KEEP_BYTES 65536

/* A string from yajl as valid UTF-8 without NUL: itself, or repaired into ex->clean (see
 * utf8_clean). *len is updated. NULL when out of memory (ex->rc set). Only called when the
 * piece has non-ASCII bytes in strings: the scanner lets no NUL through, so an all-ASCII
 * piece needs no look. */
static const char *clean_text(struct extract *ex, const unsigned char *text, size_t *len)
{
    size_t need = UTF8_CLEAN_MAX(*len);

    if (utf8_clean_prefix((const char *)text, *len) == *len)
        return (const char *)text;
    if (need > ex->clean.cap) {
        char *grown = realloc(ex->clean.data, need);
        if (grown == NULL) {
            extract_fail(ex, LK_ENOMEM, "out of memory");
            return NULL;
        }
        ex->clean.data = grown;
        ex->clean.cap = need;
    }
    *len = utf8_clean(ex->clean.data, (const char *)text, *len);
    return ex->clean.data;
}

/* A large repaired string is not kept around: one hostile value must not stay in memory. */
static void release_clean(struct extract *ex)
{
    if (ex->clean.cap > CLEAN_KEEP_BYTES) {
        free(ex->clean.data);
        ex->clean.data = NULL;
        ex->clean.cap = 0;
    }
}

/* Every callback ends here: 1 to go on, 0 when it failed or the records being built now hold
 * more than max_record_bytes. */
static int checked(struct extract *ex, int ok)
{
    /* the usual case inline: far below the bound */
    if (!ok)
        return 0;
    if (ex->limits.max_record_bytes == 0 ||
        ex->record_bytes + ex->gen_bytes <= ex->limits.max_record_bytes)
        return 1;
    return extract_check_held(ex);
}

static int cb_null(void *ctx)
{
    return checked(ctx, on_scalar(ctx, JK_NULL, "null", 4));
}

static int cb_boolean(void *ctx, int value)
{
    return checked(ctx, value ? on_scalar(ctx, JK_BOOL, "true", 4)
                              : on_scalar(ctx, JK_BOOL, "false", 5));
}

static int cb_number(void *ctx, const char *text, size_t len)
{
    return checked(ctx, on_scalar(ctx, JK_NUMBER, text, len));
}

static int cb_string(void *ctx, const unsigned char *text, size_t len)
{
    struct extract *ex = ctx;
    const char *clean = ex->piece_high ? clean_text(ex, text, &len) : (const char *)text;
    int ok = clean != NULL && on_scalar(ex, JK_STRING, clean, len);

    release_clean(ex);
    return checked(ex, ok);
}

/* An unknown field's container, or one where a scalar was expected: keep it as it came. */
static int keep_container(struct extract *ex, bool is_map)
{
    struct frame *top = extract_top(ex);
    const struct field_spec *field = top->field;
    struct builder *b = extract_builder_for(ex, top->scope);
    yajl_gen extra = extract_extra_for(ex, top->scope);

    if (field == NULL)
        extract_report_unknown(ex, top->scope, top->key);
    else if (field->type != FT_IGNORED) {
        if (field->type != FT_CHILD)
            extract_set_value(b, field->column, NULL);
        extract_note_bad_field(b, top->key);
    }
    if (extract_gen_key(extra, top->key) != 0)
        return extract_fail(ex, LK_ENOMEM, "%s", KEEP_FAILED);
    extract_mark_kept(ex);
    if (!capture_start(ex, extra, false))
        return 0;
    return gen_container(ex, extra, is_map, true);
}

/* An object or array starts as the value of a key in an object scope. */
static int container_in_map(struct extract *ex, bool is_map)
{
    struct frame *top = extract_top(ex);
    const struct field_spec *field = top->field;

    if (field && field->type == FT_CHILD && (field->child->fields != NULL) == is_map)
        return push_frame(ex, field->child);
    if (field && field->type == FT_TIMESTAMP && is_map) {
        if (!capture_start(ex, NULL, true))
            return 0;
        return gen_container(ex, ex->scratch, true, true);
    }
    if (top->scope->record == SCOPE_NO_RECORD) {
        if (field != NULL) /* "sessions" that is not an array must not pass for an empty page */
            return extract_fail(ex, LK_EDATA, "%s", top->scope->bad_child);
        extract_report_unknown(ex, top->scope, top->key);
        return capture_start(ex, NULL, false);
    }
    return keep_container(ex, is_map);
}

static int on_container_start(struct extract *ex, bool is_map)
{
    const struct scope_def *scope;

    if (!enter_depth(ex))
        return 0;
    if (ex->cap.active)
        return capture_container_start(ex, is_map);
    if (ex->frame_count == 0) {
        scope = is_map ? ex->body->root_object : ex->body->root_array;
        if (scope == NULL)
            return extract_fail(ex, LK_EDATA, "%s response is not a JSON object", ex->body->name);
        return push_frame(ex, scope);
    }
    scope = extract_top(ex)->scope;
    if (scope->fields != NULL)
        return container_in_map(ex, is_map);
    if (!is_map)
        return extract_fail(ex, LK_EDATA, "an array entry that should be an object is an array");
    /* an API that ignores `limit` would otherwise page forever or hand over a day at once */
    if (scope->entry->record == RECORD_LIST_SESSION && ex->limits.max_records != 0 &&
        ex->records >= ex->limits.max_records)
        return extract_fail(ex, LK_EAPI, "list page holds more sessions than its limit of %zu",
                            ex->limits.max_records);
    extract_builder_reset(&ex->builders[scope->entry->record]);
    return push_frame(ex, scope->entry);
}

static int cb_start_map(void *ctx)
{
    return checked(ctx, on_container_start(ctx, true));
}

static int cb_start_array(void *ctx)
{
    return checked(ctx, on_container_start(ctx, false));
}

/* A key of an object scope (text is clean): select its field_spec, and note a repeated key.
 *
 * Repeated keys in one object: for a column the last value wins, as in jsonb, Go and
 * JavaScript (an earlier value kept in extra is followed there by the last one, which jsonb
 * keeps); the arrays of records (sessions, participants, a participant's sessions) are all
 * read; an unknown field keeps every occurrence in extra, where jsonb keeps the last. The
 * record's warning names the repeated keys (extract_warn_bad_fields). */
static int object_key(struct extract *ex, const char *text, size_t len)
{
    struct frame *top = extract_top(ex);
    uint32_t bit;

    free(top->key);
    top->key = malloc(len + 1);
    if (top->key == NULL)
        return extract_fail(ex, LK_ENOMEM, "out of memory");
    memcpy(top->key, text, len);
    top->key[len] = '\0';
    top->field = NULL;
    for (const struct field_spec *f = top->scope->fields; f->key; f++) {
        if (strlen(f->key) == len && memcmp(f->key, text, len) == 0) {
            top->field = f;
            break;
        }
    }
    if (top->field == NULL)
        return extract_note_unknown_key(ex, top);
    assert(top->field - top->scope->fields < 32); /* the bits of frame.seen and frame.kept */
    bit = 1u << (top->field - top->scope->fields);
    if (top->seen & bit)
        extract_note_repeated_key(ex, top);
    top->seen |= bit;
    return 1;
}

static int cb_map_key(void *ctx, const unsigned char *text, size_t len)
{
    struct extract *ex = ctx;
    const char *clean = ex->piece_high ? clean_text(ex, text, &len) : (const char *)text;
    int ok;

    if (clean == NULL)
        return 0;
    ok = ex->cap.active ? capture_key(ex, (const unsigned char *)clean, len)
                        : object_key(ex, clean, len);
    release_clean(ex);
    return checked(ex, ok);
}

static int on_container_end(struct extract *ex, bool is_map)
{
    const struct scope_def *closed;

    ex->depth--;
    if (ex->cap.active)
        return capture_container_end(ex, is_map);
    closed = extract_top(ex)->scope;
    if (closed->close != NULL && !closed->close(ex))
        return 0;
    pop_frame(ex);
    if (ex->frame_count > 0 && extract_top(ex)->scope->fields == NULL)
        extract_top(ex)->index++; /* an array entry closed */
    return 1;
}

static int cb_end_map(void *ctx)
{
    return checked(ctx, on_container_end(ctx, true));
}

static int cb_end_array(void *ctx)
{
    return checked(ctx, on_container_end(ctx, false));
}

const yajl_callbacks extract_callbacks = {
    cb_null,      cb_boolean, NULL,       NULL,           cb_number,    cb_string,
    cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array,
};
