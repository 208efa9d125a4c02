/* window.c -- the run: every configured project, every UTC day of the window.
 *
 * window_run opens the run's ledger row, archives the projects and closes the row. Projects
 * side by side (parallel_projects > 1, several projects): the API limits each project
 * separately, so a worker thread per project (up to parallel_projects at once) takes the next
 * project from a shared queue and archives it on a connection of its own, one day at a time,
 * with its own fetch (requests, pace). With one worker, it runs in the caller's thread on the
 * run's connection, fetching while merging when there is a spare. A struct run is one
 * worker's state; the caller's callbacks and the queue are under shared->lock; a worker that
 * meets an error that stops the run stops the others after their current day. The workers'
 * summaries are added up, their requests counted and their new field names reported, on the
 * run's connection.
 */
#include "window.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "fetch.h"
#include "log.h"
#include "store.h"
#include "store_ledger.h"
#include "window_internal.h"

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
    outcome.status = rc == LK_EINTR ? RUN_INTERRUPTED
                     : rc != 0      ? RUN_FAILED
                     : summary->days_failed || summary->gaps || summary->projects_locked ||
                             summary->sessions_refused
                         ? RUN_INCOMPLETE
                         : RUN_OK;
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
        run->rc = window_project(run, &run->err);
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
    into->sessions_refused += from->sessions_refused;
    if (lk_code_rank(from->worst_error) > lk_code_rank(into->worst_error))
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
        window_start_committer(&runs[0]);
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
        log_info("run %lld: %zu project(s), %s .. %s%s", summary->run_id, cfg->project_count, start,
                 options->today, count > 1 ? " (projects side by side)" : "");
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
