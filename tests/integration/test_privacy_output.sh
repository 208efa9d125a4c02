#!/usr/bin/env bash
# What lkarchive prints and the bounds that cost a value, not a day (issue 24):
# - an error body that echoes the request's Authorization header, with ESC sequences, a forged
#   line and a U+202E override (the simulator's `echo` fault): `check`, `check --json` and the
#   run's log show no token and nothing a terminal would obey;
# - a plain-http base URL never goes through http_proxy (a recording proxy sees nothing),
#   unless allow_insecure_http is set;
# - list paging stops at max_sessions_per_day with an error naming the day;
# - an identity too long to index (20 KB) costs its session only: the ledger names it, the day
#   completes without it, status shows it, and the closing line's "first error:" says why.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 24 --days 2 --sessions-per-day 12 --participants 2 --connections 2 \
    --active-today 0 --project p_ok --project p_echo --long-identity --quirks odd-strings \
    --fault "echo:match=/project/p_echo/,permanent"
fast_retry_config "$WORK/base.yaml"

# --- check and run against a body that echoes the token
no_raw_controls() { # FILE WHAT: no ESC, BEL, CR, U+202E; no forged line; no JWT
    if grep -q $'\x1b\|\x07\|\r\|\xe2\x80\xae' "$1"; then fail "$2: raw control characters printed"; fi
    if grep -q '^lkarchive: forged line' "$1"; then fail "$2: a forged line printed"; fi
    if grep -qE 'eyJ[A-Za-z0-9_-]{6,}' "$1"; then fail "$2: a token printed"; fi
}
LIVEKIT_PROJECT_ID=p_echo lk --config "$WORK/base.yaml" check --today "$TODAY"
expect_status 4 "check against the echo fault"
cat "$WORK/last.out" "$WORK/last.err" >"$WORK/check.txt"
no_raw_controls "$WORK/check.txt" "check"
grep -q 'authorization\\":\\"\*\*\*\|"authorization":"\*\*\*' "$WORK/check.txt" || grep -q 'authorization.*\*\*\*' "$WORK/check.txt" \
    || { cat "$WORK/check.txt" >&2; fail "check: the echoed Authorization value is not shown redacted"; }
grep -q '\\x1b\[2J' "$WORK/check.txt" || fail "check: the ESC sequence is not shown escaped"
grep -q '\\u202e' "$WORK/check.txt" || fail "check: U+202E is not shown escaped"
LIVEKIT_PROJECT_ID=p_echo lk --config "$WORK/base.yaml" check --json --today "$TODAY"
cp "$WORK/last.out" "$WORK/check.json"
no_raw_controls "$WORK/check.json" "check --json"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$WORK/check.json" \
    || fail "check --json: not JSON lines"
LIVEKIT_PROJECT_ID=p_echo lk --config "$WORK/base.yaml" run --today "$TODAY" --days 1
expect_status 4 "run against the echo fault"
no_raw_controls "$WORK/last.err" "run log"
grep -q 'authorization.*\*\*\*' "$WORK/last.err" || fail "run log: the echoed Authorization value is not redacted"
log "an echoed token and terminal controls: redacted and escaped in check, check --json and the run log"

# --- http_proxy is not used for a plain-http base URL, unless allow_insecure_http
proxy_start
LIVEKIT_PROJECT_ID=p_ok http_proxy="http://127.0.0.1:$PROXY_PORT" lk --config "$WORK/base.yaml" check --today "$TODAY"
expect_status 0 "check with http_proxy set"
grep -q '^proxy: not used: a plain http:// base URL never goes through a proxy' "$WORK/last.out" \
    || { cat "$WORK/last.out" >&2; fail "check does not say the proxy is not used"; }
[ ! -s "$WORK/proxy.log" ] || { cat "$WORK/proxy.log" >&2; fail "a plain-http request went through the proxy"; }
fast_retry_config "$WORK/insecure.yaml" "allow_insecure_http: true"
LIVEKIT_PROJECT_ID=p_ok http_proxy="http://127.0.0.1:$PROXY_PORT" lk --config "$WORK/insecure.yaml" check --today "$TODAY"
grep -q "GET http://127.0.0.1:$SIM_PORT/api/" "$WORK/proxy.log" \
    || { cat "$WORK/proxy.log" >&2; fail "allow_insecure_http: the proxy was not used"; }
: >"$WORK/proxy.log"
proxy_stop
log "http_proxy: never used for plain http (the recording proxy saw nothing) unless allow_insecure_http"

# --- max_sessions_per_day: 12 sessions a day, pages of 5, a bound of 8
fast_retry_config "$WORK/bound.yaml" "page_limit: 5" "max_sessions_per_day: 8"
LIVEKIT_PROJECT_ID=p_ok lk --config "$WORK/bound.yaml" run --today "$TODAY" --days 2
expect_status 4 "run past max_sessions_per_day"
expect_stderr "day 2026-11-19 of project p_ok lists more than 8 sessions"
expect_stderr "max_sessions_per_day"
log "max_sessions_per_day: the list stops at the bound, the error names the day"

# --- a 20 KB identity (incompressible): its session alone is lost, after one retry; and the
# day's ~200 KB room name (odd-strings) is cut at max_string_bytes, its length kept in extra
psql_q "DROP SCHEMA livekit CASCADE" >/dev/null 2>&1
echo "max_string_bytes: 65536" >>"$WORK/base.yaml"
long_day=2026-11-19
for night in 1 2; do
    LIVEKIT_PROJECT_ID=p_ok lk --config "$WORK/base.yaml" run --today "$TODAY" --days 2
    expect_status 1 "night $night with a 20 KB identity"
    expect_stderr "PostgreSQL refused a value; the session is left out of the day"
    grep -q 'detail="first error: session RM_[A-Za-z0-9]*: PostgreSQL refused a value: index row requires' "$WORK/last.err" \
        || { cat "$WORK/last.err" >&2; fail "night $night: the closing line's first error does not say why"; }
    state=$(psql_q "SELECT status || '/' || COALESCE(pending_reason, '') FROM livekit.archive_days WHERE day = '$long_day'")
    want=$([ "$night" = 1 ] && echo "pending/refused sessions" || echo "complete/")
    [ "$state" = "$want" ] || fail "night $night: the day is $state, expected $want"
    [ "$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE day = '$long_day' AND last_error ~ '^session RM_[A-Za-z0-9]+: PostgreSQL refused a value: index row requires'")" -eq 1 ] \
        || fail "night $night: the ledger does not name the session and the reason"
done
[ "$(psql_q "SELECT count(*) FROM livekit.sessions WHERE list_day = '$long_day'")" -eq 11 ] || fail "the other sessions of the day are not all archived"
LIVEKIT_PROJECT_ID=p_ok lk --config "$WORK/base.yaml" status --today "$TODAY"
grep -E "^p_ok +$long_day +complete .*session RM_[A-Za-z0-9]+: PostgreSQL refused a value" "$WORK/last.out" \
    || { cat "$WORK/last.out" >&2; fail "status does not show the refused session"; }
log "a 20 KB identity: its session left out and named, the day complete on the second night, status shows it"
cut=$(psql_q "SELECT count(*) FROM livekit.sessions WHERE room_name ~ '\\.\\.\\.\\[lkarchive: cut from [0-9]+ bytes\\]\$' AND octet_length(room_name) < 65536 + 64 AND (extra->>'roomName.original_bytes')::bigint > 65536")
[ "$cut" -ge 2 ] || fail "the huge room names are not cut with a marker and their length ($cut)"
log "strings over max_string_bytes: cut with a marker, the original length in extra ($cut room names)"
