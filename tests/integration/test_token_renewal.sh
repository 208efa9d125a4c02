#!/usr/bin/env bash
# Token renewal on the wire: a run paced by max_requests_per_minute lasts longer than half its
# tokens' lifetime (token_ttl 60: a token is renewed once fewer than 30 s remain), so each
# project's requests must change token mid-run, on the same connection. The simulator refuses
# an expired token (401, which fails a day at once) and counts the distinct tokens each
# project's accepted requests carried. Run over plain http and, as test_token_renewal_tls,
# over TLS and HTTP/2 (nginx in front; an HTTP/2 connection's header table sees the new
# Authorization).
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
# 7 days x 8 sessions: about 60 requests a project, at 100 a minute about 36 s
sim_start --today "$TODAY" --seed 11 --days 7 --sessions-per-day 8 --participants 2 \
    --connections 3 --active-today 1 --quirks gzip --project p_sim --project p_two \
    --expected-dir "$WORK/expected"
export LIVEKIT_PROJECT_ID=p_sim,p_two
printf 'token_ttl: 60\nmax_requests_per_minute: 100\nparallel_projects: 2\n' >"$WORK/renew.yaml"

start=$(date +%s)
lk --config "$WORK/renew.yaml" run --today "$TODAY"
seconds=$(( $(date +%s) - start ))
expect_status 0 "a run longer than half its tokens' lifetime"
load_expected "$WORK/expected"
compare_all
[ "$seconds" -ge 31 ] || fail "the run took $seconds s: too short to need a new token (pacing off?)"
[ "$(sim_stat unauthorized)" -eq 0 ] || fail "$(sim_stat unauthorized) requests were refused as unauthorized"

stats=$(curl -s "http://127.0.0.1:$SIM_PORT/_sim/stats")
for p in p_sim p_two; do
    tokens=$(printf '%s' "$stats" | sed -n "s/.*\"$p\":{[^}]*\"distinct_tokens\":\([0-9]*\).*/\1/p")
    requests=$(printf '%s' "$stats" | sed -n "s/.*\"$p\":{\"api_requests\":\([0-9]*\).*/\1/p")
    [ -n "$tokens" ] || fail "no distinct_tokens for $p in $stats"
    # one renewal in a ~36 s run (at 30 s); a token per request would be far more
    [ "$tokens" -ge 2 ] || fail "$p: every one of $requests requests carried the same token over $seconds s"
    [ "$tokens" -le 3 ] || fail "$p: $tokens tokens for $requests requests in $seconds s (renewed too often)"
    log "$p: $requests requests over $seconds s with $tokens tokens"
done
if [ "${LK_TEST_TLS:-}" = 1 ]; then
    grep -vq ' HTTP/2.0 ' "$TLS_DIR/access.log" && fail "a request was not HTTP/2"
    awk '$4 == 401' "$TLS_DIR/access.log" | grep -q . && fail "nginx passed on a 401"
    log "over TLS and HTTP/2: $(awk '{print $1}' "$TLS_DIR/access.log" | sort -u | wc -l) connection(s)"
fi
