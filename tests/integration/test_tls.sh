#!/usr/bin/env bash
# HTTPS as users meet it: nginx (TLS, HTTP/2) in front of the simulator, with a CA made for
# the test. A first load over https with ca_file is exact and multiplexed (one connection,
# many HTTP/2 streams); a CA file that is not PEM is refused naming it; a wrong CA, or a host
# name the certificate does not name, fails fast (no retry: at most 2 requests a project),
# says why and how to fix it, and every project still gets its turn; HTTPS_PROXY carries the
# run through a CONNECT proxy that never sees the token; NO_PROXY bypasses it.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 7 --days 7 --sessions-per-day 30 --participants 3 \
    --connections 4 --active-today 2 --quirks all --project p_sim --project p_two \
    --expected-dir "$WORK/expected"
tls_start
export LIVEKIT_PROJECT_ID=p_sim,p_two
ACCESS=$TLS_DIR/access.log
requests_of_last_run() { psql_q "SELECT requests FROM livekit.archive_runs ORDER BY run_id DESC LIMIT 1"; }

# ---- a CA file that is not PEM, or not there: refused at once, the file named ----
printf 'not a certificate\n' >"$WORK/bad.pem"
LKARCHIVE_CA_FILE=$WORK/bad.pem lk check --today "$TODAY"
expect_status 3 "a CA file without PEM"
expect_stderr "the CA file .*$WORK/bad.pem.* is not PEM"
expect_stderr "LKARCHIVE_CA_FILE"
printf 'ca_file: missing.pem\n' >"$WORK/ca.yaml"
env -u LKARCHIVE_CA_FILE "$LKARCHIVE_BIN" --config "$WORK/ca.yaml" run --today "$TODAY" \
    >"$WORK/missing.out" 2>"$WORK/missing.err" && fail "a missing ca_file was accepted"
grep -q "ca.yaml:1 (ca_file): could not read the CA file .*$WORK/missing.pem" "$WORK/missing.err" \
    || { cat "$WORK/missing.err" >&2; fail "a missing ca_file (beside the config file) is not named"; }
# LKARCHIVE_CA_FILE wins, and then the file's ca_file is not even opened
LKARCHIVE_CA_FILE=$TLS_DIR/ca.pem lk --config "$WORK/ca.yaml" check --today "$TODAY"
expect_status 0 "LKARCHIVE_CA_FILE over a missing ca_file"
grep -q "CA file $TLS_DIR/ca.pem (LKARCHIVE_CA_FILE)" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "check does not name the CA file"; }

# ---- without the test CA: the system store does not trust it; fails fast, says why ----
: >"$ACCESS"
start=$(date +%s%N)
status=0
env -u LKARCHIVE_CA_FILE "$LKARCHIVE_BIN" run --today "$TODAY" >"$WORK/untrusted.out" 2>"$WORK/untrusted.err" || status=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cat "$WORK/untrusted.out" "$WORK/untrusted.err" >>"$WORK/lk-all.log"
[ "$status" -eq 4 ] || { cat "$WORK/untrusted.err" >&2; fail "untrusted certificate: exit $status, expected 4"; }
grep -q "retrying" "$WORK/untrusted.err" && fail "an untrusted certificate was retried"
for p in p_sim p_two; do
    n=$(grep -c "project=$p .*request to https://127.0.0.1:$TLS_PORT/api/project/$p/sessions.*failed: SSL peer certificate" "$WORK/untrusted.err" || true)
    [ "$n" -eq 1 ] || { cat "$WORK/untrusted.err" >&2; fail "$p: $n messages naming the URL and the certificate, expected 1"; }
done
grep -q "set ca_file (or LKARCHIVE_CA_FILE)" "$WORK/untrusted.err" || fail "the fix (ca_file) is not said"
requests=$(requests_of_last_run)
[ "$requests" -le 4 ] || fail "untrusted certificate: $requests requests for 2 projects, expected at most 2 each"
[ "$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE status = 'failed' AND last_error LIKE '%SSL peer certificate%'")" -eq 14 ] \
    || fail "every day of both projects should be failed with the certificate named"
[ -s "$ACCESS" ] && fail "a request crossed an untrusted TLS connection"
log "untrusted certificate: exit 4 in $ms ms, $requests requests for 2 projects, one message each"

# the wrong CA file, and a host name the certificate does not name: the same, fast
LKARCHIVE_CA_FILE=$TLS_DIR/wrong-ca.pem lk run --today "$TODAY" --days 2
expect_status 4 "the wrong CA"
expect_stderr "the CA file holds the CA that signed"
[ "$(requests_of_last_run)" -le 4 ] || fail "the wrong CA: more than 2 requests a project"
LIVEKIT_ANALYTICS_URL=https://localhost:$TLS_PORT lk run --today "$TODAY" --days 2
expect_status 4 "a host name the certificate does not name"
expect_stderr "localhost"
expect_stderr "does not name the base URL's host"
[ "$(requests_of_last_run)" -le 4 ] || fail "name mismatch: more than 2 requests a project"
grep -q retrying "$WORK/last.err" && fail "a name mismatch was retried"

# ---- the first load over https with ca_file: exact, HTTP/2, multiplexed ----
printf 'ca_file: tls/ca.pem\nparallel_projects: 1\n' >"$WORK/good.yaml"
: >"$ACCESS"
LK_STATUS=0
env -u LKARCHIVE_CA_FILE "$LKARCHIVE_BIN" --config "$WORK/good.yaml" run --today "$TODAY" \
    >"$WORK/last.out" 2>"$WORK/last.err" || LK_STATUS=$?
cat "$WORK/last.out" "$WORK/last.err" >>"$WORK/lk-all.log"
expect_status 0 "first load over https"
load_expected "$WORK/expected"
compare_all
total=$(wc -l <"$ACCESS")
[ "$total" -gt 100 ] || fail "only $total requests reached nginx"
grep -vq ' HTTP/2.0 ' "$ACCESS" && { grep -v ' HTTP/2.0 ' "$ACCESS" | head >&2; fail "a request was not HTTP/2"; }
plain=$(awk '$4 == 200 && $5 != "gzip"' "$ACCESS" | wc -l)
[ "$plain" -eq 0 ] || fail "$plain answers of 200 crossed TLS without gzip (--quirks all gzips them)"
connections=$(awk '{print $1}' "$ACCESS" | sort -u | wc -l)
most=$(awk '$2 > m {m = $2} END {print m}' "$ACCESS")
[ "$connections" -le 2 ] || fail "$connections TLS connections for $total requests (expected one per worker)"
[ "$most" -ge $((total / 2)) ] || fail "at most $most requests on one connection of $total"
log "first load over https: $total requests, HTTP/2, gzip, $connections connection(s), up to $most streams on one"

# ---- http2: false: the same load over HTTP/1.1 (curl's --http1.1), exact ----
printf 'ca_file: tls/ca.pem\nparallel_projects: 1\nhttp2: false\n' >"$WORK/h1.yaml"
: >"$ACCESS"
lk --config "$WORK/h1.yaml" run --today "$TODAY" --full
expect_status 0 "a full run over https with http2: false"
compare_all
total=$(wc -l <"$ACCESS")
[ "$total" -gt 100 ] || fail "http2: false: only $total requests reached nginx"
grep -vq ' HTTP/1.1 ' "$ACCESS" && { grep -v ' HTTP/1.1 ' "$ACCESS" | head >&2; fail "http2: false: a request was not HTTP/1.1"; }
lk --config "$WORK/h1.yaml" check --today "$TODAY"
expect_status 0 "check with http2: false"
grep -q "HTTP/1.1 (http2: false)" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "check does not say HTTP/1.1"; }
log "http2: false: $total requests over HTTP/1.1 on $(awk '{print $1}' "$ACCESS" | sort -u | wc -l) connection(s)"

# ---- HTTPS_PROXY: a CONNECT proxy carries the run and sees only TLS ----
proxy_start
HTTPS_PROXY=http://127.0.0.1:$PROXY_PORT lk run --today "$TODAY" --full
expect_status 0 "a run through the CONNECT proxy"
compare_all
grep -q "^CONNECT 127.0.0.1:$TLS_PORT HTTP/1.1" "$WORK/proxy.log" || { cat "$WORK/proxy.log" >&2; fail "the proxy saw no CONNECT to the API"; }
grep -v "^CONNECT \|^Host: \|^User-Agent: \|^Proxy-Connection: \|^$" "$WORK/proxy.log" >&2 && fail "the proxy saw more than a CONNECT head"
[ "$(stat -c %s "$WORK/proxy.bytes")" -gt 10000 ] || fail "the proxy carried almost nothing"
for needle in Bearer Authorization "$LIVEKIT_API_SECRET" eyJ "$LIVEKIT_API_KEY" /api/project; do
    grep -aqF -- "$needle" "$WORK/proxy.bytes" "$WORK/proxy.log" && fail "the proxy saw \"${needle:0:6}...\" in clear"
done
log "HTTPS_PROXY: $(grep -c '^CONNECT' "$WORK/proxy.log") CONNECT(s), $(stat -c %s "$WORK/proxy.bytes") bytes of TLS, no token"

# NO_PROXY names the API's host: the proxy is not used
: >"$WORK/proxy.log"
HTTPS_PROXY=http://127.0.0.1:$PROXY_PORT NO_PROXY=127.0.0.1 lk run --today "$TODAY" --days 1
expect_status 0 "NO_PROXY"
[ -s "$WORK/proxy.log" ] && fail "NO_PROXY: the proxy was used"
proxy_stop
log "NO_PROXY bypasses the proxy"
