/* extract_list.c -- the list body: {"sessions": [...]}, one record per session entry.
 *
 * A list page is an object whose "sessions" array holds one object per session (a bare array
 * is taken as that array). Each entry becomes a RECORD_LIST_SESSION when it closes; an entry
 * without a sessionId stops the page, since the id keys everything the day archives. Other
 * members of the wrapper are reported as unknown and dropped: there is no row to keep them in.
 */
#include "extract_internal.h"

#include "error.h"

static const struct field_spec list_session_fields[] = {
    {"sessionId", LS_SESSION_ID, FT_TEXT, NULL},
    {"roomName", LS_ROOM_NAME, FT_TEXT, NULL},
    {"createdAt", LS_CREATED_AT, FT_TIMESTAMP, NULL},
    {"endedAt", LS_ENDED_AT, FT_TIMESTAMP, NULL},
    {"lastActive", LS_LAST_ACTIVE, FT_TIMESTAMP, NULL},
    {"bandwidthIn", LS_BANDWIDTH_IN, FT_BYTES, NULL},
    {"bandwidthOut", LS_BANDWIDTH_OUT, FT_BYTES, NULL},
    {"egress", LS_EGRESS, FT_INT16, NULL},
    {"numParticipants", LS_NUM_PARTICIPANTS, FT_INT32, NULL},
    {"numActiveParticipants", LS_NUM_ACTIVE_PARTICIPANTS, FT_INT32, NULL},
    {NULL, 0, FT_TEXT, NULL},
};

static int close_list_session(struct extract *ex)
{
    struct builder *b = &ex->builders[RECORD_LIST_SESSION];

    if (b->values[LS_SESSION_ID] == NULL)
        return extract_fail(ex, LK_EDATA, "list page: sessions[%zu] has no sessionId",
                            extract_entry_index(ex));
    if (!extract_emit_builder(ex, RECORD_LIST_SESSION, "session", b->values[LS_SESSION_ID]))
        return 0;
    ex->records++;
    extract_builder_reset(b);
    return 1;
}

static const struct scope_def list_session_scope = {
    .name = "session",
    .fields = list_session_fields,
    .record = RECORD_LIST_SESSION,
    .close = close_list_session,
};

static const struct scope_def session_array_scope = {
    .record = SCOPE_NO_RECORD,
    .entry = &list_session_scope,
    .entry_not_object = "list page: a sessions[] entry is not an object",
};

static const struct field_spec wrapper_fields[] = {
    {"sessions", 0, FT_CHILD, &session_array_scope},
    {NULL, 0, FT_TEXT, NULL},
};

static const struct scope_def wrapper_scope = {
    .name = "list",
    .fields = wrapper_fields,
    .record = SCOPE_NO_RECORD,
    .bad_child = "list page: sessions is not an array",
};

const struct body_def extract_list_body = {
    .name = "list",
    .root_object = &wrapper_scope,
    .root_array = &session_array_scope,
    .needs_record = false,
};
