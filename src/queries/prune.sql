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
