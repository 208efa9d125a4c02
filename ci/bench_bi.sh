#!/usr/bin/env bash
# bench_bi.sh -- the livekit_bi benchmark (not part of CI): bash ci/bench_bi.sh [DAYS] [SESSIONS]
#
# On this machine, with a private PostgreSQL 15 (unix socket, shared_buffers=512MB):
#   (A) a synthetic archive of DAYS x SESSIONS (default 365 x 2,000: a year, about 4 participants
#       and 6 connections per session), generated in SQL (tests/bench/bi_synthetic.sql); the
#       rollup built for it as migration 021 builds it for an existing archive (timed);
#   (B) query times, best of 3, warm cache: daily_usage over the whole year, room_daily_usage
#       for one room, daily_peak_concurrency over the whole year, participant_daily_usage for
#       one identity, each from the rollup (the livekit_bi views) and straight from the base
#       tables (the same figures, computed the way the rollup refresh does, without it);
#   (C) the rollup's cost per archived day: livekit.rollup_refresh for one day (median of 5
#       days of the archive's last week, one day six months back, and a 20,000-session day),
#       and rollup_days_of_sessions for a day's sessions;
#   (D) inside `lkarchive run` (BENCH_SIM_SESSIONS per day, default 20,000; 0 skips): the
#       simulator's 7 days, first load and next night, once as shipped and once with the two
#       rollup functions replaced by no-ops, plus the statements' own durations from the
#       server log (log_min_duration_statement=0 for lkarchive's connection only);
# and writes the EXPLAIN (ANALYZE) of each view's typical filter to $WORK/explain.md
# (tests/bench/BI.md holds a copy). Results: tests/bench/RESULTS.md, section "Analytics views".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DAYS=${1:-${BENCH_DAYS:-365}}
SESSIONS=${2:-${BENCH_BI_SESSIONS:-2000}}
SIM_SESSIONS=${BENCH_SIM_SESSIONS:-20000}
FIRST_DAY=2025-01-01
LAST_DAY=$(date -u -d "$FIRST_DAY + $((DAYS - 1)) days" +%F)
TODAY=${BENCH_TODAY:-2026-11-20}
NEXT=$(date -u -d "$TODAY + 1 day" +%F)

bash ci/deps.sh >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j "$(nproc)" >/dev/null
LK=$ROOT/build-bench/lkarchive
SIM=$ROOT/build-bench/tests/lkarchive-sim

WORK=$ROOT/tests/bench/work-bi
rm -rf "$WORK"; mkdir -p "$WORK"; chmod 755 "$WORK"
source ci/bench_lib.sh
bench_pg_start -c synchronous_commit=off -c shared_buffers=512MB -c max_wal_size=4GB
export PGTZ=UTC
export LIVEKIT_API_KEY=APIbench LIVEKIT_API_SECRET=bench-secret-0123456789abcdef0123456789 LIVEKIT_PROJECT_ID=p_bench
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# best_ms SQL: best wall time of 3 runs, ms (client side, rows fetched and discarded)
best_ms() {
    local best= t
    for _ in 1 2 3; do
        t=$(q -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
        best=$(awk -v a="${best:-$t}" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
    done
    echo "$best"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "bench_bi: machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(psql -X -At -c 'SHOW server_version')"

# ---- (A) the synthetic archive --------------------------------------------------------------
"$LK" migrate >/dev/null 2>&1
t0=$(now_ms)
q -v project=p_bench -v first_day="$FIRST_DAY" -v days="$DAYS" -v sessions="$SESSIONS" \
    -f tests/bench/bi_synthetic.sql >/dev/null
gen_ms=$(( $(now_ms) - t0 ))
q -c "VACUUM ANALYZE"
rows=$(q -c "SELECT (SELECT count(*) FROM livekit.sessions) || ' sessions, ' || (SELECT count(*) FROM livekit.participants) || ' participants, ' || (SELECT count(*) FROM livekit.participant_connections) || ' connections'")
size=$(q -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
echo "bench_bi: (A) $DAYS days x $SESSIONS sessions: $rows ($size), generated in $gen_ms ms"
# the rollup of an existing archive, as migration 021 builds it
t0=$(now_ms)
q -c "SELECT livekit.rollup_refresh(project_id, livekit.rollup_days_of_sessions(project_id, array_agg(session_id))) FROM livekit.sessions GROUP BY project_id" >/dev/null
build_ms=$(( $(now_ms) - t0 ))
q -c "VACUUM ANALYZE"
rollup_rows=$(q -c "SELECT (SELECT count(*) FROM livekit.rollup_daily) + (SELECT count(*) FROM livekit.rollup_room_daily) + (SELECT count(*) FROM livekit.rollup_participant_daily) + (SELECT count(*) FROM livekit.rollup_peak_daily) + (SELECT count(*) FROM livekit.rollup_duration_daily) + (SELECT count(*) FROM livekit.rollup_dimension_daily)")
rollup_size=$(q -c "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c WHERE c.relnamespace = 'livekit'::regnamespace AND c.relname LIKE 'rollup%' AND c.relkind = 'r'")
echo "bench_bi: (A) rollup built in $build_ms ms: $rollup_rows rows ($rollup_size)"

# ---- (B) query times: the views (rollup) and the base tables ---------------------------------
ROOM=room-42
IDENTITY=user-42
S_DAYS="SELECT session_id, room_name, connection_minutes, bandwidth_in, bandwidth_out, bandwidth, egress,
    (COALESCE(start_time, created_at) AT TIME ZONE 'UTC')::date AS day,
    COALESCE(end_time, ended_at, last_active) AS open_end
  FROM livekit.sessions WHERE project_id = 'p_bench'"
SECONDS_OF="CASE WHEN COALESCE(c.left_at, s.open_end) > c.joined_at THEN extract(epoch FROM COALESCE(c.left_at, s.open_end)) - extract(epoch FROM c.joined_at) END"
declare -A SQL
SQL[daily_rollup]="SELECT * FROM livekit_bi.daily_usage WHERE project_id = 'p_bench' AND day BETWEEN '$FIRST_DAY' AND '$LAST_DAY' ORDER BY day"
SQL[daily_base]="WITH s AS MATERIALIZED ($S_DAYS AND (COALESCE(start_time, created_at) AT TIME ZONE 'UTC')::date BETWEEN '$FIRST_DAY' AND '$LAST_DAY'),
  p AS (SELECT s.day, count(DISTINCT p.participant_identity) AS participants FROM s JOIN livekit.participants p ON p.project_id = 'p_bench' AND p.session_id = s.session_id GROUP BY s.day),
  c AS (SELECT s.day, count(*) AS connections, sum($SECONDS_OF) AS seconds FROM s JOIN livekit.participant_connections c ON c.project_id = 'p_bench' AND c.session_id = s.session_id GROUP BY s.day)
  SELECT x.day, x.sessions, COALESCE(p.participants, 0), COALESCE(c.connections, 0), x.connection_minutes, COALESCE(c.seconds, 0) / 60, x.bandwidth_in, x.bandwidth_out, x.bandwidth, x.egress_sessions
  FROM (SELECT day, count(*) AS sessions, sum(connection_minutes) AS connection_minutes, sum(bandwidth_in) AS bandwidth_in, sum(bandwidth_out) AS bandwidth_out, sum(bandwidth) AS bandwidth, count(*) FILTER (WHERE egress > 0) AS egress_sessions FROM s GROUP BY day) x
  LEFT JOIN p ON p.day = x.day LEFT JOIN c ON c.day = x.day ORDER BY x.day"
SQL[room_rollup]="SELECT * FROM livekit_bi.room_daily_usage WHERE project_id = 'p_bench' AND room_name = '$ROOM' ORDER BY day"
SQL[room_base]="WITH s AS MATERIALIZED ($S_DAYS AND room_name = '$ROOM')
  SELECT s.day, count(*), (SELECT count(DISTINCT p.participant_identity) FROM livekit.participants p JOIN s s2 ON p.project_id = 'p_bench' AND p.session_id = s2.session_id WHERE s2.day = s.day),
         sum(s.connection_minutes), COALESCE(sum(cs.seconds), 0) / 60, sum(s.bandwidth)
  FROM s CROSS JOIN LATERAL (SELECT sum($SECONDS_OF) AS seconds FROM livekit.participant_connections c WHERE c.project_id = 'p_bench' AND c.session_id = s.session_id) cs
  GROUP BY s.day ORDER BY s.day"
SQL[peak_rollup]="SELECT * FROM livekit_bi.daily_peak_concurrency WHERE project_id = 'p_bench' AND day BETWEEN '$FIRST_DAY' AND '$LAST_DAY' ORDER BY day"
SQL[peak_base]="WITH iv AS (
    SELECT d AS day, GREATEST(i.interval_start, d::timestamp AT TIME ZONE 'UTC') AS lo, LEAST(i.interval_end, (d + 1)::timestamp AT TIME ZONE 'UTC') AS hi
    FROM livekit_bi.connection_intervals i
    CROSS JOIN LATERAL generate_series((i.interval_start AT TIME ZONE 'UTC')::date - '$FIRST_DAY'::date, ((i.interval_end - interval '1 microsecond') AT TIME ZONE 'UTC')::date - '$FIRST_DAY'::date) k
    CROSS JOIN LATERAL (SELECT '$FIRST_DAY'::date + k AS d) dd
    WHERE i.project_id = 'p_bench' AND i.interval_start IS NOT NULL AND d BETWEEN '$FIRST_DAY' AND '$LAST_DAY'),
  ev AS (SELECT day, lo AS t, 1 AS delta FROM iv UNION ALL SELECT day, hi, -1 FROM iv),
  sweep AS (SELECT day, t, sum(delta) OVER (PARTITION BY day ORDER BY t, delta ROWS UNBOUNDED PRECEDING) AS n FROM ev)
  SELECT DISTINCT ON (day) day, n, t FROM sweep ORDER BY day, n DESC, t"
SQL[identity_rollup]="SELECT * FROM livekit_bi.participant_daily_usage WHERE project_id = 'p_bench' AND participant_identity = '$IDENTITY' ORDER BY day"
SQL[identity_base]="SELECT (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date AS day, count(*), sum(pc.connections), COALESCE(sum(pc.seconds), 0) / 60, min(p.joined_at), max(p.left_at)
  FROM livekit.participants p JOIN livekit.sessions s ON s.project_id = p.project_id AND s.session_id = p.session_id
  CROSS JOIN LATERAL (SELECT count(*) AS connections, sum(CASE WHEN COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active) > c.joined_at THEN extract(epoch FROM COALESCE(c.left_at, s.end_time, s.ended_at, s.last_active)) - extract(epoch FROM c.joined_at) END) AS seconds
    FROM livekit.participant_connections c WHERE c.project_id = p.project_id AND c.session_id = p.session_id AND c.participant_identity = p.participant_identity) pc
  WHERE p.project_id = 'p_bench' AND p.participant_identity = '$IDENTITY' GROUP BY 1 ORDER BY 1"
declare -A MS
for k in daily_rollup daily_base room_rollup room_base peak_rollup peak_base identity_rollup identity_base; do
    MS[$k]=$(best_ms "${SQL[$k]}")
    echo "bench_bi: (B) $k: ${MS[$k]} ms"
done
# the base-table queries give the rollup's figures (same rows)
for pair in "daily:SELECT day, sessions, participants, connections, connection_minutes, participant_minutes, bandwidth_in, bandwidth_out, bandwidth, egress_sessions FROM livekit_bi.daily_usage WHERE project_id = 'p_bench'" \
            "peak:SELECT day, peak_connections, peak_at FROM livekit_bi.daily_peak_concurrency WHERE project_id = 'p_bench' AND day BETWEEN '$FIRST_DAY' AND '$LAST_DAY'" \
            "room:SELECT day, sessions, participants, connection_minutes, participant_minutes, bandwidth FROM livekit_bi.room_daily_usage WHERE project_id = 'p_bench' AND room_name = '$ROOM'" \
            "identity:SELECT day, sessions, connections, participant_minutes, first_joined_at, last_left_at FROM livekit_bi.participant_daily_usage WHERE project_id = 'p_bench' AND participant_identity = '$IDENTITY'"; do
    name=${pair%%:*}
    base="SELECT * FROM (${SQL[${name}_base]}) b"
    diff=$(q -c "SELECT count(*) FROM (($base EXCEPT ALL ${pair#*:}) UNION ALL (${pair#*:} EXCEPT ALL $base)) d")
    [ "$diff" -eq 0 ] || { echo "bench_bi: $name: the base-table query and the view differ in $diff rows" >&2; exit 1; }
done
echo "bench_bi: (B) every base-table query returns the view's rows"

# EXPLAIN (ANALYZE) of each view's typical filter, and of the base tables' indexes
MONTH_FROM=$(date -u -d "$FIRST_DAY + 59 days" +%F); MONTH_TO=$(date -u -d "$FIRST_DAY + 89 days" +%F)
{
    echo "# EXPLAIN of the livekit_bi views' typical filters"
    echo
    echo "Generated by \`bash ci/bench_bi.sh $DAYS $SESSIONS\` on a synthetic archive of $DAYS days x $SESSIONS"
    echo "sessions ($rows; rollup: $rollup_rows rows). PostgreSQL $(q -c 'SHOW server_version'),"
    echo "after VACUUM ANALYZE. One project; a month is $MONTH_FROM .. $MONTH_TO."
    while IFS='|' read -r title sql; do
        echo
        echo "## $title"
        echo
        echo '```sql'
        echo "$sql"
        echo '```'
        echo
        echo '```'
        q -c "EXPLAIN (ANALYZE, COSTS OFF, BUFFERS OFF) $sql"
        echo '```'
    done <<EOF
daily_usage, a month|SELECT * FROM livekit_bi.daily_usage WHERE project_id = 'p_bench' AND day BETWEEN '$MONTH_FROM' AND '$MONTH_TO'
room_daily_usage, one room|SELECT * FROM livekit_bi.room_daily_usage WHERE project_id = 'p_bench' AND room_name = '$ROOM'
room_daily_usage, a month (top rooms)|SELECT room_name, sum(participant_minutes) FROM livekit_bi.room_daily_usage WHERE project_id = 'p_bench' AND day BETWEEN '$MONTH_FROM' AND '$MONTH_TO' GROUP BY 1 ORDER BY 2 DESC LIMIT 10
participant_daily_usage, one identity|SELECT * FROM livekit_bi.participant_daily_usage WHERE project_id = 'p_bench' AND participant_identity = '$IDENTITY'
participant_daily_usage, a month (top identities)|SELECT participant_identity, sum(participant_minutes) FROM livekit_bi.participant_daily_usage WHERE project_id = 'p_bench' AND day BETWEEN '$MONTH_FROM' AND '$MONTH_TO' GROUP BY 1 ORDER BY 2 DESC LIMIT 10
daily_peak_concurrency, a month|SELECT * FROM livekit_bi.daily_peak_concurrency WHERE project_id = 'p_bench' AND day BETWEEN '$MONTH_FROM' AND '$MONTH_TO'
session_duration_histogram, a month|SELECT * FROM livekit_bi.session_duration_histogram WHERE project_id = 'p_bench' AND day BETWEEN '$MONTH_FROM' AND '$MONTH_TO'
publishing_mix, a month|SELECT * FROM livekit_bi.publishing_mix WHERE project_id = 'p_bench' AND day BETWEEN '$MONTH_FROM' AND '$MONTH_TO'
usage_by_region, a month|SELECT * FROM livekit_bi.usage_by_region WHERE project_id = 'p_bench' AND day BETWEEN '$MONTH_FROM' AND '$MONTH_TO'
usage_by_sdk, a month|SELECT * FROM livekit_bi.usage_by_sdk WHERE project_id = 'p_bench' AND day BETWEEN '$MONTH_FROM' AND '$MONTH_TO'
usage_by_connection_type, a month|SELECT * FROM livekit_bi.usage_by_connection_type WHERE project_id = 'p_bench' AND day BETWEEN '$MONTH_FROM' AND '$MONTH_TO'
archive_health, a month|SELECT * FROM livekit_bi.archive_health WHERE project_id = 'p_bench' AND day BETWEEN '$MONTH_FROM' AND '$MONTH_TO'
session_usage, one day (base tables)|SELECT * FROM livekit_bi.session_usage WHERE project_id = 'p_bench' AND day = '$MONTH_FROM'
connection_intervals, one day (base tables)|SELECT count(*), sum(minutes) FROM livekit_bi.connection_intervals WHERE project_id = 'p_bench' AND session_day = '$MONTH_FROM'
base tables: one room's sessions in a month|SELECT count(*) FROM livekit.sessions WHERE project_id = 'p_bench' AND room_name = '$ROOM' AND (COALESCE(start_time, created_at) AT TIME ZONE 'UTC')::date BETWEEN '$MONTH_FROM' AND '$MONTH_TO'
base tables: one identity's participant rows|SELECT count(*) FROM livekit.participants WHERE project_id = 'p_bench' AND participant_identity = '$IDENTITY'
base tables: connections open on or after a day (peak refresh)|SELECT count(*) FROM livekit.participant_connections WHERE project_id = 'p_bench' AND (left_at > '$LAST_DAY' OR left_at IS NULL)
EOF
} >"$WORK/explain.md"
echo "bench_bi: EXPLAIN outputs in $WORK/explain.md"

# ---- (C) the rollup's cost per archived day ---------------------------------------------------
# the days a run refreshes are the window's (the last 7 days of the archive): connections still
# open after them are few; a day months back is refreshed only when a session of the window
# moved that far (its peak then reads every connection that left after that day)
refresh=()
days_of=()
for k in 0 1 2 3 6; do
    d=$(date -u -d "$LAST_DAY - $k days" +%F)
    refresh+=("$(best_ms "SELECT livekit.rollup_refresh('p_bench', ARRAY['$d'::date])")")
    days_of+=("$(best_ms "SELECT livekit.rollup_days_of_sessions('p_bench', ARRAY(SELECT session_id FROM livekit.sessions WHERE project_id = 'p_bench' AND list_day = '$d'))")")
done
refresh_ms=$(printf '%s\n' "${refresh[@]}" | median)
days_of_ms=$(printf '%s\n' "${days_of[@]}" | median)
old_day=$(date -u -d "$LAST_DAY - $((DAYS / 2)) days" +%F)
old_ms=$(best_ms "SELECT livekit.rollup_refresh('p_bench', ARRAY['$old_day'::date])")
q -v project=p_big -v first_day=2026-01-01 -v days=1 -v sessions=20000 -f tests/bench/bi_synthetic.sql >/dev/null
q -c "ANALYZE"
big_ms=$(best_ms "SELECT livekit.rollup_refresh('p_big', ARRAY['2026-01-01'::date, '2026-01-02'::date])")
big_days_of_ms=$(best_ms "SELECT livekit.rollup_days_of_sessions('p_big', ARRAY(SELECT session_id FROM livekit.sessions WHERE project_id = 'p_big'))")
echo "bench_bi: (C) rollup_refresh of one day of $SESSIONS sessions in the last week: $refresh_ms ms (median of ${#refresh[@]}: ${refresh[*]}); rollup_days_of_sessions of its sessions: $days_of_ms ms"
echo "bench_bi: (C) rollup_refresh of a day $((DAYS / 2)) days back ($old_day): $old_ms ms"
echo "bench_bi: (C) rollup_refresh of a 20,000-session day and the next (crossing midnight): $big_ms ms; rollup_days_of_sessions of its sessions: $big_days_of_ms ms"

# ---- (D) inside lkarchive run ------------------------------------------------------------------
if [ "$SIM_SESSIONS" -gt 0 ]; then
    # statement durations of lkarchive's own connection, from the server log
    logged_ms() { # logged_ms FROM_BYTE PATTERN: sum of the durations of matching statements
        tail -c +"$1" "$WORK/pg/server.log" | grep -a "duration: .* execute .*$2" \
            | sed -n 's/.*duration: \([0-9.]*\) ms.*/\1/p' | awk '{ s += $1 } END { printf "%.0f", s }'
    }
    night() { # night LABEL TODAY
        local from t0
        from=$(( $(stat -c %s "$WORK/pg/server.log") + 1 ))
        sim_start "$2" "$SIM_SESSIONS"
        t0=$(now_ms)
        PGOPTIONS='-c log_min_duration_statement=0' "$LK" run --today "$2" --log-level warn >"$WORK/$1.out" 2>"$WORK/$1.err" \
            || { cat "$WORK/$1.err" >&2; echo "bench_bi: $1 failed" >&2; exit 1; }
        echo "$(( $(now_ms) - t0 )) $(logged_ms "$from" 'livekit.rollup_') $(logged_ms "$from" 'INSERT INTO livekit')" >"$WORK/$1.ms"
        sim_stop
    }
    fresh() { PGOPTIONS='-c client_min_messages=warning' q -c "DROP SCHEMA IF EXISTS livekit CASCADE" -c "DROP SCHEMA IF EXISTS livekit_bi CASCADE"; "$LK" migrate >/dev/null 2>&1; }
    fresh; night with_first "$TODAY"; night with_next "$NEXT"
    fresh
    q -c "CREATE OR REPLACE FUNCTION livekit.rollup_refresh(p_project text, p_days date[]) RETURNS void LANGUAGE sql AS 'SELECT'" \
      -c "CREATE OR REPLACE FUNCTION livekit.rollup_days_of_sessions(p_project text, p_session_ids text[]) RETURNS date[] LANGUAGE sql AS 'SELECT ''{}''::date[]'"
    night without_first "$TODAY"; night without_next "$NEXT"
    read -r wf wf_rollup wf_merge <"$WORK/with_first.ms"; read -r wn wn_rollup wn_merge <"$WORK/with_next.ms"
    read -r of _ of_merge <"$WORK/without_first.ms"; read -r on _ on_merge <"$WORK/without_next.ms"
    echo "bench_bi: (D) 7 days x $SIM_SESSIONS sessions, first load: $wf ms with the rollup (its statements: $wf_rollup ms; merges: $wf_merge ms), $of ms without (merges: $of_merge ms)"
    echo "bench_bi: (D) next night: $wn ms with the rollup (its statements: $wn_rollup ms), $on ms without"
fi
