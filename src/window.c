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
#include "date.h"
#include "error.h"
#include "extract.h"
#include "http.h"
#include "log.h"
#include "store.h"
#include "strmap.h"
#include "token.h"

#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 30000
#define RETRY_AFTER_CAP_S 60
#define MAX_FIELD_PATHS 1000

/* ---- the run's state ---- */

enum job_state { JOB_WAITING, JOB_RUNNING, JOB_DONE, JOB_FAILED };

/* One request to make: a list page or one session's details, with its retries. Kept small
 * (a day can have tens of thousands): the URL is built when an attempt starts, and a
 * failure is reported when it becomes final, not stored. */
struct job {
    struct run *run;
    enum extract_body body;
    const char *session_id; /* details: borrowed from the caller's id array */
    long long page;         /* list: page index and size */
    int limit;
    int attempt;    /* the current attempt's number: it tags the rows it stages */
    int attempt_no; /* 1-based count of attempts made */
    struct extract *ex;
    long long not_before_ms;
    enum job_state state;
    size_t records;
    int new_ids;    /* list: sessions not seen on an earlier page */
    char *first_id; /* list: the page's first session id (an API ignoring `page` repeats it) */
    bool timed_out; /* failed by a time-out (a list page is then made smaller) */
    int rc;
};

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
    int page_limit;        /* shrinks when the API times out on large pages */
    long long deadline_ms; /* the run's time budget ends here */
    /* concurrency: AIMD between 1 and cfg->max_concurrency */
    int parallel;
    int in_flight;
    int successes;
    long long next_start_ms; /* requests-per-second cap */
    size_t jobs_finished;    /* of the current run_jobs batch: done or failed for good */
    size_t jobs_retrying;    /* of the current batch: waiting for a retry */
    int fatal_rc;            /* set by a job whose failure must stop the run */
    struct lk_error fatal_err;
    struct lk_error job_err; /* the last final failure of a job (list_day reads it) */
    struct run_summary *summary;
    int failed_details; /* per day: details that failed for good */
    char first_failure[600];
    /* per day */
    struct strmap ids;         /* the day's listed session ids */
    struct strmap page_firsts; /* first session id of every list page of the day */
    /* per run */
    char *field_paths[MAX_FIELD_PATHS];
    size_t field_path_count;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int on_record(void *ctx, const struct record *rec, struct lk_error *err)
{
    struct job *job = ctx;
    bool added;

    if (rec->kind == RECORD_LIST_SESSION) {
        if (strmap_put(&job->run->ids, rec->values[LS_SESSION_ID], 0, &added) != 0) {
            lk_error_set(err, LK_ENOMEM, "out of memory");
            return LK_ENOMEM;
        }
        job->new_ids += added ? 1 : 0;
        if (job->first_id == NULL && (job->first_id = strdup(rec->values[LS_SESSION_ID])) == NULL) {
            lk_error_set(err, LK_ENOMEM, "out of memory");
            return LK_ENOMEM;
        }
    }
    return store_day_add(job->run->st, rec, job->attempt, err);
}

static void on_unknown_field(void *ctx, const char *path)
{
    struct run *run = ((struct job *)ctx)->run;

    for (size_t i = 0; i < run->field_path_count; i++)
        if (strcmp(run->field_paths[i], path) == 0)
            return;
    if (run->field_path_count < MAX_FIELD_PATHS) {
        char *copy = strdup(path);
        if (copy)
            run->field_paths[run->field_path_count++] = copy;
    }
}

static int feed_body(void *ctx, const char *data, size_t len, struct lk_error *err)
{
    struct job *job = ctx;
    return extract_feed(job->ex, data, len, err);
}

static int discard_body(void *ctx, const char *data, size_t len, struct lk_error *err)
{
    (void)ctx, (void)data, (void)len, (void)err;
    return 0;
}

static void sleep_ms(long long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Exponential back-off with full jitter in [ceiling/2, ceiling]; a Retry-After (capped) is
 * a floor. A Retry-After of 0 still waits: retrying at once would burn every attempt. */
static long backoff_ms(struct run *run, int attempt_no, long retry_after_s)
{
    long base = run->cfg->retry_base_ms > 0 ? run->cfg->retry_base_ms : BACKOFF_BASE_MS;
    long ceiling = base, delay;

    for (int i = 1; i < attempt_no && ceiling < BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > BACKOFF_CAP_MS)
        ceiling = BACKOFF_CAP_MS;
    run->jitter_state = run->jitter_state * 1103515245u + 12345u;
    delay = ceiling / 2 + (long)((run->jitter_state >> 8) % (unsigned)(ceiling / 2 + 1));
    if (retry_after_s > 0) {
        long floor_ms =
            (retry_after_s > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S : retry_after_s) * 1000;
        if (delay < floor_ms)
            delay = floor_ms;
    }
    return delay;
}

/* Turn a finished non-2xx response into an error; transient ones are LK_ERETRY. */
static int status_error(const struct http_response *resp, bool is_list, const char *what,
                        const char *project, struct lk_error *err)
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
            lk_error_detail(err,
                            "the Analytics API needs a LiveKit Cloud Scale plan or higher; "
                            "the API said: %.200s",
                            resp->error_body);
        else
            lk_error_detail(err,
                            "check that the API key belongs to project %s; the API said: "
                            "%.200s",
                            project, resp->error_body);
        return LK_EAPI;
    }
    if (status == 404 && is_list) {
        lk_error_set(err, LK_EAPI, "project not found (HTTP 404): %s of project %s", what, project);
        lk_error_detail(err, "check the project id (LIVEKIT_PROJECT_ID / projects, \"p_...\" "
                             "from the dashboard URL) and the base URL");
        return LK_EAPI;
    }
    if (status == 404) {
        lk_error_set(err, LK_EAPI, "not found (HTTP 404): %s", what);
        lk_error_detail(err, "the API no longer knows this session");
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

/* Failures after which no other request of the run can succeed: the database, memory,
 * the configuration. */
static bool stops_the_run(int rc)
{
    return rc == LK_EDB || rc == LK_ENOMEM || rc == LK_ECONFIG;
}

/* Answers no retry and no other request can fix: bad credentials or plan (401, 403), or an
 * unknown project (a list that is not found). */
static bool refused_for_good(const struct http_response *resp, enum extract_body body)
{
    return resp->status == 401 || resp->status == 403 ||
           (body == EXTRACT_LIST && resp->status == 404);
}

static void job_done(void *ctx, int rc, const struct http_response *resp, struct lk_error *err);
static void note_error(struct run_summary *summary, const struct lk_error *err);

static void job_what(const struct job *job, char *out, size_t size)
{
    if (job->body == EXTRACT_LIST)
        snprintf(out, size, "list page %lld (limit %d)", job->page, job->limit);
    else
        snprintf(out, size, "details of session %.128s", job->session_id);
}

static int job_url(const struct job *job, char *out, size_t size, struct lk_error *err)
{
    const struct run *run = job->run;
    char *escaped;

    if (job->body == EXTRACT_LIST) {
        snprintf(out, size, "%s/api/project/%s/sessions?page=%lld&limit=%d&start=%s&end=%s",
                 run->cfg->base_url, run->project, job->page, job->limit, run->day, run->day);
        return 0;
    }
    escaped = curl_easy_escape(NULL, job->session_id, 0);
    if (escaped == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    snprintf(out, size, "%s/api/project/%s/sessions/%s", run->cfg->base_url, run->project, escaped);
    curl_free(escaped);
    return 0;
}

static int start_job(struct job *job)
{
    struct run *run = job->run;
    struct record_sink sink = {job, on_record, on_unknown_field};
    char url[2048];
    const char *bearer;
    int rc;

    job->attempt = ++run->attempt_counter;
    job->attempt_no++;
    job->new_ids = 0;
    free(job->first_id);
    job->first_id = NULL;
    job->timed_out = false;
    lk_error_init(&run->fatal_err);
    rc = job_url(job, url, sizeof url, &run->fatal_err);
    if (rc == 0)
        rc =
            extract_new(&job->ex, job->body, job->session_id, &run->limits, &sink, &run->fatal_err);
    if (rc != 0)
        return rc;
    bearer = token_get(run->token, time(NULL), &run->fatal_err);
    if (bearer == NULL)
        return run->fatal_err.code ? run->fatal_err.code : LK_ECONFIG;
    rc = http_start(run->http, url, bearer, feed_body, job_done, job, &run->fatal_err);
    if (rc != 0)
        return rc;
    job->state = JOB_RUNNING;
    run->in_flight++;
    return 0;
}

/* A job failed for good (not fatal to the run): details failures are logged and counted for
 * the day here; a list failure is left in run->job_err for list_day. */
static void job_failed_for_good(struct job *job, const struct lk_error *err)
{
    struct run *run = job->run;

    run->job_err = *err;
    if (job->body != EXTRACT_DETAILS)
        return;
    /* one broken session must not cost the others: the day stays pending */
    log_error("session %s: %s", job->session_id, err->message);
    if (err->detail[0])
        log_detail(LOG_LEVEL_ERROR, "%s", err->detail);
    note_error(run->summary, err);
    if (run->failed_details++ == 0)
        snprintf(run->first_failure, sizeof run->first_failure, "session %.128s: %.400s",
                 job->session_id, err->message);
}

static void job_done(void *ctx, int rc, const struct http_response *resp, struct lk_error *err)
{
    struct job *job = ctx;
    struct run *run = job->run;
    struct lk_error failure = *err;
    char what[200];

    run->in_flight--;
    what[0] = '\0';
    if (rc == 0 && (resp->status < 200 || resp->status >= 300)) {
        job_what(job, what, sizeof what);
        rc = status_error(resp, job->body == EXTRACT_LIST, what, run->project, &failure);
    } else if (rc == 0) {
        rc = extract_finish(job->ex, &failure);
    }
    if (rc == 0) {
        job->records = extract_record_count(job->ex);
        extract_free(job->ex);
        job->ex = NULL;
        job->state = JOB_DONE;
        run->jobs_finished++;
        /* additive increase: one more parallel request per window of successes */
        if (++run->successes >= run->parallel && run->parallel < run->cfg->max_concurrency) {
            run->parallel++;
            run->successes = 0;
        }
        return;
    }
    extract_free(job->ex);
    job->ex = NULL;
    job->rc = rc;
    job->state = JOB_FAILED;
    run->jobs_finished++;
    if (what[0] == '\0') /* named only for failures: successes are the hot path */
        job_what(job, what, sizeof what);
    /* nothing of a failed attempt may reach the tables */
    if (store_day_discard_attempt(run->st, job->attempt, &failure) != 0)
        rc = job->rc = LK_ENOMEM;
    if (resp->status == 429 && run->parallel > 1) {
        run->parallel /= 2; /* multiplicative decrease: the API asks us to slow down */
        run->successes = 0;
        log_info("API rate limit: concurrency lowered to %d", run->parallel);
    }
    if (stops_the_run(rc) || refused_for_good(resp, job->body)) {
        if (run->fatal_rc == 0) {
            run->fatal_rc = rc;
            run->fatal_err = failure;
        }
        return;
    }
    if (job->body == EXTRACT_LIST && resp->timed_out &&
        run->page_limit > run->cfg->min_page_limit) {
        job->timed_out = true; /* the page loop halves the page instead of retrying as is */
        run->job_err = failure;
        return;
    }
    if ((rc == LK_ERETRY || rc == LK_EDATA) && job->attempt_no < run->cfg->max_attempts) {
        long delay = backoff_ms(run, job->attempt_no, resp->retry_after_s);
        if (now_ms() + delay <= run->deadline_ms) {
            log_warn("%s: %s; retrying in %.1f s (attempt %d of %d)", what, failure.message,
                     (double)delay / 1000.0, job->attempt_no + 1, run->cfg->max_attempts);
            job->not_before_ms = now_ms() + delay;
            job->state = JOB_WAITING;
            run->jobs_finished--;
            run->jobs_retrying++;
            return;
        }
        lk_error_detail(&failure, "the run's time budget (run_budget) is used up; not retrying");
    }
    job_failed_for_good(job, &failure);
}

/* Run jobs until each is done or failed, at most run->parallel at once, honouring back-off
 * times and the requests-per-second cap. Returns 0, or the code of a failure that must stop
 * the run (run->fatal_err says why; running transfers are cancelled). */
static int run_jobs(struct run *run, struct job *jobs, size_t count)
{
    size_t cursor = 0; /* jobs before it have been started at least once */

    for (size_t i = 0; i < count; i++) {
        jobs[i].run = run;
        jobs[i].state = JOB_WAITING;
        jobs[i].attempt_no = 0;
        jobs[i].not_before_ms = 0;
    }
    run->jobs_finished = 0;
    run->jobs_retrying = 0;
    /* a batch starts clean: after a reconnect the day is archived again from the start */
    run->fatal_rc = 0;
    while (run->jobs_finished < count && run->fatal_rc == 0) {
        long long now = now_ms(), next_wake = now + 1000;
        int rc;

        /* retries whose time has come first, then fresh jobs in order */
        for (size_t i = 0; run->jobs_retrying > 0 && i < cursor && run->in_flight < run->parallel;
             i++) {
            struct job *job = &jobs[i];
            if (job->state != JOB_WAITING)
                continue;
            if (job->not_before_ms > now || now < run->next_start_ms) {
                long long at = job->not_before_ms > run->next_start_ms ? job->not_before_ms
                                                                       : run->next_start_ms;
                if (at < next_wake)
                    next_wake = at;
                continue;
            }
            run->jobs_retrying--;
            if ((rc = start_job(job)) != 0) {
                run->fatal_rc = rc;
                break;
            }
            if (run->cfg->requests_per_second > 0)
                run->next_start_ms = now + 1000 / run->cfg->requests_per_second;
        }
        while (cursor < count && run->in_flight < run->parallel && run->fatal_rc == 0 &&
               now >= run->next_start_ms) {
            if ((rc = start_job(&jobs[cursor])) != 0) {
                run->fatal_rc = rc;
                break;
            }
            cursor++;
            if (run->cfg->requests_per_second > 0)
                run->next_start_ms = now + 1000 / run->cfg->requests_per_second;
        }
        if (cursor < count && run->next_start_ms > now && run->next_start_ms < next_wake)
            next_wake = run->next_start_ms;
        if (run->in_flight > 0) {
            long long wait = next_wake - now;
            http_poll(run->http, (int)(wait < 1 ? 1 : wait > 1000 ? 1000 : wait));
        } else if (next_wake > now && run->fatal_rc == 0) {
            sleep_ms(next_wake - now);
        }
    }
    if (run->fatal_rc != 0) {
        http_cancel_all(run->http);
        run->in_flight = 0;
        for (size_t i = 0; i < count; i++) {
            if (jobs[i].state == JOB_RUNNING)
                store_day_discard_attempt(run->st, jobs[i].attempt, NULL);
            extract_free(jobs[i].ex);
            jobs[i].ex = NULL;
        }
        return run->fatal_rc;
    }
    return 0;
}

static int severity(int code)
{
    switch (code) {
    case LK_EDB:
        return 4;
    case LK_EAPI:
    case LK_ERETRY:
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

static void free_ids(char **ids, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(ids[i]);
    free(ids);
}

#define MAX_LIST_BATCH 16

/* The list phase: pages until a short or empty one. Pages are asked for in batches of up to
 * max_concurrency at once (a page past the end is just empty), then read in page order. A
 * page that times out is asked for again at half the size from its own offset (the page
 * index scaled to match). A full page that starts with the same session as an earlier page
 * means the API ignores `page`: the day stops instead of looping. */
static int list_day(struct run *run, struct day_result *result, struct lk_error *err)
{
    struct job jobs[MAX_LIST_BATCH];
    int batch =
        run->cfg->max_concurrency < MAX_LIST_BATCH ? run->cfg->max_concurrency : MAX_LIST_BATCH;
    long long offset = 0;
    char what[200];
    int rc = 0;
    bool more = true;

    if (batch < 1)
        batch = 1;
    while (more && rc == 0) {
        int limit = run->page_limit, i;

        memset(jobs, 0, sizeof jobs);
        for (i = 0; i < batch; i++) {
            jobs[i].body = EXTRACT_LIST;
            jobs[i].limit = limit;
            jobs[i].page = offset / limit + i;
        }
        rc = run_jobs(run, jobs, (size_t)batch);
        if (rc != 0)
            *err = run->fatal_err;
        for (i = 0; i < batch && rc == 0; i++) {
            struct job *job = &jobs[i];
            bool added;

            job_what(job, what, sizeof what);
            if (job->state == JOB_FAILED && job->timed_out) {
                run->page_limit =
                    limit / 2 > run->cfg->min_page_limit ? limit / 2 : run->cfg->min_page_limit;
                offset += (long long)i * limit;
                log_warn("%s timed out; asking for pages of %d from offset %lld", what,
                         run->page_limit, offset);
                break;
            }
            if (job->state == JOB_FAILED) {
                *err = run->job_err;
                rc = job->rc;
                break;
            }
            result->pages++;
            if (job->records < (size_t)limit) {
                more = false;
                break;
            }
            if (strmap_put(&run->page_firsts, job->first_id ? job->first_id : "", 0, &added) != 0) {
                rc = LK_ENOMEM;
                lk_error_set(err, rc, "out of memory");
            } else if (!added || job->new_ids == 0) {
                rc = LK_EAPI;
                lk_error_set(err, rc, "%s repeats the sessions of earlier pages", what);
                lk_error_detail(err, "the API seems to ignore the page parameter; stopping this "
                                     "day instead of looping");
            }
        }
        if (i == batch)
            offset += (long long)batch * limit;
        for (i = 0; i < batch; i++)
            free(jobs[i].first_id);
    }
    return rc;
}

/* The details phase: every session that needs it, concurrently. Failures of single sessions
 * are logged and counted by job_failed_for_good; only run-stopping failures are returned. */
static int details_day(struct run *run, char **ids, size_t count, struct day_result *result,
                       struct lk_error *err)
{
    struct job *jobs = calloc(count ? count : 1, sizeof *jobs);
    int rc;

    if (jobs == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        jobs[i].body = EXTRACT_DETAILS;
        jobs[i].session_id = ids[i];
    }
    rc = run_jobs(run, jobs, count);
    if (rc != 0)
        *err = run->fatal_err;
    for (size_t i = 0; rc == 0 && i < count; i++)
        result->details_fetched += jobs[i].state == JOB_DONE;
    free(jobs);
    return rc;
}

/* Archive one project-day. Returns 0 when the run may go on (the day's own failure is in
 * summary), or the code that must stop the run. */
static int archive_day(struct run *run, struct run_summary *summary, struct lk_error *err)
{
    struct day_result result = {0};
    struct day_counts counts;
    size_t needing_count = 0;
    char **needing = NULL;
    int rc, failed_details;

    strmap_clear(&run->ids);
    strmap_clear(&run->page_firsts);
    run->failed_details = 0;
    run->first_failure[0] = '\0';
    run->summary = summary;
    if (now_ms() > run->deadline_ms) {
        rc = LK_ERETRY;
        lk_error_set(err, rc, "the run's time budget (run_budget) is used up");
        lk_error_detail(err, "this day was not fetched; the next run will");
        goto failed;
    }
    rc = store_day_begin(run->st, run->project, run->day, run->full, err);
    if (rc == 0)
        rc = list_day(run, &result, err);
    if (rc == 0)
        rc = store_day_sessions_needing_details(run->st, run->full, &needing, &needing_count, err);
    if (rc != 0)
        goto failed;
    result.details_skipped = (long long)(run->ids.count - needing_count);
    rc = details_day(run, needing, needing_count, &result, err);
    if (rc != 0)
        goto failed;
    failed_details = run->failed_details;
    /* today's list can still grow; store adds: no session may still be active */
    result.complete = failed_details == 0 && strcmp(run->day, run->today) < 0;
    result.error = failed_details ? run->first_failure : NULL;
    rc = store_day_commit(run->st, summary->run_id, &result, &counts, err);
    if (rc != 0)
        goto failed;
    summary->sessions += counts.sessions;
    summary->participants += counts.participants;
    summary->connections += counts.connections;
    summary->details_fetched += result.details_fetched;
    summary->details_skipped += result.details_skipped;
    if (failed_details)
        summary->days_failed++;
    else if (counts.complete)
        summary->days_complete++;
    else
        summary->days_pending++;
    printf("%-20s %s  %-8s %7lld sessions %8lld participants %8lld connections  "
           "(%lld active, %d pages, %lld details fetched, %lld skipped%s)\n",
           run->project, run->day,
           failed_details    ? "partial"
           : counts.complete ? "complete"
                             : "pending",
           counts.sessions, counts.participants, counts.connections, counts.active_sessions,
           result.pages, result.details_fetched, result.details_skipped,
           failed_details ? ", some details failed" : "");
    fflush(stdout);
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
    /* run->fatal_rc: a request of this day was refused for good (see run_jobs) */
    if (stops_the_run(rc) || run->fatal_rc != 0)
        return rc;
    return 0;
}

static void free_run(struct run *run)
{
    strmap_clear(&run->ids);
    strmap_clear(&run->page_firsts);
    for (size_t i = 0; i < run->field_path_count; i++)
        free(run->field_paths[i]);
    http_free(run->http);
    token_free(run->token);
}

static int start_run(struct run *run, const struct config *cfg, struct store *st,
                     struct lk_error *err)
{
    struct http_options http_options = {cfg->connect_timeout_s, cfg->request_timeout_s,
                                        cfg->max_concurrency};
    int rc;

    memset(run, 0, sizeof *run);
    run->cfg = cfg;
    run->st = st;
    run->limits.max_string_bytes = cfg->max_string_bytes;
    run->limits.max_depth = cfg->max_depth;
    run->jitter_state = (unsigned int)time(NULL) ^ (unsigned int)clock();
    run->page_limit = cfg->page_limit;
    run->parallel = cfg->max_concurrency;
    run->deadline_ms = now_ms() + (long long)cfg->run_budget_s * 1000;
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
        log_warn("new field from the API: %s (%s)", fresh[i],
                 strncmp(fresh[i], "list.", 5) == 0 ? "outside any record: not stored"
                                                    : "kept in the row's extra");
        free(fresh[i]);
    }
    free(fresh);
}

int window_run(const struct config *cfg, const struct window_options *options, struct store *st,
               struct run_summary *summary, struct lk_error *err)
{
    struct run run;
    char start[DATE_TEXT_SIZE], day[DATE_TEXT_SIZE], prefix[160];
    struct run_outcome outcome;
    int rc;

    memset(summary, 0, sizeof *summary);
    date_add_days(start, options->today, -(options->days - 1));
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
        bool first_run = false;
        run.project = cfg->projects[p];
        rc = store_lock_project(st, run.project, cfg->lock_wait_s, err);
        if (rc == LK_ELOCKED) {
            /* the other run archives this project; ours goes on with the next */
            log_error("%s", err->message);
            log_detail(LOG_LEVEL_ERROR, "%s", err->detail);
            note_error(summary, err);
            summary->projects_locked++;
            rc = 0;
            continue;
        }
        if (rc == 0)
            rc = store_is_new_project(st, run.project, &first_run, err);
        if (rc != 0)
            break;
        if (first_run)
            log_info("first run for project %s: the API still serves %s .. %s; anything older "
                     "is beyond its 7-day window and cannot be archived any more",
                     run.project, start, options->today);
        for (int d = 0; d < options->days && rc == 0; d++) {
            date_add_days(day, start, d);
            run.day = day;
            snprintf(prefix, sizeof prefix, "project=%s day=%s", run.project, day);
            log_set_prefix(prefix);
            rc = archive_day(&run, summary, err);
            for (int again = 0; rc == LK_EDB && !store_connection_ok(st) && again < 2; again++) {
                /* PostgreSQL restarted or went away: the day was rolled back by the server */
                struct lk_error reconnect_err;
                lk_error_init(&reconnect_err);
                rc = store_reconnect(st, cfg->db_reconnect_attempts, &reconnect_err);
                if (rc != 0) {
                    *err = reconnect_err;
                    break;
                }
                summary->days_failed--; /* it is archived again now */
                rc = archive_day(&run, summary, err);
            }
            log_set_prefix(NULL);
        }
        if (rc == 0) {
            int gaps = 0;
            /* lost means beyond what the API still serves (7 days), whatever --days says */
            char horizon[DATE_TEXT_SIZE];
            date_add_days(horizon, options->today, -6);
            rc = store_check_gaps(st, run.project, horizon,
                                  options->acknowledge_gaps || cfg->acknowledge_gaps, &gaps, err);
            summary->gaps += gaps;
        }
    }
    summary->requests = http_request_count(run.http);
    log_repeated_summary();
    report_new_fields(&run, summary->run_id);
    outcome.status = rc != 0 ? "failed"
                     : summary->days_failed || summary->gaps || summary->projects_locked
                         ? "incomplete"
                         : "ok";
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
        if (rc == 0 && resp.status >= 200 && resp.status < 300)
            printf("api: project %s reachable, credentials accepted\n", cfg->projects[p]);
        if (rc == 0 && (resp.status < 200 || resp.status >= 300)) {
            char what[160];
            snprintf(what, sizeof what, "the list of project %s", cfg->projects[p]);
            rc = status_error(&resp, true, what, cfg->projects[p], err);
        }
        if (rc != 0)
            goto done;
    }
done:
    free_run(&run);
    return rc;
}
