#!/usr/bin/env bash
# PostgreSQL restarted in the middle of a run: lkarchive reconnects with back-off, archives
# the day again, and ends with exactly the expected rows. PostgreSQL gone for good: the run
# stops with the database exit status and marks no day complete that is not.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 6 --days 4 --sessions-per-day 25 --participants 3 --connections 4 \
    --active-today 2 --quirks all --expected-dir "$WORK/expected" --fault slow:match=details,permanent,ms=40
fast_retry_config "$WORK/db.yaml" "max_concurrency: 2" "db_reconnect_attempts: 8"
"$LKARCHIVE_BIN" migrate >/dev/null 2>&1

"$LKARCHIVE_BIN" --config "$WORK/db.yaml" run --today "$TODAY" --days 4 >"$WORK/run.out" 2>"$WORK/run.err" &
runner=$!
sleep 0.8
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w restart -l "$WORK/pg/server.log" \
    -o "-c listen_addresses='' -c unix_socket_directories='$WORK/pg/socket' -c port=5432 -c fsync=off" >/dev/null
PG_PID=$(head -1 "$WORK/pg/data/postmaster.pid")
set +e; wait "$runner"; status=$?; set -e
if [ "$status" -ne 0 ]; then cat "$WORK/run.err" >&2; fail "run across a PostgreSQL restart exited $status"; fi
grep -q "reconnected to PostgreSQL" "$WORK/run.err" || { cat "$WORK/run.err" >&2; fail "no reconnect logged"; }
load_expected "$WORK/expected"
compare_all
log "PostgreSQL restarted mid-run: reconnected, archive exact"

# PostgreSQL stopped for good: exit 5, no day wrongly complete
psql_q "DROP SCHEMA livekit CASCADE" >/dev/null 2>&1
"$LKARCHIVE_BIN" migrate >/dev/null 2>&1
load_expected "$WORK/expected"
fast_retry_config "$WORK/db2.yaml" "max_concurrency: 2" "db_reconnect_attempts: 2"
"$LKARCHIVE_BIN" --config "$WORK/db2.yaml" run --today "$TODAY" --days 4 >"$WORK/run2.out" 2>"$WORK/run2.err" &
runner=$!
sleep 0.8
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null
set +e; wait "$runner"; status=$?; set -e
[ "$status" -eq 5 ] || { cat "$WORK/run2.err" >&2; fail "run with PostgreSQL gone exited $status, expected 5"; }
grep -q "could not reconnect\|could not connect" "$WORK/run2.err" || fail "no database message"
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -w start -l "$WORK/pg/server.log" \
    -o "-c listen_addresses='' -c unix_socket_directories='$WORK/pg/socket' -c port=5432 -c fsync=off" >/dev/null
PG_PID=$(head -1 "$WORK/pg/data/postmaster.pid")
compare_complete_days
lk --config "$WORK/db.yaml" run --today "$TODAY" --days 4
expect_status 0 "run after PostgreSQL is back"
compare_all
log "PostgreSQL gone: exit 5, no day wrongly complete, next run converged"
