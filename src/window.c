/* window.c -- the day loop: list pages, then details, for each project and UTC day.
 *
 * Flow per project-day: store_day_begin; pages 0, 1, ... of the list (start=end=day) stream
 * through extract into the store, and the session ids they carry are collected (once each,
 * in a hash set, since live data can shift a session onto the next page); then each
 * session's details stream the same way; store_day_commit. Every HTTP attempt has a number:
 * when an attempt fails part-way, the rows it already staged are discarded and the request is
 * made again from the start after a back-off. The day is complete only when the day is over,
 * every page and detail was stored and no session is still active.
 */
#include "window.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "convert.h"
#include "error.h"
#include "extract.h"
#include "http.h"
#include "log.h"
#include "store.h"
#include "token.h"

#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 30000
#define RETRY_AFTER_CAP_S 60
#define MAX_FIELD_PATHS 1000

/* ---- dates ---- */

void window_today(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

bool window_valid_date(const char *text)
{
    char canonical[CONVERT_TIMESTAMP_MAX], probe[32];

    if (strlen(text) != 10)
        return false;
    snprintf(probe, sizeof probe, "%sT00:00:00Z", text);
    if (convert_timestamp_text(probe, strlen(probe), canonical) != CONVERT_OK)
        return false;
    return strncmp(canonical, text, 10) == 0;
}

void window_add_days(const char *day, int delta, char out[11])
{
    struct tm tm = {0};
    time_t t;

    /* noon avoids any DST question; gmtime_r/mktime differ by the zone, so adjust by
     * working purely in day counts through the tm normalisation of mktime's UTC twin */
    tm.tm_year = atoi(day) - 1900;
    tm.tm_mon = atoi(day + 5) - 1;
    tm.tm_mday = atoi(day + 8) + delta;
    tm.tm_hour = 12;
    tm.tm_isdst = -1;
    t = mktime(&tm); /* normalises the date; the local zone cannot move noon by a day */
    localtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- a set of session ids (for one day) ---- */

struct id_set {
    char **slots; /* open addressing; NULL = empty */
    size_t capacity, count;
    char **order; /* insertion order, same pointers */
};

static uint64_t hash_text(const char *text)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

static void id_set_clear(struct id_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->order[i]);
    free(set->slots);
    free(set->order);
    memset(set, 0, sizeof *set);
}

/* 1 if added, 0 if already there, -1 out of memory. */
static int id_set_add(struct id_set *set, const char *id)
{
    size_t i;

    if ((set->count + 1) * 2 > set->capacity) {
        size_t capacity = set->capacity ? set->capacity * 2 : 256;
        char **slots = calloc(capacity, sizeof *slots);
        char **order = realloc(set->order, capacity * sizeof *order);
        if (slots == NULL || order == NULL) {
            free(slots);
            if (order)
                set->order = order;
            return -1;
        }
        set->order = order;
        for (size_t k = 0; k < set->count; k++) {
            i = hash_text(order[k]) & (capacity - 1);
            while (slots[i])
                i = (i + 1) & (capacity - 1);
            slots[i] = order[k];
        }
        free(set->slots);
        set->slots = slots;
        set->capacity = capacity;
    }
    i = hash_text(id) & (set->capacity - 1);
    while (set->slots[i]) {
        if (strcmp(set->slots[i], id) == 0)
            return 0;
        i = (i + 1) & (set->capacity - 1);
    }
    set->slots[i] = strdup(id);
    if (set->slots[i] == NULL)
        return -1;
    set->order[set->count++] = set->slots[i];
    return 1;
}

/* ---- the run's state ---- */

struct run {
    const struct config *cfg;
    struct store *st;
    struct http *http;
    struct token *token;
    struct extract_limits limits;
    int attempt_counter;
    unsigned int jitter_state;
    const char *project;
    const char *day;
    const char *today;
    bool full;
    /* per day */
    struct id_set ids;
    int page_new_ids;
    int active_sessions;
    long long details_stored;
    /* per run */
    char *field_paths[MAX_FIELD_PATHS];
    size_t field_path_count;
};

static int on_record(void *ctx, const struct record *rec, struct lk_error *err)
{
    struct run *run = ctx;
    int added;

    if (rec->kind == RECORD_LIST_SESSION) {
        added = id_set_add(&run->ids, rec->values[LS_SESSION_ID]);
        if (added < 0) {
            lk_error_set(err, LK_ENOMEM, "out of memory");
            return LK_ENOMEM;
        }
        if (added) {
            run->page_new_ids++;
            if (rec->values[LS_ENDED_AT] == NULL)
                run->active_sessions++;
        }
    }
    return store_day_add(run->st, rec, run->attempt_counter, err);
}

static void on_unknown_field(void *ctx, const char *path)
{
    struct run *run = ctx;

    for (size_t i = 0; i < run->field_path_count; i++)
        if (strcmp(run->field_paths[i], path) == 0)
            return;
    if (run->field_path_count < MAX_FIELD_PATHS) {
        char *copy = strdup(path);
        if (copy)
            run->field_paths[run->field_path_count++] = copy;
    }
}

struct body_target {
    struct extract *ex;
};

static int feed_body(void *ctx, const char *data, size_t len, struct lk_error *err)
{
    struct body_target *target = ctx;
    return extract_feed(target->ex, data, len, err);
}

static int discard_body(void *ctx, const char *data, size_t len, struct lk_error *err)
{
    (void)ctx, (void)data, (void)len, (void)err;
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Exponential back-off with jitter; a Retry-After (capped) is honoured as a floor. */
static long backoff_ms(struct run *run, int attempt_no, long retry_after_s)
{
    long ceiling = BACKOFF_BASE_MS;
    long delay;

    for (int i = 1; i < attempt_no && ceiling < BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > BACKOFF_CAP_MS)
        ceiling = BACKOFF_CAP_MS;
    run->jitter_state = run->jitter_state * 1103515245u + 12345u;
    delay = ceiling / 2 + (long)((run->jitter_state >> 8) % (unsigned)(ceiling / 2 + 1));
    if (retry_after_s > 0) {
        long floor_ms = (retry_after_s > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S : retry_after_s) *
                        1000;
        if (delay < floor_ms)
            delay = floor_ms;
    }
    return delay;
}

/* Turn a finished non-2xx response into an error; transient ones are LK_ERETRY. */
static int status_error(const struct http_response *resp, const char *what, const char *project,
                        struct lk_error *err)
{
    long status = resp->status;

    if (status == 401) {
        lk_error_set(err, LK_EAPI, "the API refused the credentials (HTTP 401) for %s", what);
        lk_error_detail(err, "check LIVEKIT_API_KEY / api_key and the API secret of project %s",
                        project);
        return LK_EAPI;
    }
    if (status == 403) {
        lk_error_set(err, LK_EAPI, "the API denied access (HTTP 403) for %s", what);
        if (strstr(resp->error_body, "Scale") || strstr(resp->error_body, "plan"))
            lk_error_detail(err, "the Analytics API needs a LiveKit Cloud Scale plan or higher; "
                                 "the API said: %.200s", resp->error_body);
        else
            lk_error_detail(err, "check that the API key belongs to project %s; the API said: "
                                 "%.200s", project, resp->error_body);
        return LK_EAPI;
    }
    if (status == 404) {
        lk_error_set(err, LK_EAPI, "not found (HTTP 404): %s", what);
        lk_error_detail(err, "check the project id %s and the base URL", project);
        return LK_EAPI;
    }
    if (status == 429 || status >= 500 || status == 408) {
        lk_error_set(err, LK_ERETRY, "HTTP %ld for %s", status, what);
        lk_error_detail(err, "%.200s", resp->error_body);
        return LK_ERETRY;
    }
    lk_error_set(err, LK_EAPI, "HTTP %ld for %s", status, what);
    lk_error_detail(err, "%.300s", resp->error_body);
    return LK_EAPI;
}

/* GET url and stream it into the store, retrying transient failures. *records_out gets the
 * number of main records of the body (list sessions, or 1 for details). */
static int fetch(struct run *run, const char *url, enum extract_body body, const char *session_id,
                 const char *what, size_t *records_out, struct lk_error *err)
{
    struct record_sink sink = {run, on_record, on_unknown_field};
    struct extract *ex = NULL;
    struct http_response resp;
    struct body_target target;
    const char *bearer;
    int rc = LK_ERETRY;

    for (int attempt_no = 1; attempt_no <= run->cfg->max_attempts; attempt_no++) {
        run->attempt_counter++;
        run->page_new_ids = 0;
        lk_error_init(err);
        rc = extract_new(&ex, body, session_id, &run->limits, &sink, err);
        if (rc != 0)
            break;
        target.ex = ex;
        bearer = token_get(run->token, time(NULL), err);
        if (bearer == NULL) {
            rc = err->code ? err->code : LK_ECONFIG;
            break;
        }
        resp.retry_after_s = -1;
        rc = http_get(run->http, url, bearer, feed_body, &target, &resp, err);
        if (rc == 0 && (resp.status < 200 || resp.status >= 300))
            rc = status_error(&resp, what, run->project, err);
        else if (rc == 0)
            rc = extract_finish(ex, err);
        if (rc == 0) {
            *records_out = extract_record_count(ex);
            break;
        }
        /* nothing of a failed attempt may reach the tables */
        if (store_day_discard_attempt(run->st, run->attempt_counter, NULL) != 0) {
            rc = LK_ENOMEM;
            lk_error_set(err, rc, "out of memory");
            break;
        }
        extract_free(ex);
        ex = NULL;
        if (rc != LK_ERETRY && rc != LK_EDATA)
            break; /* retrying cannot fix it */
        if (attempt_no < run->cfg->max_attempts) {
            long delay = backoff_ms(run, attempt_no, resp.retry_after_s);
            log_warn("%s: %s; retrying in %.1f s (attempt %d of %d)", what, err->message,
                     (double)delay / 1000.0, attempt_no + 1, run->cfg->max_attempts);
            sleep_ms(delay);
        }
    }
    extract_free(ex);
    return rc;
}

static bool stops_the_run(int code)
{
    /* bad credentials or plan: every other request would fail the same way */
    return code == LK_ECONFIG || code == LK_ENOMEM;
}

static int severity(int code)
{
    switch (code) {
    case LK_EDB:
        return 4;
    case LK_EAPI:
        return 3;
    case LK_ECONFIG:
        return 5;
    case 0:
        return 0;
    default:
        return 2;
    }
}

static void note_error(struct run_summary *summary, const struct lk_error *err)
{
    if (severity(err->code) > severity(summary->worst_error))
        summary->worst_error = err->code;
    if (summary->first_error[0] == '\0')
        snprintf(summary->first_error, sizeof summary->first_error, "%s", err->message);
}

static bool auth_failure(const struct lk_error *err)
{
    return err->code == LK_EAPI && (strstr(err->message, "HTTP 401") || strstr(err->message,
                                                                                "HTTP 403"));
}

static void free_ids(char **ids, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(ids[i]);
    free(ids);
}

/* Archive one project-day. Returns 0 when the run may go on (the day's own failure is in
 * summary), or the code that must stop the run. */
static int archive_day(struct run *run, struct run_summary *summary, struct lk_error *err)
{
    char url[2048], what[256], failure[600] = "";
    struct day_result result = {0};
    struct day_counts counts;
    size_t records = 0, needing_count = 0;
    char **needing = NULL;
    int rc, failed_details = 0;

    run->active_sessions = 0;
    id_set_clear(&run->ids);
    rc = store_day_begin(run->st, run->project, run->day, err);
    if (rc != 0)
        goto failed;
    for (int page = 0;; page++) {
        snprintf(url, sizeof url, "%s/api/project/%s/sessions?page=%d&limit=%d&start=%s&end=%s",
                 run->cfg->base_url, run->project, page, run->cfg->page_limit, run->day,
                 run->day);
        snprintf(what, sizeof what, "list page %d", page);
        rc = fetch(run, url, EXTRACT_LIST, NULL, what, &records, err);
        if (rc != 0)
            goto failed;
        result.pages++;
        if (records < (size_t)run->cfg->page_limit)
            break;
        if (run->page_new_ids == 0) {
            /* a full page of sessions we already had: the API ignores `page` */
            rc = LK_EAPI;
            lk_error_set(err, rc, "list page %d repeats sessions of earlier pages", page);
            lk_error_detail(err, "the API seems to ignore the page parameter; stopping this "
                                 "day instead of looping");
            goto failed;
        }
    }
    rc = store_day_sessions_needing_details(run->st, run->full, &needing, &needing_count, err);
    if (rc != 0)
        goto failed;
    result.details_skipped = (long long)(run->ids.count - needing_count);
    for (size_t i = 0; i < needing_count; i++) {
        const char *id = needing[i];
        char *escaped = curl_easy_escape(NULL, id, 0);
        if (escaped == NULL) {
            rc = LK_ENOMEM;
            lk_error_set(err, rc, "out of memory");
            goto failed;
        }
        snprintf(url, sizeof url, "%s/api/project/%s/sessions/%s", run->cfg->base_url,
                 run->project, escaped);
        curl_free(escaped);
        snprintf(what, sizeof what, "details of session %.128s", id);
        rc = fetch(run, url, EXTRACT_DETAILS, id, what, &records, err);
        if (rc == 0) {
            result.details_fetched++;
            continue;
        }
        if (rc == LK_EDB || rc == LK_ENOMEM || auth_failure(err) || stops_the_run(rc))
            goto failed;
        /* one broken session must not cost the others: go on, leave the day pending */
        log_error("session %s: %s", id, err->message);
        if (err->detail[0])
            log_detail(LOG_LEVEL_ERROR, "%s", err->detail);
        note_error(summary, err);
        if (failed_details++ == 0)
            snprintf(failure, sizeof failure, "session %.128s: %.400s", id, err->message);
    }
    result.active_sessions = run->active_sessions;
    /* today's list can still grow, and an active session can still change */
    result.complete = failed_details == 0 && run->active_sessions == 0 &&
                      strcmp(run->day, run->today) < 0;
    result.error = failed_details ? failure : NULL;
    rc = store_day_commit(run->st, summary->run_id, &result, &counts, err);
    if (rc != 0)
        goto failed;
    summary->sessions += counts.sessions;
    summary->participants += counts.participants;
    summary->connections += counts.connections;
    if (failed_details)
        summary->days_failed++;
    else if (result.complete)
        summary->days_complete++;
    else
        summary->days_pending++;
    printf("%-20s %s  %-8s %7lld sessions %8lld participants %8lld connections  "
           "(%d active, %d pages, %lld details fetched, %lld skipped%s)\n",
           run->project, run->day,
           failed_details ? "partial" : result.complete ? "complete" : "pending", counts.sessions,
           counts.participants, counts.connections, run->active_sessions, result.pages,
           result.details_fetched, result.details_skipped,
           failed_details ? ", some details failed" : "");
    fflush(stdout);
    summary->details_fetched += result.details_fetched;
    summary->details_skipped += result.details_skipped;
    free_ids(needing, needing_count);
    return 0;
failed:
    free_ids(needing, needing_count);
    log_error("%s", err->message);
    if (err->detail[0])
        log_detail(LOG_LEVEL_ERROR, "%s", err->detail);
    note_error(summary, err);
    summary->days_failed++;
    store_day_abort(run->st, summary->run_id, err->message);
    printf("%-20s %s  %-8s %s\n", run->project, run->day, "FAILED", err->message);
    fflush(stdout);
    if (rc == LK_EDB || rc == LK_ENOMEM || auth_failure(err) || stops_the_run(rc))
        return rc;
    return 0;
}

static void free_run(struct run *run)
{
    id_set_clear(&run->ids);
    for (size_t i = 0; i < run->field_path_count; i++)
        free(run->field_paths[i]);
    http_free(run->http);
    token_free(run->token);
}

static int start_run(struct run *run, const struct config *cfg, struct store *st,
                     struct lk_error *err)
{
    struct http_options http_options = {cfg->connect_timeout_s, cfg->request_timeout_s};
    int rc;

    memset(run, 0, sizeof *run);
    run->cfg = cfg;
    run->st = st;
    run->limits.max_string_bytes = cfg->max_string_bytes;
    run->limits.max_depth = cfg->max_depth;
    run->jitter_state = (unsigned int)time(NULL) ^ (unsigned int)clock();
    rc = http_new(&run->http, &http_options, err);
    if (rc == 0)
        rc = token_new(&run->token, cfg->api_key, cfg->api_secret, cfg->token_ttl_s, err);
    return rc;
}

/* Name the field paths never seen before, so upstream schema drift is noticed. */
static void report_new_fields(struct run *run, long long run_id)
{
    struct lk_error err;
    char **fresh = NULL;
    size_t fresh_count = 0;

    lk_error_init(&err);
    if (run->field_path_count == 0)
        return;
    if (store_note_fields(run->st, run_id, run->field_paths, run->field_path_count, &fresh,
                          &fresh_count, &err) != 0) {
        log_warn("%s", err.message);
        return;
    }
    for (size_t i = 0; i < fresh_count; i++) {
        log_warn("new field from the API: %s (kept in extra)", fresh[i]);
        free(fresh[i]);
    }
    free(fresh);
}

int window_run(const struct config *cfg, const struct window_options *options, struct store *st,
               struct run_summary *summary, struct lk_error *err)
{
    struct run run;
    char start[11], day[11], prefix[160];
    struct run_outcome outcome;
    int rc;

    memset(summary, 0, sizeof *summary);
    window_add_days(options->today, -(options->days - 1), start);
    rc = start_run(&run, cfg, st, err);
    if (rc != 0)
        goto done;
    run.today = options->today;
    run.full = options->full;
    rc = store_run_begin(st, options->today, start, options->today, cfg->projects,
                         cfg->project_count, &summary->run_id, err);
    if (rc != 0)
        goto done;
    log_info("run %lld: %zu project(s), %s .. %s", summary->run_id, cfg->project_count, start,
             options->today);
    for (size_t p = 0; p < cfg->project_count && rc == 0; p++) {
        run.project = cfg->projects[p];
        for (int d = 0; d < options->days && rc == 0; d++) {
            window_add_days(start, d, day);
            run.day = day;
            snprintf(prefix, sizeof prefix, "project=%s day=%s", run.project, day);
            log_set_prefix(prefix);
            rc = archive_day(&run, summary, err);
            log_set_prefix(NULL);
        }
    }
    summary->requests = http_request_count(run.http);
    report_new_fields(&run, summary->run_id);
    outcome.status = rc != 0 ? "failed" : summary->days_failed ? "incomplete" : "ok";
    outcome.requests = (long long)summary->requests;
    outcome.warnings = (long long)log_warning_count();
    outcome.message = summary->first_error[0] ? summary->first_error : NULL;
    {
        struct lk_error finish_err;
        lk_error_init(&finish_err);
        if (store_run_finish(st, summary->run_id, &outcome, &finish_err) != 0 && rc == 0) {
            *err = finish_err;
            rc = finish_err.code;
        }
    }
done:
    free_run(&run);
    return rc;
}

int window_probe(const struct config *cfg, const char *today, struct lk_error *err)
{
    struct run run;
    char url[1024];
    struct http_response resp;
    const char *bearer;
    int rc;

    rc = start_run(&run, cfg, NULL, err);
    if (rc != 0)
        goto done;
    for (size_t p = 0; p < cfg->project_count; p++) {
        snprintf(url, sizeof url, "%s/api/project/%s/sessions?page=0&limit=1&start=%s&end=%s",
                 cfg->base_url, cfg->projects[p], today, today);
        bearer = token_get(run.token, time(NULL), err);
        if (bearer == NULL) {
            rc = err->code ? err->code : LK_ECONFIG;
            goto done;
        }
        rc = http_get(run.http, url, bearer, discard_body, NULL, &resp, err);
        if (rc == 0 && (resp.status < 200 || resp.status >= 300)) {
            char what[160];
            snprintf(what, sizeof what, "the list of project %s", cfg->projects[p]);
            rc = status_error(&resp, what, cfg->projects[p], err);
        }
        if (rc != 0)
            goto done;
        printf("api: project %s reachable, credentials accepted\n", cfg->projects[p]);
    }
done:
    free_run(&run);
    return rc;
}
