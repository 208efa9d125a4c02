#!/usr/bin/env bash
# quickstart.sh -- the main job on a fresh machine, in one command (README):
#   installs the build dependencies, builds lkarchive, starts a private PostgreSQL
#   (data kept in .lkarchive/pg, unix socket only), and archives the 7-day window:
#   from the real LiveKit Cloud Analytics API when LIVEKIT_API_KEY, LIVEKIT_API_SECRET and
#   LIVEKIT_PROJECT_ID are set, otherwise from the bundled simulator. Prints the per-day
#   summary and `lkarchive status`, then stops the servers it started.
#   --keep leaves PostgreSQL running (the script prints how to connect and stop it).
#   DATABASE_URL set: use that database instead of a private one.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
KEEP=0
[ "${1:-}" = "--keep" ] && KEEP=1

bash ci/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
LKARCHIVE=$ROOT/build/lkarchive
echo "built $("$LKARCHIVE" --version)"

STATE=$ROOT/.lkarchive
mkdir -p "$STATE"
PG_PID=
SIM_PID=
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_all() {
    if [ -n "$SIM_PID" ]; then kill -TERM "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
    if [ -n "$PG_PID" ] && [ "$KEEP" -eq 0 ]; then
        kill -INT "$PG_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
    fi
}
trap stop_all EXIT

if [ -z "${DATABASE_URL:-}" ]; then
    PG_BIN=/usr/lib/postgresql/15/bin
    PGDIR=$STATE/pg
    if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
        mkdir -p "$PGDIR/data" "$PGDIR/socket"
        chmod 755 "$STATE" "$PGDIR"
        [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$PGDIR"
        as_pg "$PG_BIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if [ -f "$PGDIR/data/postmaster.pid" ] && kill -0 "$(head -1 "$PGDIR/data/postmaster.pid")" 2>/dev/null; then
        echo "PostgreSQL already running in $PGDIR"
    else
        as_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
            -o "-c listen_addresses='' -c unix_socket_directories='$PGDIR/socket'" start >/dev/null
        PG_PID=$(head -1 "$PGDIR/data/postmaster.pid")
    fi
    export DATABASE_URL="host=$PGDIR/socket user=postgres dbname=postgres"
    echo "private PostgreSQL: $DATABASE_URL"
fi

if [ -n "${LIVEKIT_API_KEY:-}" ] && [ -n "${LIVEKIT_API_SECRET:-}" ] && [ -n "${LIVEKIT_PROJECT_ID:-}" ]; then
    echo "archiving project $LIVEKIT_PROJECT_ID from the LiveKit Cloud Analytics API"
else
    echo "no LiveKit credentials in the environment: archiving from the bundled simulator"
    export LIVEKIT_API_KEY=APIquickstart
    LIVEKIT_API_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    export LIVEKIT_API_SECRET
    export LIVEKIT_PROJECT_ID=p_quickstart
    rm -f "$STATE/sim.port"
    "$ROOT/build/tests/lkarchive-sim" --api-key "$LIVEKIT_API_KEY" --api-secret "$LIVEKIT_API_SECRET" \
        --project "$LIVEKIT_PROJECT_ID" --today "$(date -u +%F)" --sessions-per-day 50 \
        --quirks int64-strings,timestamp-forms,zero-timestamps,unknown-fields,nulls,shuffled-keys,odd-strings,gzip,chunked \
        --port 0 --port-file "$STATE/sim.port" --quiet 2>"$STATE/sim.log" &
    SIM_PID=$!
    for _ in $(seq 1 100); do [ -s "$STATE/sim.port" ] && break; sleep 0.05; done
    export LIVEKIT_ANALYTICS_URL="http://127.0.0.1:$(cat "$STATE/sim.port")"
fi

status=0
"$LKARCHIVE" run --log-level warn || status=$?
echo
"$LKARCHIVE" status || true
if [ "$KEEP" -eq 1 ] && [ -n "$PG_PID" ]; then
    echo
    echo "PostgreSQL keeps running: psql \"$DATABASE_URL\""
    echo "stop it with: kill -INT $PG_PID"
fi
exit "$status"
