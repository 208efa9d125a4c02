#!/usr/bin/env bash
# bench_citus.sh -- one server beside a Citus cluster: bash ci/bench_citus.sh [SESSIONS_PER_DAY]
#
# The simulator's benchmark dataset (7 days x N sessions, about 4 participants and 6
# connections each; N defaults to 5000) archived (a) into one private PostgreSQL 15 and (b) into
# a local Citus cluster (a coordinator and two workers, tests/integration/lib.sh citus_start),
# each: the first load into an empty archive and the next night (one new day, six unchanged),
# with the archive's rows and disk size, then `prune` of the three oldest days (3 x N sessions
# with their rows, in batches of 1,000 sessions) and `forget` of the most frequent identity. All servers run on this machine with fsync=off (as the
# tests do), so the figures compare the two layouts, not disks. Results: tests/bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SESSIONS=${1:-${BENCH_SESSIONS:-5000}}
TODAY=${BENCH_TODAY:-2026-11-20}
NEXT=$(date -u -d "$TODAY + 1 day" +%F)

bash ci/deps.sh >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j2 >/dev/null
export LKARCHIVE_BIN=$ROOT/build-bench/lkarchive LKSIM_BIN=$ROOT/build-bench/tests/lkarchive-sim
export LK_SOURCE_DIR=$ROOT
source tests/integration/lib.sh

SIM_OPTS=(--seed 7 --days 7 --sessions-per-day "$SESSIONS" --participants 4 --connections 6
    --active-today 0 --threads 2 --quiet)
timed_run() { # timed_run TODAY: wall ms of lkarchive run
    local start
    start=$(date +%s%N)
    lk run --today "$1" --log-level warn
    expect_status 0 "run --today $1"
    echo $(( ($(date +%s%N) - start) / 1000000 ))
}
rows() { psql_q "SELECT (SELECT count(*) FROM livekit.sessions) + (SELECT count(*) FROM livekit.participants) + (SELECT count(*) FROM livekit.participant_connections)"; }
bench_one() { # bench_one LABEL SIZE_SQL
    local first next prune start size
    sim_start --today "$TODAY" "${SIM_OPTS[@]}"
    "$LKARCHIVE_BIN" migrate >/dev/null 2>&1
    first=$(timed_run "$TODAY")
    sim_stop
    sim_start --today "$NEXT" "${SIM_OPTS[@]}"
    next=$(timed_run "$NEXT")
    ROWS=$(rows)
    sim_stop
    size=$(psql_q "$2")
    start=$(date +%s%N)
    lk prune --today "$(date -u -d "$TODAY + 9 day" +%F)" --before "$(date -u -d "$TODAY - 3 day" +%F)"
    expect_status 0 "prune"
    prune=$(( ($(date +%s%N) - start) / 1000000 ))
    log "$(cat "$WORK/last.out")"
    # forget the most frequent identity (the simulator reuses identities across sessions)
    who=$(psql_q "SELECT participant_identity FROM livekit.participants GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    start=$(date +%s%N)
    lk --config "$WORK/key.yaml" forget --identity "$who"
    expect_status 0 "forget"
    forget=$(( ($(date +%s%N) - start) / 1000000 ))
    printf '%-28s %10s %10s %10s %10s %10s %10s\n' "$1" "$first" "$next" "$ROWS" "$size" "$prune" "$forget"
    log "$(cat "$WORK/last.out")"
}
head -c 32 /dev/urandom | base64 >"$WORK/key"
chmod 600 "$WORK/key"
echo "pseudonymize_key_file: $WORK/key" >"$WORK/key.yaml"

echo "bench_citus: 7 days x $SESSIONS sessions/day; $(nproc) cores; $(psql --version | head -1)"
printf '%-28s %10s %10s %10s %10s %10s %10s\n' "archive" "first ms" "next ms" "rows" "disk MiB" "prune ms" "forget ms"
pg_start
bench_one "one server" "SELECT round(sum(pg_total_relation_size(c.oid)) / 1048576.0, 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'livekit' AND c.relkind = 'r'"
pg_stop
citus_start
bench_one "Citus, coordinator + 2" "SELECT round((sum(citus_total_relation_size(table_name)) + (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'livekit' AND c.relkind = 'r' AND c.oid NOT IN (SELECT table_name FROM citus_tables))) / 1048576.0, 1) FROM citus_tables WHERE table_name::text LIKE 'livekit.%'"
log "shards: $(psql_q "SELECT string_agg(nodeport || ':' || n, ' ') FROM (SELECT nodeport, count(*) n FROM citus_shards WHERE table_name::text LIKE 'livekit.%' GROUP BY 1) s")"
