#!/usr/bin/env bash
# profile.sh -- lkarchive's own work per run, counted in instructions (valgrind --tool=callgrind:
# repeatable, unlike wall time on a shared VM), for this checkout and a base revision, in one
# script against the same simulator and PostgreSQL: bash ci/profile.sh [BASE_REV] [SESSIONS]
# (BASE_REV defaults to `main`; SESSIONS per day to 1000, over 7 days). Prints both
# totals and the ratio: a refactoring should leave it within noise of 1.00.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BASE=${1:-main}
SESSIONS=${2:-1000}
TODAY=2026-11-20
WORK=$(mktemp -d /tmp/lkarchive-profile.XXXXXX)
chmod 755 "$WORK"
bench_cleanup_extra() {
    git -C "$ROOT" worktree remove --force "$WORK/base-src" 2>/dev/null || true
    rm -rf "$WORK"
}
source ci/bench_lib.sh

build() { # build SRC DIR
    cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLK_BUILD_TESTS=ON \
        -DCMAKE_C_FLAGS=-gdwarf-4 >/dev/null
    cmake --build "$2" -j "$(nproc)" >/dev/null
}
git worktree add -q --detach "$WORK/base-src" "$BASE"
build "$ROOT" "$WORK/head"
build "$WORK/base-src" "$WORK/base"

bench_pg_start -c fsync=off -c synchronous_commit=off
export LIVEKIT_API_KEY=APIprofile LIVEKIT_API_SECRET=profile-secret-0123456789abcdef0123 \
    LIVEKIT_PROJECT_ID=p_profile
"$WORK/head/tests/lkarchive-sim" --api-key "$LIVEKIT_API_KEY" --api-secret "$LIVEKIT_API_SECRET" \
    --project p_profile --today "$TODAY" --seed 7 --days 7 --sessions-per-day "$SESSIONS" \
    --participants 4 --connections 6 --active-today 0 --threads 2 --port 0 \
    --port-file "$WORK/sim.port" --quiet 2>"$WORK/sim.log" &
SIM_PID=$!
for _ in $(seq 200); do [ -s "$WORK/sim.port" ] && break; sleep 0.05; done
export LIVEKIT_ANALYTICS_URL="http://127.0.0.1:$(cat "$WORK/sim.port")"

count() { # count NAME: instructions of one first load into an empty schema
    psql -X -q -c "DROP SCHEMA IF EXISTS livekit CASCADE" >/dev/null 2>&1
    psql -X -q -c "DROP SCHEMA IF EXISTS livekit_bi CASCADE" >/dev/null 2>&1
    "$WORK/$1/lkarchive" migrate >/dev/null 2>&1
    valgrind --tool=callgrind --callgrind-out-file="$WORK/$1.callgrind" \
        "$WORK/$1/lkarchive" run --today "$TODAY" --log-level warn >/dev/null 2>"$WORK/$1.err" \
        || { cat "$WORK/$1.err" >&2; echo "profile: the $1 run failed" >&2; exit 1; }
    awk '/^summary:/ { print $2 }' "$WORK/$1.callgrind"
}
base=$(count base)
head=$(count head)
echo "profile: 7 days x $SESSIONS sessions, first load, instructions of lkarchive itself"
printf '  %-24s %15s\n' "base ($BASE)" "$base" "this checkout" "$head"
awk -v h="$head" -v b="$base" 'BEGIN { printf "  this checkout / base     %15.3f\n", h / b }'
