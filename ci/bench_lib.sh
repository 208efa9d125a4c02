# bench_lib.sh -- what the benchmark scripts (bench.sh, bench_bi.sh, profile.sh) share: a private
# PostgreSQL 15 in $WORK/pg (unix socket only, no TCP) stopped by its own pid when the script
# exits, and the simulator's pid ($SIM_PID) stopped the same way. Source it after setting WORK;
# a script with more to clean up defines bench_cleanup_extra before sourcing. The benchmark's
# dataset comes from the simulator at $SIM (sim_start, sim_stop).
PG_PID= SIM_PID=
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
bench_cleanup() {
    [ -n "$SIM_PID" ] && { kill -TERM "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; }
    [ -n "$PG_PID" ] && { kill -INT "$PG_PID" 2>/dev/null || true; for _ in $(seq 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done; }
    if declare -F bench_cleanup_extra >/dev/null; then bench_cleanup_extra; fi
    return 0
}
trap bench_cleanup EXIT

# bench_pg_start [SERVER OPTIONS...]: initdb and start, then PG* and DATABASE_URL point at it.
bench_pg_start() {
    mkdir -p "$WORK/pg/data" "$WORK/pg/socket"
    [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$WORK/pg"
    as_pg /usr/lib/postgresql/15/bin/initdb -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 >/dev/null
    as_pg /usr/lib/postgresql/15/bin/pg_ctl -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w \
        -o "-c listen_addresses='' -c unix_socket_directories='$WORK/pg/socket' $*" start >/dev/null
    PG_PID=$(head -1 "$WORK/pg/data/postmaster.pid")
    export PGHOST=$WORK/pg/socket PGUSER=postgres PGDATABASE=postgres
    export DATABASE_URL="host=$WORK/pg/socket user=postgres dbname=postgres"
}

# sim_start TODAY SESSIONS_PER_DAY: the benchmark's dataset (seed 7, 7 days, about 4
# participants and 6 connections per session, project p_bench) served by $SIM on 127.0.0.1;
# LIVEKIT_ANALYTICS_URL points at it.
sim_start() {
    rm -f "$WORK/sim.port"
    "$SIM" --api-key "$LIVEKIT_API_KEY" --api-secret "$LIVEKIT_API_SECRET" --project p_bench \
        --today "$1" --seed 7 --days 7 --sessions-per-day "$2" --participants 4 \
        --connections 6 --active-today 0 --threads 2 --port 0 --port-file "$WORK/sim.port" \
        --quiet 2>"$WORK/sim.log" &
    SIM_PID=$!
    for _ in $(seq 200); do [ -s "$WORK/sim.port" ] && break; sleep 0.05; done
    export LIVEKIT_ANALYTICS_URL="http://127.0.0.1:$(cat "$WORK/sim.port")"
}
sim_stop() { kill -TERM "$SIM_PID"; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=; }
