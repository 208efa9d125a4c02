/* window_day.c -- one project-day: fetch it into its store, commit it, conclude it.
 *
 * Flow: store_day_begin; fetch_list stores the day's list pages;
 * store_day_sessions_needing_details names the sessions whose details are missing or
 * changed; fetch_details stores those; store_day_commit. The day is complete only when it is
 * over, every page and detail was stored and no session is still active. A value PostgreSQL
 * refuses costs its session (the day is archived again in isolation); a lost connection is
 * reconnected and the day archived again. A day's outcome goes to the caller's on_day and
 * into the worker's summary. Errors are logged where they are decided: a failed session or
 * day here (the run goes on), an error that stops the run by window_run's caller. A failure
 * that ends the project's requests (fetch_stops_project) is logged once; the project's later
 * days are recorded failed with it, without a request.
 *
 * Fetch while merging (window_options.spare): day N is fetched into one store, then its
 * commit runs in the committer thread while day N+1 is fetched into the other store. Before
 * day N+1 is committed (and before gaps, the next project, the run's end) day N's commit is
 * waited for and day N is concluded here, in day order: reported, or archived again on its
 * own store (isolation, reconnect) as one day at a time would. Two day slots, one per store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "committer.h"
#include "config.h"
#include "error.h"
#include "fetch.h"
#include "log.h"
#include "window_internal.h"

void window_note_error(struct run_summary *summary, const struct lk_error *err)
{
    if (lk_code_rank(err->code) > lk_code_rank(summary->worst_error))
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
    window_note_error(&day->run->summary, err);
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

    if (run->project_rc != 0) { /* no request of the project can succeed: none is made */
        *err = run->project_err;
        return run->project_rc;
    }
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
        .status = day->failed_details ? DAY_PARTIAL
                  : counts->complete  ? DAY_COMPLETE
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
    summary->sessions_refused += counts->refused_sessions;
    if (counts->refused_sessions > 0 && summary->first_error[0] == '\0')
        snprintf(summary->first_error, sizeof summary->first_error, "%.500s",
                 counts->refused_first);
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
    bool unfetched = run->project_rc != 0; /* said once, by the day that met it */

    if (!stops && !unfetched)
        log_lk_error(LOG_LEVEL_ERROR, err);
    if (!unfetched && fetch_stops_project(run->fetch)) {
        run->project_rc = rc;
        run->project_err = *err;
        log_info("no further request for project %s in this run: its remaining days are "
                 "recorded failed; other projects go on",
                 run->project);
    }
    window_note_error(&run->summary, err);
    run->summary.days_failed++;
    store_day_abort(day->st, run->summary.run_id, run->project, day->day, err->message);
    report_day(run, &report);
    return stops ? rc : 0;
}

/* Fetch one project-day into its store, up to its commit; the day is still open on failure
 * (and, on success, until committed). */
static int prepare_day(struct run *run, struct day *day)
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
    int rc = prepare_day(run, day);

    if (rc == 0)
        rc = store_day_commit(day->st, run->summary.run_id, &day->result, &day->counts, &day->err);
    return rc;
}

/* The first attempt at a day ended with rc (0: stored). PostgreSQL refusing a value the API
 * sent costs that session, not the day: the day is archived again in isolation
 * (store_day_begin). Returns 0 when the run may go on (the day's own failure is in the
 * summary), or the code that must stop the run. */
static int conclude_day(struct run *run, struct day *day, int rc)
{
    if (rc == LK_EVALUE && !day->isolate) {
        log_lk_error(LOG_LEVEL_WARN, &day->err); /* handled here: the day is archived again */
        log_warn("archiving the day again, session by session, so that the refused value costs "
                 "only its session");
        /* rolled back only: the attempt in isolation writes the ledger (and reads there whether
         * the run before refused a session of the day too) */
        store_day_abort(day->st, run->summary.run_id, run->project, day->day, NULL);
        day->isolate = true;
        rc = try_day(run, day);
    }
    if (rc != 0)
        return day_failed(run, day, rc);
    day_stored(run, day);
    return 0;
}

/* Archive one project-day, one attempt then conclude_day. */
static int archive_day(struct run *run, struct day *day)
{
    day->isolate = false;
    return conclude_day(run, day, try_day(run, day));
}

/* PostgreSQL restarted or went away (the server rolled the open day back): reconnect up to
 * db_reconnect_attempts times (at least once), waiting 1, 2, 4, 8, then 16 s between attempts
 * while the server cannot be reached. */
int window_reconnect_store(struct run *run, struct store *st, struct lk_error *err)
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

/* The first attempt at a day ended with rc: settle it (conclude_day); after a lost database
 * connection, reconnect the day's store and archive it again (twice at most). */
static int finish_day(struct run *run, struct day *day, int rc)
{
    rc = conclude_day(run, day, rc);
    for (int again = 0; rc == LK_EDB && !store_connection_ok(day->st) && again < 2; again++) {
        log_lk_error(LOG_LEVEL_ERROR, &day->err); /* handled here: the day is tried again */
        rc = window_reconnect_store(run, day->st, &day->err);
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
int window_sequential_day(struct run *run, struct day *day, struct lk_error *err)
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
int window_conclude_committing_day(struct run *run, struct lk_error *err)
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
int window_pipeline_day(struct run *run, struct day *day, struct lk_error *err)
{
    int rc, before;

    enter_day(run, day);
    day->isolate = false;
    rc = prepare_day(run, day);
    leave_day(run);
    before = window_conclude_committing_day(run, err);
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

/* With a spare store: give it the run's store settings and start the committer thread; a
 * thread that cannot start leaves the run one day at a time. */
void window_start_committer(struct run *run)
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
