-- 044_rollup_days_probes.sql -- rollup_days_of_sessions finds each session it is given, and
-- that session's connections, by primary key on one server, whatever the statistics say.
--
-- 041's one-server form matched the ids with `s.session_id IN (SELECT unnest($2))`, which the
-- planner turned into a hash join over a bitmap scan of every archived session of the project
-- (a day of 2,000 sessions after six others read all 14,000; after a year, all of them), and
-- left the connections to a join it could plan the same way once statistics exist. Now each id
-- is a probe of sessions_pkey and each session's connections a range of
-- participant_connections_pkey: subqueries kept apart by OFFSET 0, so they stay per-row
-- lookups. Duplicate ids give the same (day, first day, last day) rows, which the DISTINCT
-- folds as before; the days returned are the same (tests/integration/test_bi_rollup.sh).
-- On Citus the function keeps 041's form (ids as = ANY, for shard pruning; the connections
-- joined, which Citus pushes down to the colocated shards); chosen at each call, as in 041.
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
