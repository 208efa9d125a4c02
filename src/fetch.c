/* fetch.c -- one project-day's requests into the store; see fetch.h.
 *
 * A phase is a batch of jobs: up to PAGING_MAX_BATCH list pages at once, or every session
 * that needs its details. sched runs the batch through job_ops; each attempt builds an
 * extract whose records go to store_day_add tagged with the attempt's number, and job_done
 * reads the end of the transfer: api's verdict, then the end of the body. When an attempt
 * fails part-way, the rows it staged are discarded and the request is made again from the
 * start. The session ids the list carries are collected once each (live data can shift a
 * session onto the next page).
 */
#include "fetch.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "config.h"
#include "error.h"
#include "extract.h"
#include "log.h"
#include "metrics.h"
#include "paging.h"
#include "sched.h"
#include "store.h"
#include "store_day.h"
#include "strmap.h"

#define MAX_FIELD_PATHS 1000

struct fetch {
    const struct config *cfg;
    struct store *st;
    struct api *api;
    struct sched *sched;
    struct extract_limits limits;
    int attempt_counter;
    struct paging paging; /* its limit shrinks for the rest of the run when pages time out */
    long long listed;     /* sessions the day's list pages held so far (max_sessions_per_day) */
    /* the day */
    const char *project;
    const char *day;
    enum api_stop stop;        /* the day's farthest-reaching failure (api_verdict) */
    struct strmap ids;         /* the day's listed session ids */
    struct strmap page_firsts; /* first session id of every full list page of the day */
    struct fetch_progress progress;
    fetch_progress_fn on_progress;
    void *on_progress_ctx;
    /* the run */
    char *field_paths[MAX_FIELD_PATHS];
    size_t field_path_count;
};

/* One request to make: a list page or one session's details. Kept small (a day can have tens
 * of thousands); its scheduling state is the struct sched_job of the same index. */
struct job {
    struct fetch *f;
    size_t index; /* in its batch */
    struct api_request req;
    struct extract *ex;
    int attempt; /* the current attempt's number: it tags the rows it stages */
    size_t records;
    int new_ids;    /* list: sessions not seen on an earlier page */
    char *first_id; /* list: the page's first session id (an API ignoring `page` repeats it) */
    bool timed_out; /* list: failed by a time-out, to be asked for again smaller */
};

/* A batch as sched runs it (the ctx of job_ops). A job that fails for good has its error
 * kept in errors[i] (list pages: read in page order later) or goes to on_failed (details). */
struct batch {
    struct fetch *f;
    struct job *jobs;
    struct lk_error *errors;
    fetch_failed_fn on_failed;
    void *ctx;
};

/* ---- one request: records from its body into the store ---- */

static int on_record(void *ctx, const struct record *rec, struct lk_error *err)
{
    struct job *job = ctx;
    bool added;

    if (rec->kind == RECORD_LIST_SESSION) {
        if (strmap_put(&job->f->ids, rec->values[LS_SESSION_ID], 0, &added) != 0) {
            lk_error_set(err, LK_ENOMEM, "out of memory");
            return LK_ENOMEM;
        }
        job->new_ids += added ? 1 : 0;
        if (job->first_id == NULL && (job->first_id = strdup(rec->values[LS_SESSION_ID])) == NULL) {
            lk_error_set(err, LK_ENOMEM, "out of memory");
            return LK_ENOMEM;
        }
    }
    return store_day_add(job->f->st, rec, job->attempt, err);
}

static void on_unknown_field(void *ctx, const char *path)
{
    struct fetch *f = ((struct job *)ctx)->f;

    for (size_t i = 0; i < f->field_path_count; i++)
        if (strcmp(f->field_paths[i], path) == 0)
            return;
    if (f->field_path_count < MAX_FIELD_PATHS) {
        char *copy = strdup(path);
        if (copy)
            f->field_paths[f->field_path_count++] = copy;
    }
}

static int feed_body(void *ctx, const char *data, size_t len, struct lk_error *err)
{
    struct job *job = ctx;
    return extract_feed(job->ex, data, len, err);
}

/* Failures after which no other request of the run can succeed: the database, memory,
 * the configuration; or the run was asked to stop. */
static bool stops_the_run(int rc)
{
    return rc == LK_EDB || rc == LK_ENOMEM || rc == LK_ECONFIG || rc == LK_EINTR;
}

/* A failed attempt: nothing it staged may reach the tables; then say how sched should take
 * it. Returns the failure's code (LK_ENOMEM when the rows could not be discarded). */
static int attempt_failed(struct job *job, int rc, enum api_stop stop,
                          const struct http_response *resp, struct sched_outcome *outcome,
                          struct lk_error *failure)
{
    struct fetch *f = job->f;

    if (store_day_discard_attempt(f->st, job->attempt, failure) != 0)
        rc = LK_ENOMEM;
    if (stop > f->stop)
        f->stop = stop;
    /* the batch ends at once when no other of its requests can succeed: the run's or the
     * project's (the caller asks fetch_stops_run / fetch_stops_project which) */
    outcome->stops_run = stops_the_run(rc) || stop != API_STOP_REQUEST;
    /* a list page that times out is asked for again smaller (read_pages), not as it was */
    job->timed_out = !outcome->stops_run && job->req.kind == API_LIST && resp->timed_out &&
                     paging_can_halve(&f->paging);
    outcome->final = job->timed_out;
    return rc;
}

/* A request of kind ended well: tell the progress function. */
static void note_progress(struct fetch *f, enum api_kind kind)
{
    if (kind == API_LIST)
        f->progress.pages++;
    else
        f->progress.details_done++;
    f->progress.sessions = f->ids.count;
    if (f->on_progress)
        f->on_progress(f->on_progress_ctx, &f->progress);
}

/* http_done_fn of every request: read the verdict, finish the body, tell sched. */
static void job_done(void *ctx, int rc, const struct http_response *resp, struct lk_error *err)
{
    struct job *job = ctx;
    struct lk_error failure = *err;
    struct sched_outcome outcome = {
        .err = &failure, .throttled = resp->status == 429, .retry_after_s = resp->retry_after_s};
    enum api_stop stop;

    outcome.answer = (struct ratelimit_answer){resp->status,
                                               resp->retry_after_s,
                                               resp->ratelimit_limit,
                                               resp->ratelimit_remaining,
                                               resp->ratelimit_reset_s,
                                               resp->ratelimit_window_s,
                                               0};
    metrics_count_response(job->req.project, resp->status);
    rc = api_verdict(&job->req, rc, resp, &stop, &failure);
    if (rc == 0)
        rc = extract_finish(job->ex, &failure);
    if (rc == 0)
        job->records = extract_record_count(job->ex);
    extract_free(job->ex);
    job->ex = NULL;
    if (rc != 0)
        rc = attempt_failed(job, rc, stop, resp, &outcome, &failure);
    outcome.rc = rc;
    sched_finished(job->f->sched, job->index, &outcome);
    if (rc == 0)
        note_progress(job->f, job->req.kind);
}

/* ---- sched's view of a batch ---- */

static int job_start(void *ctx, size_t i, struct lk_error *err)
{
    struct job *job = &((struct batch *)ctx)->jobs[i];
    struct fetch *f = job->f;
    struct record_sink sink = {job, on_record, on_unknown_field};
    enum extract_body body = job->req.kind == API_LIST ? EXTRACT_LIST : EXTRACT_DETAILS;
    struct extract_limits limits;
    int rc;

    job->attempt = ++f->attempt_counter;
    job->new_ids = 0;
    free(job->first_id);
    job->first_id = NULL;
    job->timed_out = false;
    limits = f->limits;
    if (body == EXTRACT_LIST) /* a page holding more sessions than asked for is an API error */
        limits.max_records = (size_t)job->req.limit;
    rc = extract_new(&job->ex, body, job->req.session_id, &limits, &sink, err);
    if (rc == 0)
        rc = api_start(f->api, &job->req, feed_body, job_done, job, err);
    return rc;
}

static void job_wait(void *ctx, int timeout_ms)
{
    api_poll(((struct batch *)ctx)->f->api, timeout_ms);
}

static void job_cancel_all(void *ctx)
{
    api_cancel_all(((struct batch *)ctx)->f->api);
}

static void job_describe(void *ctx, size_t i, char *out, size_t size)
{
    api_describe(&((struct batch *)ctx)->jobs[i].req, out, size);
}

static void job_failed(void *ctx, size_t i, const struct lk_error *err)
{
    struct batch *batch = ctx;

    if (batch->errors)
        batch->errors[i] = *err;
    else
        batch->on_failed(batch->ctx, batch->jobs[i].req.session_id, err);
}

static const struct sched_ops job_ops = {job_start, job_wait, job_cancel_all, job_describe,
                                         job_failed};

/* Run a batch of jobs. Returns 0 or the code that stops the run; then what running attempts
 * staged is discarded. */
static int run_batch(struct batch *batch, struct sched_job *states, size_t count,
                     struct lk_error *err)
{
    struct fetch *f = batch->f;
    int rc;

    for (size_t i = 0; i < count; i++) {
        batch->jobs[i].f = f;
        batch->jobs[i].index = i;
    }
    rc = sched_run(f->sched, states, count, &job_ops, batch, err);
    for (size_t i = 0; rc != 0 && i < count; i++) {
        if (states[i].state == SCHED_RUNNING)
            store_day_discard_attempt(f->st, batch->jobs[i].attempt, NULL);
        extract_free(batch->jobs[i].ex);
        batch->jobs[i].ex = NULL;
    }
    return rc;
}

/* ---- the phases ---- */

/* Read a batch of list pages in page order: a page that timed out makes the pages smaller
 * from its offset on; a failed page ends the day; a short page ends the list (*more false);
 * a full page repeating an earlier one means the API ignores `page`. */
static int read_pages(struct fetch *f, const struct job *jobs, const struct sched_job *states,
                      const struct lk_error *errors, int count, int *pages, bool *more,
                      struct lk_error *err)
{
    char what[200];
    bool repeats;

    for (int i = 0; i < count; i++) {
        api_describe(&jobs[i].req, what, sizeof what);
        if (states[i].state == SCHED_FAILED && jobs[i].timed_out) {
            paging_halve_at(&f->paging, i);
            log_warn("%s timed out; asking for pages of %d from offset %lld", what, f->paging.limit,
                     f->paging.offset);
            return 0;
        }
        if (states[i].state == SCHED_FAILED) {
            *err = errors[i];
            return states[i].rc;
        }
        (*pages)++;
        if ((f->listed += (long long)jobs[i].records) > f->cfg->max_sessions_per_day) {
            /* full pages of new ids without end: a bound, not the run budget, stops them */
            lk_error_set(err, LK_EAPI, "day %s of project %s lists more than %ld sessions", f->day,
                         f->project, f->cfg->max_sessions_per_day);
            lk_error_detail(err, "max_sessions_per_day bounds a day's list; the day is not "
                                 "archived; raise the bound if the day is really that big");
            return LK_EAPI;
        }
        if (paging_is_last(jobs[i].records, jobs[i].req.limit)) {
            *more = false;
            return 0;
        }
        if (paging_check_repeat(&f->page_firsts, jobs[i].first_id, jobs[i].new_ids, &repeats) !=
            0) {
            lk_error_set(err, LK_ENOMEM, "out of memory");
            return LK_ENOMEM;
        }
        if (repeats) {
            lk_error_set(err, LK_EAPI, "%s repeats the sessions of earlier pages", what);
            lk_error_detail(err, "the API seems to ignore the page parameter; stopping this "
                                 "day instead of looping");
            return LK_EAPI;
        }
    }
    paging_advance(&f->paging, count);
    return 0;
}

int fetch_list(struct fetch *f, int *pages_out, struct lk_error *err)
{
    struct job jobs[PAGING_MAX_BATCH];
    struct sched_job states[PAGING_MAX_BATCH];
    struct lk_error errors[PAGING_MAX_BATCH];
    struct batch batch = {f, jobs, errors, NULL, NULL};
    int most = paging_batch_size(f->cfg->max_concurrency), count = 1, rc = 0;
    bool more = true;

    /* batches of pages at once, read in page order: one page first (most days fit on one),
     * then twice as many after every batch of full pages, so that no more than a batch's worth
     * is asked for past the end (a page past the end is just empty) */
    *pages_out = 0;
    f->paging.offset = 0;
    f->listed = 0;
    for (; more && rc == 0; count = count * 2 < most ? count * 2 : most) {
        memset(jobs, 0, sizeof jobs);
        for (int i = 0; i < count; i++)
            jobs[i].req = (struct api_request){API_LIST,        f->project,
                                               f->day,          paging_page_index(&f->paging, i),
                                               f->paging.limit, NULL};
        rc = run_batch(&batch, states, (size_t)count, err);
        if (rc == 0)
            rc = read_pages(f, jobs, states, errors, count, pages_out, &more, err);

        for (int i = 0; i < count; i++)
            free(jobs[i].first_id);
    }
    return rc;
}

int fetch_details(struct fetch *f, char *const *ids, size_t count, fetch_failed_fn on_failed,
                  void *ctx, long long *fetched_out, struct lk_error *err)
{
    struct job *jobs = calloc(count ? count : 1, sizeof *jobs);
    struct sched_job *states = calloc(count ? count : 1, sizeof *states);
    struct batch batch = {f, jobs, NULL, on_failed, ctx};
    int rc = LK_ENOMEM;

    *fetched_out = 0;
    if (jobs == NULL || states == NULL) {
        lk_error_set(err, rc, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < count; i++)
        jobs[i].req = (struct api_request){API_DETAILS, f->project, f->day, 0, 0, ids[i]};
    f->progress.details_total = count;
    rc = run_batch(&batch, states, count, err);
    for (size_t i = 0; rc == 0 && i < count; i++)
        *fetched_out += states[i].state == SCHED_DONE;
done:
    free(jobs);
    free(states);
    return rc;
}

/* ---- the handle ---- */

int fetch_new(struct fetch **out, const struct config *cfg, struct store *st, struct lk_error *err)
{
    struct sched_policy policy = {cfg->max_attempts, cfg->retry_base_ms, cfg->max_concurrency,
                                  (long long)cfg->run_budget_s * 1000};
    struct fetch *f = calloc(1, sizeof *f);
    int rc = LK_ENOMEM;

    *out = NULL;
    if (f == NULL) {
        lk_error_set(err, rc, "out of memory");
        goto done;
    }
    f->cfg = cfg;
    f->st = st;
    f->limits.max_string_bytes = cfg->max_string_bytes;
    f->limits.max_depth = cfg->max_depth;
    f->limits.max_body_bytes = cfg->max_body_bytes;
    f->limits.max_record_bytes = cfg->max_record_bytes;
    f->paging = (struct paging){0, cfg->page_limit, cfg->min_page_limit};
    rc = api_new(&f->api, cfg, err);
    if (rc == 0)
        rc = sched_new(&f->sched, &policy, (unsigned int)time(NULL) ^ (unsigned int)clock(), err);
    if (rc == 0) {
        *out = f;
        f = NULL;
    }
done:
    fetch_free(f);
    return rc;
}

void fetch_free(struct fetch *f)
{
    if (f == NULL)
        return;
    strmap_clear(&f->ids);
    strmap_clear(&f->page_firsts);
    for (size_t i = 0; i < f->field_path_count; i++)
        free(f->field_paths[i]);
    api_free(f->api);
    sched_free(f->sched);
    free(f);
}

void fetch_set_store(struct fetch *f, struct store *st)
{
    assert(f != NULL && st != NULL);
    f->st = st;
}

void fetch_set_pace(struct fetch *f, struct ratelimit *pace)
{
    sched_set_pace(f->sched, pace);
}

void fetch_begin_day(struct fetch *f, const char *project, const char *day)
{
    f->project = project;
    f->day = day;
    f->stop = API_STOP_REQUEST;
    strmap_clear(&f->ids);
    strmap_clear(&f->page_firsts);
    memset(&f->progress, 0, sizeof f->progress);
}

void fetch_set_progress(struct fetch *f, fetch_progress_fn fn, void *ctx)
{
    f->on_progress = fn;
    f->on_progress_ctx = ctx;
}

size_t fetch_listed_count(const struct fetch *f)
{
    return f->ids.count;
}

bool fetch_stops_run(const struct fetch *f, int rc)
{
    return stops_the_run(rc) || f->stop == API_STOP_RUN;
}

bool fetch_stops_project(const struct fetch *f)
{
    return f->stop == API_STOP_PROJECT;
}

bool fetch_out_of_time(const struct fetch *f)
{
    return sched_out_of_time(f->sched);
}

unsigned long fetch_request_count(const struct fetch *f)
{
    return api_request_count(f->api);
}

char *const *fetch_unknown_fields(const struct fetch *f, size_t *count_out)
{
    *count_out = f->field_path_count;
    return f->field_paths;
}
