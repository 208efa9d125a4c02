#!/usr/bin/env bash
# The simulator's rate limit and latency, over HTTP with curl (no lkarchive, no PostgreSQL):
# --rate-limit gives each project its own token bucket (a burst of BURST accepted, then 429
# with Retry-After, accepted again after waiting it), --project-rate-limit overrides it for one
# project (its default burst PER_MIN/30), a 401 takes no token, a throttled request gets no
# fault; --rate-limit-headers adds X-RateLimit-* to a limited project's answers and nothing
# without it; --latency-ms delays every answer without serializing parallel requests (one MHD
# thread); /_sim/stats counts throttled requests, per project too, while the top-level
# counters stay readable by lib.sh's greedy sed (sim_stat).
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
DATA=(--today "$TODAY" --days 2 --sessions-per-day 5 --active-today 1)

# A token as lkarchive signs it: HS256, iss = the API key, sub, nbf, exp, the roomList grant.
TOKEN=$(python3 - "$LIVEKIT_API_KEY" "$LIVEKIT_API_SECRET" <<'PY'
import base64, hashlib, hmac, json, sys, time
key, secret = sys.argv[1], sys.argv[2]
enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
head = enc(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
claims = {"iss": key, "sub": "test", "nbf": now - 10, "exp": now + 3600,
          "video": {"roomList": True}}
body = enc(json.dumps(claims).encode())
sig = enc(hmac.new(secret.encode(), (head + "." + body).encode(), hashlib.sha256).digest())
print(head + "." + body + "." + sig)
PY
)

# get PATH [curl options]: one authenticated GET of /api/project/PATH; prints the status,
# keeps the headers in $WORK/headers and the body in $WORK/body
get() {
    local path=$1; shift
    curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@" \
        -H "Authorization: Bearer $TOKEN" "$LIVEKIT_ANALYTICS_URL/api/project/$path"
}
list() { get "$1/sessions?limit=1&start=$TODAY&end=$TODAY"; }
# header NAME: the number in the last answer's header NAME; empty when it has none
header() { sed -n "s/^$1: *\([0-9]*\).*/\1/Ip" "$WORK/headers"; }
has_ratelimit_headers() { grep -qi '^X-RateLimit-' "$WORK/headers"; }
# expect_list PROJECT STATUS WHAT: one list request of PROJECT answers STATUS
expect_list() {
    local got; got=$(list "$1")
    [ "$got" = "$2" ] || fail "$3: $1 answered $got, expected $2 ($(cat "$WORK/body"))"
}
# project_stat PROJECT NAME: a per-project counter of /_sim/stats
project_stat() {
    curl -s "$LIVEKIT_ANALYTICS_URL/_sim/stats" | sed -n "s/.*\"$1\":{\([^}]*\)}.*/\1/p" |
        sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}
expect_stat() {
    local got; got=$(sim_stat "$1")
    [ "$got" = "$2" ] || fail "stats $1 = '$got', expected $2 ($(curl -s "$LIVEKIT_ANALYTICS_URL/_sim/stats"))"
}
expect_project_stat() {
    local got; got=$(project_stat "$1" "$2")
    [ "$got" = "$3" ] || fail "stats projects.$1.$2 = '$got', expected $3"
}

# ---- usage errors: exit 2 naming the option and the value --------------------------------
usage_error() {
    local want=$1; shift
    set +e
    "$LKSIM_BIN" --api-key K --api-secret S --today "$TODAY" "$@" >"$WORK/usage.out" 2>&1
    local status=$?
    set -e
    [ "$status" -eq 2 ] || fail "lkarchive-sim $*: exit $status, expected 2"
    grep -q -- "$want" "$WORK/usage.out" || { cat "$WORK/usage.out" >&2; fail "lkarchive-sim $*: no '$want'"; }
}
usage_error "--rate-limit.*'0'" --rate-limit 0
usage_error "--rate-limit.*'60:0'" --rate-limit 60:0
usage_error "--rate-limit.*'x60'" --rate-limit x60
usage_error "--project-rate-limit.*'p_b:60'" --project p_a --project-rate-limit p_b:60
usage_error "--project-rate-limit.*'p_a:60:0'" --project p_a --project-rate-limit p_a:60:0
usage_error "--latency-ms" --latency-ms 60001
"$LKSIM_BIN" --help | grep -q -- "--rate-limit PER_MIN\[:BURST\]" || fail "--help lacks --rate-limit"
"$LKSIM_BIN" --help | grep -q -- "--latency-ms N" || fail "--help lacks --latency-ms"

# ---- bursts, 429 + Retry-After, separate projects, overrides, no headers by default -------
# p_a, p_b: 60 a minute, burst 3 (one token a second); p_c: 30 a minute, default burst
# 30/30 = 1 (a token every 2 s); p_d: 12 a minute, burst 5 (a token every 5 s); p_e: the
# global limit, and every request of it faulted with a 503
sim_start "${DATA[@]}" --project p_a --project p_b --project p_c --project p_d --project p_e \
    --rate-limit 60:3 --project-rate-limit p_c:30 --project-rate-limit p_d:99 \
    --project-rate-limit p_d:12:5 --fault 503:match=/p_e/,permanent
for i in 1 2 3; do
    expect_list p_a 200 "p_a request $i of its burst of 3"
    if has_ratelimit_headers; then fail "X-RateLimit-* sent without --rate-limit-headers"; fi
done
expect_list p_a 429 "p_a past its burst"
RETRY=$(header Retry-After)
[ "$RETRY" = 1 ] || fail "p_a's 429: Retry-After '$RETRY', expected 1 (a token a second)"
grep -qx '{"error":"too many requests"}' "$WORK/body" || fail "429 body: $(cat "$WORK/body")"
if has_ratelimit_headers; then fail "X-RateLimit-* on a 429 without --rate-limit-headers"; fi
expect_list p_a 429 "p_a again at once"
# exhausting p_a does not throttle p_b: its own bucket, full
for i in 1 2 3; do expect_list p_b 200 "p_b request $i while p_a is exhausted"; done
expect_list p_b 429 "p_b past its own burst"
# a bad token takes no token and stays a 401
[ "$(curl -s -o /dev/null -w '%{http_code}' "$LIVEKIT_ANALYTICS_URL/api/project/p_a/sessions")" = 401 ] \
    || fail "a request without a token to an exhausted project is not a 401"
sleep "$RETRY.2"
expect_list p_a 200 "p_a after waiting Retry-After"
# p_c: --project-rate-limit p_c:30 overrides --rate-limit 60:3, default burst 1
expect_list p_c 200 "p_c's only token"
expect_list p_c 429 "p_c past its burst of 1"
RETRY=$(header Retry-After)
[ "$RETRY" -ge 1 ] && [ "$RETRY" -le 2 ] || fail "p_c's Retry-After '$RETRY', expected 2 (a token every 2 s)"
# p_d: the later --project-rate-limit wins: burst 5, a token every 5 s
for i in 1 2 3 4 5; do expect_list p_d 200 "p_d request $i of its burst of 5"; done
expect_list p_d 429 "p_d past its burst of 5"
RETRY=$(header Retry-After)
[ "$RETRY" -ge 4 ] && [ "$RETRY" -le 5 ] || fail "p_d's Retry-After '$RETRY', expected 5"
# p_e: the rate limit comes before the fault rules: 3 faults, then 429s (not faults)
for i in 1 2 3; do expect_list p_e 503 "p_e request $i (faulted)"; done
expect_list p_e 429 "p_e past its burst (throttled, not faulted)"
grep -q "429 GET /api/project/p_a/sessions: rate limit of p_a (60 a minute), retry after 1 s" \
    "$WORK/sim.log" || { cat "$WORK/sim.log" >&2; fail "no 429 log line"; }
# stats: list 200s p_a 4 + p_b 3 + p_c 1 + p_d 5 = 13; throttled p_a 2 + p_b 1 + p_c 1 +
# p_d 1 + p_e 1 = 6; the top-level counters read by sim_stat's greedy sed
expect_stat list 13
expect_stat details 0
expect_stat throttled 6
expect_stat faults 3
expect_stat unauthorized 1
expect_stat errors 0
expect_project_stat p_a api_requests 6
expect_project_stat p_a list_requests 4
expect_project_stat p_a throttled_requests 2
expect_project_stat p_b api_requests 4
expect_project_stat p_b throttled_requests 1
expect_project_stat p_c list_requests 1
expect_project_stat p_d list_requests 5
expect_project_stat p_e api_requests 4
expect_project_stat p_e list_requests 3
expect_project_stat p_e throttled_requests 1
# the existing fields first, in their order, then the new ones
curl -s "$LIVEKIT_ANALYTICS_URL/_sim/stats" | grep -q \
    '^{"requests":[0-9]*,"list":13,"details":0,"unauthorized":1,"errors":0,"faults":3,"throttled":6,"projects":{"p_a":{' \
    || fail "stats layout: $(curl -s "$LIVEKIT_ANALYTICS_URL/_sim/stats")"
sim_stop

# ---- --rate-limit-headers: on every answer of a limited project, on none of another -------
sim_start "${DATA[@]}" --project p_a --project p_free --project-rate-limit p_a:60:3 \
    --rate-limit-headers --quiet
# expect_headers REMAINING RESET: the last answer's X-RateLimit-*
expect_headers() {
    [ "$(header X-RateLimit-Limit)" = 60 ] && [ "$(header X-RateLimit-Remaining)" = "$1" ] &&
        [ "$(header X-RateLimit-Reset)" = "$2" ] ||
        fail "X-RateLimit-* should be 60/$1/$2: $(grep -i '^X-RateLimit' "$WORK/headers" | tr -d '\r' | tr '\n' ' ')"
}
expect_list p_a 200 "p_a 1/3 with headers"
expect_headers 2 0
SESSION=$(sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p' "$WORK/body")
[ -n "$SESSION" ] || fail "no sessionId in the list answer"
# details take a token too
[ "$(get "p_a/sessions/$SESSION")" = 200 ] || fail "p_a details 2/3"
expect_headers 1 0
# an answer that is not a 200 carries them too (404 of an unknown session)
[ "$(get "p_a/sessions/RM_nosuchsession")" = 404 ] || fail "p_a unknown session 3/3"
expect_headers 0 1
expect_list p_a 429 "p_a past its burst, with headers"
expect_headers 0 1
[ "$(header Retry-After)" = 1 ] || fail "Retry-After with --rate-limit-headers"
for i in 1 2 3 4 5; do
    expect_list p_free 200 "an unlimited project, request $i"
    if has_ratelimit_headers; then fail "X-RateLimit-* on an unlimited project's answer"; fi
done
expect_stat details 1
expect_stat errors 1
expect_stat throttled 1
expect_project_stat p_a api_requests 4
expect_project_stat p_a details_requests 2
expect_project_stat p_free api_requests 5
expect_project_stat p_free throttled_requests 0
sim_stop

# ---- --latency-ms: each answer late, parallel requests not serialized (one MHD thread) ----
sim_start "${DATA[@]}" --project p_a --project p_b --project-rate-limit p_b:60:1 \
    --latency-ms 300 --threads 1 --quiet
ARGS=()
for i in $(seq 1 20); do
    ARGS+=(-o /dev/null -w '%{http_code} %{time_total}\n'
        "$LIVEKIT_ANALYTICS_URL/api/project/p_a/sessions?limit=2&start=$TODAY&end=$TODAY&n=$i")
done
START=$(date +%s%N)
# --parallel-immediate: open 20 connections at once (else curl waits to reuse the first ones)
curl -s --parallel --parallel-immediate --parallel-max 20 -H "Authorization: Bearer $TOKEN" \
    "${ARGS[@]}" >"$WORK/parallel.txt"
ELAPSED_MS=$((($(date +%s%N) - START) / 1000000))
log "20 parallel requests at --latency-ms 300, --threads 1: ${ELAPSED_MS} ms in all;" \
    "each $(sort -k2 -n "$WORK/parallel.txt" | awk 'NR == 1 { a = $2 } END { printf "%.3f..%.3f s", a, $2 }')"
[ "$(grep -c '^200 ' "$WORK/parallel.txt")" = 20 ] || fail "parallel answers: $(cat "$WORK/parallel.txt")"
awk '$2 < 0.29 { bad = 1 } END { exit bad }' "$WORK/parallel.txt" ||
    fail "an answer came before its 300 ms latency: $(cat "$WORK/parallel.txt")"
# serialized on one thread they would take 20 x 300 ms = 6 s
[ "$ELAPSED_MS" -lt 3000 ] || fail "20 parallel requests took ${ELAPSED_MS} ms: latency serializes them"
# a 429 is late too; the decision is taken on arrival (the second request finds no token)
timed() {
    curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" \
        "$LIVEKIT_ANALYTICS_URL/api/project/$1/sessions"
}
OUT=$(timed p_b)
[ "${OUT%% *}" = 200 ] || fail "p_b 1/1 under latency: $OUT"
OUT=$(timed p_b)
[ "${OUT%% *}" = 429 ] || fail "p_b past its burst under latency: $OUT"
awk -v t="${OUT#* }" 'BEGIN { exit !(t >= 0.29) }' || fail "a 429 came before its latency: $OUT"
expect_stat list 21
expect_stat throttled 1
expect_project_stat p_a list_requests 20
sim_stop
log "ok"
