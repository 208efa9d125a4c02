-- functions/citus.sql -- the archive on Citus (distributed PostgreSQL): livekit.citus_distribute()
-- (repeatable).
--
-- lkarchive migrate (and run, which migrates first) calls this function after the migrations
-- unless the config says citus_distribute: false. Without the citus extension, or with one but
-- no node in its metadata yet, it does nothing. With it, each archive table not yet distributed
-- is distributed, so an archive that grew on one server moves to Citus by the same command:
-- CREATE EXTENSION citus, add the workers, lkarchive migrate (create_distributed_table copies
-- the rows to the shards in this transaction, and the coordinator's local copy is truncated).
-- sessions, participants and participant_connections are distributed by session_id and
-- colocated; every other table stays a plain table on the coordinator. Why: sql/SCALING.md.
-- The rollup functions choose their Citus form at each call (functions/rollup.sql), so nothing
-- here rewrites them (sql/047 retired 030's text rewrite, which no definition matched any more).
CREATE OR REPLACE FUNCTION livekit.citus_distribute() RETURNS SETOF text
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
    -- the rows now live in the shards; drop the coordinator's copy (children first)
    FOREACH t IN ARRAY ARRAY['participant_connections', 'participants', 'sessions'] LOOP
        IF t = ANY (done) THEN
            PERFORM truncate_local_data_after_distributing_table(format('livekit.%I', t));
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION livekit.citus_distribute() IS
    'Distribute the archive tables by session_id when the citus extension is present (lkarchive migrate calls it); one line per table distributed now';
