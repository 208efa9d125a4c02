#!/usr/bin/env bash
# A session that ended less than `settling_time` ago is not final (LiveKit fills it in over a
# few minutes after its end): its day stays pending ("sessions settling") and the next run
# fetches its details again although its list entry is unchanged. Once settled, the day is
# complete and an unchanged session costs no details request.
source "$(dirname "$0")/lib.sh"

# real dates: settling is measured against the real clock (the sessions of the last days
# ended hours ago, so a settling time of a week covers them and one of 0 none)
TODAY=$(date -u +%F)
YESTERDAY=$(date -u -d "$TODAY - 1 day" +%F)
pg_start
sim_start --today "$TODAY" --seed 4 --days 3 --sessions-per-day 10 --participants 2 \
    --connections 2 --active-today 0 --expected-dir "$WORK/expected"
printf 'settling_time: 604800\n' >"$WORK/week.yaml"
printf 'settling_time: 0\n' >"$WORK/none.yaml"

details() { sed -n 's/.* \([0-9][0-9]*\) fetched, \([0-9][0-9]*\) skipped.*/\1 \2/p' "$WORK/last.out"; }

lk --config "$WORK/week.yaml" run --today "$TODAY" --days 3
expect_status 0 "first run, every session settling"
[ "$(psql_q "SELECT status || ' ' || pending_reason FROM livekit.archive_days WHERE day = '$YESTERDAY'")" = "pending sessions settling" ] \
    || fail "yesterday is '$(psql_q "SELECT status || ' ' || pending_reason FROM livekit.archive_days WHERE day = '$YESTERDAY'")', expected pending: sessions settling"
lk --config "$WORK/week.yaml" run --today "$TODAY" --days 3
expect_status 0 "second run, still settling"
read -r fetched skipped <<<"$(details)"
[ "$fetched" -eq 30 ] && [ "$skipped" -eq 0 ] || fail "settling sessions: $fetched fetched, $skipped skipped; expected all 30 fetched again"
log "settling: days pending, details fetched again ($fetched)"

lk --config "$WORK/none.yaml" run --today "$TODAY" --days 3
expect_status 0 "run with no settling time"
[ "$(psql_q "SELECT status FROM livekit.archive_days WHERE day = '$YESTERDAY'")" = complete ] || fail "yesterday not complete once settled"
lk --config "$WORK/none.yaml" run --today "$TODAY" --days 3
read -r fetched skipped <<<"$(details)"
[ "$skipped" -ge 20 ] || fail "settled sessions fetched again: $fetched fetched, $skipped skipped"
load_expected "$WORK/expected"
compare_all
log "settled: days complete, unchanged sessions skipped ($skipped)"
