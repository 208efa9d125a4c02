/* http.h -- GET requests through libcurl, the body streamed chunk by chunk to a callback.
 *
 * One struct http wraps one libcurl easy handle, so connections (and TLS sessions) are
 * reused across requests. A 2xx body goes straight from libcurl's write callback to the
 * caller's body function (content decoding, e.g. gzip, is done by libcurl); other bodies
 * are kept, capped, for the error message. The bearer token is only ever put in a header.
 */
#ifndef LK_HTTP_H
#define LK_HTTP_H

#include <stddef.h>

struct lk_error;
struct http;

struct http_options {
    long connect_timeout_s; /* connection set-up */
    long request_timeout_s; /* whole transfer */
};

/* Receives one chunk of a 2xx body. Return 0 to go on, or a negative LK_E* code (err
 * filled) to abort the transfer; http_get then returns that code. */
typedef int (*http_body_fn)(void *ctx, const char *data, size_t len, struct lk_error *err);

struct http_response {
    long status;           /* HTTP status, 0 if none arrived */
    long retry_after_s;    /* Retry-After in seconds, -1 when absent */
    char error_body[512];  /* start of a non-2xx body, NUL-terminated */
    size_t body_bytes;     /* bytes delivered to the body function (decoded) */
};

/* On success the caller owns *out (http_free). Returns 0 or LK_ENOMEM. */
int http_new(struct http **out, const struct http_options *options, struct lk_error *err);

/* GET url with "Authorization: Bearer <bearer>". Returns 0 when a response arrived
 * completely (whatever its status: check resp->status), LK_ERETRY for a transport failure
 * (connect error, time-out, body cut short, bad encoding), or the body function's code. */
int http_get(struct http *h, const char *url, const char *bearer, http_body_fn on_body, void *ctx,
             struct http_response *resp, struct lk_error *err);

/* Count of requests sent since http_new. */
unsigned long http_request_count(const struct http *h);

/* NULL is a no-op. Cannot fail. */
void http_free(struct http *h);

#endif
