/* window_project.c -- one project of the run: its lock, its pace, the plan of its days, the
 * days, its gaps.
 *
 * The project's pace (ratelimit.h) starts from the rate livekit.api_rate_limits remembers for
 * its domain (project and API key) and is saved there after its last day. Before its first
 * day the night's requests are estimated from the ledger (list pages and the details of
 * sessions not yet final); when they would not fit in run_budget at the pace, the run says
 * so, and the days not yet complete go first, oldest first: they leave the API's window
 * soonest. Days go through window_day.c, one at a time or fetched while the last commits.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "config.h"
#include "error.h"
#include "fetch.h"
#include "log.h"
#include "metrics.h"
#include "process.h"
#include "sched.h"
#include "store_ledger.h"
#include "store_rate.h"
#include "window_internal.h"

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

    /* only a head start: without it (no right to the table, say) the pace learns again */
    if (rc != 0 && store_connection_ok(run->st)) {
        log_lk_error(LOG_LEVEL_WARN, err);
        log_detail(LOG_LEVEL_WARN, "the pace starts slowly and learns the limit again");
        memset(&saved, 0, sizeof saved);
        lk_error_init(err);
        rc = 0;
    }
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
                        config_project_api_key(run->cfg, run->project_index), &learned, &err) != 0)
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
    int64_t start = 0, day;
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
    date_parse(run->start, &start);
    for (size_t i = 0; i < count; i++) {
        if (date_parse(rows[i].day, &day) && day >= start && day - start < run->options->days)
            by_day[day - start] = &rows[i];
        if (strcmp(rows[i].status, "missing") != 0 && rows[i].sessions > typical)
            typical = rows[i].sessions;
    }
    for (int d = 0; d < run->options->days; d++)
        requests += day_requests(run, by_day[d], typical);
    minutes = (double)requests / ratelimit_rpm(&run->pace);
    if (run->pace.slow_start || minutes * 60 <= run->cfg->run_budget_s) {
        log_debug("project %s: about %lld requests expected", run->project, requests);
        goto done;
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
done:
    store_status_rows_free(rows, count);
}

/* Every day of the window for run->project, then its gaps. A project another run holds is
 * skipped (logged and counted). */
int window_project(struct run *run, struct lk_error *err)
{
    const char *start = run->start;
    struct lk_error settle_err;
    bool first_run = false;
    int order[API_WINDOW_DAYS];
    int rc = store_lock_project(run->st, run->project, run->cfg->lock_wait_s, err), settled;

    run->project_rc = 0;
    lk_error_init(&run->project_err);
    if (rc == LK_ELOCKED) {
        /* the other run archives this project; ours goes on with the next */
        log_lk_error(LOG_LEVEL_ERROR, err);
        window_note_error(&run->summary, err);
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
        rc = run->committer ? window_pipeline_day(run, day, err)
                            : window_sequential_day(run, day, err);
    }
    /* the last day's commit, before the ledger is read or the run goes on or stops */
    lk_error_init(&settle_err);
    settled = window_conclude_committing_day(run, &settle_err);
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
        rc = window_reconnect_store(run, run->st, err);
        if (rc == 0)
            rc = check_gaps(run, err);
    }
    if (store_connection_ok(run->st))
        end_pace(run);
    return rc;
}
