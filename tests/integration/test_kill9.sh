#!/usr/bin/env bash
# A run killed with SIGKILL at any moment, then run again, ends with exactly the rows an
# uninterrupted run gives; and at the moment of the kill, every day the ledger calls complete
# already holds exactly its rows (a day is one transaction: never half-written).
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
SEED=${KILL_SEED:-20261120}
pg_start
# slow details (20 ms each, 2 at a time) stretch a run to a second or two, so kills land
# in list pages, in details, in merges and between days
sim_start --today "$TODAY" --seed 5 --days 4 --sessions-per-day 25 --participants 3 --connections 4 \
    --active-today 2 --quirks all --expected-dir "$WORK/expected" --fault slow:match=details,permanent,ms=20
fast_retry_config "$WORK/kill.yaml" "max_concurrency: 2"

"$LKARCHIVE_BIN" migrate >/dev/null 2>&1
load_expected "$WORK/expected"
start=$(date +%s%N)
lk --config "$WORK/kill.yaml" run --today "$TODAY" --days 4
expect_status 0 "uninterrupted run"
full_ms=$(( ($(date +%s%N) - start) / 1000000 ))
compare_all
log "uninterrupted run: $full_ms ms"

RANDOM=$SEED
for point in 1 2 3 4 5 6; do
    psql_q "DROP SCHEMA livekit CASCADE" >/dev/null 2>&1
    "$LKARCHIVE_BIN" migrate >/dev/null 2>&1
    kill_ms=$(( 50 + RANDOM % (full_ms > 100 ? full_ms - 50 : 50) ))
    "$LKARCHIVE_BIN" --config "$WORK/kill.yaml" run --today "$TODAY" --days 4 >"$WORK/killed.out" 2>"$WORK/killed.err" &
    victim=$!
    sleep "$(awk -v ms="$kill_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    kill -KILL "$victim" 2>/dev/null || true
    wait "$victim" 2>/dev/null || true
    complete=$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE status = 'complete'")
    compare_complete_days
    runs=1
    until lk --config "$WORK/kill.yaml" run --today "$TODAY" --days 4 && [ "$LK_STATUS" -eq 0 ]; do
        runs=$((runs + 1)); [ "$runs" -le 3 ] || { cat "$WORK/last.err" >&2; fail "no convergence after a kill at $kill_ms ms"; }
    done
    compare_all
    log "kill -9 at $kill_ms ms: $complete day(s) complete at the kill, converged in $runs run(s)"
done
