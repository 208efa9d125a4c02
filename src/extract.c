/* extract.c -- yajl SAX handlers for the Analytics API's list and details bodies.
 *
 * Flow: extract_feed() checks each chunk's token lengths (yajl would otherwise buffer an
 * endless string), then hands it to yajl. The callbacks keep a stack of frames, one per open
 * JSON container, saying what that container is (the list wrapper, a session, a participant,
 * its publishedSources, a connection). Values of known keys are converted (convert.c) into
 * the record being built; unknown keys, and values that cannot be converted, are written with
 * yajl_gen into the record's `extra` object with their original value. A record goes to the
 * sink when its object closes, because keys may come in any order. Containers that are not
 * records (an unknown field's object, a {seconds, nanos} timestamp) are "captured": their
 * events are forwarded to a generator until the container closes.
 *
 * Invariants: callbacks return 0 only after setting ex->err; every string stored or
 * re-serialized has U+0000 replaced by U+FFFD (PostgreSQL text and jsonb cannot hold NUL).
 */
#include "extract.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "convert.h"
#include "error.h"
#include "log.h"

/* The longest run of connections one participant may carry before we call the body hostile. */
#define MAX_CONNECTIONS_PER_PARTICIPANT 100000

enum field_type {
    FT_TEXT,
    FT_TIMESTAMP,
    FT_INT64,
    FT_INT32,
    FT_INT16,
    FT_NUMERIC,
    FT_BOOL,
    FT_SESSION_ID, /* details roomId: checked against the id asked for */
    FT_IGNORED,    /* known and redundant (participant roomId) */
    FT_CHILD       /* a container with its own scope */
};

enum scope {
    SC_ROOT,
    SC_LIST_WRAPPER,
    SC_SESSION_ARRAY,
    SC_LIST_SESSION,
    SC_DETAILS,
    SC_PARTICIPANT_ARRAY,
    SC_PARTICIPANT,
    SC_SOURCES,
    SC_CONNECTION_ARRAY,
    SC_CONNECTION
};

struct field_spec {
    const char *key;
    int column;
    enum field_type type;
    enum scope child; /* for FT_CHILD: the scope of the container it opens */
};

static const struct field_spec wrapper_fields[] = {
    {"sessions", 0, FT_CHILD, SC_SESSION_ARRAY},
    {NULL, 0, FT_TEXT, SC_ROOT},
};
static const struct field_spec list_session_fields[] = {
    {"sessionId", LS_SESSION_ID, FT_TEXT, SC_ROOT},
    {"roomName", LS_ROOM_NAME, FT_TEXT, SC_ROOT},
    {"createdAt", LS_CREATED_AT, FT_TIMESTAMP, SC_ROOT},
    {"endedAt", LS_ENDED_AT, FT_TIMESTAMP, SC_ROOT},
    {"lastActive", LS_LAST_ACTIVE, FT_TIMESTAMP, SC_ROOT},
    {"bandwidthIn", LS_BANDWIDTH_IN, FT_INT64, SC_ROOT},
    {"bandwidthOut", LS_BANDWIDTH_OUT, FT_INT64, SC_ROOT},
    {"egress", LS_EGRESS, FT_INT16, SC_ROOT},
    {"numParticipants", LS_NUM_PARTICIPANTS, FT_INT32, SC_ROOT},
    {"numActiveParticipants", LS_NUM_ACTIVE_PARTICIPANTS, FT_INT32, SC_ROOT},
    {NULL, 0, FT_TEXT, SC_ROOT},
};
static const struct field_spec details_fields[] = {
    {"roomId", DS_SESSION_ID, FT_SESSION_ID, SC_ROOT},
    {"roomName", DS_ROOM_NAME, FT_TEXT, SC_ROOT},
    {"startTime", DS_START_TIME, FT_TIMESTAMP, SC_ROOT},
    {"endTime", DS_END_TIME, FT_TIMESTAMP, SC_ROOT},
    {"bandwidth", DS_BANDWIDTH, FT_INT64, SC_ROOT},
    {"connectionMinutes", DS_CONNECTION_MINUTES, FT_NUMERIC, SC_ROOT},
    {"numParticipants", DS_NUM_PARTICIPANTS, FT_INT32, SC_ROOT},
    {"participants", 0, FT_CHILD, SC_PARTICIPANT_ARRAY},
    {NULL, 0, FT_TEXT, SC_ROOT},
};
static const struct field_spec participant_fields[] = {
    {"participantIdentity", PT_IDENTITY, FT_TEXT, SC_ROOT},
    {"participantName", PT_NAME, FT_TEXT, SC_ROOT},
    {"roomId", 0, FT_IGNORED, SC_ROOT},
    {"joinedAt", PT_JOINED_AT, FT_TIMESTAMP, SC_ROOT},
    {"leftAt", PT_LEFT_AT, FT_TIMESTAMP, SC_ROOT},
    {"region", PT_REGION, FT_TEXT, SC_ROOT},
    {"connectionType", PT_CONNECTION_TYPE, FT_TEXT, SC_ROOT},
    {"sdkVersion", PT_SDK_VERSION, FT_TEXT, SC_ROOT},
    {"publishedSources", 0, FT_CHILD, SC_SOURCES},
    {"sessions", 0, FT_CHILD, SC_CONNECTION_ARRAY},
    {NULL, 0, FT_TEXT, SC_ROOT},
};
static const struct field_spec sources_fields[] = {
    {"cameraTrack", PT_CAMERA, FT_BOOL, SC_ROOT},
    {"microphoneTrack", PT_MICROPHONE, FT_BOOL, SC_ROOT},
    {"screenShareTrack", PT_SCREEN_SHARE, FT_BOOL, SC_ROOT},
    {"screenShareAudio", PT_SCREEN_SHARE_AUDIO, FT_BOOL, SC_ROOT},
    {NULL, 0, FT_TEXT, SC_ROOT},
};
static const struct field_spec connection_fields[] = {
    {"sessionId", CN_CONNECTION_ID, FT_TEXT, SC_ROOT},
    {"joinedAt", CN_JOINED_AT, FT_TIMESTAMP, SC_ROOT},
    {"leftAt", CN_LEFT_AT, FT_TIMESTAMP, SC_ROOT},
    {NULL, 0, FT_TEXT, SC_ROOT},
};

/* A record under construction: owned value strings and a generator for `extra`. */
struct builder {
    char *values[RECORD_MAX_COLUMNS];
    yajl_gen extra;
    bool extra_open;
    char bad_fields[256]; /* names of fields that could not be converted, for one warning */
};

struct buffered_connection {
    char *values[CN_COUNT];
    char *extra;
};

struct frame {
    enum scope scope;
    const struct field_spec *field; /* the current key's spec; NULL when unknown */
    char *key;                      /* the current key, cleaned (owned) */
    size_t index;                   /* array frames: elements seen */
};

/* The value being forwarded to a generator (unknown field, bad container, timestamp object). */
struct capture {
    bool active;
    yajl_gen gen; /* NULL: discard */
    int depth;    /* containers open inside the captured value */
    bool timestamp_object;
    bool timestamp_valid;
    int timestamp_key; /* 0 other, 1 seconds, 2 nanos */
    char *seconds;
    char *nanos;
    struct builder *owner; /* timestamp object: where the value or the original goes */
    int column;
    char *key;
    enum scope scope;
};

struct extract {
    enum extract_body body;
    char *session_id;
    struct extract_limits limits;
    struct record_sink sink;
    yajl_handle parser;
    struct lk_error *err; /* the caller's, during feed/finish */
    int rc;

    struct frame *frames; /* limits.max_depth + 2 of them (the stack never goes deeper) */
    int frame_capacity;
    int frame_count;
    int depth;
    struct capture cap;
    yajl_gen scratch; /* timestamp objects are captured here first */

    struct builder builders[RECORD_KIND_COUNT];
    yajl_gen sources_extra; /* unknown publishedSources members of the current participant */
    bool sources_extra_open;
    struct buffered_connection *connections;
    size_t connection_count, connection_capacity;

    size_t records;
    size_t bytes_before_chunk;
    /* token scanner state, across chunks */
    bool in_string, escaped;
    size_t token_len;
};

/* ---- small helpers ---- */

static int fail(struct extract *ex, int code, const char *what)
{
    if (ex->rc == 0) {
        ex->rc = code;
        lk_error_set(ex->err, code, "%s", what);
    }
    return 0; /* stop yajl */
}

/* Copy with U+0000 replaced by U+FFFD. NULL on allocation failure. */
static char *clean_copy(const unsigned char *text, size_t len, size_t *out_len)
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

static int gen_clean_string(yajl_gen gen, const unsigned char *text, size_t len)
{
    size_t clean_len;
    char *clean;
    int status;

    if (memchr(text, 0, len) == NULL)
        return yajl_gen_string(gen, text, len) == yajl_gen_status_ok ? 0 : -1;
    clean = clean_copy(text, len, &clean_len);
    if (clean == NULL)
        return -1;
    status = yajl_gen_string(gen, (const unsigned char *)clean, clean_len);
    free(clean);
    return status == yajl_gen_status_ok ? 0 : -1;
}

static yajl_gen gen_new(void)
{
    yajl_gen gen = yajl_gen_alloc(NULL);
    if (gen)
        yajl_gen_config(gen, yajl_gen_validate_utf8, 0);
    return gen;
}

static void builder_reset(struct builder *b)
{
    for (int i = 0; i < RECORD_MAX_COLUMNS; i++) {
        free(b->values[i]);
        b->values[i] = NULL;
    }
    if (b->extra) {
        yajl_gen_clear(b->extra);
        yajl_gen_reset(b->extra, NULL);
    }
    b->extra_open = false;
    b->bad_fields[0] = '\0';
}

static void set_value(struct builder *b, int column, char *value)
{
    free(b->values[column]);
    b->values[column] = value;
}

static void note_bad_field(struct builder *b, const char *key)
{
    size_t used = strlen(b->bad_fields);
    if (used + strlen(key) + 3 < sizeof b->bad_fields)
        snprintf(b->bad_fields + used, sizeof b->bad_fields - used, "%s%s", used ? ", " : "", key);
}

static struct builder *builder_for_scope(struct extract *ex, enum scope scope)
{
    switch (scope) {
    case SC_LIST_SESSION:
        return &ex->builders[RECORD_LIST_SESSION];
    case SC_DETAILS:
        return &ex->builders[RECORD_DETAILS_SESSION];
    case SC_PARTICIPANT:
    case SC_SOURCES:
        return &ex->builders[RECORD_PARTICIPANT];
    case SC_CONNECTION:
        return &ex->builders[RECORD_CONNECTION];
    default:
        return NULL;
    }
}

/* The open `extra` object that unknown fields of `scope` go to; NULL means discard. */
static yajl_gen extra_for_scope(struct extract *ex, enum scope scope)
{
    yajl_gen *gen;
    bool *open;
    struct builder *b;

    if (scope == SC_SOURCES) {
        gen = &ex->sources_extra;
        open = &ex->sources_extra_open;
    } else {
        b = builder_for_scope(ex, scope);
        if (b == NULL)
            return NULL;
        gen = &b->extra;
        open = &b->extra_open;
    }
    if (*gen == NULL && (*gen = gen_new()) == NULL)
        return NULL;
    if (!*open) {
        yajl_gen_map_open(*gen);
        *open = true;
    }
    return *gen;
}

static const char *scope_name(enum scope scope)
{
    switch (scope) {
    case SC_LIST_WRAPPER:
        return "list";
    case SC_LIST_SESSION:
        return "session";
    case SC_DETAILS:
        return "details";
    case SC_PARTICIPANT:
        return "participant";
    case SC_SOURCES:
        return "participant.publishedSources";
    case SC_CONNECTION:
        return "connection";
    default:
        return "body";
    }
}

static void report_unknown(struct extract *ex, enum scope scope, const char *key)
{
    char path[192];
    if (ex->sink.on_unknown_field == NULL)
        return;
    snprintf(path, sizeof path, "%s.%.128s", scope_name(scope), key);
    ex->sink.on_unknown_field(ex->sink.ctx, path);
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

/* Re-emit the JSON value `text` (made by our own generator) into dst. */
static int splice_json(yajl_gen dst, const unsigned char *text, size_t len)
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

/* ---- emitting records ---- */

static const char *finish_extra(yajl_gen gen, bool open)
{
    const unsigned char *buf;
    size_t len;

    if (!open)
        return "{}";
    yajl_gen_map_close(gen);
    yajl_gen_get_buf(gen, &buf, &len);
    return (const char *)buf;
}

static int emit(struct extract *ex, enum record_kind kind, char *const *values, const char *extra)
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

static void warn_bad_fields(const struct builder *b, const char *what, const char *id)
{
    if (b->bad_fields[0])
        log_warn_repeated("conversion",
                          "%s %s: could not convert %s; stored NULL, original kept in extra", what,
                          id, b->bad_fields);
}

static int emit_list_session(struct extract *ex)
{
    struct builder *b = &ex->builders[RECORD_LIST_SESSION];
    char what[96];

    if (b->values[LS_SESSION_ID] == NULL) {
        snprintf(what, sizeof what, "list page: sessions[%zu] has no sessionId",
                 ex->frames[ex->frame_count - 2].index);
        return fail(ex, LK_EDATA, what);
    }
    warn_bad_fields(b, "session", b->values[LS_SESSION_ID]);
    if (!emit(ex, RECORD_LIST_SESSION, b->values, finish_extra(b->extra, b->extra_open)))
        return 0;
    ex->records++;
    builder_reset(b);
    return 1;
}

static int emit_details(struct extract *ex)
{
    struct builder *b = &ex->builders[RECORD_DETAILS_SESSION];

    set_value(b, DS_SESSION_ID, strdup(ex->session_id));
    if (b->values[DS_SESSION_ID] == NULL)
        return fail(ex, LK_ENOMEM, "out of memory");
    warn_bad_fields(b, "session", ex->session_id);
    if (!emit(ex, RECORD_DETAILS_SESSION, b->values, finish_extra(b->extra, b->extra_open)))
        return 0;
    ex->records++;
    builder_reset(b);
    return 1;
}

static void drop_connections(struct extract *ex)
{
    for (size_t i = 0; i < ex->connection_count; i++) {
        for (int c = 0; c < CN_COUNT; c++)
            free(ex->connections[i].values[c]);
        free(ex->connections[i].extra);
    }
    ex->connection_count = 0;
}

/* A connection closed before we may know its participant's identity: keep it until the
 * participant closes. */
static int buffer_connection(struct extract *ex)
{
    struct builder *b = &ex->builders[RECORD_CONNECTION];
    struct buffered_connection *slot;
    char what[160];

    if (b->values[CN_CONNECTION_ID] == NULL) {
        snprintf(what, sizeof what, "session %.64s: a participant's sessions[%zu] has no sessionId",
                 ex->session_id, ex->frames[ex->frame_count - 2].index);
        return fail(ex, LK_EDATA, what);
    }
    if (ex->connection_count == MAX_CONNECTIONS_PER_PARTICIPANT)
        return fail(ex, LK_EDATA, "a participant has more than 100000 connections");
    if (ex->connection_count == ex->connection_capacity) {
        size_t capacity = ex->connection_capacity ? ex->connection_capacity * 2 : 8;
        void *grown = realloc(ex->connections, capacity * sizeof *ex->connections);
        if (grown == NULL)
            return fail(ex, LK_ENOMEM, "out of memory");
        ex->connections = grown;
        ex->connection_capacity = capacity;
    }
    slot = &ex->connections[ex->connection_count];
    slot->extra = strdup(finish_extra(b->extra, b->extra_open));
    if (slot->extra == NULL)
        return fail(ex, LK_ENOMEM, "out of memory");
    warn_bad_fields(b, "connection", b->values[CN_CONNECTION_ID]);
    for (int c = 0; c < CN_COUNT; c++) {
        slot->values[c] = b->values[c];
        b->values[c] = NULL;
    }
    ex->connection_count++;
    builder_reset(b);
    return 1;
}

static int emit_participant(struct extract *ex)
{
    struct builder *b = &ex->builders[RECORD_PARTICIPANT];
    char what[160];
    char *values[RECORD_MAX_COLUMNS] = {0};

    if (b->values[PT_IDENTITY] == NULL) {
        snprintf(what, sizeof what, "session %.64s: participants[%zu] has no participantIdentity",
                 ex->session_id, ex->frames[ex->frame_count - 2].index);
        return fail(ex, LK_EDATA, what);
    }
    set_value(b, PT_SESSION_ID, strdup(ex->session_id));
    if (b->values[PT_SESSION_ID] == NULL)
        return fail(ex, LK_ENOMEM, "out of memory");
    if (ex->sources_extra_open) {
        /* Unknown publishedSources members stay nested: {"publishedSources": {...}}. */
        const unsigned char *buf;
        size_t len;
        yajl_gen extra = extra_for_scope(ex, SC_PARTICIPANT);
        yajl_gen_map_close(ex->sources_extra);
        yajl_gen_get_buf(ex->sources_extra, &buf, &len);
        if (extra == NULL ||
            yajl_gen_string(extra, (const unsigned char *)"publishedSources", 16) !=
                yajl_gen_status_ok ||
            splice_json(extra, buf, len) != 0)
            return fail(ex, LK_ENOMEM, "could not keep unknown publishedSources fields");
    }
    warn_bad_fields(b, "participant", b->values[PT_IDENTITY]);
    if (!emit(ex, RECORD_PARTICIPANT, b->values, finish_extra(b->extra, b->extra_open)))
        return 0;
    for (size_t i = 0; i < ex->connection_count; i++) {
        struct buffered_connection *conn = &ex->connections[i];
        for (int c = 0; c < CN_COUNT; c++)
            values[c] = conn->values[c];
        values[CN_SESSION_ID] = b->values[PT_SESSION_ID];
        values[CN_PARTICIPANT_IDENTITY] = b->values[PT_IDENTITY];
        if (!emit(ex, RECORD_CONNECTION, values, conn->extra))
            return 0;
    }
    drop_connections(ex);
    builder_reset(b);
    if (ex->sources_extra) {
        yajl_gen_clear(ex->sources_extra);
        yajl_gen_reset(ex->sources_extra, NULL);
    }
    ex->sources_extra_open = false;
    return 1;
}

/* ---- converting scalars ---- */

enum json_kind { JK_NULL, JK_BOOL, JK_NUMBER, JK_STRING };

static int gen_scalar(yajl_gen gen, enum json_kind kind, const char *text, size_t len)
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
        return gen_clean_string(gen, (const unsigned char *)text, len);
    }
}

/* Convert a scalar for a typed column: 1 and *out set (NULL = SQL NULL), or 0 if invalid. */
static int convert_scalar(enum field_type type, enum json_kind kind, const char *text, size_t len,
                          char **out)
{
    char buf[CONVERT_TIMESTAMP_MAX > CONVERT_INT_MAX ? CONVERT_TIMESTAMP_MAX : CONVERT_INT_MAX];
    enum convert_result result = CONVERT_INVALID;

    *out = NULL;
    if (kind == JK_NULL)
        return 1;
    switch (type) {
    case FT_TEXT:
    case FT_SESSION_ID:
        if (kind == JK_BOOL)
            *out = strdup(text[0] == 't' ? "true" : "false");
        else
            *out = clean_copy((const unsigned char *)text, len, NULL);
        return 1;
    case FT_TIMESTAMP:
        if (kind == JK_STRING)
            result = convert_timestamp_text(text, len, buf);
        else if (kind == JK_NUMBER)
            result = convert_timestamp_epoch(text, len, buf);
        break;
    case FT_INT64:
    case FT_INT32:
    case FT_INT16:
        if (kind == JK_STRING || kind == JK_NUMBER) {
            int64_t max = type == FT_INT64 ? INT64_MAX : type == FT_INT32 ? INT32_MAX : INT16_MAX;
            int64_t min = type == FT_INT64 ? INT64_MIN : type == FT_INT32 ? INT32_MIN : INT16_MIN;
            result = convert_integer(text, len, min, max, buf);
        }
        break;
    case FT_NUMERIC:
        if (kind == JK_STRING || kind == JK_NUMBER) {
            result = convert_numeric(text, len);
            if (result == CONVERT_OK && len < sizeof buf) {
                memcpy(buf, text, len);
                buf[len] = '\0';
            } else if (result == CONVERT_OK) {
                *out = clean_copy((const unsigned char *)text, len, NULL);
                return 1;
            }
        }
        break;
    case FT_BOOL:
        if (kind == JK_BOOL) {
            result = CONVERT_OK;
            snprintf(buf, sizeof buf, "%s", text[0] == 't' ? "t" : "f");
        } else if (kind == JK_STRING && (len == 4 && memcmp(text, "true", 4) == 0)) {
            result = CONVERT_OK;
            snprintf(buf, sizeof buf, "t");
        } else if (kind == JK_STRING && (len == 5 && memcmp(text, "false", 5) == 0)) {
            result = CONVERT_OK;
            snprintf(buf, sizeof buf, "f");
        }
        break;
    default:
        return 1;
    }
    if (result == CONVERT_INVALID)
        return 0;
    if (result == CONVERT_OK)
        *out = strdup(buf);
    return 1;
}

/* Keep key: original in the scope's extra and note the field as unconvertible. */
static int keep_original(struct extract *ex, enum scope scope, const char *key, enum json_kind kind,
                         const char *text, size_t len, bool unconvertible)
{
    yajl_gen extra = extra_for_scope(ex, scope);
    struct builder *b = builder_for_scope(ex, scope);

    if (extra == NULL ||
        yajl_gen_string(extra, (const unsigned char *)key, strlen(key)) != yajl_gen_status_ok ||
        gen_scalar(extra, kind, text, len) != 0)
        return fail(ex, LK_ENOMEM, "could not keep an unconvertible value in extra");
    if (b && unconvertible)
        note_bad_field(b, key);
    return 1;
}

static int scalar_in_map(struct extract *ex, enum json_kind kind, const char *text, size_t len)
{
    struct frame *top = &ex->frames[ex->frame_count - 1];
    const struct field_spec *field = top->field;
    struct builder *b = builder_for_scope(ex, top->scope);
    char *value;

    if (field == NULL) {
        yajl_gen extra;
        if (top->scope == SC_LIST_WRAPPER) {
            report_unknown(ex, top->scope, top->key);
            return 1;
        }
        extra = extra_for_scope(ex, top->scope);
        report_unknown(ex, top->scope, top->key);
        if (extra == NULL ||
            yajl_gen_string(extra, (const unsigned char *)top->key, strlen(top->key)) !=
                yajl_gen_status_ok ||
            gen_scalar(extra, kind, text, len) != 0)
            return fail(ex, LK_ENOMEM, "could not keep an unknown field in extra");
        return 1;
    }
    if (field->type == FT_IGNORED)
        return 1;
    if (field->type == FT_CHILD && top->scope == SC_LIST_WRAPPER && kind != JK_NULL)
        return fail(ex, LK_EDATA, "list page: sessions is not an array");
    if (field->type == FT_CHILD) /* e.g. "participants": null is an empty list */
        return kind == JK_NULL ? 1 : keep_original(ex, top->scope, top->key, kind, text, len, true);
    if (!convert_scalar(field->type, kind, text, len, &value)) {
        set_value(b, field->column, NULL);
        return keep_original(ex, top->scope, top->key, kind, text, len, true);
    }
    if (kind != JK_NULL && value == NULL && field->type == FT_TEXT)
        return fail(ex, LK_ENOMEM, "out of memory");
    if (field->type == FT_SESSION_ID) {
        /* details roomId equals the list's sessionId; the id asked for keys the rows */
        if (value && strcmp(value, ex->session_id) != 0) {
            log_warn("session %s: details roomId is \"%.64s\"; kept in extra", ex->session_id,
                     value);
            free(value);
            return keep_original(ex, top->scope, top->key, kind, text, len, false);
        }
        free(value);
        return 1;
    }
    set_value(b, field->column, value);
    return 1;
}

/* ---- capture ---- */

static void capture_reset(struct capture *cap)
{
    free(cap->seconds);
    free(cap->nanos);
    free(cap->key);
    memset(cap, 0, sizeof *cap);
}

static int capture_start(struct extract *ex, yajl_gen gen, bool timestamp_object)
{
    struct frame *top = &ex->frames[ex->frame_count - 1];
    struct capture *cap = &ex->cap;

    capture_reset(cap);
    cap->active = true;
    cap->gen = gen;
    cap->timestamp_object = timestamp_object;
    cap->timestamp_valid = true;
    cap->scope = top->scope;
    cap->owner = builder_for_scope(ex, top->scope);
    cap->column = top->field ? top->field->column : 0;
    cap->key = strdup(top->key ? top->key : "");
    if (cap->key == NULL)
        return fail(ex, LK_ENOMEM, "out of memory");
    if (timestamp_object) {
        yajl_gen_clear(ex->scratch);
        yajl_gen_reset(ex->scratch, NULL);
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
            return fail(ex, LK_ENOMEM, "out of memory");
        set_value(cap->owner, cap->column, value);
        return 1;
    }
    set_value(cap->owner, cap->column, NULL);
    extra = extra_for_scope(ex, cap->scope);
    yajl_gen_get_buf(ex->scratch, &text, &len);
    if (extra == NULL ||
        yajl_gen_string(extra, (const unsigned char *)cap->key, strlen(cap->key)) !=
            yajl_gen_status_ok ||
        splice_json(extra, text, len) != 0)
        return fail(ex, LK_ENOMEM, "could not keep an unconvertible timestamp in extra");
    note_bad_field(cap->owner, cap->key);
    return 1;
}

/* The captured value is complete. */
static int capture_end(struct extract *ex)
{
    int ok = 1;
    if (ex->cap.timestamp_object)
        ok = capture_finish_timestamp(ex);
    capture_reset(&ex->cap);
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

/* ---- yajl callbacks ---- */

static int on_scalar(struct extract *ex, enum json_kind kind, const char *text, size_t len)
{
    struct frame *top;

    if (ex->cap.active) {
        if (ex->cap.timestamp_object)
            capture_timestamp_scalar(&ex->cap, kind, text, len);
        if (ex->cap.gen && gen_scalar(ex->cap.gen, kind, text, len) != 0)
            return fail(ex, LK_ENOMEM, "could not keep a field in extra");
        return 1;
    }
    if (ex->frame_count == 0)
        return fail(ex, LK_EDATA,
                    ex->body == EXTRACT_LIST ? "list response is not a JSON object"
                                             : "details response is not a JSON object");
    top = &ex->frames[ex->frame_count - 1];
    switch (top->scope) {
    case SC_SESSION_ARRAY:
    case SC_PARTICIPANT_ARRAY:
    case SC_CONNECTION_ARRAY:
        top->index++;
        if (kind == JK_NULL)
            return 1; /* a null entry carries nothing to keep */
        return fail(ex, LK_EDATA,
                    top->scope == SC_SESSION_ARRAY
                        ? "list page: a sessions[] entry is not an object"
                    : top->scope == SC_PARTICIPANT_ARRAY
                        ? "details: a participants[] entry is not an object"
                        : "details: a participant's sessions[] entry is not an object");
    default:
        return scalar_in_map(ex, kind, text, len);
    }
}

static int cb_null(void *ctx)
{
    return on_scalar(ctx, JK_NULL, "null", 4);
}

static int cb_boolean(void *ctx, int value)
{
    return value ? on_scalar(ctx, JK_BOOL, "true", 4) : on_scalar(ctx, JK_BOOL, "false", 5);
}

static int cb_number(void *ctx, const char *text, size_t len)
{
    return on_scalar(ctx, JK_NUMBER, text, len);
}

static int cb_string(void *ctx, const unsigned char *text, size_t len)
{
    return on_scalar(ctx, JK_STRING, (const char *)text, len);
}

static int push_frame(struct extract *ex, enum scope scope)
{
    struct frame *frame;

    if (ex->frame_count == ex->frame_capacity)
        return fail(ex, LK_EDATA, "JSON nesting too deep");
    frame = &ex->frames[ex->frame_count++];
    frame->scope = scope;
    frame->field = NULL;
    frame->key = NULL;
    frame->index = 0;
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
    char what[96];
    if (++ex->depth > ex->limits.max_depth) {
        snprintf(what, sizeof what, "JSON nesting deeper than the limit of %d",
                 ex->limits.max_depth);
        return fail(ex, LK_EDATA, what);
    }
    return 1;
}

/* An object or array starts as the value of a key in a map scope. */
static int container_in_map(struct extract *ex, bool is_map)
{
    struct frame *top = &ex->frames[ex->frame_count - 1];
    const struct field_spec *field = top->field;
    struct builder *b = builder_for_scope(ex, top->scope);
    yajl_gen extra;

    if (field && field->type == FT_CHILD) {
        bool wants_map = field->child == SC_SOURCES;
        if (wants_map == is_map)
            return push_frame(ex, field->child);
    }
    if (field && field->type == FT_TIMESTAMP && is_map) {
        if (!capture_start(ex, ex->scratch, true))
            return 0;
        ex->cap.depth = 1;
        return is_map ? yajl_gen_map_open(ex->scratch) == yajl_gen_status_ok
                      : yajl_gen_array_open(ex->scratch) == yajl_gen_status_ok;
    }
    if (top->scope == SC_LIST_WRAPPER) {
        if (field != NULL) /* "sessions" that is not an array must not pass for an empty page */
            return fail(ex, LK_EDATA, "list page: sessions is not an array");
        report_unknown(ex, top->scope, top->key);
        if (!capture_start(ex, NULL, false))
            return 0;
        ex->cap.depth = 1;
        return 1;
    }
    /* unknown field, or a container where a scalar was expected: keep it as it came */
    extra = extra_for_scope(ex, top->scope);
    if (field == NULL)
        report_unknown(ex, top->scope, top->key);
    else if (field->type != FT_IGNORED) {
        if (field->type != FT_CHILD)
            set_value(b, field->column, NULL);
        note_bad_field(b, top->key);
    }
    if (extra == NULL || yajl_gen_string(extra, (const unsigned char *)top->key,
                                         strlen(top->key)) != yajl_gen_status_ok)
        return fail(ex, LK_ENOMEM, "could not keep a field in extra");
    if (!capture_start(ex, extra, false))
        return 0;
    ex->cap.depth = 1;
    return (is_map ? yajl_gen_map_open(extra) : yajl_gen_array_open(extra)) == yajl_gen_status_ok
               ? 1
               : fail(ex, LK_ENOMEM, "could not keep a field in extra");
}

static int on_container_start(struct extract *ex, bool is_map)
{
    struct frame *top;

    if (!enter_depth(ex))
        return 0;
    if (ex->cap.active) {
        ex->cap.depth++;
        if (ex->cap.timestamp_object)
            ex->cap.timestamp_valid = false;
        if (ex->cap.gen == NULL)
            return 1;
        return (is_map ? yajl_gen_map_open(ex->cap.gen) : yajl_gen_array_open(ex->cap.gen)) ==
                       yajl_gen_status_ok
                   ? 1
                   : fail(ex, LK_ENOMEM, "could not keep a field in extra");
    }
    if (ex->frame_count == 0) {
        if (ex->body == EXTRACT_DETAILS && is_map)
            return push_frame(ex, SC_DETAILS);
        if (ex->body == EXTRACT_LIST)
            return push_frame(ex, is_map ? SC_LIST_WRAPPER : SC_SESSION_ARRAY);
        return fail(ex, LK_EDATA, "details response is not a JSON object");
    }
    top = &ex->frames[ex->frame_count - 1];
    switch (top->scope) {
    case SC_SESSION_ARRAY:
    case SC_PARTICIPANT_ARRAY:
    case SC_CONNECTION_ARRAY:
        if (!is_map)
            return fail(ex, LK_EDATA, "an array entry that should be an object is an array");
        if (top->scope == SC_SESSION_ARRAY) {
            builder_reset(&ex->builders[RECORD_LIST_SESSION]);
            return push_frame(ex, SC_LIST_SESSION);
        }
        if (top->scope == SC_PARTICIPANT_ARRAY) {
            builder_reset(&ex->builders[RECORD_PARTICIPANT]);
            drop_connections(ex);
            return push_frame(ex, SC_PARTICIPANT);
        }
        builder_reset(&ex->builders[RECORD_CONNECTION]);
        return push_frame(ex, SC_CONNECTION);
    default:
        return container_in_map(ex, is_map);
    }
}

static int cb_start_map(void *ctx)
{
    return on_container_start(ctx, true);
}

static int cb_start_array(void *ctx)
{
    return on_container_start(ctx, false);
}

static int cb_map_key(void *ctx, const unsigned char *text, size_t len)
{
    struct extract *ex = ctx;
    struct frame *top;
    const struct field_spec *fields;

    if (ex->cap.active) {
        if (ex->cap.timestamp_object && ex->cap.depth == 1) {
            ex->cap.timestamp_key = len == 7 && memcmp(text, "seconds", 7) == 0 ? 1
                                    : len == 5 && memcmp(text, "nanos", 5) == 0 ? 2
                                                                                : 0;
            if (ex->cap.timestamp_key == 0)
                ex->cap.timestamp_valid = false;
        }
        if (ex->cap.gen && gen_clean_string(ex->cap.gen, text, len) != 0)
            return fail(ex, LK_ENOMEM, "could not keep a field in extra");
        return 1;
    }
    top = &ex->frames[ex->frame_count - 1];
    free(top->key);
    top->key = clean_copy(text, len, NULL);
    if (top->key == NULL)
        return fail(ex, LK_ENOMEM, "out of memory");
    switch (top->scope) {
    case SC_LIST_WRAPPER:
        fields = wrapper_fields;
        break;
    case SC_LIST_SESSION:
        fields = list_session_fields;
        break;
    case SC_DETAILS:
        fields = details_fields;
        break;
    case SC_PARTICIPANT:
        fields = participant_fields;
        break;
    case SC_SOURCES:
        fields = sources_fields;
        break;
    case SC_CONNECTION:
    default:
        fields = connection_fields;
        break;
    }
    top->field = NULL;
    for (const struct field_spec *f = fields; f->key; f++) {
        if (strlen(f->key) == len && memcmp(f->key, text, len) == 0) {
            top->field = f;
            break;
        }
    }
    return 1;
}

static int on_container_end(struct extract *ex, bool is_map)
{
    struct frame *top;
    enum scope closed;

    ex->depth--;
    if (ex->cap.active) {
        if (ex->cap.gen && (is_map ? yajl_gen_map_close(ex->cap.gen)
                                   : yajl_gen_array_close(ex->cap.gen)) != yajl_gen_status_ok)
            return fail(ex, LK_ENOMEM, "could not keep a field in extra");
        if (--ex->cap.depth == 0)
            return capture_end(ex);
        return 1;
    }
    top = &ex->frames[ex->frame_count - 1];
    closed = top->scope;
    switch (closed) {
    case SC_LIST_SESSION:
        if (!emit_list_session(ex))
            return 0;
        break;
    case SC_DETAILS:
        if (!emit_details(ex))
            return 0;
        break;
    case SC_PARTICIPANT:
        if (!emit_participant(ex))
            return 0;
        break;
    case SC_CONNECTION:
        if (!buffer_connection(ex))
            return 0;
        break;
    default:
        break;
    }
    pop_frame(ex);
    if (ex->frame_count > 0) {
        top = &ex->frames[ex->frame_count - 1];
        if (top->scope == SC_SESSION_ARRAY || top->scope == SC_PARTICIPANT_ARRAY ||
            top->scope == SC_CONNECTION_ARRAY)
            top->index++;
    }
    return 1;
}

static int cb_end_map(void *ctx)
{
    return on_container_end(ctx, true);
}

static int cb_end_array(void *ctx)
{
    return on_container_end(ctx, false);
}

static const yajl_callbacks extract_callbacks = {
    cb_null,      cb_boolean, NULL,       NULL,           cb_number,    cb_string,
    cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array,
};

/* ---- public functions ---- */

int extract_new(struct extract **out, enum extract_body body, const char *session_id,
                const struct extract_limits *limits, const struct record_sink *sink,
                struct lk_error *err)
{
    struct extract *ex = calloc(1, sizeof *ex);
    int rc = LK_ENOMEM;

    *out = NULL;
    if (ex == NULL)
        goto done;
    ex->body = body;
    ex->limits = *limits;
    ex->sink = *sink;
    ex->session_id = strdup(session_id ? session_id : "");
    ex->frame_capacity = limits->max_depth + 2;
    ex->frames = malloc((size_t)ex->frame_capacity * sizeof *ex->frames);
    ex->parser = yajl_alloc(&extract_callbacks, NULL, ex);
    ex->scratch = gen_new();
    if (ex->session_id == NULL || ex->frames == NULL || ex->parser == NULL || ex->scratch == NULL)
        goto done;
    *out = ex;
    ex = NULL;
    rc = 0;
done:
    if (rc != 0)
        lk_error_set(err, rc, "out of memory starting the JSON parser");
    extract_free(ex);
    return rc;
}

static int token_too_long(struct extract *ex, size_t at)
{
    lk_error_set(ex->err, LK_EDATA, "a JSON %s at byte %zu is longer than the limit of %zu bytes",
                 ex->in_string ? "string" : "token", ex->bytes_before_chunk + at,
                 ex->limits.max_string_bytes);
    lk_error_detail(ex->err, "raise max_string_bytes in the configuration if this is "
                             "legitimate data");
    return LK_EDATA;
}

/* Stop before yajl buffers a string or number longer than the limit: yajl has no limit, and
 * copies a token that spans chunks into a buffer of its own until the token ends. Inside a
 * string the scan jumps from quote to quote with memchr (strings are most of the bytes). */
static int check_token_lengths(struct extract *ex, const char *chunk, size_t len)
{
    size_t max = ex->limits.max_string_bytes, i = 0;

    while (i < len) {
        if (ex->in_string) {
            size_t from, end, run = 0;
            const char *quote;
            bool closes;
            if (ex->escaped) { /* the byte after a backslash that ended the last chunk */
                ex->escaped = false;
                if (++ex->token_len > max)
                    return token_too_long(ex, i);
                i++;
            }
            from = i;
            quote = i < len ? memchr(chunk + i, '"', len - i) : NULL;
            if (quote == NULL) {
                /* the string goes on into the next chunk: is its last backslash open? */
                for (size_t k = len; k > from && chunk[k - 1] == '\\'; k--)
                    run++;
                ex->escaped = run % 2 == 1;
                end = len;
                closes = false;
            } else {
                for (const char *k = quote; k > chunk + from && k[-1] == '\\'; k--)
                    run++;
                closes = run % 2 == 0;
                end = (size_t)(quote - chunk) + (closes ? 0 : 1); /* an escaped quote counts */
            }
            /* report the very byte that passes the limit, whatever the chunking */
            if (ex->token_len + (end - from) > max)
                return token_too_long(ex, from + (max - ex->token_len));
            ex->token_len += end - from;
            i = quote == NULL ? len : (size_t)(quote - chunk) + 1;
            if (closes) {
                ex->in_string = false;
                ex->token_len = 0;
            }
            continue;
        }
        char c = chunk[i];
        if (c == '"') {
            ex->in_string = true;
            ex->token_len = 0;
        } else if (c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' ||
                   c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            ex->token_len = 0;
        } else if (++ex->token_len > max) {
            return token_too_long(ex, i);
        }
        i++;
    }
    return 0;
}

static int parse_error(struct extract *ex, yajl_status status)
{
    unsigned char *message;

    if (ex->rc != 0)
        return ex->rc; /* a callback stopped the parse and said why */
    message = yajl_get_error(ex->parser, 0, NULL, 0);
    lk_error_set(ex->err, LK_EDATA, "invalid JSON in the %s response near byte %zu",
                 ex->body == EXTRACT_LIST ? "list" : "details",
                 ex->bytes_before_chunk + yajl_get_bytes_consumed(ex->parser));
    lk_error_detail(ex->err, "%s", message ? (const char *)message : "parse error");
    if (message)
        yajl_free_error(ex->parser, message);
    ex->rc = LK_EDATA;
    (void)status;
    return LK_EDATA;
}

int extract_feed(struct extract *ex, const char *chunk, size_t len, struct lk_error *err)
{
    yajl_status status;
    int rc;

    ex->err = err;
    if (ex->rc != 0)
        return ex->rc;
    rc = check_token_lengths(ex, chunk, len);
    if (rc != 0) {
        ex->err = err;
        ex->rc = rc;
        return rc;
    }
    status = yajl_parse(ex->parser, (const unsigned char *)chunk, len);
    if (status != yajl_status_ok)
        return parse_error(ex, status);
    ex->bytes_before_chunk += len;
    return 0;
}

int extract_finish(struct extract *ex, struct lk_error *err)
{
    yajl_status status;

    ex->err = err;
    if (ex->rc != 0)
        return ex->rc;
    status = yajl_complete_parse(ex->parser);
    if (status != yajl_status_ok)
        return parse_error(ex, status);
    if (ex->records == 0 && ex->body == EXTRACT_DETAILS) {
        lk_error_set(err, LK_EDATA, "details response for session %s is empty", ex->session_id);
        ex->rc = LK_EDATA;
        return LK_EDATA;
    }
    return 0;
}

size_t extract_record_count(const struct extract *ex)
{
    return ex->records;
}

void extract_free(struct extract *ex)
{
    if (ex == NULL)
        return;
    if (ex->parser)
        yajl_free(ex->parser);
    for (int i = 0; i < RECORD_KIND_COUNT; i++) {
        builder_reset(&ex->builders[i]);
        if (ex->builders[i].extra)
            yajl_gen_free(ex->builders[i].extra);
    }
    while (ex->frame_count > 0)
        pop_frame(ex);
    free(ex->frames);
    drop_connections(ex);
    free(ex->connections);
    capture_reset(&ex->cap);
    if (ex->sources_extra)
        yajl_gen_free(ex->sources_extra);
    if (ex->scratch)
        yajl_gen_free(ex->scratch);
    free(ex->session_id);
    free(ex);
}
