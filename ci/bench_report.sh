#!/usr/bin/env bash
# bench_report.sh -- how long `lkarchive report` takes on a year of archive (not part of CI):
#   bash ci/bench_report.sh [DAYS] [SESSIONS]
#
# A private PostgreSQL 15 (unix socket), a synthetic archive of DAYS x SESSIONS (default
# 365 x 1,000: about 4 participants and 6 connections per session, 500 room names; generated
# in SQL by tests/bench/bi_synthetic.sql), its rollup built as a migration builds it, and a
# ledger entry per day (complete; a gap, a failed day, pending today); then the report of the
# whole year, five times: each run's wall time as lkarchive prints it (the snapshot's reads,
# the HTML, the atomic write) and the file's size. The bar: under 2 s (issue 25). The build is
# Release in build-bench (BENCH_BUILD_DIR to use another). Results: tests/bench/RESULTS.md,
# section "The HTML report".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DAYS=${1:-${BENCH_DAYS:-365}}
SESSIONS=${2:-${BENCH_REPORT_SESSIONS:-1000}}
TODAY=${BENCH_TODAY:-2026-11-20}
FIRST_DAY=$(date -u -d "$TODAY - $((DAYS - 1)) days" +%F)
BUILD=${BENCH_BUILD_DIR:-build-bench}

if [ -z "${BENCH_BUILD_DIR:-}" ]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" -j "$(nproc)" >/dev/null
fi
LK=$ROOT/$BUILD/lkarchive

WORK=$ROOT/tests/bench/work-report
rm -rf "$WORK"; mkdir -p "$WORK"; chmod 755 "$WORK"
source ci/bench_lib.sh
bench_pg_start -c synchronous_commit=off -c shared_buffers=256MB -c max_wal_size=4GB
export PGTZ=UTC LIVEKIT_PROJECT_ID=p_bench
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

echo "bench_report: machine: $(nproc) cores, $(uname -sr), $(q -c 'SHOW server_version')"
"$LK" migrate >/dev/null 2>&1
t0=$(now_ms)
q -v project=p_bench -v first_day="$FIRST_DAY" -v days="$DAYS" -v sessions="$SESSIONS" \
    -f tests/bench/bi_synthetic.sql >/dev/null
q -c "SELECT livekit.rollup_refresh(project_id, livekit.rollup_days_of_sessions(project_id, array_agg(session_id))) FROM livekit.sessions GROUP BY project_id" >/dev/null
# the synthetic ledger has every day complete: make today pending, a day failed, one a gap
q -c "UPDATE livekit.archive_days SET status = 'pending', pending_reason = 'day not over', completed_at = NULL WHERE day = '$TODAY'" \
  -c "UPDATE livekit.archive_days SET status = 'failed', pending_reason = 'error', completed_at = NULL WHERE day = '$TODAY'::date - 40" \
  -c "DELETE FROM livekit.archive_days WHERE day = '$TODAY'::date - 100" >/dev/null
q -c "VACUUM ANALYZE" >/dev/null
echo "bench_report: $DAYS days x $SESSIONS sessions ($(q -c "SELECT count(*) FROM livekit.participant_connections") connections, $(q -c "SELECT count(*) FROM livekit.rollup_room_daily") room-day rows) built in $(( $(now_ms) - t0 )) ms"

for i in 1 2 3 4 5; do
    "$LK" report --today "$TODAY" --days "$DAYS" --out "$WORK/report.html" >"$WORK/report.out"
    sed -n 's/.* in \([0-9.]*\) s$/\1/p' "$WORK/report.out"
done >"$WORK/times"
echo "bench_report: report of $DAYS days: $(tr '\n' ' ' <"$WORK/times")s (median $(sort -n "$WORK/times" | sed -n 3p) s), $(stat -c %s "$WORK/report.html") bytes"

# livekit_bi.monthly_usage over the year (from the rollup), best of 3
best=
for _ in 1 2 3; do
    t=$(q -c '\timing on' -c "SELECT * FROM livekit_bi.monthly_usage WHERE project_id = 'p_bench'" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
    best=$(awk -v a="${best:-$t}" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
done
echo "bench_report: livekit_bi.monthly_usage of the year: $best ms (best of 3)"

# the rollup's cost per day, and the billing statement's share of it (sql/050): median of five
# days of the last week, the refresh whole (rollup_refresh) and the billing statement alone
# under the same planner settings, each in a transaction rolled back
billing_sql() { echo "WITH s AS MATERIALIZED (SELECT s.session_id, s.bandwidth_out, (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date AS day, COALESCE(s.end_time, s.ended_at, s.last_active) AS open_end FROM livekit.sessions s WHERE s.project_id = 'p_bench' AND (COALESCE(s.start_time, s.created_at) AT TIME ZONE 'UTC')::date = ANY (ARRAY['$1']::date[]))
INSERT INTO livekit.rollup_billing_daily SELECT 'p_bench', day, sum(minutes), sum(centi_gb) FROM (SELECT day, 0::bigint AS minutes, COALESCE(ceil(bandwidth_out / 10000000.0), 0)::bigint AS centi_gb FROM s UNION ALL SELECT s.day, ceil(extract(epoch FROM COALESCE(c.left_at, s.open_end) - c.joined_at) / 60)::bigint, 0 FROM s JOIN livekit.participant_connections c ON c.project_id = 'p_bench' AND c.session_id = s.session_id WHERE COALESCE(c.left_at, s.open_end) > c.joined_at) x GROUP BY day"; }
whole=() billing=()
for back in 2 3 4 5 6; do
    day=$(date -u -d "$TODAY - $back days" +%F)
    whole+=("$(q -c 'BEGIN' -c '\timing on' -c "SELECT livekit.rollup_refresh('p_bench', ARRAY['$day']::date[])" -c '\timing off' -c 'ROLLBACK' | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)")
    billing+=("$(q -c 'BEGIN' -c 'SET LOCAL enable_hashjoin = off' -c 'SET LOCAL enable_mergejoin = off' -c 'SET LOCAL enable_bitmapscan = off' -c 'SET LOCAL jit = off' -c "DELETE FROM livekit.rollup_billing_daily WHERE project_id = 'p_bench' AND day = '$day'" -c '\timing on' -c "$(billing_sql "$day")" -c '\timing off' -c 'ROLLBACK' | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
echo "bench_report: rollup_refresh of one day ($SESSIONS sessions): $(median "${whole[@]}") ms, of which the billing statement $(median "${billing[@]}") ms (medians of 5 days)"
