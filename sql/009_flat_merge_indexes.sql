-- 009_flat_merge_indexes.sql -- sessions' secondary indexes no longer lead with project_id,
-- so the foreign-key checks of participants and participant_connections always use the
-- primary key (tests/bench/MERGE.md has the plans and the figures).
--
-- Why: each row merged into participants or participant_connections is checked against
-- sessions with PostgreSQL's own
--     SELECT 1 FROM ONLY livekit.sessions x WHERE project_id = $1 AND session_id = $2
--     FOR KEY SHARE OF x
-- planned once per backend and cached. When sessions has no statistics yet (a fresh archive,
-- or one still small) the planner cannot tell that project_id alone selects nearly every row,
-- and it may pick (project_id, list_day) or (project_id, created_at): Index Cond on
-- project_id, Filter on session_id. That cached plan then reads the whole project for every
-- participant and connection, so a big day merged after small ones goes quadratic (a
-- 50,000-session day: minutes instead of seconds). With project_id second in these indexes,
-- the primary key (project_id, session_id) is the only index that can serve a condition on
-- project_id alone, and every check is one primary-key probe.
--
-- Same names and the same columns, so lkarchive's per-day queries (WHERE project_id = $1 AND
-- list_day = $2: both columns are index conditions) and time-range queries per project keep
-- their index. A plain DROP/CREATE (not CONCURRENTLY: migrations run in a transaction) locks
-- writes to sessions while the two indexes are built.

DROP INDEX IF EXISTS livekit.sessions_list_day;
DROP INDEX IF EXISTS livekit.sessions_created_at;
CREATE INDEX sessions_list_day ON livekit.sessions (list_day, project_id);
CREATE INDEX sessions_created_at ON livekit.sessions (created_at, project_id);
