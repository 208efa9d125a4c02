/* store_ledger.h -- the ledger: runs (archive_runs), seen fields, status and gaps
 * (store_ledger.c). A day's own entry is written with the day (store_day.h).
 */
#ifndef LK_STORE_LEDGER_H
#define LK_STORE_LEDGER_H

#include <stdbool.h>
#include <stddef.h>

#include "date.h"

struct lk_error;
struct store;

/* Insert the archive_runs row (status running); *run_id_out gets its id. */
int store_run_begin(struct store *st, const char *today, const char *window_start,
                    const char *window_end, char *const *projects, size_t project_count,
                    long long *run_id_out, struct lk_error *err);

/* How a run ended (archive_runs.status): the one list of the statuses. */
enum run_status {
    RUN_OK,          /* everything in the window archived */
    RUN_INCOMPLETE,  /* the run finished, but a day, a gap or a locked project is left */
    RUN_FAILED,      /* the run stopped on an error */
    RUN_INTERRUPTED, /* stopped by a signal, or found running with its process gone */
    RUN_RUNNING,     /* not ended (yet) */
    RUN_STATUSES     /* how many there are */
};
/* The status as archive_runs stores it ("ok", ...). Cannot fail. */
const char *store_run_status_name(enum run_status status);

struct run_outcome {
    enum run_status status; /* RUN_OK, RUN_INCOMPLETE, RUN_FAILED or RUN_INTERRUPTED */
    long long requests;
    long long warnings;
    const char *message; /* may be NULL */
};

/* Close the run row (status, finish time). */
int store_run_finish(struct store *st, long long run_id, const struct run_outcome *outcome,
                     struct lk_error *err);

/* Record field paths seen this run; *new_out (caller frees each string and the array with
 * free) gets those never seen before. */
int store_note_fields(struct store *st, long long run_id, char *const *paths, size_t count,
                      char ***new_out, size_t *new_count_out, struct lk_error *err);

/* One project and day of `lkarchive status`. */
struct status_row {
    char *project;
    char day[DATE_TEXT_SIZE]; /* YYYY-MM-DD */
    char status[16];          /* complete, pending or failed; missing: no ledger entry */
    char pending_reason[32];  /* "day not over", "active sessions", "error" or "" */
    long long sessions, participants, connections, active_sessions;
    long long attempts;
    char completed_at[21];    /* "YYYY-MM-DDTHH:MM:SSZ" (UTC) when complete, else "" */
    char last_attempt_at[21]; /* "YYYY-MM-DDTHH:MM:SSZ" (UTC) of the last run, "" if none */
    char *last_error;         /* why it is not complete; "" when none or when complete */
    bool gap;                 /* older than the 7-day window and not complete (not just left
                                 with active sessions): lost for good */
    bool acknowledged;        /* a gap whose loss was acknowledged: it fails nothing */
};

/* What the ledger says of the projects in `projects_csv` (comma-separated ids; NULL: every
 * project in the ledger), of every day from window_start (NULL: the project's first ledger
 * entry) up to `today`, plus every gap before window_start, in project and day order. *out
 * gets *count_out rows (the caller frees them with store_status_rows_free). *migrated_out is
 * false, with no rows and no error, when the database has no livekit schema yet. A day never
 * recorded has status "missing". Returns 0, LK_EDB or LK_ENOMEM. */
int store_status_rows(struct store *st, const char *today, const char *window_start,
                      const char *projects_csv, struct status_row **out, size_t *count_out,
                      bool *migrated_out, struct lk_error *err);
void store_status_rows_free(struct status_row *rows, size_t count); /* NULL is a no-op */

/* Whether the row's day is at risk: not complete (nor a gap already) and one of the API
 * window's two oldest days as of today, so it leaves the window after today or tomorrow.
 * Cannot fail. */
bool store_status_at_risk(const struct status_row *row, const char *today);

/* For --metrics-file: the runs of the ledger by status (indexed by enum run_status) and the
 * requests of them all. Returns 0 or LK_EDB. */
int store_run_totals(struct store *st, long long by_status[RUN_STATUSES], long long *requests_out,
                     struct lk_error *err);
/* The days run_id tried and did not archive completely (a failure, or details missing), by
 * the status the ledger now gives them: *complete (archived by an earlier run, kept),
 * *pending, *failed. Returns 0 or LK_EDB. */
int store_run_unarchived(struct store *st, long long run_id, long long *complete,
                         long long *pending, long long *failed, struct lk_error *err);
/* The Unix time the last run that ended ok and covered `project` finished; 0 when none did.
 * Returns 0 or LK_EDB. */
int store_last_success(struct store *st, const char *project, double *out, struct lk_error *err);

/* The projects the ledger knows (only `project` when not NULL, if it has entries), in order
 * (prune and forget work on them). *out gets *count_out strings; the caller frees them with
 * pq_strings_free (also on error). Returns 0, LK_EDB or LK_ENOMEM. */
int store_archived_projects(struct store *st, const char *project, char ***out, size_t *count_out,
                            struct lk_error *err);

/* Whether `project` has no ledger entry yet (its first run). */
int store_is_new_project(struct store *st, const char *project, bool *out, struct lk_error *err);

/* A day of a project that left the window without being complete (see store_gap_rows). */
struct gap_row {
    char day[DATE_TEXT_SIZE]; /* YYYY-MM-DD */
    char status[16];          /* pending or failed; "never archived": no ledger entry */
    char pending_reason[32];  /* "day not over", "active sessions", "error" or "" */
    char *last_error;         /* "" when none */
    long long active_sessions;
    bool active_only;  /* left pending only because sessions were still active: its last state
                          is what the API would still say, so it is not a gap */
    bool acknowledged; /* the gap was acknowledged (store_acknowledge_gap) */
};

/* The days of `project` before window_start, since its first ledger entry, that are not
 * complete, in day order. *out gets *count_out rows (the caller frees them with
 * store_gap_rows_free). Returns 0, LK_EDB or LK_ENOMEM. */
int store_gap_rows(struct store *st, const char *project, const char *window_start,
                   struct gap_row **out, size_t *count_out, struct lk_error *err);
void store_gap_rows_free(struct gap_row *rows, size_t count); /* NULL is a no-op */

/* Mark a gap day of `project` acknowledged (a day never archived gets a failed entry), so
 * it stops failing runs. Returns 0 or LK_EDB. */
int store_acknowledge_gap(struct store *st, const char *project, const char *day,
                          struct lk_error *err);

#endif
