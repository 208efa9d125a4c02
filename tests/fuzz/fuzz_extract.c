/* fuzz_extract.c -- libFuzzer target: any bytes, in any chunking, into both extractors.
 *
 * The first byte picks the body kind and a chunk size; the rest is the body. Every record
 * the sink receives is checked against the records.h contract (ids present, extra a JSON
 * object text without NUL). Built by ci/fuzz.sh with clang -fsanitize=fuzzer,address,undefined.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "extract.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_record(void *ctx, const struct record *rec, struct lk_error *err)
{
    (void)ctx;
    (void)err;
    assert(rec->extra != NULL && rec->extra[0] == '{');
    switch (rec->kind) {
    case RECORD_LIST_SESSION:
        assert(rec->values[LS_SESSION_ID] != NULL);
        break;
    case RECORD_DETAILS_SESSION:
        assert(rec->values[DS_SESSION_ID] != NULL);
        break;
    case RECORD_PARTICIPANT:
        assert(rec->values[PT_IDENTITY] != NULL && rec->values[PT_SESSION_ID] != NULL);
        break;
    case RECORD_CONNECTION:
        assert(rec->values[CN_CONNECTION_ID] != NULL && rec->values[CN_PARTICIPANT_IDENTITY]);
        break;
    default:
        assert(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct extract_limits limits = {4096, 32};
    struct record_sink sink = {NULL, check_record, NULL};
    struct extract *ex = NULL;
    struct lk_error err;
    size_t chunk, at = 1;
    int rc = 0;

    if (size < 1)
        return 0;
    log_set_level(LOG_LEVEL_ERROR);
    lk_error_init(&err);
    chunk = (size_t)(data[0] >> 1) + 1;
    if (extract_new(&ex, (data[0] & 1) ? EXTRACT_DETAILS : EXTRACT_LIST, "RM_fuzz", &limits, &sink,
                    &err) != 0)
        return 0;
    while (rc == 0 && at < size) {
        size_t n = size - at < chunk ? size - at : chunk;
        rc = extract_feed(ex, (const char *)data + at, n, &err);
        at += n;
    }
    if (rc == 0)
        rc = extract_finish(ex, &err);
    assert(rc == 0 || (err.code == rc && err.message[0] != '\0'));
    extract_free(ex);
    return 0;
}
