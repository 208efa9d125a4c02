/* store_ledger.c -- the ledger: runs (archive_runs), seen fields, status and gaps.
 *
 * archive_runs holds one row per run and its counters; archive_days one row per project and
 * day (written by store_day.c). The status and gap queries (src/queries/ledger.sql) read
 * archive_days day by day from each project's first entry, so a day never archived shows as
 * well; whether a day is a gap is livekit.day_is_gap's to say, given the API window's first day.
 */
#include "store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "error.h"
#include "log.h"
#include "pq.h"
#include "store_internal.h"
#include "store_ledger.h"
#include "store_sql.h"

/* The advisory lock's class (STORE_RUN_LOCK_CLASS) as a statement parameter. */
#define RUN_LOCK_CLASS_TEXT "27755"
_Static_assert(STORE_RUN_LOCK_CLASS == 27755, "RUN_LOCK_CLASS_TEXT is STORE_RUN_LOCK_CLASS");

int store_lock_run(struct store *st, struct lk_error *err)
{
    char run[24];
    const char *params[2] = {RUN_LOCK_CLASS_TEXT, run};

    if (st->run_id == 0)
        return 0;
    snprintf(run, sizeof run, "%lld", st->run_id);
    return pq_exec(NULL, st->conn, PQ_TUPLES_OK,
                   "SELECT pg_advisory_lock($1::integer, $2::integer)", 2, params, err,
                   "take the lock of run %s", run);
}

/* The new run's lock, then the dead runs' rows closed. */
static int claim_run(struct store *st, long long run_id, struct lk_error *err)
{
    char run[24];
    const char *params[2] = {run, RUN_LOCK_CLASS_TEXT};
    int rc;

    st->run_id = run_id;
    rc = store_lock_run(st, err);
    snprintf(run, sizeof run, "%lld", run_id);
    if (rc == 0)
        rc = pq_exec(NULL, st->conn, PQ_COMMAND_OK, store_sql_close_dead_runs, 2, params, err,
                     "close the runs of processes that died");
    return rc;
}

int store_run_begin(struct store *st, const char *today, const char *window_start,
                    const char *window_end, char *const *projects, size_t project_count,
                    long long *run_id_out, struct lk_error *err)
{
    char *array = NULL;
    PGresult *res = NULL;
    int rc = LK_EDB;

    assert(st != NULL);
    if (st->dry_run) { /* a dry run is not recorded */
        *run_id_out = 0;
        return 0;
    }
    rc = pq_text_array(&array, projects, project_count, err);
    if (rc != 0)
        goto done;
    {
        const char *params[5] = {today, window_start, window_end, array, LK_VERSION};
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                     "INSERT INTO livekit.archive_runs (today, window_start, window_end,"
                     " projects, version) VALUES ($1, $2, $3, $4, $5) RETURNING run_id",
                     5, params, err, "record the run in livekit.archive_runs");
        if (rc != 0)
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
    const char *params[5] = {run, store_run_status_name(outcome->status), requests, warnings,
                             outcome->message};

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

/* The text of column `name` of row i. */
static const char *value(const PGresult *res, int i, const char *name)
{
    return PQgetvalue(res, i, pq_column(res, name));
}

/* One row of ledger.sql's status into a struct status_row. */
static int status_row_from(void *row, const PGresult *res, int i)
{
    struct status_row *out = row;

    snprintf(out->day, sizeof out->day, "%s", value(res, i, "day"));
    snprintf(out->status, sizeof out->status, "%s", value(res, i, "status"));
    out->sessions = strtoll(value(res, i, "sessions"), NULL, 10);
    out->participants = strtoll(value(res, i, "participants"), NULL, 10);
    out->connections = strtoll(value(res, i, "connections"), NULL, 10);
    out->active_sessions = strtoll(value(res, i, "active_sessions"), NULL, 10);
    snprintf(out->completed_at, sizeof out->completed_at, "%s", value(res, i, "completed_at"));
    out->gap = strcmp(value(res, i, "is_gap"), "t") == 0;
    out->acknowledged = strcmp(value(res, i, "acknowledged"), "t") == 0;
    snprintf(out->pending_reason, sizeof out->pending_reason, "%s",
             value(res, i, "pending_reason"));
    out->attempts = strtoll(value(res, i, "attempts"), NULL, 10);
    snprintf(out->last_attempt_at, sizeof out->last_attempt_at, "%s",
             value(res, i, "last_attempt_at"));
    out->project = strdup(value(res, i, "project_id"));
    out->last_error = strdup(value(res, i, "last_error"));
    return out->project && out->last_error ? 0 : LK_ENOMEM;
}

int store_status_rows(struct store *st, const char *today, const char *window_start,
                      const char *projects_csv, struct status_row **out, size_t *count_out,
                      bool *migrated_out, struct lk_error *err)
{
    char api_window_start[DATE_TEXT_SIZE];
    const char *params[4] = {today, window_start, projects_csv, api_window_start};
    void *rows = NULL;
    size_t count = 0;
    PGresult *res = NULL;
    int rc;

    assert(st != NULL);
    *out = NULL;
    *count_out = 0;
    *migrated_out = true;
    date_add_days(api_window_start, today, 1 - API_WINDOW_DAYS); /* the gap rule's */
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_status, 4, params, err,
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

int store_archived_projects(struct store *st, const char *project, char ***out, size_t *count_out,
                            struct lk_error *err)
{
    const char *params[1] = {project};
    PGresult *res = NULL;
    int rc;

    assert(st != NULL);
    *out = NULL;
    *count_out = 0;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                 "SELECT DISTINCT project_id FROM livekit.archive_days"
                 " WHERE $1::text IS NULL OR project_id = $1::text ORDER BY 1",
                 1, params, err, "read the archived projects");
    if (rc == 0)
        rc = pq_column_strings(out, count_out, res, 0, NULL, NULL, err);
    PQclear(res);
    return rc;
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

/* One row of ledger.sql's gaps into a struct gap_row. */
static int gap_row_from(void *row, const PGresult *res, int i)
{
    struct gap_row *out = row;

    snprintf(out->day, sizeof out->day, "%s", value(res, i, "day"));
    snprintf(out->status, sizeof out->status, "%s", value(res, i, "status"));
    snprintf(out->pending_reason, sizeof out->pending_reason, "%s",
             value(res, i, "pending_reason"));
    out->active_only = strcmp(value(res, i, "is_gap"), "t") != 0; /* livekit.day_is_gap */
    out->acknowledged = strcmp(value(res, i, "acknowledged"), "t") == 0;
    out->active_sessions = strtoll(value(res, i, "active_sessions"), NULL, 10);
    out->last_error = strdup(value(res, i, "last_error"));
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
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_gaps, 2, params, err,
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

const char *store_run_status_name(enum run_status status)
{
    static const char *const names[RUN_STATUSES] = {[RUN_OK] = "ok",
                                                    [RUN_INCOMPLETE] = "incomplete",
                                                    [RUN_FAILED] = "failed",
                                                    [RUN_INTERRUPTED] = "interrupted",
                                                    [RUN_RUNNING] = "running"};

    assert(status >= 0 && status < RUN_STATUSES);
    return names[status];
}

int store_run_totals(struct store *st, long long by_status[RUN_STATUSES], long long *requests_out,
                     struct lk_error *err)
{
    PGresult *res = NULL;
    int rc;

    assert(st != NULL);
    memset(by_status, 0, RUN_STATUSES * sizeof *by_status);
    *requests_out = 0;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                 "SELECT status, count(*) AS runs, COALESCE(sum(requests), 0) AS requests"
                 " FROM livekit.archive_runs GROUP BY status",
                 0, NULL, err, "count the runs of livekit.archive_runs");
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        for (int s = 0; s < RUN_STATUSES; s++)
            if (strcmp(value(res, i, "status"), store_run_status_name((enum run_status)s)) == 0)
                by_status[s] = strtoll(value(res, i, "runs"), NULL, 10);
        *requests_out += strtoll(value(res, i, "requests"), NULL, 10);
    }
    PQclear(res);
    return rc;
}

int store_run_unarchived(struct store *st, long long run_id, long long *complete,
                         long long *pending, long long *failed, struct lk_error *err)
{
    char run[24];
    const char *params[1] = {run};
    PGresult *res = NULL;
    int rc;

    assert(st != NULL);
    *complete = *pending = *failed = 0;
    snprintf(run, sizeof run, "%lld", run_id);
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                 "SELECT status, count(*) AS days FROM livekit.archive_days"
                 " WHERE last_run_id = $1::bigint AND last_error IS NOT NULL GROUP BY status",
                 1, params, err, "count the days run %lld did not archive", run_id);
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        const char *status = value(res, i, "status");
        long long days = strtoll(value(res, i, "days"), NULL, 10);

        *(strcmp(status, "complete") == 0  ? complete
          : strcmp(status, "pending") == 0 ? pending
                                           : failed) += days;
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

bool store_status_at_risk(const struct status_row *row, const char *today)
{
    char window_start[DATE_TEXT_SIZE], horizon[DATE_TEXT_SIZE];

    date_add_days(window_start, today, -(API_WINDOW_DAYS - 1));
    date_add_days(horizon, today, -(API_WINDOW_DAYS - 2));
    return !row->gap && strcmp(row->status, "complete") != 0 &&
           strcmp(row->day, window_start) >= 0 && strcmp(row->day, horizon) <= 0;
}
