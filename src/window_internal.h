/* window_internal.h -- the window family's shared state: a run's workers, their day slots.
 *
 * window.c runs the projects (one worker, or several side by side) and closes the run;
 * window_project.c archives one project (its lock, pace, plan of days, the days, its gaps);
 * window_day.c archives one day (fetch, commit, isolation, reconnect, fetch while merging).
 * Each calls down the list, never back up.
 */
#ifndef LK_WINDOW_INTERNAL_H
#define LK_WINDOW_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "committer.h"
#include "date.h"
#include "error.h"
#include "ratelimit.h"
#include "store.h"
#include "store_day.h"
#include "window.h"

struct config;
struct fetch;

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
    const char *start; /* the window's first day */
    struct store *st;  /* the worker's connection: the project locks, the days, the ledger */
    bool own_store;    /* opened for the worker (side by side), freed with it */
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
    /* the failure that ended the project's requests (fetch_stops_project: its TLS cannot be
     * trusted or spoken), 0: none; its remaining days are recorded failed with it, unfetched */
    int project_rc;
    struct lk_error project_err;
    int rc; /* the error that stopped the worker (err says why), 0: none */
    struct lk_error err;
};

/* ---- window_day.c ---- */

/* Count err in the summary: its worst error, its first message. */
void window_note_error(struct run_summary *summary, const struct lk_error *err);

/* One day at a time: fetch, commit, conclude. Returns 0, or the code that stops the run
 * with err set (project and day named). */
int window_sequential_day(struct run *run, struct day *day, struct lk_error *err);

/* Fetch while merging: fetch the day while the one before commits in the committer thread,
 * conclude the one before, hand this one over. Returns as window_sequential_day. */
int window_pipeline_day(struct run *run, struct day *day, struct lk_error *err);

/* Wait for the day committing in the committer thread (if any) and conclude it. Returns as
 * window_sequential_day. */
int window_conclude_committing_day(struct run *run, struct lk_error *err);

/* Reconnect st after PostgreSQL went away (db_reconnect_attempts, waits 1 .. 16 s). Returns 0
 * or the last failure. */
int window_reconnect_store(struct run *run, struct store *st, struct lk_error *err);

/* With a spare store: start the committer thread (else one day at a time). Cannot fail. */
void window_start_committer(struct run *run);

/* ---- window_project.c ---- */

/* Every day of the window for run->project (its lock, pace and plan first), then its gaps.
 * Returns 0 (a project another run holds is skipped and counted), or the code that stops
 * the run with err set. */
int window_project(struct run *run, struct lk_error *err);

#endif
