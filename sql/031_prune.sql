-- 031_prune.sql -- retention: `lkarchive prune --before DATE` deletes archived sessions whose
-- list_day (the UTC day the ledger archived them under) is before DATE, with their
-- participants and connections, in batches of sessions, each its own transaction. Each prune
-- of a project is one row here, its counts kept exact batch by batch (a prune stopped half-way
-- says how far it went). archive_days keeps its rows: the days stay `complete` (they were
-- archived; no gap appears) and pruned_before tells status why they hold fewer rows.
-- On Citus it stays on the coordinator with the rest of the ledger (030_citus.sql).
CREATE TABLE livekit.archive_prunes (
    prune_id      bigserial   PRIMARY KEY,
    project_id    text        NOT NULL,
    before_day    date        NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    sessions      bigint      NOT NULL DEFAULT 0,
    participants  bigint      NOT NULL DEFAULT 0,
    connections   bigint      NOT NULL DEFAULT 0,
    batches       integer     NOT NULL DEFAULT 0
);
COMMENT ON TABLE livekit.archive_prunes IS
    'One row per project and lkarchive prune: sessions (with their participants and connections) listed before before_day were deleted';
COMMENT ON COLUMN livekit.archive_prunes.prune_id IS 'Identifies the prune (one per project and lkarchive prune)';
COMMENT ON COLUMN livekit.archive_prunes.project_id IS 'The project pruned';
COMMENT ON COLUMN livekit.archive_prunes.before_day IS 'Sessions whose list_day is before this UTC day were deleted';
COMMENT ON COLUMN livekit.archive_prunes.started_at IS 'When the prune started';
COMMENT ON COLUMN livekit.archive_prunes.finished_at IS 'When the prune finished; NULL: it stopped part-way (the counts say how far it went)';
COMMENT ON COLUMN livekit.archive_prunes.sessions IS 'Sessions deleted so far';
COMMENT ON COLUMN livekit.archive_prunes.participants IS 'Participant rows deleted so far';
COMMENT ON COLUMN livekit.archive_prunes.connections IS 'Connection rows deleted so far';
COMMENT ON COLUMN livekit.archive_prunes.batches IS 'Batches committed (1,000 sessions each at most)';
