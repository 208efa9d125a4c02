-- 043_rollup_probes.sql -- the rollup reads a day's participants and connections by their
-- sessions' keys, whatever the statistics say, so its cost follows the days refreshed and not
-- the size of the archive.
--
-- rollup_refresh's big statement joins the sessions of the refreshed days to their participants
-- and connections (041). Without statistics (the first days of a first load) the planner probes
-- the primary keys per session; once ANALYZE has run it expects the day's 20,000 sessions to
-- match a large share of the tables and hashes every participant and connection of the
-- project instead: 640,000 and 1,000,000 rows read to refresh one day after a week, and a
-- year's worth after a year. On one server the refresh now runs with hash and merge joins off,
-- which leaves the nested loop over the primary keys (measured on the benchmark's archive after
-- a first load of 7 x 20,000 sessions, one day refreshed: 1.83 s with the hash join, 1.58 s
-- probing; the hash join's share grows with every day archived, the probes' does not). The
-- rollup's GROUP BYs are aggregates, not joins, and still hash; the peak's one join is of a
-- handful of days' maxima with their sweep rows. Same rows either way (a plan, not a query,
-- changes: tests/integration/test_bi_rollup.sh compares the rollup with the base tables).
--
-- On Citus the joins are planned by Citus and run on the workers, which these settings would
-- not reach; there the function is left as 041 made it. The choice is made at each call
-- (livekit.rollup_distributed), like 041's.
--
-- The settings are local to the call: the wrapper's SET clauses restore the caller's values
-- when it returns, and the refresh itself is 041's function under a new name.
ALTER FUNCTION livekit.rollup_refresh(text, date[]) RENAME TO rollup_refresh_days;

CREATE FUNCTION livekit.rollup_refresh(p_project text, p_days date[])
RETURNS void LANGUAGE plpgsql SET enable_hashjoin = on SET enable_mergejoin = on AS $fn$
BEGIN
    IF NOT livekit.rollup_distributed() THEN
        PERFORM set_config('enable_hashjoin', 'off', true);
        PERFORM set_config('enable_mergejoin', 'off', true);
    END IF;
    PERFORM livekit.rollup_refresh_days(p_project, p_days);
END
$fn$;
