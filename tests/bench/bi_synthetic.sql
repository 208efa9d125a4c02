-- bi_synthetic.sql -- a synthetic archive, generated in SQL, for ci/bench_bi.sh.
--
-- psql variables: project, first_day (YYYY-MM-DD), days, sessions (per day). Per session: a room
-- of 500, created at any time of its UTC day, lasting 1 minute to 4 hours (one in ten up to
-- 14 hours, so some cross midnight), 1 to 7 participants (mean 4) drawn from 5,000 identities
-- (so identities recur across sessions and days), each with 1 or 2 connections (mean 1.5, about
-- 6 per session) that cut its time into consecutive slots; regions, SDKs, connection types,
-- published sources and byte counts drawn at random. Rows go straight into livekit.* (the
-- rollup is built afterwards by the caller). setseed makes every run the same.
\set ON_ERROR_STOP 1
SELECT setseed(0.42);

CREATE TEMP TABLE bench_sessions AS
SELECT :'project'::text AS project_id,
       format('RM_%s_%s', to_char(d, 'YYYYMMDD'), i) AS session_id,
       'room-' || floor(random() * 500)::int AS room_name,
       c AS created_at,
       c + make_interval(secs => 60 + CASE WHEN random() < 0.1 THEN random() * 14 * 3600
                                            ELSE random() * 4 * 3600 END) AS ended_at,
       1 + floor(random() * 7)::int AS np,
       d::date AS list_day
FROM generate_series(:'first_day'::date, :'first_day'::date + (:days - 1), interval '1 day') d
CROSS JOIN generate_series(1, :sessions) i
CROSS JOIN LATERAL (SELECT d + random() * interval '24 hours' + i * interval '0 s' AS c) x;

INSERT INTO livekit.sessions (project_id, session_id, room_name, created_at, ended_at,
    last_active, bandwidth_in, bandwidth_out, egress, num_participants, num_active_participants,
    start_time, end_time, bandwidth, connection_minutes, details_num_participants, list_day,
    details_archived)
SELECT project_id, session_id, room_name, created_at, ended_at, ended_at,
       floor(random() * 1e9)::bigint, floor(random() * 1e9)::bigint, floor(random() * 3)::int,
       np, 0, created_at, ended_at, floor(random() * 2e9)::bigint,
       round((random() * extract(epoch FROM ended_at - created_at) * np / 60)::numeric, 2),
       np, list_day, true
FROM bench_sessions;

CREATE TEMP TABLE bench_participants AS
SELECT s.project_id, s.session_id,
       'user-' || ((hashtext(s.session_id)::bigint + 2147483648 + k * 997) % 5000) AS participant_identity,
       j AS joined_at,
       j + (s.ended_at - j) * (0.05 + 0.95 * random()) AS left_at,
       1 + floor(random() * 2)::int AS nc
FROM bench_sessions s
CROSS JOIN generate_series(0, s.np - 1) k
CROSS JOIN LATERAL (SELECT s.created_at + (s.ended_at - s.created_at) * random() / 2
                           + k * interval '0 s' AS j) x;

INSERT INTO livekit.participants (project_id, session_id, participant_identity,
    participant_name, joined_at, left_at, region, connection_type, sdk_version,
    published_camera_track, published_microphone_track, published_screen_share_track,
    published_screen_share_audio)
SELECT project_id, session_id, participant_identity, 'User ' || participant_identity,
       joined_at, left_at,
       (ARRAY['us-east', 'us-west', 'eu-central', 'eu-west', 'ap-south', 'sa-east'])[1 + floor(random() * 6)::int],
       (ARRAY['UDP', 'TCP', 'TURN'])[1 + floor(random() * 3)::int],
       (ARRAY['JS 2.5.1', 'JS 2.9.0', 'Swift 2.0.12', 'Android 2.5.0', 'Go 2.1.3', 'Python 0.18.1'])[1 + floor(random() * 6)::int],
       random() < 0.5, random() < 0.9, random() < 0.1, random() < 0.05
FROM bench_participants;

INSERT INTO livekit.participant_connections (project_id, session_id, connection_id,
    participant_identity, joined_at, left_at)
SELECT p.project_id, p.session_id, p.session_id || '_' || p.participant_identity || '_' || c,
       p.participant_identity,
       p.joined_at + (p.left_at - p.joined_at) * c / p.nc,
       p.joined_at + (p.left_at - p.joined_at) * (c + 1) / p.nc
FROM bench_participants p
CROSS JOIN generate_series(0, p.nc - 1) c;

INSERT INTO livekit.archive_days (project_id, day, status, completed_at, sessions)
SELECT :'project', d::date, 'complete', d + interval '1 day 2 hours', :sessions
FROM generate_series(:'first_day'::date, :'first_day'::date + (:days - 1), interval '1 day') d;

DROP TABLE bench_sessions, bench_participants;
