/* store.h -- the archive in PostgreSQL (schema "livekit"): migrations, day writes, ledger.
 *
 * One connection. A project-day is one transaction: store_day_begin opens it and starts a
 * COPY into a temporary staging table; records stream in with store_day_add as they are
 * parsed; store_day_commit ends the COPY, merges the stage into the tables with
 * INSERT ... ON CONFLICT DO UPDATE ... WHERE IS DISTINCT FROM (idempotent, no dead rows for
 * unchanged data), recomputes the daily rollup behind the livekit_bi views for the days whose
 * figures changed, writes the archive_days entry and the run's counters, and commits. A day
 * that fails is rolled back whole and only its ledger entry records the error.
 */
#ifndef LK_STORE_H
#define LK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "records.h"

struct lk_error;
struct store;

/* conninfo NULL: libpq defaults and PG* variables. On success the caller owns *out
 * (store_free). Returns 0 or LK_EDB (err names the server and libpq's reason). */
int store_open(struct store **out, const char *conninfo, struct lk_error *err);
void store_free(struct store *st); /* NULL is a no-op; cannot fail */

/* Apply the embedded migrations not yet applied, in order, each in its own transaction,
 * under an advisory lock. An applied migration whose text changed is an error (LK_EDB).
 * *applied_out (may be NULL) gets how many were applied now. */
int store_migrate(struct store *st, int *applied_out, struct lk_error *err);

/* Whether the schema is fully migrated (for `check`): 0 and *out set, or LK_EDB. */
int store_schema_current(struct store *st, bool *out, struct lk_error *err);

/* Insert the archive_runs row (status running); *run_id_out gets its id. */
int store_run_begin(struct store *st, const char *today, const char *window_start,
                    const char *window_end, char *const *projects, size_t project_count,
                    long long *run_id_out, struct lk_error *err);

struct run_outcome {
    const char *status; /* "ok", "incomplete" or "failed" */
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

/* Open the day's transaction and its COPY into the stage. Unless `full`, the list entries of
 * the day's ended, fully archived sessions are remembered by hash, and store_day_add skips
 * those that arrive unchanged (they need neither a merge nor their details again). */
int store_day_begin(struct store *st, const char *project, const char *day, bool full,
                    struct lk_error *err);

/* Stage one record; `attempt` names the HTTP attempt it came from (see discard). */
int store_day_add(struct store *st, const struct record *rec, int attempt, struct lk_error *err);

/* Rows staged by `attempt` must not reach the tables (the body failed part-way). */
int store_day_discard_attempt(struct store *st, int attempt, struct lk_error *err);

/* The list phase of the day is over: end the COPY, then tell which listed sessions need
 * their details fetched (all of them when `full`; otherwise those not yet archived with
 * details, still active, or whose list entry changed), and start a new COPY for them.
 * *ids_out is an array of *count_out strings the caller frees (each, then the array). */
int store_day_sessions_needing_details(struct store *st, bool full, char ***ids_out,
                                       size_t *count_out, struct lk_error *err);

struct day_result {
    bool complete; /* every page and detail stored and the day over; store adds the
                      last condition (no session still active) and reports it in
                      day_counts.complete */
    int pages;
    long long details_fetched;
    long long details_skipped;
    const char *error; /* why the day is not complete although stored (NULL if none) */
};

struct day_counts {
    long long sessions, participants, connections; /* what the archive holds for the day */
    long long active_sessions;                     /* of those, not ended */
    bool complete;                                 /* recorded as complete */
};

/* Merge the stage, write the ledger, commit. On error the day is rolled back (LK_EDB). */
int store_day_commit(struct store *st, long long run_id, const struct day_result *result,
                     struct day_counts *counts_out, struct lk_error *err);

/* Roll the day back and record `error` on its ledger entry (a day that was complete stays
 * complete with its old rows). Best effort: a failure here is logged, not returned. */
void store_day_abort(struct store *st, long long run_id, const char *error);

/* Give the existing `role` read-only access to the archive: USAGE on the schemas livekit and
 * livekit_bi, SELECT on their tables and views, also on objects later migrations create
 * (default privileges, and a re-grant after every migration). Returns 0, LK_ECONFIG when the
 * role does not exist (err names it), or LK_EDB. */
int store_grant_read(struct store *st, const char *role, struct lk_error *err);

/* Print per project and day what is archived, pending or lost, for days up to `today`.
 * *gaps_out gets the number of permanent gaps (days that left the window incomplete). */
int store_print_status(struct store *st, const char *today, FILE *out, int *gaps_out,
                       struct lk_error *err);

/* Take the session-level advisory lock of `project` (overlapping cron runs), trying once a
 * second for up to wait_s seconds. Returns 0, LK_ELOCKED (another run holds it) or LK_EDB.
 * Held until store_free; taken again by store_reconnect. */
int store_lock_project(struct store *st, const char *project, int wait_s, struct lk_error *err);

/* Whether the connection is usable. */
bool store_connection_ok(const struct store *st);

/* Reset a lost connection, up to `attempts` times with back-off (1, 2, 4, ... s), and take
 * the project locks again. Any open day is gone (the server rolled it back). Returns 0,
 * LK_EDB or LK_ELOCKED. */
int store_reconnect(struct store *st, int attempts, struct lk_error *err);

/* Whether `project` has no ledger entry yet (its first run). */
int store_is_new_project(struct store *st, const char *project, bool *out, struct lk_error *err);

/* Log each day of `project` before window_start that is not complete (a permanent gap),
 * and count those not acknowledged. `acknowledge` marks them acknowledged instead. Days left
 * pending only because sessions were still active are reported, but are not gaps. */
int store_check_gaps(struct store *st, const char *project, const char *window_start,
                     bool acknowledge, int *unacknowledged_out, struct lk_error *err);

#endif
