/* http.h -- GET requests through libcurl's multi interface, bodies streamed to callbacks.
 *
 * One struct http holds a libcurl multi handle: its connection cache is shared by every
 * transfer, so connections (and TLS sessions) are reused, and HTTP/2 streams are multiplexed
 * on one connection when the server offers it. Transfers run concurrently, driven by
 * http_poll; each 2xx body goes straight from libcurl's write callback to the transfer's body
 * function (content decoding, e.g. gzip, is done by libcurl), other bodies are kept, capped,
 * for the error message. The bearer token is only ever put in a header, never logged.
 * TLS trusts ca_file when one is given (curl's --cacert), else the system store; a proxy
 * comes from the environment as libcurl reads it (HTTPS_PROXY, NO_PROXY): the request goes
 * through a CONNECT tunnel, so the proxy sees the TLS bytes only. A plain http:// request
 * never uses a proxy (unless proxy_plain_http): http_proxy would read its bearer token. A transport
 * failure that no retry can heal (a certificate not trusted, a name mismatch, a protocol refused)
 * is told apart from a transient one.
 */
#ifndef LK_HTTP_H
#define LK_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct lk_error;
struct http;

struct http_options {
    long connect_timeout_s; /* connection set-up */
    long request_timeout_s; /* whole transfer */
    int max_connections;    /* per host; also the cap on concurrent transfers */
    const char *ca_file;    /* PEM bundle of the CAs to trust, NULL: the system store;
                               borrowed, must outlive the handle */
    const char *ca_source;  /* what named ca_file ("ca_file", "LKARCHIVE_CA_FILE"), for
                               messages; NULL when ca_file is NULL */
    bool proxy_plain_http;  /* an http:// request may go through a proxy (allow_insecure_http);
                               otherwise it never does: the proxy would read the token */
    bool http2;             /* https: HTTP/2 (ALPN, multiplexed on one connection); false:
                               HTTP/1.1, a connection per transfer in flight */
};

/* Receives one chunk of a 2xx body. Return 0 to go on, or a negative LK_E* code (err
 * filled) to abort the transfer; the transfer then completes with that code. */
typedef int (*http_body_fn)(void *ctx, const char *data, size_t len, struct lk_error *err);

struct http_response {
    long status;        /* HTTP status, 0 if none arrived */
    long retry_after_s; /* Retry-After in seconds, -1 when absent */
    /* rate-limit headers (RateLimit-*, X-RateLimit-*, RateLimit-Policy), -1 when absent */
    long ratelimit_limit;     /* requests allowed per window */
    long ratelimit_remaining; /* requests left in this window */
    long ratelimit_reset_s;   /* seconds until it resets (an epoch time made relative) */
    long ratelimit_window_s;  /* the window's length (a policy's w=) */
    bool timed_out;           /* the transfer hit the time-out */
    bool permanent;           /* a transport failure no retry can heal (TLS trust, name,
                                 protocol): the done rc is LK_EAPI */
    char error_body[512];     /* start of a non-2xx body, NUL-terminated */
    size_t body_bytes;        /* bytes delivered to the body function (decoded) */
};

/* A transfer finished. rc: 0 when a response arrived completely (whatever its status: check
 * resp->status), LK_ERETRY for a transport failure (connect error, time-out, body cut short,
 * bad encoding; err says which), LK_EAPI with resp->permanent for one that cannot heal (the
 * server's certificate not trusted or not for this host, a TLS protocol or cipher refused, an
 * unreadable CA file: err names the URL, the reason and the fix), or the body function's
 * code. resp and err are borrowed for the call. */
typedef void (*http_done_fn)(void *ctx, int rc, const struct http_response *resp,
                             struct lk_error *err);

/* On success the caller owns *out (http_free). Returns 0 or LK_ENOMEM. */
int http_new(struct http **out, const struct http_options *options, struct lk_error *err);

/* Queue a GET of url with "Authorization: Bearer <bearer>" (copied). on_body and on_done
 * get ctx. Returns 0, or LK_ENOMEM (nothing queued). */
int http_start(struct http *h, const char *url, const char *bearer, http_body_fn on_body,
               http_done_fn on_done, void *ctx, struct lk_error *err);

/* Drive the transfers for at most timeout_ms, calling on_done for each that finished.
 * Returns the number still running (>= 0). */
int http_poll(struct http *h, int timeout_ms);

/* Abort every running transfer without calling on_done. Cannot fail. */
void http_cancel_all(struct http *h);

/* One blocking GET (http_start + http_poll until done): same results as http_done_fn. */
int http_get(struct http *h, const char *url, const char *bearer, http_body_fn on_body, void *ctx,
             struct http_response *resp, struct lk_error *err);

/* Count of requests sent since http_new. */
unsigned long http_request_count(const struct http *h);

/* NULL is a no-op (running transfers are aborted). Cannot fail. */
void http_free(struct http *h);

#endif
