-- 045_rollup_recent_connections.sql -- the rollup's peak concurrency finds the connections open
-- during the refreshed days through the BRIN index on left_at, whatever the statistics say, and
-- the refresh reads each session's connections by a plain index scan.
--
-- rollup_open_intervals (041) asks for the project's connections with left_at after the first
-- refreshed day (or NULL) that joined before the last one ends. Without statistics (the first
-- days of a first load, before autovacuum's ANALYZE) the planner expects the project to hold
-- 0.5 % of the table and takes the primary key's (project_id) prefix: a bitmap of every
-- connection of the project, then every heap page of it, to keep the few of the refreshed days.
-- On the benchmark's first load of 7 x 5,000 sessions the seventh day's refresh read 220,759
-- index entries and kept 31,409 rows (82 ms of its 680), and the read grows with the archive.
-- The BRIN index (040) finds the recent pages instead: 35 ms for the same rows, and a cost that
-- follows the refreshed days. The project's condition is written `(...) IS TRUE`, the same
-- test for a non-NULL project_id, but not one an index can serve, which leaves the BRIN scan as
-- the way in. On Citus the function keeps its join (Citus plans the distributed scan).
--
-- The refresh's big statement reads each session's participants and connections by primary
-- key (043); for the connections the planner chose a bitmap scan per session, whose bitmap
-- costs more than a plain index scan over a session's handful of rows. On one server the
-- refresh now runs with bitmap scans off (rollup_refresh, local to the call like 043's hash
-- and merge joins), and rollup_open_intervals turns them back on for the BRIN scan, which is
-- only ever a bitmap scan. Same rows (a plan, not a query, changes; test_bi_rollup.sh compares
-- the rollup with the base tables). First load of 7 x 1,000 sessions, PostgreSQL's
-- instructions (ci/bench_pg_instructions.sh's method): 11.40 G -> 11.32 G; more at larger days,
-- whose first-load refreshes read more of the archive through the primary key.

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
        -- IS TRUE: not a condition the primary key can serve (see the top of this file)
        WHERE (c.project_id = p_project) IS TRUE
          AND (c.left_at > first_start OR c.left_at IS NULL)
          AND c.joined_at < last_end
          AND e.b > c.joined_at;
    END IF;
END
$fn$;

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
