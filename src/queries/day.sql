-- day.sql -- a day's counts, its ledger entry and the run's counters (store_day.c).

-- name: day_counts_unchanged
-- The counts the ledger already has for the day (no row when the day is new). $1 project $2 day
SELECT sessions, participants, connections
FROM livekit.archive_days
WHERE project_id = $1 AND day = $2 AND status <> 'failed'

-- name: day_session_states
-- The day's sessions not ended, and those still settling (ended less than $3 seconds ago):
-- time moves on even when nothing was merged, so these are always counted. $1 project $2 day
SELECT count(*) FILTER (WHERE ended_at IS NULL) AS active_sessions,
       count(*) FILTER (WHERE ended_at > now() - make_interval(secs => $3::double precision))
           AS settling_sessions
FROM livekit.sessions
WHERE project_id = $1::text AND list_day = $2::date

-- name: day_counts
-- What the archive holds for the day (skipped details still count). $1 project $2 day. On one
-- server each session's participants and connections are counted by their primary key, so the
-- cost follows the day, not the archive (a join would hash every connection of the project
-- once the statistics show how many there are).
SELECT count(*) AS sessions,
       COALESCE(sum((SELECT count(*) FROM livekit.participants p
                      WHERE p.project_id = s.project_id AND p.session_id = s.session_id)), 0)
           AS participants,
       COALESCE(sum((SELECT count(*) FROM livekit.participant_connections c
                      WHERE c.project_id = s.project_id AND c.session_id = s.session_id)), 0)
           AS connections
FROM livekit.sessions s
WHERE s.project_id = $1::text AND s.list_day = $2::date

-- name: day_counts_citus
-- The same on Citus, which plans the join, not those subqueries.
SELECT (SELECT count(*) FROM livekit.sessions
        WHERE project_id = $1::text AND list_day = $2::date) AS sessions,
       (SELECT count(*) FROM livekit.participants p JOIN livekit.sessions s
          USING (project_id, session_id)
        WHERE s.project_id = $1::text AND s.list_day = $2::date) AS participants,
       (SELECT count(*) FROM livekit.participant_connections c JOIN livekit.sessions s
          USING (project_id, session_id)
        WHERE s.project_id = $1::text AND s.list_day = $2::date) AS connections

-- name: day_ledger
-- The day's archive_days entry. $1 project $2 day $3 status $4 run $5 sessions $6 active
-- $7 participants $8 connections $9 pages $10 error $11 pending reason. A day complete before
-- keeps its first completion time.
INSERT INTO livekit.archive_days AS d (project_id, day, status, completed_at, completed_run_id,
    last_run_id, sessions, active_sessions, participants, connections, pages, last_error,
    pending_reason)
VALUES ($1, $2::date, $3, CASE WHEN $3 = 'complete' THEN now() END,
        CASE WHEN $3 = 'complete' THEN $4::bigint END, $4::bigint, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (project_id, day) DO UPDATE SET
    status = excluded.status,
    completed_at = CASE WHEN excluded.status = 'complete'
                        THEN COALESCE(d.completed_at, now()) END,
    completed_run_id = CASE WHEN excluded.status = 'complete'
                            THEN COALESCE(d.completed_run_id, excluded.last_run_id) END,
    last_run_id = excluded.last_run_id, last_attempt_at = now(), attempts = d.attempts + 1,
    sessions = excluded.sessions, active_sessions = excluded.active_sessions,
    participants = excluded.participants, connections = excluded.connections,
    pages = excluded.pages, last_error = excluded.last_error,
    pending_reason = excluded.pending_reason

-- name: run_counters
-- Add the day to the run's counters. $1 run $2 complete (0/1) $3 pending (0/1) $4 sessions
-- $5 participants $6 connections $7 details fetched $8 details skipped
UPDATE livekit.archive_runs
SET days_complete = days_complete + $2, days_pending = days_pending + $3,
    sessions = sessions + $4, participants = participants + $5, connections = connections + $6,
    details_fetched = details_fetched + $7, details_skipped = details_skipped + $8
WHERE run_id = $1

-- name: day_failed
-- A day that failed. $1 project $2 day $3 run $4 error. A day complete before stays complete.
INSERT INTO livekit.archive_days AS d (project_id, day, status, last_run_id, last_error,
    pending_reason)
VALUES ($1, $2::date, 'failed', $3::bigint, $4, 'error')
ON CONFLICT (project_id, day) DO UPDATE SET
    status = CASE WHEN d.status = 'complete' THEN 'complete' ELSE 'failed' END,
    pending_reason = CASE WHEN d.status = 'complete' THEN NULL ELSE 'error' END,
    last_run_id = excluded.last_run_id, last_attempt_at = now(), attempts = d.attempts + 1,
    last_error = excluded.last_error

-- name: dry_run_compare
-- Dry run, after the merges inside the day's transaction: each session staged is new (its row
-- entered the archive in this transaction), changed (its row, or a participant or connection
-- of it, was written in this transaction: now() is the transaction's start), or unchanged.
-- $1 project
WITH staged AS (SELECT DISTINCT session_id FROM lk_stage WHERE kind IN ('L', 'D')),
judged AS (
    SELECT t.archived_at = now() AS is_new,
           (t.updated_at = now()
            OR EXISTS (SELECT 1 FROM livekit.participants p
                       WHERE p.project_id = $1 AND p.session_id = t.session_id
                         AND p.updated_at = now())
            OR EXISTS (SELECT 1 FROM livekit.participant_connections c
                       WHERE c.project_id = $1 AND c.session_id = t.session_id
                         AND c.updated_at = now())) AS written
    FROM staged s JOIN livekit.sessions t ON t.project_id = $1 AND t.session_id = s.session_id)
SELECT count(*) FILTER (WHERE is_new) AS new_sessions,
       count(*) FILTER (WHERE NOT is_new AND written) AS changed_sessions,
       count(*) FILTER (WHERE NOT is_new AND NOT written) AS unchanged_sessions
FROM judged
