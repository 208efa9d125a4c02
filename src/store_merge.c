/* store_merge.c -- the day's merges of the stage into the archive (src/queries/merge.sql).
 *
 * Four merges (list sessions with details, participants, connections), each taking the
 * newest staged version of a key from attempts not discarded. When every staged session is new
 * (a first load's days: store_merge_collect_new says so), they are plain INSERTs, and the
 * sessions' and connections' inserts return the rollup days their rows reach; otherwise rows
 * of archived sessions are upserted, rewritten only when something differs. The day
 * (store_day.c) calls them, or isolation (store_isolate.c) calls them group by group; they
 * call neither back.
 */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pq.h"
#include "store_internal.h"
#include "store_sql.h"

/* Session merges take ($1 project, $2 day, $3 discarded, $4 subset, $5 time); participant and
 * connection merges need no day: ($1 project, $2 discarded, $3 subset, $4 time). With days_out
 * NULL the statement returns no rows and counts its rows in its command tag; otherwise it is an
 * insert of new sessions' rows that returns (rows written, the rollup days they reach as a date[]
 * literal), and the days go to *days_out (owned by st, freed by the day's merge). */
static int run_merge(struct store *st, const char *sql, enum metrics_table table, const char *what,
                     const char *discarded, const char *subset, bool uses_day, char **days_out,
                     struct lk_error *err)
{
    const char *with_day[5] = {st->project, st->day, discarded, subset, st->day_now};
    const char *without_day[4] = {st->project, discarded, subset, st->day_now};
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, days_out == NULL ? PQ_COMMAND_OK : PQ_TUPLES_OK, sql,
                     uses_day ? 5 : 4, uses_day ? with_day : without_day, err, "merge %s", what);
    long long rows = 0;

    if (rc == 0 && days_out == NULL) {
        rows = strtoll(PQcmdTuples(res), NULL, 10);
    } else if (rc == 0) {
        rows = strtoll(PQgetvalue(res, 0, pq_column(res, "merged")), NULL, 10);
        free(*days_out);
        *days_out = strdup(PQgetvalue(res, 0, pq_column(res, "days")));
        if (*days_out == NULL) {
            lk_error_set(err, LK_ENOMEM, "out of memory");
            rc = LK_ENOMEM;
        }
    }
    st->rows_merged += rows;
    st->table_rows[table] += rows;
    PQclear(res);
    return rc;
}

/* The sessions merge: an insert returning its days when every staged session is new; else
 * an upsert that probes each archived row by primary key, or joins them on Citus. */
static int merge_sessions(struct store *st, const char *discarded, const char *subset,
                          struct lk_error *err)
{
    const char *sql = st->all_new                    ? store_sql_merge_sessions_new
                      : st->citus == STORE_CITUS_YES ? store_sql_merge_sessions_join
                                                     : store_sql_merge_sessions_probe;

    return run_merge(st, sql, METRICS_SESSIONS, "sessions", discarded, subset, true,
                     st->all_new ? &st->new_session_days : NULL, err);
}

/* After the sessions: participants, then connections; of new sessions, then of the others.
 * When every staged session is new, the rows of new sessions are every staged row: no
 * semi-join with lk_new; the connections' insert then also returns the rollup days they reach
 * (sql_all_new_days); and when no key was staged twice, no newest row per key is picked
 * (sql_all_new_unique). */
static const struct child_merge {
    const char *sql_new, *sql_all_new, *sql_all_new_unique, *sql_archived;
    bool sql_all_new_days;
    enum metrics_table table;
    const char *what_new, *what;
} child_merges[] = {
    {store_sql_insert_participants_new, store_sql_insert_participants_all_new,
     store_sql_insert_participants_all_new_unique, store_sql_merge_participants_archived, false,
     METRICS_PARTICIPANTS, "participants of new sessions", "participants"},
    {store_sql_insert_connections_new, store_sql_insert_connections_all_new,
     store_sql_insert_connections_all_new_unique, store_sql_merge_connections_archived, true,
     METRICS_CONNECTIONS, "participant connections of new sessions", "participant connections"},
};

int store_merge_sessions(struct store *st, const char *discarded, const char *subset,
                         struct lk_error *err)
{
    int rc = 0;
    bool keys_unique;

    /* no list entry differs from the archive: no details were fetched either */
    if (!st->list_rows_changed)
        return 0;
    keys_unique = st->new_collected && st->all_new && keyset_all_distinct(&st->staged_keys);
    rc = merge_sessions(st, discarded, subset, err);
    for (size_t i = 0; i < sizeof child_merges / sizeof child_merges[0] && rc == 0; i++) {
        const struct child_merge *m = &child_merges[i];

        if (st->new_collected)
            rc = run_merge(st,
                           !st->all_new  ? m->sql_new
                           : keys_unique ? m->sql_all_new_unique
                                         : m->sql_all_new,
                           m->table, m->what_new, discarded, subset, false,
                           st->all_new && m->sql_all_new_days ? &st->new_connection_days : NULL,
                           err);
        if (rc == 0 && !st->all_new)
            rc = run_merge(st, m->sql_archived, m->table, m->what, discarded, subset, false, NULL,
                           err);
    }
    return rc;
}

int store_merge_collect_new(struct store *st, const char *discarded, struct lk_error *err)
{
    const char *params[3] = {st->project, discarded, st->day};
    PGresult *res = NULL;
    int rc;

    st->new_collected = false;
    st->all_new = false;
    st->day_was_empty = false;
    if (st->citus == STORE_CITUS_YES || st->isolate || !st->list_rows_changed)
        return 0;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_collect_new_sessions, 3, params, err,
                 "find the sessions new to the archive");
    if (rc == 0) {
        st->new_collected = true;
        st->all_new = strcmp(PQgetvalue(res, 0, pq_column(res, "all_new")), "t") == 0;
        st->day_was_empty = strcmp(PQgetvalue(res, 0, pq_column(res, "day_was_empty")), "t") == 0;
    }
    PQclear(res);
    return rc;
}
