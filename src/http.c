/* http.c -- libcurl easy handle, reused; see http.h.
 *
 * Flow: http_get sets the URL and headers, then libcurl calls on_write with each decoded
 * piece of the body. The first call reads the status code: a 2xx piece goes to the caller's
 * body function, anything else into a small capped buffer for the error message. Nothing
 * here holds a whole body. The Authorization header lives in a curl_slist freed after the
 * request; verbose output is never turned on, so the token cannot reach a log.
 */
#include "http.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"

struct http {
    CURL *curl;
    unsigned long requests;
};

struct transfer {
    CURL *curl;
    http_body_fn on_body;
    void *ctx;
    struct http_response *resp;
    struct lk_error *err;
    int body_rc; /* the body function's error, when it aborted */
    size_t error_len;
};

int http_new(struct http **out, const struct http_options *options, struct lk_error *err)
{
    struct http *h = calloc(1, sizeof *h);
    int rc = LK_ENOMEM;

    *out = NULL;
    if (h == NULL || (h->curl = curl_easy_init()) == NULL)
        goto done;
    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, options->connect_timeout_s);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, options->request_timeout_s);
    /* "" asks for every encoding this libcurl decodes (gzip, deflate, br, zstd). */
    curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "lkarchive/" LK_VERSION);
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
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

    if (t->resp->status == 0) {
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
        t->resp->status = status;
    }
    if (t->resp->status >= 200 && t->resp->status < 300) {
        t->resp->body_bytes += len;
        t->body_rc = t->on_body(t->ctx, data, len, t->err);
        return t->body_rc == 0 ? len : 0; /* 0 makes libcurl abort with CURLE_WRITE_ERROR */
    }
    if (t->error_len + 1 < sizeof t->resp->error_body) {
        size_t room = sizeof t->resp->error_body - 1 - t->error_len;
        size_t take = len < room ? len : room;
        memcpy(t->resp->error_body + t->error_len, data, take);
        t->error_len += take;
        t->resp->error_body[t->error_len] = '\0';
    }
    return len;
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    struct transfer *t = userdata;
    size_t len = size * count;
    static const char name[] = "retry-after:";

    if (len > sizeof name && strncasecmp(data, name, sizeof name - 1) == 0) {
        char value[32];
        size_t value_len = len - (sizeof name - 1);
        if (value_len >= sizeof value)
            value_len = sizeof value - 1;
        memcpy(value, data + sizeof name - 1, value_len);
        value[value_len] = '\0';
        /* delta-seconds only; an HTTP date counts as absent (the caller backs off anyway) */
        char *end;
        long seconds = strtol(value, &end, 10);
        if (end != value && seconds >= 0)
            t->resp->retry_after_s = seconds;
    } else if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        t->resp->retry_after_s = -1; /* a new response (after 100-continue, say) */
    }
    return len;
}

int http_get(struct http *h, const char *url, const char *bearer, http_body_fn on_body, void *ctx,
             struct http_response *resp, struct lk_error *err)
{
    struct transfer t = {h->curl, on_body, ctx, resp, err, 0, 0};
    struct curl_slist *headers = NULL;
    char *auth = NULL;
    size_t auth_len = strlen(bearer) + sizeof "Authorization: Bearer ";
    CURLcode code;
    int rc = LK_ENOMEM;

    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    auth = malloc(auth_len);
    if (auth == NULL)
        goto done;
    snprintf(auth, auth_len, "Authorization: Bearer %s", bearer);
    headers = curl_slist_append(NULL, auth);
    if (headers == NULL || (headers = curl_slist_append(headers, "Accept: application/json")) == NULL)
        goto done;
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &t);
    h->requests++;
    code = curl_easy_perform(h->curl);
    if (resp->status == 0)
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (code == CURLE_WRITE_ERROR && t.body_rc != 0) {
        rc = t.body_rc; /* the body function said why */
        goto done;
    }
    if (code != CURLE_OK) {
        rc = LK_ERETRY;
        lk_error_set(err, rc, "request failed: %s", curl_easy_strerror(code));
        goto done;
    }
    rc = 0;
done:
    if (rc == LK_ENOMEM)
        lk_error_set(err, rc, "out of memory building a request");
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    if (auth) {
        memset(auth, 0, auth_len);
        free(auth);
    }
    return rc;
}

unsigned long http_request_count(const struct http *h)
{
    return h->requests;
}

void http_free(struct http *h)
{
    if (h == NULL)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    free(h);
}
