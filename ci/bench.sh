#!/usr/bin/env bash
# bench.sh -- lkarchive's benchmark, one command: bash ci/bench.sh [SESSIONS_PER_DAY]
#
# On this machine, in one script: the simulator serving a fixed dataset (7 days x N sessions,
# about 4 participants and 6 connections per session; N defaults to 20000) on 127.0.0.1 and a
# private PostgreSQL 15 (unix socket, synchronous_commit=off for every contender), then:
#   (a) lkarchive, first load into an empty database
#   (a') the same first load over TLS and HTTP/2: nginx (ci/tls_front.sh, a test CA) in front
#       of the simulator, lkarchive trusting the CA by LKARCHIVE_CA_FILE; its wall time and own
#       CPU beside (a)'s (target: within 10 %), and nginx's CPU
#   (a'') the same first load over plain http through the same nginx, before (a'): what the
#       front costs apart from TLS and HTTP/2 (a'/a'' is TLS and HTTP/2 alone)
#   (a''') the same first load over https and HTTP/1.1 (http2: false), after (a')
#   (b) lkarchive, the next night's run (one new day, six unchanged)
#   (b0) the same night run again: nothing changed, what seven unchanged days cost
#   (c) the baseline the way LiveKit's docs suggest: Node.js, fetch, pg, one INSERT per row
#   (d) the lower bound: COPY of the same rows, already flattened, into the same empty tables
#       (the archive's own, with all their indexes); timed before (a) and after (b), the mean
#       compared
#   (d0) the floor under it: the same COPY into tables with only their primary keys (a scratch
#       schema, bench_floor: LIKE the archive's tables, defaults and generated columns included)
#   (e) uneven days: six days of 10 sessions, then one day of 2.5 x N (50,000), in one run
#   (f) uneven projects: a small project (7 x 10), then a big one (7 x N), in one run
#   (g) peak RSS of a 50,000-session list page, a 10,000-participant details answer, a small run
# and prints wall time, rows per second, requests, peak RSS, the contender's own CPU (user+sys,
# /usr/bin/time) and PostgreSQL's CPU during the run (pg_cpu_ms in bench_lib.sh: the postmaster
# and all its processes, before and after; each run starts after a CHECKPOINT, so the previous
# run's dirty pages are not written on its time), the simulator's own CPU time, the ratios c/a
# (speed-up over the baseline), a/d, b/a and PostgreSQL CPU a/d and a/d0, and rows/s per day of
# (e) and (f) (each day timed from lkarchive's per-day lines on stdout; a database of its own
# for each) with PostgreSQL's CPU over each of those runs.
# BENCH_SKIP_BASELINE=1 skips (c). BENCH_ONLY=uneven runs only (e) and (f); BENCH_ONLY=core only
# (a), (a'), (b), (d) and (d0), for a quick look; BENCH_ONLY=https only (a), (a''), (a') and (a''').
# BENCH_INDEXES=old re-creates sessions' secondary indexes as before sql/009 (leading with
# project_id): the "before" figures of (e) and (f) (tests/bench/MERGE.md).
# BENCH_ROOMS=unique gives every session a room of its own (an app naming a room after each
# call; ci/bench_lib.sh's sim_rooms), BENCH_ROOMS=N draws room names from N; default 500, the
# shape of every figure before issue 26. Run the script once per shape to print them side by side.
# BENCH_UNEVEN_TIMEOUT (seconds, default 600) stops an (e) or (f) run that takes longer and
# reports the days finished by then and what the unfinished one was doing.
# Results: tests/bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SESSIONS=${1:-${BENCH_SESSIONS:-20000}}
TODAY=${BENCH_TODAY:-2026-11-20}
NEXT=$(date -u -d "$TODAY + 1 day" +%F)
BENCH_ONLY=${BENCH_ONLY:-}
BENCH_INDEXES=${BENCH_INDEXES:-new}
UNEVEN_TIMEOUT=${BENCH_UNEVEN_TIMEOUT:-600}
case $BENCH_ONLY in "" | uneven | core | https) ;; *) echo "bench: BENCH_ONLY is empty, 'uneven', 'core' or 'https'" >&2; exit 2 ;; esac
[ "$BENCH_ONLY" = core ] || [ "$BENCH_ONLY" = https ] && BENCH_SKIP_BASELINE=1
case $BENCH_INDEXES in new | old) ;; *) echo "bench: BENCH_INDEXES is 'new' or 'old'" >&2; exit 2 ;; esac

bash ci/deps.sh >/dev/null
if [ -z "$BENCH_ONLY" ] && [ -z "${BENCH_SKIP_BASELINE:-}" ]; then
    command -v node >/dev/null || { echo "bench: node (Node.js 20) is needed for the baseline" >&2; exit 1; }
fi
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j "$(nproc)" >/dev/null
LK=$ROOT/build-bench/lkarchive
SIM=$ROOT/build-bench/tests/lkarchive-sim

WORK=$ROOT/tests/bench/work
rm -rf "$WORK"; mkdir -p "$WORK"; chmod 755 "$WORK"
bench_cleanup_extra() { tls_front_stop; }
source ci/bench_lib.sh
source ci/tls_front.sh
bench_pg_start -c synchronous_commit=off -c shared_buffers=512MB -c max_wal_size=4GB
export LIVEKIT_API_KEY=APIbench LIVEKIT_API_SECRET=bench-secret-0123456789abcdef0123456789 LIVEKIT_PROJECT_ID=p_bench

sim_requests() { curl -s "$LIVEKIT_ANALYTICS_URL/_sim/stats" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p'; }
proc_cpu_ms() { # proc_cpu_ms PID: user+system CPU of a process so far, ms
    awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"
}
sim_cpu_ms() { proc_cpu_ms "$SIM_PID"; } # the simulator's, ms
reset_db() {
    PGOPTIONS='-c client_min_messages=warning' psql -X -q \
        -c "DROP SCHEMA IF EXISTS livekit CASCADE" -c "DROP SCHEMA IF EXISTS bench_floor CASCADE" >/dev/null
    "$LK" migrate >/dev/null 2>&1
    if [ "$BENCH_INDEXES" = old ]; then # sql/001_schema.sql's indexes, before 009
        psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DROP INDEX livekit.sessions_list_day;
DROP INDEX livekit.sessions_created_at;
CREATE INDEX sessions_created_at ON livekit.sessions (project_id, created_at);
CREATE INDEX sessions_list_day ON livekit.sessions (project_id, list_day);
SQL
    fi
}
rows_now() { # rows_now [SCHEMA]: rows in the three tables of livekit (or SCHEMA)
    local s=${1:-livekit}
    psql -X -At -c "SELECT (SELECT count(*) FROM $s.sessions) + (SELECT count(*) FROM $s.participants) + (SELECT count(*) FROM $s.participant_connections)"
}
# pg_cpu_start: a CHECKPOINT (the previous run's dirty pages are not written on the next run's
# time), then PostgreSQL's CPU so far (ms) for pg_cpu_since
pg_cpu_start() { psql -X -q -c CHECKPOINT >/dev/null; pg_cpu_ms; }
pg_cpu_since() { echo $(( $(pg_cpu_ms) - $1 )); }
# timed NAME CMD...: into $WORK/NAME.*: wall ms (.ms), peak RSS KiB (.rss), the command's own
# user+sys CPU ms (.cpu) and PostgreSQL's CPU ms during it (.pgcpu)
timed() {
    local name=$1; shift
    local start end pg0
    pg0=$(pg_cpu_start)
    start=$(date +%s%N)
    /usr/bin/time -f '%M %U %S' -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" \
        || { cat "$WORK/$name.err" >&2; echo "bench: $name failed" >&2; exit 1; }
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 )) >"$WORK/$name.ms"
    pg_cpu_since "$pg0" >"$WORK/$name.pgcpu"
    awk -v rss="$WORK/$name.rss" -v cpu="$WORK/$name.cpu" \
        'END { print $1 > rss; printf "%.0f\n", ($2 + $3) * 1000 > cpu }' "$WORK/$name.time"
}

# (e), (f): one lkarchive run over an uneven dataset on a fresh database; each per-day line of
# stdout is stamped as it arrives, so a day's time is the gap since the previous line (the
# first day's includes start-up). On timeout the unfinished day's statement is recorded.
stamp() { while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done; }
uneven_run() { # uneven_run NAME PROJECTS SIM_OPTIONS...
    local name=$1 projects=$2 lk_pid stamp_pid start pg0 status=0 project sim_projects=() sim_projects_rooms=()
    shift 2
    reset_db
    rm -f "$WORK/sim.port" "$WORK/$name.fifo" "$WORK/$name.timeout"
    for project in ${projects//,/ }; do sim_projects+=(--project "$project"); done
    read -r -a sim_projects_rooms <<<"$(sim_rooms)"
    "$SIM" --api-key "$LIVEKIT_API_KEY" --api-secret "$LIVEKIT_API_SECRET" "${sim_projects[@]}" \
        --today "$TODAY" --seed 7 --days 7 --participants 4 --connections 6 --active-today 0 "$@" \
        "${sim_projects_rooms[@]}" \
        --threads 2 --port 0 --port-file "$WORK/sim.port" --quiet 2>"$WORK/sim.log" &
    SIM_PID=$!
    for _ in $(seq 200); do [ -s "$WORK/sim.port" ] && break; sleep 0.05; done
    export LIVEKIT_ANALYTICS_URL="http://127.0.0.1:$(cat "$WORK/sim.port")"
    mkfifo "$WORK/$name.fifo"
    stamp <"$WORK/$name.fifo" >"$WORK/$name.days" &
    stamp_pid=$!
    pg0=$(pg_cpu_start)
    start=$EPOCHREALTIME
    echo "$start" >"$WORK/$name.start"
    LIVEKIT_PROJECT_ID=$projects "$LK" run --today "$TODAY" --log-level warn \
        >"$WORK/$name.fifo" 2>"$WORK/$name.err" &
    lk_pid=$!
    while kill -0 "$lk_pid" 2>/dev/null; do
        if awk -v s="$start" -v n="$EPOCHREALTIME" -v t="$UNEVEN_TIMEOUT" 'BEGIN { exit !(n - s > t) }'; then
            psql -X -At -F ' | ' -c "SELECT round(extract(epoch FROM now() - query_start)) || ' s',
                left(regexp_replace(query, '\s+', ' ', 'g'), 90) FROM pg_stat_activity
                WHERE application_name = 'lkarchive' AND state = 'active'" >"$WORK/$name.timeout"
            kill -TERM "$lk_pid" 2>/dev/null || true
            # its backend would finish the statement first: end it, or the next DROP waits
            psql -X -q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE application_name = 'lkarchive'" >/dev/null
            break
        fi
        sleep 1
    done
    wait "$lk_pid" || status=$?
    wait "$stamp_pid" || true
    echo "$EPOCHREALTIME" >"$WORK/$name.end"
    pg_cpu_since "$pg0" >"$WORK/$name.pgcpu"
    sim_stop
    if [ "$status" -ne 0 ] && [ ! -e "$WORK/$name.timeout" ]; then
        cat "$WORK/$name.err" >&2; echo "bench: $name failed" >&2; exit 1
    fi
}
uneven_report() { # uneven_report NAME TITLE
    local name=$1
    echo "$2 (sessions' secondary indexes: $BENCH_INDEXES)"
    printf '  %-10s %-10s %8s %9s %10s %10s %10s\n' project day sessions rows "ms" "rows/s" "total s"
    awk -v start="$(cat "$WORK/$name.start")" '
        $6 == "sessions" && $8 == "participants" {
            ms = ($1 - prev_or(start)) * 1000; rows = $5 + $7 + $9; prev = $1
            printf "  %-10s %-10s %8d %9d %10.0f %10.0f %10.1f\n", $2, $3, $5, rows, ms,
                rows * 1000 / (ms > 0 ? ms : 1), $1 - start
        }
        function prev_or(s) { return prev != "" ? prev : s }' "$WORK/$name.days"
    if [ -e "$WORK/$name.timeout" ]; then
        awk -v start="$(cat "$WORK/$name.start")" -v end="$(cat "$WORK/$name.end")" \
            '$6 == "sessions" { last = $1 } END { printf "  stopped after %.0f s: the next day had run %.0f s without finishing;", end - start, end - (last != "" ? last : start) }' \
            "$WORK/$name.days"
        echo " lkarchive was running:"
        sed 's/^/    /' "$WORK/$name.timeout"
    fi
    awk -v pg="$(cat "$WORK/$name.pgcpu")" 'BEGIN { printf "  PostgreSQL CPU over the whole run: %.1f s\n", pg / 1000 }'
}
uneven_all() {
    uneven_run uneven_days p_bench --sessions-per-day 10 --day-sessions "0:$(( SESSIONS * 5 / 2 ))"
    uneven_run uneven_projects p_small,p_big --sessions-per-day "$SESSIONS" --project-sessions p_small:10
}
uneven_print() {
    uneven_report uneven_days "(e) six days of 10 sessions, then one of $(( SESSIONS * 5 / 2 ))"
    uneven_report uneven_projects "(f) project p_small 7 x 10, then p_big 7 x $SESSIONS"
}

# (d) lower bound: COPY the flattened rows (the simulator's expected rows) into empty tables;
# (d0) the floor: the same COPY into tables with only their primary keys (no secondary index),
# made LIKE the archive's (defaults, the generated column) on a fresh archive. Each runs twice,
# before (a) and after (b), and the figures compared are the means of the two: this machine's
# speed drifts over minutes, and a bound measured once, at another moment than (a), moved the
# PostgreSQL CPU ratio by a tenth of itself and more.
copy_bounds() { # copy_bounds N: the N-th timing of (d) and (d0), as copy_N and copy_floor_N
    reset_db
    copy_sql livekit >"$WORK/copy.sql"
    timed "copy_$1" psql -X -q -v ON_ERROR_STOP=1 -f "$WORK/copy.sql"
    rows_copy=$(rows_now)
    reset_db
    floor_tables
    copy_sql bench_floor >"$WORK/copy_floor.sql"
    timed "copy_floor_$1" psql -X -q -v ON_ERROR_STOP=1 -f "$WORK/copy_floor.sql"
    rows_floor=$(rows_now bench_floor)
}
copy_means() { # the two timings of (d) and (d0) averaged into copy and copy_floor
    local name figure
    for name in copy copy_floor; do
        for figure in ms cpu pgcpu; do
            echo $(( ($(cat "$WORK/${name}_1.$figure") + $(cat "$WORK/${name}_2.$figure")) / 2 )) \
                >"$WORK/$name.$figure"
        done
    done
}
ms() { cat "$WORK/$1.ms"; }
cpu() { cat "$WORK/$1.cpu"; }
pgcpu() { cat "$WORK/$1.pgcpu"; }
rss_mib() { awk '{ printf "%.1f", $1 / 1024 }' "$WORK/$1.rss"; }
rate() { awk -v r="$1" -v ms="$2" 'BEGIN { printf "%.0f", r * 1000 / (ms > 0 ? ms : 1) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 1) }'; }
row() { printf '%-34s %10s %10s %10s %12s %10s %12s\n' "$@"; }
https_row() {
    row "(a'') first load, http via nginx" "$(ms first_front)" "$(rate "$rows_front" "$(ms first_front)")" "$req_https" "$(rss_mib first_front)" "$(cpu first_front)" "$(pgcpu first_front)"
    row "(a') first load, https + HTTP/2" "$(ms first_https)" "$(rate "$rows_https" "$(ms first_https)")" "$req_https" "$(rss_mib first_https)" "$(cpu first_https)" "$(pgcpu first_https)"
    row "(a''') https + HTTP/1.1" "$(ms first_https11)" "$(rate "$rows_https11" "$(ms first_https11)")" "$h11" "$(rss_mib first_https11)" "$(cpu first_https11)" "$(pgcpu first_https11)"
}
https_summary() {
    echo "(a'): $rows_https rows ((a): $rows_first, (a''): $rows_front); $h2 requests over HTTP/2 on $tls_connections TLS connection(s); nginx CPU $nginx_ms ms ((a''): $nginx_plain_ms ms); simulator CPU $sim_https_ms ms ((a): $sim_first_ms ms)"
    echo "a'/a wall (https + HTTP/2 through nginx over plain http straight to the simulator, target <= 1.10): $(ratio "$(ms first_https)" "$(ms first)")"
    echo "a'/a lkarchive's own CPU (target <= 1.10): $(ratio "$(cpu first_https)" "$(cpu first)")"
    echo "a'/a'' wall (TLS + HTTP/2 alone: both through the same nginx): $(ratio "$(ms first_https)" "$(ms first_front)")"
    echo "a'/a'' lkarchive's own CPU: $(ratio "$(cpu first_https)" "$(cpu first_front)")"
    echo "(a'''): $rows_https11 rows; $h11 requests over HTTP/1.1 on $tls11_connections TLS connection(s)"
    echo "a'''/a'' wall (TLS + HTTP/1.1 alone): $(ratio "$(ms first_https11)" "$(ms first_front)"); lkarchive's own CPU: $(ratio "$(cpu first_https11)" "$(cpu first_front)")"
}
sim_rooms >/dev/null # a bad BENCH_ROOMS stops here
echo "bench: 7 days x $SESSIONS sessions/day, about 4 participants and 6 connections each, rooms: ${BENCH_ROOMS:-500}"
echo "bench: machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
if [ "$BENCH_ONLY" = uneven ]; then
    uneven_all
    echo
    uneven_print
    exit 0
fi

if [ "$BENCH_ONLY" != https ]; then
    flat_dump "$TODAY" "$SESSIONS"
    copy_bounds 1
fi

# (a) first load
sim_start "$TODAY" "$SESSIONS"
reset_db
req0=$(sim_requests); cpu0=$(sim_cpu_ms)
timed first "$LK" run --today "$TODAY" --log-level warn
req_first=$(( $(sim_requests) - req0 - 1 )); sim_first_ms=$(( $(sim_cpu_ms) - cpu0 ))
rows_first=$(rows_now)
sim_stop

# (a') the same first load over TLS and HTTP/2, nginx in front of the simulator
first_https() {
    sim_start "$TODAY" "$SESSIONS"
    tls_front_start "$WORK/tls" "$(cat "$WORK/sim.port")" || exit 1
    # (a'') plain http through the same nginx: the front's own cost, apart from TLS and HTTP/2
    reset_db
    nginx0=$(proc_cpu_ms "$TLS_PID")
    timed first_front env LIVEKIT_ANALYTICS_URL="http://127.0.0.1:$FRONT_PLAIN_PORT" \
        "$LK" run --today "$TODAY" --log-level warn
    nginx_plain_ms=$(( $(proc_cpu_ms "$TLS_PID") - nginx0 ))
    rows_front=$(rows_now)
    : >"$WORK/tls/access.log"
    reset_db
    req0=$(sim_requests); cpu0=$(sim_cpu_ms); nginx0=$(proc_cpu_ms "$TLS_PID")
    timed first_https env LIVEKIT_ANALYTICS_URL="https://127.0.0.1:$TLS_PORT" \
        LKARCHIVE_CA_FILE="$WORK/tls/ca.pem" "$LK" run --today "$TODAY" --log-level warn
    req_https=$(( $(sim_requests) - req0 - 1 )); sim_https_ms=$(( $(sim_cpu_ms) - cpu0 ))
    nginx_ms=$(( $(proc_cpu_ms "$TLS_PID") - nginx0 ))
    rows_https=$(rows_now)
    h2=$(awk '$3 == "HTTP/2.0"' "$WORK/tls/access.log" | wc -l)
    tls_connections=$(awk '{ print $1 }' "$WORK/tls/access.log" | sort -u | wc -l)
    # (a''') the same over https and HTTP/1.1 (http2: false, as curl --http1.1)
    : >"$WORK/tls/access.log"
    reset_db
    printf 'http2: false\n' >"$WORK/http11.yaml"
    timed first_https11 env LIVEKIT_ANALYTICS_URL="https://127.0.0.1:$TLS_PORT" \
        LKARCHIVE_CA_FILE="$WORK/tls/ca.pem" "$LK" --config "$WORK/http11.yaml" run \
        --today "$TODAY" --log-level warn
    rows_https11=$(rows_now)
    h11=$(awk '$3 == "HTTP/1.1"' "$WORK/tls/access.log" | wc -l)
    tls11_connections=$(awk '{ print $1 }' "$WORK/tls/access.log" | sort -u | wc -l)
    tls_front_stop
    sim_stop
}
first_https
if [ "$BENCH_ONLY" = https ]; then
    echo
    row "run" "wall ms" "rows/s" "requests" "peak RSS MiB" "own CPU ms" "PG CPU ms"
    row "(a) lkarchive first load" "$(ms first)" "$(rate "$rows_first" "$(ms first)")" "$req_first" "$(rss_mib first)" "$(cpu first)" "$(pgcpu first)"
    https_row
    https_summary
    exit 0
fi

# (b) the next night: the window moves one day, six days unchanged
sim_start "$NEXT" "$SESSIONS"
req0=$(sim_requests)
timed next "$LK" run --today "$NEXT" --log-level warn
req_next=$(( $(sim_requests) - req0 - 1 ))
# (b0) the same night once more: nothing changed, seven days of list pages and nothing else
req0=$(sim_requests)
timed again "$LK" run --today "$NEXT" --log-level warn
req_again=$(( $(sim_requests) - req0 - 1 ))
sim_stop

# (d), (d0): the second timing, then the means
copy_bounds 2
copy_means

# (c) the Node.js baseline
if [ -z "${BENCH_SKIP_BASELINE:-}" ]; then
    if [ ! -d tests/bench/baseline/node_modules ]; then
        (cd tests/bench/baseline && npm install --no-audit --no-fund --silent >/dev/null)
    fi
    sim_start "$TODAY" "$SESSIONS"
    reset_db
    req0=$(sim_requests)
    BASELINE_TODAY=$TODAY timed baseline node tests/bench/baseline/baseline.mjs
    req_base=$(( $(sim_requests) - req0 - 1 ))
    rows_base=$(rows_now)
    sim_stop
fi

summary() {
    echo
    row "run" "wall ms" "rows/s" "requests" "peak RSS MiB" "own CPU ms" "PG CPU ms"
    row "(a) lkarchive first load" "$(ms first)" "$(rate "$rows_first" "$(ms first)")" "$req_first" "$(rss_mib first)" "$(cpu first)" "$(pgcpu first)"
    https_row
    row "(b) lkarchive next night" "$(ms next)" "-" "$req_next" "$(rss_mib next)" "$(cpu next)" "$(pgcpu next)"
    row "(b0) the same night again" "$(ms again)" "-" "$req_again" "$(rss_mib again)" "$(cpu again)" "$(pgcpu again)"
    [ -z "${BENCH_SKIP_BASELINE:-}" ] && row "(c) Node.js baseline (per-row)" "$(ms baseline)" "$(rate "$rows_base" "$(ms baseline)")" "$req_base" "$(rss_mib baseline)" "$(cpu baseline)" "$(pgcpu baseline)"
    row "(d) COPY lower bound" "$(ms copy)" "$(rate "$rows_copy" "$(ms copy)")" "0" "-" "$(cpu copy)" "$(pgcpu copy)"
    row "(d0) COPY, primary keys only" "$(ms copy_floor)" "$(rate "$rows_floor" "$(ms copy_floor)")" "0" "-" "$(cpu copy_floor)" "$(pgcpu copy_floor)"
    echo "((d) and (d0): means of two timings; PG CPU before (a) and after (b): (d) $(pgcpu copy_1) and $(pgcpu copy_2) ms, (d0) $(pgcpu copy_floor_1) and $(pgcpu copy_floor_2) ms)"
    printf '%-34s %10s\n' "simulator CPU serving (a)" "$sim_first_ms"
    echo "(own CPU: the contender's user+sys, psql's for (d) and (d0); PG CPU: the server's, all processes)"
    echo
    echo "rows archived by (a): $rows_first; by (d): $rows_copy; by (d0): $rows_floor${rows_base:+; by (c): $rows_base}"
    [ -z "${BENCH_SKIP_BASELINE:-}" ] && echo "c/a (first load speed-up over the baseline, target >= 20): $(ratio "$(ms baseline)" "$(ms first)")"
    echo "a/d (first load over the COPY bound, target <= 2 + simulator): $(ratio "$(ms first)" "$(ms copy)")"
    echo "a/(d + simulator CPU): $(ratio "$(ms first)" "$(( $(ms copy) + sim_first_ms ))")"
    echo "b/a (next night over first load, target <= 0.1): $(ratio "$(ms next)" "$(ms first)")"
    echo "b0/a (a night with nothing changed over first load): $(ratio "$(ms again)" "$(ms first)")"
    https_summary
    echo "PG CPU a/d (first load's PostgreSQL CPU over a COPY of the same rows into the same keyed tables, target <= 2): $(ratio "$(pgcpu first)" "$(pgcpu copy)")"
    echo "PG CPU a/d0 (first load's PostgreSQL CPU over a COPY into tables with primary keys only): $(ratio "$(pgcpu first)" "$(pgcpu copy_floor)")"
}
if [ "$BENCH_ONLY" = core ]; then
    summary
    exit 0
fi

# (e), (f) uneven shapes
uneven_all

# (g) memory: one list page of 50,000 sessions; one details response with 10,000
# participants; a small run, to show peak RSS does not grow with days or sessions
mem_run() { # mem_run NAME CONFIG_LINES SIM_OPTIONS...
    local name=$1 config=$WORK/$1.yaml; shift
    printf '%s\n' "$1" >"$config"; shift
    reset_db
    rm -f "$WORK/sim.port"
    "$SIM" --api-key "$LIVEKIT_API_KEY" --api-secret "$LIVEKIT_API_SECRET" --project p_bench \
        --today "$TODAY" --seed 9 --active-today 0 --threads 2 --port 0 --port-file "$WORK/sim.port" \
        --quiet "$@" 2>"$WORK/sim.log" &
    SIM_PID=$!
    for _ in $(seq 200); do [ -s "$WORK/sim.port" ] && break; sleep 0.05; done
    export LIVEKIT_ANALYTICS_URL="http://127.0.0.1:$(cat "$WORK/sim.port")"
    timed "$name" "$LK" --config "$config" run --today "$TODAY" --days 1 --log-level warn
    sim_stop
}
mem_run mem_page "page_limit: 50000" --days 1 --sessions-per-day 50000 --participants 1 --connections 1
mem_run mem_details "page_limit: 100" --days 1 --sessions-per-day 2 --participants 10000 --connections 10000 --exact-counts
mem_run mem_small "page_limit: 100" --days 1 --sessions-per-day 1000 --participants 4 --connections 6

summary
echo
echo "peak RSS, target < 32 MiB:"
echo "  one list page of 50,000 sessions (page_limit 50000): $(rss_mib mem_page) MiB"
echo "  one details response with 10,000 participants:       $(rss_mib mem_details) MiB"
echo "  1 day x 1,000 sessions:                               $(rss_mib mem_small) MiB"
echo "  7 days x $SESSIONS sessions (a):                       $(rss_mib first) MiB"
echo
uneven_print
