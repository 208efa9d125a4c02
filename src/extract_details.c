/* extract_details.c -- the details body: one session, its participants and their connections.
 *
 * The body is one object: the session's own fields, then "participants", an array of objects
 * each with "publishedSources" (an object of booleans, flattened into the participant's
 * columns) and "sessions" (the participant's connections). Rows are keyed by the session id
 * asked for, whatever order the keys arrive in; a roomId that is another session's fails the
 * response (extract_record.c). A connection needs its participant's identity, which may come
 * after it, so connections are buffered until the participant closes and go out right after
 * it; that buffer counts towards max_record_bytes with the participant.
 */
#include "extract_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* The longest run of connections one participant may carry before we call the body hostile. */
#define MAX_CONNECTIONS_PER_PARTICIPANT 100000

/* ---- connections ---- */

void extract_drop_connections(struct extract *ex)
{
    for (size_t i = 0; i < ex->connection_count; i++) {
        for (int c = 0; c < CN_COUNT; c++)
            free(ex->connections[i].values[c]);
        free(ex->connections[i].extra);
    }
    ex->connection_count = 0;
    ex->record_bytes -= ex->connection_bytes;
    ex->connection_bytes = 0;
}

/* A connection closed before we may know its participant's identity: keep it until the
 * participant closes. */
static int close_connection(struct extract *ex)
{
    struct builder *b = &ex->builders[RECORD_CONNECTION];
    struct buffered_connection *slot;
    size_t bytes;

    if (b->values[CN_CONNECTION_ID] == NULL)
        return extract_fail(ex, LK_EDATA,
                            "session %.64s: a participant's sessions[%zu] has no sessionId",
                            ex->session_id, extract_entry_index(ex));
    if (ex->connection_count == MAX_CONNECTIONS_PER_PARTICIPANT)
        return extract_fail(ex, LK_EDATA, "a participant has more than 100000 connections");
    if (ex->connection_count == ex->connection_capacity) {
        size_t capacity = ex->connection_capacity ? ex->connection_capacity * 2 : 8;
        void *grown = realloc(ex->connections, capacity * sizeof *ex->connections);
        if (grown == NULL)
            return extract_fail(ex, LK_ENOMEM, "out of memory");
        ex->connections = grown;
        ex->connection_capacity = capacity;
    }
    slot = &ex->connections[ex->connection_count];
    slot->extra = strdup(extract_finish_extra(b->extra, b->extra_open));
    if (slot->extra == NULL)
        return extract_fail(ex, LK_ENOMEM, "out of memory");
    extract_warn_bad_fields(b, "connection", b->values[CN_CONNECTION_ID]);
    bytes = strlen(slot->extra) + b->held + sizeof *slot;
    ex->connection_bytes += bytes;
    ex->record_bytes += bytes;
    for (int c = 0; c < CN_COUNT; c++) {
        slot->values[c] = b->values[c];
        b->values[c] = NULL;
    }
    ex->connection_count++;
    extract_builder_reset(b);
    return 1;
}

/* The participant went out: now its connections, keyed by its session and identity. */
static int emit_connections(struct extract *ex, const struct builder *participant)
{
    char *values[RECORD_MAX_COLUMNS] = {0};

    for (size_t i = 0; i < ex->connection_count; i++) {
        struct buffered_connection *conn = &ex->connections[i];
        for (int c = 0; c < CN_COUNT; c++)
            values[c] = conn->values[c];
        values[CN_SESSION_ID] = participant->values[PT_SESSION_ID];
        values[CN_PARTICIPANT_IDENTITY] = participant->values[PT_IDENTITY];
        if (!extract_emit(ex, RECORD_CONNECTION, values, conn->extra))
            return 0;
    }
    extract_drop_connections(ex);
    return 1;
}

/* ---- participants ---- */

/* Unknown publishedSources members stay nested: {"publishedSources": {...}}. */
static int keep_sources_extra(struct extract *ex, const struct scope_def *participant)
{
    const unsigned char *buf;
    size_t len;
    yajl_gen extra = extract_extra_for(ex, participant);

    yajl_gen_map_close(ex->nested_extra);
    yajl_gen_get_buf(ex->nested_extra, &buf, &len);
    if (extract_gen_key(extra, "publishedSources") != 0 ||
        extract_splice_json(extra, buf, len) != 0)
        return extract_fail(ex, LK_ENOMEM, "could not keep unknown publishedSources fields");
    return 1;
}

static int close_participant(struct extract *ex)
{
    struct builder *b = &ex->builders[RECORD_PARTICIPANT];
    char where[160];

    if (b->values[PT_IDENTITY] == NULL)
        return extract_fail(ex, LK_EDATA,
                            "session %.64s: participants[%zu] has no participantIdentity",
                            ex->session_id, extract_entry_index(ex));
    extract_set_value(b, PT_SESSION_ID, strdup(ex->session_id));
    if (b->values[PT_SESSION_ID] == NULL)
        return extract_fail(ex, LK_ENOMEM, "out of memory");
    if (ex->nested_extra_open && !keep_sources_extra(ex, extract_top(ex)->scope))
        return 0;
    /* a warning names the participant by its place, never by its identity (privacy) */
    snprintf(where, sizeof where, "%.128s participants[%zu]", ex->session_id,
             extract_entry_index(ex));
    if (!extract_emit_builder(ex, RECORD_PARTICIPANT, "session", where) || !emit_connections(ex, b))
        return 0;
    extract_builder_reset(b);
    extract_gen_reset(&ex->nested_extra);
    ex->nested_extra_open = false;
    return 1;
}

/* ---- the session ---- */

static int close_details(struct extract *ex)
{
    struct builder *b = &ex->builders[RECORD_DETAILS_SESSION];

    extract_set_value(b, DS_SESSION_ID, strdup(ex->session_id));
    if (b->values[DS_SESSION_ID] == NULL)
        return extract_fail(ex, LK_ENOMEM, "out of memory");
    if (!extract_emit_builder(ex, RECORD_DETAILS_SESSION, "session", ex->session_id))
        return 0;
    ex->records++;
    extract_builder_reset(b);
    return 1;
}

/* ---- scopes, innermost first ---- */

static const struct field_spec connection_fields[] = {
    {"sessionId", CN_CONNECTION_ID, FT_TEXT, NULL},
    {"joinedAt", CN_JOINED_AT, FT_TIMESTAMP, NULL},
    {"leftAt", CN_LEFT_AT, FT_TIMESTAMP, NULL},
    {NULL, 0, FT_TEXT, NULL},
};

static const struct scope_def connection_scope = {
    .name = "connection",
    .fields = connection_fields,
    .record = RECORD_CONNECTION,
    .close = close_connection,
};

static const struct scope_def connection_array_scope = {
    .record = SCOPE_NO_RECORD,
    .entry = &connection_scope,
    .entry_not_object = "details: a participant's sessions[] entry is not an object",
};

static const struct field_spec sources_fields[] = {
    {"cameraTrack", PT_CAMERA, FT_BOOL, NULL},
    {"microphoneTrack", PT_MICROPHONE, FT_BOOL, NULL},
    {"screenShareTrack", PT_SCREEN_SHARE, FT_BOOL, NULL},
    {"screenShareAudio", PT_SCREEN_SHARE_AUDIO, FT_BOOL, NULL},
    {NULL, 0, FT_TEXT, NULL},
};

static const struct scope_def sources_scope = {
    .name = "participant.publishedSources",
    .fields = sources_fields,
    .record = RECORD_PARTICIPANT,
    .nested_extra = true,
};

static const struct field_spec participant_fields[] = {
    {"participantIdentity", PT_IDENTITY, FT_TEXT, NULL},
    {"participantName", PT_NAME, FT_TEXT, NULL},
    {"roomId", 0, FT_IGNORED, NULL},
    {"joinedAt", PT_JOINED_AT, FT_TIMESTAMP, NULL},
    {"leftAt", PT_LEFT_AT, FT_TIMESTAMP, NULL},
    {"region", PT_REGION, FT_TEXT, NULL},
    {"connectionType", PT_CONNECTION_TYPE, FT_TEXT, NULL},
    {"sdkVersion", PT_SDK_VERSION, FT_TEXT, NULL},
    {"publishedSources", 0, FT_CHILD, &sources_scope},
    {"sessions", 0, FT_CHILD, &connection_array_scope},
    {NULL, 0, FT_TEXT, NULL},
};

static const struct scope_def participant_scope = {
    .name = "participant",
    .fields = participant_fields,
    .record = RECORD_PARTICIPANT,
    .close = close_participant,
};

static const struct scope_def participant_array_scope = {
    .record = SCOPE_NO_RECORD,
    .entry = &participant_scope,
    .entry_not_object = "details: a participants[] entry is not an object",
};

static const struct field_spec details_fields[] = {
    {"roomId", DS_SESSION_ID, FT_SESSION_ID, NULL},
    {"roomName", DS_ROOM_NAME, FT_TEXT, NULL},
    {"startTime", DS_START_TIME, FT_TIMESTAMP, NULL},
    {"endTime", DS_END_TIME, FT_TIMESTAMP, NULL},
    {"bandwidth", DS_BANDWIDTH, FT_BYTES, NULL},
    {"connectionMinutes", DS_CONNECTION_MINUTES, FT_NUMERIC, NULL},
    {"numParticipants", DS_NUM_PARTICIPANTS, FT_INT32, NULL},
    {"participants", 0, FT_CHILD, &participant_array_scope},
    {NULL, 0, FT_TEXT, NULL},
};

static const struct scope_def details_scope = {
    .name = "details",
    .fields = details_fields,
    .record = RECORD_DETAILS_SESSION,
    .close = close_details,
};

const struct body_def extract_details_body = {
    .name = "details",
    .root_object = &details_scope,
    .root_array = NULL,
    .needs_record = true,
};
