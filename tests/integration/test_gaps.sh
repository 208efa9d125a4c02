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
expect_stderr "project p_sim day 2026-11-11 left the 7-day window"
# the window (7 days ending today) and the gaps before it; not the complete days before it
grep -q " 2026-11-09 " "$WORK/last.out" && fail "status shows a complete day outside the window"
lk status --today 2026-11-20 --days 2
expect_status 6 "status --days 2"
[ "$(grep -c "^p_sim " "$WORK/last.out")" -eq 6 ] || { cat "$WORK/last.out" >&2; fail "status --days 2: not 2 days and 4 gaps"; }
lk status --today 2026-11-20 --all
[ "$(grep -c "^p_sim " "$WORK/last.out")" -eq 17 ] || { cat "$WORK/last.out" >&2; fail "status --all: not every day since 2026-11-04"; }
grep -q "^p_sim  *2026-11-04 .*complete .*20[0-9-]*T[0-9:]*Z *$" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "status: completed time of a complete day"; }
# configured projects only
(export LIVEKIT_PROJECT_ID=p_other; lk status --today 2026-11-20; expect_status 0 "status of another project")
grep -q "p_sim" "$WORK/last.out" && fail "status shows a project not configured"
lk status --today 2026-11-20 --json
expect_status 6 "status --json with gaps"
python3 - "$WORK/last.out" <<'PY' || fail "status --json"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
gaps = [r for r in rows if r["gap"] and not r["gap_acknowledged"]]
assert len(gaps) == 4, gaps
assert all(r["status"] == "GAP" and r["project"] == "p_sim" for r in gaps)
assert {r["day"] for r in rows if not r["gap"]} == {"2026-11-%d" % d for d in range(14, 21)}, rows
for key in ("sessions", "participants", "connections", "completed_at", "last_error", "attempts"):
    assert all(key in r for r in rows), key
PY

lk --config "$WORK/g.yaml" run --today 2026-11-20 --acknowledge-gaps
expect_status 0 "gaps acknowledged"
lk --config "$WORK/g.yaml" run --today 2026-11-20
expect_status 0 "acknowledged gaps stay acknowledged"
lk status --today 2026-11-20
expect_status 0 "status after run --acknowledge-gaps"
[ "$(grep -c " gap-acked " "$WORK/last.out")" -eq 4 ] || { cat "$WORK/last.out" >&2; fail "status does not list 4 acknowledged gaps"; }

# status --acknowledge-gaps acknowledges too
psql_q "UPDATE livekit.archive_days SET gap_acknowledged_at = NULL" >/dev/null
lk status --today 2026-11-20
expect_status 6 "gaps no longer acknowledged"
lk status --today 2026-11-20 --acknowledge-gaps
expect_status 0 "status --acknowledge-gaps"
expect_stderr "day 2026-11-12 is a gap"
lk status --today 2026-11-20
expect_status 0 "status after status --acknowledge-gaps"

# a day that left the window with a session still active keeps its last state: not a gap
psql_q "UPDATE livekit.archive_days SET status = 'pending', pending_reason = 'active sessions', active_sessions = 1 WHERE day = '2026-11-09'" >/dev/null
lk --config "$WORK/g.yaml" run --today 2026-11-20
expect_status 0 "a day frozen with an active session"
expect_stderr "2026-11-09 left the window with 1 session(s) still active"
log "gaps reported, listed, acknowledged; active-only days are not gaps"
