# bench_lib.sh -- what the benchmark scripts (bench.sh, bench_bi.sh, bench_pg_instructions.sh,
# profile.sh) share: a private PostgreSQL 15 in $WORK/pg (unix socket only, no TCP) stopped by
# its own pid when the script exits, and the simulator's pid ($SIM_PID) stopped the same way.
# Source it after setting WORK; a script with more to clean up defines bench_cleanup_extra
# before sourcing. The benchmark's dataset comes from the simulator at $SIM (sim_start,
# sim_stop; flattened for COPY by flat_dump, copy_sql and floor_tables); the server's CPU time
# so far is pg_cpu_ms.
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

# sim_rooms: the simulator's room options for BENCH_ROOMS: empty or 500 (room names drawn from
# 500, the shape every figure before issue 26 has), unique (a room per session, as an app that
# names a room after each call), or N (names drawn from N)
sim_rooms() {
    case ${BENCH_ROOMS:-500} in
        unique) echo "--rooms unique" ;;
        *[!0-9]* | "") echo "bench: BENCH_ROOMS is 'unique' or a number of room names" >&2; exit 2 ;;
        *) echo "--room-names ${BENCH_ROOMS:-500}" ;;
    esac
}

# sim_start TODAY SESSIONS_PER_DAY: the benchmark's dataset (seed 7, 7 days, about 4
# participants and 6 connections per session, project p_bench, rooms by BENCH_ROOMS) served by
# $SIM on 127.0.0.1; LIVEKIT_ANALYTICS_URL points at it.
sim_start() {
    local rooms
    rooms=$(sim_rooms)
    rm -f "$WORK/sim.port"
    # shellcheck disable=SC2086 # the options, split
    "$SIM" --api-key "$LIVEKIT_API_KEY" --api-secret "$LIVEKIT_API_SECRET" --project p_bench \
        --today "$1" --seed 7 --days 7 --sessions-per-day "$2" --participants 4 \
        --connections 6 --active-today 0 --threads 2 --port 0 --port-file "$WORK/sim.port" \
        $rooms --quiet 2>"$WORK/sim.log" &
    SIM_PID=$!
    for _ in $(seq 200); do [ -s "$WORK/sim.port" ] && break; sleep 0.05; done
    export LIVEKIT_ANALYTICS_URL="http://127.0.0.1:$(cat "$WORK/sim.port")"
}
sim_stop() { kill -TERM "$SIM_PID"; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=; }

# flat_dump TODAY SESSIONS_PER_DAY: sim_start's dataset as the rows lkarchive stores, flattened
# into $WORK/flat/<table>.tsv (the simulator's --expected-dir), for the COPY bounds
flat_dump() {
    local rooms
    rooms=$(sim_rooms)
    # shellcheck disable=SC2086 # the options, split
    "$SIM" --api-key x --api-secret y --project p_bench --today "$1" --seed 7 --days 7 \
        --sessions-per-day "$2" --participants 4 --connections 6 --active-today 0 \
        $rooms --expected-dir "$WORK/flat" --dump-only 2>/dev/null
}
# copy_sql SCHEMA: the psql script that COPYs the flattened rows into SCHEMA's tables, in one
# transaction
copy_sql() {
    cat <<SQL
BEGIN;
\copy $1.sessions (project_id, session_id, room_name, created_at, ended_at, last_active, bandwidth_in, bandwidth_out, egress, num_participants, num_active_participants, start_time, end_time, bandwidth, connection_minutes, details_num_participants, list_day, list_extra) FROM '$WORK/flat/sessions.tsv'
\copy $1.participants (project_id, session_id, participant_identity, participant_name, joined_at, left_at, region, connection_type, sdk_version, published_camera_track, published_microphone_track, published_screen_share_track, published_screen_share_audio, extra) FROM '$WORK/flat/participants.tsv'
\copy $1.participant_connections (project_id, session_id, connection_id, participant_identity, joined_at, left_at, extra) FROM '$WORK/flat/participant_connections.tsv'
COMMIT;
SQL
}
# floor_tables: schema bench_floor, the archive's three tables with only their primary keys
# (LIKE livekit's, defaults and the generated column included; no secondary index)
floor_tables() {
    psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE SCHEMA bench_floor;
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['sessions', 'participants', 'participant_connections'] LOOP
        EXECUTE format('CREATE TABLE bench_floor.%I (LIKE livekit.%I INCLUDING DEFAULTS '
            'INCLUDING GENERATED INCLUDING IDENTITY, %s)', t, t,
            (SELECT pg_get_constraintdef(oid) FROM pg_constraint
             WHERE conrelid = format('livekit.%I', t)::regclass AND contype = 'p'));
    END LOOP;
END $$;
SQL
}

# pg_cpu_ms: user+system CPU, in ms, the private server ($PG_PID and all its processes) has
# used so far; the difference of two calls is its CPU between them. From /proc, in clock ticks
# (getconf CLK_TCK): the postmaster's stat fields 14 and 15 (utime, stime, its own) and 16 and
# 17 (cutime, cstime: the children it has reaped, i.e. exited backends and workers), plus 14
# and 15 of every live child (pgrep -P: background processes and connected backends). A backend
# whose client has just left may still be exiting, its CPU in neither figure yet, so it waits
# PG_CPU_SETTLE seconds (0.5) first. A child that exits between pgrep and the read of the stat
# files may be missed or counted twice: rare once the run is over and the server idle.
pg_cpu_ms() {
    local kids
    sleep "${PG_CPU_SETTLE:-0.5}"
    kids=$(pgrep -P "$PG_PID" | sed 's|.*|/proc/&/stat|' | tr '\n' ' ' || true)
    # shellcheck disable=SC2086 # one path per live child
    { cat "/proc/$PG_PID/stat" $kids 2>/dev/null || true; } | awk -v pm="$PG_PID" -v hz="$(getconf CLK_TCK)" '
        { pid = $1; sub(/^.*\) /, "") }   # after "(comm) ": field 1 is stat field 3
        pid == pm { t += $12 + $13 + $14 + $15; next }
        { t += $12 + $13 }
        END { printf "%d\n", t * 1000 / hz }'
}
