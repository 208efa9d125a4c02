/* store_ledger.c -- the ledger: runs (archive_runs), seen fields, status and gaps.
 *
 * archive_runs holds one row per run and its counters; archive_days one row per project and
 * day (written by store_merge.c). The status and gap queries read archive_days day by day
 * from each project's first entry, so a day never archived shows as well.
 */
#include "store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "pq.h"
#include "store_internal.h"

/* Runs left `running` by a process that died (kill -9, a lost machine): nobody holds their
 * lock, so they are closed as interrupted. CASE keeps the order: unlock only what was got. */
static const char SQL_CLOSE_DEAD_RUNS[] =
    "UPDATE livekit.archive_runs SET status = 'interrupted', finished_at = now(),"
    " message = COALESCE(message, 'the process ended without closing its run (killed, or its"
    " machine or database connection lost); closed by run ' || $1)"
    " WHERE status = 'running' AND run_id <> $1::bigint AND CASE"
    " WHEN pg_try_advisory_lock(" STORE_STRINGIFY(
        STORE_RUN_LOCK_CLASS) ", run_id::integer)"
                              " THEN pg_advisory_unlock(" STORE_STRINGIFY(
                                  STORE_RUN_LOCK_CLASS) ", run_id::integer)"
                                                        " ELSE false END";

int store_lock_run(struct store *st, struct lk_error *err)
{
    char run[24];
    const char *params[1] = {run};

    if (st->run_id == 0)
        return 0;
    snprintf(run, sizeof run, "%lld", st->run_id);
    return pq_exec(
        NULL, st->conn, PQ_TUPLES_OK,
        "SELECT pg_advisory_lock(" STORE_STRINGIFY(STORE_RUN_LOCK_CLASS) ", $1::integer)", 1,
        params, err, "take the lock of run %s", run);
}

/* The new run's lock, then the dead runs' rows closed. */
static int claim_run(struct store *st, long long run_id, struct lk_error *err)
{
    char run[24];
    const char *params[1] = {run};
    int rc;

    st->run_id = run_id;
    rc = store_lock_run(st, err);
    snprintf(run, sizeof run, "%lld", run_id);
    if (rc == 0)
        rc = pq_exec(NULL, st->conn, PQ_COMMAND_OK, SQL_CLOSE_DEAD_RUNS, 1, params, err,
                     "close the runs of processes that died");
    return rc;
}

int store_run_begin(struct store *st, const char *today, const char *window_start,
                    const char *window_end, char *const *projects, size_t project_count,
                    long long *run_id_out, struct lk_error *err)
{
    char *array = NULL;
    size_t size = 3;
    PGresult *res = NULL;
    int rc = LK_EDB;

    assert(st != NULL);
    if (st->dry_run) { /* a dry run is not recorded */
        *run_id_out = 0;
        return 0;
    }
    /* project ids are [A-Za-z0-9_-] (config validates), so a plain array literal is safe */
    for (size_t i = 0; i < project_count; i++)
        size += strlen(projects[i]) + 1;
    array = malloc(size);
    if (array == NULL) {
        rc = LK_ENOMEM;
        lk_error_set(err, rc, "out of memory");
        goto done;
    }
    strcpy(array, "{");
    for (size_t i = 0; i < project_count; i++) {
        strcat(array, projects[i]);
        if (i + 1 < project_count)
            strcat(array, ",");
    }
    strcat(array, "}");
    {
        const char *params[5] = {today, window_start, window_end, array, LK_VERSION};
        if (pq_exec(&res, st->conn, PQ_TUPLES_OK,
                    "INSERT INTO livekit.archive_runs (today, window_start, window_end,"
                    " projects, version) VALUES ($1, $2, $3, $4, $5) RETURNING run_id",
                    5, params, err, "record the run in livekit.archive_runs") != 0)
            goto done;
    }
    *run_id_out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    rc = claim_run(st, *run_id_out, err);
done:
    PQclear(res);
    free(array);
    return rc;
}

int store_run_finish(struct store *st, long long run_id, const struct run_outcome *outcome,
                     struct lk_error *err)
{
    char run[24], requests[24], warnings[24];
    const char *params[5] = {run, outcome->status, requests, warnings, outcome->message};

    assert(st != NULL);
    if (st->dry_run)
        return 0;
    snprintf(run, sizeof run, "%lld", run_id);
    snprintf(requests, sizeof requests, "%lld", outcome->requests);
    snprintf(warnings, sizeof warnings, "%lld", outcome->warnings);
    return pq_exec(NULL, st->conn, PQ_COMMAND_OK,
                   "UPDATE livekit.archive_runs SET finished_at = now(), status = $2,"
                   " requests = $3, warnings = $4, message = $5,"
                   " days_failed = (SELECT count(*) FROM livekit.archive_days"
                   "   WHERE last_run_id = $1 AND status = 'failed')"
                   " WHERE run_id = $1",
                   5, params, err, "finish the run record");
}

int store_note_fields(struct store *st, long long run_id, char *const *paths, size_t count,
                      char ***new_out, size_t *new_count_out, struct lk_error *err)
{
    char run[24];
    PGresult *res = NULL;
    char **found = NULL;
    size_t found_count = 0;
    int rc = LK_EDB;

    assert(st != NULL);
    *new_out = NULL;
    *new_count_out = 0;
    if (st->dry_run)
        return 0;
    snprintf(run, sizeof run, "%lld", run_id);
    for (size_t i = 0; i < count; i++) {
        const char *params[2] = {paths[i], run};
        PQclear(res);
        if (pq_exec(&res, st->conn, PQ_TUPLES_OK,
                    "INSERT INTO livekit.seen_fields (path, first_run_id) VALUES ($1, $2)"
                    " ON CONFLICT (path) DO NOTHING RETURNING path",
                    2, params, err, "record seen field names") != 0)
            goto done;
        if (PQntuples(res) == 1) {
            char **grown = realloc(found, (found_count + 1) * sizeof *found);
            if (grown == NULL || (grown[found_count] = strdup(paths[i])) == NULL) {
                if (grown)
                    found = grown;
                rc = LK_ENOMEM;
                lk_error_set(err, rc, "out of memory");
                goto done;
            }
            found = grown;
            found_count++;
        }
    }
    if (found_count > 0) {
        /* keep the run's own record of what was new (archive_runs.new_fields) */
        const char *params[1] = {run};
        if (pq_exec(NULL, st->conn, PQ_COMMAND_OK,
                    "UPDATE livekit.archive_runs SET new_fields = ARRAY(SELECT path FROM"
                    " livekit.seen_fields WHERE first_run_id = $1 ORDER BY path)"
                    " WHERE run_id = $1",
                    1, params, err, "record new field names on the run") != 0)
            goto done;
    }
    *new_out = found;
    *new_count_out = found_count;
    found = NULL;
    found_count = 0;
    rc = 0;
done:
    for (size_t i = 0; i < found_count; i++)
        free(found[i]);
    free(found);
    PQclear(res);
    return rc;
}

/* Every day of the chosen projects from window_start (or their first ledger entry) to today,
 * with what the ledger says, and every gap before it: a day older than the API's window that
 * is not complete, unless it was left pending only because sessions were still active (its
 * last state is what the API would still say). A project without a ledger entry shows the
 * window. $1 today $2 window start or NULL $3 comma-separated projects or NULL */
static const char SQL_STATUS[] =
    "WITH projects AS (SELECT DISTINCT p AS project_id FROM unnest(string_to_array($3, ',')) p"
    "   UNION SELECT DISTINCT project_id FROM livekit.archive_days WHERE $3 IS NULL),"
    " bounds AS (SELECT p.project_id, COALESCE((SELECT min(a.day) FROM livekit.archive_days a"
    "   WHERE a.project_id = p.project_id), $2::date, $1::date) AS first_day FROM projects p),"
    " days AS (SELECT b.project_id, d::date AS day FROM bounds b,"
    "   generate_series(b.first_day, $1::date, interval '1 day') d),"
    " rows AS (SELECT days.project_id, days.day, a.status, a.sessions, a.participants,"
    "   a.connections, a.active_sessions, a.completed_at, a.last_error, a.gap_acknowledged_at,"
    "   a.pending_reason, a.attempts, a.last_attempt_at,"
    "   (days.day < $1::date - 6 AND COALESCE(a.status, 'missing') <> 'complete'"
    "    AND a.pending_reason IS DISTINCT FROM 'active sessions') AS is_gap"
    "   FROM days LEFT JOIN livekit.archive_days a"
    "   ON a.project_id = days.project_id AND a.day = days.day)"
    " SELECT rows.project_id, rows.day::text, COALESCE(rows.status, 'missing'),"
    "   COALESCE(rows.sessions, 0), COALESCE(rows.participants, 0),"
    "   COALESCE(rows.connections, 0), COALESCE(rows.active_sessions, 0),"
    "   COALESCE(to_char(rows.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "     ''),"
    "   CASE WHEN rows.status = 'complete' THEN '' ELSE COALESCE(rows.last_error, '') END,"
    "   rows.is_gap, rows.gap_acknowledged_at IS NOT NULL, COALESCE(rows.pending_reason, ''),"
    "   COALESCE(rows.attempts, 0),"
    "   COALESCE(to_char(rows.last_attempt_at AT TIME ZONE 'UTC',"
    "     'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"
    " FROM rows WHERE $2::date IS NULL OR rows.day >= $2::date OR rows.is_gap"
    " ORDER BY rows.project_id, rows.day";

/* Copy the rows of res into a new array of `size`-byte structs, each filled by fill (which
 * returns 0 or LK_ENOMEM). *out and *count_out get the array and how many of its rows were
 * filled, in whole or in part, also on failure: the caller's free function releases them.
 * Returns 0 or LK_ENOMEM. */
static int copy_rows(void **out, size_t *count_out, const PGresult *res, size_t size,
                     int (*fill)(void *row, const PGresult *res, int i), struct lk_error *err)
{
    char *rows = calloc((size_t)PQntuples(res) + 1, size);
    size_t count = 0;
    int rc = rows ? 0 : LK_ENOMEM;

    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        count++;
        rc = fill(rows + (size_t)i * size, res, i);
    }
    if (rc != 0)
        lk_error_set(err, rc, "out of memory");
    *out = rows;
    *count_out = count;
    return rc;
}

/* One row of SQL_STATUS into a struct status_row. */
static int status_row_from(void *row, const PGresult *res, int i)
{
    struct status_row *out = row;

    snprintf(out->day, sizeof out->day, "%s", PQgetvalue(res, i, 1));
    snprintf(out->status, sizeof out->status, "%s", PQgetvalue(res, i, 2));
    out->sessions = strtoll(PQgetvalue(res, i, 3), NULL, 10);
    out->participants = strtoll(PQgetvalue(res, i, 4), NULL, 10);
    out->connections = strtoll(PQgetvalue(res, i, 5), NULL, 10);
    out->active_sessions = strtoll(PQgetvalue(res, i, 6), NULL, 10);
    snprintf(out->completed_at, sizeof out->completed_at, "%s", PQgetvalue(res, i, 7));
    out->gap = strcmp(PQgetvalue(res, i, 9), "t") == 0;
    out->acknowledged = strcmp(PQgetvalue(res, i, 10), "t") == 0;
    snprintf(out->pending_reason, sizeof out->pending_reason, "%s", PQgetvalue(res, i, 11));
    out->attempts = strtoll(PQgetvalue(res, i, 12), NULL, 10);
    snprintf(out->last_attempt_at, sizeof out->last_attempt_at, "%s", PQgetvalue(res, i, 13));
    out->project = strdup(PQgetvalue(res, i, 0));
    out->last_error = strdup(PQgetvalue(res, i, 8));
    return out->project && out->last_error ? 0 : LK_ENOMEM;
}

int store_status_rows(struct store *st, const char *today, const char *window_start,
                      const char *projects_csv, struct status_row **out, size_t *count_out,
                      bool *migrated_out, struct lk_error *err)
{
    const char *params[3] = {today, window_start, projects_csv};
    void *rows = NULL;
    size_t count = 0;
    PGresult *res = NULL;
    int rc;

    assert(st != NULL);
    *out = NULL;
    *count_out = 0;
    *migrated_out = true;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, SQL_STATUS, 3, params, err,
                 "read livekit.archive_days");
    if (rc == 0) {
        rc = copy_rows(&rows, &count, res, sizeof **out, status_row_from, err);
    } else if (pq_sqlstate_is(res, SQLSTATE_UNDEFINED_TABLE)) { /* never migrated: no rows */
        lk_error_init(err);
        *migrated_out = false;
        rc = 0;
    }
    if (rc != 0) {
        store_status_rows_free(rows, count);
        goto done;
    }
    *out = rows;
    *count_out = count;
done:
    PQclear(res);
    return rc;
}

void store_status_rows_free(struct status_row *rows, size_t count)
{
    for (size_t i = 0; rows && i < count; i++) {
        free(rows[i].project);
        free(rows[i].last_error);
    }
    free(rows);
}

int store_is_new_project(struct store *st, const char *project, bool *out, struct lk_error *err)
{
    const char *params[1] = {project};
    PGresult *res = NULL;
    int rc;

    assert(st != NULL);
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                 "SELECT NOT EXISTS (SELECT 1 FROM livekit.archive_days WHERE project_id = $1)", 1,
                 params, err, "read livekit.archive_days");
    if (rc == 0)
        *out = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return rc;
}

/* Days of `project` before window_start since its first archived day that are not complete
 * (a day left pending only because sessions were still active is not a gap: its last state
 * is what the API would still say). */
static const char SQL_GAPS[] =
    "WITH bounds AS (SELECT min(day) AS first_day FROM livekit.archive_days"
    "   WHERE project_id = $1),"
    " days AS (SELECT d::date AS day FROM bounds,"
    "   generate_series(bounds.first_day, $2::date - 1, interval '1 day') d)"
    " SELECT days.day::text, COALESCE(a.status, 'never archived'),"
    "   COALESCE(a.pending_reason, ''), COALESCE(a.last_error, ''),"
    "   a.gap_acknowledged_at IS NOT NULL, COALESCE(a.active_sessions, 0)"
    " FROM days LEFT JOIN livekit.archive_days a ON a.project_id = $1 AND a.day = days.day"
    " WHERE a.status IS DISTINCT FROM 'complete'"
    " ORDER BY days.day";

/* One row of SQL_GAPS into a struct gap_row. */
static int gap_row_from(void *row, const PGresult *res, int i)
{
    struct gap_row *out = row;

    snprintf(out->day, sizeof out->day, "%s", PQgetvalue(res, i, 0));
    snprintf(out->status, sizeof out->status, "%s", PQgetvalue(res, i, 1));
    snprintf(out->pending_reason, sizeof out->pending_reason, "%s", PQgetvalue(res, i, 2));
    out->active_only = strcmp(PQgetvalue(res, i, 2), "active sessions") == 0;
    out->acknowledged = strcmp(PQgetvalue(res, i, 4), "t") == 0;
    out->active_sessions = strtoll(PQgetvalue(res, i, 5), NULL, 10);
    out->last_error = strdup(PQgetvalue(res, i, 3));
    return out->last_error ? 0 : LK_ENOMEM;
}

int store_gap_rows(struct store *st, const char *project, const char *window_start,
                   struct gap_row **out, size_t *count_out, struct lk_error *err)
{
    const char *params[2] = {project, window_start};
    void *rows = NULL;
    size_t count = 0;
    PGresult *res = NULL;
    int rc;

    assert(st != NULL);
    *out = NULL;
    *count_out = 0;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, SQL_GAPS, 2, params, err,
                 "look for gaps in livekit.archive_days");
    if (rc == 0)
        rc = copy_rows(&rows, &count, res, sizeof **out, gap_row_from, err);
    if (rc != 0) {
        store_gap_rows_free(rows, count);
        goto done;
    }
    *out = rows;
    *count_out = count;
done:
    PQclear(res);
    return rc;
}

void store_gap_rows_free(struct gap_row *rows, size_t count)
{
    for (size_t i = 0; rows && i < count; i++)
        free(rows[i].last_error);
    free(rows);
}

int store_acknowledge_gap(struct store *st, const char *project, const char *day,
                          struct lk_error *err)
{
    const char *params[2] = {project, day};

    assert(st != NULL);
    if (st->dry_run)
        return 0;
    return pq_exec(NULL, st->conn, PQ_COMMAND_OK,
                   "INSERT INTO livekit.archive_days (project_id, day, status, pending_reason,"
                   " last_error, gap_acknowledged_at, attempts)"
                   " VALUES ($1, $2::date, 'failed', 'error', 'never archived', now(), 0)"
                   " ON CONFLICT (project_id, day) DO UPDATE SET gap_acknowledged_at = now()",
                   2, params, err, "acknowledge the gap of %s %s", project, day);
}

int store_run_totals(struct store *st, long long by_status[5], long long *requests_out,
                     struct lk_error *err)
{
    static const char *const statuses[5] = {"ok", "incomplete", "failed", "interrupted", "running"};
    PGresult *res = NULL;
    int rc;

    assert(st != NULL);
    memset(by_status, 0, 5 * sizeof *by_status);
    *requests_out = 0;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                 "SELECT status, count(*), COALESCE(sum(requests), 0) FROM livekit.archive_runs"
                 " GROUP BY status",
                 0, NULL, err, "count the runs of livekit.archive_runs");
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        for (int s = 0; s < 5; s++)
            if (strcmp(PQgetvalue(res, i, 0), statuses[s]) == 0)
                by_status[s] = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        *requests_out += strtoll(PQgetvalue(res, i, 2), NULL, 10);
    }
    PQclear(res);
    return rc;
}

int store_last_success(struct store *st, const char *project, double *out, struct lk_error *err)
{
    const char *params[1] = {project};
    PGresult *res = NULL;
    int rc;

    assert(st != NULL);
    *out = 0;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                 "SELECT COALESCE(extract(epoch FROM max(finished_at)), 0)"
                 " FROM livekit.archive_runs WHERE status = 'ok' AND $1 = ANY (projects)",
                 1, params, err, "read the last successful run of %s", project);
    if (rc == 0)
        *out = strtod(PQgetvalue(res, 0, 0), NULL);
    PQclear(res);
    return rc;
}
