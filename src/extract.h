/* extract.h -- streaming yajl SAX parser: Analytics API JSON in, records out.
 *
 * An extractor parses one response body (a list page or one session's details) fed in
 * arbitrary chunks, as they come off the wire, and calls the sink for each record the moment
 * its JSON object closes. It never holds the whole body: memory is bounded by the largest
 * single record (participants buffer their connections until the participant closes, since
 * key order is not guaranteed). Limits on string length and nesting depth stop hostile
 * bodies with LK_EDATA before yajl buffers them.
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

struct extract_limits {
    size_t max_string_bytes; /* longest string or number token, raw bytes */
    int max_depth;           /* deepest nesting of arrays and objects */
};

/* Start parsing one body. `session_id` is the id asked for (details only; it keys the
 * participant and connection rows whatever order the keys arrive in). sink and limits are
 * copied; sink->ctx is borrowed. On success the caller owns *out (extract_free). */
int extract_new(struct extract **out, enum extract_body body, const char *session_id,
                const struct extract_limits *limits, const struct record_sink *sink,
                struct lk_error *err);

/* Feed the next chunk. Returns 0, LK_EDATA (malformed JSON, limit exceeded, a record without
 * its id; err says which field and where), LK_ENOMEM, or a sink's error. After an error the
 * extractor only accepts extract_free. */
int extract_feed(struct extract *ex, const char *chunk, size_t len, struct lk_error *err);

/* The body ended: returns 0 if it was one complete JSON value, LK_EDATA if it was cut. */
int extract_finish(struct extract *ex, struct lk_error *err);

/* Records emitted so far of the body's main kind (list sessions, or 1 for details). */
size_t extract_record_count(const struct extract *ex);

/* NULL is a no-op. Cannot fail. */
void extract_free(struct extract *ex);

#endif
