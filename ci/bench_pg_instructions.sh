#!/usr/bin/env bash
# bench_pg_instructions.sh -- PostgreSQL's work, counted in instructions: the first load, the
# next night and the two COPY bounds of ci/bench.sh, each on a fresh private server run under
# callgrind (every server process: backends, checkpointer, WAL writer; autovacuum off, so
# only the contender's own work counts). At the default size instruction counts repeat to
# within 1 % (the background processes wake on a timer: much smaller runs vary more) where CPU
# seconds on this shared VM drift by a third within minutes, so the ratios here are the ones
# to compare between two versions (ci/bench.sh gives the wall and CPU figures).
#
#   bash ci/bench_pg_instructions.sh [SESSIONS_PER_DAY]     # default 2000: about 15 minutes
#   BENCH_ROOMS=both bash ci/bench_pg_instructions.sh 1000  # both room shapes, side by side
#
# BENCH_ROOMS picks the rooms' shape (ci/bench_lib.sh): 500 room names (the default, the shape of
# every figure before issue 26), unique (a room per session: an app naming a room after each
# call), or both: each shape measured in turn (migrate once), then per staged row: the first
# load, the next night and the COPY bounds of each shape, and unique's over 500's.
# BENCH_PG_SKIP_NEXT=1 leaves out the next night (its server runs the first load again).
#
# Each measured thing is its own server: `lkarchive migrate` alone (subtracted from the
# others), then migrate + (a) first load, migrate + (a) + (b) next night (b = the difference),
# migrate + (d) COPY into the archive's tables, migrate + (d0) COPY into tables with only their
# primary keys. The dataset is ci/bench.sh's (seed 7, 4 participants and 6 connections a
# session). callgrind slows PostgreSQL about fifty-fold: keep SESSIONS_PER_DAY small.
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${1:-2000}
TODAY=2026-11-20 NEXT=2026-11-21
PG_BIN=/usr/lib/postgresql/15/bin
BUILD=build-bench
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
LK=$PWD/$BUILD/lkarchive SIM=$PWD/$BUILD/tests/lkarchive-sim
WORK=$(mktemp -d /tmp/lkarchive-pginstr.XXXXXX)
chmod 755 "$WORK"
SERVER_DIR=
bench_cleanup_extra() { # the server under callgrind (not bench_lib's $PG_PID), the work dir
    [ -n "$SERVER_DIR" ] && as_pg "$PG_BIN/pg_ctl" -D "$SERVER_DIR/data" stop -m immediate >/dev/null 2>&1
    rm -rf "$WORK"
}
# shellcheck source=ci/bench_lib.sh
source ci/bench_lib.sh
export LIVEKIT_API_KEY=APIbench LIVEKIT_API_SECRET=bench-secret-0123456789abcdef0123456789
export LIVEKIT_PROJECT_ID=p_bench

server_start() { # server_start NAME: a fresh cluster under callgrind; PG* point at it
    SERVER_DIR=$WORK/$1
    mkdir -p "$SERVER_DIR/data" "$SERVER_DIR/socket" "$SERVER_DIR/callgrind"
    [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$SERVER_DIR"
    as_pg "$PG_BIN/initdb" -D "$SERVER_DIR/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 >/dev/null
    as_pg valgrind --tool=callgrind --callgrind-out-file="$SERVER_DIR/callgrind/out.%p" \
        "$PG_BIN/postgres" -D "$SERVER_DIR/data" -c listen_addresses= \
        -c unix_socket_directories="$SERVER_DIR/socket" -c synchronous_commit=off \
        -c shared_buffers=512MB -c max_wal_size=4GB -c autovacuum=off \
        >"$SERVER_DIR/server.log" 2>&1 &
    export PGHOST=$SERVER_DIR/socket PGUSER=postgres PGDATABASE=postgres
    export DATABASE_URL="host=$SERVER_DIR/socket user=postgres dbname=postgres"
    for _ in $(seq 600); do psql -X -q -c "SELECT 1" >/dev/null 2>&1 && return 0; sleep 0.5; done
    echo "PostgreSQL under callgrind did not start: $SERVER_DIR/server.log" >&2
    exit 1
}
server_stop() { # server_stop: shut down, print the instructions of every server process
    psql -X -q -c CHECKPOINT
    as_pg "$PG_BIN/pg_ctl" -D "$SERVER_DIR/data" stop -m fast -t 900 >/dev/null
    awk '/^totals:/ { sum += $2 } END { printf "%.0f\n", sum }' "$SERVER_DIR"/callgrind/out.*
    SERVER_DIR=
}
lk_night() { # lk_night TODAY: the simulator's window ending TODAY, one lkarchive run
    sim_start "$1" "$SESSIONS"
    "$LK" run --today "$1" --log-level warn >"$WORK/run.out"
    sim_stop
}
copy_rows() { # copy_rows SCHEMA: the flattened rows COPYed into SCHEMA's tables
    flat_dump "$TODAY" "$SESSIONS"
    copy_sql "$1" | psql -X -q -v ON_ERROR_STOP=1
}
measure() { # measure NAME STEPS...: instructions of migrate + the steps, on a fresh server
    local name=$1
    shift
    server_start "$name"
    "$LK" migrate >/dev/null 2>&1
    for step in "$@"; do $step; done
    server_stop >"$WORK/$name.instructions"
}
first_load() { lk_night "$TODAY"; }
next_night() { psql -X -q -c CHECKPOINT; lk_night "$NEXT"; }
copy_archive() { copy_rows livekit; }
copy_floor() { floor_tables; copy_rows bench_floor; }

case ${BENCH_ROOMS:=500} in both) SHAPES="500 unique" ;; *) SHAPES=$BENCH_ROOMS; sim_rooms >/dev/null ;; esac
echo "bench_pg_instructions: 7 days x $SESSIONS sessions/day, PostgreSQL under callgrind, rooms: $SHAPES"
measure migrate
g() { cat "$WORK/$1.instructions"; }
for shape in $SHAPES; do # each shape's servers, named after it; the staged rows counted
    export BENCH_ROOMS=$shape
    measure "first_$shape" first_load
    if [ -z "${BENCH_PG_SKIP_NEXT:-}" ]; then
        measure "next_$shape" first_load next_night
    else
        g "first_$shape" >"$WORK/next_$shape.instructions"
    fi
    measure "copy_$shape" copy_archive
    measure "floor_$shape" copy_floor
    cat "$WORK"/flat/*.tsv | wc -l >"$WORK/rows_$shape"
    awk -v m="$(g migrate)" -v a="$(g "first_$shape")" -v ab="$(g "next_$shape")" \
        -v d="$(g "copy_$shape")" -v d0="$(g "floor_$shape")" -v rows="$(cat "$WORK/rows_$shape")" \
        -v shape="$shape" '
        BEGIN {
            a -= m; b = ab - m - a; d -= m; d0 -= m
            printf "rooms: %s (%d rows staged by the first load)\n", shape, rows
            printf "%-44s %16s %10s\n", "PostgreSQL instructions (migrate subtracted)", "Ir", "Ir/row"
            printf "%-44s %16.0f %10.0f\n", "(a) lkarchive first load", a, a / rows
            printf "%-44s %16.0f %10.0f\n", "(b) lkarchive next night", b, b / rows
            printf "%-44s %16.0f %10.0f\n", "(d) COPY into the archive'\''s tables", d, d / rows
            printf "%-44s %16.0f %10.0f\n", "(d0) COPY, primary keys only", d0, d0 / rows
            printf "a/d %.2f, a/d0 %.2f, b/a %.3f\n\n", a / d, a / d0, b / a
        }' | tee "$WORK/table_$shape"
done
if [ "$SHAPES" = "500 unique" ]; then # per row, unique over 500
    awk -v m="$(g migrate)" -v r5="$(cat "$WORK/rows_500")" -v ru="$(cat "$WORK/rows_unique")" \
        -v a5="$(g first_500)" -v au="$(g first_unique)" -v ab5="$(g next_500)" \
        -v abu="$(g next_unique)" -v d5="$(g copy_500)" -v du="$(g copy_unique)" '
        function line(name, x5, xu) {
            printf "%-28s %10.0f %10.0f %8.3f\n", name, x5 / r5, xu / ru, (xu / ru) / (x5 / r5)
        }
        BEGIN {
            a5 -= m; au -= m; b5 = ab5 - m - a5; bu = abu - m - au; d5 -= m; du -= m
            printf "%-28s %10s %10s %8s\n", "Ir per staged row", "500 rooms", "unique", "ratio"
            line("(a) first load", a5, au)
            if (b5 != 0 || bu != 0) line("(b) next night", b5, bu)
            line("(d) COPY, archive tables", d5, du)
        }'
fi
