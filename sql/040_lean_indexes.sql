-- 040_lean_indexes.sql -- the connections' secondary indexes cost what they give back.
--
-- Measured on a day of 126,000 connections merged into an archive of 750,000 (one run, psql,
-- tests/bench/RESULTS.md has the whole benchmark): the merge took 1.90 s; without
-- participant_connections_participant 1.60 s; without the btree participant_connections_left_at
-- 1.57 s.
--
-- participant_connections_participant (project_id, session_id, participant_identity) repeated
-- the primary key's (project_id, session_id) prefix: a session's connections, the only way
-- lkarchive, the rollup and the livekit_bi views reach them by participant, are found by the
-- primary key, and a session has a handful. Dropped.
--
-- participant_connections_left_at serves one query: the rollup's peak concurrency, which reads
-- the connections still open on or after the first refreshed day (left_at > day, or NULL).
-- Connections arrive day by day, so the table is laid out roughly in time order and a BRIN
-- index (a min/max per 128 pages, a few kB for millions of rows, nearly free to maintain) finds
-- the recent ones as well: a two-day refresh on the 7-day benchmark archive read 1,720 heap
-- pages through it, 29 ms. Rows written later for an old day only widen their range.
-- Same name, so scripts that drop it to compare with the base tables still do.

DROP INDEX IF EXISTS livekit.participant_connections_participant;
DROP INDEX IF EXISTS livekit.participant_connections_left_at;
CREATE INDEX participant_connections_left_at ON livekit.participant_connections
    USING brin (left_at) WITH (autosummarize = on);
