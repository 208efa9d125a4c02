/* store_prune.c -- retention: delete archived sessions listed before a day, in batches; and
 * forget-project, which prunes every session of a project, then drops its other rows.
 *
 * A session goes with its participants and connections; which sessions: those whose list_day
 * (the UTC day the ledger archived them under) is before the given day. Each batch of sessions
 * is one transaction: children first, then the sessions, the daily rollup of the batch's days
 * recomputed, the counters of the prune's livekit.archive_prunes row. So no lock is held for
 * long, and a prune stopped half-way leaves whole sessions and an exact record. The batch's ids
 * come back from the server as a text[] literal and are passed back as one parameter. Every
 * parameter is cast (Citus cannot infer an uncast one on a worker).
 */
#include "store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pq.h"
#include "store_internal.h"
#include "store_prune.h"
#include "store_sql.h"

/* $1 project $2 before: what a prune would delete */
/* $1 project $2 session ids */
static const char *const SQL_PRUNE_DELETE[3] = {
    "DELETE FROM livekit.participant_connections"
    " WHERE project_id = $1::text AND session_id = ANY ($2::text[])",
    "DELETE FROM livekit.participants WHERE project_id = $1::text AND session_id = ANY "
    "($2::text[])",
    "DELETE FROM livekit.sessions WHERE project_id = $1::text AND session_id = ANY ($2::text[])"};

int store_prune_count(struct store *st, const char *project, const char *before,
                      struct prune_counts *out, struct lk_error *err)
{
    const char *params[2] = {project, before};
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_prune_count, 2, params, err,
                     "count what a prune would delete");

    memset(out, 0, sizeof *out);
    if (rc == 0) {
        out->sessions = strtoll(PQgetvalue(res, 0, pq_column(res, "sessions")), NULL, 10);
        out->participants = strtoll(PQgetvalue(res, 0, pq_column(res, "participants")), NULL, 10);
        out->connections = strtoll(PQgetvalue(res, 0, pq_column(res, "connections")), NULL, 10);
    }
    PQclear(res);
    return rc;
}

/* $1 project $2 session ids: the days whose rollup rows depend on them, before the delete */
static const char SQL_PRUNE_ROLLUP_DAYS[] =
    "SELECT livekit.rollup_days_of_sessions($1::text, $2::text[])::text";

/* One batch in its own transaction: delete the sessions `ids` (a text[] literal) with their
 * rows, recompute the daily rollup of their days (livekit_bi then no longer counts them) and
 * add the counts to the prune's row. */
static int prune_batch(struct store *st, const char *prune_id, const char *project, const char *ids,
                       struct prune_counts *out, struct lk_error *err)
{
    const char *params[2] = {project, ids};
    long long n[3] = {0, 0, 0};
    char counts[3][24];
    char *days = NULL;
    PGresult *res = NULL;
    int rc = store_exec(st, "BEGIN", "start a prune batch", err);

    if (rc == 0)
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, SQL_PRUNE_ROLLUP_DAYS, 2, params, err,
                     "collect the days of the pruned sessions");
    if (rc == 0 && (days = strdup(PQgetvalue(res, 0, 0))) == NULL) {
        rc = LK_ENOMEM;
        lk_error_set(err, rc, "out of memory");
    }
    PQclear(res);
    res = NULL;
    for (int i = 0; rc == 0 && i < 3; i++) {
        rc = pq_exec(&res, st->conn, PQ_COMMAND_OK, SQL_PRUNE_DELETE[i], 2, params, err,
                     "delete pruned rows");
        if (rc == 0)
            n[i] = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        res = NULL;
    }
    if (rc == 0) {
        const char *refresh[2] = {project, days};
        rc = pq_exec(NULL, st->conn, PQ_TUPLES_OK,
                     "SELECT livekit.rollup_refresh($1::text, $2::date[])", 2, refresh, err,
                     "refresh the daily rollup of the pruned days");
    }
    free(days);
    for (int i = 0; i < 3; i++)
        snprintf(counts[i], sizeof counts[i], "%lld", n[i]);
    if (rc == 0) {
        const char *up[4] = {prune_id, counts[2], counts[1], counts[0]};
        rc = pq_exec(NULL, st->conn, PQ_COMMAND_OK,
                     "UPDATE livekit.archive_prunes SET sessions = sessions + $2::bigint,"
                     " participants = participants + $3::bigint,"
                     " connections = connections + $4::bigint, batches = batches + 1"
                     " WHERE prune_id = $1::bigint",
                     4, up, err, "record the prune batch");
    }
    if (rc == 0)
        rc = store_exec(st, "COMMIT", "commit the prune batch", err);
    if (rc != 0) {
        store_exec(st, "ROLLBACK", "roll back", NULL);
        return rc;
    }
    out->sessions += n[2];
    out->participants += n[1];
    out->connections += n[0];
    return 0;
}

int store_prune(struct store *st, const char *project, const char *before, int batch,
                struct prune_counts *out, struct lk_error *err)
{
    char batch_text[16], prune_id[24] = "";
    const char *params[3] = {project, before, batch_text};
    PGresult *res = NULL;
    int rc;

    assert(st != NULL && batch > 0);
    memset(out, 0, sizeof *out);
    snprintf(batch_text, sizeof batch_text, "%d", batch);
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                 "INSERT INTO livekit.archive_prunes (project_id, before_day)"
                 " VALUES ($1::text, $2::date) RETURNING prune_id",
                 2, params, err, "record the prune in livekit.archive_prunes");
    if (rc == 0)
        snprintf(prune_id, sizeof prune_id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    while (rc == 0) {
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_prune_batch, 3, params, err,
                     "select the sessions to prune");
        if (rc != 0 || strcmp(PQgetvalue(res, 0, pq_column(res, "sessions")), "0") == 0)
            break;
        rc =
            prune_batch(st, prune_id, project, PQgetvalue(res, 0, pq_column(res, "ids")), out, err);
        PQclear(res);
        res = NULL;
    }
    PQclear(res);
    if (rc == 0) {
        const char *fin[1] = {prune_id};
        rc = pq_exec(NULL, st->conn, PQ_COMMAND_OK,
                     "UPDATE livekit.archive_prunes SET finished_at = now()"
                     " WHERE prune_id = $1::bigint",
                     1, fin, err, "close the prune's record");
    }
    return rc;
}

/* A day after any a session can be listed under: every session of the project. */
#define EVERY_DAY "9999-12-31"

int store_forget_project_count(struct store *st, const char *project, struct prune_counts *out,
                               long long *days_out, struct lk_error *err)
{
    const char *params[1] = {project};
    PGresult *res = NULL;
    int rc = store_prune_count(st, project, EVERY_DAY, out, err);

    *days_out = 0;
    if (rc == 0)
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_forget_project_days, 1, params, err,
                     "count the ledger days of %s", project);
    if (rc == 0)
        *days_out = strtoll(PQgetvalue(res, 0, pq_column(res, "days")), NULL, 10);
    PQclear(res);
    return rc;
}

int store_forget_project(struct store *st, const char *project, int batch, struct prune_counts *out,
                         long long *days_out, struct lk_error *err)
{
    const char *params[1] = {project};
    PGresult *res = NULL;
    int rc = store_prune(st, project, EVERY_DAY, batch, out, err);

    *days_out = 0;
    if (rc == 0)
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_forget_project_rest, 1, params, err,
                     "delete the rest of project %s", project);
    if (rc == 0) {
        *days_out = strtoll(PQgetvalue(res, 0, pq_column(res, "days")), NULL, 10);
        out->sessions += strtoll(PQgetvalue(res, 0, pq_column(res, "sessions")), NULL, 10);
        out->participants += strtoll(PQgetvalue(res, 0, pq_column(res, "participants")), NULL, 10);
        out->connections += strtoll(PQgetvalue(res, 0, pq_column(res, "connections")), NULL, 10);
    }
    PQclear(res);
    return rc;
}
