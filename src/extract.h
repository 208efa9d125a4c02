/* extract.h -- streaming yajl SAX parser: Analytics API JSON in, records out.
 *
 * An extractor parses one response body (a list page or one session's details) fed in
 * arbitrary chunks, as they come off the wire, and calls the sink for each record the moment
 * its JSON object closes. It never holds the whole body: memory is bounded by the largest
 * single record (participants buffer their connections until the participant closes, since
 * key order is not guaranteed), and max_record_bytes bounds that. Limits on string length and
 * nesting depth stop hostile bodies with LK_EDATA before yajl buffers them; limits on the body, on
 * what one record holds and on a list page's sessions stop them with LK_EAPI (no retry can help).
 *
 * Every value it hands out is one PostgreSQL takes (see records.h): text is valid UTF-8
 * without NUL (each ill-formed sequence, lone surrogate escape or NUL becomes U+FFFD), and a
 * number its column or jsonb cannot hold is NULL and kept in `extra` as a string.
 */
#ifndef LK_EXTRACT_H
#define LK_EXTRACT_H

#include <stddef.h>

#include "records.h"

struct lk_error;
struct extract;

enum extract_body {
    EXTRACT_LIST,   /* {"sessions": [...]} */
    EXTRACT_DETAILS /* one session's details */
};

/* The last three are 0 for "no bound", so a caller that zeroes the struct and sets only the
 * first two keeps the old behaviour. */
struct extract_limits {
    size_t max_string_bytes; /* longest string or number token, raw bytes */
    int max_depth;           /* deepest nesting of arrays and objects */
    size_t max_body_bytes;   /* the body, as fed (after decompression): config max_body_bytes */
    size_t max_record_bytes; /* what the records being built hold at once (values, `extra`,
                                a participant's connections): config max_record_bytes; also
                                bounds the token length */
    size_t max_records;      /* list: sessions one page may hold, i.e. its `limit` */
};

/* Start parsing one body. `session_id` is the id asked for (details only: it keys the
 * participant and connection rows whatever order the keys arrive in, and a details `roomId`
 * that differs from it is LK_EDATA). sink and limits are copied; sink->ctx is borrowed. On
 * success the caller owns *out (extract_free). */
int extract_new(struct extract **out, enum extract_body body, const char *session_id,
                const struct extract_limits *limits, const struct record_sink *sink,
                struct lk_error *err);

/* Feed the next chunk. Returns 0, LK_EDATA (malformed JSON, too long a token, too deep a
 * nesting, a record without its id, a details roomId that is not the session asked for; err
 * says which field and where), LK_EAPI (the body, a record or a list page's sessions beyond
 * max_body_bytes, max_record_bytes or max_records), LK_ENOMEM, or a sink's error. After an
 * error the extractor only accepts extract_free, and the records it already emitted for this
 * body must be discarded by the caller (the window discards the attempt). */
int extract_feed(struct extract *ex, const char *chunk, size_t len, struct lk_error *err);

/* The body ended: returns 0 if it was one complete JSON value, LK_EDATA if it was cut. */
int extract_finish(struct extract *ex, struct lk_error *err);

/* Records emitted so far of the body's main kind (list sessions, or 1 for details). */
size_t extract_record_count(const struct extract *ex);

/* NULL is a no-op. Cannot fail. */
void extract_free(struct extract *ex);

#endif
