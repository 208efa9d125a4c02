#!/usr/bin/env bash
# Token renewal on the wire: a run paced by max_requests_per_minute lasts longer than half its
# tokens' lifetime (token_ttl 60: a token is renewed once fewer than 30 s remain), so each
# project's requests must change token mid-run, on the same connection. The simulator refuses
# an expired token (401, which fails a day at once) and counts the distinct tokens each
# project's accepted requests carried. Two runs side by side, so the test costs one run's time:
# over plain http (one simulator) and over TLS and HTTP/2 (nginx in front of a second, same
# dataset; an HTTP/2 connection's header table sees the new Authorization), each into a
# database of its own.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
SIM_ARGS=(--today "$TODAY" --seed 11 --days 7 --sessions-per-day 8 --participants 2
    --connections 3 --active-today 1 --quirks gzip --project p_sim --project p_two)
pg_start
psql_q "CREATE DATABASE over_tls" >/dev/null
# 7 days x 8 sessions: about 60 requests a project, at 100 a minute about 36 s
sim_start "${SIM_ARGS[@]}" --expected-dir "$WORK/expected"
PLAIN_URL=$LIVEKIT_ANALYTICS_URL PLAIN_SIM_PORT=$SIM_PORT
sim_start_another sim2 "${SIM_ARGS[@]}"
SIM2_PORT=$LAUNCHED_PORT
SIM_PORT=$SIM2_PORT tls_start
TLS_URL=$LIVEKIT_ANALYTICS_URL
export LIVEKIT_PROJECT_ID=p_sim,p_two
printf 'token_ttl: 60\nmax_requests_per_minute: 100\nparallel_projects: 2\n' >"$WORK/renew.yaml"

# both runs at once, each timed, each into its own database
run_one() { # run_one NAME URL DATABASE
    local start status=0
    start=$(date +%s)
    LIVEKIT_ANALYTICS_URL=$2 PGDATABASE=$3 DATABASE_URL="host=$PGHOST port=$PGPORT user=$PGUSER dbname=$3" \
        "$LKARCHIVE_BIN" --config "$WORK/renew.yaml" run --today "$TODAY" \
        >"$WORK/$1.out" 2>"$WORK/$1.err" || status=$?
    echo "$status $(( $(date +%s) - start ))" >"$WORK/$1.result"
}
run_one plain "$PLAIN_URL" "$PGDATABASE" &
plain_pid=$!
run_one tls "$TLS_URL" over_tls &
tls_pid=$!
wait "$plain_pid" "$tls_pid"

load_expected "$WORK/expected"
for name in plain tls; do
    read -r status seconds <"$WORK/$name.result"
    [ "$status" -eq 0 ] || { cat "$WORK/$name.err" >&2; fail "$name: the run exited $status"; }
    [ "$seconds" -ge 31 ] || fail "$name: the run took $seconds s: too short to need a new token (pacing off?)"
    if [ "$name" = tls ]; then
        port=$SIM2_PORT db=over_tls
        PGDATABASE=over_tls load_expected "$WORK/expected"
        PGDATABASE=over_tls compare_all
    else
        port=$PLAIN_SIM_PORT db=$PGDATABASE
        compare_all
    fi
    stats=$(curl -s "http://127.0.0.1:$port/_sim/stats")
    unauthorized=$(SIM_PORT=$port sim_stat unauthorized)
    [ "$unauthorized" -eq 0 ] || fail "$name: $unauthorized requests were refused as unauthorized"
    for p in p_sim p_two; do
        tokens=$(printf '%s' "$stats" | sed -n "s/.*\"$p\":{[^}]*\"distinct_tokens\":\([0-9]*\).*/\1/p")
        requests=$(printf '%s' "$stats" | sed -n "s/.*\"$p\":{\"api_requests\":\([0-9]*\).*/\1/p")
        [ -n "$tokens" ] || fail "$name: no distinct_tokens for $p in $stats"
        # one renewal in a ~36 s run (at 30 s); a token per request would be far more
        [ "$tokens" -ge 2 ] || fail "$name, $p: every one of $requests requests carried the same token over $seconds s"
        [ "$tokens" -le 3 ] || fail "$name, $p: $tokens tokens for $requests requests in $seconds s (renewed too often)"
        log "$name, $p: $requests requests over $seconds s with $tokens tokens (database $db)"
    done
done
grep -vq ' HTTP/2.0 ' "$TLS_DIR/access.log" && fail "a request over TLS was not HTTP/2"
awk '$4 == 401' "$TLS_DIR/access.log" | grep -q . && fail "nginx passed on a 401"
log "over TLS and HTTP/2: $(awk '{print $1}' "$TLS_DIR/access.log" | sort -u | wc -l) connection(s)"
