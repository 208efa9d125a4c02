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
 */
#include "window.h"

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
#include "process.h"
#include "store.h"
#include "store_day.h"
#include "store_ledger.h"

struct run;

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

struct run {
    const struct config *cfg;
    const struct window_options *options;
    struct store *st; /* the run's connection: its row, the project locks, the ledger */
    struct fetch *fetch;
    struct run_summary *summary;
    const char *project;
    const char *day;             /* the day in the log context (progress lines) */
    struct day days[2];          /* days[1] only with a spare store (fetch while merging) */
    struct committer *committer; /* NULL: one day at a time */
    struct day *pending;         /* committing in the committer thread */
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
    note_error(day->run->summary, err);
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

static void report_day(const struct run *run, const struct day_report *report)
{
    if (run->options->on_day)
        run->options->on_day(run->options->on_day_ctx, report);
}

/* The day was stored: count it and report it. */
static void day_stored(struct run *run, const struct day *day)
{
    const struct day_result *result = &day->result;
    const struct day_counts *counts = &day->counts;
    struct run_summary *summary = run->summary;
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
    note_error(run->summary, err);
    run->summary->days_failed++;
    store_day_abort(day->st, run->summary->run_id, run->project, day->day, err->message);
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
        rc = store_day_commit(day->st, run->summary->run_id, &day->result, &day->counts, &day->err);
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
        store_day_abort(day->st, run->summary->run_id, run->project, day->day, day->err.message);
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
        run->summary->days_failed--; /* it is archived again now */
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
                                   .run_id = run->summary->run_id,
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
        store_day_abort(day->st, run->summary->run_id, run->project, day->day, err->message);
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
            run->summary->gaps++;
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

/* Every day of the window for run->project, then its gaps. A project another run holds is
 * skipped (logged and counted). */
static int run_project(struct run *run, const char *start, struct lk_error *err)
{
    struct lk_error settle_err;
    bool first_run = false;
    int rc = store_lock_project(run->st, run->project, run->cfg->lock_wait_s, err), settled;

    if (rc == LK_ELOCKED) {
        /* the other run archives this project; ours goes on with the next */
        log_lk_error(LOG_LEVEL_ERROR, err);
        note_error(run->summary, err);
        run->summary->projects_locked++;
        return 0;
    }
    if (rc == 0)
        rc = store_is_new_project(run->st, run->project, &first_run, err);
    if (rc == 0 && first_run)
        say_first_run(run, start);
    for (int d = 0; d < run->options->days && rc == 0; d++) {
        struct day *day = &run->days[run->committer ? d % 2 : 0];

        if ((rc = stop_requested(err)) != 0)
            break;
        date_add_days(day->day, start, d);
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
    return rc;
}

/* Name the field paths never seen before, so upstream schema drift is noticed. */
static void report_new_fields(struct run *run)
{
    struct lk_error err;
    size_t count, fresh_count = 0;
    char *const *paths = fetch_unknown_fields(run->fetch, &count);
    char **fresh = NULL;

    lk_error_init(&err);
    if (count == 0)
        return;
    if (store_note_fields(run->st, run->summary->run_id, paths, count, &fresh, &fresh_count,
                          &err) != 0) {
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

/* Close the run's ledger row. rc is the run's result so far; a failure to close it is
 * returned only when the run had none (else the run's own error is the one to report). */
static int finish_run(struct run *run, int rc, struct lk_error *err)
{
    struct run_summary *summary = run->summary;
    struct run_outcome outcome;
    struct lk_error finish_err;

    summary->requests = fetch_request_count(run->fetch);
    log_repeated_summary();
    report_new_fields(run);
    outcome.status = rc == LK_EINTR ? RUN_INTERRUPTED
                     : rc != 0      ? RUN_FAILED
                     : summary->days_failed || summary->gaps || summary->projects_locked
                         ? RUN_INCOMPLETE
                         : RUN_OK;
    outcome.requests = (long long)summary->requests;
    outcome.warnings = (long long)log_warning_count();
    outcome.message = summary->first_error[0] ? summary->first_error : NULL;
    lk_error_init(&finish_err);
    if (store_run_finish(run->st, summary->run_id, &outcome, &finish_err) != 0 && rc == 0) {
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

    run->options->on_progress(run->options->on_progress_ctx, &out);
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

int window_run(const struct config *cfg, const struct window_options *options, struct store *st,
               struct run_summary *summary, struct lk_error *err)
{
    struct run run = {.cfg = cfg, .options = options, .st = st, .summary = summary};
    char start[DATE_TEXT_SIZE];
    int rc;

    memset(summary, 0, sizeof *summary);
    date_add_days(start, options->today, -(options->days - 1));
    store_set_settling(st, cfg->settling_time_s);
    run.days[0] = (struct day){.run = &run, .st = st};
    run.days[1] = (struct day){.run = &run, .st = options->spare};
    rc = fetch_new(&run.fetch, cfg, st, err);
    if (rc == 0 && options->on_progress)
        fetch_set_progress(run.fetch, forward_progress, &run);
    if (rc == 0)
        rc = store_run_begin(st, options->today, start, options->today, cfg->projects,
                             cfg->project_count, &summary->run_id, err);
    if (rc != 0)
        goto done;
    log_set_run(summary->run_id);
    if (options->dry_run)
        log_info("dry run: %zu project(s), %s .. %s; nothing is written", cfg->project_count, start,
                 options->today);
    else
        log_info("run %lld: %zu project(s), %s .. %s", summary->run_id, cfg->project_count, start,
                 options->today);
    start_committer(&run);
    for (size_t p = 0; p < cfg->project_count && rc == 0; p++) {
        run.project = cfg->projects[p];
        rc = run_project(&run, start, err);
    }
    rc = finish_run(&run, rc, err);
done:
    committer_free(run.committer);
    fetch_free(run.fetch);
    return rc;
}
