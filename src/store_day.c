/* store_day.c -- a day's life: its transaction begun, merged and committed, or aborted.
 *
 * store_day_begin opens the day's transaction and its stage (store_stage.c); records stream in
 * through store_day_add. store_day_commit ends the COPY, merges the stage (store_merge.c, or
 * group by group in isolation: store_isolate.c) between the two halves of the daily rollup's
 * refresh (store_rollup.c), counts what the archive holds for the day, writes the day's
 * archive_days entry and the run's counters (src/queries/day.sql), and commits; a dry run
 * compares the day with the archive and rolls it back instead. A day that fails is rolled back
 * whole and only its ledger entry records the error (store_day_abort).
 */
#include "store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "pq.h"
#include "store_day.h"
#include "store_internal.h"
#include "store_sql.h"
#include "strmap.h"

/* The number in the first row's column `name`. */
static long long column_number(const PGresult *res, const char *name)
{
    return strtoll(PQgetvalue(res, 0, pq_column(res, name)), NULL, 10);
}

int store_day_begin(struct store *st, const char *project, const char *day, bool full, bool isolate,
                    struct lk_error *err)
{
    int rc;

    assert(st != NULL && !st->in_day);
    st->isolate = isolate;
    strmap_clear(&st->refused);
    st->refused_count = 0;
    st->refused_first[0] = '\0';
    snprintf(st->project, sizeof st->project, "%s", project);
    snprintf(st->day, sizeof st->day, "%s", day);
    st->seq = 0;
    st->copy_len = 0;
    st->list_rows_changed = true;
    strmap_clear(&st->known);
    st->discarded_count = 0;
    keyset_reset(&st->staged_keys);
    rc = store_exec(st, "BEGIN", "start the day's transaction", err);
    if (rc != 0)
        goto done;
    st->in_day = true; /* from here on store_day_abort rolls the transaction back */
    rc = store_stage_open(st, full, err);
done:
    return rc;
}

/* Merge the stage into the tables (store_merge.c), counting in st->rows_merged the rows
 * written, between the two halves of the rollup refresh (store_rollup.c). The list merge is
 * skipped when no list entry differs from the archive (sessions_needing_details). A day
 * archived in isolation merges by groups of sessions (store_isolate.c, which calls the merges);
 * the rollup is refreshed once, after every group. */
static int merge_stage(struct store *st, struct lk_error *err)
{
    char *discarded = NULL, *rollup_days = NULL;
    PGresult *res = NULL;
    int rc = store_stage_discarded(st, &discarded, err);

    st->rows_merged = 0;
    memset(st->table_rows, 0, sizeof st->table_rows);
    if (rc == 0)
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, "SELECT now()::text", 0, NULL, err,
                     "read the transaction's time");
    if (rc == 0)
        snprintf(st->day_now, sizeof st->day_now, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (rc == 0)
        rc = store_merge_collect_new(st, discarded, err);
    if (rc == 0)
        rc = store_rollup_collect_days(st, discarded, &rollup_days, err);
    if (rc == 0)
        rc = st->isolate ? store_isolate_merge(st, discarded, err)
                         : store_merge_sessions(st, discarded, NULL, err);
    /* nothing merged: no figure of any day changed */
    if (rc == 0 && st->rows_merged > 0)
        rc = store_rollup_refresh(st, discarded, rollup_days, err);
    free(rollup_days);
    free(discarded);
    free(st->new_session_days);
    free(st->new_connection_days);
    st->new_session_days = st->new_connection_days = NULL;
    return rc;
}

/* The day's sessions, participants and connections: the ledger's when nothing was merged
 * (counting the day's participants and connections is the most expensive query of an unchanged
 * day), counted when the day has no entry yet or something was merged. */
static int count_rows(struct store *st, const char *const params[2], struct day_counts *out,
                      struct lk_error *err)
{
    const char *count_sql =
        st->citus == STORE_CITUS_YES ? store_sql_day_counts_citus : store_sql_day_counts;
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                     st->rows_merged == 0 ? store_sql_day_counts_unchanged : count_sql, 2, params,
                     err, "count the day's rows");

    if (rc == 0 && PQntuples(res) == 0) {
        PQclear(res);
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, count_sql, 2, params, err,
                     "count the day's rows");
    }
    if (rc == 0) {
        out->sessions = column_number(res, "sessions");
        out->participants = column_number(res, "participants");
        out->connections = column_number(res, "connections");
    }
    PQclear(res);
    return rc;
}

/* What the archive holds for the day. When the day was empty and every staged session new (a
 * first load), it holds the rows the merges inserted; otherwise count_rows. */
static int count_day(struct store *st, struct day_counts *out, struct lk_error *err)
{
    const char *params[3] = {st->project, st->day, st->settle_s};
    PGresult *res = NULL;
    int rc = 0;

    if (st->rows_merged > 0 && st->all_new && st->day_was_empty) {
        out->sessions = st->table_rows[METRICS_SESSIONS];
        out->participants = st->table_rows[METRICS_PARTICIPANTS];
        out->connections = st->table_rows[METRICS_CONNECTIONS];
    } else {
        rc = count_rows(st, params, out, err);
    }
    if (rc == 0)
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_day_session_states, 3, params, err,
                     "count the day's active and settling sessions");
    if (rc == 0) {
        out->active_sessions = column_number(res, "active_sessions");
        out->settling_sessions = column_number(res, "settling_sessions");
    }
    PQclear(res);
    return rc;
}

/* A number as a statement parameter: buf (NUMBER_TEXT bytes) holds its text. */
#define NUMBER_TEXT 24
static const char *number_text(char *buf, long long value)
{
    snprintf(buf, NUMBER_TEXT, "%lld", value);
    return buf;
}

/* The day's archive_days entry: complete, or pending with the reason why not (day.sql). */
/* The pending reason of a day whose sessions PostgreSQL refused (the next attempt that
 * refuses them again completes the day without them). */
#define REFUSED_REASON "refused sessions"

static int write_ledger(struct store *st, long long run_id, const struct day_result *result,
                        const struct day_counts *counts, struct lk_error *err)
{
    char text[6][NUMBER_TEXT];
    /* refused sessions alone (store_day_commit put their first as the day's error) */
    bool only_refused = result->error == st->refused_first && result->complete &&
                        counts->active_sessions == 0 && counts->settling_sessions == 0;
    const char *reason = counts->complete              ? NULL
                         : only_refused                ? REFUSED_REASON
                         : result->error               ? "error"
                         : !result->complete           ? "day not over"
                         : counts->active_sessions > 0 ? "active sessions"
                                                       : "sessions settling";
    const char *params[11] = {st->project,
                              st->day,
                              counts->complete ? "complete" : "pending",
                              number_text(text[0], run_id),
                              number_text(text[1], counts->sessions),
                              number_text(text[2], counts->active_sessions),
                              number_text(text[3], counts->participants),
                              number_text(text[4], counts->connections),
                              number_text(text[5], result->pages),
                              result->error,
                              reason};

    return pq_exec(NULL, st->conn, PQ_COMMAND_OK, store_sql_day_ledger, 11, params, err,
                   "record the day in livekit.archive_days");
}

/* A day whose only shortfall is refused sessions: complete without them when the run before
 * left it pending for the same reason (the retry: a value no night can store, as an id too long
 * to index, costs its session and no more; a constraint a DBA dropped since lets it in).
 * *complete is set accordingly. Returns 0 or LK_EDB. */
static int refused_before(struct store *st, bool *complete, struct lk_error *err)
{
    const char *params[2] = {st->project, st->day};
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                     "SELECT 1 FROM livekit.archive_days WHERE project_id = $1::text"
                     " AND day = $2::date AND pending_reason = '" REFUSED_REASON "'",
                     2, params, err, "read the day's last attempt");

    *complete = rc == 0 && PQntuples(res) > 0;
    PQclear(res);
    return rc;
}

/* Add the day to the run's counters in archive_runs. */
static int add_run_counters(struct store *st, long long run_id, const struct day_result *result,
                            const struct day_counts *counts, struct lk_error *err)
{
    char text[6][NUMBER_TEXT];
    const char *params[8] = {number_text(text[0], run_id),
                             counts->complete ? "1" : "0",
                             counts->complete ? "0" : "1",
                             number_text(text[1], counts->sessions),
                             number_text(text[2], counts->participants),
                             number_text(text[3], counts->connections),
                             number_text(text[4], result->details_fetched),
                             number_text(text[5], result->details_skipped)};

    return pq_exec(NULL, st->conn, PQ_COMMAND_OK, store_sql_run_counters, 8, params, err,
                   "update the run's counters");
}

void store_set_dry_run(struct store *st, bool dry_run)
{
    assert(st != NULL);
    st->dry_run = dry_run;
}

/* Dry run: compare (store_sql_dry_run_compare), then roll the day back. */
static int dry_run_end_day(struct store *st, struct day_counts *counts, struct lk_error *err)
{
    const char *params[1] = {st->project};
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_dry_run_compare, 1, params, err,
                     "compare the day with the archive");

    if (rc == 0) {
        counts->new_sessions = column_number(res, "new_sessions");
        counts->changed_sessions = column_number(res, "changed_sessions");
        counts->unchanged_sessions = column_number(res, "unchanged_sessions");
        rc = store_exec(st, "ROLLBACK", "roll back the day (dry run)", err);
    }
    if (rc == 0)
        st->in_day = false;
    PQclear(res);
    return rc;
}

int store_day_commit(struct store *st, long long run_id, const struct day_result *result,
                     struct day_counts *counts_out, struct lk_error *err)
{
    int rc;

    assert(st != NULL && st->in_day);
    memset(counts_out, 0, sizeof *counts_out);
    rc = store_stage_end_copy(st, err);
    if (rc != 0)
        goto done;
    rc = merge_stage(st, err);
    if (rc != 0)
        goto done;
    rc = count_day(st, counts_out, err);
    if (rc != 0)
        goto done;
    counts_out->refused_sessions = st->refused_count;
    snprintf(counts_out->refused_first, sizeof counts_out->refused_first, "%s", st->refused_first);
    counts_out->complete =
        result->complete && counts_out->active_sessions == 0 && counts_out->settling_sessions == 0;
    if (counts_out->complete && st->refused_count > 0)
        rc = refused_before(st, &counts_out->complete, err);
    if (rc != 0)
        goto done;
    if (st->dry_run) {
        rc = dry_run_end_day(st, counts_out, err);
        goto done;
    }
    if (st->refused_count > 0 && result->error == NULL) {
        struct day_result with_refusal = *result;
        with_refusal.error = st->refused_first;
        rc = write_ledger(st, run_id, &with_refusal, counts_out, err);
    } else {
        rc = write_ledger(st, run_id, result, counts_out, err);
    }
    if (rc != 0)
        goto done;
    rc = add_run_counters(st, run_id, result, counts_out, err);
    if (rc != 0)
        goto done;
    rc = store_exec(st, "COMMIT", "commit the day", err);
    if (rc != 0)
        goto done;
    st->in_day = false;
    for (int t = 0; t < METRICS_TABLES; t++)
        metrics_add_rows((enum metrics_table)t, st->table_rows[t]);
done:
    return rc;
}

void store_day_abort(struct store *st, long long run_id, const char *project, const char *day,
                     const char *error)
{
    struct lk_error err;
    char run[24];
    const char *params[4] = {project, day, run, error};
    PGresult *res;

    assert(st != NULL);
    lk_error_init(&err);
    if (st->copying) {
        st->copying = false;
        if (PQputCopyEnd(st->conn, "day aborted") == 1)
            while ((res = PQgetResult(st->conn)) != NULL)
                PQclear(res);
    }
    if (st->in_day) {
        st->in_day = false;
        store_exec(st, "ROLLBACK", "roll back the day", NULL);
    }
    if (PQstatus(st->conn) != CONNECTION_OK || st->dry_run || error == NULL)
        return; /* the caller reconnects (the server rolled the day back), or tries again */
    snprintf(run, sizeof run, "%lld", run_id);
    if (pq_exec(NULL, st->conn, PQ_COMMAND_OK, store_sql_day_failed, 4, params, &err,
                "record the failed day") != 0)
        log_lk_error(LOG_LEVEL_WARN, &err);
}
