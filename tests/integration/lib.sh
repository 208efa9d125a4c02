# lib.sh -- shared set-up for the integration tests: a private PostgreSQL cluster and the API
# simulator, both on this machine only (unix socket / 127.0.0.1), both stopped by their own pid
# when the test exits. Sourced by tests/integration/test_*.sh; CTest passes LKARCHIVE_BIN,
# LKSIM_BIN and LK_SOURCE_DIR.
set -euo pipefail

: "${LKARCHIVE_BIN:?set LKARCHIVE_BIN to the lkarchive binary}"
: "${LKSIM_BIN:?set LKSIM_BIN to the lkarchive-sim binary}"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/lkarchive-${TEST_NAME}.XXXXXX")
chmod 755 "$WORK"
PG_PID=
SIM_PID=
SIM_PORT=
TLS_DIR=$WORK/tls
export LIVEKIT_API_KEY=APItestkey
export LIVEKIT_API_SECRET=test-secret-0123456789abcdef0123456789abcdef
export LIVEKIT_PROJECT_ID=p_sim
LK_SUITE_SECRET=$LIVEKIT_API_SECRET # what no output of lkarchive may ever hold
unset LKARCHIVE_CONFIG LIVEKIT_ANALYTICS_URL DATABASE_URL || true
# the API's TLS trusts what the test says (lkarchive also reads curl's variables), directly
unset LKARCHIVE_CA_FILE CURL_CA_BUNDLE SSL_CERT_FILE HTTPS_PROXY https_proxy ALL_PROXY all_proxy \
    http_proxy NO_PROXY no_proxy || true

log() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

# Every output lkarchive wrote in this test (lk appends each to lk-all.log; runs started in
# the background write *.out / *.err in $WORK) must hold neither the secret nor a JWT.
check_outputs_for_secrets() {
    local files=()
    for f in "$WORK"/lk-all.log "$WORK"/*.out "$WORK"/*.err; do [ -f "$f" ] && files+=("$f"); done
    [ "${#files[@]}" -gt 0 ] || return 0
    if grep -l -- "$LK_SUITE_SECRET" "${files[@]}" >&2; then
        log "FAIL: the API secret appears in lkarchive's output (files above)"; return 1
    fi
    if grep -lE 'eyJ[A-Za-z0-9_-]{10,}\.' "${files[@]}" >&2; then
        log "FAIL: a JWT appears in lkarchive's output (files above)"; return 1
    fi
}

cleanup() {
    local status=$?
    sim_stop
    tls_stop
    proxy_stop
    pg_stop
    citus_stop
    if [ "$status" -eq 0 ] && ! check_outputs_for_secrets; then status=1; fi
    if [ "$status" -eq 0 ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; else log "work dir kept: $WORK"; fi
    exit "$status"
}
trap cleanup EXIT

# as_pg CMD...: run as the postgres user when we are root (PostgreSQL refuses root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
    local dir=$WORK/pg
    mkdir -p "$dir/data" "$dir/socket"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$dir"; fi
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; fail "initdb failed"; }
    # unix socket only: no TCP listener at all
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir/socket' -c port=5432 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
        start >/dev/null || { cat "$dir/server.log" >&2; fail "PostgreSQL did not start"; }
    PG_PID=$(head -1 "$dir/data/postmaster.pid")
    PG_SOCKET=$dir/socket
    export PGHOST=$PG_SOCKET PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
    export DATABASE_URL="host=$PG_SOCKET port=5432 user=postgres dbname=postgres"
}

pg_stop() {
    if [ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null; then
        kill -INT "$PG_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    PG_PID=
}

# Citus (tests of a distributed archive): a coordinator and two workers, each a private
# PostgreSQL 15 with shared_preload_libraries=citus, on 127.0.0.1 (the nodes talk over TCP) and
# a unix socket in $WORK, each stopped by its own pid. Citus must be installed: when it is not,
# the installer is run ($LK_CITUS_INSTALL, $LK_SOURCE_DIR/../shared/citus/install.sh,
# /work/shared/citus/install.sh, as root); with neither, the test fails (never skips).
CITUS_PIDS=()
CITUS_PORTS=()
CITUS_OPTS=()

citus_ensure_installed() {
    local lib installer
    lib=$("$PG_BIN/pg_config" --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)
    [ -f "$lib/citus.so" ] && return 0
    for installer in "${LK_CITUS_INSTALL:-}" "${LK_SOURCE_DIR:-.}/../shared/citus/install.sh" \
        /work/shared/citus/install.sh; do
        [ -n "$installer" ] && [ -f "$installer" ] || continue
        [ "$(id -u)" -eq 0 ] || fail "Citus is not installed and the installer $installer needs root"
        bash "$installer" >&2 || fail "the Citus installer $installer failed"
        [ -f "$lib/citus.so" ] && return 0
    done
    fail "Citus is not installed ($lib/citus.so missing) and no installer was found: set LK_CITUS_INSTALL to citus/install.sh or install Citus 13 for PostgreSQL 15"
}

# citus_node N: start node N (0 = coordinator) on a free 127.0.0.1 port; sets CITUS_PORTS[N]
citus_node() {
    local n=$1 dir=$WORK/citus$1 port tries
    mkdir -p "$dir/data" "$dir/socket"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$dir"; fi
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; fail "initdb of Citus node $n failed"; }
    for tries in 1 2 3 4 5 6 7 8; do
        port=$(( 20000 + (RANDOM * 7 + $$ + n * 101 + tries) % 30000 ))
        CITUS_OPTS[$n]="-c listen_addresses='127.0.0.1' -c unix_socket_directories='$dir/socket' -c port=$port -c shared_preload_libraries=citus -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200 -c citus.shard_count=${CITUS_SHARD_COUNT:-8}"
        if as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "${CITUS_OPTS[$n]}" \
            start >/dev/null 2>&1; then
            CITUS_PORTS[$n]=$port
            CITUS_PIDS[$n]=$(head -1 "$dir/data/postmaster.pid")
            psql -X -q -h "$dir/socket" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
                -c "CREATE EXTENSION citus" >/dev/null || fail "CREATE EXTENSION citus on node $n"
            return 0
        fi
    done
    cat "$dir/server.log" >&2
    fail "Citus node $n did not start"
}

# citus_start: coordinator + 2 workers; PG* and DATABASE_URL point at the coordinator.
citus_start() {
    citus_ensure_installed
    citus_node 0; citus_node 1; citus_node 2
    export PGHOST=$WORK/citus0/socket PGPORT=${CITUS_PORTS[0]} PGUSER=postgres PGDATABASE=postgres
    export DATABASE_URL="host=$PGHOST port=$PGPORT user=postgres dbname=postgres"
    psql_q "SELECT citus_set_coordinator_host('127.0.0.1', ${CITUS_PORTS[0]})" >/dev/null
    psql_q "SELECT citus_add_node('127.0.0.1', ${CITUS_PORTS[1]})" >/dev/null
    psql_q "SELECT citus_add_node('127.0.0.1', ${CITUS_PORTS[2]})" >/dev/null
    log "Citus: coordinator on port ${CITUS_PORTS[0]}, workers on ${CITUS_PORTS[1]} and ${CITUS_PORTS[2]}"
}

# citus_restart_node N [pg_ctl restart options]: restart node N (fast), same port
citus_restart_node() {
    local n=$1 dir=$WORK/citus$1
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w restart -l "$dir/server.log" \
        -o "${CITUS_OPTS[$n]}" >/dev/null
    CITUS_PIDS[$n]=$(head -1 "$dir/data/postmaster.pid")
}

citus_stop() {
    local pid
    for pid in "${CITUS_PIDS[@]}"; do
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -INT "$pid" 2>/dev/null || true
    done
    for pid in "${CITUS_PIDS[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    CITUS_PIDS=()
}

# psql_q SQL: one value, unaligned, no header
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -At -c "$1"; }

# sim_launch NAME [sim options...]: a simulator on an ephemeral 127.0.0.1 port, its port file
# and log $WORK/NAME.{port,log}; sets LAUNCHED_PID and LAUNCHED_PORT (fails when it exits or
# names no port within 10 s)
sim_launch() {
    local name=$1
    shift
    rm -f "$WORK/$name.port"
    "$LKSIM_BIN" --api-key "$LIVEKIT_API_KEY" --api-secret "$LIVEKIT_API_SECRET" \
        --port 0 --port-file "$WORK/$name.port" "$@" >"$WORK/$name.log" 2>&1 &
    LAUNCHED_PID=$!
    for _ in $(seq 1 200); do
        [ -s "$WORK/$name.port" ] && break
        kill -0 "$LAUNCHED_PID" 2>/dev/null || { cat "$WORK/$name.log" >&2; fail "simulator $name exited"; }
        sleep 0.05
    done
    [ -s "$WORK/$name.port" ] || fail "simulator $name did not start"
    LAUNCHED_PORT=$(cat "$WORK/$name.port")
}

# sim_start [sim options...]: the test's simulator (SIM_PID, SIM_PORT; log $WORK/sim.log), the
# URL exported
sim_start() {
    sim_launch sim "$@"
    SIM_PID=$LAUNCHED_PID SIM_PORT=$LAUNCHED_PORT
    export LIVEKIT_ANALYTICS_URL="http://127.0.0.1:$SIM_PORT"
    # LK_TEST_TLS=1 (the *_tls variants of CTest): the same test over TLS and HTTP/2
    if [ "${LK_TEST_TLS:-}" = 1 ]; then tls_start; fi
}

# sim_start_another NAME [sim options...]: one more simulator beside the test's (its port in
# LAUNCHED_PORT), stopped by cleanup
EXTRA_SIM_PIDS=()
sim_start_another() {
    sim_launch "$@"
    EXTRA_SIM_PIDS+=("$LAUNCHED_PID")
}

sim_stop() {
    local pid
    tls_stop
    for pid in "$SIM_PID" "${EXTRA_SIM_PIDS[@]}"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    SIM_PID=
    EXTRA_SIM_PIDS=()
}

# lk ARGS...: run lkarchive, keeping stdout/stderr in $WORK/last.{out,err}; sets LK_STATUS
lk() {
    set +e
    "$LKARCHIVE_BIN" "$@" >"$WORK/last.out" 2>"$WORK/last.err"
    LK_STATUS=$?
    { echo "### lkarchive $*"; cat "$WORK/last.out" "$WORK/last.err"; } >>"$WORK/lk-all.log"
    set -e
}

expect_status() {
    local want=$1 what=$2
    if [ "$LK_STATUS" -ne "$want" ]; then
        log "stdout:"; cat "$WORK/last.out" >&2
        log "stderr:"; cat "$WORK/last.err" >&2
        fail "$what: exit status $LK_STATUS, expected $want"
    fi
}

expect_stderr() {
    grep -q -- "$1" "$WORK/last.err" || { cat "$WORK/last.err" >&2; fail "stderr lacks: $1"; }
}

# Never print the secret or a token: check everything lkarchive wrote.
expect_no_secret() {
    if grep -q -- "$LIVEKIT_API_SECRET" "$WORK/last.out" "$WORK/last.err"; then
        fail "the API secret appears in lkarchive's output"
    fi
    if grep -Eq 'eyJ[A-Za-z0-9_-]{10,}\.' "$WORK/last.out" "$WORK/last.err"; then
        fail "a JWT appears in lkarchive's output"
    fi
}

# Column lists of the expected-row files (tests/sim/README.md), in file order.
SESSIONS_COLS="project_id, session_id, room_name, created_at, ended_at, last_active, bandwidth_in, bandwidth_out, egress, num_participants, num_active_participants, start_time, end_time, bandwidth, connection_minutes, details_num_participants, list_day, extra"
PARTICIPANTS_COLS="project_id, session_id, participant_identity, participant_name, joined_at, left_at, region, connection_type, sdk_version, published_camera_track, published_microphone_track, published_screen_share_track, published_screen_share_audio, extra"
CONNECTIONS_COLS="project_id, session_id, connection_id, participant_identity, joined_at, left_at, extra"

# load_expected DIR: the simulator's expected rows into schema "expected", typed like the archive.
load_expected() {
    local dir=$1
    psql -X -q -v ON_ERROR_STOP=1 <<SQL
DROP SCHEMA IF EXISTS expected CASCADE;
CREATE SCHEMA expected;
CREATE TABLE expected.sessions AS SELECT $SESSIONS_COLS FROM livekit.sessions WITH NO DATA;
CREATE TABLE expected.participants AS SELECT $PARTICIPANTS_COLS FROM livekit.participants WITH NO DATA;
CREATE TABLE expected.participant_connections AS SELECT $CONNECTIONS_COLS FROM livekit.participant_connections WITH NO DATA;
\copy expected.sessions ($SESSIONS_COLS) FROM '$dir/sessions.tsv'
\copy expected.participants ($PARTICIPANTS_COLS) FROM '$dir/participants.tsv'
\copy expected.participant_connections ($CONNECTIONS_COLS) FROM '$dir/participant_connections.tsv'
SQL
}

# compare_table TABLE "KEY COLS" "ALL COLS": every column of every row, both directions.
compare_table() {
    local table=$1 keys=$2 cols=$3 col mismatches=0 per_col="" join=""
    local archived expected
    archived=$(psql_q "SELECT count(*) FROM livekit.$table")
    expected=$(psql_q "SELECT count(*) FROM expected.$table")
    [ "$archived" -eq "$expected" ] || log "$table: $archived rows archived, $expected expected"
    for col in ${keys//,/ }; do join="$join AND e.$col = a.$col"; done
    for col in ${cols//,/ }; do
        per_col="$per_col, count(*) FILTER (WHERE e.$col IS DISTINCT FROM a.$col) AS $col"
    done
    local report
    report=$(psql -X -q -v ON_ERROR_STOP=1 -x -c "SELECT count(*) FILTER (WHERE a.project_id IS NULL) AS missing_rows, count(*) FILTER (WHERE e.project_id IS NULL) AS unexpected_rows $per_col FROM expected.$table e FULL JOIN livekit.$table a ON ${join# AND }")
    mismatches=$(printf '%s\n' "$report" | awk -F'|' 'NF == 2 { gsub(/ /, "", $2); if ($2 != "0") bad++ } END { print bad + 0 }')
    if [ "$mismatches" -ne 0 ] || [ "$archived" -ne "$expected" ]; then
        printf '%s\n' "$report" >&2
        psql -X -c "(SELECT 'expected' AS side, * FROM (SELECT $cols FROM expected.$table EXCEPT SELECT $cols FROM livekit.$table) x LIMIT 5) UNION ALL (SELECT 'archived', * FROM (SELECT $cols FROM livekit.$table EXCEPT SELECT $cols FROM expected.$table) y LIMIT 5)" >&2 || true
        fail "$table differs from the simulator's dataset"
    fi
    log "$table: $archived rows, every column matches"
}

compare_all() {
    compare_table sessions "project_id, session_id" "$SESSIONS_COLS"
    compare_table participants "project_id, session_id, participant_identity" "$PARTICIPANTS_COLS"
    compare_table participant_connections "project_id, session_id, connection_id" "$CONNECTIONS_COLS"
}

# snapshot: a digest of every row of the archive tables, housekeeping columns included
snapshot() {
    psql_q "SELECT md5(string_agg(t::text, E'\n' ORDER BY t::text)) FROM livekit.sessions t" 
    psql_q "SELECT md5(string_agg(t::text, E'\n' ORDER BY t::text)) FROM livekit.participants t"
    psql_q "SELECT md5(string_agg(t::text, E'\n' ORDER BY t::text)) FROM livekit.participant_connections t"
}

# sim_stat NAME: a counter of the simulator's /_sim/stats
sim_stat() {
    curl -s "http://127.0.0.1:$SIM_PORT/_sim/stats" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# fast_retry_config FILE [extra yaml lines]: a config whose retries wait milliseconds, not seconds
fast_retry_config() {
    local file=$1; shift
    {
        echo "retry_base_ms: 20"
        echo "max_attempts: 5"
        for line in "$@"; do echo "$line"; done
    } >"$file"
}

# compare_complete_days: every day the ledger calls complete holds exactly the expected rows
compare_complete_days() {
    local bad
    bad=$(psql_q "
      WITH done AS (SELECT day FROM livekit.archive_days WHERE status = 'complete'),
      s AS ((SELECT $SESSIONS_COLS FROM expected.sessions WHERE list_day IN (SELECT day FROM done)
             EXCEPT SELECT $SESSIONS_COLS FROM livekit.sessions WHERE list_day IN (SELECT day FROM done))
            UNION ALL
            (SELECT $SESSIONS_COLS FROM livekit.sessions WHERE list_day IN (SELECT day FROM done)
             EXCEPT SELECT $SESSIONS_COLS FROM expected.sessions WHERE list_day IN (SELECT day FROM done))),
      ids AS (SELECT session_id FROM expected.sessions WHERE list_day IN (SELECT day FROM done)),
      p AS ((SELECT $PARTICIPANTS_COLS FROM expected.participants WHERE session_id IN (SELECT * FROM ids)
             EXCEPT SELECT $PARTICIPANTS_COLS FROM livekit.participants WHERE session_id IN (SELECT * FROM ids))
            UNION ALL
            (SELECT $PARTICIPANTS_COLS FROM livekit.participants WHERE session_id IN (SELECT * FROM ids)
             EXCEPT SELECT $PARTICIPANTS_COLS FROM expected.participants WHERE session_id IN (SELECT * FROM ids))),
      c AS ((SELECT $CONNECTIONS_COLS FROM expected.participant_connections WHERE session_id IN (SELECT * FROM ids)
             EXCEPT SELECT $CONNECTIONS_COLS FROM livekit.participant_connections WHERE session_id IN (SELECT * FROM ids))
            UNION ALL
            (SELECT $CONNECTIONS_COLS FROM livekit.participant_connections WHERE session_id IN (SELECT * FROM ids)
             EXCEPT SELECT $CONNECTIONS_COLS FROM expected.participant_connections WHERE session_id IN (SELECT * FROM ids)))
      SELECT (SELECT count(*) FROM s) + (SELECT count(*) FROM p) + (SELECT count(*) FROM c)")
    [ "$bad" -eq 0 ] || fail "a day marked complete does not hold exactly its rows ($bad rows differ)"
}

# expected_schema_from DIR: load expected rows (needs the livekit schema: migrate first)
ensure_expected() {
    "$LKARCHIVE_BIN" migrate >/dev/null 2>&1 || fail "migrate failed"
    load_expected "$1"
}

# The rollup-backed views of livekit_bi (tests/bi/reference.sql defines each from the base tables).
VIEWS="daily_usage room_daily_usage participant_daily_usage daily_peak_concurrency session_duration_histogram publishing_mix usage_by_region usage_by_sdk usage_by_connection_type daily_billable_usage"

# check_rollup WHEN: every rollup-backed view equals its base-table definition
check_rollup() {
    local view n rows
    psql -X -q -v ON_ERROR_STOP=1 -f "$LK_SOURCE_DIR/tests/bi/reference.sql" >/dev/null 2>&1 \
        || fail "$1: tests/bi/reference.sql does not load"
    for view in $VIEWS; do
        n=$(psql_q "SELECT livekit_bi_reference.differences('$view')")
        [ "$n" -eq 0 ] || {
            psql -X -c "TABLE livekit_bi.$view EXCEPT SELECT * FROM livekit_bi_reference.$view" >&2 || true
            fail "$1: livekit_bi.$view has $n row(s) that differ from the base tables"
        }
    done
    rows=$(psql_q "SELECT (SELECT count(*) FROM livekit.rollup_daily) + (SELECT count(*) FROM livekit.rollup_room_daily) + (SELECT count(*) FROM livekit.rollup_peak_daily)")
    log "$1: rollup equals the base tables ($rows daily, room and peak rows)"
}

# Schema tests (test_schema.sh, test_schema_citus.sh). The release before the repeatable files
# (sql/047): what its `lkarchive migrate` did, with the frozen migrations 001..046 it shipped
# (byte-identical here): each migration in its own transaction recorded with the md5 of its
# text, then, on Citus, livekit.citus_distribute() as 030 defined it, then bi_regrant.
PREVIOUS_RELEASE_LAST_MIGRATION=046
migrate_as_previous_release() {
    local file name
    psql -X -q -v ON_ERROR_STOP=1 -c "CREATE SCHEMA IF NOT EXISTS livekit; CREATE TABLE IF NOT EXISTS livekit.schema_migrations (name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null
    for file in "$LK_SOURCE_DIR"/sql/[0-9][0-9][0-9]_*.sql; do
        name=$(basename "$file")
        [ "${name%%_*}" -le "$PREVIOUS_RELEASE_LAST_MIGRATION" ] || continue
        { echo "BEGIN;"; cat "$file"; echo ";"
          echo "INSERT INTO livekit.schema_migrations (name, checksum) VALUES ('$name', '$(md5sum <"$file" | cut -d' ' -f1)');"
          echo "COMMIT;"; } | psql -X -q -v ON_ERROR_STOP=1 >/dev/null 2>"$WORK/previous.err" \
            || { cat "$WORK/previous.err" >&2; fail "previous release: migration $name"; }
    done
    psql_q "SELECT * FROM livekit.citus_distribute()" >/dev/null || fail "previous release: citus_distribute"
    psql_q "SELECT livekit.bi_regrant()" >/dev/null || fail "previous release: bi_regrant"
}
# schema_dump FILE: the schema of the database PG* point at, as sql/schema.sql holds it
schema_dump() {
    bash "$LK_SOURCE_DIR/ci/schema_dump.sh" --dump >"$1" || fail "pg_dump of the schema"
}
# schema_expected FILE: sql/schema.sql without its header (the lines ci/schema_dump.sh adds)
schema_expected() { tail -n +4 "$LK_SOURCE_DIR/sql/schema.sql" >"$1"; }
# schema_same WHAT A B: the two dumps are identical, or fail showing the difference
schema_same() {
    diff -u "$2" "$3" >"$WORK/schema.diff" \
        || { head -80 "$WORK/schema.diff" >&2; fail "$1 (diff: $WORK/schema.diff)"; }
}

# ---- TLS and HTTP/2: a test CA and an nginx in front of the simulator (ci/tls_front.sh) ----
source "$LK_SOURCE_DIR/ci/tls_front.sh"

# tls_make_ca in $TLS_DIR: ca.pem, server.pem (127.0.0.1 only), wrong-ca.pem
tls_ca() { tls_make_ca "$TLS_DIR" || fail "could not make the test CA"; }

# tls_start: nginx (TLS, HTTP/2) on 127.0.0.1:$TLS_PORT in front of the simulator, stopped by
# its pid; $TLS_DIR/access.log has a line per request (connection, request number on it,
# protocol, status, request line). Exports the https base URL and LKARCHIVE_CA_FILE.
tls_start() {
    tls_front_start "$TLS_DIR" "$SIM_PORT" || fail "nginx did not start"
    export LIVEKIT_ANALYTICS_URL="https://127.0.0.1:$TLS_PORT"
    export LKARCHIVE_CA_FILE=$TLS_DIR/ca.pem
    log "the simulator behind nginx: $LIVEKIT_ANALYTICS_URL (TLS, HTTP/2)"
}

tls_stop() { tls_front_stop; }

# CONNECT proxy (tests/integration/connect_proxy.py) on 127.0.0.1:$PROXY_PORT; it logs each
# request head to $WORK/proxy.log and every byte it carries to $WORK/proxy.bytes
PROXY_PID=
proxy_start() {
    rm -f "$WORK/proxy.port"
    python3 "$LK_SOURCE_DIR/tests/integration/connect_proxy.py" "$WORK/proxy.port" \
        "$WORK/proxy.log" "$WORK/proxy.bytes" 2>"$WORK/proxy.err" &
    PROXY_PID=$!
    for _ in $(seq 1 100); do [ -s "$WORK/proxy.port" ] && break; sleep 0.05; done
    [ -s "$WORK/proxy.port" ] || { cat "$WORK/proxy.err" >&2; fail "the CONNECT proxy did not start"; }
    PROXY_PORT=$(cat "$WORK/proxy.port")
}

proxy_stop() {
    if [ -n "$PROXY_PID" ] && kill -0 "$PROXY_PID" 2>/dev/null; then
        kill -TERM "$PROXY_PID" 2>/dev/null || true
        wait "$PROXY_PID" 2>/dev/null || true
    fi
    PROXY_PID=
}
