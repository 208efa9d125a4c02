/* store_day.h -- a project-day: one transaction (store_day.c, store_stage.c).
 *
 * store_day_begin opens it and starts a COPY into a temporary staging table; records stream in
 * with store_day_add as they are parsed; store_day_commit ends the COPY, merges the stage into
 * the tables with INSERT ... ON CONFLICT DO UPDATE ... WHERE IS DISTINCT FROM (idempotent, no
 * dead rows for unchanged data), recomputes the daily rollup behind the livekit_bi views for the
 * days whose figures changed, writes the archive_days entry and the run's counters, and
 * commits. A day that fails is rolled back whole and only its ledger entry records the error.
 */
#ifndef LK_STORE_DAY_H
#define LK_STORE_DAY_H

#include <stdbool.h>
#include <stddef.h>

#include "records.h"

struct lk_error;
struct store;

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
    long long refused_sessions;  /* left out: PostgreSQL refused one of their values (after the
                                    day was archived again session by session); the day is
                                    complete without them, its ledger entry names the first */
    bool complete;               /* recorded as complete */
    char refused_first[640];     /* "session X: PostgreSQL refused a value: why", or "" */
};

/* Merge the stage, write the ledger, commit (a day must be open). Returns 0, LK_EDB,
 * LK_EVALUE (a value refused, outside isolation) or LK_ENOMEM; on error the day is still open and
 * the caller ends it with store_day_abort. */
int store_day_commit(struct store *st, long long run_id, const struct day_result *result,
                     struct day_counts *counts_out, struct lk_error *err);

/* Roll back the open day, if any, and record `error` (NULL: nothing, the caller archives the
 * day again at once) on the ledger entry of project and day
 * (named by the caller: the day may have failed before it was opened, e.g. when the run's
 * time budget ran out). A day that was complete stays complete with its old rows. Best
 * effort: a failure here is logged, not returned. */
void store_day_abort(struct store *st, long long run_id, const char *project, const char *day,
                     const char *error);

#endif
