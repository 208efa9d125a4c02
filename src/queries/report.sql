-- report.sql -- what `lkarchive report` reads (store_report.c), all from livekit_bi's views
-- (the rollup: a year answers in milliseconds) and the ledger. $1 project, $2 first day,
-- $3 last day (today), all UTC dates; figures are rounded here as the page shows them in its
-- data- attributes, so a test can compare the page with the views.

-- name: report_projects
-- The projects to show: $1 the configured ones (text[] literal), with every project the
-- archive holds; $2 one project only (NULL: all).
SELECT p AS project_id
FROM (SELECT unnest($1::text[])
      UNION SELECT DISTINCT project_id FROM livekit.archive_days
      UNION SELECT DISTINCT project_id FROM livekit.rollup_daily) x(p)
WHERE $2::text IS NULL OR p = $2::text
ORDER BY p

-- name: report_days
-- One row per day of [$2, $3]: the billing estimate's daily figures, sessions, peak
-- concurrency, and the day's health in the ledger (complete, pending, failed, gap; missing:
-- never attempted inside the window; before: before the archive's first day).
SELECT g::date::text AS day,
       COALESCE(b.billable_connection_minutes, 0) AS billable,
       COALESCE(round(b.participant_minutes, 2), 0) AS minutes,
       COALESCE(b.sessions, 0) AS sessions,
       COALESCE(k.peak_connections, 0) AS peak,
       CASE WHEN a.status = 'complete' THEN 'complete'
            WHEN g::date >= f.first_day
                 AND livekit.day_is_gap(g::date, a.status, a.pending_reason, $3::date - 6)
                THEN 'gap'
            WHEN a.status IS NOT NULL THEN a.status
            WHEN f.first_day IS NULL OR g::date < f.first_day THEN 'before'
            ELSE 'missing' END AS health
FROM generate_series($2::date, $3::date, interval '1 day') g
CROSS JOIN (SELECT min(day) AS first_day FROM livekit.archive_days
            WHERE project_id = $1::text) f
LEFT JOIN livekit_bi.daily_billable_usage b ON b.project_id = $1::text AND b.day = g::date
LEFT JOIN livekit_bi.daily_peak_concurrency k ON k.project_id = $1::text AND k.day = g::date
LEFT JOIN livekit.archive_days a ON a.project_id = $1::text AND a.day = g::date
ORDER BY g

-- name: report_months
-- The billing estimate of the last twelve months up to $3's ($2 unused), newest first.
SELECT month::text AS month, billable_connection_minutes AS billable,
       round(participant_minutes, 2) AS minutes, downstream_gb::text AS gb, days_covered,
       days_in_month, projected_billable_connection_minutes AS projected,
       projected_downstream_gb::text AS projected_gb, projection_days
FROM livekit_bi.monthly_usage
WHERE project_id = $1::text AND month <= $3::date
  AND month > (date_trunc('month', $3::date) - interval '12 months')::date
  AND $2::date IS NOT NULL
ORDER BY month DESC

-- name: report_rooms
-- The rooms with the most participant minutes over [$2, $3] (ten; NULL room_name is a row).
SELECT room_name, round(sum(participant_minutes), 2) AS minutes, sum(sessions) AS sessions
FROM livekit_bi.room_daily_usage
WHERE project_id = $1::text AND day BETWEEN $2::date AND $3::date
GROUP BY room_name
ORDER BY sum(participant_minutes) DESC, sum(sessions) DESC, room_name
LIMIT 10

-- name: report_mix
-- Participant rows and minutes by SDK (without its version), region and connection type over
-- [$2, $3]: each dimension's five largest values, the rest summed as one row (other true).
WITH d AS (
    SELECT 'sdk' AS dimension, sdk_name AS value, participants, participant_minutes
    FROM livekit_bi.usage_by_sdk
    WHERE project_id = $1::text AND day BETWEEN $2::date AND $3::date
    UNION ALL
    SELECT 'region', region, participants, participant_minutes
    FROM livekit_bi.usage_by_region
    WHERE project_id = $1::text AND day BETWEEN $2::date AND $3::date
    UNION ALL
    SELECT 'connection_type', connection_type, participants, participant_minutes
    FROM livekit_bi.usage_by_connection_type
    WHERE project_id = $1::text AND day BETWEEN $2::date AND $3::date
), v AS (
    SELECT dimension, value, sum(participants) AS participants,
           sum(participant_minutes) AS minutes,
           row_number() OVER (PARTITION BY dimension
                              ORDER BY sum(participants) DESC, value NULLS LAST) AS rank
    FROM d GROUP BY dimension, value
)
SELECT dimension, CASE WHEN rank <= 5 THEN value END AS value, rank > 5 AS other,
       sum(participants) AS participants, round(sum(minutes), 2) AS minutes
FROM v
GROUP BY dimension, CASE WHEN rank <= 5 THEN value END, rank > 5
ORDER BY dimension, rank > 5, sum(participants) DESC, 2 NULLS LAST
