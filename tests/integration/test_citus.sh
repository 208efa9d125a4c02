#!/usr/bin/env bash
# The archive on a real Citus cluster (a coordinator and two workers): an archive grown on the
# coordinator alone (citus_distribute: false) is distributed by `lkarchive migrate` with its rows;
# run, re-runs (rows unchanged), status, overlapping runs, a refused value (isolation), kill -9
# at any moment and a worker restarted mid-run all end with exactly the simulator's dataset;
# prune and forget work on the distributed tables.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
citus_start
sim_start --today "$TODAY" --seed 7 --days 3 --sessions-per-day 20 --participants 3 --connections 3 \
    --active-today 2 --quirks all --expected-dir "$WORK/expected" --fault slow:match=details,permanent,ms=15
fast_retry_config "$WORK/local.yaml" "max_concurrency: 2" "citus_distribute: false"
fast_retry_config "$WORK/citus.yaml" "max_concurrency: 2" "db_reconnect_attempts: 8"

# fresh_archive: an empty distributed archive and the expected rows
fresh_archive() {
    psql_q "DROP SCHEMA livekit CASCADE" >/dev/null 2>&1
    "$LKARCHIVE_BIN" --config "$WORK/citus.yaml" migrate >/dev/null 2>&1 || fail "migrate"
    load_expected "$WORK/expected"
}
# converge WHAT: run until a run exits 0 (3 runs at most), then the archive is exact; sets RUNS
converge() {
    RUNS=1
    until lk --config "$WORK/citus.yaml" run --today "$TODAY" --days 3 && [ "$LK_STATUS" -eq 0 ]; do
        RUNS=$((RUNS + 1)); [ "$RUNS" -le 3 ] || { cat "$WORK/last.err" >&2; fail "no convergence after $1"; }
    done
    compare_all
}

# views_digest: every row of the rollup-backed livekit_bi views
views_digest() {
    local view
    for view in $VIEWS; do psql_q "SELECT md5(string_agg(v::text, E'\n' ORDER BY v::text)) FROM livekit_bi.$view v"; done
}

distributed() {
    psql_q "SELECT string_agg(table_name::text || ':' || citus_table_type || ':' || distribution_column || ':' || colocation_id, ' ' ORDER BY table_name::text) FROM citus_tables WHERE table_name::text LIKE 'livekit.%'"
}

# 1. a plain archive on the coordinator, then moved to the workers by migrate
lk --config "$WORK/local.yaml" run --today "$TODAY" --days 3
expect_status 0 "run with citus_distribute: false"
[ -z "$(distributed)" ] || fail "citus_distribute: false distributed tables: $(distributed)"
load_expected "$WORK/expected"
compare_all
check_rollup "the plain archive on the coordinator"
views=$(views_digest) # the oracle for Citus: the same views over the same rows
before=$(snapshot)
lk --config "$WORK/citus.yaml" migrate
expect_status 0 "migrate onto Citus"
expect_stderr "citus: livekit.sessions distributed by session_id"
got=$(distributed)
colocation=$(psql_q "SELECT colocation_id FROM citus_tables WHERE table_name = 'livekit.sessions'::regclass")
want="livekit.participant_connections:distributed:session_id:$colocation livekit.participants:distributed:session_id:$colocation livekit.sessions:distributed:session_id:$colocation"
[ "$got" = "$want" ] || fail "placement: $got, expected $want"
[ "$(psql_q "SELECT count(*) FROM citus_shards WHERE table_name = 'livekit.sessions'::regclass AND nodeport <> ${CITUS_PORTS[0]}")" -gt 0 ] \
    || fail "no shard of livekit.sessions on a worker"
[ "$(psql_q "SELECT pg_relation_size('livekit.sessions')")" -eq 0 ] || fail "the coordinator kept its local copy"
[ "$(snapshot)" = "$before" ] || fail "moving the archive to Citus changed rows"
compare_all
lk --config "$WORK/citus.yaml" migrate
expect_status 0 "second migrate"
grep -q "distributed" "$WORK/last.err" && fail "a second migrate distributed again"
log "a plain archive moved to Citus by migrate: $got"

# 2. runs on the distributed archive: the same rows, re-runs leave every row as it was
lk --config "$WORK/citus.yaml" run --today "$TODAY" --days 3
expect_status 0 "run on Citus"
[ "$(snapshot)" = "$before" ] || fail "a run after moving to Citus changed rows"
lk --config "$WORK/citus.yaml" run --today "$TODAY" --days 3 --full
expect_status 0 "run --full on Citus"
[ "$(snapshot)" = "$before" ] || fail "a full re-run on Citus changed rows"
lk --config "$WORK/citus.yaml" status --today "$TODAY"
expect_status 0 "status on Citus"
[ "$(grep -c ' complete ' "$WORK/last.out")" -eq 2 ] || { cat "$WORK/last.out" >&2; fail "status does not list 2 complete days"; }
[ "$(views_digest)" = "$views" ] || fail "the livekit_bi views differ after the move to Citus and re-runs"
# every livekit_bi view answers on the coordinator, and grant gives a role read-only access
psql_q "CREATE ROLE lk_bi_reader LOGIN" >/dev/null
lk --config "$WORK/citus.yaml" grant lk_bi_reader
expect_status 0 "grant on Citus"
for view in $(psql_q "SELECT table_name FROM information_schema.views WHERE table_schema = 'livekit_bi' ORDER BY 1"); do
    PGUSER=lk_bi_reader psql -X -q -v ON_ERROR_STOP=1 -At -c "SELECT count(*) FROM livekit_bi.$view" >/dev/null \
        || fail "livekit_bi.$view does not answer the granted role on Citus"
done
PGUSER=lk_bi_reader psql -X -q -v ON_ERROR_STOP=1 -At -c "SELECT count(*) FROM livekit.participants" >/dev/null \
    || fail "the granted role cannot read a distributed table"
if PGUSER=lk_bi_reader psql -X -q -v ON_ERROR_STOP=1 -c "DELETE FROM livekit.sessions" 2>/dev/null; then
    fail "the granted role can write on Citus"
fi
log "re-runs on Citus leave every row unchanged; status lists the days; views, rollup and grant work"
# two runs at once (cron overlap): the advisory lock on the coordinator keeps the second out
"$LKARCHIVE_BIN" --config "$WORK/citus.yaml" run --today "$TODAY" --days 3 --full >"$WORK/first.out" 2>"$WORK/first.err" &
first=$!
sleep 0.3
lk --config "$WORK/citus.yaml" run --today "$TODAY" --days 3
expect_status 7 "a second run while the first works on Citus"
set +e; wait "$first"; status=$?; set -e
[ "$status" -eq 0 ] || { cat "$WORK/first.err" >&2; fail "the first of two overlapping runs exited $status"; }
[ "$(snapshot)" = "$before" ] || fail "overlapping runs on Citus changed rows"
log "overlapping runs on Citus: the second exits 7, rows unchanged"

# 3. a fresh archive straight onto Citus, with a value refused by a constraint (isolation)
psql_q "DROP SCHEMA livekit CASCADE" >/dev/null 2>&1
lk --config "$WORK/citus.yaml" migrate
expect_status 0 "migrate a fresh archive on Citus"
[ "$(distributed)" = "$(echo "$want" | sed "s/:$colocation/:$(psql_q "SELECT colocation_id FROM citus_tables WHERE table_name = 'livekit.sessions'::regclass")/g")" ] \
    || fail "fresh placement: $(distributed)"
load_expected "$WORK/expected"
victim=$(psql_q "SELECT session_id FROM expected.sessions WHERE list_day = '2026-11-19' ORDER BY session_id OFFSET 5 LIMIT 1")
psql_q "ALTER TABLE livekit.participants ADD CONSTRAINT lk_test_poison CHECK (session_id <> '$victim')" >/dev/null
lk --config "$WORK/citus.yaml" run --today "$TODAY" --days 3
expect_status 1 "a run with one refused session on Citus"
expect_stderr "session $victim: PostgreSQL refused a value"
[ "$(psql_q "SELECT count(*) FROM livekit.sessions WHERE session_id = '$victim'")" -eq 0 ] || fail "the refused session was half stored"
psql_q "ALTER TABLE livekit.participants DROP CONSTRAINT lk_test_poison" >/dev/null
lk --config "$WORK/citus.yaml" run --today "$TODAY" --days 3
expect_status 0 "run after the constraint is gone"
compare_all
[ "$(views_digest)" = "$views" ] || fail "the livekit_bi views on Citus differ from one server's"
log "a refused value on Citus costs its session only; the next run converges; views equal one server's"

# 4. kill -9 mid-run, twice: complete days exact at the kill, the next runs converge
for kill_ms in 300 900; do
    fresh_archive
    "$LKARCHIVE_BIN" --config "$WORK/citus.yaml" run --today "$TODAY" --days 3 >"$WORK/killed.out" 2>"$WORK/killed.err" &
    victim=$!
    sleep "$(awk -v ms="$kill_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    kill -KILL "$victim" 2>/dev/null || true
    wait "$victim" 2>/dev/null || true
    compare_complete_days
    converge "a kill at $kill_ms ms"
    [ "$(views_digest)" = "$views" ] || fail "the livekit_bi views on Citus differ from one server's after a kill at $kill_ms ms"
    log "kill -9 at $kill_ms ms on Citus: converged in $RUNS run(s)"
done

# 5. a worker restarted in the middle of a run: the day in progress rolls back, no day is
# wrongly complete, and the next run converges
fresh_archive
"$LKARCHIVE_BIN" --config "$WORK/citus.yaml" run --today "$TODAY" --days 3 >"$WORK/run.out" 2>"$WORK/run.err" &
runner=$!
sleep 0.5
citus_restart_node 1
set +e; wait "$runner"; status=$?; set -e
case $status in
    0|1|4|5) ;;
    *) cat "$WORK/run.err" >&2; fail "run across a worker restart exited $status" ;;
esac
compare_complete_days
converge "a worker restart"
log "worker restarted mid-run: the run exited $status ($(grep -m1 'detail:' "$WORK/run.err" || true)); converged in $RUNS more run(s)"

# 6. prune on the distributed archive: the sessions of 2026-11-18 and their rows go, the rest stays
want=$(psql_q "SELECT count(*) FROM expected.sessions WHERE list_day < '2026-11-19'")
lk --config "$WORK/citus.yaml" prune --today 2026-11-25 --before 2026-11-19
expect_status 0 "prune on Citus"
grep -q "deleted $want sessions" "$WORK/last.out" || { cat "$WORK/last.out" "$WORK/last.err" >&2; fail "prune on Citus"; }
for t in participant_connections participants sessions; do
    psql_q "DELETE FROM expected.$t WHERE session_id IN (SELECT session_id FROM expected.sessions WHERE list_day < '2026-11-19')" >/dev/null
done
compare_all
log "prune on Citus: $want sessions with their rows deleted, the rest exact"

# 7. forget on the distributed archive, and a re-run that brings nothing back (the run first
# archives again the day pruned above: it is still in this window)
lk --config "$WORK/citus.yaml" run --today "$TODAY" --days 3
expect_status 0 "run after prune"
who=$(psql_q "SELECT participant_identity FROM livekit.participants GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
n=$(psql_q "SELECT count(*) FROM livekit.participants WHERE participant_identity = '$who'")
printf 'citus-test-key-0123456789abcdef\n' >"$WORK/key"
chmod 600 "$WORK/key"
fast_retry_config "$WORK/forget.yaml" "max_concurrency: 2" "pseudonymize_key_file: $WORK/key"
lk --config "$WORK/forget.yaml" forget --identity "$who"
expect_status 0 "forget on Citus"
grep -q ": $n participant rows" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "forget on Citus output"; }
after=$(snapshot)
lk --config "$WORK/forget.yaml" run --today "$TODAY" --days 3 --full
expect_status 0 "re-run after forget on Citus"
[ "$(psql_q "SELECT count(*) FROM livekit.participants WHERE participant_identity = '$who'")" -eq 0 ] || fail "forgotten identity back on Citus"
[ "$(snapshot)" = "$after" ] || fail "a re-run after forget on Citus changed rows"
log "forget on Citus: $n participant rows pseudonymized; a full re-run brings nothing back"
