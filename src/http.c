/* http.c -- libcurl multi handle with reusable easy handles; see http.h.
 *
 * Flow: http_start takes an idle easy handle (or makes one), sets URL and headers, and adds
 * it to the multi handle. http_poll runs curl_multi_perform/curl_multi_poll (waits in 10 ms
 * slices, for libcurl 7.88's HTTP/2: see http_poll); libcurl calls
 * on_write with each decoded piece of a body. The first piece reads the status code: a 2xx
 * piece goes to the transfer's body function, anything else into a small capped buffer for
 * the error message. When libcurl reports a transfer done, on_done gets the outcome and the
 * easy handle returns to the idle list (its connection stays in the multi's cache). Nothing
 * here holds a whole body. Verbose output is never turned on, so the token cannot reach a log.
 * A failed transfer is classified by its CURLcode (and, for a TLS handshake, by what the TLS
 * library said): permanent failures (trust, name, protocol) are LK_EAPI with the fix, the
 * rest LK_ERETRY.
 */
#include "http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "error.h"
#include "redact.h"
#include "secret.h"

#define POLL_SLICE_MS 10

struct transfer {
    struct http *h;
    CURL *curl;
    struct curl_slist *headers;
    char *auth;
    size_t auth_len;
    http_body_fn on_body;
    http_done_fn on_done;
    void *ctx;
    struct http_response resp;
    struct lk_error err;
    int body_rc; /* the body function's error, when it aborted */
    size_t error_len;
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's words for a failure (no token: never verbose) */
    bool active;
    struct transfer *next_idle;
};

struct http {
    CURLM *multi;
    struct http_options options;
    struct transfer *idle;
    struct transfer **all; /* every transfer ever made, for http_free */
    size_t all_count, all_capacity;
    unsigned long requests;
};

int http_new(struct http **out, const struct http_options *options, struct lk_error *err)
{
    struct http *h = calloc(1, sizeof *h);
    int rc = LK_ENOMEM;

    *out = NULL;
    if (h == NULL || (h->multi = curl_multi_init()) == NULL)
        goto done;
    h->options = *options;
    if (h->options.max_connections < 1)
        h->options.max_connections = 1;
    /* HTTP/2 multiplexing when the server offers it; at most max_connections per host */
    curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)h->options.max_connections);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->options.max_connections + 2);
    *out = h;
    h = NULL;
    rc = 0;
done:
    if (rc != 0)
        lk_error_set(err, rc, "could not set up libcurl");
    http_free(h);
    return rc;
}

static size_t on_write(char *data, size_t size, size_t count, void *userdata)
{
    struct transfer *t = userdata;
    size_t len = size * count;
    long status = 0;

    if (t->resp.status == 0) {
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
        t->resp.status = status;
    }
    if (t->resp.status >= 200 && t->resp.status < 300) {
        t->resp.body_bytes += len;
        t->body_rc = t->on_body(t->ctx, data, len, &t->err);
        return t->body_rc == 0 ? len : 0; /* 0 makes libcurl abort with CURLE_WRITE_ERROR */
    }
    if (t->error_len + 1 < sizeof t->resp.error_body) {
        size_t room = sizeof t->resp.error_body - 1 - t->error_len;
        size_t take = len < room ? len : room;
        memcpy(t->resp.error_body + t->error_len, data, take);
        t->error_len += take;
        t->resp.error_body[t->error_len] = '\0';
    }
    return len;
}

/* The number a header value gives: after "key=" when the value holds one (structured
 * fields, as `"default";r=50;t=30`), else its leading integer; -1 when there is none. */
static long header_number(const char *value, const char *key)
{
    const char *at = value;
    char *end;
    long number;

    if (key) {
        size_t key_len = strlen(key);
        for (at = value; (at = strstr(at, key)) != NULL; at += key_len)
            if (at[key_len] == '=' && (at == value || strchr(" ;,\t", at[-1])))
                break;
        if (at == NULL)
            return -1;
        at += key_len + 1;
    }
    while (*at == ' ' || *at == '\t')
        at++;
    number = strtol(at, &end, 10);
    return end != at && number >= 0 ? number : -1;
}

/* Reset as seconds from now: a value beyond a day is a Unix time (X-RateLimit-Reset of some
 * APIs); one in the past is 0. */
static long reset_seconds(long value)
{
    long long now;

    if (value <= 86400)
        return value;
    now = (long long)time(NULL);
    return value > now ? (long)(value - now) : 0;
}

/* One header line: Retry-After and the rate-limit headers, IETF drafts and X- forms alike. */
static void read_header(struct http_response *resp, const char *name, const char *value)
{
    const char *rl = strncasecmp(name, "x-", 2) == 0 ? name + 2 : name;
    long number;

    if (strcasecmp(name, "retry-after") == 0) {
        /* delta-seconds only; an HTTP date counts as absent (the caller backs off anyway) */
        resp->retry_after_s = header_number(value, NULL);
    } else if (strcasecmp(rl, "ratelimit-limit") == 0) {
        resp->ratelimit_limit = header_number(value, strchr(value, '=') ? "q" : NULL);
        if ((number = header_number(value, "w")) > 0)
            resp->ratelimit_window_s = number;
    } else if (strcasecmp(rl, "ratelimit-remaining") == 0) {
        resp->ratelimit_remaining = header_number(value, NULL);
    } else if (strcasecmp(rl, "ratelimit-reset") == 0) {
        if ((number = header_number(value, NULL)) >= 0)
            resp->ratelimit_reset_s = reset_seconds(number);
    } else if (strcasecmp(rl, "ratelimit-policy") == 0) {
        if ((number = header_number(value, "q")) > 0)
            resp->ratelimit_limit = number;
        if ((number = header_number(value, "w")) > 0)
            resp->ratelimit_window_s = number;
    } else if (strcasecmp(rl, "ratelimit") == 0) {
        resp->ratelimit_remaining = header_number(value, "r");
        if ((number = header_number(value, "t")) >= 0)
            resp->ratelimit_reset_s = reset_seconds(number);
    }
}

/* Forget what an earlier response's headers said (after 100-continue, say). */
static void reset_headers(struct http_response *resp)
{
    resp->retry_after_s = -1;
    resp->ratelimit_limit = resp->ratelimit_remaining = -1;
    resp->ratelimit_reset_s = resp->ratelimit_window_s = -1;
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    struct transfer *t = userdata;
    size_t len = size * count;
    const char *colon = memchr(data, ':', len);
    char name[40], value[128];
    size_t name_len, value_len;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        reset_headers(&t->resp);
        t->resp.status = 0;
        return len;
    }
    name_len = colon ? (size_t)(colon - data) : 0;
    if (colon == NULL || name_len >= sizeof name)
        return len;
    memcpy(name, data, name_len);
    name[name_len] = '\0';
    value_len = len - name_len - 1;
    if (value_len >= sizeof value)
        value_len = sizeof value - 1;
    memcpy(value, colon + 1, value_len);
    value[value_len] = '\0';
    value[strcspn(value, "\r\n")] = '\0';
    read_header(&t->resp, name, value);
    return len;
}

static struct transfer *take_transfer(struct http *h)
{
    struct transfer *t = h->idle;

    if (t) {
        h->idle = t->next_idle;
        return t;
    }
    if (h->all_count == h->all_capacity) {
        size_t capacity = h->all_capacity ? h->all_capacity * 2 : 16;
        struct transfer **grown = realloc(h->all, capacity * sizeof *grown);
        if (grown == NULL)
            return NULL;
        h->all = grown;
        h->all_capacity = capacity;
    }
    t = calloc(1, sizeof *t);
    if (t == NULL || (t->curl = curl_easy_init()) == NULL) {
        free(t);
        return NULL;
    }
    t->h = h;
    curl_easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT, h->options.connect_timeout_s);
    curl_easy_setopt(t->curl, CURLOPT_TIMEOUT, h->options.request_timeout_s);
    /* "" asks for every encoding this libcurl decodes (gzip, deflate, br, zstd). */
    curl_easy_setopt(t->curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(t->curl, CURLOPT_USERAGENT, "lkarchive/" LK_VERSION);
    curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(t->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    /* ids are escaped into one path segment (api.c): never squash dot segments either */
    curl_easy_setopt(t->curl, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(t->curl, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(t->curl, CURLOPT_PRIVATE, t);
    curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, t->errbuf);
    /* HTTP/1.1 even where TLS could negotiate HTTP/2 (the http2 key): libcurl 7.88's HTTP/2
     * costs more CPU per request than HTTP/1.1 over TLS (tests/bench/RESULTS.md), and some
     * middleboxes break it */
    if (!h->options.http2)
        curl_easy_setopt(t->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    if (h->options.ca_file) /* instead of the system store, as curl's --cacert */
        curl_easy_setopt(t->curl, CURLOPT_CAINFO, h->options.ca_file);
    h->all[h->all_count++] = t;
    return t;
}

/* Forget the request's headers and token; the handle goes back to the idle list. */
static void release_transfer(struct http *h, struct transfer *t)
{
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, NULL);
    /* the list holds its own copy of the Authorization header: wipe it too */
    for (struct curl_slist *header = t->headers; header; header = header->next)
        secret_wipe(header->data, strlen(header->data));
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    secret_free_n(t->auth, t->auth_len);
    t->auth = NULL;
    t->active = false;
    t->next_idle = h->idle;
    h->idle = t;
}

int http_start(struct http *h, const char *url, const char *bearer, http_body_fn on_body,
               http_done_fn on_done, void *ctx, struct lk_error *err)
{
    struct transfer *t = take_transfer(h);
    struct curl_slist *with_accept;

    if (t == NULL)
        goto oom;
    t->on_body = on_body;
    t->on_done = on_done;
    t->ctx = ctx;
    memset(&t->resp, 0, sizeof t->resp);
    reset_headers(&t->resp);
    lk_error_init(&t->err);
    t->body_rc = 0;
    t->error_len = 0;
    t->errbuf[0] = '\0';
    t->auth_len = strlen(bearer) + sizeof "Authorization: Bearer ";
    t->auth = malloc(t->auth_len);
    if (t->auth == NULL)
        goto release;
    snprintf(t->auth, t->auth_len, "Authorization: Bearer %s", bearer);
    t->headers = curl_slist_append(NULL, t->auth);
    if (t->headers == NULL)
        goto release;
    with_accept = curl_slist_append(t->headers, "Accept: application/json");
    if (with_accept == NULL)
        goto release;
    t->headers = with_accept;
    curl_easy_setopt(t->curl, CURLOPT_URL, url);
    /* waiting for a multiplexed stream pays only where HTTP/2 can be negotiated (TLS, ALPN);
     * over HTTP/1.1 one long response would hold back the requests queued behind it */
    curl_easy_setopt(t->curl, CURLOPT_PIPEWAIT,
                     h->options.http2 && strncmp(url, "https://", 8) == 0 ? 1L : 0L);
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, t->headers);
    /* "" switches the environment's proxy off for this request, NULL gives it back */
    curl_easy_setopt(t->curl, CURLOPT_PROXY,
                     strncasecmp(url, "http://", 7) == 0 && !h->options.proxy_plain_http ? ""
                                                                                         : NULL);
    if (curl_multi_add_handle(h->multi, t->curl) != CURLM_OK)
        goto release;
    t->active = true;
    h->requests++;
    return 0;
release:
    release_transfer(h, t);
oom:
    lk_error_set(err, LK_ENOMEM, "out of memory starting a request");
    return LK_ENOMEM;
}

/* Whether a TLS handshake failure (CURLE_SSL_CONNECT_ERROR) is the server refusing what we
 * speak, by the TLS library's words: a protocol version or cipher refused, or no TLS at all
 * (an http:// server behind an https:// URL). Anything else there (a reset or an early EOF
 * during the handshake) may be a restart or an overloaded server: worth a retry. */
static bool handshake_refused(const char *said)
{
    static const char *const refusals[] = {"alert protocol version",
                                           "unsupported protocol",
                                           "wrong version number",
                                           "no protocols available",
                                           "handshake failure",
                                           "no shared cipher",
                                           "no cipher",
                                           "alert illegal parameter",
                                           "unknown protocol"};

    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
        if (strstr(said, refusals[i]))
            return true;
    return false;
}

/* Whether lkarchive's own setting named the CA file (not curl's CURL_CA_BUNDLE or
 * SSL_CERT_FILE, which a user may not know are read). */
static bool own_ca_file(const struct http *h)
{
    const char *source = h->options.ca_source;
    return source && (strcmp(source, "ca_file") == 0 || strcmp(source, "LKARCHIVE_CA_FILE") == 0);
}

/* What a permanent transport failure needs from the user, or NULL when code may heal. */
static const char *permanent_fix(const struct http *h, CURLcode code, const char *said)
{
    switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION: /* not trusted, expired, or not for this host name */
        if (strstr(said, "subject name") || strstr(said, "does not match"))
            return "the server's certificate does not name the base URL's host: write the host "
                   "name it was issued for in base_url (LIVEKIT_ANALYTICS_URL)";
        /* fall through */
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ISSUER_ERROR:
        return own_ca_file(h)
                   ? "check that the CA file holds the CA that signed the server's certificate, "
                     "and that the base URL's host name is one the certificate names"
                   : "if the server's CA is not among those trusted (your own server, a "
                     "TLS-inspecting proxy), set ca_file (or LKARCHIVE_CA_FILE) to a PEM "
                     "bundle holding it; check that the base URL's host name is one the "
                     "certificate names";
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
        return "set ca_file (or LKARCHIVE_CA_FILE) to a readable PEM bundle of CA certificates";
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "the server and lkarchive share no TLS protocol or cipher, or the server asks "
               "for what lkarchive does not send; check the base URL";
    case CURLE_SSL_CONNECT_ERROR:
        return handshake_refused(said)
                   ? "the server refused the TLS handshake (protocol version or cipher), or does "
                     "not speak TLS on this port: check the base URL (https:// and its port)"
                   : NULL;
    default:
        return NULL;
    }
}

/* A transfer failed in transport: t->err names the URL and libcurl's reason; returns
 * LK_EAPI (t->resp.permanent) when no retry can heal it, else LK_ERETRY. */
static int transport_failed(const struct http *h, struct transfer *t, CURLcode code)
{
    char *url = NULL, shown[400];
    const char *fix = permanent_fix(h, code, t->errbuf);
    int rc = fix ? LK_EAPI : LK_ERETRY;

    t->resp.timed_out = code == CURLE_OPERATION_TIMEDOUT;
    t->resp.permanent = fix != NULL;
    curl_easy_getinfo(t->curl, CURLINFO_EFFECTIVE_URL, &url);
    /* the TLS library's words name the cause (an unknown issuer, a name mismatch); a
     * transient failure keeps libcurl's short reason, which retries are grouped by */
    lk_error_set(&t->err, rc, "request to %s failed: %s%s%s",
                 url ? redact_text(shown, sizeof shown, url, NULL) : "the API",
                 curl_easy_strerror(code), fix && t->errbuf[0] ? ": " : "", fix ? t->errbuf : "");
    if (fix && h->options.ca_file)
        lk_error_detail(&t->err, "%s (the CAs trusted now: %s %s)", fix,
                        h->options.ca_source ? h->options.ca_source : "ca_file",
                        h->options.ca_file);
    else if (fix)
        lk_error_detail(&t->err, "%s (the CAs trusted now: the system store)", fix);
    return rc;
}

static void finish(struct http *h, CURLMsg *msg)
{
    struct transfer *t = NULL;
    CURLcode code = msg->data.result;
    int rc = 0;

    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    curl_multi_remove_handle(h->multi, t->curl);
    if (t->resp.status == 0)
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->resp.status);
    if (code == CURLE_WRITE_ERROR && t->body_rc != 0)
        rc = t->body_rc; /* the body function said why, in t->err */
    else if (code != CURLE_OK)
        rc = transport_failed(h, t, code);
    /* an error body that echoes the request must not carry its token on (logs, `check`) */
    if (t->resp.error_body[0]) {
        char clean[sizeof t->resp.error_body];
        const char *bearer = t->auth ? t->auth + sizeof "Authorization: Bearer " - 1 : NULL;
        redact_tokens(clean, sizeof clean, t->resp.error_body, bearer);
        memcpy(t->resp.error_body, clean, sizeof clean);
    }
    /* release first: on_done may start the next request on this very handle */
    {
        http_done_fn on_done = t->on_done;
        void *ctx = t->ctx;
        struct http_response resp = t->resp;
        struct lk_error err = t->err;
        release_transfer(h, t);
        on_done(ctx, rc, &resp, &err);
    }
}

/* Runs libcurl and hands every finished transfer to finish; how many finished. */
static int perform_and_finish(struct http *h, int *running)
{
    int queued, finished = 0;
    CURLMsg *msg;

    curl_multi_perform(h->multi, running);
    while ((msg = curl_multi_info_read(h->multi, &queued)) != NULL)
        if (msg->msg == CURLMSG_DONE) {
            finish(h, msg);
            finished++;
        }
    return finished;
}

/* The wait runs in slices of POLL_SLICE_MS with libcurl run after each: libcurl 7.88's HTTP/2
 * can read a multiplexed stream's data off the socket and leave it undelivered until the next
 * curl_multi_perform, and then nothing on the socket ends the poll (seen as 1 s stalls, twice
 * the wall time of a first load over HTTP/2; tests/bench/RESULTS.md, "HTTP/2 on one
 * connection"). At most timeout_ms in all (a slice can end early); the caller's scheduler
 * keeps its own clock and calls again. */
int http_poll(struct http *h, int timeout_ms)
{
    int running = 0, finished = perform_and_finish(h, &running);

    for (int waited = 0; running > 0 && finished == 0 && waited < timeout_ms;
         waited += POLL_SLICE_MS) {
        int left = timeout_ms - waited;
        curl_multi_poll(h->multi, NULL, 0, left < POLL_SLICE_MS ? left : POLL_SLICE_MS, NULL);
        finished = perform_and_finish(h, &running);
    }
    running = 0;
    for (size_t i = 0; i < h->all_count; i++)
        running += h->all[i]->active;
    return running;
}

void http_cancel_all(struct http *h)
{
    for (size_t i = 0; i < h->all_count; i++) {
        struct transfer *t = h->all[i];
        if (t->active) {
            curl_multi_remove_handle(h->multi, t->curl);
            release_transfer(h, t);
        }
    }
}

/* http_get: one transfer whose ctx is this record; the caller's body function is called
 * through it. */
struct blocking {
    http_body_fn on_body;
    void *body_ctx;
    bool done;
    int rc;
    struct http_response *resp;
    struct lk_error *err;
};

static int blocking_body(void *ctx, const char *data, size_t len, struct lk_error *err)
{
    struct blocking *b = ctx;
    return b->on_body(b->body_ctx, data, len, err);
}

static void blocking_done(void *ctx, int rc, const struct http_response *resp, struct lk_error *err)
{
    struct blocking *b = ctx;
    b->done = true;
    b->rc = rc;
    *b->resp = *resp;
    if (rc != 0)
        *b->err = *err;
}

int http_get(struct http *h, const char *url, const char *bearer, http_body_fn on_body, void *ctx,
             struct http_response *resp, struct lk_error *err)
{
    struct blocking b = {on_body, ctx, false, 0, resp, err};
    int rc = http_start(h, url, bearer, blocking_body, blocking_done, &b, err);

    if (rc != 0)
        return rc;
    while (!b.done)
        http_poll(h, 1000);
    return b.rc;
}

unsigned long http_request_count(const struct http *h)
{
    return h->requests;
}

void http_free(struct http *h)
{
    if (h == NULL)
        return;
    http_cancel_all(h);
    for (size_t i = 0; i < h->all_count; i++) {
        curl_easy_cleanup(h->all[i]->curl);
        free(h->all[i]);
    }
    free(h->all);
    if (h->multi)
        curl_multi_cleanup(h->multi);
    free(h);
}
