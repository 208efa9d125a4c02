#!/usr/bin/env bash
# Every transient fault class of the upstream, injected by the simulator: each run must end
# with exactly the rows of a fault-free run (the simulator's expected rows), exit 0, and
# have retried; the classes retrying cannot fix must stop with a clear message.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
SIM_DATA=(--today "$TODAY" --seed 11 --days 3 --sessions-per-day 12 --participants 3 --connections 4 --active-today 2 --quirks all)
pg_start
TOTAL_FAULTS=0

fresh_db() { psql_q "DROP SCHEMA IF EXISTS livekit CASCADE; DROP SCHEMA IF EXISTS expected CASCADE" >/dev/null 2>&1; }

# case NAME CONFIG_LINES -- SIM_OPTIONS...: run once against a faulty simulator, expect a
# clean archive
case_recovers() {
    local name=$1 config=$WORK/$1.yaml; shift
    local lines=()
    while [ "$1" != "--" ]; do lines+=("$1"); shift; done; shift
    fast_retry_config "$config" "${lines[@]}"
    fresh_db
    sim_start "${SIM_DATA[@]}" --expected-dir "$WORK/expected" "$@"
    lk --config "$config" run --today "$TODAY" --days 3
    expect_status 0 "$name"
    expect_no_secret
    local faults; faults=$(sim_stat faults)
    [ "$faults" -gt 0 ] || fail "$name: no fault was injected"
    TOTAL_FAULTS=$((TOTAL_FAULTS + faults))
    if [ -z "${NO_RETRY_EXPECTED:-}" ]; then
        grep -q "retrying\|timed out" "$WORK/last.err" || fail "$name: no retry logged"
    fi
    load_expected "$WORK/expected"
    compare_all
    log "$name: $faults faults injected, archive exact"
    cp "$WORK/last.err" "$WORK/$name.err"
    sim_stop
}

case_recovers http500 -- --fault 500:times=2
case_recovers http503_retry_after "request_timeout: 30" -- --fault 503:match=list,times=1,retry-after=1
grep -q "retrying in 1\.[0-9] s" "$WORK/http503_retry_after.err" || fail "Retry-After: 1 not honoured"
case_recovers http429 "max_concurrency: 8" -- --fault 429:match=details,rate=0.3,retry-after=0
grep -q "rate limit answered 429; retrying" "$WORK/http429.err" || fail "429 not said once"
[ "$(grep -c "answered 429" "$WORK/http429.err")" -le 2 ] || fail "every 429 logged"
case_recovers reset_mid_body -- --fault reset:times=1
case_recovers truncated_200 -- --fault truncate:times=2
case_recovers invalid_json_200 -- --fault badjson:times=1
NO_RETRY_EXPECTED=1 case_recovers slow_responses -- --fault slow:rate=0.2,ms=300,permanent
case_recovers hang_timeout "request_timeout: 2" -- --fault hang:match=details,times=1,ms=6000
case_recovers page_timeout_halves "request_timeout: 2" "page_limit: 40" "min_page_limit: 5" -- --slow-above-limit 10:6000
grep -q "asking for pages of 20" "$WORK/page_timeout_halves.err" || fail "page size not halved"
grep -q "asking for pages of 10" "$WORK/page_timeout_halves.err" || fail "page size not halved twice"

# live data: every page after the first repeats the previous page's last session; each
# session is stored once and its details fetched once
fresh_db
fast_retry_config "$WORK/shift.yaml" "page_limit: 5"
sim_start "${SIM_DATA[@]}" --expected-dir "$WORK/expected" --shifting-pages
lk --config "$WORK/shift.yaml" run --today "$TODAY" --days 3
expect_status 0 "pages that overlap"
[ "$(sim_stat details)" -eq 36 ] || fail "details fetched $(sim_stat details) times for 36 sessions"
load_expected "$WORK/expected"
compare_all
sim_stop
log "overlapping pages: each session stored and fetched once"

# faults retrying cannot fix: a list that never answers for one day fails that day only
fresh_db
fast_retry_config "$WORK/perm.yaml"
sim_start "${SIM_DATA[@]}" --expected-dir "$WORK/expected" --fault "500:match=start=2026-11-19,permanent"
lk --config "$WORK/perm.yaml" run --today "$TODAY" --days 3
expect_status 4 "a day whose list always fails"
expect_stderr "day=2026-11-19"
TOTAL_FAULTS=$((TOTAL_FAULTS + $(sim_stat faults)))
[ "$(psql_q "SELECT status FROM livekit.archive_days WHERE day = '2026-11-19'")" = failed ] || fail "failed day not recorded"
[ "$(psql_q "SELECT status FROM livekit.archive_days WHERE day = '2026-11-18'")" = complete ] || fail "other days not archived"
[ "$(psql_q "SELECT count(*) FROM livekit.sessions WHERE list_day = '2026-11-19'")" -eq 0 ] || fail "half a day written"
[ "$(psql_q "SELECT attempts FROM livekit.archive_days WHERE day = '2026-11-19'")" -ge 1 ] || fail "ledger attempts"
sim_stop

# an API that ignores `page`: detected, the day stops instead of looping forever
fresh_db
fast_retry_config "$WORK/ignore.yaml" "page_limit: 5"
sim_start "${SIM_DATA[@]}" --ignore-page
lk --config "$WORK/ignore.yaml" run --today "$TODAY" --days 3
expect_status 4 "an API ignoring page"
expect_stderr "repeats the sessions of earlier pages"
[ "$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE status = 'complete'")" -eq 0 ] || fail "a looping day marked complete"
sim_stop

# a run that would retry for ever stops at its time budget; the next run converges
fresh_db
printf 'run_budget: 2\nretry_base_ms: 1000\nmax_attempts: 20\n' >"$WORK/budget.yaml"
sim_start "${SIM_DATA[@]}" --expected-dir "$WORK/expected" --fault 503:match=details,permanent
start=$(date +%s)
lk --config "$WORK/budget.yaml" run --today "$TODAY" --days 3
expect_status 4 "a run out of time"
[ $(( $(date +%s) - start )) -le 20 ] || fail "the time budget did not stop the retries"
expect_stderr "time budget (run_budget) is used up"
[ "$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE status = 'complete'")" -eq 0 ] || fail "a day complete without its details"
# every day has its own ledger row, also one never begun for lack of time (its failure was
# once written on the previous day's row)
[ "$(psql_q "SELECT count(*) FROM livekit.archive_days")" -eq 3 ] \
    || { psql -X -c "SELECT day, status, last_error FROM livekit.archive_days" >&2; fail "days out of time not recorded on their own rows"; }
TOTAL_FAULTS=$((TOTAL_FAULTS + $(sim_stat faults)))
sim_stop
sim_start "${SIM_DATA[@]}" --expected-dir "$WORK/expected"
lk --config "$WORK/budget.yaml" run --today "$TODAY" --days 3
expect_status 0 "the run after the one out of time"
load_expected "$WORK/expected"
compare_all
sim_stop
log "time budget: retries stopped, next run converged"

log "faults injected in this test: $TOTAL_FAULTS"
