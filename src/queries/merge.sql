-- merge.sql -- the day's merges of the stage into the archive (store_merge.c).
--
-- Each statement takes the newest staged row per key (DISTINCT ON ... ORDER BY seq DESC) of the
-- attempts not discarded, sorting by bytes (COLLATE "C": a stage sort needs some order, not the
-- database's collation). Parameters: the sessions merges $1 project, $2 day, $3 discarded
-- attempts (integer[]), $4 the sessions to merge (text[]; NULL: all of them), $5 the day
-- transaction's now() (updated_at); the participants' and connections' merges $1 project,
-- $2 discarded attempts, $3 the sessions, $4 the time. Every parameter carries its type and
-- updated_at is read once by the client: Citus cannot infer an uncast parameter on a worker
-- and allows only IMMUTABLE functions in a distributed DO UPDATE SET; on one server both are
-- what now() and the inferred types were.
--
-- One write per session and day: the newest staged list entry (l) and details (d) of each
-- session, joined, and what the archive holds (a), give the row as it must be; it is inserted,
-- or rewritten only when something differs, so re-runs leave rows untouched. Each source owns
-- its columns: a session without staged details keeps its archived details (and
-- details_archived), one without a staged list entry keeps its list columns. The list's room
-- name wins, then the archive's, then the details'. A session listed under two days stays with
-- the first, so re-runs do not move it back and forth. Three forms, by how the archived row is
-- read (tests/bench/MERGE.md has the plans).

-- name: merge_sessions_probe
-- One server: each staged session's archived row probed by primary key (OFFSET 0 keeps the
-- subquery from becoming a join, which the planner made a hash of every archived session of
-- the project: a cost that grew with the archive).
INSERT INTO livekit.sessions AS t (project_id, session_id, room_name, created_at, ended_at,
    last_active, bandwidth_in, bandwidth_out, egress, num_participants, num_active_participants,
    list_day, list_extra, list_hash, start_time, end_time, bandwidth, connection_minutes,
    details_num_participants, details_extra, details_archived, updated_at)
SELECT $1::text, COALESCE(l.session_id, d.session_id),
    COALESCE(l.room_name, a.room_name, d.room_name),
    CASE WHEN l.session_id IS NULL THEN a.created_at ELSE l.created_at END,
    CASE WHEN l.session_id IS NULL THEN a.ended_at ELSE l.ended_at END,
    CASE WHEN l.session_id IS NULL THEN a.last_active ELSE l.last_active END,
    CASE WHEN l.session_id IS NULL THEN a.bandwidth_in ELSE l.bandwidth_in END,
    CASE WHEN l.session_id IS NULL THEN a.bandwidth_out ELSE l.bandwidth_out END,
    CASE WHEN l.session_id IS NULL THEN a.egress ELSE l.egress END,
    CASE WHEN l.session_id IS NULL THEN a.num_participants ELSE l.num_participants END,
    CASE WHEN l.session_id IS NULL THEN a.num_active_participants ELSE l.num_active_participants END,
    CASE WHEN l.session_id IS NULL THEN COALESCE(a.list_day, $2::date)
         ELSE LEAST(a.list_day, $2::date) END,
    CASE WHEN l.session_id IS NULL THEN COALESCE(a.list_extra, '{}') ELSE l.extra END,
    CASE WHEN l.session_id IS NULL THEN a.list_hash ELSE l.list_hash END,
    CASE WHEN d.session_id IS NULL THEN a.start_time ELSE d.start_time END,
    CASE WHEN d.session_id IS NULL THEN a.end_time ELSE d.end_time END,
    CASE WHEN d.session_id IS NULL THEN a.bandwidth ELSE d.bandwidth END,
    CASE WHEN d.session_id IS NULL THEN a.connection_minutes ELSE d.connection_minutes END,
    CASE WHEN d.session_id IS NULL THEN a.details_num_participants
         ELSE d.details_num_participants END,
    CASE WHEN d.session_id IS NULL THEN COALESCE(a.details_extra, '{}') ELSE d.details_extra END,
    d.session_id IS NOT NULL OR COALESCE(a.details_archived, false), $5::timestamptz
FROM (SELECT DISTINCT ON (s.session_id COLLATE "C") s.session_id, s.room_name, s.created_at,
          s.ended_at, s.last_active, s.bandwidth_in, s.bandwidth_out, s.egress,
          s.num_participants, s.num_active_participants, s.extra, s.list_hash
      FROM lk_stage s
      WHERE s.kind = 'L' AND s.attempt <> ALL ($3::integer[])
        AND ($4::text[] IS NULL OR s.session_id = ANY ($4::text[]))
      ORDER BY s.session_id COLLATE "C", s.seq DESC) l
FULL JOIN (SELECT DISTINCT ON (s.session_id COLLATE "C") s.session_id, s.room_name,
               s.start_time, s.end_time, s.bandwidth,
               s.connection_minutes::numeric AS connection_minutes, s.details_num_participants,
               s.extra AS details_extra
           FROM lk_stage s
           WHERE s.kind = 'D' AND s.attempt <> ALL ($3::integer[])
             AND ($4::text[] IS NULL OR s.session_id = ANY ($4::text[]))
           ORDER BY s.session_id COLLATE "C", s.seq DESC) d
  ON d.session_id = l.session_id
LEFT JOIN LATERAL (SELECT * FROM livekit.sessions x
                   WHERE x.project_id = $1::text
                     AND x.session_id = COALESCE(l.session_id, d.session_id)
                   OFFSET 0) a ON true
ON CONFLICT (project_id, session_id) DO UPDATE SET
    room_name = excluded.room_name, created_at = excluded.created_at,
    ended_at = excluded.ended_at, last_active = excluded.last_active,
    bandwidth_in = excluded.bandwidth_in, bandwidth_out = excluded.bandwidth_out,
    egress = excluded.egress, num_participants = excluded.num_participants,
    num_active_participants = excluded.num_active_participants, list_day = excluded.list_day,
    list_extra = excluded.list_extra, list_hash = excluded.list_hash,
    start_time = excluded.start_time, end_time = excluded.end_time,
    bandwidth = excluded.bandwidth, connection_minutes = excluded.connection_minutes,
    details_num_participants = excluded.details_num_participants,
    details_extra = excluded.details_extra, details_archived = excluded.details_archived,
    updated_at = excluded.updated_at
WHERE (excluded.room_name, excluded.created_at, excluded.ended_at, excluded.last_active,
       excluded.bandwidth_in, excluded.bandwidth_out, excluded.egress, excluded.num_participants,
       excluded.num_active_participants, excluded.list_day, excluded.list_extra,
       excluded.list_hash, excluded.start_time, excluded.end_time, excluded.bandwidth,
       excluded.connection_minutes, excluded.details_num_participants, excluded.details_extra,
       excluded.details_archived)
      IS DISTINCT FROM (t.room_name, t.created_at, t.ended_at, t.last_active, t.bandwidth_in,
       t.bandwidth_out, t.egress, t.num_participants, t.num_active_participants, t.list_day,
       t.list_extra, t.list_hash, t.start_time, t.end_time, t.bandwidth, t.connection_minutes,
       t.details_num_participants, t.details_extra, t.details_archived)

-- name: merge_sessions_join
-- Citus, which plans no correlated subquery: the archived rows joined.
INSERT INTO livekit.sessions AS t (project_id, session_id, room_name, created_at, ended_at,
    last_active, bandwidth_in, bandwidth_out, egress, num_participants, num_active_participants,
    list_day, list_extra, list_hash, start_time, end_time, bandwidth, connection_minutes,
    details_num_participants, details_extra, details_archived, updated_at)
SELECT $1::text, COALESCE(l.session_id, d.session_id),
    COALESCE(l.room_name, a.room_name, d.room_name),
    CASE WHEN l.session_id IS NULL THEN a.created_at ELSE l.created_at END,
    CASE WHEN l.session_id IS NULL THEN a.ended_at ELSE l.ended_at END,
    CASE WHEN l.session_id IS NULL THEN a.last_active ELSE l.last_active END,
    CASE WHEN l.session_id IS NULL THEN a.bandwidth_in ELSE l.bandwidth_in END,
    CASE WHEN l.session_id IS NULL THEN a.bandwidth_out ELSE l.bandwidth_out END,
    CASE WHEN l.session_id IS NULL THEN a.egress ELSE l.egress END,
    CASE WHEN l.session_id IS NULL THEN a.num_participants ELSE l.num_participants END,
    CASE WHEN l.session_id IS NULL THEN a.num_active_participants ELSE l.num_active_participants END,
    CASE WHEN l.session_id IS NULL THEN COALESCE(a.list_day, $2::date)
         ELSE LEAST(a.list_day, $2::date) END,
    CASE WHEN l.session_id IS NULL THEN COALESCE(a.list_extra, '{}') ELSE l.extra END,
    CASE WHEN l.session_id IS NULL THEN a.list_hash ELSE l.list_hash END,
    CASE WHEN d.session_id IS NULL THEN a.start_time ELSE d.start_time END,
    CASE WHEN d.session_id IS NULL THEN a.end_time ELSE d.end_time END,
    CASE WHEN d.session_id IS NULL THEN a.bandwidth ELSE d.bandwidth END,
    CASE WHEN d.session_id IS NULL THEN a.connection_minutes ELSE d.connection_minutes END,
    CASE WHEN d.session_id IS NULL THEN a.details_num_participants
         ELSE d.details_num_participants END,
    CASE WHEN d.session_id IS NULL THEN COALESCE(a.details_extra, '{}') ELSE d.details_extra END,
    d.session_id IS NOT NULL OR COALESCE(a.details_archived, false), $5::timestamptz
FROM (SELECT DISTINCT ON (s.session_id COLLATE "C") s.session_id, s.room_name, s.created_at,
          s.ended_at, s.last_active, s.bandwidth_in, s.bandwidth_out, s.egress,
          s.num_participants, s.num_active_participants, s.extra, s.list_hash
      FROM lk_stage s
      WHERE s.kind = 'L' AND s.attempt <> ALL ($3::integer[])
        AND ($4::text[] IS NULL OR s.session_id = ANY ($4::text[]))
      ORDER BY s.session_id COLLATE "C", s.seq DESC) l
FULL JOIN (SELECT DISTINCT ON (s.session_id COLLATE "C") s.session_id, s.room_name,
               s.start_time, s.end_time, s.bandwidth,
               s.connection_minutes::numeric AS connection_minutes, s.details_num_participants,
               s.extra AS details_extra
           FROM lk_stage s
           WHERE s.kind = 'D' AND s.attempt <> ALL ($3::integer[])
             AND ($4::text[] IS NULL OR s.session_id = ANY ($4::text[]))
           ORDER BY s.session_id COLLATE "C", s.seq DESC) d
  ON d.session_id = l.session_id
LEFT JOIN livekit.sessions a
  ON a.project_id = $1::text AND a.session_id = COALESCE(l.session_id, d.session_id)
ON CONFLICT (project_id, session_id) DO UPDATE SET
    room_name = excluded.room_name, created_at = excluded.created_at,
    ended_at = excluded.ended_at, last_active = excluded.last_active,
    bandwidth_in = excluded.bandwidth_in, bandwidth_out = excluded.bandwidth_out,
    egress = excluded.egress, num_participants = excluded.num_participants,
    num_active_participants = excluded.num_active_participants, list_day = excluded.list_day,
    list_extra = excluded.list_extra, list_hash = excluded.list_hash,
    start_time = excluded.start_time, end_time = excluded.end_time,
    bandwidth = excluded.bandwidth, connection_minutes = excluded.connection_minutes,
    details_num_participants = excluded.details_num_participants,
    details_extra = excluded.details_extra, details_archived = excluded.details_archived,
    updated_at = excluded.updated_at
WHERE (excluded.room_name, excluded.created_at, excluded.ended_at, excluded.last_active,
       excluded.bandwidth_in, excluded.bandwidth_out, excluded.egress, excluded.num_participants,
       excluded.num_active_participants, excluded.list_day, excluded.list_extra,
       excluded.list_hash, excluded.start_time, excluded.end_time, excluded.bandwidth,
       excluded.connection_minutes, excluded.details_num_participants, excluded.details_extra,
       excluded.details_archived)
      IS DISTINCT FROM (t.room_name, t.created_at, t.ended_at, t.last_active, t.bandwidth_in,
       t.bandwidth_out, t.egress, t.num_participants, t.num_active_participants, t.list_day,
       t.list_extra, t.list_hash, t.start_time, t.end_time, t.bandwidth, t.connection_minutes,
       t.details_num_participants, t.details_extra, t.details_archived)

-- name: merge_sessions_new
-- Every staged session new (a first load's days: store_merge.c's collect_new_sessions): no
-- archived row to read, nothing to conflict with, so a plain INSERT (a's columns all NULL; the
-- planner never reads the table), without the primary-key probe and the speculative insertion
-- of ON CONFLICT. It returns the rows it wrote and the rollup days that depend on them: each
-- session's day (the UTC date of COALESCE(start_time, created_at)), read from the rows as they
-- are inserted, where rollup_days_of_sessions would look every session up again afterwards.
WITH ins AS (
INSERT INTO livekit.sessions AS t (project_id, session_id, room_name, created_at, ended_at,
    last_active, bandwidth_in, bandwidth_out, egress, num_participants, num_active_participants,
    list_day, list_extra, list_hash, start_time, end_time, bandwidth, connection_minutes,
    details_num_participants, details_extra, details_archived, updated_at)
SELECT $1::text, COALESCE(l.session_id, d.session_id),
    COALESCE(l.room_name, a.room_name, d.room_name),
    CASE WHEN l.session_id IS NULL THEN a.created_at ELSE l.created_at END,
    CASE WHEN l.session_id IS NULL THEN a.ended_at ELSE l.ended_at END,
    CASE WHEN l.session_id IS NULL THEN a.last_active ELSE l.last_active END,
    CASE WHEN l.session_id IS NULL THEN a.bandwidth_in ELSE l.bandwidth_in END,
    CASE WHEN l.session_id IS NULL THEN a.bandwidth_out ELSE l.bandwidth_out END,
    CASE WHEN l.session_id IS NULL THEN a.egress ELSE l.egress END,
    CASE WHEN l.session_id IS NULL THEN a.num_participants ELSE l.num_participants END,
    CASE WHEN l.session_id IS NULL THEN a.num_active_participants ELSE l.num_active_participants END,
    CASE WHEN l.session_id IS NULL THEN COALESCE(a.list_day, $2::date)
         ELSE LEAST(a.list_day, $2::date) END,
    CASE WHEN l.session_id IS NULL THEN COALESCE(a.list_extra, '{}') ELSE l.extra END,
    CASE WHEN l.session_id IS NULL THEN a.list_hash ELSE l.list_hash END,
    CASE WHEN d.session_id IS NULL THEN a.start_time ELSE d.start_time END,
    CASE WHEN d.session_id IS NULL THEN a.end_time ELSE d.end_time END,
    CASE WHEN d.session_id IS NULL THEN a.bandwidth ELSE d.bandwidth END,
    CASE WHEN d.session_id IS NULL THEN a.connection_minutes ELSE d.connection_minutes END,
    CASE WHEN d.session_id IS NULL THEN a.details_num_participants
         ELSE d.details_num_participants END,
    CASE WHEN d.session_id IS NULL THEN COALESCE(a.details_extra, '{}') ELSE d.details_extra END,
    d.session_id IS NOT NULL OR COALESCE(a.details_archived, false), $5::timestamptz
FROM (SELECT DISTINCT ON (s.session_id COLLATE "C") s.session_id, s.room_name, s.created_at,
          s.ended_at, s.last_active, s.bandwidth_in, s.bandwidth_out, s.egress,
          s.num_participants, s.num_active_participants, s.extra, s.list_hash
      FROM lk_stage s
      WHERE s.kind = 'L' AND s.attempt <> ALL ($3::integer[])
        AND ($4::text[] IS NULL OR s.session_id = ANY ($4::text[]))
      ORDER BY s.session_id COLLATE "C", s.seq DESC) l
FULL JOIN (SELECT DISTINCT ON (s.session_id COLLATE "C") s.session_id, s.room_name,
               s.start_time, s.end_time, s.bandwidth,
               s.connection_minutes::numeric AS connection_minutes, s.details_num_participants,
               s.extra AS details_extra
           FROM lk_stage s
           WHERE s.kind = 'D' AND s.attempt <> ALL ($3::integer[])
             AND ($4::text[] IS NULL OR s.session_id = ANY ($4::text[]))
           ORDER BY s.session_id COLLATE "C", s.seq DESC) d
  ON d.session_id = l.session_id
LEFT JOIN livekit.sessions a ON false
RETURNING (COALESCE(start_time, created_at) AT TIME ZONE 'UTC')::date AS day)
SELECT count(*) AS merged,
       COALESCE(array_agg(DISTINCT day) FILTER (WHERE day IS NOT NULL), '{}')::text AS days
FROM ins

-- name: collect_new_sessions
-- The staged sessions the archive does not hold yet ($1 project, $2 discarded attempts, $3 day),
-- put into lk_new before any merge: their participants and connections are not in the archive
-- either (written with their session, pruned with it), so they are plain INSERTs, and had no
-- rollup day before. Read in the day's transaction, so a session another day archived
-- meanwhile is not taken for new. Each staged session is probed by primary key (OFFSET 0: not
-- a join, which without statistics was a nested loop over every archived session of the
-- project, quadratic in a first load). Returns whether every staged session is new (the list
-- rows answer for the stage: details are fetched for listed sessions only, under the requested
-- id): then nothing of the day can conflict; and whether the archive holds no session of the
-- day yet: then, with every staged session new, the day's rows are the rows the merges insert.
WITH new AS (
    INSERT INTO lk_new (session_id)
    SELECT l.session_id
    FROM (SELECT DISTINCT s.session_id FROM lk_stage s
          WHERE s.kind = 'L' AND s.attempt <> ALL ($2::integer[])) l
    LEFT JOIN LATERAL (SELECT x.session_id FROM livekit.sessions x
                       WHERE x.project_id = $1::text AND x.session_id = l.session_id
                       OFFSET 0) a ON true
    WHERE a.session_id IS NULL
    ON CONFLICT DO NOTHING
    RETURNING session_id)
SELECT NOT EXISTS (SELECT 1 FROM lk_stage s
                   WHERE s.kind = 'L' AND s.attempt <> ALL ($2::integer[])
                     AND s.session_id NOT IN (SELECT session_id FROM new)) AS all_new,
       NOT EXISTS (SELECT 1 FROM livekit.sessions
                   WHERE project_id = $1::text AND list_day = $3::date) AS day_was_empty

-- The participants' and connections' merges: of sessions new to the archive (_new; _all_new
-- when every staged session is new: every staged row, no semi-join with lk_new; _all_new_unique
-- when, besides, no key was staged twice (store_stage.c's keyset): the stage as it is, without
-- the newest-row sort), then of the others (_archived: ON CONFLICT rewrites a row only when
-- something differs).

-- name: insert_participants_new
INSERT INTO livekit.participants AS t (project_id, session_id, participant_identity,
    participant_name, joined_at, left_at, region, connection_type, sdk_version,
    published_camera_track, published_microphone_track, published_screen_share_track,
    published_screen_share_audio, extra, updated_at)
SELECT DISTINCT ON (s.session_id COLLATE "C", s.participant_identity COLLATE "C")
    $1::text, s.session_id, s.participant_identity, s.participant_name, s.joined_at, s.left_at,
    s.region, s.connection_type, s.sdk_version, s.camera, s.microphone, s.screen_share,
    s.screen_share_audio, s.extra, $4::timestamptz
FROM lk_stage s
WHERE s.kind = 'P' AND s.attempt <> ALL ($2::integer[])
  AND ($3::text[] IS NULL OR s.session_id = ANY ($3::text[]))
  AND s.session_id IN (SELECT session_id FROM lk_new)
ORDER BY s.session_id COLLATE "C", s.participant_identity COLLATE "C", s.seq DESC

-- name: insert_participants_all_new
INSERT INTO livekit.participants AS t (project_id, session_id, participant_identity,
    participant_name, joined_at, left_at, region, connection_type, sdk_version,
    published_camera_track, published_microphone_track, published_screen_share_track,
    published_screen_share_audio, extra, updated_at)
SELECT DISTINCT ON (s.session_id COLLATE "C", s.participant_identity COLLATE "C")
    $1::text, s.session_id, s.participant_identity, s.participant_name, s.joined_at, s.left_at,
    s.region, s.connection_type, s.sdk_version, s.camera, s.microphone, s.screen_share,
    s.screen_share_audio, s.extra, $4::timestamptz
FROM lk_stage s
WHERE s.kind = 'P' AND s.attempt <> ALL ($2::integer[])
  AND ($3::text[] IS NULL OR s.session_id = ANY ($3::text[]))
ORDER BY s.session_id COLLATE "C", s.participant_identity COLLATE "C", s.seq DESC

-- name: insert_participants_all_new_unique
INSERT INTO livekit.participants AS t (project_id, session_id, participant_identity,
    participant_name, joined_at, left_at, region, connection_type, sdk_version,
    published_camera_track, published_microphone_track, published_screen_share_track,
    published_screen_share_audio, extra, updated_at)
SELECT
    $1::text, s.session_id, s.participant_identity, s.participant_name, s.joined_at, s.left_at,
    s.region, s.connection_type, s.sdk_version, s.camera, s.microphone, s.screen_share,
    s.screen_share_audio, s.extra, $4::timestamptz
FROM lk_stage s
WHERE s.kind = 'P' AND s.attempt <> ALL ($2::integer[])
  AND ($3::text[] IS NULL OR s.session_id = ANY ($3::text[]))

-- name: merge_participants_archived
INSERT INTO livekit.participants AS t (project_id, session_id, participant_identity,
    participant_name, joined_at, left_at, region, connection_type, sdk_version,
    published_camera_track, published_microphone_track, published_screen_share_track,
    published_screen_share_audio, extra, updated_at)
SELECT DISTINCT ON (s.session_id COLLATE "C", s.participant_identity COLLATE "C")
    $1::text, s.session_id, s.participant_identity, s.participant_name, s.joined_at, s.left_at,
    s.region, s.connection_type, s.sdk_version, s.camera, s.microphone, s.screen_share,
    s.screen_share_audio, s.extra, $4::timestamptz
FROM lk_stage s
WHERE s.kind = 'P' AND s.attempt <> ALL ($2::integer[])
  AND ($3::text[] IS NULL OR s.session_id = ANY ($3::text[]))
  AND s.session_id NOT IN (SELECT session_id FROM lk_new)
ORDER BY s.session_id COLLATE "C", s.participant_identity COLLATE "C", s.seq DESC
ON CONFLICT (project_id, session_id, participant_identity) DO UPDATE SET
    participant_name = excluded.participant_name, joined_at = excluded.joined_at,
    left_at = excluded.left_at, region = excluded.region,
    connection_type = excluded.connection_type, sdk_version = excluded.sdk_version,
    published_camera_track = excluded.published_camera_track,
    published_microphone_track = excluded.published_microphone_track,
    published_screen_share_track = excluded.published_screen_share_track,
    published_screen_share_audio = excluded.published_screen_share_audio,
    extra = excluded.extra, updated_at = excluded.updated_at
WHERE (excluded.participant_name, excluded.joined_at, excluded.left_at, excluded.region,
       excluded.connection_type, excluded.sdk_version, excluded.published_camera_track,
       excluded.published_microphone_track, excluded.published_screen_share_track,
       excluded.published_screen_share_audio, excluded.extra)
      IS DISTINCT FROM (t.participant_name, t.joined_at, t.left_at, t.region,
       t.connection_type, t.sdk_version, t.published_camera_track,
       t.published_microphone_track, t.published_screen_share_track,
       t.published_screen_share_audio, t.extra)

-- name: insert_connections_new
INSERT INTO livekit.participant_connections AS t (project_id, session_id, connection_id,
    participant_identity, joined_at, left_at, extra, updated_at)
SELECT DISTINCT ON (s.session_id COLLATE "C", s.connection_id COLLATE "C")
    $1::text, s.session_id, s.connection_id, s.participant_identity, s.joined_at, s.left_at,
    s.extra, $4::timestamptz
FROM lk_stage s
WHERE s.kind = 'C' AND s.attempt <> ALL ($2::integer[])
  AND ($3::text[] IS NULL OR s.session_id = ANY ($3::text[]))
  AND s.session_id IN (SELECT session_id FROM lk_new)
ORDER BY s.session_id COLLATE "C", s.connection_id COLLATE "C", s.seq DESC

-- name: insert_connections_all_new
-- Every staged session new: the connections inserted, with the rollup days they reach: each
-- UTC day its interval [joined_at, end) overlaps (end: left_at, or while that is NULL its
-- session's COALESCE(end_time, ended_at, last_active), read from the session merged just
-- before), as rollup_days_of_sessions finds them, from the rows as they are inserted.
WITH ins AS (
INSERT INTO livekit.participant_connections AS t (project_id, session_id, connection_id,
    participant_identity, joined_at, left_at, extra, updated_at)
SELECT DISTINCT ON (s.session_id COLLATE "C", s.connection_id COLLATE "C")
    $1::text, s.session_id, s.connection_id, s.participant_identity, s.joined_at, s.left_at,
    s.extra, $4::timestamptz
FROM lk_stage s
WHERE s.kind = 'C' AND s.attempt <> ALL ($2::integer[])
  AND ($3::text[] IS NULL OR s.session_id = ANY ($3::text[]))
ORDER BY s.session_id COLLATE "C", s.connection_id COLLATE "C", s.seq DESC
RETURNING session_id, joined_at, left_at),
spans AS (
    SELECT DISTINCT (joined_at AT TIME ZONE 'UTC')::date AS first_day,
           ((ends - interval '1 microsecond') AT TIME ZONE 'UTC')::date AS last_day
    FROM (SELECT joined_at,
                 COALESCE(left_at, (SELECT COALESCE(x.end_time, x.ended_at, x.last_active)
                                    FROM livekit.sessions x
                                    WHERE x.project_id = $1::text
                                      AND x.session_id = ins.session_id)) AS ends
          FROM ins) c
    WHERE ends > joined_at)
SELECT (SELECT count(*) FROM ins) AS merged,
       COALESCE((SELECT array_agg(DISTINCT first_day + i)
                 FROM spans CROSS JOIN LATERAL generate_series(0, last_day - first_day) AS i),
                '{}')::text AS days

-- name: insert_connections_all_new_unique
WITH ins AS (
INSERT INTO livekit.participant_connections AS t (project_id, session_id, connection_id,
    participant_identity, joined_at, left_at, extra, updated_at)
SELECT
    $1::text, s.session_id, s.connection_id, s.participant_identity, s.joined_at, s.left_at,
    s.extra, $4::timestamptz
FROM lk_stage s
WHERE s.kind = 'C' AND s.attempt <> ALL ($2::integer[])
  AND ($3::text[] IS NULL OR s.session_id = ANY ($3::text[]))
RETURNING session_id, joined_at, left_at),
spans AS (
    SELECT DISTINCT (joined_at AT TIME ZONE 'UTC')::date AS first_day,
           ((ends - interval '1 microsecond') AT TIME ZONE 'UTC')::date AS last_day
    FROM (SELECT joined_at,
                 COALESCE(left_at, (SELECT COALESCE(x.end_time, x.ended_at, x.last_active)
                                    FROM livekit.sessions x
                                    WHERE x.project_id = $1::text
                                      AND x.session_id = ins.session_id)) AS ends
          FROM ins) c
    WHERE ends > joined_at)
SELECT (SELECT count(*) FROM ins) AS merged,
       COALESCE((SELECT array_agg(DISTINCT first_day + i)
                 FROM spans CROSS JOIN LATERAL generate_series(0, last_day - first_day) AS i),
                '{}')::text AS days

-- name: merge_connections_archived
INSERT INTO livekit.participant_connections AS t (project_id, session_id, connection_id,
    participant_identity, joined_at, left_at, extra, updated_at)
SELECT DISTINCT ON (s.session_id COLLATE "C", s.connection_id COLLATE "C")
    $1::text, s.session_id, s.connection_id, s.participant_identity, s.joined_at, s.left_at,
    s.extra, $4::timestamptz
FROM lk_stage s
WHERE s.kind = 'C' AND s.attempt <> ALL ($2::integer[])
  AND ($3::text[] IS NULL OR s.session_id = ANY ($3::text[]))
  AND s.session_id NOT IN (SELECT session_id FROM lk_new)
ORDER BY s.session_id COLLATE "C", s.connection_id COLLATE "C", s.seq DESC
ON CONFLICT (project_id, session_id, connection_id) DO UPDATE SET
    participant_identity = excluded.participant_identity, joined_at = excluded.joined_at,
    left_at = excluded.left_at, extra = excluded.extra, updated_at = excluded.updated_at
WHERE (excluded.participant_identity, excluded.joined_at, excluded.left_at, excluded.extra)
      IS DISTINCT FROM (t.participant_identity, t.joined_at, t.left_at, t.extra)
