/* test_stage_values.c -- the binary COPY stage against a real PostgreSQL (DATABASE_URL, started
 * by tests/integration/test_stage_values.sh): every value archived through it equals what the
 * server makes of the same canonical text. Timestamps with 1 to 9 fraction digits (half a
 * microsecond, both ways; a fraction that carries into the next second, day and year; before
 * 2000), the ends of every integer column, text the COPY text format had to escape, jsonb,
 * numeric. Each session's room name holds the text its value came from, so the server
 * compares the two.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "store.h"
#include "store_day.h"
#include "store_ledger.h"
#include "store_schema.h"

#define PROJECT "p_values"
#define DAY "2026-11-19"
#define RANDOM_TIMESTAMPS 3000

static long long scalar(const char *sql)
{
    PGconn *conn = PQconnectdb(getenv("DATABASE_URL"));
    PGresult *res = PQexec(conn, sql);
    long long value;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(conn);
    return value;
}

/* Timestamps chosen to round every way PostgreSQL rounds a fraction. */
static const char *const edge_timestamps[] = {
    "2026-11-19 10:00:00+00",           "2026-11-19 10:00:00.5+00",
    "2026-11-19 10:00:00.0000005+00",   "2026-11-19 10:00:00.0000015+00",
    "2026-11-19 10:00:00.0000025+00",   "2026-11-19 10:00:00.1234565+00",
    "2026-11-19 10:00:00.4999995+00",   "2026-11-19 10:00:00.9999994+00",
    "2026-11-19 10:00:00.9999995+00",   "2026-11-19 10:00:00.999999999+00",
    "2026-11-19 23:59:59.9999996+00",   "2026-12-31 23:59:59.999999500+00",
    "2024-02-29 12:00:00.000000001+00", "2000-01-01 00:00:00+00",
    "1999-12-31 23:59:59.9999995+00",   "1970-01-01 00:00:00.000001+00",
    "0001-01-01 00:00:00.000000499+00", "9999-12-31 23:59:59.999999+00",
};

static int add_list(struct store *st, const char *id, const char *room, const char *const *values,
                    struct lk_error *err)
{
    struct record rec = {RECORD_LIST_SESSION, {0}, "{}"};

    rec.values[LS_SESSION_ID] = id;
    rec.values[LS_ROOM_NAME] = room;
    for (int i = LS_CREATED_AT; i < LS_COUNT; i++)
        rec.values[i] = values ? values[i] : NULL;
    return store_day_add(st, &rec, 1, err);
}

/* A random canonical timestamp with `digits` fraction digits (0: none), from *seed. */
static void random_timestamp(char *out, size_t size, unsigned *seed, int digits)
{
    unsigned long long nanos = (unsigned long long)rand_r(seed) % 1000000000ULL;
    char fraction[32] = "";

    for (int cut = digits; cut < 9; cut++)
        nanos /= 10;
    if (digits > 0)
        snprintf(fraction, sizeof fraction, ".%0*llu", digits % 10, nanos % 1000000000ULL);
    snprintf(out, size, "2026-11-%02d %02d:%02d:%02d%s+00", 1 + rand_r(seed) % 28,
             rand_r(seed) % 24, rand_r(seed) % 60, rand_r(seed) % 60, fraction);
}

/* Stage the day's sessions: every edge and random timestamp as created_at (room name: its
 * text), one session with every integer column at its ends, one with hostile text. */
static int stage_values(struct store *st, struct lk_error *err)
{
    static const char *const high[LS_COUNT] = {[LS_ENDED_AT] = DAY " 11:00:00+00",
                                               [LS_BANDWIDTH_IN] = "9223372036854775807",
                                               [LS_BANDWIDTH_OUT] = "0",
                                               [LS_EGRESS] = "32767",
                                               [LS_NUM_PARTICIPANTS] = "2147483647",
                                               [LS_NUM_ACTIVE_PARTICIPANTS] = "-2147483648"};
    static const char *const low[LS_COUNT] = {
        [LS_BANDWIDTH_IN] = "-9223372036854775808", [LS_EGRESS] = "-32768"};
    struct record details = {RECORD_DETAILS_SESSION, {0}, "{\"a\":[1,2.50,\"\\u00e9\\t\"]}"};
    struct record participant = {RECORD_PARTICIPANT, {0}, "{}"};
    const char *values[LS_COUNT] = {0};
    char id[32], text[64];
    unsigned seed = 20261202;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < sizeof edge_timestamps / sizeof *edge_timestamps; i++) {
        snprintf(id, sizeof id, "RM_edge%zu", i);
        values[LS_CREATED_AT] = edge_timestamps[i];
        rc = add_list(st, id, edge_timestamps[i], values, err);
    }
    for (int i = 0; rc == 0 && i < RANDOM_TIMESTAMPS; i++) {
        snprintf(id, sizeof id, "RM_random%d", i);
        random_timestamp(text, sizeof text, &seed, i % 10);
        values[LS_CREATED_AT] = text;
        rc = add_list(st, id, text, values, err);
    }
    if (rc == 0)
        rc = add_list(st, "RM_high", "high", high, err);
    if (rc == 0)
        rc = add_list(st, "RM_low", "low", low, err);
    if (rc == 0)
        rc = add_list(st, "RM_text", "tab\there\nnew line\\back\rslash \"quoted\" \\N", NULL, err);
    details.values[DS_SESSION_ID] = "RM_text";
    details.values[DS_CONNECTION_MINUTES] = "12.500";
    details.values[DS_NUM_PARTICIPANTS] = "0";
    participant.values[PT_SESSION_ID] = "RM_text";
    participant.values[PT_IDENTITY] = "\\N";
    participant.values[PT_NAME] = "";
    participant.values[PT_CAMERA] = "t";
    participant.values[PT_MICROPHONE] = "f";
    if (rc == 0)
        rc = store_day_add(st, &details, 2, err);
    if (rc == 0)
        rc = store_day_add(st, &participant, 2, err);
    return rc;
}

/* Archive one day of `project` in a run of its own: `stage` stages its rows (as a fetch
 * would: list rows, then details), then the day is committed. */
static void archive_day(const char *project, int (*stage)(struct store *, struct lk_error *))
{
    struct store *st = NULL;
    struct lk_error err;
    struct day_counts counts;
    struct day_result result = {.complete = true, .pages = 1};
    char *projects[] = {(char *)project};
    char **ids = NULL;
    size_t count = 0;
    long long run_id = 0;

    lk_error_init(&err);
    assert_int_equal(store_open(&st, getenv("DATABASE_URL"), &err), 0);
    assert_int_equal(store_migrate(st, false, NULL, &err), 0);
    assert_int_equal(
        store_run_begin(st, "2026-11-20", DAY, "2026-11-20", projects, 1, &run_id, &err), 0);
    assert_int_equal(store_day_begin(st, project, DAY, true, false, &err), 0);
    assert_int_equal(stage(st, &err), 0);
    assert_int_equal(store_day_sessions_needing_details(st, true, &ids, &count, &err), 0);
    for (size_t i = 0; i < count; i++)
        free(ids[i]);
    free(ids);
    assert_int_equal(store_day_commit(st, run_id, &result, &counts, &err), 0);
    store_free(st);
}

static void archived_values_equal_the_servers_reading(void **state)
{
    (void)state;
    archive_day(PROJECT, stage_values);
    assert_int_equal(scalar("SELECT count(*) FROM livekit.sessions WHERE session_id LIKE 'RM_edge%'"
                            " OR session_id LIKE 'RM_random%'"),
                     RANDOM_TIMESTAMPS +
                         (long long)(sizeof edge_timestamps / sizeof *edge_timestamps));
    assert_int_equal(
        scalar("SELECT count(*) FROM livekit.sessions WHERE (session_id LIKE 'RM_edge%'"
               " OR session_id LIKE 'RM_random%')"
               " AND created_at IS DISTINCT FROM room_name::timestamptz"),
        0);
    assert_int_equal(scalar("SELECT count(*) FROM livekit.sessions WHERE session_id = 'RM_high'"
                            " AND bandwidth_in = 9223372036854775807 AND bandwidth_out = 0"
                            " AND egress = 32767 AND num_participants = 2147483647"
                            " AND num_active_participants = -2147483648"
                            " AND ended_at = '" DAY " 11:00:00+00' AND created_at IS NULL"),
                     1);
    assert_int_equal(scalar("SELECT count(*) FROM livekit.sessions WHERE session_id = 'RM_low'"
                            " AND bandwidth_in = -9223372036854775808 AND egress = -32768"
                            " AND bandwidth_out IS NULL"),
                     1);
    assert_int_equal(scalar("SELECT count(*) FROM livekit.sessions WHERE session_id = 'RM_text'"
                            " AND room_name = E'tab\\there\\nnew line\\\\back\\rslash"
                            " \"quoted\" \\\\N' AND connection_minutes::text = '12.500'"
                            " AND details_extra = '{\"a\":[1,2.50,\"\\u00e9\\t\"]}'::jsonb"),
                     1);
    assert_int_equal(scalar("SELECT count(*) FROM livekit.participants WHERE session_id = 'RM_text'"
                            " AND participant_identity = E'\\\\N' AND participant_name = ''"
                            " AND published_camera_track AND NOT published_microphone_track"
                            " AND published_screen_share_track IS NULL"),
                     1);
}

/* A participant and a connection, each staged twice (a details response repeating an entry). */
static int stage_twice(struct store *st, struct lk_error *err)
{
    const char *names[] = {"first", "second"};
    struct record participant = {RECORD_PARTICIPANT, {0}, "{}"};
    struct record connection = {RECORD_CONNECTION, {0}, "{}"};
    int rc = add_list(st, "RM_twice", "room", NULL, err);

    participant.values[PT_SESSION_ID] = connection.values[CN_SESSION_ID] = "RM_twice";
    participant.values[PT_IDENTITY] = connection.values[CN_PARTICIPANT_IDENTITY] = "user";
    connection.values[CN_CONNECTION_ID] = "PA_1";
    for (int i = 0; i < 2 && rc == 0; i++) {
        participant.values[PT_NAME] = names[i];
        connection.values[CN_JOINED_AT] = i ? DAY " 10:02:00+00" : DAY " 10:01:00+00";
        rc = store_day_add(st, &participant, 2, err);
        if (rc == 0)
            rc = store_day_add(st, &connection, 2, err);
    }
    return rc;
}

/* A key staged twice in a day of new sessions: one row each, the newest, as when every key is
 * staged once. */
static void a_key_staged_twice_keeps_the_newest(void **state)
{
    (void)state;
    archive_day("p_twice", stage_twice);
    assert_int_equal(scalar("SELECT count(*) FROM livekit.participants WHERE project_id = 'p_twice'"
                            " AND participant_name = 'second'"),
                     1);
    assert_int_equal(
        scalar("SELECT count(*) FROM livekit.participants WHERE project_id = 'p_twice'"), 1);
    assert_int_equal(scalar("SELECT count(*) FROM livekit.participant_connections"
                            " WHERE project_id = 'p_twice' AND joined_at = '" DAY " 10:02:00+00'"),
                     1);
    assert_int_equal(
        scalar("SELECT count(*) FROM livekit.participant_connections WHERE project_id = 'p_twice'"),
        1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(archived_values_equal_the_servers_reading),
        cmocka_unit_test(a_key_staged_twice_keeps_the_newest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
