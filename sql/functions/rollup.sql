-- functions/rollup.sql -- the daily rollup's maintenance (repeatable: applied again whenever this
-- file changes; the definitions in force are these).
--
-- `lkarchive run` keeps the rollup tables behind livekit_bi exact in the transaction that stores
-- a day (store_rollup.c): before its merges it asks rollup_days_of_sessions for the days the
-- archive holds the staged sessions under, after them it has rollup_refresh recompute those days
-- and the staged sessions' days now (on a first load's days the inserts return the days
-- instead). A recomputed day is deleted and inserted again from the base tables, so the rollup
-- never drifts from the views' definitions (tests/integration/test_bi_rollup.sh).
--
-- Why each statement reads what it reads, with the measurements: tests/bench/ROLLUP.md. On
-- Citus (the connections distributed) the functions join a connection to its session where one
-- server reads it by a correlated subquery, which Citus cannot plan; rollup_distributed()
-- chooses at each call (sql/SCALING.md).

-- Whether the connections live on Citus workers (citus_distribute distributed them). Asked at
-- each call, so an archive distributed at any time takes the right form (pg_dist_partition
-- exists only with citus).
CREATE OR REPLACE FUNCTION livekit.rollup_distributed() RETURNS boolean
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition
                   WHERE logicalrelid = 'livekit.participant_connections'::regclass);
END
$fn$;

-- The days whose rollup rows depend on the given sessions: each session's day and every day
-- one of its connections' intervals overlaps. On one server each id is a probe of
-- sessions_pkey and each session's connections a range of participant_connections_pkey
-- (OFFSET 0 keeps them per-row lookups); on Citus the ids are = ANY (shard pruning) and the
-- connections joined.
CREATE OR REPLACE FUNCTION livekit.rollup_days_of_sessions(p_project text, p_session_ids text[])
RETURNS date[] LANGUAGE plpgsql STABLE SET jit = off SET plan_cache_mode = force_custom_plan
AS $fn$
DECLARE
    distributed boolean := livekit.rollup_distributed();
    sessions_of_ids text := CASE WHEN distributed
        THEN 'livekit.sessions s WHERE s.project_id = $1 AND s.session_id = ANY ($2)'
        ELSE 'unnest($2) AS i(session_id) CROSS JOIN LATERAL (SELECT * FROM livekit.sessions x'
             ' WHERE x.project_id = $1 AND x.session_id = i.session_id OFFSET 0) s' END;
    per_session text := CASE WHEN distributed THEN '' ELSE 'OFFSET 0' END;
    days date[];
BEGIN
    EXECUTE format($q$
    -- name: rollup_days_of_sessions
    SELECT COALESCE(array_agg(DISTINCT d.day ORDER BY d.day), '{}')
    FROM (SELECT DISTINCT r.session_day, e.first_day, e.last_day
          FROM (SELECT s.project_id, s.session_id, s.end_time, s.ended_at, s.last_active,
                       (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date AS session_day
                FROM %s) r
          -- the session's connections whose days are not just the session's day
          LEFT JOIN LATERAL (
              SELECT (c.joined_at AT TIME ZONE 'UTC')::date AS first_day,
                     ((COALESCE(c.left_at, r.end_time, r.ended_at, r.last_active)
                       - interval '1 microsecond') AT TIME ZONE 'UTC')::date AS last_day
              FROM livekit.participant_connections c
              WHERE c.project_id = r.project_id AND c.session_id = r.session_id
                AND COALESCE(c.left_at, r.end_time, r.ended_at, r.last_active) > c.joined_at
              %s) e
            ON (e.first_day, e.last_day) IS DISTINCT FROM (r.session_day, r.session_day)) x
    CROSS JOIN LATERAL (SELECT x.session_day
                        UNION ALL
                        SELECT x.first_day + i
                        FROM generate_series(0, x.last_day - x.first_day) AS i) AS d(day)
    WHERE d.day IS NOT NULL
    $q$, sessions_of_ids, per_session) INTO days USING p_project, p_session_ids;
    RETURN days;
END
$fn$;

-- The connections that can be open between first_start and last_end (left_at after
-- first_start or still NULL, which the BRIN index on left_at finds; joined before last_end),
-- each as the interval [a, b): joined_at to left_at, or to its session's end while it has none.
CREATE OR REPLACE FUNCTION livekit.rollup_open_intervals(p_project text, first_start timestamptz,
                                                        last_end timestamptz)
RETURNS TABLE (a timestamptz, b timestamptz)
LANGUAGE plpgsql STABLE SET jit = off SET plan_cache_mode = force_custom_plan
SET enable_bitmapscan = on AS $fn$
BEGIN
    IF livekit.rollup_distributed() THEN
        RETURN QUERY
        SELECT c.joined_at,
               COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active)
        FROM livekit.participant_connections c
        JOIN livekit.sessions s
          ON s.project_id = c.project_id AND s.session_id = c.session_id
        WHERE c.project_id = p_project
          AND (c.left_at > first_start OR c.left_at IS NULL)
          AND c.joined_at < last_end
          AND COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active) > c.joined_at;
    ELSE
        RETURN QUERY
        SELECT c.joined_at, e.b
        FROM livekit.participant_connections c
        CROSS JOIN LATERAL (
            SELECT COALESCE(c.left_at,
                            (SELECT COALESCE(x.end_time, x.ended_at, x.last_active)
                             FROM livekit.sessions x
                             WHERE x.project_id = c.project_id
                               AND x.session_id = c.session_id)) AS b) e
        -- IS TRUE: not a condition the primary key can serve (tests/bench/ROLLUP.md)
        WHERE (c.project_id = p_project) IS TRUE
          AND (c.left_at > first_start OR c.left_at IS NULL)
          AND c.joined_at < last_end
          AND e.b > c.joined_at;
    END IF;
END
$fn$;

-- Recompute the rollup rows of the project's days: deleted, then inserted again from the base
-- tables in two statements (everything keyed by the session's day; the peak concurrency).
-- Called through rollup_refresh, which sets the planner for it.
CREATE OR REPLACE FUNCTION livekit.rollup_refresh_days(p_project text, p_days date[])
RETURNS void LANGUAGE plpgsql SET jit = off SET work_mem = '32MB' SET enable_sort = off
SET plan_cache_mode = force_custom_plan AS $fn$
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
    DELETE FROM livekit.rollup_billing_daily WHERE project_id = p_project AND day = ANY (days);

    -- Everything keyed by the session's day, in one statement (only joins from s by
    -- session_id, rows put together by UNION ALL and GROUP BY, so a first load without
    -- statistics plans well). Seconds travel as two sums: `short`, an interval sum of the
    -- intervals under a day, and `long`, numeric seconds of the others; a figure's seconds are
    -- COALESCE(extract(epoch FROM short) + long, extract(epoch FROM short), long): NULL when
    -- no interval counted, as a sum of numeric seconds would be.
    WITH s AS MATERIALIZED (
        SELECT s.session_id, s.room_name, s.connection_minutes, s.bandwidth_in, s.bandwidth_out,
               s.bandwidth, s.egress,
               (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date AS day,
               COALESCE(s.end_time, s.ended_at, s.last_active) AS open_end,
               COALESCE(s.end_time, s.ended_at) - COALESCE(s.start_time, s.created_at) AS duration
        FROM livekit.sessions s
        WHERE s.project_id = p_project
          AND (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date = ANY (days)
    ), g AS MATERIALIZED (
        -- one row per session and identity: its participant row (is_participant) and its
        -- connections; connections with no participant row make groups of their own
        SELECT day, room_name, participant_identity,
               bool_or(is_participant) AS is_participant,
               min(joined_at) AS joined_at, max(left_at) AS left_at, max(region) AS region,
               max(connection_type) AS connection_type, max(sdk_version) AS sdk_version,
               bool_or(camera) AS camera, bool_or(microphone) AS microphone,
               bool_or(screen_share) AS screen_share,
               bool_or(screen_share_audio) AS screen_share_audio,
               count(*) FILTER (WHERE NOT is_participant)::int AS connections,
               sum(span) FILTER (WHERE span > interval '0' AND span < interval '1 day') AS short,
               sum(extract(epoch FROM span)) FILTER (WHERE span >= interval '1 day') AS long,
               -- what LiveKit bills (sql/050): each interval rounded up to a whole minute
               -- before summing; under a day in float8 seconds (exact to the microsecond
               -- there) as integers, a day or more as numeric
               sum(ceil(date_part('epoch', span) / 60)::integer)
                   FILTER (WHERE span > interval '0' AND span < interval '1 day') AS billed_short,
               sum(ceil(extract(epoch FROM span) / 60))
                   FILTER (WHERE span >= interval '1 day') AS billed_long
        FROM (SELECT s.day, s.room_name, p.session_id, p.participant_identity,
                     true AS is_participant,
                     p.joined_at, p.left_at, p.region, p.connection_type, p.sdk_version,
                     p.published_camera_track AS camera, p.published_microphone_track AS microphone,
                     p.published_screen_share_track AS screen_share,
                     p.published_screen_share_audio AS screen_share_audio, NULL::interval AS span
              FROM s JOIN livekit.participants p
                ON p.project_id = p_project AND p.session_id = s.session_id
              UNION ALL
              SELECT s.day, s.room_name, c.session_id, c.participant_identity, false,
                     NULL, NULL,
                     NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                     COALESCE(c.left_at, s.open_end) - c.joined_at
              FROM s JOIN livekit.participant_connections c
                ON c.project_id = p_project AND c.session_id = s.session_id) x
        GROUP BY session_id, participant_identity, day, room_name
    ), room AS MATERIALIZED (
        -- one row per room and day from one row per session of it (its own figures) and one
        -- per identity in it (distinct identities, their rows and connections); counts summed
        -- as integer (int4 sums are bigint, no numeric), numeric only for fractions and bytes
        SELECT day, room_name, sum(sessions) AS sessions, sum(participants) AS participants,
               sum(connections) AS connections, sum(connection_minutes) AS connection_minutes,
               sum(short) AS short, sum(long) AS long, sum(bandwidth_in) AS bandwidth_in,
               sum(bandwidth_out) AS bandwidth_out, sum(bandwidth) AS bandwidth,
               sum(egress_sessions) AS egress_sessions, sum(participant_rows) AS participant_rows,
               sum(camera) AS camera, sum(microphone) AS microphone,
               sum(screen_share) AS screen_share, sum(screen_share_audio) AS screen_share_audio
        FROM (SELECT day, room_name, 1 AS sessions, 0 AS participants, 0 AS connections,
                     connection_minutes, NULL::interval AS short, NULL::numeric AS long,
                     bandwidth_in, bandwidth_out, bandwidth, ((egress > 0) IS TRUE)::int AS egress_sessions,
                     0 AS participant_rows, 0 AS camera, 0 AS microphone, 0 AS screen_share,
                     0 AS screen_share_audio
              FROM s
              UNION ALL
              -- per identity of a room with more sessions that day: participant rows and their
              -- flags, connections
              SELECT day, room_name, 0, (count(*) FILTER (WHERE is_participant) > 0)::int,
                     sum(connections)::int, NULL, sum(short), sum(long), NULL, NULL, NULL, 0,
                     count(*) FILTER (WHERE is_participant)::int,
                     count(*) FILTER (WHERE camera)::int, count(*) FILTER (WHERE microphone)::int,
                     count(*) FILTER (WHERE screen_share)::int,
                     count(*) FILTER (WHERE screen_share_audio)::int
              FROM g GROUP BY day, room_name, participant_identity) x
        GROUP BY day, room_name
    ), participant AS (
        INSERT INTO livekit.rollup_participant_daily
        SELECT p_project, day, participant_identity, count(*), sum(connections),
               COALESCE(extract(epoch FROM sum(short)) + sum(long), extract(epoch FROM sum(short)),
                        sum(long), 0) / 60,
               min(joined_at), max(left_at)
        FROM g WHERE is_participant GROUP BY day, participant_identity
        RETURNING day
    ), daily AS (
        INSERT INTO livekit.rollup_daily
        SELECT p_project, day, sum(sessions), sum(participants), sum(connections),
               sum(connection_minutes),
               COALESCE(extract(epoch FROM sum(short)) + sum(long), extract(epoch FROM sum(short)),
                        sum(long), 0) / 60,
               sum(bandwidth_in), sum(bandwidth_out), sum(bandwidth), sum(egress_sessions),
               sum(participant_rows), sum(camera), sum(microphone), sum(screen_share),
               sum(screen_share_audio)
        FROM (SELECT day, sessions::int, 0 AS participants, connections::int, connection_minutes,
                     short, long, bandwidth_in, bandwidth_out, bandwidth, egress_sessions::int,
                     participant_rows::int, camera::int, microphone::int, screen_share::int,
                     screen_share_audio::int
              FROM room
              UNION ALL
              -- distinct identities of the day: the participant rows inserted for it
              SELECT day, 0, count(*)::int, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0
              FROM participant GROUP BY day) x
        GROUP BY day
    ), room_rows AS (
        INSERT INTO livekit.rollup_room_daily
        SELECT p_project, day, room_name, sessions, participants, connection_minutes,
               COALESCE(extract(epoch FROM short) + long, extract(epoch FROM short), long, 0) / 60,
               bandwidth
        FROM room
    ), billing AS (
        -- what LiveKit bills, per session day (sql/050): the connections' rounded minutes from
        -- g, each session's downstream bytes (bandwidth_out) rounded up to 0.01 GB (10^7
        -- bytes), as integers
        INSERT INTO livekit.rollup_billing_daily
        SELECT p_project, day, COALESCE(sum(short), 0) + COALESCE(sum(long), 0),
               COALESCE(sum(centi_gb), 0)
        FROM (SELECT day, billed_short AS short, billed_long AS long, NULL::numeric AS centi_gb
              FROM g
              UNION ALL
              SELECT day, NULL, NULL, COALESCE(ceil(bandwidth_out / 10000000.0), 0)
              FROM s) x
        GROUP BY day
    ), duration AS (
        INSERT INTO livekit.rollup_duration_daily
        SELECT p_project, day, bucket, count(*)
        FROM (SELECT day, CASE WHEN duration >= interval '7200 seconds' THEN 120
                               WHEN duration >= interval '3600 seconds' THEN 60
                               WHEN duration >= interval '1800 seconds' THEN 30
                               WHEN duration >= interval '900 seconds' THEN 15
                               WHEN duration >= interval '300 seconds' THEN 5
                               WHEN duration >= interval '60 seconds' THEN 1
                               WHEN duration >= interval '0' THEN 0 END AS bucket
              FROM s) b
        WHERE bucket IS NOT NULL
        GROUP BY day, bucket
    ), dimensions AS (
        -- the participant rows by all three dimensions at once (a few combinations a day),
        -- then each dimension from those: one hash lookup per participant row, not three
        SELECT day, region, sdk_version, connection_type, count(*) AS participant_rows,
               sum(short) AS short, sum(long) AS long
        FROM g
        WHERE is_participant
        GROUP BY day, region, sdk_version, connection_type
    )
    INSERT INTO livekit.rollup_dimension_daily
    SELECT p_project, day,
           CASE WHEN GROUPING(region) = 0 THEN 'region'
                WHEN GROUPING(sdk_version) = 0 THEN 'sdk_version'
                ELSE 'connection_type' END,
           CASE WHEN GROUPING(region) = 0 THEN region
                WHEN GROUPING(sdk_version) = 0 THEN sdk_version
                ELSE connection_type END,
           sum(participant_rows),
           COALESCE(extract(epoch FROM sum(short)) + sum(long), extract(epoch FROM sum(short)),
                    sum(long), 0) / 60
    FROM dimensions
    GROUP BY GROUPING SETS ((day, region), (day, sdk_version), (day, connection_type));

    -- Peak concurrency of each day (tests/bench/ROLLUP.md): the connections that can be open
    -- during the days (rollup_open_intervals, each [a, b)), their starts and ends each as a
    -- sorted array. What is open just after a start or at a day's first instant is the starts
    -- up to then less the ends up to then (width_bucket: a binary search counting the elements
    -- <= t; an end at t comes before a start at t, the intervals being half-open), and each
    -- start's own count is its place in the sorted starts (of starts at one instant the last
    -- counts them all, and the peak is the largest). Each day keeps its largest count and, of
    -- those, the earliest point: packed into one bigint per point (count << 34, then the
    -- point's place in time order inverted), its maximum is both.
    WITH sorted AS MATERIALIZED (
        SELECT array_agg(a ORDER BY a) AS starts, array_agg(b ORDER BY b) AS ends
        FROM livekit.rollup_open_intervals(p_project, first_start, last_end)
    ), points AS (
        -- the starts during the days (place 2i: the i-th start) ...
        SELECT (s.t AT TIME ZONE 'UTC')::date AS day, s.i - width_bucket(s.t, x.ends) AS open_now,
               2 * s.i AS place
        FROM sorted x CROSS JOIN LATERAL unnest(x.starts) WITH ORDINALITY AS s(t, i)
        WHERE s.t >= first_start AND s.t < last_end
        UNION ALL
        -- ... and each day's first instant, after the starts at that instant (place 2i + 1)
        SELECT m.day, width_bucket(m.t, x.starts) - width_bucket(m.t, x.ends),
               2 * width_bucket(m.t, x.starts) + 1
        FROM sorted x
        CROSS JOIN LATERAL (SELECT d AS day, d::timestamp AT TIME ZONE 'UTC' AS t
                            FROM unnest(days) AS d) m
    ), best AS (
        SELECT day, max((open_now::bigint << 34) + (17179869183 - place)) AS packed
        FROM points
        WHERE day = ANY (days)
        GROUP BY day
    )
    INSERT INTO livekit.rollup_peak_daily
    SELECT p_project, b.day, b.packed >> 34,
           CASE WHEN pl.place % 2 = 0 THEN x.starts[pl.place / 2]
                ELSE b.day::timestamp AT TIME ZONE 'UTC' END
    FROM best b
    CROSS JOIN sorted x
    CROSS JOIN LATERAL (SELECT 17179869183 - (b.packed & 17179869183) AS place) pl
    WHERE b.packed >> 34 > 0;
END
$fn$;

-- The refresh (rollup_refresh_days) with hash joins, merge joins and bitmap scans off on one
-- server: each session's participants and connections are read by primary key, whatever the
-- statistics say. Local to the call: the SET clauses restore the caller's values.
CREATE OR REPLACE FUNCTION livekit.rollup_refresh(p_project text, p_days date[])
RETURNS void LANGUAGE plpgsql SET enable_hashjoin = on SET enable_mergejoin = on
SET enable_bitmapscan = on AS $fn$
BEGIN
    IF NOT livekit.rollup_distributed() THEN
        PERFORM set_config('enable_hashjoin', 'off', true);
        PERFORM set_config('enable_mergejoin', 'off', true);
        PERFORM set_config('enable_bitmapscan', 'off', true);
    END IF;
    PERFORM livekit.rollup_refresh_days(p_project, p_days);
END
$fn$;
