/* api.h -- the LiveKit Cloud Analytics API: its URLs, its bearer token, what its answers mean.
 *
 * A request names what to fetch (struct api_request); api builds the URL (every variable
 * part escaped, never truncated), mints the bearer token and queues the GET on its http
 * handle. When the transfer ends, api_verdict reads the response through the one table of
 * HTTP statuses: 2xx is success, some statuses are worth a retry, some end the request and
 * a few end the whole run (no other request could succeed); a TLS failure that cannot heal
 * ends the project's requests. Callers see requests, bodies
 * and verdicts only, so another upstream source could sit beside this one.
 */
#ifndef LK_API_H
#define LK_API_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

struct config;
struct lk_error;
struct api;

/* The API serves the sessions of the last API_WINDOW_DAYS UTC days, today included. */
#define API_WINDOW_DAYS 7

enum api_kind {
    API_LIST,   /* one page of a day's session list */
    API_DETAILS /* one session's details */
};

struct api_request {
    enum api_kind kind;
    const char *project;    /* "p_..." */
    const char *day;        /* API_LIST: "YYYY-MM-DD", used as start and end */
    long long page;         /* API_LIST: page index, from 0 */
    int limit;              /* API_LIST: sessions per page */
    const char *session_id; /* API_DETAILS */
};

/* cfg (base URL, credentials, time-outs, max_concurrency) is borrowed and must outlive the
 * handle. On success the caller owns *out (api_free). Returns 0, LK_ECONFIG or LK_ENOMEM. */
int api_new(struct api **out, const struct config *cfg, struct lk_error *err);

/* Abort running requests, free, zero the token. NULL is a no-op. Cannot fail. */
void api_free(struct api *api);

/* The URL of req below base_url, into *out (the caller frees it). Returns 0 or LK_ENOMEM. */
int api_url(char **out, const char *base_url, const struct api_request *req, struct lk_error *err);

/* Queue req (read during the call only: the URL is built from it). on_body gets each piece of a 2xx
 * body, on_done the end (pass its rc and response to api_verdict); both get ctx. Returns 0, or
 * LK_ENOMEM or LK_ECONFIG (no token could be minted): nothing was queued. */
int api_start(struct api *api, const struct api_request *req, http_body_fn on_body,
              http_done_fn on_done, void *ctx, struct lk_error *err);

/* Drive the queued requests for at most timeout_ms (see http_poll). Returns how many run. */
int api_poll(struct api *api, int timeout_ms);

/* Abort every running request without calling on_done. Cannot fail. */
void api_cancel_all(struct api *api);

/* Requests sent since api_new. */
unsigned long api_request_count(const struct api *api);

/* How far a failed request's verdict reaches. */
enum api_stop {
    API_STOP_REQUEST, /* this request only: retried or failed, the others go on */
    API_STOP_PROJECT, /* no other request of the project can succeed either: its URL's TLS
                         cannot be trusted or spoken (http.h, resp->permanent) */
    API_STOP_RUN      /* no other request of the run can succeed (credentials, plan, project) */
};

/* What a finished request of req means. rc and resp are on_done's. Returns 0 for a complete
 * 2xx response; rc itself when the transfer or the body function failed (err already says
 * why); else LK_ERETRY (worth another attempt) or LK_EAPI, with err naming req, the status
 * and what to check. *stop_out (may be NULL): how far the failure reaches (no retry unless
 * API_STOP_REQUEST), whatever rc is. */
int api_verdict(const struct api_request *req, int rc, const struct http_response *resp,
                enum api_stop *stop_out, struct lk_error *err);

/* "list page 3 (limit 100)" or "details of session RM_x", for messages. Cannot fail. */
void api_describe(const struct api_request *req, char *out, size_t size);

/* One blocking list request for `check`: page 0, limit 1, start = end = day. Returns 0 when
 * the API accepted it, or the code api_verdict gives. */
int api_probe(struct api *api, const char *project, const char *day, struct lk_error *err);

#endif
