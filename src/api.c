/* api.c -- the LiveKit Cloud Analytics API's URLs, token and statuses; see api.h.
 *
 * URLs are formatted into a buffer sized by a first measuring pass, so a long base URL or
 * session id can never be cut short; project, day and session id are percent-escaped.
 * status_rules is the only place that says what an HTTP status means: its code, whether it
 * stops the run, and which words explain it.
 */
#include "api.h"

#include <assert.h>
#include <curl/curl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "error.h"
#include "token.h"

struct api {
    const char *base_url; /* borrowed from the config */
    const struct config *cfg;
    struct http *http;
    struct token **tokens; /* one per project of cfg (each signed with its own credentials) */
    size_t token_count;
    struct token *fallback; /* the top-level credentials' token (a project not in cfg), or NULL */
};

enum wording {
    SAY_NOTHING,
    SAY_CREDENTIALS,
    SAY_DENIED,
    SAY_NO_PROJECT,
    SAY_NO_SESSION,
    SAY_TRANSIENT,
    SAY_STATUS
};

/* Which requests a rule applies to. */
enum scope { FOR_ANY, FOR_LIST, FOR_DETAILS };

/* The first rule whose range holds the status and whose scope fits the request decides. */
static const struct status_rule {
    long low, high;
    enum scope scope;
    int code;
    bool refused; /* no retry and no other request of the run can succeed */
    enum wording wording;
} status_rules[] = {
    {200, 299, FOR_ANY, 0, false, SAY_NOTHING},
    {401, 401, FOR_ANY, LK_EAPI, true, SAY_CREDENTIALS},
    {403, 403, FOR_ANY, LK_EAPI, true, SAY_DENIED},          /* wrong project's key, or plan */
    {404, 404, FOR_LIST, LK_EAPI, true, SAY_NO_PROJECT},     /* the project does not exist */
    {404, 404, FOR_DETAILS, LK_EAPI, false, SAY_NO_SESSION}, /* the session is gone */
    {408, 408, FOR_ANY, LK_ERETRY, false, SAY_TRANSIENT},
    {429, 429, FOR_ANY, LK_ERETRY, false, SAY_TRANSIENT},
    {500, LONG_MAX, FOR_ANY, LK_ERETRY, false, SAY_TRANSIENT},
    {LONG_MIN, LONG_MAX, FOR_ANY, LK_EAPI, false, SAY_STATUS},
};

/* One token per project, from its own credentials or the top-level ones. */
static int new_tokens(struct api *api, const struct config *cfg, struct lk_error *err)
{
    int rc = 0;

    if (cfg->api_key && cfg->api_secret)
        rc = token_new(&api->fallback, cfg->api_key, cfg->api_secret, cfg->token_ttl_s, err);
    api->tokens = calloc(cfg->project_count + 1, sizeof *api->tokens);
    if (rc == 0 && api->tokens == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        rc = LK_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < cfg->project_count; i++) {
        rc = token_new(&api->tokens[i], config_project_api_key(cfg, i),
                       config_project_api_secret(cfg, i), cfg->token_ttl_s, err);
        api->token_count = i + 1;
    }
    return rc;
}

/* The token for project's requests: its own, else the top-level one; NULL: none. */
static struct token *project_token(const struct api *api, const char *project)
{
    for (size_t i = 0; project && i < api->token_count; i++)
        if (strcmp(api->cfg->projects[i], project) == 0)
            return api->tokens[i];
    return api->fallback;
}

int api_new(struct api **out, const struct config *cfg, struct lk_error *err)
{
    struct http_options http_options = {.connect_timeout_s = cfg->connect_timeout_s,
                                        .request_timeout_s = cfg->request_timeout_s,
                                        .max_connections = cfg->max_concurrency,
                                        .ca_file = cfg->ca_file,
                                        .ca_source = cfg->ca_source,
                                        .proxy_plain_http = cfg->allow_insecure_http,
                                        .http2 = cfg->http2};
    struct api *api = calloc(1, sizeof *api);
    int rc = LK_ENOMEM;

    *out = NULL;
    if (api == NULL) {
        lk_error_set(err, rc, "out of memory");
        goto done;
    }
    api->base_url = cfg->base_url;
    api->cfg = cfg;
    rc = http_new(&api->http, &http_options, err);
    if (rc == 0)
        rc = new_tokens(api, cfg, err);
    if (rc == 0) {
        *out = api;
        api = NULL;
    }
done:
    api_free(api);
    return rc;
}

void api_free(struct api *api)
{
    if (api == NULL)
        return;
    http_free(api->http);
    for (size_t i = 0; i < api->token_count; i++)
        token_free(api->tokens[i]);
    free(api->tokens);
    token_free(api->fallback);
    free(api);
}

/* *out = the formatted text in a buffer of its exact size. Returns 0 or LK_ENOMEM. */
__attribute__((format(printf, 2, 3))) static int format_alloc(char **out, const char *fmt, ...)
{
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    *out = len < 0 ? NULL : malloc((size_t)len + 1);
    if (*out == NULL)
        return LK_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(*out, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return 0;
}

/* text percent-escaped into one path segment: curl_easy_escape keeps the unreserved
 * characters, dots too, so an id "." or ".." would be a dot segment that resolves to another
 * path (".." to the project's list); every dot is written %2E. NULL when out of memory. */
static char *escape_segment(const char *text)
{
    char *escaped = curl_easy_escape(NULL, text, 0), *out, *p, *w;
    size_t dots = 0;

    if (escaped == NULL)
        return NULL;
    for (p = escaped; *p; p++)
        dots += *p == '.';
    out = malloc(strlen(escaped) + 2 * dots + 1);
    for (p = escaped, w = out; out && *p; p++) {
        if (*p == '.') {
            memcpy(w, "%2E", 3);
            w += 3;
        } else {
            *w++ = *p;
        }
    }
    if (out)
        *w = '\0';
    curl_free(escaped);
    return out;
}

int api_url(char **out, const char *base_url, const struct api_request *req, struct lk_error *err)
{
    const char *last = req->kind == API_LIST ? req->day : req->session_id;
    char *project = escape_segment(req->project);
    char *tail = escape_segment(last); /* the day or the session id */
    int rc = LK_ENOMEM;

    *out = NULL;
    if (project == NULL || tail == NULL)
        goto done;
    if (req->kind == API_LIST)
        rc = format_alloc(out, "%s/api/project/%s/sessions?page=%lld&limit=%d&start=%s&end=%s",
                          base_url, project, req->page, req->limit, tail, tail);
    else
        rc = format_alloc(out, "%s/api/project/%s/sessions/%s", base_url, project, tail);
done:
    free(project);
    free(tail);
    if (rc != 0)
        lk_error_set(err, rc, "out of memory");
    return rc;
}

/* The URL and a fresh bearer token for req. On success the caller frees *url_out; the token
 * is borrowed from the project's token. */
static int prepare(struct api *api, const struct api_request *req, char **url_out,
                   const char **bearer_out, struct lk_error *err)
{
    struct token *token = project_token(api, req->project);
    int rc = api_url(url_out, api->base_url, req, err);

    if (rc != 0)
        return rc;
    if (token == NULL) {
        free(*url_out);
        *url_out = NULL;
        lk_error_set(err, LK_ECONFIG, "no API credentials for project %s", req->project);
        return LK_ECONFIG;
    }
    *bearer_out = token_get(token, time(NULL), err);
    if (*bearer_out != NULL)
        return 0;
    assert(err->code != 0); /* token_get fills err when it fails */
    free(*url_out);
    *url_out = NULL;
    return err->code;
}

int api_start(struct api *api, const struct api_request *req, http_body_fn on_body,
              http_done_fn on_done, void *ctx, struct lk_error *err)
{
    const char *bearer;
    char *url = NULL;
    int rc = prepare(api, req, &url, &bearer, err);

    if (rc == 0)
        rc = http_start(api->http, url, bearer, on_body, on_done, ctx, err);
    free(url);
    return rc;
}

int api_poll(struct api *api, int timeout_ms)
{
    return http_poll(api->http, timeout_ms);
}

void api_cancel_all(struct api *api)
{
    http_cancel_all(api->http);
}

unsigned long api_request_count(const struct api *api)
{
    return http_request_count(api->http);
}

void api_describe(const struct api_request *req, char *out, size_t size)
{
    if (req->kind == API_LIST)
        snprintf(out, size, "list page %lld (limit %d)", req->page, req->limit);
    else
        snprintf(out, size, "details of session %.128s", req->session_id);
}

static const struct status_rule *find_rule(enum api_kind kind, long status)
{
    enum scope scope = kind == API_LIST ? FOR_LIST : FOR_DETAILS;
    size_t i = 0;

    /* the last rule holds every status: the loop always ends on a rule */
    while (status < status_rules[i].low || status > status_rules[i].high ||
           (status_rules[i].scope != FOR_ANY && status_rules[i].scope != scope))
        i++;
    return &status_rules[i];
}

/* The words for a status the rule classified; err gets the rule's code. */
static void explain(const struct status_rule *rule, const struct api_request *req,
                    const struct http_response *resp, struct lk_error *err)
{
    const char *body = resp->error_body;
    char what[200];

    api_describe(req, what, sizeof what);
    switch (rule->wording) {
    case SAY_CREDENTIALS:
        lk_error_set(err, rule->code, "the API refused the credentials (HTTP 401) for %s", what);
        lk_error_detail(err, "check LIVEKIT_API_KEY / api_key and the API secret of project %s",
                        req->project);
        break;
    case SAY_DENIED:
        lk_error_set(err, rule->code, "the API denied access (HTTP 403) for %s", what);
        if (strstr(body, "Scale") || strstr(body, "plan"))
            lk_error_detail(err,
                            "the Analytics API needs a LiveKit Cloud Scale plan or higher; "
                            "the API said: %.200s",
                            body);
        else
            lk_error_detail(err,
                            "check that the API key belongs to project %s; the API said: %.200s",
                            req->project, body);
        break;
    case SAY_NO_PROJECT:
        lk_error_set(err, rule->code, "project not found (HTTP 404): %s of project %s", what,
                     req->project);
        lk_error_detail(err, "check the project id (LIVEKIT_PROJECT_ID / projects, \"p_...\" "
                             "from the dashboard URL) and the base URL");
        break;
    case SAY_NO_SESSION:
        lk_error_set(err, rule->code, "not found (HTTP 404): %s", what);
        lk_error_detail(err, "the API no longer knows this session");
        break;
    case SAY_TRANSIENT:
        lk_error_set(err, rule->code, "HTTP %ld for %s", resp->status, what);
        lk_error_detail(err, "%.200s", body);
        break;
    case SAY_NOTHING: /* a success: api_verdict never asks */
        break;
    case SAY_STATUS:
        lk_error_set(err, rule->code, "HTTP %ld for %s", resp->status, what);
        lk_error_detail(err, "%.300s", body);
        break;
    }
}

int api_verdict(const struct api_request *req, int rc, const struct http_response *resp,
                enum api_stop *stop_out, struct lk_error *err)
{
    const struct status_rule *rule = find_rule(req->kind, resp->status);

    if (stop_out)
        *stop_out = rule->refused     ? API_STOP_RUN
                    : resp->permanent ? API_STOP_PROJECT
                                      : API_STOP_REQUEST;
    if (rc != 0 || rule->code == 0)
        return rc;
    explain(rule, req, resp, err);
    return rule->code;
}

static int discard_body(void *ctx, const char *data, size_t len, struct lk_error *err)
{
    (void)ctx, (void)data, (void)len, (void)err;
    return 0;
}

int api_probe(struct api *api, const char *project, const char *day, struct lk_error *err)
{
    struct api_request req = {API_LIST, project, day, 0, 1, NULL};
    struct http_response resp = {0};
    const char *bearer;
    char *url = NULL;
    int rc = prepare(api, &req, &url, &bearer, err);

    if (rc == 0)
        rc = http_get(api->http, url, bearer, discard_body, NULL, &resp, err);
    if (rc == 0)
        rc = api_verdict(&req, rc, &resp, NULL, err);
    free(url);
    return rc;
}
