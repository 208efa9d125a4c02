/* store.c -- libpq: migrations, the per-day COPY stage and merge, the ledger; see store.h.
 *
 * Flow of a day: BEGIN; COPY lk_stage FROM STDIN; records are appended as COPY text lines to
 * a capped buffer that is flushed with PQputCopyData as it fills; PQputCopyEnd; four merge
 * statements (list sessions, details, participants, connections), each taking the last
 * staged version of a key (DISTINCT ON ... ORDER BY seq DESC) from attempts not discarded,
 * between the two halves of the rollup refresh (the staged sessions' days before and after);
 * the archive_days upsert and archive_runs counters; COMMIT. Values arrive already
 * validated by extract, so the typed stage columns never reject a line.
 */
#include "store.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convert.h"
#include "error.h"
#include "log.h"
#include "migrations.h"
#include "strmap.h"

#define COPY_FLUSH_BYTES (256 * 1024)
/* Advisory lock key for migrations: "lkarchiv" read as a number. */
#define MIGRATION_LOCK_KEY 0x6c6b617263686976LL

/* The list entry's hash: every value (NULL distinct from "") and extra, in column order.
 * Stored as bigint, so it is kept in the signed range PostgreSQL holds. */
static uint64_t list_record_hash(const struct record *rec)
{
    uint64_t h = STRMAP_HASH_SEED;
    for (int i = 0; i < LS_COUNT; i++) {
        if (rec->values[i] == NULL)
            h = strmap_hash(h, "\x01", 1);
        else
            h = strmap_hash(h, rec->values[i], strlen(rec->values[i]) + 1);
    }
    h = strmap_hash(h, rec->extra, strlen(rec->extra));
    return h & 0x7fffffffffffffffULL;
}

struct store {
    PGconn *conn;
    bool list_rows_changed;   /* the day's list differs from the archive (else skip its merge) */
    struct strmap known;      /* session id -> list hash of the day's ended, archived sessions */
    long long list_unchanged; /* list entries skipped because their hash matched */
    long long rows_merged;    /* rows the day's merges inserted or changed */
    char **locked_projects;   /* advisory locks held, taken again after a reconnect */
    size_t locked_count;
    char project[128];
    char day[16];
    bool in_day;
    bool copying;
    long long seq;
    char *copy_buf;
    size_t copy_len, copy_capacity;
    int *discarded;
    size_t discarded_count, discarded_capacity;
};

/* Stage columns, in COPY order. */
enum stage_column {
    SG_SEQ,
    SG_ATTEMPT,
    SG_KIND,
    SG_SESSION_ID,
    SG_PARTICIPANT_IDENTITY,
    SG_CONNECTION_ID,
    SG_ROOM_NAME,
    SG_CREATED_AT,
    SG_ENDED_AT,
    SG_LAST_ACTIVE,
    SG_BANDWIDTH_IN,
    SG_BANDWIDTH_OUT,
    SG_EGRESS,
    SG_NUM_PARTICIPANTS,
    SG_NUM_ACTIVE_PARTICIPANTS,
    SG_START_TIME,
    SG_END_TIME,
    SG_BANDWIDTH,
    SG_CONNECTION_MINUTES,
    SG_DETAILS_NUM_PARTICIPANTS,
    SG_PARTICIPANT_NAME,
    SG_JOINED_AT,
    SG_LEFT_AT,
    SG_REGION,
    SG_CONNECTION_TYPE,
    SG_SDK_VERSION,
    SG_CAMERA,
    SG_MICROPHONE,
    SG_SCREEN_SHARE,
    SG_SCREEN_SHARE_AUDIO,
    SG_EXTRA,
    SG_LIST_HASH,
    SG_COUNT
};

static const char SQL_CREATE_STAGE[] =
    "CREATE TEMP TABLE IF NOT EXISTS lk_stage ("
    " seq bigint, attempt integer, kind \"char\", session_id text, participant_identity text,"
    " connection_id text, room_name text, created_at timestamptz, ended_at timestamptz,"
    " last_active timestamptz, bandwidth_in bigint, bandwidth_out bigint, egress smallint,"
    " num_participants integer, num_active_participants integer, start_time timestamptz,"
    " end_time timestamptz, bandwidth bigint, connection_minutes numeric,"
    " details_num_participants integer, participant_name text, joined_at timestamptz,"
    " left_at timestamptz, region text, connection_type text, sdk_version text,"
    " camera boolean, microphone boolean, screen_share boolean, screen_share_audio boolean,"
    " extra jsonb, list_hash bigint) ON COMMIT DELETE ROWS";

static const char SQL_COPY_STAGE[] = "COPY lk_stage FROM STDIN";

/* A session listed under two days (an API whose day filter overlaps) stays with the first,
 * so re-runs do not move it back and forth.
 * $1 project, $2 day, $3 discarded attempts (participants, connections: $1 project,
 * $2 discarded attempts). Each merge keeps the newest staged row per key
 * and rewrites a row only when something differs, so re-runs leave rows untouched. */
static const char SQL_MERGE_LIST_SESSIONS[] =
    "INSERT INTO livekit.sessions AS t (project_id, session_id, room_name, created_at, ended_at,"
    " last_active, bandwidth_in, bandwidth_out, egress, num_participants,"
    " num_active_participants, list_day, list_extra, list_hash)"
    " SELECT DISTINCT ON (s.session_id) $1, s.session_id, s.room_name, s.created_at,"
    " s.ended_at, s.last_active, s.bandwidth_in, s.bandwidth_out, s.egress,"
    " s.num_participants, s.num_active_participants, $2::date, s.extra, s.list_hash"
    " FROM lk_stage s WHERE s.kind = 'L' AND s.attempt <> ALL ($3::integer[])"
    " ORDER BY s.session_id, s.seq DESC"
    " ON CONFLICT (project_id, session_id) DO UPDATE SET"
    " room_name = COALESCE(excluded.room_name, t.room_name), created_at = excluded.created_at,"
    " ended_at = excluded.ended_at, last_active = excluded.last_active,"
    " bandwidth_in = excluded.bandwidth_in, bandwidth_out = excluded.bandwidth_out,"
    " egress = excluded.egress, num_participants = excluded.num_participants,"
    " num_active_participants = excluded.num_active_participants,"
    " list_day = LEAST(t.list_day, excluded.list_day), list_extra = excluded.list_extra,"
    " list_hash = excluded.list_hash, updated_at = now()"
    " WHERE (COALESCE(excluded.room_name, t.room_name), excluded.created_at, excluded.ended_at,"
    " excluded.last_active, excluded.bandwidth_in, excluded.bandwidth_out, excluded.egress,"
    " excluded.num_participants, excluded.num_active_participants,"
    " LEAST(t.list_day, excluded.list_day),"
    " excluded.list_extra, excluded.list_hash)"
    " IS DISTINCT FROM (t.room_name, t.created_at, t.ended_at, t.last_active, t.bandwidth_in,"
    " t.bandwidth_out, t.egress, t.num_participants, t.num_active_participants, t.list_day,"
    " t.list_extra, t.list_hash)";

static const char SQL_MERGE_DETAILS[] =
    "INSERT INTO livekit.sessions AS t (project_id, session_id, room_name, start_time, end_time,"
    " bandwidth, connection_minutes, details_num_participants, details_extra, details_archived,"
    " list_day)"
    " SELECT DISTINCT ON (s.session_id) $1, s.session_id, s.room_name, s.start_time,"
    " s.end_time, s.bandwidth, s.connection_minutes, s.details_num_participants, s.extra, true,"
    " $2::date"
    " FROM lk_stage s WHERE s.kind = 'D' AND s.attempt <> ALL ($3::integer[])"
    " ORDER BY s.session_id, s.seq DESC"
    " ON CONFLICT (project_id, session_id) DO UPDATE SET"
    " room_name = COALESCE(t.room_name, excluded.room_name), start_time = excluded.start_time,"
    " end_time = excluded.end_time, bandwidth = excluded.bandwidth,"
    " connection_minutes = excluded.connection_minutes,"
    " details_num_participants = excluded.details_num_participants,"
    " details_extra = excluded.details_extra, details_archived = true, updated_at = now()"
    " WHERE (COALESCE(t.room_name, excluded.room_name), excluded.start_time, excluded.end_time,"
    " excluded.bandwidth, excluded.connection_minutes, excluded.details_num_participants,"
    " excluded.details_extra, true)"
    " IS DISTINCT FROM (t.room_name, t.start_time, t.end_time, t.bandwidth,"
    " t.connection_minutes, t.details_num_participants, t.details_extra, t.details_archived)";

static const char SQL_MERGE_PARTICIPANTS[] =
    "INSERT INTO livekit.participants AS t (project_id, session_id, participant_identity,"
    " participant_name, joined_at, left_at, region, connection_type, sdk_version,"
    " published_camera_track, published_microphone_track, published_screen_share_track,"
    " published_screen_share_audio, extra)"
    " SELECT DISTINCT ON (s.session_id, s.participant_identity) $1, s.session_id,"
    " s.participant_identity, s.participant_name, s.joined_at, s.left_at, s.region,"
    " s.connection_type, s.sdk_version, s.camera, s.microphone, s.screen_share,"
    " s.screen_share_audio, s.extra"
    " FROM lk_stage s WHERE s.kind = 'P' AND s.attempt <> ALL ($2::integer[])"
    " ORDER BY s.session_id, s.participant_identity, s.seq DESC"
    " ON CONFLICT (project_id, session_id, participant_identity) DO UPDATE SET"
    " participant_name = excluded.participant_name, joined_at = excluded.joined_at,"
    " left_at = excluded.left_at, region = excluded.region,"
    " connection_type = excluded.connection_type, sdk_version = excluded.sdk_version,"
    " published_camera_track = excluded.published_camera_track,"
    " published_microphone_track = excluded.published_microphone_track,"
    " published_screen_share_track = excluded.published_screen_share_track,"
    " published_screen_share_audio = excluded.published_screen_share_audio,"
    " extra = excluded.extra, updated_at = now()"
    " WHERE (excluded.participant_name, excluded.joined_at, excluded.left_at, excluded.region,"
    " excluded.connection_type, excluded.sdk_version, excluded.published_camera_track,"
    " excluded.published_microphone_track, excluded.published_screen_share_track,"
    " excluded.published_screen_share_audio, excluded.extra)"
    " IS DISTINCT FROM (t.participant_name, t.joined_at, t.left_at, t.region,"
    " t.connection_type, t.sdk_version, t.published_camera_track,"
    " t.published_microphone_track, t.published_screen_share_track,"
    " t.published_screen_share_audio, t.extra)";

static const char SQL_MERGE_CONNECTIONS[] =
    "INSERT INTO livekit.participant_connections AS t (project_id, session_id, connection_id,"
    " participant_identity, joined_at, left_at, extra)"
    " SELECT DISTINCT ON (s.session_id, s.connection_id) $1, s.session_id, s.connection_id,"
    " s.participant_identity, s.joined_at, s.left_at, s.extra"
    " FROM lk_stage s WHERE s.kind = 'C' AND s.attempt <> ALL ($2::integer[])"
    " ORDER BY s.session_id, s.connection_id, s.seq DESC"
    " ON CONFLICT (project_id, session_id, connection_id) DO UPDATE SET"
    " participant_identity = excluded.participant_identity, joined_at = excluded.joined_at,"
    " left_at = excluded.left_at, extra = excluded.extra, updated_at = now()"
    " WHERE (excluded.participant_identity, excluded.joined_at, excluded.left_at, excluded.extra)"
    " IS DISTINCT FROM (t.participant_identity, t.joined_at, t.left_at, t.extra)";

/* $1 project $2 discarded attempts $3 full $4 day. Rows: (session id, whether its details
 * are needed); a session listed here without needing details only changed its list entry. Newest
 * staged list row per session, compared with what the archive holds. */
static const char SQL_NEEDING_DETAILS[] =
    "SELECT session_id, list_changed OR details_missing OR active OR $3::boolean FROM ("
    " SELECT s.session_id, s.seq, t.session_id IS NULL"
    "   OR (s.room_name, s.created_at, s.ended_at, s.last_active, s.bandwidth_in,"
    "       s.bandwidth_out, s.egress, s.num_participants, s.num_active_participants, s.extra,"
    "       LEAST(t.list_day, $4::date), s.list_hash)"
    "      IS DISTINCT FROM (t.room_name, t.created_at, t.ended_at, t.last_active,"
    "       t.bandwidth_in, t.bandwidth_out, t.egress, t.num_participants,"
    "       t.num_active_participants, t.list_extra, t.list_day, t.list_hash) AS list_changed,"
    "   t.session_id IS NULL OR NOT t.details_archived AS details_missing,"
    "   s.ended_at IS NULL AS active"
    " FROM (SELECT DISTINCT ON (session_id) * FROM lk_stage"
    "   WHERE kind = 'L' AND attempt <> ALL ($2::integer[]) ORDER BY session_id, seq DESC) s"
    " LEFT JOIN livekit.sessions t ON t.project_id = $1 AND t.session_id = s.session_id) c"
    " WHERE list_changed OR details_missing OR active OR $3::boolean"
    " ORDER BY seq";

/* The counts the ledger already has for the day (no row when the day is new). */
static const char SQL_DAY_COUNTS_UNCHANGED[] =
    "SELECT sessions, participants, connections, active_sessions FROM livekit.archive_days"
    " WHERE project_id = $1 AND day = $2 AND status <> 'failed'";

/* What the archive holds for the day (skipped details still count). $1 project $2 day */
static const char SQL_DAY_COUNTS[] =
    "SELECT (SELECT count(*) FROM livekit.sessions WHERE project_id = $1 AND list_day = $2),"
    " (SELECT count(*) FROM livekit.participants p JOIN livekit.sessions s"
    "   USING (project_id, session_id) WHERE s.project_id = $1 AND s.list_day = $2),"
    " (SELECT count(*) FROM livekit.participant_connections c JOIN livekit.sessions s"
    "   USING (project_id, session_id) WHERE s.project_id = $1 AND s.list_day = $2),"
    " (SELECT count(*) FROM livekit.sessions WHERE project_id = $1 AND list_day = $2"
    "   AND ended_at IS NULL)";

/* $1 project $2 day $3 status $4 run $5 sessions $6 active $7 participants $8 connections
 * $9 pages $10 error $11 pending reason. A day complete before keeps its first completion
 * time. */
static const char SQL_DAY_LEDGER[] =
    "INSERT INTO livekit.archive_days AS d (project_id, day, status, completed_at,"
    " completed_run_id, last_run_id, sessions, active_sessions, participants, connections,"
    " pages, last_error, pending_reason)"
    " VALUES ($1, $2::date, $3, CASE WHEN $3 = 'complete' THEN now() END,"
    " CASE WHEN $3 = 'complete' THEN $4::bigint END, $4::bigint, $5, $6, $7, $8, $9, $10, $11)"
    " ON CONFLICT (project_id, day) DO UPDATE SET status = excluded.status,"
    " completed_at = CASE WHEN excluded.status = 'complete'"
    "   THEN COALESCE(d.completed_at, now()) END,"
    " completed_run_id = CASE WHEN excluded.status = 'complete'"
    "   THEN COALESCE(d.completed_run_id, excluded.last_run_id) END,"
    " last_run_id = excluded.last_run_id, last_attempt_at = now(), attempts = d.attempts + 1,"
    " sessions = excluded.sessions, active_sessions = excluded.active_sessions,"
    " participants = excluded.participants, connections = excluded.connections,"
    " pages = excluded.pages, last_error = excluded.last_error,"
    " pending_reason = excluded.pending_reason";

/* $1 run $2 complete(0/1) $3 pending $4 sessions $5 participants $6 connections
 * $7 details fetched $8 details skipped */
static const char SQL_RUN_COUNTERS[] =
    "UPDATE livekit.archive_runs SET days_complete = days_complete + $2,"
    " days_pending = days_pending + $3, sessions = sessions + $4,"
    " participants = participants + $5, connections = connections + $6,"
    " details_fetched = details_fetched + $7, details_skipped = details_skipped + $8"
    " WHERE run_id = $1";

static const char SQL_DAY_FAILED[] =
    "INSERT INTO livekit.archive_days AS d (project_id, day, status, last_run_id, last_error,"
    " pending_reason) VALUES ($1, $2::date, 'failed', $3::bigint, $4, 'error')"
    " ON CONFLICT (project_id, day) DO UPDATE SET"
    " status = CASE WHEN d.status = 'complete' THEN 'complete' ELSE 'failed' END,"
    " pending_reason = CASE WHEN d.status = 'complete' THEN NULL ELSE 'error' END,"
    " last_run_id = excluded.last_run_id, last_attempt_at = now(), attempts = d.attempts + 1,"
    " last_error = excluded.last_error";

static int start_copy(struct store *st, struct lk_error *err);

/* ---- helpers ---- */

/* Run a statement without parameters; LK_EDB with err filled on failure. */
static int exec_simple(struct store *st, const char *sql, const char *what, struct lk_error *err)
{
    PGresult *res = PQexec(st->conn, sql);
    ExecStatusType status = PQresultStatus(res);
    int rc = 0;

    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        lk_error_set(err, LK_EDB, "could not %s", what);
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        rc = LK_EDB;
    }
    PQclear(res);
    return rc;
}

static PGresult *exec_params(struct store *st, const char *sql, int count,
                             const char *const *params)
{
    return PQexecParams(st->conn, sql, count, NULL, params, NULL, NULL, 0);
}

static bool result_ok(const PGresult *res)
{
    ExecStatusType status = PQresultStatus(res);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

/* One-line libpq message: its first line, without the trailing newline. */
static const char *first_line(const char *message, char *buf, size_t size)
{
    size_t len = strcspn(message, "\n");
    if (len >= size)
        len = size - 1;
    memcpy(buf, message, len);
    buf[len] = '\0';
    return buf;
}

/* ---- connection ---- */

/* Server notices ("schema already exists, skipping") are noise for a cron job: debug only. */
static void on_notice(void *arg, const char *message)
{
    char line[256];
    (void)arg;
    log_debug("postgres: %s", first_line(message, line, sizeof line));
}

int store_open(struct store **out, const char *conninfo, struct lk_error *err)
{
    /* text goes over the wire as UTF-8 whatever the server or client locale */
    const char *keywords[] = {"dbname", "fallback_application_name", "client_encoding", NULL};
    const char *values[] = {conninfo, "lkarchive", "UTF8", NULL};
    struct store *st = calloc(1, sizeof *st);
    char line[256];
    int rc = LK_ENOMEM;

    *out = NULL;
    if (st == NULL || (st->copy_buf = malloc(COPY_FLUSH_BYTES + 65536)) == NULL) {
        lk_error_set(err, rc, "out of memory");
        goto done;
    }
    st->copy_capacity = COPY_FLUSH_BYTES + 65536;
    rc = LK_EDB;
    /* expand_dbname=1: conninfo may be a URI or key=value string; NULL means PG* defaults */
    st->conn = PQconnectdbParams(keywords, values, 1);
    if (st->conn == NULL || PQstatus(st->conn) != CONNECTION_OK) {
        lk_error_set(err, rc, "could not connect to PostgreSQL: %s",
                     st->conn ? first_line(PQerrorMessage(st->conn), line, sizeof line)
                              : "out of memory");
        lk_error_detail(err, "set DATABASE_URL or database_url (a libpq connection string or "
                             "URI), or the PG* variables");
        goto done;
    }
    PQsetNoticeProcessor(st->conn, on_notice, NULL);
    if (exec_simple(st, "SET TIME ZONE 'UTC'", "set the session time zone", err) != 0)
        goto done;
    *out = st;
    st = NULL;
    rc = 0;
done:
    store_free(st);
    return rc;
}

void store_free(struct store *st)
{
    if (st == NULL)
        return;
    if (st->conn)
        PQfinish(st->conn);
    free(st->copy_buf);
    free(st->discarded);
    strmap_clear(&st->known);
    for (size_t i = 0; i < st->locked_count; i++)
        free(st->locked_projects[i]);
    free(st->locked_projects);
    free(st);
}

/* ---- migrations ---- */

int store_migrate(struct store *st, int *applied_out, struct lk_error *err)
{
    PGresult *res = NULL;
    int applied = 0, rc = LK_EDB;
    char lock_sql[96];

    snprintf(lock_sql, sizeof lock_sql, "SELECT pg_advisory_lock(%lld)", MIGRATION_LOCK_KEY);
    if (exec_simple(st, lock_sql, "take the migration lock", err) != 0)
        goto done;
    /* DDL only when the table is missing: a role without CREATE (the writer of the README)
     * can run an archive that its owner migrated */
    if (exec_simple(st,
                    "DO $$BEGIN IF to_regclass('livekit.schema_migrations') IS NULL THEN"
                    " CREATE SCHEMA IF NOT EXISTS livekit;"
                    " CREATE TABLE IF NOT EXISTS livekit.schema_migrations ("
                    " name text PRIMARY KEY, checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now()); END IF; END$$",
                    "create livekit.schema_migrations", err) != 0)
        goto unlock;
    for (const struct migration *m = migrations; m->name; m++) {
        const char *params[2] = {m->name, m->sql};
        PQclear(res);
        res = exec_params(st,
                          "SELECT checksum = md5($2) FROM livekit.schema_migrations "
                          "WHERE name = $1",
                          2, params);
        if (!result_ok(res)) {
            lk_error_set(err, LK_EDB, "could not read livekit.schema_migrations");
            lk_error_detail(err, "%s", PQresultErrorMessage(res));
            goto unlock;
        }
        if (PQntuples(res) == 1) {
            if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
                lk_error_set(err, LK_EDB, "migration %s was changed after it was applied", m->name);
                lk_error_detail(err, "applied migrations must never be edited; add a new "
                                     "migration file instead");
                goto unlock;
            }
            continue;
        }
        if (exec_simple(st, "BEGIN", "start a migration", err) != 0)
            goto unlock;
        if (exec_simple(st, m->sql, "apply a migration", err) != 0) {
            lk_error_prefix(err, "migration %s", m->name);
            exec_simple(st, "ROLLBACK", "roll back", NULL);
            goto unlock;
        }
        PQclear(res);
        res = exec_params(st,
                          "INSERT INTO livekit.schema_migrations (name, checksum) "
                          "VALUES ($1, md5($2))",
                          2, params);
        if (!result_ok(res) || exec_simple(st, "COMMIT", "commit a migration", err) != 0) {
            lk_error_set(err, LK_EDB, "could not record migration %s", m->name);
            lk_error_detail(err, "%s", PQerrorMessage(st->conn));
            exec_simple(st, "ROLLBACK", "roll back", NULL);
            goto unlock;
        }
        log_info("applied migration %s", m->name);
        applied++;
    }
    /* objects the migrations created are readable by the roles of `lkarchive grant` */
    if (applied > 0 && exec_simple(st, "SELECT livekit.bi_regrant()",
                                   "grant read access to the new objects", err) != 0)
        goto unlock;
    rc = 0;
unlock:
    snprintf(lock_sql, sizeof lock_sql, "SELECT pg_advisory_unlock(%lld)", MIGRATION_LOCK_KEY);
    exec_simple(st, lock_sql, "release the migration lock", NULL);
done:
    PQclear(res);
    if (applied_out)
        *applied_out = applied;
    return rc;
}

int store_schema_current(struct store *st, bool *out, struct lk_error *err)
{
    PGresult *res = PQexec(st->conn, "SELECT name FROM livekit.schema_migrations");
    size_t expected = 0;
    int rc = 0;

    *out = false;
    for (const struct migration *m = migrations; m->name; m++)
        expected++;
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        *out = (size_t)PQntuples(res) == expected;
    } else if (strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE)
                          ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
                          : "",
                      "42P01") != 0) {
        lk_error_set(err, LK_EDB, "could not read livekit.schema_migrations");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        rc = LK_EDB;
    }
    PQclear(res);
    return rc;
}

/* ---- runs ---- */

int store_run_begin(struct store *st, const char *today, const char *window_start,
                    const char *window_end, char *const *projects, size_t project_count,
                    long long *run_id_out, struct lk_error *err)
{
    char *array = NULL;
    size_t size = 3;
    PGresult *res = NULL;
    int rc = LK_EDB;

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
        res = exec_params(st,
                          "INSERT INTO livekit.archive_runs (today, window_start, window_end,"
                          " projects, version) VALUES ($1, $2, $3, $4, $5) RETURNING run_id",
                          5, params);
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        lk_error_set(err, LK_EDB, "could not record the run in livekit.archive_runs");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        goto done;
    }
    *run_id_out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    rc = 0;
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
    PGresult *res;
    int rc = 0;

    snprintf(run, sizeof run, "%lld", run_id);
    snprintf(requests, sizeof requests, "%lld", outcome->requests);
    snprintf(warnings, sizeof warnings, "%lld", outcome->warnings);
    res = exec_params(st,
                      "UPDATE livekit.archive_runs SET finished_at = now(), status = $2,"
                      " requests = $3, warnings = $4, message = $5,"
                      " days_failed = (SELECT count(*) FROM livekit.archive_days"
                      "   WHERE last_run_id = $1 AND status = 'failed')"
                      " WHERE run_id = $1",
                      5, params);
    if (!result_ok(res)) {
        lk_error_set(err, LK_EDB, "could not finish the run record");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        rc = LK_EDB;
    }
    PQclear(res);
    return rc;
}

int store_note_fields(struct store *st, long long run_id, char *const *paths, size_t count,
                      char ***new_out, size_t *new_count_out, struct lk_error *err)
{
    char run[24];
    PGresult *res = NULL;
    char **found = NULL;
    size_t found_count = 0;
    int rc = LK_EDB;

    *new_out = NULL;
    *new_count_out = 0;
    snprintf(run, sizeof run, "%lld", run_id);
    for (size_t i = 0; i < count; i++) {
        const char *params[2] = {paths[i], run};
        PQclear(res);
        res = exec_params(st,
                          "INSERT INTO livekit.seen_fields (path, first_run_id) VALUES ($1, $2)"
                          " ON CONFLICT (path) DO NOTHING RETURNING path",
                          2, params);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            lk_error_set(err, LK_EDB, "could not record seen field names");
            lk_error_detail(err, "%s", PQresultErrorMessage(res));
            goto done;
        }
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
        PQclear(res);
        res = exec_params(st,
                          "UPDATE livekit.archive_runs SET new_fields = ARRAY(SELECT path FROM"
                          " livekit.seen_fields WHERE first_run_id = $1 ORDER BY path)"
                          " WHERE run_id = $1",
                          1, params);
        if (!result_ok(res)) {
            lk_error_set(err, LK_EDB, "could not record new field names on the run");
            lk_error_detail(err, "%s", PQresultErrorMessage(res));
            goto done;
        }
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

/* ---- days ---- */

/* The day's ended, fully archived sessions by list hash (see store_day_begin). */
static int load_known(struct store *st, struct lk_error *err)
{
    const char *params[2] = {st->project, st->day};
    PGresult *res = exec_params(st,
                                "SELECT session_id, list_hash FROM livekit.sessions"
                                " WHERE project_id = $1 AND list_day = $2 AND details_archived"
                                " AND ended_at IS NOT NULL AND list_hash IS NOT NULL",
                                2, params);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        lk_error_set(err, LK_EDB, "could not read the day's archived sessions");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        rc = LK_EDB;
    }
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        if (strmap_put(&st->known, PQgetvalue(res, i, 0), strtoull(PQgetvalue(res, i, 1), NULL, 10),
                       NULL) != 0) {
            lk_error_set(err, LK_ENOMEM, "out of memory");
            rc = LK_ENOMEM;
        }
    }
    PQclear(res);
    return rc;
}

int store_day_begin(struct store *st, const char *project, const char *day, bool full,
                    struct lk_error *err)
{
    PGresult *res = NULL;
    int rc = LK_EDB;

    if (st->in_day) {
        lk_error_set(err, LK_EDB, "internal error: a day is already open");
        goto done;
    }
    snprintf(st->project, sizeof st->project, "%s", project);
    snprintf(st->day, sizeof st->day, "%s", day);
    st->seq = 0;
    st->copy_len = 0;
    st->list_rows_changed = true;
    st->list_unchanged = 0;
    strmap_clear(&st->known);
    st->discarded_count = 0;
    if (exec_simple(st, "BEGIN", "start the day's transaction", err) != 0 ||
        exec_simple(st, SQL_CREATE_STAGE, "create the staging table", err) != 0 ||
        (!full && load_known(st, err) != 0))
        goto done;
    st->in_day = true;
    if (start_copy(st, err) != 0)
        goto done;
    rc = 0;
done:
    PQclear(res);
    return rc;
}

static int flush_copy(struct store *st, struct lk_error *err)
{
    if (st->copy_len == 0)
        return 0;
    if (PQputCopyData(st->conn, st->copy_buf, (int)st->copy_len) != 1) {
        lk_error_set(err, LK_EDB, "could not send rows to PostgreSQL");
        lk_error_detail(err, "%s", PQerrorMessage(st->conn));
        return LK_EDB;
    }
    st->copy_len = 0;
    return 0;
}

/* Append one COPY text field (escaped) or \N; the buffer has room for the fixed part. */
static int append_field(struct store *st, const char *value, bool last, struct lk_error *err)
{
    size_t len = value ? strlen(value) : 2;
    const char *p = value;

    /* room for the value escaped at worst (every byte doubled) and its separator */
    if (st->copy_len + 2 * len + 1 > st->copy_capacity) {
        if (flush_copy(st, err) != 0)
            return LK_EDB;
        if (2 * len + 1 > st->copy_capacity) {
            char *grown = realloc(st->copy_buf, 2 * len + 1);
            if (grown == NULL) {
                lk_error_set(err, LK_ENOMEM, "out of memory");
                return LK_ENOMEM;
            }
            st->copy_buf = grown;
            st->copy_capacity = 2 * len + 1;
        }
    }
    if (value == NULL) {
        memcpy(st->copy_buf + st->copy_len, "\\N", 2);
        st->copy_len += 2;
    }
    while (p && *p) {
        /* COPY text escapes: backslash, tab, newline, carriage return */
        size_t run = strcspn(p, "\\\t\n\r");
        memcpy(st->copy_buf + st->copy_len, p, run);
        st->copy_len += run;
        p += run;
        if (*p) {
            st->copy_buf[st->copy_len++] = '\\';
            st->copy_buf[st->copy_len++] = *p == '\t'   ? 't'
                                           : *p == '\n' ? 'n'
                                           : *p == '\r' ? 'r'
                                                        : '\\';
            p++;
        }
    }
    st->copy_buf[st->copy_len++] = last ? '\n' : '\t';
    return 0;
}

/* Record columns -> stage columns, per kind. */
static const int list_to_stage[LS_COUNT] = {SG_SESSION_ID,       SG_ROOM_NAME,
                                            SG_CREATED_AT,       SG_ENDED_AT,
                                            SG_LAST_ACTIVE,      SG_BANDWIDTH_IN,
                                            SG_BANDWIDTH_OUT,    SG_EGRESS,
                                            SG_NUM_PARTICIPANTS, SG_NUM_ACTIVE_PARTICIPANTS};
static const int details_to_stage[DS_COUNT] = {SG_SESSION_ID,
                                               SG_ROOM_NAME,
                                               SG_START_TIME,
                                               SG_END_TIME,
                                               SG_BANDWIDTH,
                                               SG_CONNECTION_MINUTES,
                                               SG_DETAILS_NUM_PARTICIPANTS};
static const int participant_to_stage[PT_COUNT] = {
    SG_SESSION_ID,   SG_PARTICIPANT_IDENTITY, SG_PARTICIPANT_NAME, SG_JOINED_AT, SG_LEFT_AT,
    SG_REGION,       SG_CONNECTION_TYPE,      SG_SDK_VERSION,      SG_CAMERA,    SG_MICROPHONE,
    SG_SCREEN_SHARE, SG_SCREEN_SHARE_AUDIO};
static const int connection_to_stage[CN_COUNT] = {
    SG_SESSION_ID, SG_CONNECTION_ID, SG_PARTICIPANT_IDENTITY, SG_JOINED_AT, SG_LEFT_AT};

int store_day_add(struct store *st, const struct record *rec, int attempt, struct lk_error *err)
{
    static const char kind_letter[RECORD_KIND_COUNT] = {'L', 'D', 'P', 'C'};
    static const int *const maps[RECORD_KIND_COUNT] = {list_to_stage, details_to_stage,
                                                       participant_to_stage, connection_to_stage};
    static const int counts[RECORD_KIND_COUNT] = {LS_COUNT, DS_COUNT, PT_COUNT, CN_COUNT};
    const char *row[SG_COUNT] = {0};
    char seq[24], attempt_text[24], kind[2] = {kind_letter[rec->kind], '\0'}, hash_text[24];
    uint64_t hash, known;

    if (rec->kind == RECORD_LIST_SESSION) {
        hash = list_record_hash(rec);
        if (strmap_get(&st->known, rec->values[LS_SESSION_ID], &known) && known == hash) {
            st->list_unchanged++;
            return 0; /* ended, archived, unchanged: nothing to merge, no details to fetch */
        }
        convert_format_unsigned(hash_text, hash);
        row[SG_LIST_HASH] = hash_text;
    }

    /* by hand, not snprintf: two per staged row (profiled) */
    convert_format_unsigned(seq, (uint64_t)++st->seq);
    convert_format_unsigned(attempt_text, (uint64_t)attempt);
    row[SG_SEQ] = seq;
    row[SG_ATTEMPT] = attempt_text;
    row[SG_KIND] = kind;
    for (int i = 0; i < counts[rec->kind]; i++)
        row[maps[rec->kind][i]] = rec->values[i];
    row[SG_EXTRA] = rec->extra;
    for (int i = 0; i < SG_COUNT; i++)
        if (append_field(st, row[i], i == SG_COUNT - 1, err) != 0)
            return LK_EDB;
    if (st->copy_len >= COPY_FLUSH_BYTES)
        return flush_copy(st, err);
    return 0;
}

int store_day_discard_attempt(struct store *st, int attempt, struct lk_error *err)
{
    if (st->discarded_count == st->discarded_capacity) {
        size_t capacity = st->discarded_capacity ? st->discarded_capacity * 2 : 16;
        int *grown = realloc(st->discarded, capacity * sizeof *grown);
        if (grown == NULL) {
            lk_error_set(err, LK_ENOMEM, "out of memory");
            return LK_ENOMEM;
        }
        st->discarded = grown;
        st->discarded_capacity = capacity;
    }
    st->discarded[st->discarded_count++] = attempt;
    return 0;
}

/* "{1,5,9}" of the discarded attempts; caller frees. */
static char *discarded_array(const struct store *st)
{
    char *text = malloc(st->discarded_count * 12 + 3);
    size_t len = 0;

    if (text == NULL)
        return NULL;
    text[len++] = '{';
    for (size_t i = 0; i < st->discarded_count; i++)
        len += (size_t)sprintf(text + len, "%s%d", i ? "," : "", st->discarded[i]);
    text[len++] = '}';
    text[len] = '\0';
    return text;
}

static int end_copy(struct store *st, struct lk_error *err)
{
    PGresult *res;
    int rc = 0;

    if (!st->copying)
        return 0;
    st->copying = false;
    if (flush_copy(st, err) != 0)
        return LK_EDB;
    if (PQputCopyEnd(st->conn, NULL) != 1) {
        lk_error_set(err, LK_EDB, "could not finish COPY into the staging table");
        lk_error_detail(err, "%s", PQerrorMessage(st->conn));
        return LK_EDB;
    }
    while ((res = PQgetResult(st->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
            lk_error_set(err, LK_EDB, "PostgreSQL rejected a staged row");
            lk_error_detail(err, "%s", PQresultErrorMessage(res));
            rc = LK_EDB;
        }
        PQclear(res);
    }
    return rc;
}

static int start_copy(struct store *st, struct lk_error *err)
{
    PGresult *res = PQexec(st->conn, SQL_COPY_STAGE);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_COPY_IN) {
        lk_error_set(err, LK_EDB, "could not start COPY into the staging table");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        rc = LK_EDB;
    } else {
        st->copying = true;
    }
    PQclear(res);
    return rc;
}

int store_day_sessions_needing_details(struct store *st, bool full, char ***ids_out,
                                       size_t *count_out, struct lk_error *err)
{
    char *discarded = NULL;
    char **ids = NULL;
    size_t count = 0;
    PGresult *res = NULL;
    int rc = LK_EDB;

    *ids_out = NULL;
    *count_out = 0;
    if (end_copy(st, err) != 0)
        goto done;
    discarded = discarded_array(st);
    if (discarded == NULL)
        goto oom;
    {
        const char *params[4] = {st->project, discarded, full ? "true" : "false", st->day};
        res = exec_params(st, SQL_NEEDING_DETAILS, 4, params);
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        lk_error_set(err, LK_EDB, "could not compare the listed sessions with the archive");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        goto done;
    }
    ids = calloc((size_t)PQntuples(res) + 1, sizeof *ids);
    if (ids == NULL)
        goto oom;
    /* every row is a list entry that is new or changed, or whose details are needed; when
     * there is none, the list merge has nothing to do */
    st->list_rows_changed = PQntuples(res) > 0;
    for (int row = 0; row < PQntuples(res); row++)
        if (strcmp(PQgetvalue(res, row, 1), "t") == 0 &&
            (ids[count++] = strdup(PQgetvalue(res, row, 0))) == NULL)
            goto oom;
    if (start_copy(st, err) != 0)
        goto done;
    *ids_out = ids;
    *count_out = count;
    ids = NULL;
    rc = 0;
    goto done;
oom:
    rc = LK_ENOMEM;
    lk_error_set(err, rc, "out of memory");
done:
    if (ids) {
        for (size_t i = 0; i < count; i++)
            free(ids[i]);
        free(ids);
    }
    PQclear(res);
    free(discarded);
    return rc;
}

/* Session merges take ($1 project, $2 day, $3 discarded); participant and connection merges
 * need no day: ($1 project, $2 discarded). */
static int run_merge(struct store *st, const char *sql, const char *what, const char *discarded,
                     bool uses_day, struct lk_error *err)
{
    const char *with_day[3] = {st->project, st->day, discarded};
    const char *without_day[2] = {st->project, discarded};
    PGresult *res =
        uses_day ? exec_params(st, sql, 3, with_day) : exec_params(st, sql, 2, without_day);
    int rc = 0;

    if (!result_ok(res)) {
        lk_error_set(err, LK_EDB, "could not merge %s", what);
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        rc = LK_EDB;
    } else {
        st->rows_merged += strtoll(PQcmdTuples(res), NULL, 10);
    }
    PQclear(res);
    return rc;
}

/* ---- daily rollup (livekit.rollup_*, behind the livekit_bi views; sql/021_bi_rollup.sql) ----
 *
 * The days whose rollup rows depend on the staged sessions are collected before the merges
 * (the days the archive held them under) and again after (their days now); the union is
 * recomputed in the day's transaction. $1 project $2 discarded attempts [$3 days before]. */
#define SQL_STAGED_SESSION_IDS                                                                     \
    "ARRAY(SELECT DISTINCT session_id FROM lk_stage WHERE attempt <> ALL ($2::integer[]))"
static const char SQL_ROLLUP_DAYS[] =
    "SELECT livekit.rollup_days_of_sessions($1, " SQL_STAGED_SESSION_IDS ")::text";
static const char SQL_ROLLUP_REFRESH[] =
    "SELECT livekit.rollup_refresh($1, $3::date[] || "
    "livekit.rollup_days_of_sessions($1, " SQL_STAGED_SESSION_IDS "))";

/* Before the merges: *days_out (caller frees) gets the days of the staged sessions as the
 * archive holds them now, as a date[] literal. */
static int rollup_collect_days(struct store *st, const char *discarded, char **days_out,
                               struct lk_error *err)
{
    const char *params[2] = {st->project, discarded};
    PGresult *res = exec_params(st, SQL_ROLLUP_DAYS, 2, params);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        lk_error_set(err, LK_EDB, "could not collect the days of the staged sessions");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        rc = LK_EDB;
    } else if ((*days_out = strdup(PQgetvalue(res, 0, 0))) == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        rc = LK_ENOMEM;
    }
    PQclear(res);
    return rc;
}

/* After the merges: recompute the rollup of days_before and of the staged sessions' new days. */
static int rollup_refresh(struct store *st, const char *discarded, const char *days_before,
                          struct lk_error *err)
{
    const char *params[3] = {st->project, discarded, days_before};
    PGresult *res = exec_params(st, SQL_ROLLUP_REFRESH, 3, params);
    int rc = 0;

    if (!result_ok(res)) {
        lk_error_set(err, LK_EDB, "could not refresh the daily rollup");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        rc = LK_EDB;
    }
    PQclear(res);
    return rc;
}

int store_day_commit(struct store *st, long long run_id, const struct day_result *result,
                     struct day_counts *counts_out, struct lk_error *err)
{
    char *discarded = NULL, *rollup_days = NULL;
    char run[24], sessions[24], active[24], participants[24], connections[24], pages[16];
    char complete[4], pending[4], fetched[24], skipped[24];
    PGresult *res = NULL;
    int rc = LK_EDB;

    memset(counts_out, 0, sizeof *counts_out);
    if (end_copy(st, err) != 0)
        goto done;
    discarded = discarded_array(st);
    if (discarded == NULL) {
        rc = LK_ENOMEM;
        lk_error_set(err, rc, "out of memory");
        goto done;
    }
    st->rows_merged = 0;
    if (rollup_collect_days(st, discarded, &rollup_days, err) != 0)
        goto done;
    if ((st->list_rows_changed &&
         run_merge(st, SQL_MERGE_LIST_SESSIONS, "sessions from the list", discarded, true, err)) ||
        run_merge(st, SQL_MERGE_DETAILS, "session details", discarded, true, err) ||
        run_merge(st, SQL_MERGE_PARTICIPANTS, "participants", discarded, false, err) ||
        run_merge(st, SQL_MERGE_CONNECTIONS, "participant connections", discarded, false, err))
        goto done;
    /* nothing merged: no figure of any day changed */
    if (st->rows_merged > 0 && rollup_refresh(st, discarded, rollup_days, err) != 0)
        goto done;
    {
        /* nothing merged: the day holds what the ledger says it held (counting the day's
         * participants and connections is the most expensive query of an unchanged day) */
        const char *params[2] = {st->project, st->day};
        res = exec_params(st, st->rows_merged == 0 ? SQL_DAY_COUNTS_UNCHANGED : SQL_DAY_COUNTS, 2,
                          params);
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 0) {
            PQclear(res);
            res = exec_params(st, SQL_DAY_COUNTS, 2, params);
        }
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        lk_error_set(err, LK_EDB, "could not count the day's rows");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        goto done;
    }
    counts_out->sessions = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    counts_out->participants = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    counts_out->connections = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    counts_out->active_sessions = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    counts_out->complete = result->complete && counts_out->active_sessions == 0;
    PQclear(res);
    res = NULL;
    snprintf(run, sizeof run, "%lld", run_id);
    snprintf(sessions, sizeof sessions, "%lld", counts_out->sessions);
    snprintf(participants, sizeof participants, "%lld", counts_out->participants);
    snprintf(connections, sizeof connections, "%lld", counts_out->connections);
    snprintf(active, sizeof active, "%lld", counts_out->active_sessions);
    snprintf(pages, sizeof pages, "%d", result->pages);
    snprintf(complete, sizeof complete, "%d", counts_out->complete ? 1 : 0);
    snprintf(pending, sizeof pending, "%d", counts_out->complete ? 0 : 1);
    snprintf(fetched, sizeof fetched, "%lld", result->details_fetched);
    snprintf(skipped, sizeof skipped, "%lld", result->details_skipped);
    {
        const char *reason = counts_out->complete ? NULL
                             : result->error      ? "error"
                             : !result->complete  ? "day not over"
                                                  : "active sessions";
        const char *params[11] = {
            st->project,   st->day,     counts_out->complete ? "complete" : "pending",
            run,           sessions,    active,
            participants,  connections, pages,
            result->error, reason};
        res = exec_params(st, SQL_DAY_LEDGER, 11, params);
    }
    if (!result_ok(res)) {
        lk_error_set(err, LK_EDB, "could not record the day in livekit.archive_days");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        goto done;
    }
    PQclear(res);
    {
        const char *params[8] = {run,          complete,    pending, sessions,
                                 participants, connections, fetched, skipped};
        res = exec_params(st, SQL_RUN_COUNTERS, 8, params);
    }
    if (!result_ok(res)) {
        lk_error_set(err, LK_EDB, "could not update the run's counters");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        goto done;
    }
    if (exec_simple(st, "COMMIT", "commit the day", err) != 0)
        goto done;
    st->in_day = false;
    rc = 0;
done:
    PQclear(res);
    free(discarded);
    free(rollup_days);
    return rc;
}

void store_day_abort(struct store *st, long long run_id, const char *error)
{
    struct lk_error err;
    char run[24];
    const char *params[4] = {st->project, st->day, run, error};
    PGresult *res;

    lk_error_init(&err);
    if (st->copying) {
        st->copying = false;
        if (PQputCopyEnd(st->conn, "day aborted") == 1)
            while ((res = PQgetResult(st->conn)) != NULL)
                PQclear(res);
    }
    if (st->in_day) {
        st->in_day = false;
        exec_simple(st, "ROLLBACK", "roll back the day", NULL);
    }
    if (PQstatus(st->conn) != CONNECTION_OK)
        return; /* the caller reconnects; the server rolled the day back */
    snprintf(run, sizeof run, "%lld", run_id);
    res = exec_params(st, SQL_DAY_FAILED, 4, params);
    if (!result_ok(res))
        log_warn("could not record the failed day: %s",
                 first_line(PQresultErrorMessage(res), run, sizeof run));
    PQclear(res);
}

/* ---- read-only roles ---- */

int store_grant_read(struct store *st, const char *role, struct lk_error *err)
{
    const char *params[1] = {role};
    PGresult *res = exec_params(st, "SELECT livekit.bi_grant_read($1)", 1, params);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        if (state && strcmp(state, "42704") == 0) { /* undefined_object: no such role */
            lk_error_set(err, LK_ECONFIG, "role \"%s\" does not exist", role);
            lk_error_detail(err,
                            "create it first (CREATE ROLE \"%s\" LOGIN PASSWORD '...'), "
                            "then run lkarchive grant again",
                            role);
            rc = LK_ECONFIG;
        } else {
            lk_error_set(err, LK_EDB, "could not grant read access to role \"%s\"", role);
            lk_error_detail(err, "%s", PQresultErrorMessage(res));
            rc = LK_EDB;
        }
    }
    PQclear(res);
    return rc;
}

/* ---- status ---- */

int store_print_status(struct store *st, const char *today, FILE *out, int *gaps_out,
                       struct lk_error *err)
{
    /* Every day from a project's first ledger entry to today, with what the ledger says;
     * a day older than the window that is not complete is a permanent gap. */
    static const char sql[] =
        "WITH bounds AS (SELECT project_id, min(day) AS first_day FROM livekit.archive_days"
        "   GROUP BY project_id),"
        " days AS (SELECT b.project_id, d::date AS day FROM bounds b,"
        "   generate_series(b.first_day, $1::date, interval '1 day') d)"
        " SELECT days.project_id, days.day::text, COALESCE(a.status, 'missing'),"
        "   COALESCE(a.sessions, 0), COALESCE(a.participants, 0), COALESCE(a.connections, 0),"
        "   COALESCE(a.active_sessions, 0),"
        "   COALESCE(to_char(a.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ''),"
        "   COALESCE(a.last_error, ''),"
        "   (days.day < $1::date - 6 AND COALESCE(a.status, 'missing') <> 'complete')"
        " FROM days LEFT JOIN livekit.archive_days a"
        "   ON a.project_id = days.project_id AND a.day = days.day"
        " ORDER BY days.project_id, days.day";
    const char *params[1] = {today};
    PGresult *res = exec_params(st, sql, 1, params);
    int gaps = 0, rc = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state && strcmp(state, "42P01") == 0) { /* undefined table: never migrated */
            fprintf(out, "nothing archived yet (no livekit schema in this database: "
                         "`lkarchive run` or `lkarchive migrate` creates it)\n");
            goto done;
        }
        lk_error_set(err, LK_EDB, "could not read livekit.archive_days");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        rc = LK_EDB;
        goto done;
    }
    if (PQntuples(res) == 0)
        fprintf(out, "nothing archived yet\n");
    else
        fprintf(out, "%-20s %-10s %-9s %9s %12s %11s %6s  %s\n", "project", "day", "status",
                "sessions", "participants", "connections", "active", "note");
    for (int i = 0; i < PQntuples(res); i++) {
        bool gap = strcmp(PQgetvalue(res, i, 9), "t") == 0;
        const char *status = gap ? "GAP" : PQgetvalue(res, i, 2);
        const char *error = PQgetvalue(res, i, 8);
        gaps += gap;
        fprintf(out, "%-20s %-10s %-9s %9s %12s %11s %6s  %s%s%s\n", PQgetvalue(res, i, 0),
                PQgetvalue(res, i, 1), status, PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
                PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
                gap                      ? "lost: left the 7-day window before it was complete"
                : *PQgetvalue(res, i, 7) ? "completed "
                                         : "",
                gap ? "" : PQgetvalue(res, i, 7), *error ? error : "");
    }
done:
    PQclear(res);
    if (gaps_out)
        *gaps_out = gaps;
    return rc;
}

/* ---- overlapping runs, reconnects ---- */

/* Session-level advisory lock on one project, keyed by a hash of its id. */
static int try_lock(struct store *st, const char *project, bool *got, struct lk_error *err)
{
    const char *params[1] = {project};
    PGresult *res = exec_params(st,
                                "SELECT pg_try_advisory_lock(hashtextextended('lkarchive:' "
                                "|| $1, 0))",
                                1, params);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        lk_error_set(err, LK_EDB, "could not take the advisory lock of project %s", project);
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        rc = LK_EDB;
    } else {
        *got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    }
    PQclear(res);
    return rc;
}

int store_lock_project(struct store *st, const char *project, int wait_s, struct lk_error *err)
{
    bool got = false;
    char **grown;
    int rc;

    for (int waited = 0;; waited++) {
        rc = try_lock(st, project, &got, err);
        if (rc != 0 || got)
            break;
        if (waited >= wait_s) {
            lk_error_set(err, LK_ELOCKED, "another lkarchive run is archiving project %s", project);
            lk_error_detail(err,
                            "waited %d s for it (lock_wait); this run writes nothing for "
                            "the project and the other run finishes the job",
                            wait_s);
            return LK_ELOCKED;
        }
        if (waited == 0)
            log_info("project %s: another run holds it; waiting up to %d s", project, wait_s);
        struct timespec second = {1, 0};
        nanosleep(&second, NULL);
    }
    if (rc != 0)
        return rc;
    grown = realloc(st->locked_projects, (st->locked_count + 1) * sizeof *grown);
    if (grown == NULL || (grown[st->locked_count] = strdup(project)) == NULL) {
        if (grown)
            st->locked_projects = grown;
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    st->locked_projects = grown;
    st->locked_count++;
    return 0;
}

bool store_connection_ok(const struct store *st)
{
    return PQstatus(st->conn) == CONNECTION_OK;
}

int store_reconnect(struct store *st, int attempts, struct lk_error *err)
{
    char line[256];

    st->in_day = false;
    st->copying = false;
    for (int attempt = 1; attempt <= attempts; attempt++) {
        PQreset(st->conn);
        if (PQstatus(st->conn) == CONNECTION_OK) {
            bool got = false;
            if (exec_simple(st, "SET TIME ZONE 'UTC'", "set the session time zone", err) != 0)
                return LK_EDB;
            /* the advisory locks died with the old session: take them again */
            for (size_t i = 0; i < st->locked_count; i++) {
                if (try_lock(st, st->locked_projects[i], &got, err) != 0)
                    return LK_EDB;
                if (!got) {
                    lk_error_set(err, LK_ELOCKED,
                                 "another run took project %s while the database was away",
                                 st->locked_projects[i]);
                    return LK_ELOCKED;
                }
            }
            log_info("reconnected to PostgreSQL (attempt %d)", attempt);
            return 0;
        }
        if (attempt < attempts) {
            long long delay_s = 1LL << (attempt - 1 < 4 ? attempt - 1 : 4);
            log_warn("PostgreSQL unreachable: %s; reconnecting in %lld s (attempt %d of %d)",
                     first_line(PQerrorMessage(st->conn), line, sizeof line), delay_s, attempt + 1,
                     attempts);
            struct timespec wait = {(time_t)delay_s, 0};
            nanosleep(&wait, NULL);
        }
    }
    lk_error_set(err, LK_EDB, "lost the connection to PostgreSQL and could not reconnect");
    lk_error_detail(err, "%s", first_line(PQerrorMessage(st->conn), line, sizeof line));
    return LK_EDB;
}

/* ---- gaps ---- */

int store_is_new_project(struct store *st, const char *project, bool *out, struct lk_error *err)
{
    const char *params[1] = {project};
    PGresult *res = exec_params(st,
                                "SELECT NOT EXISTS (SELECT 1 FROM livekit.archive_days WHERE "
                                "project_id = $1)",
                                1, params);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        lk_error_set(err, LK_EDB, "could not read livekit.archive_days");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        rc = LK_EDB;
    } else {
        *out = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    }
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

int store_check_gaps(struct store *st, const char *project, const char *window_start,
                     bool acknowledge, int *unacknowledged_out, struct lk_error *err)
{
    const char *params[2] = {project, window_start};
    PGresult *res = exec_params(st, SQL_GAPS, 2, params);
    int unacknowledged = 0, rc = LK_EDB;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        lk_error_set(err, LK_EDB, "could not look for gaps in livekit.archive_days");
        lk_error_detail(err, "%s", PQresultErrorMessage(res));
        goto done;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *day = PQgetvalue(res, i, 0);
        bool acknowledged = strcmp(PQgetvalue(res, i, 4), "t") == 0;
        if (strcmp(PQgetvalue(res, i, 2), "active sessions") == 0) {
            log_info("project %s day %s left the window with %s session(s) still active; "
                     "their last archived state is kept",
                     project, day, PQgetvalue(res, i, 5));
            continue;
        }
        if (acknowledged)
            continue;
        if (acknowledge) {
            const char *ack[2] = {project, day};
            PGresult *done_res = exec_params(
                st,
                "INSERT INTO livekit.archive_days (project_id, day, status, pending_reason,"
                " last_error, gap_acknowledged_at, attempts)"
                " VALUES ($1, $2::date, 'failed', 'error', 'never archived', now(), 0)"
                " ON CONFLICT (project_id, day) DO UPDATE SET gap_acknowledged_at = now()",
                2, ack);
            bool ok = result_ok(done_res);
            PQclear(done_res);
            if (!ok) {
                lk_error_set(err, LK_EDB, "could not acknowledge the gap of %s %s", project, day);
                goto done;
            }
            log_warn("project %s day %s is a gap (%s); acknowledged", project, day,
                     PQgetvalue(res, i, 1));
            continue;
        }
        unacknowledged++;
        log_error("project %s day %s left the 7-day window without being archived (%s%s%s): "
                  "it is lost for good",
                  project, day, PQgetvalue(res, i, 1), *PQgetvalue(res, i, 3) ? ": " : "",
                  PQgetvalue(res, i, 3));
    }
    rc = 0;
done:
    PQclear(res);
    *unacknowledged_out = unacknowledged;
    return rc;
}
