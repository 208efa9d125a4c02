-- 020_bi_indexes.sql -- indexes for the questions analysts ask of the base tables.
--
-- A session's day (livekit_bi's shared definition) is the UTC date of
-- COALESCE(start_time, created_at); the expression below is written the same way everywhere
-- (views, rollup maintenance) so that the planner matches it with this index. Room names can be
-- very long (the API sets no limit, and a btree entry holds at most ~2.7 kB), so rooms get a
-- hash index, which stores only a hash of the value and serves `room_name = '...'`.
-- participant_connections (project_id, left_at) finds the connections still open on or after a
-- day (left_at > day, or left_at IS NULL): what the daily peak concurrency of recent days reads.

-- No secondary index of sessions may lead with project_id alone (see 009): the foreign-key
-- checks of participants and connections would scan a whole project per row through it.
CREATE INDEX sessions_day
    ON livekit.sessions (((COALESCE(start_time, created_at) AT TIME ZONE 'UTC')::date), project_id);
CREATE INDEX sessions_room_name ON livekit.sessions USING hash (room_name);
CREATE INDEX participants_identity
    ON livekit.participants (project_id, participant_identity, session_id);
CREATE INDEX participant_connections_left_at
    ON livekit.participant_connections (project_id, left_at);
