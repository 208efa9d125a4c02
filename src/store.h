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

#include "date.h"
#include "records.h"

struct lk_error;
struct store;

/* conninfo NULL: libpq defaults and PG* variables. On success the caller owns *out
 * (store_free). Returns 0 or LK_EDB (err names the server and libpq's reason). */
int store_open(struct store **out, const char *conninfo, struct lk_error *err);
void store_free(struct store *st); /* NULL is a no-op; cannot fail */

/* Give dst the settings of src that store_set_* set (settling time, dry run, pseudonyms):
 * a second connection for the day work (window fetches a day on one while the other
 * commits the day before). Locks, the run id and any open day are not copied: they stay
 * with src. Both must be open; src's pseudo stays borrowed. Cannot fail. */
void store_copy_settings(struct store *dst, const struct store *src);

/* A session that ended less than `seconds` ago is not final (LiveKit fills a session in a few
 * minutes after it ends: until then it may lack participants or still read active): its
 * details are fetched again even when its list entry did not change, and its day is not
 * complete. Default 3600; for the whole connection. Cannot fail. */
void store_set_settling(struct store *st, int seconds);

/* Dry run (`run --dry-run`): store_run_begin records no run (run id 0), store_day_commit
 * compares the day with the archive (day_counts' new/changed/unchanged) and rolls it back,
 * and no ledger entry, seen field or acknowledged gap is written. Cannot fail. */
void store_set_dry_run(struct store *st, bool dry_run);

/* Take the session-level advisory lock of `project` (overlapping cron runs), trying once a
 * second for up to wait_s seconds. Returns 0, LK_ELOCKED (another run holds it) or LK_EDB.
 * Held until store_free; taken again by store_reconnect. */
int store_lock_project(struct store *st, const char *project, int wait_s, struct lk_error *err);

/* Whether the connection is usable. */
bool store_connection_ok(const struct store *st);

/* One attempt to reset a lost connection (no waiting: the caller paces its retries), then
 * take the project locks again. Any open day is gone (the server rolled it back). Returns 0,
 * LK_EDB (when store_connection_ok is still false, the server was not reached: err's detail
 * says why, and a later attempt may succeed) or LK_ELOCKED. */
int store_reconnect(struct store *st, struct lk_error *err);

/* Privacy (store_forget.c). Pseudonyms for the connection's days: a participant or connection
 * whose identity's pseudonym is forgotten (store_forget) is staged under the pseudonym, with a
 * participant's name and extra cleared; with `all`, every identity and name is staged as its
 * pseudonym. p (NULL: off; `all` needs one) is borrowed and must outlive st. Cannot fail. */
struct pseudo;
void store_set_pseudo(struct store *st, const struct pseudo *p, bool all);

/* Apply the embedded migrations not yet applied, in order, each in its own transaction,
 * under an advisory lock. An applied migration whose text changed is an error (LK_EDB).
 * Then the repeatable files (views, functions) whose text differs from the one last applied
 * (all of them when a migration was applied now), each in its own transaction.
 * `citus`: then, when the database has the citus extension, distribute the archive tables
 * not yet distributed (sessions, participants, connections by session_id, colocated; rows
 * already there are moved to the shards); nothing without the extension.
 * *applied_out (may be NULL) gets how many migrations (not repeatables) were applied now. */
int store_migrate(struct store *st, bool citus, int *applied_out, struct lk_error *err);

/* Whether the schema is fully migrated (for `check`): 0 and *out set, or LK_EDB. */
int store_schema_current(struct store *st, bool *out, struct lk_error *err);

/* For `check`: whether this database user may do what run does: create the schema (not
 * migrated yet: CREATE on the database) or write the archive (migrated: INSERT and UPDATE on
 * the livekit tables). *ok_out false with `missing` (size bytes) naming what is lacking.
 * Returns 0 or LK_EDB. */
int store_check_privileges(struct store *st, bool migrated, bool *ok_out, char *missing,
                           size_t size, struct lk_error *err);

/* Give the existing `role` read-only access to the archive: USAGE on the schemas livekit and
 * livekit_bi, SELECT on their tables and views, also on objects later migrations create
 * (default privileges, and a re-grant after every migration). Returns 0, LK_ECONFIG when the
 * role does not exist (err names it), or LK_EDB. */
int store_grant_read(struct store *st, const char *role, struct lk_error *err);

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

/* For --metrics-file: the runs of the ledger by status (indexed by enum run_status) and the
 * requests of them all. Returns 0 or LK_EDB. */
int store_run_totals(struct store *st, long long by_status[RUN_STATUSES], long long *requests_out,
                     struct lk_error *err);
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

/* Open the day's transaction (no day may be open) and its COPY into the stage. Unless
 * `full`, the list entries of the day's ended, fully archived sessions are remembered by
 * hash, and store_day_add skips those that arrive unchanged (they need neither a merge nor
 * their details again).
 * `isolate`: the day failed with LK_EVALUE (PostgreSQL refused a value) and is archived
 * again so that the value costs only the session that carried it: rows are staged in small
 * COPYs under savepoints and merged by groups of sessions, a refused row or group is split
 * until the session is found, and refused sessions are left out (their earlier archived
 * state stays; they are fetched again next run) and named in the ledger. Slower: only for
 * such a day. */
int store_day_begin(struct store *st, const char *project, const char *day, bool full, bool isolate,
                    struct lk_error *err);

/* Stage one record; `attempt` names the HTTP attempt it came from (see discard). Only while
 * a day's COPY is open: after store_day_begin or store_day_sessions_needing_details. */
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
    /* dry run: the day's sessions the archive lacks, holds otherwise (the session or one of
     * its participants or connections), and holds as the API said them */
    long long new_sessions, changed_sessions, unchanged_sessions;
    long long active_sessions;   /* of those, not ended */
    long long settling_sessions; /* of those, ended less than the settling time ago */
    long long refused_sessions;  /* left out: PostgreSQL refused one of their values */
    bool complete;               /* recorded as complete */
};

/* Merge the stage, write the ledger, commit (a day must be open). Returns 0, LK_EDB,
 * LK_EVALUE (a value refused, outside isolation) or LK_ENOMEM; on error the day is still open and
 * the caller ends it with store_day_abort. */
int store_day_commit(struct store *st, long long run_id, const struct day_result *result,
                     struct day_counts *counts_out, struct lk_error *err);

/* Roll back the open day, if any, and record `error` on the ledger entry of project and day
 * (named by the caller: the day may have failed before it was opened, e.g. when the run's
 * time budget ran out). A day that was complete stays complete with its old rows. Best
 * effort: a failure here is logged, not returned. */
void store_day_abort(struct store *st, long long run_id, const char *project, const char *day,
                     const char *error);

/* Retention (store_prune.c): what a prune deletes or would delete. */
struct prune_counts {
    long long sessions, participants, connections;
};

/* How many sessions of `project` listed before `before` (YYYY-MM-DD), and their participants
 * and connections, a prune would delete. Returns 0 or LK_EDB. */
int store_prune_count(struct store *st, const char *project, const char *before,
                      struct prune_counts *out, struct lk_error *err);

/* Delete the sessions of `project` listed before `before`, with their participants and
 * connections, `batch` sessions per transaction, recorded in livekit.archive_prunes (counts
 * exact after each batch). No day may be open. *out gets what was deleted (also on error: what
 * the committed batches deleted). Returns 0 or LK_EDB. */
int store_prune(struct store *st, const char *project, const char *before, int batch,
                struct prune_counts *out, struct lk_error *err);

/* Forget `identity` in `project`: it becomes `hex` (its pseudonym) in participants and
 * participant_connections, a participant's name and extra are cleared, and `hex` is recorded
 * in livekit.forgotten_identities; one transaction. *participants_out and *connections_out
 * get the rows rewritten. Returns 0 or LK_EDB. */
int store_forget(struct store *st, const char *project, const char *identity, const char *hex,
                 long long *participants_out, long long *connections_out, struct lk_error *err);

#endif
