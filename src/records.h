/* records.h -- the rows extract hands to store: the extract/store contract.
 *
 * extract turns JSON into records of four kinds; every value is already converted to the
 * canonical text PostgreSQL accepts for its column (timestamps "YYYY-MM-DD HH:MM:SS[.f]+00",
 * integers in decimal, booleans "t"/"f") or NULL for SQL NULL, so store never has to judge
 * a value. `extra` is a JSON object text (never NULL) holding unknown and unconvertible
 * fields. All pointers are borrowed from the extractor and valid only during the callback.
 */
#ifndef LK_RECORDS_H
#define LK_RECORDS_H

#include <stddef.h>

struct lk_error;

enum record_kind {
    RECORD_LIST_SESSION = 0, /* one entry of a list page */
    RECORD_DETAILS_SESSION,  /* the top level of a details response */
    RECORD_PARTICIPANT,      /* one participants[] entry of a details response */
    RECORD_CONNECTION,       /* one participants[].sessions[] entry */
    RECORD_KIND_COUNT
};

/* Columns of each kind, in the order of record.values[]. */
enum list_session_column {
    LS_SESSION_ID,
    LS_ROOM_NAME,
    LS_CREATED_AT,
    LS_ENDED_AT,
    LS_LAST_ACTIVE,
    LS_BANDWIDTH_IN,
    LS_BANDWIDTH_OUT,
    LS_EGRESS,
    LS_NUM_PARTICIPANTS,
    LS_NUM_ACTIVE_PARTICIPANTS,
    LS_COUNT
};
enum details_session_column {
    DS_SESSION_ID,
    DS_ROOM_NAME,
    DS_START_TIME,
    DS_END_TIME,
    DS_BANDWIDTH,
    DS_CONNECTION_MINUTES,
    DS_NUM_PARTICIPANTS,
    DS_COUNT
};
enum participant_column {
    PT_SESSION_ID,
    PT_IDENTITY,
    PT_NAME,
    PT_JOINED_AT,
    PT_LEFT_AT,
    PT_REGION,
    PT_CONNECTION_TYPE,
    PT_SDK_VERSION,
    PT_CAMERA,
    PT_MICROPHONE,
    PT_SCREEN_SHARE,
    PT_SCREEN_SHARE_AUDIO,
    PT_COUNT
};
enum connection_column {
    CN_SESSION_ID,
    CN_CONNECTION_ID,
    CN_PARTICIPANT_IDENTITY,
    CN_JOINED_AT,
    CN_LEFT_AT,
    CN_COUNT
};

#define RECORD_MAX_COLUMNS 12

struct record {
    enum record_kind kind;
    const char *values[RECORD_MAX_COLUMNS]; /* per the kind's column enum; NULL = SQL NULL */
    const char *extra;                      /* JSON object text, "{}" when nothing extra */
};

/* Where extract sends what it finds. Callbacks return 0, or a negative LK_E* code with err
 * filled, which stops the parse and is returned from extract_feed/extract_finish. */
struct record_sink {
    void *ctx;
    int (*on_record)(void *ctx, const struct record *rec, struct lk_error *err);
    /* A field lkarchive does not know, as a dotted path ("session.agentCount",
     * "participant.publishedSources.dataTrack"); may repeat. Optional (NULL). */
    void (*on_unknown_field)(void *ctx, const char *path);
};

#endif
