/* store_rollup.c -- the daily rollup (livekit.rollup_*, behind the livekit_bi views;
 * sql/functions/rollup.sql) kept exact in the transaction that stores a day.
 *
 * The day's merge (store_day.c) asks, before its merges, for the days the archive holds the
 * staged sessions under (store_rollup_collect_days), and after them has those days and the
 * staged sessions' days now recomputed (store_rollup_refresh). When every staged session is
 * new, no day is read before, and the days after are the ones the inserts returned
 * (st->new_session_days, st->new_connection_days).
 */
#include "store.h"

#include <string.h>

#include "error.h"
#include "pq.h"
#include "store_internal.h"
#include "store_sql.h"

/* Every staged session new: the days its inserts returned ($2 the sessions', $3 the
 * connections'); none had a day before. */
static const char SQL_ROLLUP_REFRESH_NEW[] =
    "SELECT livekit.rollup_refresh($1::text, $2::date[] || $3::date[])";

/* Before the merges: *days_out (caller frees) gets the days of the staged sessions as the
 * archive holds them now, as a date[] literal (none when every staged session is new). */
int store_rollup_collect_days(struct store *st, const char *discarded, char **days_out,
                              struct lk_error *err)
{
    const char *params[2] = {st->project, discarded};
    PGresult *res = NULL;
    int rc = 0;

    if (st->all_new) /* none was in the archive: none had a day */
        *days_out = strdup("{}");
    else if ((rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_rollup_days_before, 2, params,
                           err, "collect the days of the staged sessions")) == 0)
        *days_out = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (rc == 0 && *days_out == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        rc = LK_ENOMEM;
    }
    return rc;
}

/* After the merges: recompute the rollup of days_before and of the staged sessions' new days. */
int store_rollup_refresh(struct store *st, const char *discarded, const char *days_before,
                         struct lk_error *err)
{
    const char *params[3] = {st->project, discarded, days_before};
    const char *new_params[3] = {st->project, st->new_session_days ? st->new_session_days : "{}",
                                 st->new_connection_days ? st->new_connection_days : "{}"};

    return pq_exec(NULL, st->conn, PQ_TUPLES_OK,
                   st->all_new ? SQL_ROLLUP_REFRESH_NEW : store_sql_rollup_refresh, 3,
                   st->all_new ? new_params : params, err, "refresh the daily rollup");
}
