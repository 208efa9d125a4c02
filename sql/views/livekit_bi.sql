-- views/livekit_bi.sql -- schema livekit_bi: the analytics views of interface.md, for SQL users
-- and BI tools, with a COMMENT on every view and view column (repeatable: applied again
-- whenever this file changes; the definitions in force are these).
--
-- The per-day views read the rollup tables (kept exact by every run: functions/rollup.sql), so
-- a dashboard over years reads a few rows per day; archive_health, archive_summary,
-- session_usage, connection_intervals and egress_codes read the base tables. Names, columns and
-- meanings are the contract (interface.md); extra columns go after the contract's, never
-- between them (CREATE OR REPLACE VIEW can only add columns at the end). Days are UTC dates
-- everywhere. The schema itself and the comments of the base tables are versioned (sql/022).
-- Every minutes column is rounded to 0.01 minute (numeric, half away from zero): exact
-- figures stay in the base and rollup tables of schema livekit.

-- ---- the contract's views ----------------------------------------------------------------

CREATE OR REPLACE VIEW livekit_bi.daily_usage AS
SELECT project_id, day, sessions, participants, connections,
       round(connection_minutes, 2) AS connection_minutes,
       round(participant_minutes, 2) AS participant_minutes, bandwidth_in, bandwidth_out,
       bandwidth, egress_sessions
FROM livekit.rollup_daily;

CREATE OR REPLACE VIEW livekit_bi.room_daily_usage AS
SELECT project_id, day, room_name, sessions, participants,
       round(connection_minutes, 2) AS connection_minutes,
       round(participant_minutes, 2) AS participant_minutes, bandwidth
FROM livekit.rollup_room_daily;

CREATE OR REPLACE VIEW livekit_bi.participant_daily_usage AS
SELECT project_id, day, participant_identity, sessions, connections,
       round(participant_minutes, 2) AS participant_minutes, first_joined_at, last_left_at
FROM livekit.rollup_participant_daily;

CREATE OR REPLACE VIEW livekit_bi.daily_peak_concurrency AS
SELECT project_id, day, peak_connections, peak_at
FROM livekit.rollup_peak_daily;

CREATE OR REPLACE VIEW livekit_bi.session_duration_histogram AS
SELECT project_id, day,
       CASE bucket_min_minutes WHEN 0 THEN '0-1' WHEN 1 THEN '1-5' WHEN 5 THEN '5-15'
            WHEN 15 THEN '15-30' WHEN 30 THEN '30-60' WHEN 60 THEN '60-120'
            ELSE '120+' END AS bucket,
       bucket_min_minutes, sessions
FROM livekit.rollup_duration_daily;

CREATE OR REPLACE VIEW livekit_bi.publishing_mix AS
SELECT project_id, day, participant_rows AS participants, camera, microphone, screen_share,
       screen_share_audio
FROM livekit.rollup_daily;

CREATE OR REPLACE VIEW livekit_bi.usage_by_region AS
SELECT project_id, day, value AS region, participants,
       round(participant_minutes, 2) AS participant_minutes
FROM livekit.rollup_dimension_daily WHERE dimension = 'region';

-- sdk_name (extra): the SDK without its version, `JS 2.9.0` -> `JS`
CREATE OR REPLACE VIEW livekit_bi.usage_by_sdk AS
SELECT project_id, day, value AS sdk_version, participants,
       round(participant_minutes, 2) AS participant_minutes,
       NULLIF(split_part(value, ' ', 1), '') AS sdk_name
FROM livekit.rollup_dimension_daily WHERE dimension = 'sdk_version';

CREATE OR REPLACE VIEW livekit_bi.usage_by_connection_type AS
SELECT project_id, day, value AS connection_type, participants,
       round(participant_minutes, 2) AS participant_minutes
FROM livekit.rollup_dimension_daily WHERE dimension = 'connection_type';

-- The gap rule is livekit.day_is_gap (functions/ledger.sql), with the 7-day window's first day
-- (today - 6, UTC), as `lkarchive run` and `lkarchive status` ask it (README "gaps").
CREATE OR REPLACE VIEW livekit_bi.archive_health AS
SELECT a.project_id, a.day, a.status, a.sessions, a.completed_at, a.last_attempt_at,
       a.last_error,
       livekit.day_is_gap(a.day, a.status, a.pending_reason,
                          (now() AT TIME ZONE 'UTC')::date - 6) AS is_gap,
       a.pending_reason, a.active_sessions, a.participants, a.connections, a.attempts,
       a.gap_acknowledged_at IS NOT NULL AS gap_acknowledged
FROM livekit.archive_days a;

-- ---- billing estimates (issue 25) ---------------------------------------------------------
-- What LiveKit will bill, estimated from the archive: livekit.rollup_billing_daily holds each
-- day's connection intervals rounded up to whole minutes and sessions' downstream bytes rounded
-- up to 0.01 GB (sql/050), so a year of months reads a few hundred rows. "Today" is the
-- setting lkarchive.today when set (`lkarchive report --today`, tests), else the UTC date.

CREATE OR REPLACE VIEW livekit_bi.daily_billable_usage AS
SELECT d.project_id, d.day, b.billable_connection_minutes, d.participant_minutes,
       round(b.downstream_centi_gb / 100.0, 2) AS downstream_gb, d.sessions, d.connection_minutes
FROM livekit.rollup_daily d
JOIN livekit.rollup_billing_daily b ON b.project_id = d.project_id AND b.day = d.day;

CREATE OR REPLACE VIEW livekit_bi.monthly_usage AS
WITH t AS (
    SELECT COALESCE(NULLIF(current_setting('lkarchive.today', true), '')::date,
                    (now() AT TIME ZONE 'UTC')::date) AS today
), m AS (
    SELECT d.project_id, date_trunc('month', d.day)::date AS month,
           sum(b.billable_connection_minutes) AS billable, sum(d.participant_minutes) AS minutes,
           sum(b.downstream_centi_gb) AS centi_gb, count(*) AS days_covered,
           COALESCE(sum(b.billable_connection_minutes) FILTER (WHERE d.day < t.today), 0)
               AS billable_before_today,
           COALESCE(sum(b.downstream_centi_gb) FILTER (WHERE d.day < t.today), 0)
               AS centi_gb_before_today,
           min(d.day) AS first_day, t.today
    FROM livekit.rollup_daily d
    JOIN livekit.rollup_billing_daily b ON b.project_id = d.project_id AND b.day = d.day
    CROSS JOIN t
    GROUP BY d.project_id, date_trunc('month', d.day), t.today
), p AS (
    -- the current month's days the projection averages: from the month's first day, or the
    -- archive's first day when it began later in the month, to yesterday
    SELECT m.*, (m.month + interval '1 month')::date - m.month AS days_in_month,
           CASE WHEN m.month = date_trunc('month', m.today)::date
                THEN m.today - GREATEST(m.month, LEAST(m.first_day,
                         (SELECT min(a.day) FROM livekit.archive_days a
                          WHERE a.project_id = m.project_id)))
           END AS projection_days
    FROM m
)
SELECT project_id, month, billable::bigint AS billable_connection_minutes,
       minutes AS participant_minutes, round(centi_gb / 100.0, 2) AS downstream_gb,
       days_covered,
       CASE WHEN projection_days > 0
            THEN GREATEST(billable, round(billable_before_today * days_in_month
                                          / projection_days))::bigint
       END AS projected_billable_connection_minutes,
       days_in_month, projection_days,
       CASE WHEN projection_days > 0
            THEN round(GREATEST(centi_gb, ceil(centi_gb_before_today * days_in_month
                                                / projection_days)) / 100.0, 2)
       END AS projected_downstream_gb
FROM p;

-- ---- extra views ---------------------------------------------------------------------------

CREATE OR REPLACE VIEW livekit_bi.egress_codes AS
SELECT code::smallint AS code, name, meaning
FROM (VALUES (0, 'none', 'egress (recording, streaming) never started in the session'),
             (1, 'active', 'egress was running when the session was listed'),
             (2, 'ended', 'egress ran and has ended')) AS e(code, name, meaning);

CREATE OR REPLACE VIEW livekit_bi.connection_intervals AS
SELECT c.project_id, c.session_id, c.connection_id, c.participant_identity,
       (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date AS session_day,
       c.joined_at, c.left_at,
       CASE WHEN x.interval_end > c.joined_at THEN c.joined_at END AS interval_start,
       CASE WHEN x.interval_end > c.joined_at THEN x.interval_end END AS interval_end,
       CASE WHEN x.interval_end > c.joined_at
            THEN round((extract(epoch FROM x.interval_end) - extract(epoch FROM c.joined_at))
                       / 60, 2)
       END AS minutes
FROM livekit.participant_connections c
JOIN livekit.sessions s ON s.project_id = c.project_id AND s.session_id = c.session_id
CROSS JOIN LATERAL (SELECT COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active)
                    AS interval_end) x;

CREATE OR REPLACE VIEW livekit_bi.session_usage AS
SELECT s.project_id, s.session_id, s.room_name,
       (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date AS day,
       COALESCE(s.start_time, s.created_at) AS started_at,
       COALESCE(s.end_time, s.ended_at) AS ended_at,
       round((extract(epoch FROM COALESCE(s.end_time, s.ended_at))
              - extract(epoch FROM COALESCE(s.start_time, s.created_at))) / 60, 2)
           AS duration_minutes,
       COALESCE(p.participants, 0) AS participants,
       COALESCE(c.connections, 0) AS connections,
       round(COALESCE(c.seconds, 0) / 60, 2) AS participant_minutes,
       round(s.connection_minutes, 2) AS connection_minutes, s.bandwidth_in, s.bandwidth_out, s.bandwidth, s.egress
FROM livekit.sessions s
LEFT JOIN LATERAL (SELECT count(*) AS participants FROM livekit.participants p
                   WHERE p.project_id = s.project_id AND p.session_id = s.session_id) p ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS connections,
           sum(CASE WHEN COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active) > c.joined_at
                    THEN extract(epoch FROM COALESCE(c.left_at, s.end_time, s.ended_at,
                                                     s.last_active))
                         - extract(epoch FROM c.joined_at) END) AS seconds
    FROM livekit.participant_connections c
    WHERE c.project_id = s.project_id AND c.session_id = s.session_id) c ON true;

CREATE OR REPLACE VIEW livekit_bi.archive_summary AS
WITH today AS (SELECT (now() AT TIME ZONE 'UTC')::date AS today),
ledger AS (
    SELECT project_id, min(day) AS first_day, max(day) AS last_day,
           max(day) FILTER (WHERE status = 'complete') AS last_complete_day,
           count(*) FILTER (WHERE status = 'complete') AS days_complete,
           count(*) FILTER (WHERE status = 'pending') AS days_pending,
           count(*) FILTER (WHERE status = 'failed') AS days_failed
    FROM livekit.archive_days GROUP BY project_id
)
SELECT l.project_id, l.first_day, l.last_day, l.last_complete_day,
       (SELECT COALESCE(min(d.day) - 1, LEAST(l.last_day, t.today))
        FROM (SELECT g::date AS day
              FROM generate_series(l.first_day, LEAST(l.last_day, t.today), interval '1 day') g) d
        LEFT JOIN livekit.archive_days a ON a.project_id = l.project_id AND a.day = d.day
        WHERE a.status IS DISTINCT FROM 'complete') AS complete_through,
       l.days_complete, l.days_pending, l.days_failed,
       (SELECT count(*)
        FROM generate_series(l.first_day, t.today - 7, interval '1 day') g
        LEFT JOIN livekit.archive_days a ON a.project_id = l.project_id AND a.day = g::date
        WHERE livekit.day_is_gap(g::date, a.status, a.pending_reason, t.today - 6)) AS gaps,
       (SELECT max(r.started_at) FROM livekit.archive_runs r
        WHERE l.project_id = ANY (r.projects)) AS last_run_at
FROM ledger l CROSS JOIN today t;

-- ---- comments: views -----------------------------------------------------------------------

COMMENT ON VIEW livekit_bi.daily_usage IS
    'One row per project and UTC day that has sessions (a session''s day is the UTC date of COALESCE(start_time, created_at)): sessions, participants, connections, minutes and bytes of the sessions of that day. Reads the daily rollup (livekit.rollup_daily), exact after every run.';
COMMENT ON VIEW livekit_bi.room_daily_usage IS
    'One row per project, UTC day and room_name (rooms of the sessions of that day; NULL room_name is a group of its own). Reads livekit.rollup_room_daily. Filter by room_name = ''...'' (indexed).';
COMMENT ON VIEW livekit_bi.participant_daily_usage IS
    'One row per project, UTC day and participant_identity seen in a session of that day. Every participant row counts, with or without connections. Reads livekit.rollup_participant_daily; filtering by participant_identity is indexed.';
COMMENT ON VIEW livekit_bi.daily_peak_concurrency IS
    'One row per project and UTC day that any connection interval overlaps: the most connections open at one instant of that day (intervals clipped to the day, so a connection across midnight counts on both days) and the first instant that peak is reached. Covers all rooms of the project together. Reads livekit.rollup_peak_daily.';
COMMENT ON VIEW livekit_bi.session_duration_histogram IS
    'Sessions per project, UTC day and duration bucket (only buckets that hold sessions). Duration = COALESCE(end_time, ended_at) - COALESCE(start_time, created_at); sessions still active (no end) and sessions whose end precedes their start are in no bucket.';
COMMENT ON VIEW livekit_bi.publishing_mix IS
    'Per project and UTC day with sessions: how many participant rows published each kind of track (participant rows of the day''s sessions; a source counts when its flag is true, NULL and false do not).';
COMMENT ON VIEW livekit_bi.usage_by_region IS
    'Participant rows and participant minutes per project, UTC day (the session''s) and region (NULL: region not reported, a group of its own).';
COMMENT ON VIEW livekit_bi.usage_by_sdk IS
    'Participant rows and participant minutes per project, UTC day (the session''s) and sdk_version as reported (e.g. `JS 2.9.0`; NULL: not reported, a group of its own). sdk_name is the SDK without its version, to sum over versions.';
COMMENT ON VIEW livekit_bi.usage_by_connection_type IS
    'Participant rows and participant minutes per project, UTC day (the session''s) and connection_type (UDP, TCP, TURN as reported; NULL: not reported, a group of its own).';
COMMENT ON VIEW livekit_bi.archive_health IS
    'One row per row of livekit.archive_days (project and UTC day archived or attempted): whether the day is complete, when, the last error, and whether it is a gap (left the 7-day API window incomplete: lost for good). Days never attempted have no row: see archive_summary.gaps.';
COMMENT ON VIEW livekit_bi.egress_codes IS
    'Lookup of livekit.sessions.egress codes: join on code to name them.';
COMMENT ON VIEW livekit_bi.connection_intervals IS
    'One row per connection (livekit.participant_connections) with its interval as the views count it: [joined_at, end) where end is left_at or, while that is NULL, COALESCE(end_time, ended_at, last_active) of its session. A connection with no joined_at, no end, or end <= joined_at has no interval (interval_start, interval_end, minutes NULL). Reads the base tables: filter by project_id and session_id or session_day.';
COMMENT ON VIEW livekit_bi.session_usage IS
    'One row per session with its own figures (day, start, end, duration, participants, connections, participant minutes, bytes). Reads the base tables: the building block for per-session questions and for days in a local time zone (group by (started_at AT TIME ZONE ''Europe/Berlin'')::date). Filter by project_id and day or started_at.';
COMMENT ON VIEW livekit_bi.archive_summary IS
    'One row per project in the ledger: the archive''s span, its last complete day, how many days are complete, pending or failed, and how many gaps (days that left the 7-day window without being complete, never-attempted days included). For archive health dashboards.';

-- ---- comments: view columns ----------------------------------------------------------------

COMMENT ON COLUMN livekit_bi.daily_usage.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.daily_usage.day IS 'UTC date: the day of the sessions counted (UTC date of COALESCE(start_time, created_at)).';
COMMENT ON COLUMN livekit_bi.daily_usage.sessions IS 'Room sessions of the day.';
COMMENT ON COLUMN livekit_bi.daily_usage.participants IS 'Distinct participant identities in the day''s sessions (an identity in several sessions counts once).';
COMMENT ON COLUMN livekit_bi.daily_usage.connections IS 'Connection rows (livekit.participant_connections) of the day''s sessions; a participant that reconnects has several.';
COMMENT ON COLUMN livekit_bi.daily_usage.connection_minutes IS 'Sum of the sessions'' own connection_minutes as LiveKit reports them (details connectionMinutes), rounded to 0.01; NULL when no session of the day reports it. Use this for billing-like figures.';
COMMENT ON COLUMN livekit_bi.daily_usage.participant_minutes IS 'Minutes (numeric, rounded to 0.01) of the connection intervals of the day''s sessions, computed by lkarchive from joined_at/left_at (open connections end at the session''s end or last activity); whole intervals, counted on the session''s day; 0 when none.';
COMMENT ON COLUMN livekit_bi.daily_usage.bandwidth_in IS 'Sum of the sessions'' bandwidth_in, bytes received by LiveKit (list endpoint); NULL when no session reports it.';
COMMENT ON COLUMN livekit_bi.daily_usage.bandwidth_out IS 'Sum of the sessions'' bandwidth_out, bytes sent by LiveKit (list endpoint); NULL when no session reports it.';
COMMENT ON COLUMN livekit_bi.daily_usage.bandwidth IS 'Sum of the sessions'' billable bytes (details bandwidth); prefer it to bandwidth_in + bandwidth_out for cost. NULL when no session reports it.';
COMMENT ON COLUMN livekit_bi.daily_usage.egress_sessions IS 'Sessions with egress (recording/streaming) active or ended (egress > 0; see egress_codes).';

COMMENT ON COLUMN livekit_bi.room_daily_usage.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.room_daily_usage.day IS 'UTC date of the sessions counted (UTC date of COALESCE(start_time, created_at)).';
COMMENT ON COLUMN livekit_bi.room_daily_usage.room_name IS 'Room name; NULL when the API did not report one (a group of its own).';
COMMENT ON COLUMN livekit_bi.room_daily_usage.sessions IS 'Sessions of this room on the day.';
COMMENT ON COLUMN livekit_bi.room_daily_usage.participants IS 'Distinct participant identities in those sessions.';
COMMENT ON COLUMN livekit_bi.room_daily_usage.connection_minutes IS 'Sum of those sessions'' connection_minutes as LiveKit reports them, rounded to 0.01; NULL when none reports it.';
COMMENT ON COLUMN livekit_bi.room_daily_usage.participant_minutes IS 'Minutes (numeric, rounded to 0.01) of the connection intervals of those sessions, computed by lkarchive; 0 when none.';
COMMENT ON COLUMN livekit_bi.room_daily_usage.bandwidth IS 'Sum of those sessions'' billable bytes (details bandwidth); NULL when none reports it.';

COMMENT ON COLUMN livekit_bi.participant_daily_usage.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.participant_daily_usage.day IS 'UTC date of the sessions counted (UTC date of COALESCE(start_time, created_at)).';
COMMENT ON COLUMN livekit_bi.participant_daily_usage.participant_identity IS 'Participant identity as your application set it.';
COMMENT ON COLUMN livekit_bi.participant_daily_usage.sessions IS 'Sessions of the day this identity took part in (its participant rows).';
COMMENT ON COLUMN livekit_bi.participant_daily_usage.connections IS 'Connection rows of this identity in those sessions (reconnects count); 0 when it has none.';
COMMENT ON COLUMN livekit_bi.participant_daily_usage.participant_minutes IS 'Minutes (numeric, rounded to 0.01) of its connection intervals in those sessions; 0 when none.';
COMMENT ON COLUMN livekit_bi.participant_daily_usage.first_joined_at IS 'Earliest joined_at of its participant rows (timestamptz, UTC); NULL when none reports one.';
COMMENT ON COLUMN livekit_bi.participant_daily_usage.last_left_at IS 'Latest non-NULL left_at of its participant rows (timestamptz, UTC); NULL when it never left (still connected) or none reports one.';

COMMENT ON COLUMN livekit_bi.daily_peak_concurrency.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.daily_peak_concurrency.day IS 'UTC date that the connection intervals overlap (not the session''s day: a connection across midnight counts on both days).';
COMMENT ON COLUMN livekit_bi.daily_peak_concurrency.peak_connections IS 'Most connections open at one instant of the day, over all rooms of the project (intervals are half-open: one that ends when another starts does not overlap it).';
COMMENT ON COLUMN livekit_bi.daily_peak_concurrency.peak_at IS 'First instant of the day (timestamptz, UTC) at which peak_connections is reached; midnight when connections already open at 00:00 make the peak.';

COMMENT ON COLUMN livekit_bi.session_duration_histogram.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.session_duration_histogram.day IS 'UTC date of the sessions counted (UTC date of COALESCE(start_time, created_at)).';
COMMENT ON COLUMN livekit_bi.session_duration_histogram.bucket IS 'Duration range in minutes, lower bound inclusive: 0-1, 1-5, 5-15, 15-30, 30-60, 60-120, 120+.';
COMMENT ON COLUMN livekit_bi.session_duration_histogram.bucket_min_minutes IS 'Lower bound of the bucket in minutes (0, 1, 5, 15, 30, 60, 120): sort by it.';
COMMENT ON COLUMN livekit_bi.session_duration_histogram.sessions IS 'Sessions of the day whose duration falls in the bucket.';

COMMENT ON COLUMN livekit_bi.publishing_mix.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.publishing_mix.day IS 'UTC date of the sessions counted (UTC date of COALESCE(start_time, created_at)).';
COMMENT ON COLUMN livekit_bi.publishing_mix.participants IS 'Participant rows of the day''s sessions (an identity in two sessions counts twice); 0 when the day''s sessions had none.';
COMMENT ON COLUMN livekit_bi.publishing_mix.camera IS 'Participant rows that published a camera track.';
COMMENT ON COLUMN livekit_bi.publishing_mix.microphone IS 'Participant rows that published a microphone track.';
COMMENT ON COLUMN livekit_bi.publishing_mix.screen_share IS 'Participant rows that published a screen share (video).';
COMMENT ON COLUMN livekit_bi.publishing_mix.screen_share_audio IS 'Participant rows that published screen share audio.';

COMMENT ON COLUMN livekit_bi.usage_by_region.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.usage_by_region.day IS 'UTC date of the sessions counted (UTC date of COALESCE(start_time, created_at)).';
COMMENT ON COLUMN livekit_bi.usage_by_region.region IS 'LiveKit region the participant connected to, as reported; NULL when not reported (a group of its own).';
COMMENT ON COLUMN livekit_bi.usage_by_region.participants IS 'Participant rows (an identity in two sessions counts twice).';
COMMENT ON COLUMN livekit_bi.usage_by_region.participant_minutes IS 'Minutes (numeric, rounded to 0.01) of those participants'' connection intervals; 0 when none.';

COMMENT ON COLUMN livekit_bi.usage_by_sdk.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.usage_by_sdk.day IS 'UTC date of the sessions counted (UTC date of COALESCE(start_time, created_at)).';
COMMENT ON COLUMN livekit_bi.usage_by_sdk.sdk_version IS 'Client SDK and version as reported, e.g. `JS 2.9.0`; NULL when not reported (a group of its own).';
COMMENT ON COLUMN livekit_bi.usage_by_sdk.participants IS 'Participant rows (an identity in two sessions counts twice).';
COMMENT ON COLUMN livekit_bi.usage_by_sdk.participant_minutes IS 'Minutes (numeric, rounded to 0.01) of those participants'' connection intervals; 0 when none.';
COMMENT ON COLUMN livekit_bi.usage_by_sdk.sdk_name IS 'The SDK without its version (text before the first space of sdk_version, e.g. `JS`); NULL when sdk_version is. Group by it and sum to compare SDKs over all versions.';

COMMENT ON COLUMN livekit_bi.usage_by_connection_type.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.usage_by_connection_type.day IS 'UTC date of the sessions counted (UTC date of COALESCE(start_time, created_at)).';
COMMENT ON COLUMN livekit_bi.usage_by_connection_type.connection_type IS 'Transport as reported (UDP, TCP, TURN); NULL when not reported (a group of its own).';
COMMENT ON COLUMN livekit_bi.usage_by_connection_type.participants IS 'Participant rows (an identity in two sessions counts twice).';
COMMENT ON COLUMN livekit_bi.usage_by_connection_type.participant_minutes IS 'Minutes (numeric, rounded to 0.01) of those participants'' connection intervals; 0 when none.';

COMMENT ON COLUMN livekit_bi.archive_health.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.archive_health.day IS 'UTC day as listed by the API (livekit.archive_days.day; sessions are listed under the day they were created).';
COMMENT ON COLUMN livekit_bi.archive_health.status IS 'complete (final, all stored), pending (stored, but the day is not over, a session is still active, or something failed and the next run retries) or failed (the last attempt stored nothing).';
COMMENT ON COLUMN livekit_bi.archive_health.sessions IS 'Sessions stored for the day (listed under it).';
COMMENT ON COLUMN livekit_bi.archive_health.completed_at IS 'When the day first became complete (timestamptz, UTC); NULL while it is not.';
COMMENT ON COLUMN livekit_bi.archive_health.last_attempt_at IS 'When a run last worked on the day (timestamptz, UTC).';
COMMENT ON COLUMN livekit_bi.archive_health.last_error IS 'Why the last attempt did not complete the day; NULL when it did.';
COMMENT ON COLUMN livekit_bi.archive_health.is_gap IS 'true when the day left the 7-day API window (day < today - 6, UTC) without being complete: lost for good. A day left pending only because sessions were still active is not a gap (their last state is kept).';
COMMENT ON COLUMN livekit_bi.archive_health.pending_reason IS 'Why a day is not complete: day not over, active sessions, or error; NULL when complete.';
COMMENT ON COLUMN livekit_bi.archive_health.active_sessions IS 'Sessions of the day still active at the last attempt.';
COMMENT ON COLUMN livekit_bi.archive_health.participants IS 'Participant rows stored for the day''s sessions.';
COMMENT ON COLUMN livekit_bi.archive_health.connections IS 'Connection rows stored for the day''s sessions.';
COMMENT ON COLUMN livekit_bi.archive_health.attempts IS 'How many runs worked on the day.';
COMMENT ON COLUMN livekit_bi.archive_health.gap_acknowledged IS 'true when the gap was acknowledged (run --acknowledge-gaps): runs stop failing for it.';

COMMENT ON COLUMN livekit_bi.egress_codes.code IS 'Value of livekit.sessions.egress.';
COMMENT ON COLUMN livekit_bi.egress_codes.name IS 'Short name: none, active, ended.';
COMMENT ON COLUMN livekit_bi.egress_codes.meaning IS 'What the code means.';

COMMENT ON COLUMN livekit_bi.connection_intervals.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.connection_intervals.session_id IS 'Room session (RM_...) the connection belongs to.';
COMMENT ON COLUMN livekit_bi.connection_intervals.connection_id IS 'Connection id (PA_...): one per (re)connection of a participant.';
COMMENT ON COLUMN livekit_bi.connection_intervals.participant_identity IS 'Identity of the participant that connected.';
COMMENT ON COLUMN livekit_bi.connection_intervals.session_day IS 'The session''s UTC day (UTC date of COALESCE(start_time, created_at)): the day the per-day views count this connection under.';
COMMENT ON COLUMN livekit_bi.connection_intervals.joined_at IS 'When the connection joined (timestamptz, UTC); NULL when not reported.';
COMMENT ON COLUMN livekit_bi.connection_intervals.left_at IS 'When it left (timestamptz, UTC); NULL while connected or when not reported.';
COMMENT ON COLUMN livekit_bi.connection_intervals.interval_start IS 'Start of the counted interval (= joined_at); NULL when the connection has no interval.';
COMMENT ON COLUMN livekit_bi.connection_intervals.interval_end IS 'End of the counted interval: left_at, or while that is NULL the session''s COALESCE(end_time, ended_at, last_active); NULL when the connection has no interval.';
COMMENT ON COLUMN livekit_bi.connection_intervals.minutes IS 'Length of the interval in minutes (numeric, rounded to 0.01); NULL when there is no interval. Its sum is participant minutes to within 0.005 a row; the exact figure is in livekit.participant_connections.';

COMMENT ON COLUMN livekit_bi.session_usage.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.session_usage.session_id IS 'Room session id (RM_...).';
COMMENT ON COLUMN livekit_bi.session_usage.room_name IS 'Room name; NULL when not reported.';
COMMENT ON COLUMN livekit_bi.session_usage.day IS 'The session''s UTC day: UTC date of started_at.';
COMMENT ON COLUMN livekit_bi.session_usage.started_at IS 'COALESCE(start_time, created_at) (timestamptz, UTC): the session''s start as the views use it.';
COMMENT ON COLUMN livekit_bi.session_usage.ended_at IS 'COALESCE(end_time, ended_at) (timestamptz, UTC); NULL while the session is active.';
COMMENT ON COLUMN livekit_bi.session_usage.duration_minutes IS 'ended_at - started_at in minutes (numeric, rounded to 0.01); NULL while active.';
COMMENT ON COLUMN livekit_bi.session_usage.participants IS 'Participant rows of the session (distinct identities within one session).';
COMMENT ON COLUMN livekit_bi.session_usage.connections IS 'Connection rows of the session.';
COMMENT ON COLUMN livekit_bi.session_usage.participant_minutes IS 'Minutes (numeric, rounded to 0.01) of its connection intervals (see connection_intervals); 0 when none.';
COMMENT ON COLUMN livekit_bi.session_usage.connection_minutes IS 'connectionMinutes as LiveKit reports it (details), rounded to 0.01; NULL when not reported.';
COMMENT ON COLUMN livekit_bi.session_usage.bandwidth_in IS 'Bytes received by LiveKit (list bandwidthIn); NULL when not reported.';
COMMENT ON COLUMN livekit_bi.session_usage.bandwidth_out IS 'Bytes sent by LiveKit (list bandwidthOut); NULL when not reported.';
COMMENT ON COLUMN livekit_bi.session_usage.bandwidth IS 'Billable bytes (details bandwidth); NULL when not reported.';
COMMENT ON COLUMN livekit_bi.session_usage.egress IS 'Egress state: 0 never started, 1 active, 2 ended (see egress_codes).';

COMMENT ON COLUMN livekit_bi.archive_summary.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.archive_summary.first_day IS 'First UTC day in the ledger (the archive starts here).';
COMMENT ON COLUMN livekit_bi.archive_summary.last_day IS 'Latest UTC day in the ledger.';
COMMENT ON COLUMN livekit_bi.archive_summary.last_complete_day IS 'Latest UTC day that is complete; NULL when none is.';
COMMENT ON COLUMN livekit_bi.archive_summary.complete_through IS 'Every day from first_day through this one is complete (NULL when first_day is not): dashboards can trust totals up to here.';
COMMENT ON COLUMN livekit_bi.archive_summary.days_complete IS 'Days in the ledger with status complete.';
COMMENT ON COLUMN livekit_bi.archive_summary.days_pending IS 'Days with status pending (stored, not final yet; the next run fetches them again).';
COMMENT ON COLUMN livekit_bi.archive_summary.days_failed IS 'Days with status failed (last attempt stored nothing).';
COMMENT ON COLUMN livekit_bi.archive_summary.gaps IS 'Days from first_day to today - 7 (UTC) that are not complete, never-attempted days included (days left pending only by active sessions excepted): lost for good.';
COMMENT ON COLUMN livekit_bi.archive_summary.last_run_at IS 'When the latest run for this project started (timestamptz, UTC).';


-- ---- comments: billing estimates -----------------------------------------------------------

COMMENT ON VIEW livekit_bi.daily_billable_usage IS
    'ESTIMATE of what LiveKit bills, per project and UTC day with sessions (the session''s day): connection intervals rounded up to whole minutes, downstream GB rounded up per session, beside the exact participant minutes. Computed by lkarchive from the archive, not LiveKit''s invoice. Reads the daily rollup (livekit.rollup_daily, livekit.rollup_billing_daily).';
COMMENT ON VIEW livekit_bi.monthly_usage IS
    'ESTIMATE of what LiveKit bills, per project and UTC calendar month with sessions (a session counts in the month of its day; quotas reset on the 1st): billable connection minutes (each connection interval rounded up to a whole minute, then summed, as LiveKit bills), exact participant minutes, downstream GB, the days covered, and for the current month a linear projection to its end. Computed by lkarchive from the archive, not LiveKit''s invoice. The current month follows the setting lkarchive.today when set, else the UTC date. Reads the daily rollup: a year answers in milliseconds.';

COMMENT ON COLUMN livekit_bi.daily_billable_usage.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.daily_billable_usage.day IS 'UTC date of the sessions counted (UTC date of COALESCE(start_time, created_at)).';
COMMENT ON COLUMN livekit_bi.daily_billable_usage.billable_connection_minutes IS 'ESTIMATE of billed connection minutes: each connection interval of the day''s sessions ([joined_at, left_at, or while that is NULL the session''s end or last activity)) rounded up to a whole minute, then summed (10 s is 1, 60 s is 1, 61 s is 2), as LiveKit says it bills.';
COMMENT ON COLUMN livekit_bi.daily_billable_usage.participant_minutes IS 'Exact minutes (numeric) of the same intervals, not rounded: as daily_usage.participant_minutes.';
COMMENT ON COLUMN livekit_bi.daily_billable_usage.downstream_gb IS 'ESTIMATE of billed downstream data in GB (10^9 bytes): each session''s bandwidth_out (list API field bandwidthOut, bytes LiveKit sent to participants) rounded up to 0.01 GB, then summed. That LiveKit bills this field in 0.01 GB steps per session, and GB as 10^9 bytes, are assumptions; 0 when no session reports it.';
COMMENT ON COLUMN livekit_bi.daily_billable_usage.sessions IS 'Room sessions of the day.';
COMMENT ON COLUMN livekit_bi.daily_billable_usage.connection_minutes IS 'Sum of the sessions'' own connection_minutes as LiveKit reports them (details connectionMinutes); NULL when none reports it. Compare with billable_connection_minutes.';

COMMENT ON COLUMN livekit_bi.monthly_usage.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit_bi.monthly_usage.month IS 'First day of the UTC calendar month; a session counts in the month of its day (UTC date of COALESCE(start_time, created_at)).';
COMMENT ON COLUMN livekit_bi.monthly_usage.billable_connection_minutes IS 'ESTIMATE of the month''s billed connection minutes: each connection interval rounded up to a whole minute before summing (10 s is 1, 61 s is 2), as LiveKit says it bills; intervals as in connection_intervals. Only what the archive holds: days before the archive began or lost (gaps) are missing.';
COMMENT ON COLUMN livekit_bi.monthly_usage.participant_minutes IS 'Exact participant minutes (numeric) of the month, not rounded: the sum of daily_usage.participant_minutes.';
COMMENT ON COLUMN livekit_bi.monthly_usage.downstream_gb IS 'ESTIMATE of the month''s billed downstream data in GB (10^9 bytes): each session''s bandwidth_out (list API field bandwidthOut, bytes LiveKit sent) rounded up to 0.01 GB, then summed. The 0.01 GB rounding per session (LiveKit meters data transfer in 0.01 GB increments) and GB = 10^9 bytes are assumptions.';
COMMENT ON COLUMN livekit_bi.monthly_usage.days_covered IS 'Days of the month with archived sessions (for the current month: so far, today included).';
COMMENT ON COLUMN livekit_bi.monthly_usage.projected_billable_connection_minutes IS 'ESTIMATE, current month only (NULL for other months, and on the archive''s first day): a linear projection to the month''s end, the billable minutes of the complete days so far (from the 1st, or the archive''s first day when it began later, to yesterday) per day times the days of the month; never below billable_connection_minutes.';
COMMENT ON COLUMN livekit_bi.monthly_usage.days_in_month IS 'Days of the calendar month (28 to 31).';
COMMENT ON COLUMN livekit_bi.monthly_usage.projection_days IS 'Current month only: the complete days the projection averages (from the 1st, or the archive''s first day, to yesterday); NULL for other months.';
COMMENT ON COLUMN livekit_bi.monthly_usage.projected_downstream_gb IS 'ESTIMATE, current month only: downstream_gb projected linearly to the month''s end as projected_billable_connection_minutes is (same assumptions as downstream_gb); NULL for other months.';
