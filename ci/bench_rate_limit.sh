#!/usr/bin/env bash
# bench_rate_limit.sh -- lkarchive under an API that limits each project per minute (issue
# "Live within the API's rate limit"). The simulator gives each project a token bucket
# (--project-rate-limit ID:PER_MIN:BURST, a 429 with Retry-After over it) and answers after
# --latency-ms. Each shape runs twice on a fresh archive: the first night (nothing learned) and
# the next one (the pace starts from livekit.api_rate_limits), then the baseline in the same
# script: the first night again with parallel_projects: 1 (one project after another). Printed
# per night: wall time and the floor the limits set, their ratio (target <= 1.2); requests
# answered and those needed, their ratio (target <= 1.05); the share of 429s (target <= 5 %).
#
# The floor is the busiest project's needed requests beyond its burst, divided by its rate.
# Needed, per day: ceil((sessions + 1) / 100) list pages (a day whose sessions fill whole pages
# needs the empty one after them) plus the details the run fetched.
#
# Shapes: (i) 3 projects x 7 days x 12 sessions at 240 a minute (burst 8), 40 ms a response;
#         (ii) p_big, 7 x 2,000 sessions at 6,000 a minute (burst 200), beside p_s1 and p_s2
#              (7 x 12 sessions at 240 a minute), 40 ms a response.
# Usage: bash ci/bench_rate_limit.sh [i|ii|all] (default all). BUILD (default build) holds
# lkarchive and tests/lkarchive-sim (built Release here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ONLY=${1:-all}
BUILD=${BUILD:-build}
WORK=$(mktemp -d /tmp/lkarchive-bench-rate.XXXXXX)
chmod 755 "$WORK"
export LIVEKIT_API_KEY=APIbench LIVEKIT_API_SECRET=bench-secret-0123456789abcdef0123456789
source ci/bench_lib.sh

if [ ! -x "$BUILD/lkarchive" ] || [ ! -x "$BUILD/tests/lkarchive-sim" ]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" -j "$(nproc)" --target lkarchive lkarchive-sim >/dev/null
fi
LK=$ROOT/$BUILD/lkarchive
SIM=$ROOT/$BUILD/tests/lkarchive-sim
TODAY=2026-12-07
bench_pg_start -c fsync=off -c synchronous_commit=off -c full_page_writes=off

# shape_start SIM_ARGS...: the simulator of one shape, on 127.0.0.1
shape_start() {
    rm -f "$WORK/sim.port"
    "$SIM" --api-key "$LIVEKIT_API_KEY" --api-secret "$LIVEKIT_API_SECRET" --today "$TODAY" \
        --seed 3 --days 7 --participants 2 --connections 3 --active-today 0 --latency-ms 40 \
        --threads 4 --port 0 --port-file "$WORK/sim.port" --quiet "$@" 2>"$WORK/sim.log" &
    SIM_PID=$!
    for _ in $(seq 200); do [ -s "$WORK/sim.port" ] && break; sleep 0.05; done
    export LIVEKIT_ANALYTICS_URL="http://127.0.0.1:$(cat "$WORK/sim.port")"
}
stats() { curl -s "$LIVEKIT_ANALYTICS_URL/_sim/stats"; }
# stat_of JSON PROJECT FIELD: a per-project counter of the simulator's stats
stat_of() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["projects"][sys.argv[2]][sys.argv[3]])' "$1" "$2" "$3"; }

# night LABEL PARALLEL PROJECTS_SPEC: one run over the projects (each "ID:PER_MIN:BURST"),
# printing the figures. Needed requests come from the run's own day lines (sessions the day
# holds, details fetched), so a next night that re-lists complete days is measured as well.
night() {
    local label=$1 parallel=$2; shift 2
    local before after t0 t1 answered=0 throttled=0 ids=() limits=()
    printf 'parallel_projects: %s\nlog_level: warn\n' "$parallel" >"$WORK/config.yaml"
    for spec in "$@"; do ids+=("${spec%%:*}"); limits+=("$spec"); done
    before=$(stats)
    t0=$(date +%s.%N)
    LIVEKIT_PROJECT_ID=$(IFS=,; echo "${ids[*]}") "$LK" --config "$WORK/config.yaml" run \
        --today "$TODAY" >"$WORK/run.out" 2>"$WORK/run.err" || { cat "$WORK/run.err" >&2; return 1; }
    t1=$(date +%s.%N)
    after=$(stats)
    for id in "${ids[@]}"; do
        answered=$((answered + $(stat_of "$after" "$id" api_requests) - $(stat_of "$before" "$id" api_requests)))
        throttled=$((throttled + $(stat_of "$after" "$id" throttled_requests) - $(stat_of "$before" "$id" throttled_requests)))
    done
    python3 - "$label" "$(python3 -c "print($t1 - $t0)")" "$answered" "$throttled" "$WORK/run.out" "${limits[@]}" <<'PY'
import math, re, sys
label, wall, answered, throttled, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
limits = {s.split(":")[0]: (float(s.split(":")[1]), float(s.split(":")[2])) for s in sys.argv[6:]}
needed = {p: 0 for p in limits}
for line in open(out):
    m = re.match(r"(\S+)\s+\S+\s+\S+\s+(\d+) sessions .*?(\d+) details fetched", line)
    if m and m.group(1) in needed:
        needed[m.group(1)] += math.ceil((int(m.group(2)) + 1) / 100) + int(m.group(3))
floor = max((needed[p] - limits[p][1]) / (limits[p][0] / 60) for p in limits)
total = sum(needed.values())
print(f"  {label:<40} wall {wall:6.1f} s  floor {floor:6.1f} s  x{wall / max(floor, 0.1):.2f}   "
      f"answered {answered:6d} / needed {total:6d}  x{answered / max(total, 1):.3f}   "
      f"429s {throttled:4d} ({100 * throttled / max(answered, 1):.1f} %)")
PY
}

fresh() { psql -X -q -c "DROP SCHEMA IF EXISTS livekit CASCADE; DROP SCHEMA IF EXISTS livekit_bi CASCADE" >/dev/null 2>&1; }

if [ "$ONLY" = all ] || [ "$ONLY" = i ]; then
    echo "(i) 3 projects x 7 days x 12 sessions, 240 a minute each (burst 8), 40 ms a response"
    shape_start --project p_a --project p_b --project p_c --sessions-per-day 12 --rate-limit 240:8
    fresh
    night "first night, side by side" 4 p_a:240:8 p_b:240:8 p_c:240:8
    night "next night (rate learned), side by side" 4 p_a:240:8 p_b:240:8 p_c:240:8
    fresh
    night "baseline: first night, one after another" 1 p_a:240:8 p_b:240:8 p_c:240:8
    sim_stop
fi
if [ "$ONLY" = all ] || [ "$ONLY" = ii ]; then
    echo "(ii) p_big 7 x 2,000 sessions at 6,000 a minute (burst 200) beside p_s1, p_s2 (7 x 12 at 240)"
    shape_start --project p_big --project p_s1 --project p_s2 --sessions-per-day 12 \
        --project-sessions p_big:2000 --project-rate-limit p_big:6000:200 \
        --project-rate-limit p_s1:240:8 --project-rate-limit p_s2:240:8
    fresh
    night "first night, side by side" 4 p_big:6000:200 p_s1:240:8 p_s2:240:8
    night "next night (rate learned), side by side" 4 p_big:6000:200 p_s1:240:8 p_s2:240:8
    fresh
    night "baseline: first night, one after another" 1 p_big:6000:200 p_s1:240:8 p_s2:240:8
    sim_stop
fi
