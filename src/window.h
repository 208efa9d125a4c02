/* window.h -- the run: every configured project, every UTC day of the window, in order.
 *
 * For each project-day: list pages (start=end=day, page limit) until a short or empty page,
 * then the details of every session listed, each response streamed from http through
 * extract into the day's store transaction. Transient failures are retried with exponential
 * back-off and jitter; a day that cannot be archived is rolled back and recorded, and the
 * run goes on with the next day (an authentication failure stops the run: nothing else could
 * succeed). Prints one summary line per day to stdout.
 */
#ifndef LK_WINDOW_H
#define LK_WINDOW_H

#include <stdbool.h>
#include <stddef.h>

#include "date.h"

struct config;
struct lk_error;
struct store;

struct window_options {
    char today[DATE_TEXT_SIZE]; /* "YYYY-MM-DD", UTC */
    int days;                   /* 1..7: the window is today-(days-1) .. today */
    bool full;                  /* fetch every session's details, even unchanged archived ones */
    bool acknowledge_gaps;      /* mark days already lost as acknowledged (stop failing for them) */
};

struct run_summary {
    long long run_id;
    int days_complete; /* archived, final */
    int days_pending;  /* archived so far, to be fetched again (today, active sessions) */
    int days_failed;   /* not archived this run (rolled back or partly failed) */
    long long sessions, participants, connections;
    long long details_fetched, details_skipped;
    unsigned long requests;
    int gaps;              /* days that left the window unarchived, not acknowledged */
    int projects_locked;   /* projects skipped: another run held them */
    int worst_error;       /* the most serious LK_E* code a day met, 0 if none */
    char first_error[512]; /* the first error's message, for the exit line */
};

/* Archive the window for every project of cfg into st (migrated already). Fills *summary.
 * Returns 0 when the run itself could proceed to the end (check summary for failed days),
 * or a negative LK_E* code when it had to stop (authentication, database lost). */
int window_run(const struct config *cfg, const struct window_options *options, struct store *st,
               struct run_summary *summary, struct lk_error *err);

/* One authenticated list request (page 0, limit 1, today) per project: for `check`. */
int window_probe(const struct config *cfg, const char *today, struct lk_error *err);

#endif
