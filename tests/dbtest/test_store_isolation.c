/* test_store_isolation.c -- the store against a real PostgreSQL (DATABASE_URL, started by
 * tests/integration/test_store_isolation.sh): a row whose value the server refuses at COPY
 * time. Streaming, the day fails with LK_EVALUE (not LK_EDB: the run goes on) and the
 * connection stays usable; in isolation the refused row's session alone is left out, named,
 * and the day's other sessions, participants and connections are archived.
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

/* Stage one ended session with one participant and one connection; bandwidth_in is `bytes`
 * as given (the store trusts extract; a value it would never send stands for any value the
 * server refuses). */
static void stage_session(struct store *st, const char *id, const char *bytes)
{
    struct lk_error err;
    struct record list = {RECORD_LIST_SESSION, {0}, "{}"};
    struct record details = {RECORD_DETAILS_SESSION, {0}, "{}"};
    struct record participant = {RECORD_PARTICIPANT, {0}, "{}"};
    struct record connection = {RECORD_CONNECTION, {0}, "{}"};

    list.values[LS_SESSION_ID] = id;
    list.values[LS_CREATED_AT] = DAY " 10:00:00+00";
    list.values[LS_ENDED_AT] = DAY " 11:00:00+00";
    list.values[LS_BANDWIDTH_IN] = bytes;
    details.values[DS_SESSION_ID] = id;
    participant.values[PT_SESSION_ID] = id;
    participant.values[PT_IDENTITY] = "user-1";
    connection.values[CN_SESSION_ID] = id;
    connection.values[CN_CONNECTION_ID] = "PA_1";
    connection.values[CN_PARTICIPANT_IDENTITY] = "user-1";
    assert_int_equal(store_day_add(st, &list, 1, &err), 0);
    assert_int_equal(store_day_add(st, &details, 2, &err), 0);
    assert_int_equal(store_day_add(st, &participant, 2, &err), 0);
    assert_int_equal(store_day_add(st, &connection, 2, &err), 0);
}

/* A day of three sessions, the second carrying a value bigint cannot hold. */
static int archive_day(struct store *st, long long run_id, bool isolate, struct day_counts *counts,
                       struct lk_error *err)
{
    struct day_result result = {.complete = true, .pages = 1};
    char **ids = NULL;
    size_t count = 0;
    int rc = store_day_begin(st, PROJECT, DAY, true, isolate, err);

    if (rc == 0) {
        stage_session(st, "RM_good1", "100");
        stage_session(st, "RM_bad", "99999999999999999999999");
        stage_session(st, "RM_good2", "200");
        rc = store_day_sessions_needing_details(st, true, &ids, &count, err);
    }
    for (size_t i = 0; i < count; i++)
        free(ids[i]);
    free(ids);
    if (rc == 0)
        rc = store_day_commit(st, run_id, &result, counts, err);
    return rc;
}

static void refused_value_costs_one_session(void **state)
{
    struct store *st = NULL;
    struct lk_error err;
    struct day_counts counts;
    char *projects[] = {PROJECT};
    long long run_id = 0;
    int rc;
    (void)state;

    lk_error_init(&err);
    assert_int_equal(store_open(&st, getenv("DATABASE_URL"), &err), 0);
    assert_int_equal(store_migrate(st, false, NULL, &err), 0);
    assert_int_equal(
        store_run_begin(st, "2026-11-20", DAY, "2026-11-20", projects, 1, &run_id, &err), 0);

    /* streaming: the whole day fails, as a refused value, and nothing of it is stored */
    rc = archive_day(st, run_id, false, &counts, &err);
    assert_int_equal(rc, LK_EVALUE);
    store_day_abort(st, run_id, PROJECT, DAY, err.message);
    assert_true(store_connection_ok(st));
    assert_int_equal(scalar("SELECT count(*) FROM livekit.sessions"), 0);

    /* in isolation: the two good sessions and their rows are archived, the bad one named */
    lk_error_init(&err);
    rc = archive_day(st, run_id, true, &counts, &err);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refused_value_costs_one_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
