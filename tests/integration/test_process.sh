#!/usr/bin/env bash
# Process hygiene: `lkarchive run | head -1` finishes the whole run (SIGPIPE does not kill it
# after the first day's line), and a running lkarchive can write no core dump (its hard core
# limit is 0), so the API secret and tokens in its memory cannot land on disk.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 3 --days 7 --sessions-per-day 6 --participants 2 \
    --connections 2 --active-today 0 --fault slow:match=details,permanent,ms=40
fast_retry_config "$WORK/slow.yaml" "max_concurrency: 1"

set +e
"$LKARCHIVE_BIN" run --today "$TODAY" 2>"$WORK/pipe.err" | head -1 >"$WORK/pipe.out"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { cat "$WORK/pipe.err" >&2; fail "run | head -1: exit status $status, expected 0"; }
[ -s "$WORK/pipe.out" ] || fail "head got no line"
complete=$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE status = 'complete'")
[ "$complete" -eq 6 ] || fail "run | head -1 archived $complete complete days, expected 6"
log "run | head -1: exit 0, all 6 past days complete"

# a slow run (one details request at a time, 40 ms each: about 2 s) to look at while it runs
psql_q "DROP SCHEMA livekit CASCADE" >/dev/null
"$LKARCHIVE_BIN" --config "$WORK/slow.yaml" run --today "$TODAY" >/dev/null 2>&1 &
pid=$!
sleep 0.3 # past start-up: the run takes well over a second
limits=$(grep "Max core file size" "/proc/$pid/limits" 2>/dev/null) || true
wait "$pid" || fail "the slow run failed"
[ -n "$limits" ] || fail "could not read the running process's limits"
read -r soft hard <<<"$(awk '{ print $5, $6 }' <<<"$limits")"
[ "$soft" = 0 ] && [ "$hard" = 0 ] || fail "core dumps are possible: $limits"
log "core file size limit while running: soft $soft, hard $hard"
