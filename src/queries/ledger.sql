-- ledger.sql -- runs, status and gaps (store_ledger.c). The gap rule is livekit.day_is_gap
-- (sql/functions/ledger.sql), given the API window's first day.

-- name: close_dead_runs
-- Runs left `running` by a process that died (kill -9, a lost machine): nobody holds their
-- lock (the two-key advisory lock $2, run_id), so they are closed as interrupted. CASE keeps
-- the order: unlock only what was got. $1 this run
UPDATE livekit.archive_runs
SET status = 'interrupted', finished_at = now(),
    message = COALESCE(message, 'the process ended without closing its run (killed, or its'
                                ' machine or database connection lost); closed by run ' || $1)
WHERE status = 'running' AND run_id <> $1::bigint
  AND CASE WHEN pg_try_advisory_lock($2::integer, run_id::integer)
           THEN pg_advisory_unlock($2::integer, run_id::integer)
           ELSE false END

-- name: status
-- Every day of the chosen projects from the window start (or their first ledger entry) to
-- today, with what the ledger says, and every gap before it. A project without a ledger entry
-- shows the window. $1 today $2 window start or NULL $3 comma-separated projects or NULL
-- $4 the API window's first day (the gap rule's)
WITH projects AS (
    SELECT DISTINCT p AS project_id FROM unnest(string_to_array($3, ',')) p
    UNION SELECT DISTINCT project_id FROM livekit.archive_days WHERE $3 IS NULL),
bounds AS (
    SELECT p.project_id, COALESCE((SELECT min(a.day) FROM livekit.archive_days a
                                   WHERE a.project_id = p.project_id), $2::date, $1::date)
               AS first_day
    FROM projects p),
days AS (
    SELECT b.project_id, d::date AS day
    FROM bounds b, generate_series(b.first_day, $1::date, interval '1 day') d),
rows AS (
    SELECT days.project_id, days.day, a.status, a.sessions, a.participants, a.connections,
           a.active_sessions, a.completed_at, a.last_error, a.gap_acknowledged_at,
           a.pending_reason, a.attempts, a.last_attempt_at,
           livekit.day_is_gap(days.day, a.status, a.pending_reason, $4::date) AS is_gap
    FROM days LEFT JOIN livekit.archive_days a
      ON a.project_id = days.project_id AND a.day = days.day)
SELECT rows.project_id, rows.day::text AS day, COALESCE(rows.status, 'missing') AS status,
       COALESCE(rows.sessions, 0) AS sessions, COALESCE(rows.participants, 0) AS participants,
       COALESCE(rows.connections, 0) AS connections,
       COALESCE(rows.active_sessions, 0) AS active_sessions,
       COALESCE(to_char(rows.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '')
           AS completed_at,
       -- a complete day shows the session it was completed without (store_day.c), nothing else
       CASE WHEN rows.status <> 'complete'
                 OR rows.last_error LIKE 'session %: PostgreSQL refused a value: %'
            THEN COALESCE(rows.last_error, '') ELSE '' END AS last_error,
       rows.is_gap, rows.gap_acknowledged_at IS NOT NULL AS acknowledged,
       COALESCE(rows.pending_reason, '') AS pending_reason, COALESCE(rows.attempts, 0) AS attempts,
       COALESCE(to_char(rows.last_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                '') AS last_attempt_at
FROM rows
WHERE $2::date IS NULL OR rows.day >= $2::date OR rows.is_gap
ORDER BY rows.project_id, rows.day

-- name: gaps
-- The days of project $1 before $2 (the API window's first day) since its first archived day
-- that are not complete, and whether each is a gap (not when it was left pending only because
-- sessions were still active: its last state is what the API would still say).
WITH bounds AS (
    SELECT min(day) AS first_day FROM livekit.archive_days WHERE project_id = $1),
days AS (
    SELECT d::date AS day
    FROM bounds, generate_series(bounds.first_day, $2::date - 1, interval '1 day') d)
SELECT days.day::text AS day, COALESCE(a.status, 'never archived') AS status,
       COALESCE(a.pending_reason, '') AS pending_reason, COALESCE(a.last_error, '') AS last_error,
       a.gap_acknowledged_at IS NOT NULL AS acknowledged,
       COALESCE(a.active_sessions, 0) AS active_sessions,
       livekit.day_is_gap(days.day, a.status, a.pending_reason, $2::date) AS is_gap
FROM days LEFT JOIN livekit.archive_days a ON a.project_id = $1 AND a.day = days.day
WHERE a.status IS DISTINCT FROM 'complete'
ORDER BY days.day
