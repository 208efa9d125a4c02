#!/usr/bin/env bash
# Under an API that limits each project per minute (the simulator's token buckets, 429 with
# Retry-After, 40 ms a response): lkarchive paces each project so that 429s stay rare, keeps
# the pace it learned for the next night, asks for no list page after a short one, fetches
# projects side by side, honours max_requests_per_minute (per project too) and rate-limit
# headers, and says at the start when the night will not fit in run_budget. Every run's
# archive is compared with the simulator's expected rows.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
# proj_stat ID FIELD: a per-project counter of the simulator (api_requests, list_requests,
# details_requests, throttled_requests)
proj_stat() {
    curl -s "http://127.0.0.1:$SIM_PORT/_sim/stats" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["projects"][sys.argv[1]][sys.argv[2]])' "$1" "$2"
}
fresh_db() { psql_q "DROP SCHEMA IF EXISTS livekit CASCADE; DROP SCHEMA IF EXISTS livekit_bi CASCADE; DROP SCHEMA IF EXISTS expected CASCADE" >/dev/null 2>&1; }
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$(now) - $1:.2f}')"; }
# start_sim PROJECTS... -- SIM OPTIONS: 2 days of 12 sessions per project, each project
# limited to 240 a minute (burst 8) unless the options say otherwise
start_sim() {
    local args=()
    for p in "$@"; do [ "$p" = -- ] && break; args+=(--project "$p"); shift; done
    [ "${1:-}" = -- ] && shift
    sim_start "${args[@]}" --today "$TODAY" --seed 5 --days 2 --sessions-per-day 12 \
        --participants 2 --connections 3 --active-today 0 --latency-ms 40 --quiet \
        --expected-dir "$WORK/expected" "$@"
}
check_archive() {
    load_expected "$WORK/expected"
    compare_all
}

# 1. Pacing: one project, a first night at 240 a minute. It needs 2 list pages and 24 details;
#    the burst of 8 goes at once, then the pace learns the limit from its 429s.
fresh_db
start_sim p_a -- --rate-limit 240:8
export LIVEKIT_PROJECT_ID=p_a
t0=$(now)
lk run --today "$TODAY" --days 2
expect_status 0 "first night under a limit"
one_project_s=$(elapsed "$t0")
answered=$(proj_stat p_a api_requests); throttled=$(proj_stat p_a throttled_requests)
log "first night: $answered answered, $throttled 429s, ${one_project_s} s"
[ "$(proj_stat p_a list_requests)" -eq 2 ] || fail "asked for $(proj_stat p_a list_requests) list pages, 2 needed"
[ "$(proj_stat p_a details_requests)" -eq 24 ] || fail "asked for details $(proj_stat p_a details_requests) times, 24 needed"
[ "$throttled" -le 3 ] || fail "$throttled answers were 429 (a limit learned costs a few at most)"
check_archive
rate=$(psql_q "SELECT round(requests_per_minute) FROM livekit.api_rate_limits WHERE project_id = 'p_a' AND api_key = '$LIVEKIT_API_KEY' AND limited AND last_run_requests = $answered")
[ -n "$rate" ] || fail "the learned rate was not saved: $(psql_q 'TABLE livekit.api_rate_limits')"
[ "$rate" -ge 120 ] && [ "$rate" -le 300 ] || fail "learned $rate a minute for a limit of 240"
expect_no_secret

# 2. The next night starts from the learned rate: no 429 at all, said in the log; the metrics
#    name the project's requests by status, its rate, its wait and its days at risk.
before=$(proj_stat p_a throttled_requests)
lk run --today "$TODAY" --days 2 --full --metrics-file "$WORK/metrics.prom"
expect_status 0 "next night"
for series in 'lkarchive_last_run_project_requests{project="p_a",code="200"} [1-9]' \
    'lkarchive_rate_limit_requests_per_minute{project="p_a",limited="true"} [0-9]' \
    'lkarchive_last_run_rate_limit_wait_seconds{project="p_a"} [0-9]' \
    'lkarchive_at_risk{project="p_a"} 0'; do
    grep -q "^$series" "$WORK/metrics.prom" || { cat "$WORK/metrics.prom" >&2; fail "metrics lack $series"; }
done
expect_stderr "requests start at"
[ "$(proj_stat p_a throttled_requests)" -eq "$before" ] || fail "the next night drew 429s: $(($(proj_stat p_a throttled_requests) - before))"
log "next night: started at the learned rate, no 429"
lk status --today "$TODAY" --days 2
expect_status 0 "status"
grep -Eq "^p_a: requests paced at [0-9]+ a minute \(the API's limit as learned\); last run [1-9][0-9]* requests, 0 answered 429" "$WORK/last.out" ||
    { cat "$WORK/last.out" >&2; fail "status does not show the learned rate and the last run's requests"; }
sim_stop

# 3. Projects side by side: three projects, each limited separately, take about as long as
#    one (one after another they would take three times as long).
fresh_db
start_sim p_a p_b p_c -- --rate-limit 240:8
export LIVEKIT_PROJECT_ID=p_a,p_b,p_c
t0=$(now)
lk run --today "$TODAY" --days 2
expect_status 0 "three projects side by side"
three_projects_s=$(elapsed "$t0")
log "three projects side by side: ${three_projects_s} s (one alone: ${one_project_s} s)"
python3 -c "import sys; sys.exit(0 if $three_projects_s < 2 * $one_project_s else 1)" ||
    fail "three projects took ${three_projects_s} s, one took ${one_project_s} s: not side by side"
for p in p_a p_b p_c; do
    [ "$(proj_stat $p list_requests)" -eq 2 ] || fail "$p: $(proj_stat $p list_requests) list pages"
    [ "$(proj_stat $p throttled_requests)" -le 3 ] || fail "$p: $(proj_stat $p throttled_requests) 429s"
done
# every day line names its project, whole
[ "$(grep -cE '^p_[abc] +2026-11-(19|20) ' "$WORK/last.out")" -eq 6 ] ||
    { cat "$WORK/last.out" >&2; fail "day lines interleaved or missing"; }
grep -v '^time=' "$WORK/last.err" | grep -q . && { cat "$WORK/last.err" >&2; fail "a log line cut or interleaved"; }
check_archive
[ "$(psql_q "SELECT count(*) FROM livekit.api_rate_limits")" -eq 3 ] || fail "a rate per project"
sim_stop

# Over TLS (test_rate_limit_tls) the wire is what differs: pacing, the learned rate and side by
# side above cover it; the ceiling, the headers and the budget are the same code over either.
if [ "${LK_TEST_TLS:-}" = 1 ]; then
    log "over TLS: pacing, the learned rate and side by side checked; the rest runs over http"
    exit 0
fi

# 4. A ceiling: p_a may make 120 requests a minute (its own), the limit is 240: no 429, and
#    2 a second at most (26 requests: 12.5 s at least).
fresh_db
start_sim p_a -- --rate-limit 240:8
cat >"$WORK/ceiling.yaml" <<'YAML'
projects:
  - id: p_a
    max_requests_per_minute: 120
YAML
unset LIVEKIT_PROJECT_ID
t0=$(now)
lk --config "$WORK/ceiling.yaml" run --today "$TODAY" --days 2
expect_status 0 "a ceiling"
ceiling_s=$(elapsed "$t0")
[ "$(proj_stat p_a throttled_requests)" -eq 0 ] || fail "429s under a ceiling below the limit"
python3 -c "import sys; sys.exit(0 if $ceiling_s >= 12.0 else 1)" || fail "120 a minute took only ${ceiling_s} s"
[ "$(psql_q "SELECT requests_per_minute <= 120 FROM livekit.api_rate_limits")" = t ] || fail "rate above the ceiling"
log "ceiling 120 a minute: ${ceiling_s} s, no 429"
sim_stop

# 5. Rate-limit headers: the limit is read from them, no 429 is needed to learn it.
fresh_db
start_sim p_a -- --rate-limit 240:8 --rate-limit-headers
export LIVEKIT_PROJECT_ID=p_a
lk run --today "$TODAY" --days 2
expect_status 0 "headers"
[ "$(proj_stat p_a throttled_requests)" -eq 0 ] || fail "$(proj_stat p_a throttled_requests) 429s although the headers said the limit"
check_archive
log "headers: the limit read from X-RateLimit-*, no 429"
sim_stop

# 6. The budget: a limit learned on a night of one day, then a night of 7 days at 60 a minute
#    cannot fit in a run_budget of 20 s: said at the start with the figures; the days not
#    complete go first, oldest first.
fresh_db
sim_start --project p_a --today "$TODAY" --seed 5 --days 7 --sessions-per-day 12 --participants 2 \
    --connections 3 --active-today 0 --quiet --rate-limit 60:2
export LIVEKIT_PROJECT_ID=p_a
lk run --today "$TODAY" --days 1
printf 'run_budget: 20\n' >"$WORK/budget.yaml"
lk --config "$WORK/budget.yaml" run --today "$TODAY"
grep -q "requests expected at .* a minute: ~.* min, more than run_budget" "$WORK/last.err" ||
    { cat "$WORK/last.err" >&2; fail "no budget warning"; }
expect_stderr "the days not yet complete go first"
[ "$LK_STATUS" -ne 0 ] || fail "a night over its budget exited 0"
# the oldest day was archived first
first_day=$(grep -oE '^p_a +2026-11-[0-9]+' "$WORK/last.out" | head -1 | awk '{print $2}')
[ "$first_day" = 2026-11-14 ] || { cat "$WORK/last.out" >&2; fail "first day archived: $first_day"; }
log "budget: warned, oldest day first"
sim_stop
