#!/usr/bin/env bash
# Fetch while merging: day N+1's requests are served while day N's commit runs. Each day's
# merge into livekit.sessions is made slow by a test trigger (pg_sleep), and a sampler reads
# pg_stat_activity and the simulator's counters around each other: two samples that both see
# the same pg_sleep (same backend, same query start) with the simulator's answered requests
# grown between them prove requests were served during a commit. With
# fetch_while_merging: false the same sampling must never see that (the control), and both
# runs end with the same archive (row counts, a digest of every archived column, the ledger,
# the rollup) as the simulator's expected rows.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
DAYS=4
SLEEP_S=2.5 # longer than a sampler round on a loaded machine (1.4 s seen under ctest -j2)
pg_start
sim_start --today "$TODAY" --seed 21 --days "$DAYS" --sessions-per-day 24 --overnight 4 --participants 2 \
    --connections 2 --quiet --expected-dir "$WORK/expected" \
    --fault slow:match=details,permanent,ms=60

# run_archive DB MODE: a database of its own, the slow merge, one run sampled; prints nothing,
# leaves the samples in $WORK/DB.samples (epoch_ms sleeping_backend query_start answered).
run_archive() {
    local db=$1 mode=$2 url runner sampler
    psql_q "CREATE DATABASE $db" >/dev/null
    url="host=$PG_SOCKET port=5432 user=postgres dbname=$db"
    DATABASE_URL=$url "$LKARCHIVE_BIN" migrate >/dev/null 2>&1 || fail "$db: migrate failed"
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
CREATE FUNCTION public.slow_merge() RETURNS trigger LANGUAGE plpgsql AS
  \$\$ BEGIN PERFORM pg_sleep($SLEEP_S); RETURN NULL; END \$\$;
CREATE TRIGGER slow_merge AFTER INSERT ON livekit.sessions
  FOR EACH STATEMENT EXECUTE FUNCTION public.slow_merge();
SQL
    fast_retry_config "$WORK/$db.yaml" "max_concurrency: 2" "fetch_while_merging: $mode"
    : >"$WORK/$db.samples"
    (
        while :; do
            a1=$(psql -X -At -d "$db" -c "SELECT pid || '@' || extract(epoch FROM query_start) FROM pg_stat_activity WHERE application_name = 'lkarchive' AND wait_event = 'PgSleep'" | head -1)
            n1=$(curl -s "$LIVEKIT_ANALYTICS_URL/_sim/stats" | sed 's/.*"list":\([0-9]*\),"details":\([0-9]*\).*/\1 \2/' | awk '{ print $1 + $2 }')
            sleep 0.15
            n2=$(curl -s "$LIVEKIT_ANALYTICS_URL/_sim/stats" | sed 's/.*"list":\([0-9]*\),"details":\([0-9]*\).*/\1 \2/' | awk '{ print $1 + $2 }')
            a2=$(psql -X -At -d "$db" -c "SELECT pid || '@' || extract(epoch FROM query_start) FROM pg_stat_activity WHERE application_name = 'lkarchive' AND wait_event = 'PgSleep'" | head -1)
            echo "${a1:--} ${a2:--} $n1 $n2"
        done >>"$WORK/$db.samples"
    ) &
    sampler=$!
    DATABASE_URL=$url "$LKARCHIVE_BIN" --config "$WORK/$db.yaml" run --today "$TODAY" --days "$DAYS" \
        >"$WORK/$db.out" 2>"$WORK/$db.err" &
    runner=$!
    set +e; wait "$runner"; RUN_STATUS=$?; set -e
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    { echo "### $db"; cat "$WORK/$db.out" "$WORK/$db.err"; } >>"$WORK/lk-all.log"
    [ "$RUN_STATUS" -eq 0 ] || { cat "$WORK/$db.err" >&2; fail "$db: run exited $RUN_STATUS"; }
}

# overlapped DB: how many sample pairs saw requests answered within one pg_sleep of a merge
overlapped() {
    awk '$1 != "-" && $1 == $2 && $4 > $3 { n++ } END { print n + 0 }' "$WORK/$1.samples"
}
sleeping() {
    awk '$1 != "-" && $1 == $2 { n++ } END { print n + 0 }' "$WORK/$1.samples"
}

# digest DB: every archived column (not the housekeeping times) of the three tables, the
# ledger's days and the rollup behind livekit_bi
digest() {
    local db=$1
    psql -X -At -v ON_ERROR_STOP=1 -d "$db" <<SQL
SELECT 'sessions', count(*), md5(string_agg(x::text, E'\n' ORDER BY x::text)) FROM (SELECT $SESSIONS_COLS FROM livekit.sessions) x;
SELECT 'participants', count(*), md5(string_agg(x::text, E'\n' ORDER BY x::text)) FROM (SELECT $PARTICIPANTS_COLS FROM livekit.participants) x;
SELECT 'connections', count(*), md5(string_agg(x::text, E'\n' ORDER BY x::text)) FROM (SELECT $CONNECTIONS_COLS FROM livekit.participant_connections) x;
SELECT 'days', count(*), md5(string_agg(x::text, E'\n' ORDER BY x::text)) FROM (SELECT project_id, day, status, sessions, active_sessions, participants, connections, last_error FROM livekit.archive_days) x;
SELECT 'daily_usage', count(*), md5(string_agg(x::text, E'\n' ORDER BY x::text)) FROM livekit_bi.daily_usage x;
SQL
}

run_archive lk_pipe true
[ "$(sleeping lk_pipe)" -gt 0 ] || { cat "$WORK/lk_pipe.samples" >&2; fail "the sampler never saw a merge sleeping"; }
pipe_overlap=$(overlapped lk_pipe)
[ "$pipe_overlap" -gt 0 ] || { cat "$WORK/lk_pipe.samples" >&2; fail "fetch_while_merging: true: no request was answered while a day's commit ran"; }
log "fetch_while_merging: true: requests answered during a commit in $pipe_overlap of $(sleeping lk_pipe) samples within one merge"

run_archive lk_seq false
[ "$(sleeping lk_seq)" -gt 0 ] || { cat "$WORK/lk_seq.samples" >&2; fail "control: the sampler never saw a merge sleeping"; }
seq_overlap=$(overlapped lk_seq)
[ "$seq_overlap" -eq 0 ] || { cat "$WORK/lk_seq.samples" >&2; fail "fetch_while_merging: false: requests answered during a commit ($seq_overlap samples): the sampling proves nothing"; }
log "fetch_while_merging: false: no request during a commit ($(sleeping lk_seq) samples within one merge)"

# the same days reported, in the same order, with the same outcome
cmp -s <(awk '/^p_sim / { print $2, $3, $4 }' "$WORK/lk_pipe.out") \
    <(awk '/^p_sim / { print $2, $3, $4 }' "$WORK/lk_seq.out") ||
    { cat "$WORK/lk_pipe.out" "$WORK/lk_seq.out" >&2; fail "the day lines differ (order or outcome)"; }
[ "$(grep -c '^p_sim ' "$WORK/lk_pipe.out")" -eq "$DAYS" ] || fail "not every day was reported"

digest lk_pipe >"$WORK/pipe.digest"
digest lk_seq >"$WORK/seq.digest"
cmp -s "$WORK/pipe.digest" "$WORK/seq.digest" ||
    { diff "$WORK/pipe.digest" "$WORK/seq.digest" >&2; fail "the archives differ between fetch_while_merging true and false"; }
log "same archive either way: $(tr '\n' ' ' <"$WORK/pipe.digest")"

# and it is the simulator's dataset
export PGDATABASE=lk_pipe
load_expected "$WORK/expected"
compare_all
[ "$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE status = 'complete'")" -eq $((DAYS - 1)) ] ||
    fail "the past days are not all complete"
log "fetch while merging: the same archive as one day at a time, and the simulator's rows"

# The run's own connection lost while the last day goes through the spare one: the run
# learns it at the gaps, reconnects (taking its locks again) and ends well.
sim_stop
sim_start --today "$TODAY" --seed 3 --days 2 --sessions-per-day 20 --quiet \
    --expected-dir "$WORK/expected2" --fault slow:match=details,permanent,ms=150
psql -X -q -d postgres -c "CREATE DATABASE lk_lost" >/dev/null
export PGDATABASE=lk_lost
"$LKARCHIVE_BIN" migrate >/dev/null 2>&1 || fail "lk_lost: migrate failed"
fast_retry_config "$WORK/lost.yaml" "max_concurrency: 2"
DATABASE_URL="host=$PG_SOCKET port=5432 user=postgres dbname=lk_lost" "$LKARCHIVE_BIN" \
    --config "$WORK/lost.yaml" run --today "$TODAY" --days 2 >"$WORK/lost.out" 2>"$WORK/lost.err" &
runner=$!
for _ in $(seq 1 200); do # day 1 committed (on the run's connection), day 2 fetching
    done_days=$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE status = 'complete'" 2>&1) || true
    [ "${done_days:-0}" -ge 1 ] 2>/dev/null && break
    sleep 0.05
done
main=$(psql_q "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = 'lk_lost') LIMIT 1")
[ -n "$main" ] || fail "no backend holds the run's locks"
psql_q "SELECT pg_terminate_backend($main)" >/dev/null
set +e; wait "$runner"; status=$?; set -e
{ echo "### lost"; cat "$WORK/lost.out" "$WORK/lost.err"; } >>"$WORK/lk-all.log"
[ "$status" -eq 0 ] || { cat "$WORK/lost.err" >&2; fail "run whose own connection was lost exited $status"; }
grep -q "reconnected to PostgreSQL" "$WORK/lost.err" || { cat "$WORK/lost.err" >&2; fail "no reconnect logged"; }
[ "$(psql_q "SELECT status FROM livekit.archive_runs")" = ok ] || fail "the run is not recorded ok"
load_expected "$WORK/expected2"
compare_all
log "the run's connection lost during the last day: reconnected at the gaps, archive exact"
