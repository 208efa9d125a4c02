#!/usr/bin/env bash
# Days that leave the 7-day window without becoming complete are permanent gaps: `run`
# reports them and exits 6 until they are acknowledged, `status` lists them; a day left
# pending only because a session was still active is reported, but is not a gap; a first
# run says which days it can still capture.
source "$(dirname "$0")/lib.sh"

pg_start
fast_retry_config "$WORK/g.yaml"
sim_start --today 2026-11-10 --seed 3 --days 7 --sessions-per-day 4 --participants 2 --connections 2 --active-today 1
lk --config "$WORK/g.yaml" run --today 2026-11-10
expect_status 0 "first run"
expect_stderr "first run for project p_sim: the API still serves 2026-11-04 .. 2026-11-10"
sim_stop

# ten days later: 11-11 .. 11-13 were never archived, 11-10 stayed pending (its day was not over)
sim_start --today 2026-11-20 --seed 3 --days 7 --sessions-per-day 4 --participants 2 --connections 2 --active-today 1
lk --config "$WORK/g.yaml" run --today 2026-11-20
expect_status 6 "run with unacknowledged gaps"
for day in 2026-11-10 2026-11-11 2026-11-12 2026-11-13; do expect_stderr "day $day left the 7-day window"; done
grep -q "2026-11-09 left the 7-day window" "$WORK/last.err" && fail "a complete day reported as a gap"
lk status --today 2026-11-20
expect_status 6 "status with gaps"
[ "$(grep -c " GAP " "$WORK/last.out")" -eq 4 ] || { cat "$WORK/last.out" >&2; fail "status does not list 4 gaps"; }

lk --config "$WORK/g.yaml" run --today 2026-11-20 --acknowledge-gaps
expect_status 0 "gaps acknowledged"
lk --config "$WORK/g.yaml" run --today 2026-11-20
expect_status 0 "acknowledged gaps stay acknowledged"

# a day that left the window with a session still active keeps its last state: not a gap
psql_q "UPDATE livekit.archive_days SET status = 'pending', pending_reason = 'active sessions', active_sessions = 1 WHERE day = '2026-11-09'" >/dev/null
lk --config "$WORK/g.yaml" run --today 2026-11-20
expect_status 0 "a day frozen with an active session"
expect_stderr "2026-11-09 left the window with 1 session(s) still active"
log "gaps reported, listed, acknowledged; active-only days are not gaps"
