/* test_api.c -- unit tests for api.c: URL shapes and the table of HTTP statuses.
 *
 * No network: URLs are built and compared as text (escaped, never truncated), and
 * api_verdict is fed responses as http would report them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "error.h"
#include "http.h"

static const struct api_request list_req = {API_LIST, "p_abc", "2026-11-20", 3, 100, NULL};
static const struct api_request details_req = {API_DETAILS, "p_abc", "2026-11-20", 0, 0, "RM_x1"};

static char *url_of(const char *base, const struct api_request *req)
{
    struct lk_error err;
    char *url = NULL;

    lk_error_init(&err);
    assert_int_equal(api_url(&url, base, req, &err), 0);
    assert_non_null(url);
    return url;
}

static void api_builds_the_list_and_details_urls(void **state)
{
    char *url;

    (void)state;
    url = url_of("https://cloud-api.livekit.io", &list_req);
    assert_string_equal(url, "https://cloud-api.livekit.io/api/project/p_abc/sessions"
                             "?page=3&limit=100&start=2026-11-20&end=2026-11-20");
    free(url);
    url = url_of("http://127.0.0.1:8080", &details_req);
    assert_string_equal(url, "http://127.0.0.1:8080/api/project/p_abc/sessions/RM_x1");
    free(url);
}

static void api_escapes_the_variable_parts(void **state)
{
    struct api_request req = details_req;
    char *url;

    (void)state;
    req.project = "p/x y";
    req.session_id = "RM_a/b?c&d#e f";
    url = url_of("http://h", &req);
    assert_string_equal(url, "http://h/api/project/p%2Fx%20y/sessions/RM_a%2Fb%3Fc%26d%23e%20f");
    free(url);
}

static void api_keeps_dot_ids_in_one_segment(void **state)
{
    struct api_request req = details_req;
    char *url;

    (void)state;
    /* ".." would resolve to the project's list, "." to the sessions list */
    req.session_id = "..";
    url = url_of("http://h", &req);
    assert_string_equal(url, "http://h/api/project/p_abc/sessions/%2E%2E");
    free(url);
    req.session_id = ".";
    url = url_of("http://h", &req);
    assert_string_equal(url, "http://h/api/project/p_abc/sessions/%2E");
    free(url);
    req.session_id = "RM_a.b";
    url = url_of("http://h", &req);
    assert_string_equal(url, "http://h/api/project/p_abc/sessions/RM_a%2Eb");
    free(url);
}

static void api_never_truncates_a_long_url(void **state)
{
    struct api_request req = details_req;
    size_t base_len = 5000, id_len = 3000;
    char *base = malloc(base_len + 1), *id = malloc(id_len + 1), *url;

    (void)state;
    memset(base, 'b', base_len);
    memcpy(base, "http://", 7);
    base[base_len] = '\0';
    memset(id, 'i', id_len);
    id[id_len] = '\0';
    req.session_id = id;
    url = url_of(base, &req);
    assert_int_equal(strlen(url), base_len + strlen("/api/project/p_abc/sessions/") + id_len);
    assert_memory_equal(url + strlen(url) - id_len, id, id_len);
    free(url);
    free(base);
    free(id);
}

static struct http_response response(long status, const char *body)
{
    struct http_response resp = {.status = status,
                                 .retry_after_s = -1,
                                 .ratelimit_limit = -1,
                                 .ratelimit_remaining = -1,
                                 .ratelimit_reset_s = -1,
                                 .ratelimit_window_s = -1};

    snprintf(resp.error_body, sizeof resp.error_body, "%s", body);
    return resp;
}

/* api_verdict of a complete response; *stop and err filled. */
static int verdict(const struct api_request *req, long status, const char *body,
                   enum api_stop *stop, struct lk_error *err)
{
    struct http_response resp = response(status, body);

    lk_error_init(err);
    *stop = API_STOP_PROJECT; /* must be written: no complete response stops a project */
    return api_verdict(req, 0, &resp, stop, err);
}

static void api_success_is_any_2xx(void **state)
{
    struct lk_error err;
    enum api_stop refused = API_STOP_RUN;

    (void)state;
    assert_int_equal(verdict(&list_req, 200, "", &refused, &err), 0);
    assert_int_equal(refused, API_STOP_REQUEST);
    assert_int_equal(verdict(&details_req, 204, "", &refused, &err), 0);
    assert_int_equal(refused, API_STOP_REQUEST);
    assert_int_equal(err.code, 0);
}

static void api_refuses_for_good_on_credentials_plan_and_unknown_project(void **state)
{
    struct lk_error err;
    enum api_stop refused = API_STOP_REQUEST;

    (void)state;
    assert_int_equal(verdict(&list_req, 401, "", &refused, &err), LK_EAPI);
    assert_int_equal(refused, API_STOP_RUN);
    assert_non_null(strstr(err.message, "HTTP 401"));
    assert_non_null(strstr(err.message, "list page 3 (limit 100)"));
    assert_non_null(strstr(err.detail, "check LIVEKIT_API_KEY"));
    assert_int_equal(verdict(&details_req, 403, "requires the Scale plan", &refused, &err),
                     LK_EAPI);
    assert_int_equal(refused, API_STOP_RUN);
    assert_non_null(strstr(err.detail, "Scale plan or higher"));
    assert_int_equal(verdict(&details_req, 403, "forbidden", &refused, &err), LK_EAPI);
    assert_non_null(strstr(err.detail, "belongs to project p_abc"));
    assert_int_equal(verdict(&list_req, 404, "", &refused, &err), LK_EAPI);
    assert_int_equal(refused, API_STOP_RUN);
    assert_non_null(strstr(err.message, "project not found (HTTP 404)"));
}

static void api_missing_session_fails_only_that_request(void **state)
{
    struct lk_error err;
    enum api_stop refused = API_STOP_RUN;

    (void)state;
    assert_int_equal(verdict(&details_req, 404, "", &refused, &err), LK_EAPI);
    assert_int_equal(refused, API_STOP_REQUEST);
    assert_string_equal(err.message, "not found (HTTP 404): details of session RM_x1");
}

static void api_transient_statuses_are_worth_a_retry(void **state)
{
    static const long transient[] = {408, 429, 500, 502, 503, 504};
    struct lk_error err;
    enum api_stop refused = API_STOP_RUN;

    (void)state;
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++) {
        assert_int_equal(verdict(&details_req, transient[i], "busy", &refused, &err), LK_ERETRY);
        assert_int_equal(refused, API_STOP_REQUEST);
        assert_string_equal(err.detail, "busy");
    }
    assert_int_equal(verdict(&list_req, 400, "bad start", &refused, &err), LK_EAPI);
    assert_int_equal(refused, API_STOP_REQUEST);
    assert_string_equal(err.message, "HTTP 400 for list page 3 (limit 100)");
    assert_int_equal(verdict(&list_req, 302, "", &refused, &err), LK_EAPI);
}

static void api_transport_failure_passes_through(void **state)
{
    struct http_response resp = response(401, "");
    struct lk_error err;
    enum api_stop refused = API_STOP_REQUEST;

    (void)state;
    lk_error_init(&err);
    lk_error_set(&err, LK_ERETRY, "connection reset");
    assert_int_equal(api_verdict(&list_req, LK_ERETRY, &resp, &refused, &err), LK_ERETRY);
    assert_string_equal(err.message, "connection reset");
    assert_int_equal(refused, API_STOP_RUN); /* a 401 stops the run however its body ended */
    resp = response(200, "");
    assert_int_equal(api_verdict(&list_req, LK_EDATA, &resp, NULL, &err), LK_EDATA);
}

/* http's permanent transport failures (TLS trust, name, protocol) end the project's
 * requests, not the run's; a transient one only the request's attempt. */
static void api_permanent_transport_failure_stops_the_project(void **state)
{
    struct http_response resp = response(0, "");
    struct lk_error err;
    enum api_stop stop = API_STOP_RUN;

    (void)state;
    lk_error_init(&err);
    lk_error_set(&err, LK_EAPI, "request to https://x/ failed: SSL peer certificate");
    resp.permanent = true;
    assert_int_equal(api_verdict(&list_req, LK_EAPI, &resp, &stop, &err), LK_EAPI);
    assert_int_equal(stop, API_STOP_PROJECT);
    assert_non_null(strstr(err.message, "SSL peer certificate"));
    resp.permanent = false;
    assert_int_equal(api_verdict(&details_req, LK_ERETRY, &resp, &stop, &err), LK_ERETRY);
    assert_int_equal(stop, API_STOP_REQUEST);
}

static void api_describes_requests(void **state)
{
    char what[64];

    (void)state;
    api_describe(&list_req, what, sizeof what);
    assert_string_equal(what, "list page 3 (limit 100)");
    api_describe(&details_req, what, sizeof what);
    assert_string_equal(what, "details of session RM_x1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(api_builds_the_list_and_details_urls),
        cmocka_unit_test(api_escapes_the_variable_parts),
        cmocka_unit_test(api_keeps_dot_ids_in_one_segment),
        cmocka_unit_test(api_never_truncates_a_long_url),
        cmocka_unit_test(api_success_is_any_2xx),
        cmocka_unit_test(api_refuses_for_good_on_credentials_plan_and_unknown_project),
        cmocka_unit_test(api_missing_session_fails_only_that_request),
        cmocka_unit_test(api_transient_statuses_are_worth_a_retry),
        cmocka_unit_test(api_transport_failure_passes_through),
        cmocka_unit_test(api_permanent_transport_failure_stops_the_project),
        cmocka_unit_test(api_describes_requests),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
