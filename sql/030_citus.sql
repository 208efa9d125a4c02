-- 030_citus.sql -- the archive on Citus (distributed PostgreSQL): livekit.citus_distribute().
--
-- lkarchive migrate (and run, which migrates first) calls this function after the migrations
-- unless the config says citus_distribute: false. Without the citus extension, or with one but
-- no node in its metadata yet, it does nothing. With it, each archive table not yet distributed
-- is distributed, so an archive that grew on one server moves to Citus by the same command:
-- CREATE EXTENSION citus, add the workers, lkarchive migrate (create_distributed_table copies
-- the rows to the shards in this transaction, and the coordinator's local copy is truncated).
--
-- Where each table lives, and why:
-- * sessions, participants, participant_connections: distributed by session_id, colocated.
--   Every key and both foreign keys hold session_id, so a session's rows share one shard
--   group: each merge, a day's counts and the per-session joins of the views run shard by
--   shard on the workers, in parallel, and the day's transaction stays one per project-day.
--   (project_id would give one shard per project: no spread for the common single project.)
-- * archive_runs, archive_days, seen_fields, schema_migrations: left as plain tables on the
--   coordinator. They are small (a row per run, per project-day, per field name), written on
--   every day's commit and read by status and gaps only, never joined with the distributed
--   tables. Reference tables would copy each of those writes to every worker with two-phase
--   commit and make the ledger unwritable while any worker is down; on the coordinator a failed
--   day can still be recorded as failed while a worker restarts.
-- * the daily rollup (livekit.rollup_*, 021) and the ledger's kin (archive_prunes,
--   forgotten_identities): plain tables on the coordinator too. The rollup holds a few rows per
--   project and day, is read by the livekit_bi views and rewritten for a day's days in the
--   day's transaction from the distributed tables (Citus pulls the aggregates to the
--   coordinator); as reference tables every refresh would be a two-phase write to each worker.
-- * livekit.rollup_days_of_sessions (021) is a LANGUAGE sql function whose query reads a
--   session through a correlated subquery in a FROM-less LATERAL: Citus can plan neither (the
--   parameters of a SQL function, nor such a subquery). On Citus it is replaced by a PL/pgSQL
--   function with the same result, joining each connection to its session (the foreign key
--   guarantees one); on one server 021's version stays as it is.
CREATE FUNCTION livekit.citus_distribute() RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
    t text;
    done text[] := '{}';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_dist_node WHERE isactive AND noderole = 'primary') THEN
        RETURN NEXT 'the citus extension has no node yet (citus_add_node): tables left local';
        RETURN;
    END IF;
    -- first: Citus refuses function DDL after a parallel operation in the transaction
    -- livekit.rollup_refresh (021): its peak concurrency reads a connection's session through
    -- the same FROM-less correlated LATERAL; on Citus the session is joined instead
    IF position('(SELECT COALESCE(s.end_time, s.ended_at, s.last_active)'
                IN pg_get_functiondef('livekit.rollup_refresh(text,date[])'::regprocedure)) > 0
    THEN
        EXECUTE replace(replace(replace(
            pg_get_functiondef('livekit.rollup_refresh(text,date[])'::regprocedure),
            $old$        FROM livekit.participant_connections c
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
            AS ev(t, delta)$old$,
            $new$        FROM (SELECT c.project_id, c.joined_at, c.left_at,
                     COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active) AS interval_end,
                     (c.joined_at AT TIME ZONE 'UTC')::date AS first_day,
                     ((COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active)
                       - interval '1 microsecond') AT TIME ZONE 'UTC')::date AS last_day
              FROM livekit.participant_connections c
              JOIN livekit.sessions s
                ON s.project_id = c.project_id AND s.session_id = c.session_id
              WHERE c.project_id = p_project
                AND (c.left_at > first_start OR c.left_at IS NULL)
                AND c.joined_at < last_end) c
        JOIN unnest(days) AS d(day)
          ON d.day BETWEEN c.first_day AND c.last_day
        CROSS JOIN (VALUES (1), (-1)) AS k(delta)
        CROSS JOIN LATERAL (SELECT CASE WHEN k.delta = 1
                                        THEN GREATEST(c.joined_at, d.day::timestamp AT TIME ZONE 'UTC')
                                        ELSE LEAST(c.interval_end, (d.day + 1)::timestamp AT TIME ZONE 'UTC')
                                   END AS t, k.delta) ev$new$),
            $old$          AND e.interval_end > c.joined_at$old$,
            $new$          AND c.interval_end > c.joined_at$new$),
            'CREATE OR REPLACE FUNCTION livekit.rollup_refresh', 'CREATE OR REPLACE FUNCTION livekit.rollup_refresh');
        RETURN NEXT 'livekit.rollup_refresh rewritten for Citus (joins)';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
               WHERE p.oid = to_regprocedure('livekit.rollup_days_of_sessions(text,text[])')
                 AND l.lanname = 'sql') THEN
        EXECUTE $ddl$
CREATE OR REPLACE FUNCTION livekit.rollup_days_of_sessions(p_project text, p_session_ids text[])
RETURNS date[] LANGUAGE plpgsql STABLE SET jit = off SET plan_cache_mode = force_custom_plan AS $body$
BEGIN
    RETURN (
    SELECT COALESCE(array_agg(DISTINCT d.day ORDER BY d.day), '{}')
    FROM (
        SELECT (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date AS day
        FROM livekit.sessions s
        WHERE s.project_id = p_project AND s.session_id = ANY (p_session_ids)
        UNION ALL
        SELECT r.first_day + i
        FROM (SELECT DISTINCT (c.joined_at AT TIME ZONE 'UTC')::date AS first_day,
                              ((COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active)
                                - interval '1 microsecond') AT TIME ZONE 'UTC')::date AS last_day
              FROM livekit.participant_connections c
              JOIN livekit.sessions s
                ON s.project_id = c.project_id AND s.session_id = c.session_id
              WHERE c.project_id = p_project AND c.session_id = ANY (p_session_ids)
                AND COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active) > c.joined_at) r
        CROSS JOIN LATERAL generate_series(0, r.last_day - r.first_day) AS i
    ) d
    WHERE d.day IS NOT NULL);
END
$body$
$ddl$;
        RETURN NEXT 'livekit.rollup_days_of_sessions rewritten for Citus (PL/pgSQL, joins)';
    END IF;
    FOREACH t IN ARRAY ARRAY['sessions', 'participants', 'participant_connections'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_dist_partition
                       WHERE logicalrelid = format('livekit.%I', t)::regclass) THEN
            IF t = 'sessions' THEN
                PERFORM create_distributed_table('livekit.sessions', 'session_id');
            ELSE
                PERFORM create_distributed_table(format('livekit.%I', t), 'session_id',
                                                 colocate_with => 'livekit.sessions');
            END IF;
            done := done || t;
            RETURN NEXT format('livekit.%s distributed by session_id', t);
        END IF;
    END LOOP;
    -- the rows now live in the shards; drop the coordinator's copy (referencing tables first)
    FOREACH t IN ARRAY ARRAY['participant_connections', 'participants', 'sessions'] LOOP
        IF t = ANY (done) THEN
            PERFORM truncate_local_data_after_distributing_table(format('livekit.%I', t));
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION livekit.citus_distribute() IS
    'Distribute the archive tables by session_id when the citus extension is present (lkarchive migrate calls it); one line per table distributed now';
