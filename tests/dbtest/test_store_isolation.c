/* test_store_isolation.c -- the store against a real PostgreSQL (DATABASE_URL, started by
 * tests/integration/test_store_isolation.sh): a row with a value the server refuses at COPY
 * time, or one its stage column cannot hold (refused before it is sent). Streaming, the day
 * fails with LK_EVALUE (not LK_EDB: the run goes on) and the connection stays usable; in
 * isolation the refused row's session alone is left out, named, and the day's other sessions,
 * participants and connections are archived.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "store.h"
#include "store_day.h"
#include "store_ledger.h"
#include "store_schema.h"

#define PROJECT "p_isolation"
#define DAY "2026-11-19"

static long long scalar(const char *sql)
{
    PGconn *conn = PQconnectdb(getenv("DATABASE_URL"));
    PGresult *res = PQexec(conn, sql);
    long long value;

    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(conn);
    return value;
}

/* Run a statement that returns no rows. */
static void exec_sql(const char *sql)
{
    PGconn *conn = PQconnectdb(getenv("DATABASE_URL"));
    PGresult *res = PQexec(conn, sql);

    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(conn);
}

/* A value one column of a staged session carries (the store trusts extract: a value it would
 * never send stands for any value the column cannot hold). */
struct bad_value {
    enum record_kind kind;
    int column;
    const char *value;
};

/* Stage one ended session with one participant and one connection; `bad` (NULL: none) replaces
 * one value. Returns the first failure of store_day_add, or 0. */
static int stage_session(struct store *st, const char *id, const struct bad_value *bad,
                         struct lk_error *err)
{
    struct record records[4] = {{RECORD_LIST_SESSION, {0}, "{}"},
                                {RECORD_DETAILS_SESSION, {0}, "{}"},
                                {RECORD_PARTICIPANT, {0}, "{}"},
                                {RECORD_CONNECTION, {0}, "{}"}};
    int rc = 0;

    records[0].values[LS_SESSION_ID] = id;
    records[0].values[LS_CREATED_AT] = DAY " 10:00:00+00";
    records[0].values[LS_ENDED_AT] = DAY " 11:00:00+00";
    records[0].values[LS_BANDWIDTH_IN] = "100";
    records[0].values[LS_ROOM_NAME] = "room";
    records[1].values[DS_SESSION_ID] = id;
    records[2].values[PT_SESSION_ID] = id;
    records[2].values[PT_IDENTITY] = "user-1";
    records[3].values[CN_SESSION_ID] = id;
    records[3].values[CN_CONNECTION_ID] = "PA_1";
    records[3].values[CN_PARTICIPANT_IDENTITY] = "user-1";
    if (bad)
        records[bad->kind].values[bad->column] = bad->value;
    for (int i = 0; i < 4 && rc == 0; i++)
        rc = store_day_add(st, &records[i], i == 0 ? 1 : 2, err);
    return rc;
}

/* A day of three sessions, the second carrying `bad`. */
static int archive_day(struct store *st, long long run_id, bool isolate,
                       const struct bad_value *bad, struct day_counts *counts, struct lk_error *err)
{
    struct day_result result = {.complete = true, .pages = 1};
    char **ids = NULL;
    size_t count = 0;
    int rc = store_day_begin(st, PROJECT, DAY, true, isolate, err);

    if (rc == 0)
        rc = stage_session(st, "RM_good1", NULL, err);
    if (rc == 0)
        rc = stage_session(st, "RM_bad", bad, err);
    if (rc == 0)
        rc = stage_session(st, "RM_good2", NULL, err);
    if (rc == 0)
        rc = store_day_sessions_needing_details(st, true, &ids, &count, err);
    for (size_t i = 0; i < count; i++)
        free(ids[i]);
    free(ids);
    if (rc == 0)
        rc = store_day_commit(st, run_id, &result, counts, err);
    return rc;
}

static void refused_value_costs_one_session(const struct bad_value *bad)
{
    struct store *st = NULL;
    struct lk_error err;
    struct day_counts counts;
    char *projects[] = {PROJECT};
    long long run_id = 0;
    int rc;

    lk_error_init(&err);
    assert_int_equal(store_open(&st, getenv("DATABASE_URL"), &err), 0);
    assert_int_equal(store_migrate(st, false, NULL, &err), 0);
    exec_sql("TRUNCATE livekit.sessions, livekit.participants, livekit.participant_connections,"
             " livekit.archive_days, livekit.archive_runs CASCADE");
    assert_int_equal(
        store_run_begin(st, "2026-11-20", DAY, "2026-11-20", projects, 1, &run_id, &err), 0);

    /* streaming: the whole day fails, as a refused value, and nothing of it is stored */
    rc = archive_day(st, run_id, false, bad, &counts, &err);
    assert_int_equal(rc, LK_EVALUE);
    store_day_abort(st, run_id, PROJECT, DAY, err.message);
    assert_true(store_connection_ok(st));
    assert_int_equal(scalar("SELECT count(*) FROM livekit.sessions"), 0);

    /* in isolation: the two good sessions and their rows are archived, the bad one named */
    lk_error_init(&err);
    rc = archive_day(st, run_id, true, bad, &counts, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(counts.refused_sessions, 1);
    assert_false(counts.complete);
    assert_int_equal(scalar("SELECT count(*) FROM livekit.sessions"), 2);
    assert_int_equal(scalar("SELECT count(*) FROM livekit.participants"), 2);
    assert_int_equal(scalar("SELECT count(*) FROM livekit.participant_connections"), 2);
    assert_int_equal(scalar("SELECT count(*) FROM livekit.sessions WHERE session_id = 'RM_bad'"),
                     0);
    assert_int_equal(scalar("SELECT count(*) FROM livekit.archive_days WHERE status = 'pending'"
                            " AND last_error LIKE 'session RM_bad: PostgreSQL refused a value%'"),
                     1);
    store_free(st);
}

/* Refused by the server: text that is not UTF-8 (the binary COPY sends text as it is). */
static void refused_by_the_server(void **state)
{
    static const struct bad_value bad = {RECORD_PARTICIPANT, PT_NAME, "caf\xe9"};
    (void)state;
    refused_value_costs_one_session(&bad);
}

/* Refused before it is sent: a number its column (bigint) cannot hold. */
static void refused_by_the_stage(void **state)
{
    static const struct bad_value bad = {RECORD_LIST_SESSION, LS_BANDWIDTH_IN,
                                         "99999999999999999999999"};
    (void)state;
    refused_value_costs_one_session(&bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refused_by_the_server),
        cmocka_unit_test(refused_by_the_stage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
