-- prune.sql -- retention (store_prune.c). $1 project $2 before (date).

-- name: prune_count
-- How many sessions listed before $2, and their participants and connections.
SELECT (SELECT count(*) FROM livekit.sessions
        WHERE project_id = $1::text AND list_day < $2::date) AS sessions,
       (SELECT count(*) FROM livekit.participants p JOIN livekit.sessions s
          USING (project_id, session_id)
        WHERE s.project_id = $1::text AND s.list_day < $2::date) AS participants,
       (SELECT count(*) FROM livekit.participant_connections c JOIN livekit.sessions s
          USING (project_id, session_id)
        WHERE s.project_id = $1::text AND s.list_day < $2::date) AS connections

-- name: prune_batch
-- The next batch ($3 sessions at most): how many, and their ids as a text[] literal.
SELECT count(*) AS sessions, COALESCE(array_agg(session_id), '{}')::text AS ids
FROM (SELECT session_id FROM livekit.sessions
      WHERE project_id = $1::text AND list_day < $2::date
      LIMIT $3::integer) b

-- name: forget_project_days
-- forget-project: the project's days in the ledger. $1 project
SELECT count(*) AS days FROM livekit.archive_days WHERE project_id = $1::text

-- name: forget_project_rest
-- forget-project, after its sessions went in prune batches: the project's rows everywhere
-- else (and any session left), in one statement. Not livekit.forgotten_identities: an identity
-- forgotten stays forgotten should the project come back; not archive_runs (history).
-- $1 project
WITH days AS (DELETE FROM livekit.archive_days WHERE project_id = $1::text RETURNING 1),
c AS (DELETE FROM livekit.participant_connections WHERE project_id = $1::text RETURNING 1),
p AS (DELETE FROM livekit.participants WHERE project_id = $1::text RETURNING 1),
s AS (DELETE FROM livekit.sessions WHERE project_id = $1::text RETURNING 1),
r1 AS (DELETE FROM livekit.rollup_daily WHERE project_id = $1::text RETURNING 1),
r2 AS (DELETE FROM livekit.rollup_room_daily WHERE project_id = $1::text RETURNING 1),
r3 AS (DELETE FROM livekit.rollup_participant_daily WHERE project_id = $1::text RETURNING 1),
r4 AS (DELETE FROM livekit.rollup_peak_daily WHERE project_id = $1::text RETURNING 1),
r5 AS (DELETE FROM livekit.rollup_duration_daily WHERE project_id = $1::text RETURNING 1),
r6 AS (DELETE FROM livekit.rollup_dimension_daily WHERE project_id = $1::text RETURNING 1),
r7 AS (DELETE FROM livekit.rollup_billing_daily WHERE project_id = $1::text RETURNING 1),
rate AS (DELETE FROM livekit.api_rate_limits WHERE project_id = $1::text RETURNING 1),
prunes AS (DELETE FROM livekit.archive_prunes WHERE project_id = $1::text RETURNING 1)
SELECT (SELECT count(*) FROM days) AS days, (SELECT count(*) FROM s) AS sessions,
       (SELECT count(*) FROM p) AS participants, (SELECT count(*) FROM c) AS connections,
       (SELECT count(*) FROM r1) + (SELECT count(*) FROM r2) + (SELECT count(*) FROM r3)
       + (SELECT count(*) FROM r4) + (SELECT count(*) FROM r5) + (SELECT count(*) FROM r6)
       + (SELECT count(*) FROM r7)
       + (SELECT count(*) FROM rate) + (SELECT count(*) FROM prunes) AS other_rows
