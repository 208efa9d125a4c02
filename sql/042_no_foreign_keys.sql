-- 042_no_foreign_keys.sql -- participants and connections name their session without a foreign key.
--
-- What the two foreign keys cost: PostgreSQL checks each inserted row with a query of its own
-- against sessions (an SPI call per row; PostgreSQL 15 has no set-based check and no NOT
-- ENFORCED constraint). Measured on one day of the benchmark (80,000 participants and 126,000
-- connections merged into an archive of six days, psql, one run): the participants insert took
-- 0.84 to 0.98 s with its foreign key and 0.52 s without; the connections merge 1.90 s and
-- 1.43 s. Over a first load of 7 x 20,000 sessions that is about 6 s of some 30 s of
-- PostgreSQL CPU, and every night pays it again for each new row.
--
-- What they gave: integrity lkarchive already guarantees by construction (a session's
-- participants and connections are written in the transaction that writes the session; prune
-- deletes them with it, children first), and relationships that some BI tools read from the
-- catalog. The BI surface is the livekit_bi schema, whose views carry no foreign keys in any
-- case; README's "Query the archive" gives the join keys for tools pointed at the tables, and
-- the columns' comments name them.

ALTER TABLE livekit.participants
    DROP CONSTRAINT IF EXISTS participants_project_id_session_id_fkey;
ALTER TABLE livekit.participant_connections
    DROP CONSTRAINT IF EXISTS participant_connections_project_id_session_id_fkey;

COMMENT ON COLUMN livekit.participants.session_id IS
    'Room session (RM_...): livekit.sessions (project_id, session_id) the participant joined. Not a foreign key (sql/042_no_foreign_keys.sql): lkarchive writes and prunes a session''s rows together.';
COMMENT ON COLUMN livekit.participant_connections.session_id IS
    'Room session (RM_...): livekit.sessions (project_id, session_id) of the connection. Not a foreign key (sql/042_no_foreign_keys.sql): lkarchive writes and prunes a session''s rows together.';
