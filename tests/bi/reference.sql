-- reference.sql -- the livekit_bi per-day views computed straight from the base tables.
--
-- Schema livekit_bi_reference: one view per rollup-backed view of livekit_bi, same name, the
-- contract's columns in the contract's order, written from interface.md's definitions without
-- the rollup and in another style than sql/021_bi_rollup.sql (per-session subqueries, and a
-- peak found by counting the intervals open at each interval start instead of a sweep), so
-- that the tests (test_bi_rollup.sh, test_bi_views.sh) can demand that livekit_bi and this
-- schema hold exactly the same rows. Slow on large archives by design; not part of the schema.

DROP SCHEMA IF EXISTS livekit_bi_reference CASCADE;
CREATE SCHEMA livekit_bi_reference;

-- every session with its day
CREATE VIEW livekit_bi_reference.sessions AS
SELECT s.project_id, s.session_id, s.room_name, s.connection_minutes, s.bandwidth_in,
       s.bandwidth_out, s.bandwidth, s.egress,
       (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date AS day,
       COALESCE(s.start_time, s.created_at) AS started,
       COALESCE(s.end_time, s.ended_at) AS ended
FROM livekit.sessions s;

-- every connection with its interval's length in seconds (NULL: no interval)
CREATE VIEW livekit_bi_reference.connections AS
SELECT c.project_id, c.session_id, c.connection_id, c.participant_identity, c.joined_at,
       COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active) AS ends,
       CASE WHEN COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active) > c.joined_at
            THEN extract(epoch FROM COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active))
                 - extract(epoch FROM c.joined_at) END AS seconds
FROM livekit.participant_connections c
JOIN livekit.sessions s USING (project_id, session_id);

-- every participant row with its connections
CREATE VIEW livekit_bi_reference.participants AS
SELECT p.project_id, p.session_id, p.participant_identity, p.joined_at, p.left_at, p.region,
       p.sdk_version, p.connection_type, p.published_camera_track,
       p.published_microphone_track, p.published_screen_share_track,
       p.published_screen_share_audio, s.day, s.room_name,
       (SELECT count(*) FROM livekit_bi_reference.connections c
        WHERE c.project_id = p.project_id AND c.session_id = p.session_id
          AND c.participant_identity = p.participant_identity) AS connections,
       (SELECT sum(c.seconds) FROM livekit_bi_reference.connections c
        WHERE c.project_id = p.project_id AND c.session_id = p.session_id
          AND c.participant_identity = p.participant_identity) AS seconds
FROM livekit.participants p
JOIN livekit_bi_reference.sessions s USING (project_id, session_id);

-- per session: its connection rows and interval seconds
CREATE VIEW livekit_bi_reference.session_connections AS
SELECT s.*,
       (SELECT count(*) FROM livekit_bi_reference.connections c
        WHERE c.project_id = s.project_id AND c.session_id = s.session_id) AS connections,
       (SELECT sum(c.seconds) FROM livekit_bi_reference.connections c
        WHERE c.project_id = s.project_id AND c.session_id = s.session_id) AS seconds
FROM livekit_bi_reference.sessions s;

CREATE VIEW livekit_bi_reference.daily_usage AS
SELECT s.project_id, s.day, count(*) AS sessions,
       (SELECT count(DISTINCT p.participant_identity) FROM livekit_bi_reference.participants p
        WHERE p.project_id = s.project_id AND p.day = s.day) AS participants,
       sum(s.connections) AS connections, round(sum(s.connection_minutes), 2) AS connection_minutes,
       round(COALESCE(sum(s.seconds), 0) / 60, 2) AS participant_minutes,
       sum(s.bandwidth_in) AS bandwidth_in, sum(s.bandwidth_out) AS bandwidth_out,
       sum(s.bandwidth) AS bandwidth, count(*) FILTER (WHERE s.egress > 0) AS egress_sessions
FROM livekit_bi_reference.session_connections s
WHERE s.day IS NOT NULL
GROUP BY s.project_id, s.day;

-- the billing estimate: each connection's interval rounded up to a whole minute, each session's
-- downstream bytes (bandwidth_out) up to 0.01 GB, before summing (interface.md, monthly_usage)
CREATE VIEW livekit_bi_reference.daily_billable_usage AS
SELECT u.project_id, u.day,
       (SELECT COALESCE(sum(ceil(c.seconds / 60)), 0)
        FROM livekit_bi_reference.connections c
        JOIN livekit_bi_reference.sessions x USING (project_id, session_id)
        WHERE x.project_id = u.project_id AND x.day = u.day) AS billable_connection_minutes,
       -- exact minutes here (daily_usage rounds them to 0.01)
       (SELECT COALESCE(sum(x.seconds), 0) / 60 FROM livekit_bi_reference.session_connections x
        WHERE x.project_id = u.project_id AND x.day = u.day) AS participant_minutes,
       (SELECT round(COALESCE(sum(ceil(x.bandwidth_out / 10000000.0)), 0) / 100, 2)
        FROM livekit_bi_reference.sessions x
        WHERE x.project_id = u.project_id AND x.day = u.day) AS downstream_gb,
       u.sessions,
       (SELECT sum(x.connection_minutes) FROM livekit_bi_reference.session_connections x
        WHERE x.project_id = u.project_id AND x.day = u.day) AS connection_minutes
FROM livekit_bi_reference.daily_usage u;

CREATE VIEW livekit_bi_reference.room_daily_usage AS
SELECT s.project_id, s.day, s.room_name, count(*) AS sessions,
       (SELECT count(DISTINCT p.participant_identity) FROM livekit_bi_reference.participants p
        WHERE p.project_id = s.project_id AND p.day = s.day
          AND p.room_name IS NOT DISTINCT FROM s.room_name) AS participants,
       round(sum(s.connection_minutes), 2) AS connection_minutes,
       round(COALESCE(sum(s.seconds), 0) / 60, 2) AS participant_minutes, sum(s.bandwidth) AS bandwidth
FROM livekit_bi_reference.session_connections s
WHERE s.day IS NOT NULL
GROUP BY s.project_id, s.day, s.room_name;

CREATE VIEW livekit_bi_reference.participant_daily_usage AS
SELECT project_id, day, participant_identity, count(*) AS sessions,
       sum(connections) AS connections, round(COALESCE(sum(seconds), 0) / 60, 2) AS participant_minutes,
       min(joined_at) AS first_joined_at, max(left_at) AS last_left_at
FROM livekit_bi_reference.participants
WHERE day IS NOT NULL
GROUP BY project_id, day, participant_identity;

-- each interval clipped to each UTC day it overlaps
CREATE VIEW livekit_bi_reference.clipped AS
SELECT c.project_id, c.session_id, c.connection_id, d::date AS day,
       GREATEST(c.joined_at, d AT TIME ZONE 'UTC') AS lo,
       LEAST(c.ends, (d + interval '1 day') AT TIME ZONE 'UTC') AS hi
FROM livekit_bi_reference.connections c
CROSS JOIN LATERAL generate_series(date_trunc('day', c.joined_at AT TIME ZONE 'UTC'),
                                   c.ends AT TIME ZONE 'UTC', interval '1 day') d
WHERE c.seconds IS NOT NULL
  AND (d + interval '1 day') AT TIME ZONE 'UTC' > c.joined_at
  AND d AT TIME ZONE 'UTC' < c.ends;

-- the peak is reached at some interval's (clipped) start: count what is open there
CREATE VIEW livekit_bi_reference.daily_peak_concurrency AS
WITH clipped AS MATERIALIZED (SELECT * FROM livekit_bi_reference.clipped),
counted AS (
    SELECT a.project_id, a.day, a.lo AS t, count(*) AS open_now
    FROM clipped a
    JOIN clipped b ON b.project_id = a.project_id AND b.day = a.day
                  AND b.lo <= a.lo AND b.hi > a.lo
    GROUP BY a.project_id, a.day, a.session_id, a.connection_id, a.lo
)
SELECT DISTINCT ON (project_id, day) project_id, day, open_now AS peak_connections, t AS peak_at
FROM counted
ORDER BY project_id, day, open_now DESC, t;

CREATE VIEW livekit_bi_reference.session_duration_histogram AS
SELECT project_id, day, b.bucket, b.bucket_min_minutes, count(*) AS sessions
FROM livekit_bi_reference.sessions s
JOIN (VALUES ('0-1', 0, 1), ('1-5', 1, 5), ('5-15', 5, 15), ('15-30', 15, 30),
             ('30-60', 30, 60), ('60-120', 60, 120), ('120+', 120, NULL))
     AS b(bucket, bucket_min_minutes, bucket_max_minutes)
  ON s.ended - s.started >= make_interval(mins => b.bucket_min_minutes)
 AND (b.bucket_max_minutes IS NULL
      OR s.ended - s.started < make_interval(mins => b.bucket_max_minutes))
WHERE s.day IS NOT NULL
GROUP BY project_id, day, b.bucket, b.bucket_min_minutes;

CREATE VIEW livekit_bi_reference.publishing_mix AS
SELECT s.project_id, s.day, count(p.session_id) AS participants,
       count(*) FILTER (WHERE p.published_camera_track) AS camera,
       count(*) FILTER (WHERE p.published_microphone_track) AS microphone,
       count(*) FILTER (WHERE p.published_screen_share_track) AS screen_share,
       count(*) FILTER (WHERE p.published_screen_share_audio) AS screen_share_audio
FROM livekit_bi_reference.sessions s
LEFT JOIN livekit.participants p USING (project_id, session_id)
WHERE s.day IS NOT NULL
GROUP BY s.project_id, s.day;

CREATE VIEW livekit_bi_reference.usage_by_region AS
SELECT project_id, day, region, count(*) AS participants,
       round(COALESCE(sum(seconds), 0) / 60, 2) AS participant_minutes
FROM livekit_bi_reference.participants WHERE day IS NOT NULL
GROUP BY project_id, day, region;

CREATE VIEW livekit_bi_reference.usage_by_sdk AS
SELECT project_id, day, sdk_version, count(*) AS participants,
       round(COALESCE(sum(seconds), 0) / 60, 2) AS participant_minutes
FROM livekit_bi_reference.participants WHERE day IS NOT NULL
GROUP BY project_id, day, sdk_version;

CREATE VIEW livekit_bi_reference.usage_by_connection_type AS
SELECT project_id, day, connection_type, count(*) AS participants,
       round(COALESCE(sum(seconds), 0) / 60, 2) AS participant_minutes
FROM livekit_bi_reference.participants WHERE day IS NOT NULL
GROUP BY project_id, day, connection_type;

-- rows that differ between livekit_bi.<view> and the reference (contract columns): 0 = equal
CREATE FUNCTION livekit_bi_reference.differences(view_name text) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
    cols text;
    n bigint;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
    FROM pg_attribute
    WHERE attrelid = format('livekit_bi_reference.%I', view_name)::regclass AND attnum > 0;
    EXECUTE format('SELECT count(*) FROM ((SELECT %1$s FROM livekit_bi.%2$I EXCEPT ALL'
                   ' SELECT %1$s FROM livekit_bi_reference.%2$I) UNION ALL'
                   ' (SELECT %1$s FROM livekit_bi_reference.%2$I EXCEPT ALL'
                   ' SELECT %1$s FROM livekit_bi.%2$I)) d', cols, view_name) INTO n;
    RETURN n;
END
$fn$;
