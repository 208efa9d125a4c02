-- functions/ledger.sql -- the ledger's rules that SQL and C share (repeatable).

-- The gap rule, the one place it is written: a day is a gap when it left the API's window (it
-- is before p_window_start, the window's first day: today - 6 in UTC for the 7-day window)
-- without being complete, unless it was left pending only because sessions were still active
-- (its last state is what the API would still say). p_status NULL: the day was never archived.
-- `lkarchive status` and `run` (store_ledger.c) and livekit_bi's archive_health and
-- archive_summary all ask it. A plain SQL expression: the planner inlines it.
CREATE OR REPLACE FUNCTION livekit.day_is_gap(p_day date, p_status text, p_pending_reason text,
                                              p_window_start date)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT p_day < p_window_start AND p_status IS DISTINCT FROM 'complete'
           AND p_pending_reason IS DISTINCT FROM 'active sessions'
$fn$;
COMMENT ON FUNCTION livekit.day_is_gap(date, text, text, date) IS
    'Whether a ledger day is a gap: before the API window''s first day, not complete, and not left pending only by active sessions';
