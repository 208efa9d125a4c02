/* window.c -- the run's loops: each configured project, each UTC day of the window.
 *
 * Flow per project-day: store_day_begin; fetch_list stores the day's list pages;
 * store_day_sessions_needing_details names the sessions whose details are missing or
 * changed; fetch_details stores those; store_day_commit. The day is complete only when it is
 * over, every page and detail was stored and no session is still active. A day's outcome
 * goes to the caller's on_day and into the run summary. Errors are logged where they are
 * decided: a failed session or day here (the run goes on), an error that stops the run by
 * window_run's caller (it comes back with the project and day it happened on).
 *
 * Fetch while merging (window_options.spare): day N is fetched into one store, then its
 * commit runs in the committer thread while day N+1 is fetched into the other store. Before
 * day N+1 is committed (and before gaps, the next project, the run's end) day N's commit is
 * waited for and day N is finished here, in day order: reported, or archived again on its
 * own store (isolation, reconnect) as one day at a time would. Two day slots, one per store.
 *
 * Projects side by side (parallel_projects > 1, several projects): the API limits each
 * project separately, so a worker thread per project (up to parallel_projects at once) takes
 * the next project from a shared queue and archives it on a connection of its own, one day
 * at a time, with its own fetch (requests, pace). A struct run is one worker's state; the
 * caller's callbacks and the queue are under shared->lock. A worker that meets an error that
 * stops the run stops the others after their current day. Each project's pace (ratelimit.h)
 * starts from the rate livekit.api_rate_limits remembers and is saved there after the
 * project; before its first day the night's requests are estimated from the ledger, and when
 * they would not fit in run_budget the days not yet complete go first, oldest first.
 */
#include "window.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "committer.h"
#include "config.h"
#include "error.h"
#include "fetch.h"
#include "log.h"
#include "metrics.h"
#include "process.h"
#include "ratelimit.h"
#include "sched.h"
#include "store.h"
#include "store_rate.h"

struct run;

/* What the workers of a run share. */
struct shared {
    pthread_mutex_t lock; /* the caller's callbacks, and the fields below */
    size_t next_project;  /* the index in cfg->projects a worker takes next */
    bool stop;            /* a worker met an error that stops the run */
};

/* One project-day being archived, on its store (a slot per store). */
struct day {
    struct run *run;
    struct store *st;
    char day[DATE_TEXT_SIZE];
    struct day_result result;
    struct day_counts counts;
    struct lk_error err;   /* why the day failed */
    struct commit_job job; /* its commit in the committer thread */
    int failed_details;    /* sessions whose details failed for good */
    bool isolate;          /* archiving the day again after PostgreSQL refused a value */
    char first_failure[600];
};

/* One worker: the projects it archives, one after another (all of them when projects are not
 * fetched side by side). */
struct run {
    const struct config *cfg;
    const struct window_options *options;
    struct shared *shared;
    const char *start;  /* the window's first day */
    struct store *st;   /* the worker's connection: the project locks, the days, the ledger */
    bool own_store;     /* opened for the worker (side by side), freed with it */
    struct fetch *fetch;
    struct run_summary summary; /* the worker's part of the run's summary */
    size_t project_index;       /* in cfg->projects */
    const char *project;
    const char *day;             /* the day in the log context (progress lines) */
    struct day days[2];          /* days[1] only with a spare store (fetch while merging) */
    struct committer *committer; /* NULL: one day at a time */
    struct day *pending;         /* committing in the committer thread */
    struct ratelimit pace;       /* the project's */
    pthread_t thread;            /* side by side: the worker's thread */
    bool started;
    int rc; /* the error that stopped the worker (err says why), 0: none */
    struct lk_error err;
};

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

/* fetch_failed_fn: one broken session must not cost the others; the day stays pending. */
static void session_failed(void *ctx, const char *session_id, const struct lk_error *err)
{
    struct day *day = ctx;
    struct lk_error named = *err;

    lk_error_prefix(&named, "session %s", session_id);
    log_lk_error(LOG_LEVEL_ERROR, &named);
    note_error(&day->run->summary, err);
    if (day->failed_details++ == 0)
        snprintf(day->first_failure, sizeof day->first_failure, "%s", named.message);
}

static void free_ids(char **ids, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(ids[i]);
    free(ids);
}

/* Open the day, then its list and details phases. */
static int fetch_day(struct run *run, struct day *day, struct lk_error *err)
{
    struct day_result *result = &day->result;
    bool full = run->options->full;
    char **needing = NULL;
    size_t needing_count = 0;
    int rc;

    if (fetch_out_of_time(run->fetch)) {
        lk_error_set(err, LK_ERETRY, "the run's time budget (run_budget) is used up");
        lk_error_detail(err, "this day was not fetched; the next run will");
        return LK_ERETRY;
    }
    rc = store_day_begin(day->st, run->project, day->day, full, day->isolate, err);
    if (rc == 0)
        rc = fetch_list(run->fetch, &result->pages, err);
    if (rc == 0)
        rc = store_day_sessions_needing_details(day->st, full, &needing, &needing_count, err);
    if (rc == 0) {
        result->details_skipped = (long long)(fetch_listed_count(run->fetch) - needing_count);
        rc = fetch_details(run->fetch, needing, needing_count, session_failed, day,
                           &result->details_fetched, err);
    }
    free_ids(needing, needing_count);
    return rc;
}

/* The caller's on_day, one worker at a time (its lines never interleave). */
static void report_day(const struct run *run, const struct day_report *report)
{
    if (run->options->on_day == NULL)
        return;
    pthread_mutex_lock(&run->shared->lock);
    run->options->on_day(run->options->on_day_ctx, report);
    pthread_mutex_unlock(&run->shared->lock);
}

/* The day was stored: count it and report it. */
static void day_stored(struct run *run, const struct day *day)
{
    const struct day_result *result = &day->result;
    const struct day_counts *counts = &day->counts;
    struct run_summary *summary = &run->summary;
    struct day_report report = {
        .project = run->project,
        .day = day->day,
        .status = day->failed_details || counts->refused_sessions ? DAY_PARTIAL
                  : counts->complete                              ? DAY_COMPLETE
                                                                  : DAY_PENDING,
        .sessions = counts->sessions,
        .participants = counts->participants,
        .connections = counts->connections,
        .active_sessions = counts->active_sessions,
        .pages = result->pages,
        .details_fetched = result->details_fetched,
        .details_skipped = result->details_skipped,
        .dry_run = run->options->dry_run,
        .new_sessions = counts->new_sessions,
        .changed_sessions = counts->changed_sessions,
        .unchanged_sessions = counts->unchanged_sessions,
    };

    summary->sessions += counts->sessions;
    summary->participants += counts->participants;
    summary->connections += counts->connections;
    summary->details_fetched += result->details_fetched;
    summary->details_skipped += result->details_skipped;
    summary->new_sessions += counts->new_sessions;
    summary->changed_sessions += counts->changed_sessions;
    summary->unchanged_sessions += counts->unchanged_sessions;
    summary->days_failed += report.status == DAY_PARTIAL;
    summary->days_complete += report.status == DAY_COMPLETE;
    summary->days_pending += report.status == DAY_PENDING;
    report_day(run, &report);
}

/* The day failed: roll it back, record and report it. Returns 0 when the run goes on (the
 * error is logged here), else rc: the error stops the run and is logged by the caller. */
static int day_failed(struct run *run, struct day *day, int rc)
{
    const struct lk_error *err = &day->err;
    struct day_report report = {
        .project = run->project, .day = day->day, .status = DAY_FAILED, .error = err->message};
    bool stops = fetch_stops_run(run->fetch, rc);

    if (!stops)
        log_lk_error(LOG_LEVEL_ERROR, err);
    note_error(&run->summary, err);
    run->summary.days_failed++;
    store_day_abort(day->st, run->summary.run_id, run->project, day->day, err->message);
    report_day(run, &report);
    return stops ? rc : 0;
}

/* Fetch one project-day into its store, up to its commit; the day is still open on failure
 * (and, on success, until committed). */
static int stage_day(struct run *run, struct day *day)
{
    struct day_result *result = &day->result;
    int rc;

    fetch_set_store(run->fetch, day->st);
    fetch_begin_day(run->fetch, run->project, day->day);
    memset(result, 0, sizeof *result);
    lk_error_init(&day->err);
    day->failed_details = 0;
    day->first_failure[0] = '\0';
    rc = fetch_day(run, day, &day->err);
    if (rc == 0) {
        /* today's list can still grow; store adds: no session may still be active */
        result->complete = day->failed_details == 0 && strcmp(day->day, run->options->today) < 0;
        result->error = day->failed_details ? day->first_failure : NULL;
    }
    return rc;
}

/* Fetch and store one project-day; the day is still open on failure. */
static int try_day(struct run *run, struct day *day)
{
    int rc = stage_day(run, day);

    if (rc == 0)
        rc = store_day_commit(day->st, run->summary.run_id, &day->result, &day->counts, &day->err);
    return rc;
}

/* The first attempt at a day ended with rc (0: stored). PostgreSQL refusing a value the API
 * sent costs that session, not the day: the day is archived again in isolation
 * (store_day_begin). Returns 0 when the run may go on (the day's own failure is in the
 * summary), or the code that must stop the run. */
static int settle_day(struct run *run, struct day *day, int rc)
{
    if (rc == LK_EVALUE && !day->isolate) {
        log_lk_error(LOG_LEVEL_WARN, &day->err); /* handled here: the day is archived again */
        log_warn("archiving the day again, session by session, so that the refused value costs "
                 "only its session");
        store_day_abort(day->st, run->summary.run_id, run->project, day->day, day->err.message);
        day->isolate = true;
        rc = try_day(run, day);
    }
    if (rc != 0)
        return day_failed(run, day, rc);
    day_stored(run, day);
    return 0;
}

/* Archive one project-day, one attempt then settle_day. */
static int archive_day(struct run *run, struct day *day)
{
    day->isolate = false;
    return settle_day(run, day, try_day(run, day));
}

/* PostgreSQL restarted or went away (the server rolled the open day back): reconnect up to
 * db_reconnect_attempts times (at least once), waiting 1, 2, 4, 8, then 16 s between attempts
 * while the server cannot be reached. */
static int reconnect_store(struct run *run, struct store *st, struct lk_error *err)
{
    int attempts = run->cfg->db_reconnect_attempts, rc;

    for (int attempt = 1;; attempt++) {
        long long delay_s = 1LL << (attempt - 1 < 4 ? attempt - 1 : 4);
        struct timespec wait = {(time_t)delay_s, 0};

        rc = store_reconnect(st, err);
        if (rc == 0) {
            log_info("reconnected to PostgreSQL (attempt %d)", attempt);
            break;
        }
        /* reached but refused (time zone, locks), or out of attempts: err says why */
        if (store_connection_ok(st) || attempt >= attempts)
            break;
        log_warn("PostgreSQL unreachable: %s; reconnecting in %lld s (attempt %d of %d)",
                 err->detail, delay_s, attempt + 1, attempts);
        nanosleep(&wait, NULL);
    }
    return rc;
}

/* The first attempt at a day ended with rc: settle it (settle_day); after a lost database
 * connection, reconnect the day's store and archive it again (twice at most). */
static int finish_day(struct run *run, struct day *day, int rc)
{
    rc = settle_day(run, day, rc);
    for (int again = 0; rc == LK_EDB && !store_connection_ok(day->st) && again < 2; again++) {
        log_lk_error(LOG_LEVEL_ERROR, &day->err); /* handled here: the day is tried again */
        rc = reconnect_store(run, day->st, &day->err);
        if (rc != 0)
            break;
        run->summary.days_failed--; /* it is archived again now */
        rc = archive_day(run, day);
    }
    return rc;
}

/* Log lines and progress under this day from now on. */
static void enter_day(struct run *run, const struct day *day)
{
    run->day = day->day;
    log_set_context(run->project, day->day);
}

static void leave_day(struct run *run)
{
    log_similar_flush(); /* the day's counted warnings, under its context */
    log_set_context(NULL, NULL);
    run->day = NULL;
}

/* The day's error, for the caller that logs it: say where it happened. */
static void day_error(const struct run *run, const struct day *day, struct lk_error *err)
{
    *err = day->err;
    lk_error_prefix(err, "project=%s day=%s", run->project, day->day);
}

/* One day at a time: fetch, commit, settle. */
static int sequential_day(struct run *run, struct day *day, struct lk_error *err)
{
    int rc;

    enter_day(run, day);
    day->isolate = false;
    rc = finish_day(run, day, try_day(run, day));
    if (rc != 0)
        day_error(run, day, err);
    leave_day(run);
    return rc;
}

/* Wait for the day committing in the committer thread, then finish it here (finish_day).
 * Returns 0, or the code that stops the run with err set. */
static int settle_pending(struct run *run, struct lk_error *err)
{
    struct day *day = run->pending;
    int rc;

    if (day == NULL)
        return 0;
    committer_wait(run->committer);
    run->pending = NULL;
    enter_day(run, day);
    rc = finish_day(run, day, day->job.rc);
    if (rc != 0)
        day_error(run, day, err);
    leave_day(run);
    return rc;
}

/* Hand the fetched day's commit to the committer thread. */
static void submit_day(struct run *run, struct day *day)
{
    day->job = (struct commit_job){.st = day->st,
                                   .run_id = run->summary.run_id,
                                   .project = run->project,
                                   .day = day->day,
                                   .result = &day->result,
                                   .counts = &day->counts,
                                   .err = &day->err};
    committer_submit(run->committer, &day->job);
    run->pending = day;
}

/* Fetch while merging: fetch the day into its store while the day before commits on the
 * other; then settle the day before, and hand this one's commit over (or settle it here when
 * its fetch failed). */
static int pipeline_day(struct run *run, struct day *day, struct lk_error *err)
{
    int rc, before;

    enter_day(run, day);
    day->isolate = false;
    rc = stage_day(run, day);
    leave_day(run);
    before = settle_pending(run, err);
    enter_day(run, day);
    if (before != 0) {
        /* the run stops at the day before: this one is rolled back, not committed */
        store_day_abort(day->st, run->summary.run_id, run->project, day->day, err->message);
        rc = before;
    } else if (rc == 0) {
        submit_day(run, day);
    } else if ((rc = finish_day(run, day, rc)) != 0) {
        day_error(run, day, err);
    }
    leave_day(run);
    return rc;
}

/* The days of the project before the API's window that are not complete (permanent gaps):
 * each is logged, and those not acknowledged are counted; `acknowledge` (option or config)
 * marks them acknowledged instead. Days left pending only because sessions were still active
 * are reported, but are not gaps. */
static int check_gaps(struct run *run, struct lk_error *err)
{
    bool acknowledge = (run->options->acknowledge_gaps || run->cfg->acknowledge_gaps) &&
                       !run->options->dry_run; /* a dry run writes nothing */
    char horizon[DATE_TEXT_SIZE];
    struct gap_row *rows = NULL;
    size_t count = 0;
    int rc;

    /* lost means beyond what the API still serves, whatever --days says */
    date_add_days(horizon, run->options->today, -(API_WINDOW_DAYS - 1));
    rc = store_gap_rows(run->st, run->project, horizon, &rows, &count, err);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const struct gap_row *gap = &rows[i];
        if (gap->active_only) {
            log_info("project %s day %s left the window with %lld session(s) still active; "
                     "their last archived state is kept",
                     run->project, gap->day, gap->active_sessions);
        } else if (gap->acknowledged) {
            continue;
        } else if (acknowledge) {
            rc = store_acknowledge_gap(run->st, run->project, gap->day, err);
            if (rc == 0)
                log_warn("project %s day %s is a gap (%s); acknowledged", run->project, gap->day,
                         gap->status);
        } else {
            run->summary.gaps++;
            log_error("project %s day %s left the %d-day window without being archived "
                      "(%s%s%s): it is lost for good",
                      run->project, gap->day, API_WINDOW_DAYS, gap->status,
                      gap->last_error[0] ? ": " : "", gap->last_error);
        }
    }
    store_gap_rows_free(rows, count);
    return rc;
}

/* A project's first run: what it archives, and how far back the API can still go. */
static void say_first_run(const struct run *run, const char *start)
{
    char horizon[DATE_TEXT_SIZE], before_start[DATE_TEXT_SIZE];

    date_add_days(horizon, run->options->today, -(API_WINDOW_DAYS - 1));
    log_info("first run for project %s: the API still serves %s .. %s; anything older is "
             "beyond its %d-day window and cannot be archived any more",
             run->project, horizon, run->options->today, API_WINDOW_DAYS);
    if (strcmp(start, horizon) != 0) {
        date_add_days(before_start, start, -1);
        log_info("this run archives only %s .. %s (--days %d): %s .. %s can still be archived "
                 "with --days %d (window_days: %d), and %s leaves the window after today",
                 start, run->options->today, run->options->days, horizon, before_start,
                 API_WINDOW_DAYS, API_WINDOW_DAYS, horizon);
    }
}

/* Whether another worker met an error that stops the run: no further day is begun. */
static bool run_stopped(struct run *run)
{
    bool stop;

    pthread_mutex_lock(&run->shared->lock);
    stop = run->shared->stop;
    pthread_mutex_unlock(&run->shared->lock);
    return stop;
}

/* SIGTERM or SIGINT asked the run to stop (process.h): no further day is begun. */
static int stop_requested(struct lk_error *err)
{
    int signo = process_stop_signal();

    if (signo == 0)
        return 0;
    lk_error_set(err, LK_EINTR, "interrupted by %s", signo == SIGINT ? "SIGINT" : "SIGTERM");
    lk_error_detail(err, "the days not begun are archived by the next run");
    return LK_EINTR;
}

/* The project's pace: from the rate saved for its domain, under its ceiling. */
static int begin_pace(struct run *run, struct lk_error *err)
{
    const char *key = config_project_api_key(run->cfg, run->project_index);
    struct store_rate saved;
    int rc = store_rate_load(run->st, run->project, key, &saved, err);

    if (rc != 0)
        return rc;
    ratelimit_init(&run->pace, saved.requests_per_minute, saved.limited,
                   config_project_max_rpm(run->cfg, run->project_index), sched_now_ms());
    fetch_set_pace(run->fetch, &run->pace);
    if (saved.requests_per_minute > 0)
        log_info("project %s: requests start at %.0f a minute (%s)", run->project,
                 ratelimit_rpm(&run->pace),
                 saved.limited ? "the API's limit as the last run learned it"
                               : "the last run's pace; it met no limit");
    return 0;
}

/* Save what the project's pace learned (a failure is only logged: the days are archived). */
static void end_pace(struct run *run)
{
    const struct ratelimit *pace = &run->pace;
    struct store_rate learned = {ratelimit_learned_rpm(pace), pace->limited, pace->requests,
                                 pace->throttled, (double)pace->wait_ms / 1000.0};
    struct lk_error err;

    fetch_set_pace(run->fetch, NULL);
    if (pace->requests == 0)
        return;
    metrics_note_pace(run->project, learned.requests_per_minute, learned.limited, learned.wait_s);
    if (pace->throttled > 0 || pace->wait_ms > 0)
        log_info("project %s: %lld requests, %lld answered 429; %.1f s waited on the rate limit; "
                 "the pace ended at %.0f a minute",
                 run->project, pace->requests, pace->throttled, learned.wait_s,
                 learned.requests_per_minute);
    lk_error_init(&err);
    if (store_rate_save(run->st, run->summary.run_id, run->project,
                        config_project_api_key(run->cfg, run->project_index), &learned,
                        &err) != 0)
        log_lk_error(LOG_LEVEL_WARN, &err);
}

/* The requests the day needs, as the ledger knows it (row NULL: never archived) and
 * `typical` sessions for a day it does not know: the list pages, then the details of the
 * sessions not yet final (all of a day that failed or is new; the active ones and a tenth of
 * the others of a pending one: sessions that settled or were added since). */
static long long day_requests(const struct run *run, const struct status_row *row,
                              long long typical)
{
    bool known = row && strcmp(row->status, "missing") != 0;
    long long sessions = known && row->sessions > typical ? row->sessions : typical;
    long long pages = sessions / run->cfg->page_limit + 1;

    if (!known || strcmp(row->status, "failed") == 0 || run->options->full)
        return pages + sessions;
    if (strcmp(row->status, "complete") == 0)
        return pages;
    return pages + row->active_sessions + (sessions - row->active_sessions) / 10;
}

/* The night's work for the project: the days in the order they are archived (order[d] is an
 * offset from the window's start). When the requests the ledger lets us expect would not
 * fit in run_budget at the project's pace, say so, and put the days not yet complete first,
 * oldest first: they leave the API's window soonest. */
static void plan_days(struct run *run, int order[API_WINDOW_DAYS])
{
    const struct status_row *by_day[API_WINDOW_DAYS] = {0};
    struct status_row *rows = NULL;
    size_t count = 0;
    bool migrated;
    long long typical = 0, requests = 0;
    double minutes;
    int n = 0;
    struct lk_error err;

    for (int d = 0; d < run->options->days; d++)
        order[d] = d;
    lk_error_init(&err);
    if (store_status_rows(run->st, run->options->today, run->start, run->project, &rows, &count,
                          &migrated, &err) != 0) {
        log_lk_error(LOG_LEVEL_DEBUG, &err); /* only an estimate: the days go in order */
        return;
    }
    for (size_t i = 0; i < count; i++) {
        char day[DATE_TEXT_SIZE];
        for (int d = 0; d < run->options->days; d++)
            if (strcmp(rows[i].day, (date_add_days(day, run->start, d), day)) == 0)
                by_day[d] = &rows[i];
        if (strcmp(rows[i].status, "missing") != 0 && rows[i].sessions > typical)
            typical = rows[i].sessions;
    }
    for (int d = 0; d < run->options->days; d++)
        requests += day_requests(run, by_day[d], typical);
    minutes = (double)requests / ratelimit_rpm(&run->pace);
    if (run->pace.slow_start || minutes * 60 <= run->cfg->run_budget_s) {
        log_debug("project %s: about %lld requests expected", run->project, requests);
        store_status_rows_free(rows, count);
        return;
    }
    log_warn("project %s: about %lld requests expected at %.0f a minute: ~%.0f min, more than "
             "run_budget (%.0f min)",
             run->project, requests, ratelimit_rpm(&run->pace), minutes,
             run->cfg->run_budget_s / 60.0);
    log_detail(LOG_LEVEL_WARN, "the days not yet complete go first, oldest first: they leave the "
                               "API's window soonest; run more often, or raise run_budget");
    for (int pass = 0; pass < 2; pass++)
        for (int d = 0; d < run->options->days; d++) {
            bool complete = by_day[d] && strcmp(by_day[d]->status, "complete") == 0;
            if (complete == (pass == 1))
                order[n++] = d;
        }
    store_status_rows_free(rows, count);
}

/* Every day of the window for run->project, then its gaps. A project another run holds is
 * skipped (logged and counted). */
static int run_project(struct run *run, struct lk_error *err)
{
    const char *start = run->start;
    struct lk_error settle_err;
    bool first_run = false;
    int order[API_WINDOW_DAYS];
    int rc = store_lock_project(run->st, run->project, run->cfg->lock_wait_s, err), settled;

    if (rc == LK_ELOCKED) {
        /* the other run archives this project; ours goes on with the next */
        log_lk_error(LOG_LEVEL_ERROR, err);
        note_error(&run->summary, err);
        run->summary.projects_locked++;
        return 0;
    }
    if (rc == 0)
        rc = store_is_new_project(run->st, run->project, &first_run, err);
    if (rc == 0 && first_run)
        say_first_run(run, start);
    if (rc == 0)
        rc = begin_pace(run, err);
    if (rc == 0)
        plan_days(run, order);
    for (int d = 0; d < run->options->days && rc == 0 && !run_stopped(run); d++) {
        struct day *day = &run->days[run->committer ? d % 2 : 0];

        if ((rc = stop_requested(err)) != 0)
            break;
        date_add_days(day->day, start, order[d]);
        rc = run->committer ? pipeline_day(run, day, err) : sequential_day(run, day, err);
    }
    /* the last day's commit, before the ledger is read or the run goes on or stops */
    lk_error_init(&settle_err);
    settled = settle_pending(run, &settle_err);
    if (rc == 0 && settled != 0) {
        *err = settle_err;
        rc = settled;
    }
    if (rc == 0)
        rc = check_gaps(run, err);
    if (rc == LK_EDB && run->committer && !store_connection_ok(run->st)) {
        /* the database restarted while the last days went through the spare store: the
         * run's own connection learns it only now */
        log_lk_error(LOG_LEVEL_ERROR, err); /* handled here: the gaps are read again */
        rc = reconnect_store(run, run->st, err);
        if (rc == 0)
            rc = check_gaps(run, err);
    }
    if (store_connection_ok(run->st))
        end_pace(run);
    return rc;
}

/* Name the field paths never seen before, so upstream schema drift is noticed. */
static void report_new_fields(struct store *st, long long run_id, const struct fetch *fetch)
{
    struct lk_error err;
    size_t count, fresh_count = 0;
    char *const *paths = fetch_unknown_fields(fetch, &count);
    char **fresh = NULL;

    lk_error_init(&err);
    if (count == 0)
        return;
    if (store_note_fields(st, run_id, paths, count, &fresh, &fresh_count, &err) != 0) {
        log_lk_error(LOG_LEVEL_WARN, &err); /* only a report: the run's outcome stands */
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

/* Close the run's ledger row on st. rc is the run's result so far; a failure to close it is
 * returned only when the run had none (else the run's own error is the one to report). */
static int finish_run(struct store *st, struct run_summary *summary, int rc, struct lk_error *err)
{
    struct run_outcome outcome;
    struct lk_error finish_err;

    log_repeated_summary();
    outcome.status = rc == LK_EINTR ? "interrupted"
                     : rc != 0      ? "failed"
                     : summary->days_failed || summary->gaps || summary->projects_locked
                         ? "incomplete"
                         : "ok";
    outcome.requests = (long long)summary->requests;
    outcome.warnings = (long long)log_warning_count();
    outcome.message = summary->first_error[0] ? summary->first_error : NULL;
    lk_error_init(&finish_err);
    if (store_run_finish(st, summary->run_id, &outcome, &finish_err) != 0 && rc == 0) {
        *err = finish_err;
        rc = finish_err.code;
    }
    return rc;
}

/* fetch_progress_fn: the day's progress, with its project and day, to the caller. */
static void forward_progress(void *ctx, const struct fetch_progress *progress)
{
    const struct run *run = ctx;
    struct day_progress out = {run->project,
                               run->day,
                               progress->pages,
                               (long long)progress->sessions,
                               (long long)progress->details_done,
                               (long long)progress->details_total};

    pthread_mutex_lock(&run->shared->lock);
    run->options->on_progress(run->options->on_progress_ctx, &out);
    pthread_mutex_unlock(&run->shared->lock);
}

/* With a spare store: give it the run's store settings and start the committer thread; a
 * thread that cannot start leaves the run one day at a time. */
static void start_committer(struct run *run)
{
    struct lk_error err;

    if (run->options->spare == NULL)
        return;
    store_copy_settings(run->options->spare, run->st);
    lk_error_init(&err);
    if (committer_start(&run->committer, &err) != 0) {
        log_lk_error(LOG_LEVEL_WARN, &err);
        log_detail(LOG_LEVEL_WARN, "archiving one day at a time");
    }
}

/* Take projects from the queue and archive each, until none is left or the run stops. */
static void archive_projects(struct run *run)
{
    struct shared *shared = run->shared;

    for (;;) {
        pthread_mutex_lock(&shared->lock);
        if (shared->stop || shared->next_project >= run->cfg->project_count) {
            pthread_mutex_unlock(&shared->lock);
            break;
        }
        run->project_index = shared->next_project++;
        pthread_mutex_unlock(&shared->lock);
        run->project = run->cfg->projects[run->project_index];
        lk_error_init(&run->err);
        run->rc = run_project(run, &run->err);
        if (run->rc != 0) {
            pthread_mutex_lock(&shared->lock);
            shared->stop = true;
            pthread_mutex_unlock(&shared->lock);
            break;
        }
    }
}

static void *worker_main(void *arg)
{
    archive_projects(arg);
    return NULL;
}

/* Set up worker i: its store (st, or a connection of its own when own_store), its fetch.
 * Returns 0, or the failure (the worker is left unused). */
static int worker_init(struct run *run, struct store *st, bool own_store, struct lk_error *err)
{
    int rc = 0;

    if (own_store) {
        rc = store_open(&run->st, run->cfg->database_url, err);
        if (rc == 0)
            store_copy_settings(run->st, st);
        run->own_store = rc == 0;
    } else {
        run->st = st;
    }
    run->days[0] = (struct day){.run = run, .st = run->st};
    if (rc == 0)
        rc = fetch_new(&run->fetch, run->cfg, run->st, err);
    if (rc == 0 && run->options->on_progress)
        fetch_set_progress(run->fetch, forward_progress, run);
    return rc;
}

static void worker_dispose(struct run *run)
{
    committer_free(run->committer);
    fetch_free(run->fetch);
    if (run->own_store)
        store_free(run->st);
}

/* Start the workers side by side, each in its thread on its own connection; those that
 * cannot start (no connection, say) are left out. Returns how many started. */
static size_t start_workers(struct run *runs, size_t count, struct store *st)
{
    size_t started = 0;
    sigset_t stop, old;

    /* the stop signals stay with the caller's thread, as the committer's do */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    for (size_t i = 0; i < count; i++) {
        if (worker_init(&runs[i], st, true, &runs[i].err) != 0) {
            log_lk_error(LOG_LEVEL_WARN, &runs[i].err);
            log_detail(LOG_LEVEL_WARN, "fetching %zu project(s) at once instead of %zu", started,
                       count);
            break;
        }
        runs[i].started = pthread_create(&runs[i].thread, NULL, worker_main, &runs[i]) == 0;
        if (!runs[i].started)
            break;
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return started;
}

/* Add a worker's summary to the run's. */
static void add_summary(struct run_summary *into, const struct run_summary *from)
{
    into->days_complete += from->days_complete;
    into->days_pending += from->days_pending;
    into->days_failed += from->days_failed;
    into->sessions += from->sessions;
    into->participants += from->participants;
    into->connections += from->connections;
    into->details_fetched += from->details_fetched;
    into->details_skipped += from->details_skipped;
    into->new_sessions += from->new_sessions;
    into->changed_sessions += from->changed_sessions;
    into->unchanged_sessions += from->unchanged_sessions;
    into->gaps += from->gaps;
    into->projects_locked += from->projects_locked;
    if (severity(from->worst_error) > severity(into->worst_error))
        into->worst_error = from->worst_error;
    if (into->first_error[0] == '\0')
        memcpy(into->first_error, from->first_error, sizeof into->first_error);
}

/* How many workers fetch projects side by side: one (on the run's connection, fetching while
 * merging when there is a spare) unless several projects may go at once. */
static size_t worker_count(const struct config *cfg)
{
    size_t n = (size_t)cfg->parallel_projects;
    return n < cfg->project_count ? n : cfg->project_count;
}

/* Archive every project with `count` workers (runs[0..count) prepared with the shared state
 * and the run id). Returns the error that stopped the run (err says why), 0: none. */
static int archive_all(struct run *runs, size_t count, struct store *st, struct lk_error *err)
{
    size_t started = count > 1 ? start_workers(runs, count, st) : 0;
    int rc = 0;

    if (started == 0) { /* one worker on the run's own connection */
        if (runs[0].fetch == NULL && (rc = worker_init(&runs[0], st, false, err)) != 0)
            return rc;
        runs[0].days[1] = (struct day){.run = &runs[0], .st = runs[0].options->spare};
        start_committer(&runs[0]);
        archive_projects(&runs[0]);
        started = 1;
    }
    for (size_t i = 0; i < count; i++)
        if (runs[i].started)
            pthread_join(runs[i].thread, NULL);
    for (size_t i = 0; i < started; i++)
        if (runs[i].rc != 0 && rc == 0) {
            rc = runs[i].rc;
            *err = runs[i].err;
        }
    return rc;
}

int window_run(const struct config *cfg, const struct window_options *options, struct store *st,
               struct run_summary *summary, struct lk_error *err)
{
    struct shared shared = {.next_project = 0, .stop = false};
    size_t count = worker_count(cfg);
    struct run *runs = calloc(count ? count : 1, sizeof *runs);
    char start[DATE_TEXT_SIZE];
    int rc = LK_ENOMEM;

    memset(summary, 0, sizeof *summary);
    pthread_mutex_init(&shared.lock, NULL);
    if (runs == NULL) {
        lk_error_set(err, rc, "out of memory");
        goto done;
    }
    date_add_days(start, options->today, -(options->days - 1));
    store_set_settling(st, cfg->settling_time_s);
    rc = store_run_begin(st, options->today, start, options->today, cfg->projects,
                         cfg->project_count, &summary->run_id, err);
    if (rc != 0)
        goto done;
    log_set_run(summary->run_id);
    if (options->dry_run)
        log_info("dry run: %zu project(s), %s .. %s; nothing is written", cfg->project_count, start,
                 options->today);
    else
        log_info("run %lld: %zu project(s), %s .. %s%s", summary->run_id, cfg->project_count,
                 start, options->today, count > 1 ? " (projects side by side)" : "");
    for (size_t i = 0; i < count; i++) {
        runs[i] = (struct run){.cfg = cfg, .options = options, .shared = &shared, .start = start};
        runs[i].summary.run_id = summary->run_id;
    }
    rc = archive_all(runs, count, st, err);
    for (size_t i = 0; i < count; i++) {
        add_summary(summary, &runs[i].summary);
        if (runs[i].fetch) {
            summary->requests += fetch_request_count(runs[i].fetch);
            report_new_fields(st, summary->run_id, runs[i].fetch);
        }
    }
    rc = finish_run(st, summary, rc, err);
done:
    for (size_t i = 0; runs && i < count; i++)
        worker_dispose(&runs[i]);
    free(runs);
    pthread_mutex_destroy(&shared.lock);
    return rc;
}
