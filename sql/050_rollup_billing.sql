-- 050_rollup_billing.sql -- what LiveKit bills, per project and session day (issue 25): the
-- daily rollup table behind livekit_bi.daily_billable_usage and monthly_usage. LiveKit rounds
-- each resource use up to its increment before summing (a connection of 10 s is a minute, one
-- of 70 s two; data transfer in 0.01 GB), so these sums cannot be derived from the exact
-- minutes of rollup_daily: each connection and session is rounded where it is read. Kept by
-- livekit.rollup_refresh_days (functions/rollup.sql) in the day's transaction, as the other
-- rollup tables; built here for the days archived before it.
CREATE TABLE livekit.rollup_billing_daily (
    project_id text NOT NULL,
    day date NOT NULL,
    billable_connection_minutes bigint NOT NULL,
    downstream_centi_gb bigint NOT NULL,
    PRIMARY KEY (project_id, day)
);
COMMENT ON TABLE livekit.rollup_billing_daily IS
    'Internal: daily rollup behind livekit_bi.daily_billable_usage and monthly_usage (billing estimates), kept exact by every run; read the views.';
COMMENT ON COLUMN livekit.rollup_billing_daily.project_id IS 'LiveKit Cloud project id (p_...).';
COMMENT ON COLUMN livekit.rollup_billing_daily.day IS 'UTC date of the sessions counted (UTC date of COALESCE(start_time, created_at)).';
COMMENT ON COLUMN livekit.rollup_billing_daily.billable_connection_minutes IS 'Sum over the day''s sessions'' connection intervals of each interval''s length rounded up to a whole minute (an estimate of what LiveKit bills).';
COMMENT ON COLUMN livekit.rollup_billing_daily.downstream_centi_gb IS 'Sum over the day''s sessions of bandwidth_out (list bandwidthOut, bytes LiveKit sent) in hundredths of a GB (10^7 bytes), each session''s rounded up (an estimate; the granularity is an assumption).';

INSERT INTO livekit.rollup_billing_daily
SELECT project_id, day, sum(minutes), sum(centi_gb)
FROM (SELECT s.project_id, (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date AS day,
             0::bigint AS minutes,
             COALESCE(ceil(s.bandwidth_out / 10000000.0), 0)::bigint AS centi_gb
      FROM livekit.sessions s
      UNION ALL
      SELECT s.project_id, (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date,
             ceil(extract(epoch FROM COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active)
                                     - c.joined_at) / 60)::bigint,
             0
      FROM livekit.participant_connections c
      JOIN livekit.sessions s ON s.project_id = c.project_id AND s.session_id = c.session_id
      WHERE COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active) > c.joined_at) x
WHERE day IS NOT NULL
GROUP BY project_id, day;

-- Whoever may keep the rollup (the README's writer role: INSERT on rollup_daily) keeps this
-- table too.
DO $$
DECLARE
    g oid;
BEGIN
    FOR g IN SELECT DISTINCT a.grantee
             FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
             WHERE c.oid = 'livekit.rollup_daily'::regclass AND a.privilege_type = 'INSERT'
               AND a.grantee <> c.relowner LOOP
        EXECUTE format('GRANT SELECT, INSERT, DELETE ON livekit.rollup_billing_daily TO %s',
                       CASE WHEN g = 0 THEN 'PUBLIC' ELSE quote_ident(g::regrole::text) END);
    END LOOP;
END
$$;
