#!/usr/bin/env bash
# The livekit_bi views of interface.md: every view's rows equal figures computed independently
# in Python from the simulator's dataset (tests/bi/check_views.py: sessions across midnight,
# open connections, active sessions, sessions without participants, identities in several
# sessions of a day, every quirk); the rollup-backed views equal the definitions computed from
# the base tables (tests/bi/reference.sql); the contract's column lists; a COMMENT on every view,
# table and column of livekit_bi and livekit.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 8 --days 7 --sessions-per-day 30 --participants 3 \
    --connections 5 --active-today 3 --quirks all --empty-sessions 6 --overnight 4 \
    --expected-dir "$WORK/expected"
lk run --today "$TODAY"
expect_status 0 "run"
load_expected "$WORK/expected"
compare_all

python3 "$LK_SOURCE_DIR/tests/bi/check_views.py" "$WORK/expected" >"$WORK/check.out" 2>&1 \
    || { cat "$WORK/check.out" >&2; fail "a view differs from the figures computed from the dataset"; }
sed 's/^/  /' "$WORK/check.out" >&2
python3 "$LK_SOURCE_DIR/tests/bi/check_billing.py" "$WORK/expected" "$TODAY" >"$WORK/check.out" 2>&1 \
    || { cat "$WORK/check.out" >&2; fail "a billing view differs from the figures computed from the dataset"; }
sed 's/^/  /' "$WORK/check.out" >&2

VIEWS="daily_usage room_daily_usage participant_daily_usage daily_peak_concurrency session_duration_histogram publishing_mix usage_by_region usage_by_sdk usage_by_connection_type daily_billable_usage"
psql -X -q -v ON_ERROR_STOP=1 -f "$LK_SOURCE_DIR/tests/bi/reference.sql" >/dev/null 2>&1 \
    || fail "tests/bi/reference.sql does not load"
for view in $VIEWS; do
    n=$(psql_q "SELECT livekit_bi_reference.differences('$view')")
    [ "$n" -eq 0 ] || fail "livekit_bi.$view: $n row(s) differ from the base-table definition"
done
log "rollup-backed views equal the base-table definitions"

# the contract's columns, in the contract's order, first (extra columns may follow)
contract() { # VIEW COLUMNS...
    local view=$1; shift
    local want="project_id,day,$(IFS=,; echo "$*")" n=$(( $# + 2 ))
    local got
    got=$(psql_q "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'livekit_bi' AND table_name = '$view' AND ordinal_position <= $n")
    [ "$got" = "$want" ] || fail "livekit_bi.$view columns: $got, contract: $want"
}
contract daily_usage sessions participants connections connection_minutes participant_minutes bandwidth_in bandwidth_out bandwidth egress_sessions
contract room_daily_usage room_name sessions participants connection_minutes participant_minutes bandwidth
contract participant_daily_usage participant_identity sessions connections participant_minutes first_joined_at last_left_at
contract daily_peak_concurrency peak_connections peak_at
contract session_duration_histogram bucket bucket_min_minutes sessions
contract publishing_mix participants camera microphone screen_share screen_share_audio
contract usage_by_region region participants participant_minutes
contract usage_by_sdk sdk_version participants participant_minutes
contract usage_by_connection_type connection_type participants participant_minutes
contract archive_health status sessions completed_at last_attempt_at last_error is_gap
got=$(psql_q "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'livekit_bi' AND table_name = 'monthly_usage' AND ordinal_position <= 7")
[ "$got" = project_id,month,billable_connection_minutes,participant_minutes,downstream_gb,days_covered,projected_billable_connection_minutes ] \
    || fail "livekit_bi.monthly_usage columns: $got"
[ "$(psql_q "SELECT data_type FROM information_schema.columns WHERE table_schema = 'livekit_bi' AND table_name = 'daily_usage' AND column_name = 'participant_minutes'")" = numeric ] \
    || fail "participant_minutes is not numeric"
[ "$(psql_q "SELECT sdk_name FROM livekit_bi.usage_by_sdk WHERE sdk_version = 'JS 2.9.0' LIMIT 1")" = JS ] \
    || fail "usage_by_sdk.sdk_name is not the SDK without its version"
[ "$(psql_q "SELECT count(*) FROM livekit_bi.archive_health WHERE status = 'complete' AND NOT is_gap")" -eq 6 ] \
    || fail "archive_health does not show the 6 complete days"

# a COMMENT on every view, table and column of both schemas
missing=$(psql_q "SELECT string_agg(c.relnamespace::regnamespace || '.' || c.relname || COALESCE('.' || a.attname, ''), ', ')
  FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  WHERE c.relnamespace IN ('livekit'::regnamespace, 'livekit_bi'::regnamespace) AND c.relkind IN ('r', 'v', 'm')
    AND ((a.attname IS NULL AND obj_description(c.oid, 'pg_class') IS NULL)
         OR (a.attname IS NOT NULL AND col_description(c.oid, a.attnum) IS NULL)
         OR obj_description(c.oid, 'pg_class') IS NULL)")
[ -z "$missing" ] || fail "no COMMENT on: $missing"
log "every view, table and column has a comment"

# negative controls: both comparisons notice one changed rollup value
psql_q "UPDATE livekit.rollup_room_daily SET participants = participants + 1 WHERE (day, room_name) = (SELECT day, room_name FROM livekit.rollup_room_daily ORDER BY 1, 2 LIMIT 1)" >/dev/null
python3 "$LK_SOURCE_DIR/tests/bi/check_views.py" "$WORK/expected" >/dev/null 2>&1 \
    && fail "check_views.py did not notice a changed value"
[ "$(psql_q "SELECT livekit_bi_reference.differences('room_daily_usage')")" -gt 0 ] \
    || fail "the reference comparison did not notice a changed value"
log "negative controls: a changed rollup value is caught"
