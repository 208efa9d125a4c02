-- forget.sql -- privacy: forgetting one identity (store_forget.c). $1 project, $2 the
-- identity, $3 its pseudonym; in the scrubs $2 is the identity and the names it had (text[])
-- and $3 their pseudonyms, in the same order.

-- name: forget_record
-- $2: the pseudonyms of the identity and its names (text[]). Recorded first, committed on
-- their own: a run in progress reads the set at each day's start, so from its next day on it
-- stores the identity pseudonymized; and again in forget's transaction.
INSERT INTO livekit.forgotten_identities (project_id, identity_hmac)
SELECT $1::text, h FROM unnest($2::text[]) AS u(h) ON CONFLICT DO NOTHING

-- name: forget_names
-- The names the identity had: they are scrubbed from other rows' extra with it.
SELECT DISTINCT participant_name AS name FROM livekit.participants
WHERE project_id = $1::text AND participant_identity = $2::text AND participant_name <> ''
  AND participant_name !~ '^[0-9a-f]{64}$' -- a pseudonym already (pseudonymize_identities)

-- name: forget_duplicates
-- A participant stored in clear in a session that also holds its pseudonym (a run raced an
-- older forget): the pseudonym's row is the one kept, so the rename below has no duplicate key
-- and the rollup counts the person once.
DELETE FROM livekit.participants p
WHERE p.project_id = $1::text AND p.participant_identity = $2::text
  AND EXISTS (SELECT 1 FROM livekit.participants q
              WHERE q.project_id = $1::text AND q.session_id = p.session_id
                AND q.participant_identity = $3::text)

-- name: forget_connections
UPDATE livekit.participant_connections SET participant_identity = $3::text, extra = '{}',
       updated_at = now()
WHERE project_id = $1::text AND participant_identity IN ($2::text, $3::text)
  AND (participant_identity, extra) IS DISTINCT FROM ($3::text, '{}'::jsonb)

-- name: forget_participants
-- A row already pseudonymized at ingestion carries the pseudonym: its name and extra go too.
UPDATE livekit.participants SET participant_identity = $3::text, participant_name = NULL,
       extra = '{}', updated_at = now()
WHERE project_id = $1::text AND participant_identity IN ($2::text, $3::text)
  AND (participant_identity, participant_name, extra)
      IS DISTINCT FROM ($3::text, NULL::text, '{}'::jsonb)

-- name: forget_scrub_participants
-- Any participant's extra naming the identity or a name it had (attributes, metadata): run
-- before the renames, which clear the forgotten rows' own extra.
UPDATE livekit.participants SET extra = livekit.jsonb_scrub(extra, $2::text[], $3::text[]),
       updated_at = now()
WHERE project_id = $1::text AND livekit.jsonb_mentions(extra, $2::text[])
  AND livekit.jsonb_scrub(extra, $2::text[], $3::text[]) IS DISTINCT FROM extra

-- name: forget_scrub_connections
UPDATE livekit.participant_connections
SET extra = livekit.jsonb_scrub(extra, $2::text[], $3::text[]), updated_at = now()
WHERE project_id = $1::text AND livekit.jsonb_mentions(extra, $2::text[])
  AND livekit.jsonb_scrub(extra, $2::text[], $3::text[]) IS DISTINCT FROM extra

-- name: forget_scrub_sessions
-- Sessions' extra (roomMetadata and unknown fields); the room name is the application's.
UPDATE livekit.sessions
SET list_extra = livekit.jsonb_scrub(list_extra, $2::text[], $3::text[]),
    details_extra = livekit.jsonb_scrub(details_extra, $2::text[], $3::text[]), updated_at = now()
WHERE project_id = $1::text AND livekit.jsonb_mentions(extra, $2::text[])
  AND livekit.jsonb_scrub(extra, $2::text[], $3::text[]) IS DISTINCT FROM extra

-- name: forget_rollup
-- The daily rollup of the days the identity has rows in, recomputed from the rewritten rows.
SELECT livekit.rollup_refresh($1::text, ARRAY(SELECT DISTINCT day
       FROM livekit.rollup_participant_daily WHERE project_id = $1::text
       AND participant_identity IN ($2::text, $3::text)))
