/* store_rate.c -- livekit.api_rate_limits, one row per project and API key; see store_rate.h.
 *
 * Rates travel as text in "%.3f" (libpq's text parameters) and are read back with strtod.
 */
#include "store_rate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pq.h"
#include "store_internal.h"

static const char sql_load[] =
    "SELECT requests_per_minute, limited, last_run_requests, last_run_throttled,"
    " last_run_wait_seconds FROM livekit.api_rate_limits WHERE project_id = $1 AND api_key = $2";

static const char sql_save[] =
    "INSERT INTO livekit.api_rate_limits AS r (project_id, api_key, requests_per_minute,"
    " limited, run_id, last_run_requests, last_run_throttled, last_run_wait_seconds)"
    " VALUES ($1, $2, $3, $4, NULLIF($5, '0')::bigint, $6, $7, $8)"
    " ON CONFLICT (project_id, api_key) DO UPDATE SET"
    " requests_per_minute = excluded.requests_per_minute, limited = excluded.limited,"
    " updated_at = now(), run_id = excluded.run_id,"
    " last_run_requests = excluded.last_run_requests,"
    " last_run_throttled = excluded.last_run_throttled,"
    " last_run_wait_seconds = excluded.last_run_wait_seconds";

int store_rate_load(struct store *st, const char *project, const char *api_key,
                    struct store_rate *out, struct lk_error *err)
{
    const char *params[2] = {project, api_key ? api_key : ""};
    PGresult *res = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, sql_load, 2, params, err,
                 "read the learned request rate of %s", project);
    if (rc == 0 && PQntuples(res) == 1) {
        out->requests_per_minute =
            strtod(PQgetvalue(res, 0, pq_column(res, "requests_per_minute")), NULL);
        out->limited = strcmp(PQgetvalue(res, 0, pq_column(res, "limited")), "t") == 0;
        out->requests = strtoll(PQgetvalue(res, 0, pq_column(res, "last_run_requests")), NULL, 10);
        out->throttled =
            strtoll(PQgetvalue(res, 0, pq_column(res, "last_run_throttled")), NULL, 10);
        out->wait_s = strtod(PQgetvalue(res, 0, pq_column(res, "last_run_wait_seconds")), NULL);
    }
    PQclear(res);
    return rc;
}

int store_rate_save(struct store *st, long long run_id, const char *project, const char *api_key,
                    const struct store_rate *rate, struct lk_error *err)
{
    char rpm[32], run[24], requests[24], throttled[24], wait[32];
    const char *params[8] = {
        project, api_key ? api_key : "", rpm, rate->limited ? "t" : "f", run, requests, throttled,
        wait};

    if (st->dry_run || rate->requests_per_minute <= 0)
        return 0;
    snprintf(rpm, sizeof rpm, "%.3f", rate->requests_per_minute);
    snprintf(run, sizeof run, "%lld", run_id);
    snprintf(requests, sizeof requests, "%lld", rate->requests);
    snprintf(throttled, sizeof throttled, "%lld", rate->throttled);
    snprintf(wait, sizeof wait, "%.3f", rate->wait_s);
    return pq_exec(NULL, st->conn, PQ_COMMAND_OK, sql_save, 8, params, err,
                   "save the learned request rate of %s", project);
}
