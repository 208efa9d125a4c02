/* store_merge.c -- the end of a day: merge the stage, write the ledger entry, commit.
 *
 * Four merge statements (list sessions, details, participants, connections), each taking the
 * last staged version of a key (DISTINCT ON ... ORDER BY seq DESC) from attempts not
 * discarded, between the two halves of the daily rollup's refresh (store_rollup.c); the
 * archive_days upsert and the archive_runs counters; COMMIT. When every staged session is new
 * (a first load's days), the merges are plain INSERTs that also return the rollup days their
 * rows reach. A day that fails is rolled back whole and only its ledger entry records the
 * error (store_day_abort).
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

/* One write per session and day: the newest staged list entry (l) and details (d) of each
 * session, joined, and what the archive holds (a), give the row as it must be; it is
 * inserted, or rewritten only when something differs, so re-runs leave rows untouched. Each
 * source owns its columns: a session without staged details keeps its archived details (and
 * details_archived), one without a staged list entry (not expected: details are fetched for
 * listed sessions) keeps its list columns. The list's room name wins, then the archive's, then
 * the details'. A session listed under two days (an API whose day filter overlaps) stays with
 * the first, so re-runs do not move it back and forth.
 * $1 project, $2 day, $3 discarded attempts, $4 the sessions to merge (NULL: all of them),
 * $5 the day's transaction time (participants, connections: $1 project, $2 discarded attempts,
 * $3 the sessions, $4 the time).
 * Citus: every parameter carries its type (a worker cannot infer an uncast one: "could not
 * determine data type of parameter $1"), and updated_at is the transaction's now(), read once by
 * the client (merge_stage) and inserted with the row, then taken from `excluded` by the update:
 * a DO UPDATE SET on a distributed table allows only IMMUTABLE functions, and a parameter
 * there reaches the worker untyped. On one server both are exactly what now() and the inferred
 * types were. */
#define SQL_NEWEST_STAGED(kind, columns)                                                           \
    "(SELECT DISTINCT ON (s.session_id COLLATE \"C\") s.session_id, " columns " FROM lk_stage s"   \
    " WHERE s.kind = '" kind "' AND s.attempt <> ALL ($3::integer[])"                              \
    " AND ($4::text[] IS NULL OR s.session_id = ANY ($4::text[]))"                                 \
    " ORDER BY s.session_id COLLATE \"C\", s.seq DESC)"
#define SQL_FROM_LIST(column)                                                                      \
    " CASE WHEN l.session_id IS NULL THEN a." column " ELSE l." column " END,"
#define SQL_FROM_DETAILS(column)                                                                   \
    " CASE WHEN d.session_id IS NULL THEN a." column " ELSE d." column " END,"
/* Longer than a C string literal may be (4095): pieces joined by merge_sessions; SQL laid out
 * by clause, not by the formatter. */
/* clang-format off */
static const char SQL_MERGE_SESSIONS_SELECT[] =
    "INSERT INTO livekit.sessions AS t (project_id, session_id, room_name, created_at, ended_at,"
    " last_active, bandwidth_in, bandwidth_out, egress, num_participants,"
    " num_active_participants, list_day, list_extra, list_hash, start_time, end_time, bandwidth,"
    " connection_minutes, details_num_participants, details_extra, details_archived, updated_at)"
    " SELECT $1::text, COALESCE(l.session_id, d.session_id),"
    " COALESCE(l.room_name, a.room_name, d.room_name),"
    SQL_FROM_LIST("created_at") SQL_FROM_LIST("ended_at") SQL_FROM_LIST("last_active")
    SQL_FROM_LIST("bandwidth_in") SQL_FROM_LIST("bandwidth_out") SQL_FROM_LIST("egress")
    SQL_FROM_LIST("num_participants") SQL_FROM_LIST("num_active_participants")
    " CASE WHEN l.session_id IS NULL THEN COALESCE(a.list_day, $2::date)"
    "  ELSE LEAST(a.list_day, $2::date) END,"
    " CASE WHEN l.session_id IS NULL THEN COALESCE(a.list_extra, '{}') ELSE l.extra END,"
    SQL_FROM_LIST("list_hash")
    SQL_FROM_DETAILS("start_time") SQL_FROM_DETAILS("end_time") SQL_FROM_DETAILS("bandwidth")
    SQL_FROM_DETAILS("connection_minutes") SQL_FROM_DETAILS("details_num_participants")
    " CASE WHEN d.session_id IS NULL THEN COALESCE(a.details_extra, '{}') ELSE d.details_extra END,"
    " d.session_id IS NOT NULL OR COALESCE(a.details_archived, false), $5::timestamptz";
static const char SQL_MERGE_SESSIONS_FROM[] =
    " FROM " SQL_NEWEST_STAGED("L", "s.room_name, s.created_at, s.ended_at, s.last_active,"
                                    " s.bandwidth_in, s.bandwidth_out, s.egress,"
                                    " s.num_participants, s.num_active_participants,"
                                    " s.extra, s.list_hash") " l"
    " FULL JOIN " SQL_NEWEST_STAGED("D", "s.room_name, s.start_time, s.end_time, s.bandwidth,"
                                         " s.connection_minutes::numeric AS connection_minutes,"
                                         " s.details_num_participants,"
                                         " s.extra AS details_extra") " d"
    " ON d.session_id = l.session_id";
/* The archived row of each staged session: probed by primary key on one server (the OFFSET
 * keeps the subquery from becoming a join, which the planner made a hash of every archived
 * session of the project: a cost that grew with the archive), joined on Citus, which plans no
 * correlated subquery. */
static const char SQL_MERGE_SESSIONS_ARCHIVED_PROBE[] =
    " LEFT JOIN LATERAL (SELECT * FROM livekit.sessions x WHERE x.project_id = $1::text"
    " AND x.session_id = COALESCE(l.session_id, d.session_id) OFFSET 0) a ON true";
static const char SQL_MERGE_SESSIONS_ARCHIVED_JOIN[] =
    " LEFT JOIN livekit.sessions a ON a.project_id = $1::text"
    " AND a.session_id = COALESCE(l.session_id, d.session_id)";
/* When every staged session is new (collect_new_sessions): no archived row to read, nothing to
 * conflict with, so a plain INSERT (a's columns all NULL; the planner never reads the table),
 * without the primary-key probe and the speculative insertion of ON CONFLICT. */
static const char SQL_MERGE_SESSIONS_NONE_ARCHIVED[] = " LEFT JOIN livekit.sessions a ON false";
/* ... and, written as "WITH ins AS (<the INSERT>" + this, it returns the rows it wrote and the
 * rollup days that depend on them: each session's day (sql/021: the UTC date of
 * COALESCE(start_time, created_at)), read from the rows as they are inserted, where
 * rollup_days_of_sessions would look every session up again afterwards. */
static const char SQL_NEW_SESSIONS_DAYS[] =
    " RETURNING (COALESCE(start_time, created_at) AT TIME ZONE 'UTC')::date AS day)"
    " SELECT count(*), COALESCE(array_agg(DISTINCT day) FILTER (WHERE day IS NOT NULL),"
    " '{}')::text FROM ins";
static const char SQL_MERGE_SESSIONS_CONFLICT[] =
    " ON CONFLICT (project_id, session_id) DO UPDATE SET"
    " room_name = excluded.room_name, created_at = excluded.created_at,"
    " ended_at = excluded.ended_at, last_active = excluded.last_active,"
    " bandwidth_in = excluded.bandwidth_in, bandwidth_out = excluded.bandwidth_out,"
    " egress = excluded.egress, num_participants = excluded.num_participants,"
    " num_active_participants = excluded.num_active_participants, list_day = excluded.list_day,"
    " list_extra = excluded.list_extra, list_hash = excluded.list_hash,"
    " start_time = excluded.start_time, end_time = excluded.end_time,"
    " bandwidth = excluded.bandwidth, connection_minutes = excluded.connection_minutes,"
    " details_num_participants = excluded.details_num_participants,"
    " details_extra = excluded.details_extra, details_archived = excluded.details_archived,"
    " updated_at = excluded.updated_at"
    " WHERE (excluded.room_name, excluded.created_at, excluded.ended_at, excluded.last_active,"
    " excluded.bandwidth_in, excluded.bandwidth_out, excluded.egress, excluded.num_participants,"
    " excluded.num_active_participants, excluded.list_day, excluded.list_extra,"
    " excluded.list_hash, excluded.start_time, excluded.end_time, excluded.bandwidth,"
    " excluded.connection_minutes, excluded.details_num_participants, excluded.details_extra,"
    " excluded.details_archived)"
    " IS DISTINCT FROM (t.room_name, t.created_at, t.ended_at, t.last_active, t.bandwidth_in,"
    " t.bandwidth_out, t.egress, t.num_participants, t.num_active_participants, t.list_day,"
    " t.list_extra, t.list_hash, t.start_time, t.end_time, t.bandwidth, t.connection_minutes,"
    " t.details_num_participants, t.details_extra, t.details_archived)";
/* clang-format on */

/* The staged sessions the archive does not hold yet ($1 project, $2 discarded attempts), put
 * into lk_new before any merge: their participants and connections are not in the archive
 * either (written with their session, pruned with it; sql/042), so they are plain INSERTs,
 * without ON CONFLICT's probe and speculative insertion, and had no rollup day before. Read in
 * the day's transaction, so a session another day archived meanwhile is not taken for new.
 * Each staged session is probed by primary key (OFFSET 0: not a join, which without statistics
 * was a nested loop over every archived session of the project, quadratic in a first load).
 * Returns whether every staged session is new (a first load's days; the list rows answer for
 * the stage: details are fetched for listed sessions only, under the requested id): then
 * nothing of the day can conflict; and whether the archive holds no session of the day ($3)
 * yet: then, with every staged session new, the day's rows are the rows the merges insert. */
static const char SQL_COLLECT_NEW_SESSIONS[] =
    "WITH new AS (INSERT INTO lk_new (session_id) SELECT l.session_id"
    " FROM (SELECT DISTINCT s.session_id FROM lk_stage s WHERE s.kind = 'L'"
    " AND s.attempt <> ALL ($2::integer[])) l"
    " LEFT JOIN LATERAL (SELECT x.session_id FROM livekit.sessions x WHERE x.project_id = $1::text"
    " AND x.session_id = l.session_id OFFSET 0) a ON true"
    " WHERE a.session_id IS NULL ON CONFLICT DO NOTHING RETURNING session_id)"
    " SELECT NOT EXISTS (SELECT 1 FROM lk_stage s WHERE s.kind = 'L'"
    " AND s.attempt <> ALL ($2::integer[]) AND s.session_id NOT IN (SELECT session_id FROM new)),"
    " NOT EXISTS (SELECT 1 FROM livekit.sessions WHERE project_id = $1::text"
    " AND list_day = $3::date)";

/* The newest staged row per key ($1 project, $2 discarded attempts, $3 the sessions, $4 the
 * time), of sessions new to the archive (SQL_NEW_ONLY; every staged row when every staged
 * session is new) or not (SQL_ARCHIVED_ONLY, then the ON CONFLICT clause that rewrites a row
 * only when something differs). */
#define SQL_STAGED_OF(kind)                                                                        \
    " FROM lk_stage s WHERE s.kind = '" kind "' AND s.attempt <> ALL ($2::integer[])"              \
    " AND ($3::text[] IS NULL OR s.session_id = ANY ($3::text[]))"
#define SQL_NEW_ONLY " AND s.session_id IN (SELECT session_id FROM lk_new)"
#define SQL_ARCHIVED_ONLY " AND s.session_id NOT IN (SELECT session_id FROM lk_new)"

/* A day that staged no key twice (store_stage.c's keyset) needs no newest row per key: its
 * inserts read the stage as it is, without the DISTINCT ON's sort (_UNIQUE statements). */
#define SQL_PARTICIPANTS_INSERT                                                                    \
    "INSERT INTO livekit.participants AS t (project_id, session_id, participant_identity,"         \
    " participant_name, joined_at, left_at, region, connection_type, sdk_version,"                 \
    " published_camera_track, published_microphone_track, published_screen_share_track,"           \
    " published_screen_share_audio, extra, updated_at) SELECT"
#define SQL_PARTICIPANTS_NEWEST                                                                    \
    " DISTINCT ON (s.session_id COLLATE \"C\", s.participant_identity COLLATE \"C\")"
#define SQL_PARTICIPANTS_COLUMNS                                                                   \
    " $1::text, s.session_id,"                                                                     \
    " s.participant_identity, s.participant_name, s.joined_at, s.left_at, s.region,"               \
    " s.connection_type, s.sdk_version, s.camera, s.microphone, s.screen_share,"                   \
    " s.screen_share_audio, s.extra, $4::timestamptz" SQL_STAGED_OF("P")
#define SQL_PARTICIPANTS_SELECT                                                                    \
    SQL_PARTICIPANTS_INSERT SQL_PARTICIPANTS_NEWEST SQL_PARTICIPANTS_COLUMNS
#define SQL_PARTICIPANTS_ORDER                                                                     \
    " ORDER BY s.session_id COLLATE \"C\", s.participant_identity COLLATE \"C\", s.seq DESC"
static const char SQL_INSERT_NEW_PARTICIPANTS[] =
    SQL_PARTICIPANTS_SELECT SQL_NEW_ONLY SQL_PARTICIPANTS_ORDER;
static const char SQL_INSERT_ALL_PARTICIPANTS[] = SQL_PARTICIPANTS_SELECT SQL_PARTICIPANTS_ORDER;
static const char SQL_INSERT_ALL_PARTICIPANTS_UNIQUE[] =
    SQL_PARTICIPANTS_INSERT SQL_PARTICIPANTS_COLUMNS;
static const char SQL_MERGE_PARTICIPANTS[] =
    SQL_PARTICIPANTS_SELECT SQL_ARCHIVED_ONLY SQL_PARTICIPANTS_ORDER
    " ON CONFLICT (project_id, session_id, participant_identity) DO UPDATE SET"
    " participant_name = excluded.participant_name, joined_at = excluded.joined_at,"
    " left_at = excluded.left_at, region = excluded.region,"
    " connection_type = excluded.connection_type, sdk_version = excluded.sdk_version,"
    " published_camera_track = excluded.published_camera_track,"
    " published_microphone_track = excluded.published_microphone_track,"
    " published_screen_share_track = excluded.published_screen_share_track,"
    " published_screen_share_audio = excluded.published_screen_share_audio,"
    " extra = excluded.extra, updated_at = excluded.updated_at"
    " WHERE (excluded.participant_name, excluded.joined_at, excluded.left_at, excluded.region,"
    " excluded.connection_type, excluded.sdk_version, excluded.published_camera_track,"
    " excluded.published_microphone_track, excluded.published_screen_share_track,"
    " excluded.published_screen_share_audio, excluded.extra)"
    " IS DISTINCT FROM (t.participant_name, t.joined_at, t.left_at, t.region,"
    " t.connection_type, t.sdk_version, t.published_camera_track,"
    " t.published_microphone_track, t.published_screen_share_track,"
    " t.published_screen_share_audio, t.extra)";

#define SQL_CONNECTIONS_INSERT                                                                     \
    "INSERT INTO livekit.participant_connections AS t (project_id, session_id, connection_id,"     \
    " participant_identity, joined_at, left_at, extra, updated_at) SELECT"
#define SQL_CONNECTIONS_NEWEST                                                                     \
    " DISTINCT ON (s.session_id COLLATE \"C\", s.connection_id COLLATE \"C\")"
#define SQL_CONNECTIONS_COLUMNS                                                                    \
    " $1::text, s.session_id, s.connection_id,"                                                    \
    " s.participant_identity, s.joined_at, s.left_at, s.extra, $4::timestamptz" SQL_STAGED_OF("C")
#define SQL_CONNECTIONS_SELECT SQL_CONNECTIONS_INSERT SQL_CONNECTIONS_NEWEST SQL_CONNECTIONS_COLUMNS
#define SQL_CONNECTIONS_ORDER                                                                      \
    " ORDER BY s.session_id COLLATE \"C\", s.connection_id COLLATE \"C\", s.seq DESC"
static const char SQL_INSERT_NEW_CONNECTIONS[] =
    SQL_CONNECTIONS_SELECT SQL_NEW_ONLY SQL_CONNECTIONS_ORDER;
/* Every staged session new: the connections inserted, with the rollup days they reach: each
 * UTC day its interval [joined_at, end) overlaps (end: left_at, or while that is NULL its
 * session's COALESCE(end_time, ended_at, last_active), read from the session merged just
 * before), as rollup_days_of_sessions (sql/044) finds them, from the rows as they are inserted. */
#define SQL_CONNECTIONS_DAYS                                                                       \
    " RETURNING session_id, joined_at, left_at),"                                                  \
    " spans AS (SELECT DISTINCT (joined_at AT TIME ZONE 'UTC')::date AS first_day,"                \
    "   ((ends - interval '1 microsecond') AT TIME ZONE 'UTC')::date AS last_day"                  \
    "   FROM (SELECT joined_at, COALESCE(left_at, (SELECT COALESCE(x.end_time, x.ended_at,"        \
    "     x.last_active) FROM livekit.sessions x WHERE x.project_id = $1::text"                    \
    "     AND x.session_id = ins.session_id)) AS ends FROM ins) c WHERE ends > joined_at)"         \
    " SELECT (SELECT count(*) FROM ins), COALESCE((SELECT array_agg(DISTINCT first_day + i)"       \
    "   FROM spans CROSS JOIN LATERAL generate_series(0, last_day - first_day) AS i), '{}')::text"
static const char SQL_INSERT_ALL_CONNECTIONS_DAYS[] =
    "WITH ins AS (" SQL_CONNECTIONS_SELECT SQL_CONNECTIONS_ORDER SQL_CONNECTIONS_DAYS;
static const char SQL_INSERT_ALL_CONNECTIONS_DAYS_UNIQUE[] =
    "WITH ins AS (" SQL_CONNECTIONS_INSERT SQL_CONNECTIONS_COLUMNS SQL_CONNECTIONS_DAYS;
static const char SQL_MERGE_CONNECTIONS[] =
    SQL_CONNECTIONS_SELECT SQL_ARCHIVED_ONLY SQL_CONNECTIONS_ORDER
    " ON CONFLICT (project_id, session_id, connection_id) DO UPDATE SET"
    " participant_identity = excluded.participant_identity, joined_at = excluded.joined_at,"
    " left_at = excluded.left_at, extra = excluded.extra, updated_at = excluded.updated_at"
    " WHERE (excluded.participant_identity, excluded.joined_at, excluded.left_at, excluded.extra)"
    " IS DISTINCT FROM (t.participant_identity, t.joined_at, t.left_at, t.extra)";

/* The counts the ledger already has for the day (no row when the day is new). */
static const char SQL_DAY_COUNTS_UNCHANGED[] =
    "SELECT sessions, participants, connections FROM livekit.archive_days"
    " WHERE project_id = $1 AND day = $2 AND status <> 'failed'";

/* The day's sessions not ended, and those still settling (ended less than $3 seconds ago):
 * time moves on even when nothing was merged, so these are always counted. $1 project $2 day */
static const char SQL_DAY_SESSION_STATES[] =
    "SELECT count(*) FILTER (WHERE ended_at IS NULL),"
    " count(*) FILTER (WHERE ended_at > now() - make_interval(secs => $3::double precision))"
    " FROM livekit.sessions WHERE project_id = $1::text AND list_day = $2::date";

/* What the archive holds for the day (skipped details still count). $1 project $2 day. On one
 * server each session's participants and connections are counted by their primary key, so the
 * cost follows the day, not the archive (a join would hash every connection of the project
 * once the statistics show how many there are); Citus plans the join, not those subqueries. */
static const char SQL_DAY_COUNTS[] =
    "SELECT count(*),"
    " COALESCE(sum((SELECT count(*) FROM livekit.participants p"
    "   WHERE p.project_id = s.project_id AND p.session_id = s.session_id)), 0),"
    " COALESCE(sum((SELECT count(*) FROM livekit.participant_connections c"
    "   WHERE c.project_id = s.project_id AND c.session_id = s.session_id)), 0)"
    " FROM livekit.sessions s WHERE s.project_id = $1::text AND s.list_day = $2::date";
static const char SQL_DAY_COUNTS_CITUS[] =
    "SELECT (SELECT count(*) FROM livekit.sessions WHERE project_id = $1::text AND list_day = "
    "$2::date),"
    " (SELECT count(*) FROM livekit.participants p JOIN livekit.sessions s"
    "   USING (project_id, session_id) WHERE s.project_id = $1::text AND s.list_day = $2::date),"
    " (SELECT count(*) FROM livekit.participant_connections c JOIN livekit.sessions s"
    "   USING (project_id, session_id) WHERE s.project_id = $1::text AND s.list_day = $2::date)";

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

/* Session merges take ($1 project, $2 day, $3 discarded, $4 subset, $5 time); participant and
 * connection merges need no day: ($1 project, $2 discarded, $3 subset, $4 time). With days_out
 * NULL the statement returns no rows and counts its rows in its command tag; otherwise it is an
 * insert of new sessions' rows that returns (rows written, the rollup days they reach as a date[]
 * literal), and the days go to *days_out (owned by st, freed by merge_stage). */
static int run_merge(struct store *st, const char *sql, enum metrics_table table, const char *what,
                     const char *discarded, const char *subset, bool uses_day, char **days_out,
                     struct lk_error *err)
{
    const char *with_day[5] = {st->project, st->day, discarded, subset, st->day_now};
    const char *without_day[4] = {st->project, discarded, subset, st->day_now};
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, days_out == NULL ? PQ_COMMAND_OK : PQ_TUPLES_OK, sql,
                     uses_day ? 5 : 4, uses_day ? with_day : without_day, err, "merge %s", what);
    long long rows = 0;

    if (rc == 0 && days_out == NULL) {
        rows = strtoll(PQcmdTuples(res), NULL, 10);
    } else if (rc == 0) {
        rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        free(*days_out);
        *days_out = strdup(PQgetvalue(res, 0, 1));
        if (*days_out == NULL) {
            lk_error_set(err, LK_ENOMEM, "out of memory");
            rc = LK_ENOMEM;
        }
    }
    st->rows_merged += rows;
    st->table_rows[table] += rows;
    PQclear(res);
    return rc;
}

static int merge_sessions(struct store *st, const char *discarded, const char *subset,
                          struct lk_error *err)
{
    const char *pieces[] = {st->all_new ? "WITH ins AS (" : "", SQL_MERGE_SESSIONS_SELECT,
                            SQL_MERGE_SESSIONS_FROM,
                            st->all_new                    ? SQL_MERGE_SESSIONS_NONE_ARCHIVED
                            : st->citus == STORE_CITUS_YES ? SQL_MERGE_SESSIONS_ARCHIVED_JOIN
                                                           : SQL_MERGE_SESSIONS_ARCHIVED_PROBE,
                            st->all_new ? SQL_NEW_SESSIONS_DAYS : SQL_MERGE_SESSIONS_CONFLICT};
    size_t lengths[sizeof pieces / sizeof pieces[0]], total = 1;
    char *sql, *end;
    int rc;

    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
        total += lengths[i] = strlen(pieces[i]);
    sql = end = malloc(total);
    if (sql == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
        end = (char *)memcpy(end, pieces[i], lengths[i]) + lengths[i];
    *end = '\0';
    rc = run_merge(st, sql, METRICS_SESSIONS, "sessions", discarded, subset, true,
                   st->all_new ? &st->new_session_days : NULL, err);
    free(sql);
    return rc;
}

/* After the sessions: participants, then connections; of new sessions, then of the others.
 * When every staged session is new, the rows of new sessions are every staged row: no
 * semi-join with lk_new; the connections' insert then also returns the rollup days they reach
 * (sql_all_new_days); and when no key was staged twice, no newest row per key is picked
 * (sql_all_new_unique). */
static const struct child_merge {
    const char *sql_new, *sql_all_new, *sql_all_new_unique, *sql_archived;
    bool sql_all_new_days;
    enum metrics_table table;
    const char *what_new, *what;
} child_merges[] = {
    {SQL_INSERT_NEW_PARTICIPANTS, SQL_INSERT_ALL_PARTICIPANTS, SQL_INSERT_ALL_PARTICIPANTS_UNIQUE,
     SQL_MERGE_PARTICIPANTS, false, METRICS_PARTICIPANTS, "participants of new sessions",
     "participants"},
    {SQL_INSERT_NEW_CONNECTIONS, SQL_INSERT_ALL_CONNECTIONS_DAYS,
     SQL_INSERT_ALL_CONNECTIONS_DAYS_UNIQUE, SQL_MERGE_CONNECTIONS, true, METRICS_CONNECTIONS,
     "participant connections of new sessions", "participant connections"},
};

int store_merge_sessions(struct store *st, const char *discarded, const char *subset,
                         struct lk_error *err)
{
    int rc = 0;
    bool keys_unique;

    /* no list entry differs from the archive: no details were fetched either */
    if (!st->list_rows_changed)
        return 0;
    keys_unique = st->new_collected && st->all_new && keyset_all_distinct(&st->staged_keys);
    rc = merge_sessions(st, discarded, subset, err);
    for (size_t i = 0; i < sizeof child_merges / sizeof child_merges[0] && rc == 0; i++) {
        const struct child_merge *m = &child_merges[i];

        if (st->new_collected)
            rc = run_merge(st,
                           !st->all_new  ? m->sql_new
                           : keys_unique ? m->sql_all_new_unique
                                         : m->sql_all_new,
                           m->table, m->what_new, discarded, subset, false,
                           st->all_new && m->sql_all_new_days ? &st->new_connection_days : NULL,
                           err);
        if (rc == 0 && !st->all_new)
            rc = run_merge(st, m->sql_archived, m->table, m->what, discarded, subset, false, NULL,
                           err);
    }
    return rc;
}

/* Fill lk_new (SQL_COLLECT_NEW_SESSIONS) and set st->new_collected and st->all_new. Not on
 * Citus (its plain INSERT ... SELECT does not report a refused value's SQLSTATE, so a refused
 * value would stop the run) nor in isolation (every row takes the ON CONFLICT path there: a
 * session deleted by hand without its participants is merged again, not refused), nor when no
 * list entry changed (nothing is merged). */
static int collect_new_sessions(struct store *st, const char *discarded, struct lk_error *err)
{
    const char *params[3] = {st->project, discarded, st->day};
    PGresult *res = NULL;
    int rc;

    st->new_collected = false;
    st->all_new = false;
    st->day_was_empty = false;
    if (st->citus == STORE_CITUS_YES || st->isolate || !st->list_rows_changed)
        return 0;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, SQL_COLLECT_NEW_SESSIONS, 3, params, err,
                 "find the sessions new to the archive");
    if (rc == 0) {
        st->new_collected = true;
        st->all_new = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        st->day_was_empty = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    }
    PQclear(res);
    return rc;
}

/* Merge the stage into the tables, counting in st->rows_merged the rows written, between the
 * two halves of the rollup refresh. The list merge is skipped when no list entry differs from
 * the archive (sessions_needing_details). A day archived in isolation merges by groups of
 * sessions (store_isolate.c); the rollup is refreshed once, after every group. */
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
        rc = collect_new_sessions(st, discarded, err);
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
    const char *count_sql = st->citus == STORE_CITUS_YES ? SQL_DAY_COUNTS_CITUS : SQL_DAY_COUNTS;
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                     st->rows_merged == 0 ? SQL_DAY_COUNTS_UNCHANGED : count_sql, 2, params, err,
                     "count the day's rows");

    if (rc == 0 && PQntuples(res) == 0) {
        PQclear(res);
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, count_sql, 2, params, err,
                     "count the day's rows");
    }
    if (rc == 0) {
        out->sessions = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        out->participants = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        out->connections = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
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
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, SQL_DAY_SESSION_STATES, 3, params, err,
                     "count the day's active and settling sessions");
    if (rc == 0) {
        out->active_sessions = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        out->settling_sessions = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
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

/* The day's archive_days entry: complete, or pending with the reason why not. */
static int write_ledger(struct store *st, long long run_id, const struct day_result *result,
                        const struct day_counts *counts, struct lk_error *err)
{
    char text[6][NUMBER_TEXT];
    const char *reason = counts->complete              ? NULL
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

    return pq_exec(NULL, st->conn, PQ_COMMAND_OK, SQL_DAY_LEDGER, 11, params, err,
                   "record the day in livekit.archive_days");
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

    return pq_exec(NULL, st->conn, PQ_COMMAND_OK, SQL_RUN_COUNTERS, 8, params, err,
                   "update the run's counters");
}

/* Dry run, after the merges inside the day's transaction: each session staged is new (its
 * row entered the archive in this transaction), changed (its row, or a participant or
 * connection of it, was written in this transaction: now() is the transaction's start), or
 * unchanged. $1 project */
static const char SQL_DRY_RUN_COMPARE[] =
    "WITH staged AS (SELECT DISTINCT session_id FROM lk_stage WHERE kind IN ('L', 'D')),"
    " judged AS (SELECT t.archived_at = now() AS is_new, (t.updated_at = now()"
    "   OR EXISTS (SELECT 1 FROM livekit.participants p WHERE p.project_id = $1"
    "     AND p.session_id = t.session_id AND p.updated_at = now())"
    "   OR EXISTS (SELECT 1 FROM livekit.participant_connections c WHERE c.project_id = $1"
    "     AND c.session_id = t.session_id AND c.updated_at = now())) AS written"
    "   FROM staged s JOIN livekit.sessions t ON t.project_id = $1 AND t.session_id = s.session_id)"
    " SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new AND written),"
    "   count(*) FILTER (WHERE NOT is_new AND NOT written) FROM judged";

void store_set_dry_run(struct store *st, bool dry_run)
{
    assert(st != NULL);
    st->dry_run = dry_run;
}

/* Dry run: compare (SQL_DRY_RUN_COMPARE), then roll the day back. */
static int dry_run_end_day(struct store *st, struct day_counts *counts, struct lk_error *err)
{
    const char *params[1] = {st->project};
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, SQL_DRY_RUN_COMPARE, 1, params, err,
                     "compare the day with the archive");

    if (rc == 0) {
        counts->new_sessions = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        counts->changed_sessions = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        counts->unchanged_sessions = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
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
    counts_out->complete = result->complete && counts_out->active_sessions == 0 &&
                           counts_out->settling_sessions == 0 && st->refused_count == 0;
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
    if (PQstatus(st->conn) != CONNECTION_OK || st->dry_run)
        return; /* the caller reconnects; the server rolled the day back */
    snprintf(run, sizeof run, "%lld", run_id);
    if (pq_exec(NULL, st->conn, PQ_COMMAND_OK, SQL_DAY_FAILED, 4, params, &err,
                "record the failed day") != 0)
        log_lk_error(LOG_LEVEL_WARN, &err);
}
