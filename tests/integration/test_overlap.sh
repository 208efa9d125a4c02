#!/usr/bin/env bash
# Two runs started together on the same project (cron overlap) never write twice: with
# lock_wait 0 the second exits at once (status 7) with a clear message; with a lock_wait it
# waits for the first and then runs. Either way the archive is exact.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 8 --days 3 --sessions-per-day 20 --participants 3 --connections 4 \
    --active-today 2 --quirks all --expected-dir "$WORK/expected" --fault slow:match=details,permanent,ms=40
fast_retry_config "$WORK/a.yaml" "max_concurrency: 2"
"$LKARCHIVE_BIN" migrate >/dev/null 2>&1

"$LKARCHIVE_BIN" --config "$WORK/a.yaml" run --today "$TODAY" --days 3 >"$WORK/first.out" 2>"$WORK/first.err" &
first=$!
sleep 0.3
lk --config "$WORK/a.yaml" run --today "$TODAY" --days 3
expect_status 7 "second run while the first works"
expect_stderr "another lkarchive run is archiving project p_sim"
set +e; wait "$first"; status=$?; set -e
[ "$status" -eq 0 ] || { cat "$WORK/first.err" >&2; fail "first run exited $status"; }
load_expected "$WORK/expected"
compare_all
[ "$(psql_q "SELECT count(*) FROM livekit.archive_runs WHERE status = 'incomplete'")" -eq 1 ] || fail "the locked-out run not recorded"

fast_retry_config "$WORK/b.yaml" "max_concurrency: 2" "lock_wait: 60"
"$LKARCHIVE_BIN" --config "$WORK/b.yaml" run --today "$TODAY" --days 3 --full >"$WORK/one.out" 2>"$WORK/one.err" &
one=$!
sleep 0.3
lk --config "$WORK/b.yaml" run --today "$TODAY" --days 3
expect_status 0 "second run waiting for the first"
expect_stderr "waiting up to 60 s"
set +e; wait "$one"; status=$?; set -e
[ "$status" -eq 0 ] || fail "first run exited $status"
compare_all
log "overlapping runs: locked out (exit 7) or waited; archive exact"
