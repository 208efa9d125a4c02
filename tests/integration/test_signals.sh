#!/usr/bin/env bash
# SIGTERM (systemd stopping the unit) and SIGINT (Ctrl-C) end a run cleanly: it stops
# scheduling, rolls back the day in progress, records the run `interrupted` with its end time
# and exits 128 + the signal (143, 130); complete days stay exact and the next run converges.
# A run killed with -9 leaves its row `running`: the next run closes it as interrupted, but
# never the row of a run that is still alive (its advisory lock is held).
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 8 --days 4 --sessions-per-day 20 --participants 2 \
    --connections 3 --active-today 0 --expected-dir "$WORK/expected" \
    --fault slow:match=details,permanent,ms=30
fast_retry_config "$WORK/slow.yaml" "max_concurrency: 1"
ensure_expected "$WORK/expected"

# wait_new_run PREVIOUS: the id of the run that started after run id PREVIOUS (0: none yet),
# once its row is there; a loaded machine can take more than a second to get that far
wait_new_run() {
    local id
    for _ in $(seq 200); do
        id=$(psql_q "SELECT max(run_id) FROM livekit.archive_runs WHERE run_id > $1")
        [ -n "$id" ] && { echo "$id"; return 0; }
        sleep 0.1
    done
    fail "no run row appeared"
}
last_run() { psql_q "SELECT status || ' ' || (finished_at IS NOT NULL) FROM livekit.archive_runs ORDER BY run_id DESC LIMIT 1"; }

for sig in TERM INT; do
    "$LKARCHIVE_BIN" --config "$WORK/slow.yaml" run --today "$TODAY" --days 4 >"$WORK/sig.out" 2>"$WORK/sig.err" &
    pid=$!
    sleep 0.8
    kill -"$sig" "$pid"
    set +e; wait "$pid"; status=$?; set -e
    want=$([ "$sig" = TERM ] && echo 143 || echo 130)
    [ "$status" -eq "$want" ] || { cat "$WORK/sig.err" >&2; fail "SIG$sig: exit status $status, expected $want"; }
    grep -q "interrupted by SIG$sig" "$WORK/sig.err" || { cat "$WORK/sig.err" >&2; fail "SIG$sig: no message"; }
    [ "$(last_run)" = "interrupted true" ] || fail "SIG$sig: run recorded as '$(last_run)'"
    compare_complete_days
    log "SIG$sig: exit $status, run interrupted with its end time, complete days exact"
done

lk --config "$WORK/slow.yaml" run --today "$TODAY" --days 4
expect_status 0 "the run after the interrupted ones"
compare_all

# kill -9: the row stays running; a live run's row is never closed by another run
psql_q "DROP SCHEMA livekit CASCADE" >/dev/null 2>&1 # every session fetched again: slow
"$LKARCHIVE_BIN" migrate >/dev/null 2>&1
"$LKARCHIVE_BIN" --config "$WORK/slow.yaml" run --today "$TODAY" --days 4 >/dev/null 2>&1 &
victim=$!
dead=$(wait_new_run 0)
kill -KILL "$victim"; wait "$victim" 2>/dev/null || true
[ "$(psql_q "SELECT status FROM livekit.archive_runs WHERE run_id = $dead")" = running ] || fail "the killed run's row is not running"

psql_q "TRUNCATE livekit.sessions CASCADE" >/dev/null # the live run must still be running below
"$LKARCHIVE_BIN" --config "$WORK/slow.yaml" run --today "$TODAY" --days 4 >/dev/null 2>&1 &
alive=$!
live=$(wait_new_run "$dead")
printf 'lock_wait: 0\n' >"$WORK/nowait.yaml"
lk --config "$WORK/nowait.yaml" run --today "$TODAY" --days 4
expect_status 7 "a second run while one is alive"
[ "$(psql_q "SELECT status FROM livekit.archive_runs WHERE run_id = $dead")" = interrupted ] \
    || fail "the dead run was not closed"
[ "$(psql_q "SELECT status FROM livekit.archive_runs WHERE run_id = $live")" = running ] \
    || fail "the live run's row was closed by another run"
wait "$alive" || fail "the live run failed"
[ "$(psql_q "SELECT status FROM livekit.archive_runs WHERE run_id = $live")" = ok ] || fail "the live run did not end ok"
log "kill -9: the dead run closed as interrupted by the next run; a live run's row left alone"
