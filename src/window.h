/* window.h -- the run: every configured project, every UTC day of the window, in order.
 *
 * For each project-day: list pages (start=end=day, page limit) until a short or empty page,
 * then the details of every session listed, each response streamed from the API through
 * extract into the day's store transaction. A day that cannot be archived is rolled back and
 * recorded, and the run goes on with the next day (an authentication failure or a lost
 * database stops the run: nothing else could succeed). Each day's outcome goes to the
 * caller's on_day; the window prints nothing.
 */
#ifndef LK_WINDOW_H
#define LK_WINDOW_H

#include <stdbool.h>
#include <stddef.h>

#include "date.h"

struct config;
struct lk_error;
struct store;

enum day_status {
    DAY_COMPLETE, /* archived, final */
    DAY_PENDING,  /* archived so far, to be fetched again (today, active sessions) */
    DAY_PARTIAL,  /* stored, but some session's details failed: pending too */
    DAY_FAILED    /* rolled back: nothing of it was stored this run */
};

/* One project-day's outcome. Strings are borrowed for the call. */
struct day_report {
    const char *project;
    const char *day;
    enum day_status status;
    long long sessions, participants, connections; /* what the archive holds for the day */
    long long active_sessions;                     /* of those, not ended */
    int pages;
    long long details_fetched, details_skipped;
    const char *error; /* DAY_FAILED: why */
    bool dry_run;      /* nothing was written: the day was compared with the archive */
    long long new_sessions, changed_sessions, unchanged_sessions; /* dry run only */
};

/* How far a project-day is (progress line on a terminal). Strings borrowed for the call. */
struct day_progress {
    const char *project;
    const char *day;
    int pages;
    long long sessions, details_done, details_total;
};
typedef void (*window_progress_fn)(void *ctx, const struct day_progress *progress);

/* Called once per project-day archived or failed, with window_options.on_day_ctx. */
typedef void (*window_day_fn)(void *ctx, const struct day_report *report);

struct window_options {
    char today[DATE_TEXT_SIZE]; /* "YYYY-MM-DD", UTC */
    int days;                   /* 1..API_WINDOW_DAYS: the window is today-(days-1) .. today */
    bool full;                  /* fetch every session's details, even unchanged archived ones */
    bool acknowledge_gaps;      /* mark days already lost as acknowledged (stop failing for them) */
    bool dry_run;         /* fetch and compare, write nothing (the store is in dry-run mode too) */
    window_day_fn on_day; /* may be NULL */
    void *on_day_ctx;
    window_progress_fn on_progress; /* after every request that ended; may be NULL */
    void *on_progress_ctx;
    /* fetch while merging: a second connection to the same database (no locks, no run; it
     * gets the run store's settings), used in turn with the run's store: the next day is
     * fetched into one while the day before commits on the other, in a thread. NULL: one day
     * at a time on the run's store. */
    struct store *spare;
};

struct run_summary {
    long long run_id;
    int days_complete; /* archived, final */
    int days_pending;  /* archived so far, to be fetched again (today, active sessions) */
    int days_failed;   /* not archived this run (rolled back or partly failed) */
    long long sessions, participants, connections;
    long long details_fetched, details_skipped;
    long long new_sessions, changed_sessions, unchanged_sessions; /* dry run only */
    unsigned long requests;
    int gaps;                   /* days that left the window unarchived, not acknowledged */
    int projects_locked;        /* projects skipped: another run held them */
    long long sessions_refused; /* left out of complete days: PostgreSQL refused a value */
    int worst_error;            /* the most serious LK_E* code a day met, 0 if none */
    char first_error[512];      /* the first error's message, for the exit line */
};

/* Archive the window for every project of cfg into st (migrated already; options->spare,
 * when set, is used beside it and must outlive the call). Fills *summary.
 * A day's own failure is logged here and counted in summary. Returns 0 when the run could
 * proceed to the end, or a negative LK_E* code when it had to stop (authentication,
 * database lost): err says why and where, and is logged by the caller, not here. */
int window_run(const struct config *cfg, const struct window_options *options, struct store *st,
               struct run_summary *summary, struct lk_error *err);

#endif
