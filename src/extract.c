/* extract.c -- the streaming extractor's public side: start, feed, finish, free; see extract.h.
 *
 * Flow: extract_feed() checks each chunk's token lengths (yajl would otherwise buffer an
 * endless string), then hands it to yajl, whose callbacks (extract_sax.c) walk the body with
 * the scopes of its kind (extract_list.c or extract_details.c) and build and emit the records
 * (extract_record.c). The first error wins: it is kept in ex->rc and every later call returns
 * it.
 *
 * Invariants: see extract_internal.h; the scanner state (in_string, escaped, token_len) spans
 * chunks, so a token is measured the same whatever the chunking.
 */
#include "extract.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "extract_internal.h"

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
    ex->body = body == EXTRACT_LIST ? &extract_list_body : &extract_details_body;
    ex->limits = *limits;
    ex->sink = *sink;
    ex->session_id = strdup(session_id ? session_id : "");
    ex->frame_capacity = limits->max_depth + 2;
    ex->frames = malloc((size_t)ex->frame_capacity * sizeof *ex->frames);
    ex->parser = yajl_alloc(&extract_callbacks, NULL, ex);
    ex->scratch = extract_gen_new();
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

/* Inside a string from chunk[*at]: jump from quote to quote with memchr (strings are most of
 * the bytes), counting the string's length; *at moves past the closing quote or to the end. */
static int scan_string(struct extract *ex, const char *chunk, size_t len, size_t *at)
{
    size_t max = ex->limits.max_string_bytes, i = *at, from, end, run = 0;
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
    *at = quote == NULL ? len : (size_t)(quote - chunk) + 1;
    if (closes) {
        ex->in_string = false;
        ex->token_len = 0;
    }
    return 0;
}

/* Stop before yajl buffers a string or number longer than the limit: yajl has no limit, and
 * copies a token that spans chunks into a buffer of its own until the token ends. */
static int check_token_lengths(struct extract *ex, const char *chunk, size_t len)
{
    size_t i = 0;
    int rc;

    while (i < len) {
        if (ex->in_string) {
            if ((rc = scan_string(ex, chunk, len, &i)) != 0)
                return rc;
            continue;
        }
        char c = chunk[i];
        if (c == '"') {
            ex->in_string = true;
            ex->token_len = 0;
        } else if (c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' ||
                   c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            ex->token_len = 0;
        } else if (++ex->token_len > ex->limits.max_string_bytes) {
            return token_too_long(ex, i);
        }
        i++;
    }
    return 0;
}

/* yajl stopped: a callback said why, or the JSON itself is bad. */
static int parse_error(struct extract *ex)
{
    unsigned char *message;

    if (ex->rc != 0)
        return ex->rc; /* a callback stopped the parse and said why */
    message = yajl_get_error(ex->parser, 0, NULL, 0);
    lk_error_set(ex->err, LK_EDATA, "invalid JSON in the %s response near byte %zu", ex->body->name,
                 ex->bytes_before_chunk + yajl_get_bytes_consumed(ex->parser));
    lk_error_detail(ex->err, "%s", message ? (const char *)message : "parse error");
    if (message)
        yajl_free_error(ex->parser, message);
    ex->rc = LK_EDATA;
    return LK_EDATA;
}

int extract_feed(struct extract *ex, const char *chunk, size_t len, struct lk_error *err)
{
    int rc;

    ex->err = err;
    if (ex->rc != 0)
        return ex->rc;
    rc = check_token_lengths(ex, chunk, len);
    if (rc != 0) {
        ex->rc = rc;
        return rc;
    }
    if (yajl_parse(ex->parser, (const unsigned char *)chunk, len) != yajl_status_ok)
        return parse_error(ex);
    ex->bytes_before_chunk += len;
    return 0;
}

int extract_finish(struct extract *ex, struct lk_error *err)
{
    ex->err = err;
    if (ex->rc != 0)
        return ex->rc;
    if (yajl_complete_parse(ex->parser) != yajl_status_ok)
        return parse_error(ex);
    if (ex->records == 0 && ex->body->needs_record) {
        lk_error_set(err, LK_EDATA, "%s response for session %s is empty", ex->body->name,
                     ex->session_id);
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
        extract_builder_reset(&ex->builders[i]);
        if (ex->builders[i].extra)
            yajl_gen_free(ex->builders[i].extra);
    }
    for (int i = 0; i < ex->frame_count; i++)
        free(ex->frames[i].key);
    free(ex->frames);
    extract_drop_connections(ex);
    free(ex->connections);
    extract_capture_reset(&ex->cap);
    if (ex->nested_extra)
        yajl_gen_free(ex->nested_extra);
    if (ex->scratch)
        yajl_gen_free(ex->scratch);
    free(ex->session_id);
    free(ex);
}
