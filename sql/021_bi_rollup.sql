-- 021_bi_rollup.sql -- daily rollup tables behind the livekit_bi views, and their maintenance.
--
-- The views of livekit_bi (022) that aggregate per day read these tables, so a dashboard over
-- years reads a few rows per day instead of every session, participant and connection.
-- `lkarchive run` keeps them exact, in the transaction that stores a day (store.c):
--   before its merges:  old := rollup_days_of_sessions(project, ids of the staged sessions)
--   after its merges:   rollup_refresh(project, old || rollup_days_of_sessions(project, ids))
-- so every day whose figures can have changed is recomputed whole: a session's day (the UTC
-- date of COALESCE(start_time, created_at)) is not always the day it was listed under, its old
-- day changes too when it moves, and its connections' intervals can overlap later days (the
-- peak concurrency of each day they overlap). A recomputed day is deleted and inserted again
-- from the base tables, so the rollup never drifts: it equals the definitions of interface.md
-- computed from livekit.* (tests/integration/test_bi_rollup.sh checks this after runs, re-runs,
-- kill -9 and changed days). The end of this file builds the rollup of what is archived already.
--
-- Shared definitions (interface.md, "Analytics views"):
--   day       (COALESCE(start_time, created_at) AT TIME ZONE 'UTC')::date
--   interval  [joined_at, COALESCE(left_at, end_time, ended_at, last_active)), when both ends
--             are known and the end is after joined_at; its seconds are the difference of the
--             ends' epochs (exact numeric), minutes = seconds / 60, summed before dividing.

CREATE TABLE livekit.rollup_daily (
    project_id          text    NOT NULL,
    day                 date    NOT NULL,
    sessions            bigint  NOT NULL,
    participants        bigint  NOT NULL,  -- distinct identities
    connections         bigint  NOT NULL,
    connection_minutes  numeric,
    participant_minutes numeric NOT NULL,
    bandwidth_in        numeric,
    bandwidth_out       numeric,
    bandwidth           numeric,
    egress_sessions     bigint  NOT NULL,
    participant_rows    bigint  NOT NULL,  -- publishing_mix
    camera              bigint  NOT NULL,
    microphone          bigint  NOT NULL,
    screen_share        bigint  NOT NULL,
    screen_share_audio  bigint  NOT NULL,
    PRIMARY KEY (project_id, day)
);

CREATE TABLE livekit.rollup_room_daily (
    project_id          text    NOT NULL,
    day                 date    NOT NULL,
    room_name           text,              -- NULL is a room of its own
    sessions            bigint  NOT NULL,
    participants        bigint  NOT NULL,
    connection_minutes  numeric,
    participant_minutes numeric NOT NULL,
    bandwidth           numeric
);
CREATE INDEX rollup_room_daily_day ON livekit.rollup_room_daily (project_id, day);
CREATE INDEX rollup_room_daily_room ON livekit.rollup_room_daily USING hash (room_name);

CREATE TABLE livekit.rollup_participant_daily (
    project_id           text        NOT NULL,
    day                  date        NOT NULL,
    participant_identity text        NOT NULL,
    sessions             bigint      NOT NULL,
    connections          bigint      NOT NULL,
    participant_minutes  numeric     NOT NULL,
    first_joined_at      timestamptz,
    last_left_at         timestamptz,
    PRIMARY KEY (project_id, day, participant_identity)
);
CREATE INDEX rollup_participant_daily_identity
    ON livekit.rollup_participant_daily (project_id, participant_identity, day);

CREATE TABLE livekit.rollup_peak_daily (
    project_id       text        NOT NULL,
    day              date        NOT NULL,
    peak_connections bigint      NOT NULL,
    peak_at          timestamptz NOT NULL,
    PRIMARY KEY (project_id, day)
);

CREATE TABLE livekit.rollup_duration_daily (
    project_id         text    NOT NULL,
    day                date    NOT NULL,
    bucket_min_minutes integer NOT NULL,
    sessions           bigint  NOT NULL,
    PRIMARY KEY (project_id, day, bucket_min_minutes)
);

-- usage_by_region, usage_by_sdk, usage_by_connection_type: one table, `dimension` says which
CREATE TABLE livekit.rollup_dimension_daily (
    project_id          text    NOT NULL,
    day                 date    NOT NULL,
    dimension           text    NOT NULL
                        CHECK (dimension IN ('region', 'sdk_version', 'connection_type')),
    value               text,              -- NULL is a group of its own
    participants        bigint  NOT NULL,  -- participant rows
    participant_minutes numeric NOT NULL
);
CREATE INDEX rollup_dimension_daily_day
    ON livekit.rollup_dimension_daily (project_id, dimension, day);

-- The days whose rollup rows depend on these sessions as the tables hold them now: each
-- session's day, and every UTC day an interval of its connections overlaps ([a, b) overlaps
-- day d when a < d + 1 and b > d). Called before and after a day's merges, and below with
-- every session of a project (ids are joined, not searched, so a large array is fine). A
-- connection's session is read only while its left_at is NULL (COALESCE stops at the first
-- value), and days are generated once per distinct (first day, last day).
CREATE FUNCTION livekit.rollup_days_of_sessions(p_project text, p_session_ids text[])
RETURNS date[] LANGUAGE sql STABLE SET jit = off AS $fn$
    SELECT COALESCE(array_agg(DISTINCT d.day ORDER BY d.day), '{}')
    FROM (
        SELECT (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date AS day
        FROM livekit.sessions s
        WHERE s.project_id = p_project AND s.session_id IN (SELECT unnest(p_session_ids))
        UNION ALL
        SELECT r.first_day + i
        FROM (SELECT DISTINCT (c.joined_at AT TIME ZONE 'UTC')::date AS first_day,
                              ((e.interval_end - interval '1 microsecond')
                               AT TIME ZONE 'UTC')::date AS last_day
              FROM livekit.participant_connections c
              CROSS JOIN LATERAL (
                  SELECT COALESCE(c.left_at,
                                  (SELECT COALESCE(s.end_time, s.ended_at, s.last_active)
                                   FROM livekit.sessions s
                                   WHERE s.project_id = c.project_id
                                     AND s.session_id = c.session_id)) AS interval_end) e
              WHERE c.project_id = p_project
                AND c.session_id IN (SELECT unnest(p_session_ids))
                AND e.interval_end > c.joined_at) r
        CROSS JOIN LATERAL generate_series(0, r.last_day - r.first_day) AS i
    ) d
    WHERE d.day IS NOT NULL
$fn$;

-- Recompute every rollup row of `p_project` for the days `p_days` (NULLs and duplicates are
-- ignored) from the base tables: delete the days' rows, insert them again.
-- JIT off: compiling these large statements costs more than running them (0.7 s of 2 s for a
-- 20,000-session day); work_mem: a day's aggregates fit in memory instead of spilling to disk.
CREATE FUNCTION livekit.rollup_refresh(p_project text, p_days date[])
RETURNS void LANGUAGE plpgsql SET jit = off SET work_mem = '32MB' AS $fn$
DECLARE
    days date[] := ARRAY(SELECT DISTINCT d FROM unnest(p_days) AS d WHERE d IS NOT NULL ORDER BY d);
    first_start timestamptz;
    last_end timestamptz;
BEGIN
    IF cardinality(days) = 0 THEN
        RETURN;
    END IF;
    first_start := days[1]::timestamp AT TIME ZONE 'UTC';
    last_end := (days[cardinality(days)] + 1)::timestamp AT TIME ZONE 'UTC';

    DELETE FROM livekit.rollup_daily WHERE project_id = p_project AND day = ANY (days);
    DELETE FROM livekit.rollup_room_daily WHERE project_id = p_project AND day = ANY (days);
    DELETE FROM livekit.rollup_participant_daily WHERE project_id = p_project AND day = ANY (days);
    DELETE FROM livekit.rollup_peak_daily WHERE project_id = p_project AND day = ANY (days);
    DELETE FROM livekit.rollup_duration_daily WHERE project_id = p_project AND day = ANY (days);
    DELETE FROM livekit.rollup_dimension_daily WHERE project_id = p_project AND day = ANY (days);

    -- Everything keyed by the session's day, in one statement: the days' sessions (s), their
    -- connections with interval seconds (c) and participant rows, each read once. There is no
    -- join but the ones from s by session_id: tagged rows are put together with UNION ALL and
    -- GROUP BY, so the plan stays good when the tables have no statistics yet (a first load)
    -- and NULL room names, regions... group like any value.
    WITH s AS MATERIALIZED (
        SELECT s.session_id, s.room_name, s.connection_minutes, s.bandwidth_in, s.bandwidth_out,
               s.bandwidth, s.egress,
               (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date AS day,
               COALESCE(s.end_time, s.ended_at, s.last_active) AS open_end,
               extract(epoch FROM COALESCE(s.end_time, s.ended_at))
                 - extract(epoch FROM COALESCE(s.start_time, s.created_at)) AS duration_seconds
        FROM livekit.sessions s
        WHERE s.project_id = p_project
          AND (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date = ANY (days)
    ), c AS MATERIALIZED (
        SELECT s.day, s.room_name, c.session_id, c.participant_identity,
               CASE WHEN COALESCE(c.left_at, s.open_end) > c.joined_at
                    THEN extract(epoch FROM COALESCE(c.left_at, s.open_end))
                         - extract(epoch FROM c.joined_at) END AS seconds
        FROM s JOIN livekit.participant_connections c
          ON c.project_id = p_project AND c.session_id = s.session_id
    ), p AS MATERIALIZED (
        -- one row per participant row, with its connections (rows of c with its identity)
        SELECT day, room_name, participant_identity, min(joined_at) AS joined_at,
               max(left_at) AS left_at, max(region) AS region,
               max(connection_type) AS connection_type, max(sdk_version) AS sdk_version,
               bool_or(camera) AS camera, bool_or(microphone) AS microphone,
               bool_or(screen_share) AS screen_share,
               bool_or(screen_share_audio) AS screen_share_audio,
               count(*) FILTER (WHERE NOT is_participant) AS connections, sum(seconds) AS seconds
        FROM (SELECT s.day, s.room_name, p.session_id, p.participant_identity, true AS is_participant,
                     p.joined_at, p.left_at, p.region, p.connection_type, p.sdk_version,
                     p.published_camera_track AS camera, p.published_microphone_track AS microphone,
                     p.published_screen_share_track AS screen_share,
                     p.published_screen_share_audio AS screen_share_audio, NULL::numeric AS seconds
              FROM s JOIN livekit.participants p
                ON p.project_id = p_project AND p.session_id = s.session_id
              UNION ALL
              SELECT day, room_name, session_id, participant_identity, false, NULL, NULL, NULL,
                     NULL, NULL, NULL, NULL, NULL, NULL, seconds
              FROM c) x
        GROUP BY day, room_name, session_id, participant_identity
        HAVING bool_or(is_participant)
    ), room AS MATERIALIZED (
        SELECT day, room_name, sum(sessions) AS sessions, sum(participants) AS participants,
               sum(connections) AS connections, sum(connection_minutes) AS connection_minutes,
               sum(seconds) AS seconds, sum(bandwidth_in) AS bandwidth_in,
               sum(bandwidth_out) AS bandwidth_out, sum(bandwidth) AS bandwidth,
               sum(egress_sessions) AS egress_sessions
        FROM (SELECT day, room_name, count(*) AS sessions, 0 AS participants, 0 AS connections,
                     sum(connection_minutes) AS connection_minutes, NULL::numeric AS seconds,
                     sum(bandwidth_in) AS bandwidth_in, sum(bandwidth_out) AS bandwidth_out,
                     sum(bandwidth) AS bandwidth, count(*) FILTER (WHERE egress > 0) AS egress_sessions
              FROM s GROUP BY day, room_name
              UNION ALL
              SELECT day, room_name, 0, count(*), 0, NULL, NULL, NULL, NULL, NULL, 0
              FROM (SELECT DISTINCT day, room_name, participant_identity FROM p) x
              GROUP BY day, room_name
              UNION ALL
              SELECT day, room_name, 0, 0, count(*), NULL, sum(seconds), NULL, NULL, NULL, 0
              FROM c GROUP BY day, room_name) x
        GROUP BY day, room_name
    ), participant AS (
        INSERT INTO livekit.rollup_participant_daily
        SELECT p_project, day, participant_identity, count(*), sum(connections),
               COALESCE(sum(seconds), 0) / 60, min(joined_at), max(left_at)
        FROM p GROUP BY day, participant_identity
    ), daily AS (
        INSERT INTO livekit.rollup_daily
        SELECT p_project, day, sum(sessions), sum(participants), sum(connections),
               sum(connection_minutes), COALESCE(sum(seconds), 0) / 60, sum(bandwidth_in),
               sum(bandwidth_out), sum(bandwidth), sum(egress_sessions), sum(participant_rows),
               sum(camera), sum(microphone), sum(screen_share), sum(screen_share_audio)
        FROM (SELECT day, sessions, 0 AS participants, connections, connection_minutes, seconds,
                     bandwidth_in, bandwidth_out, bandwidth, egress_sessions,
                     0 AS participant_rows, 0 AS camera, 0 AS microphone, 0 AS screen_share,
                     0 AS screen_share_audio
              FROM room
              UNION ALL
              SELECT day, 0, count(*), 0, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0
              FROM (SELECT DISTINCT day, participant_identity FROM p) x
              GROUP BY day
              UNION ALL
              SELECT day, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 0, count(*),
                     count(*) FILTER (WHERE camera), count(*) FILTER (WHERE microphone),
                     count(*) FILTER (WHERE screen_share),
                     count(*) FILTER (WHERE screen_share_audio)
              FROM p GROUP BY day) x
        GROUP BY day
    ), room_rows AS (
        INSERT INTO livekit.rollup_room_daily
        SELECT p_project, day, room_name, sessions, participants, connection_minutes,
               COALESCE(seconds, 0) / 60, bandwidth
        FROM room
    ), duration AS (
        INSERT INTO livekit.rollup_duration_daily
        SELECT p_project, day, bucket, count(*)
        FROM (SELECT day, CASE WHEN duration_seconds >= 7200 THEN 120
                               WHEN duration_seconds >= 3600 THEN 60
                               WHEN duration_seconds >= 1800 THEN 30
                               WHEN duration_seconds >= 900 THEN 15
                               WHEN duration_seconds >= 300 THEN 5
                               WHEN duration_seconds >= 60 THEN 1
                               WHEN duration_seconds >= 0 THEN 0 END AS bucket
              FROM s) b
        WHERE bucket IS NOT NULL
        GROUP BY day, bucket
    )
    INSERT INTO livekit.rollup_dimension_daily
    SELECT p_project, day,
           CASE WHEN GROUPING(region) = 0 THEN 'region'
                WHEN GROUPING(sdk_version) = 0 THEN 'sdk_version'
                ELSE 'connection_type' END,
           CASE WHEN GROUPING(region) = 0 THEN region
                WHEN GROUPING(sdk_version) = 0 THEN sdk_version
                ELSE connection_type END,
           count(*), COALESCE(sum(seconds), 0) / 60
    FROM p
    GROUP BY GROUPING SETS ((day, region), (day, sdk_version), (day, connection_type));

    -- Peak concurrency, per UTC day any interval overlaps: each interval that overlaps the
    -- days, clipped to each day, gives a start (+1) and an end (-1); a running sum in time
    -- order (at one instant, ends before starts: intervals are half-open) is what is open;
    -- the peak is its highest value, reached first at the earliest such instant. Only
    -- connections open after the first day can overlap (left_at > it, or left_at still NULL),
    -- which the (project_id, left_at) index finds.
    WITH events AS (
        SELECT d.day, ev.t, ev.delta
        FROM livekit.participant_connections c
        CROSS JOIN LATERAL (
            SELECT COALESCE(c.left_at,
                            (SELECT COALESCE(s.end_time, s.ended_at, s.last_active)
                             FROM livekit.sessions s
                             WHERE s.project_id = c.project_id
                               AND s.session_id = c.session_id)) AS interval_end) e
        CROSS JOIN LATERAL (SELECT (c.joined_at AT TIME ZONE 'UTC')::date AS first_day,
                                   ((e.interval_end - interval '1 microsecond')
                                    AT TIME ZONE 'UTC')::date AS last_day) b
        CROSS JOIN LATERAL generate_series(GREATEST(b.first_day, days[1]) - b.first_day,
                                           LEAST(b.last_day, days[cardinality(days)])
                                             - b.first_day) AS i
        JOIN unnest(days) AS d(day) ON d.day = b.first_day + i
        CROSS JOIN LATERAL (
            VALUES (GREATEST(c.joined_at, d.day::timestamp AT TIME ZONE 'UTC'), 1),
                   (LEAST(e.interval_end, (d.day + 1)::timestamp AT TIME ZONE 'UTC'), -1))
            AS ev(t, delta)
        WHERE c.project_id = p_project
          AND (c.left_at > first_start OR c.left_at IS NULL)
          AND c.joined_at < last_end
          AND e.interval_end > c.joined_at
    ), sweep AS (
        SELECT day, t, sum(delta) OVER (PARTITION BY day ORDER BY t, delta
                                        ROWS UNBOUNDED PRECEDING) AS open_now
        FROM events
    ), ranked AS (
        -- the same order as the sweep's: no second sort
        SELECT day, t, open_now, max(open_now) OVER (PARTITION BY day) AS peak FROM sweep
    )
    INSERT INTO livekit.rollup_peak_daily
    SELECT p_project, day, peak, min(t)
    FROM ranked
    WHERE open_now = peak
    GROUP BY day, peak;
END
$fn$;

-- The rollup of what is archived already (an archive that existed before this migration).
SELECT livekit.rollup_refresh(project_id,
                              livekit.rollup_days_of_sessions(project_id, array_agg(session_id)))
FROM livekit.sessions
GROUP BY project_id;
