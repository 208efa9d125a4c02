#!/usr/bin/env bash
# The daily rollup behind livekit_bi always equals the views' definitions computed from the
# base tables (tests/bi/reference.sql): after a run, a re-run, a --full run, at the moment of a
# kill -9 mid-run and after the run that follows it, after a night whose data changed (sessions
# moved to another day, connection intervals shortened or stretched across midnight), and when
# the rollup migration builds it for an archive that existed before it.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
NEXT=2026-11-21
SEED=${KILL_SEED:-20261121}
DATASET=(--seed 5 --days 3 --sessions-per-day 16 --participants 3 --connections 4 --active-today 2
    --quirks all --empty-sessions 6 --overnight 4)

rollup_digest() {
    psql_q "SELECT md5(string_agg(t::text, E'\n' ORDER BY t::text)) FROM (SELECT r::text FROM livekit.rollup_daily r UNION ALL SELECT r::text FROM livekit.rollup_room_daily r UNION ALL SELECT r::text FROM livekit.rollup_participant_daily r UNION ALL SELECT r::text FROM livekit.rollup_peak_daily r UNION ALL SELECT r::text FROM livekit.rollup_duration_daily r UNION ALL SELECT r::text FROM livekit.rollup_dimension_daily r) t"
}

pg_start
# slow details (20 ms each, 2 at a time) stretch a run to half a second, so kills land in
# list pages, in details, in merges and rollup refreshes, and between days
sim_start --today "$TODAY" "${DATASET[@]}" --fault slow:match=details,permanent,ms=20
fast_retry_config "$WORK/r.yaml" "max_concurrency: 2"
"$LKARCHIVE_BIN" migrate >/dev/null 2>&1 || fail "migrate failed"
check_rollup "empty archive"

start=$(date +%s%N)
lk --config "$WORK/r.yaml" run --today "$TODAY" --days 3
expect_status 0 "first run"
full_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check_rollup "first run"
[ "$(psql_q "SELECT count(*) FROM livekit.rollup_peak_daily WHERE day > '$TODAY'")" -gt 0 ] \
    || fail "no connection open across midnight into the day after today"
before=$(rollup_digest)
lk --config "$WORK/r.yaml" run --today "$TODAY" --days 3
expect_status 0 "second run"
[ "$(rollup_digest)" = "$before" ] || fail "a second run changed the rollup"
lk --config "$WORK/r.yaml" run --today "$TODAY" --days 3 --full
expect_status 0 "full run"
[ "$(rollup_digest)" = "$before" ] || fail "a --full run changed the rollup"
check_rollup "re-runs"

# the refresh's plans once statistics exist (sql/043_rollup_probes.sql): on one server the
# day's participants and connections are probed by key, never hashed whole; auto_explain logs
# each statement's plan with the settings it ran under
refresh_plans() { # refresh_plans FUNCTION: the plans of one refresh of every archived day
    psql -X -q -v ON_ERROR_STOP=1 2>&1 <<SQL
ANALYZE livekit.sessions, livekit.participants, livekit.participant_connections;
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_settings = on;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
BEGIN;
SELECT livekit.$1('$LIVEKIT_PROJECT_ID', ARRAY(SELECT DISTINCT list_day FROM livekit.sessions));
ROLLBACK;
SQL
}
plans=$(refresh_plans rollup_refresh)
grep -q "Insert on rollup_dimension_daily" <<<"$plans" || fail "no plan of the refresh logged: $plans"
grep -q "enable_hashjoin = 'off'" <<<"$plans" || fail "the refresh did not run with hash joins off"
grep -Eq "Hash Join|Merge Join" <<<"$plans" && fail "the refresh hashed or merged a join: $plans"
# control: 041's function called directly plans with the caller's settings
refresh_plans rollup_refresh_days | grep -q "enable_hashjoin = 'off'" \
    && fail "hash joins stayed off outside the refresh"
[ "$(psql_q "SHOW enable_hashjoin")" = on ] || fail "the refresh left hash joins off"
log "rollup refresh: primary-key probes, settings local to the call"

RANDOM=$SEED
for point in 1 2; do
    psql_q "DROP SCHEMA livekit CASCADE" >/dev/null 2>&1
    "$LKARCHIVE_BIN" migrate >/dev/null 2>&1
    kill_ms=$(( 50 + RANDOM % (full_ms > 100 ? full_ms - 50 : 50) ))
    "$LKARCHIVE_BIN" --config "$WORK/r.yaml" run --today "$TODAY" --days 3 >"$WORK/killed.out" 2>"$WORK/killed.err" &
    victim=$!
    sleep "$(awk -v ms="$kill_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    kill -KILL "$victim" 2>/dev/null || true
    wait "$victim" 2>/dev/null || true
    days=$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE status <> 'failed'")
    check_rollup "kill -9 at $kill_ms ms ($days day(s) stored)"
    lk --config "$WORK/r.yaml" run --today "$TODAY" --days 3
    expect_status 0 "run after kill -9 at $kill_ms ms"
    check_rollup "run after the kill at $kill_ms ms"
    [ "$(rollup_digest)" = "$before" ] || fail "after a kill at $kill_ms ms the rollup differs from an uninterrupted run's"
done

# the next night, the API tells another story for a third of the sessions: other lengths,
# start times on the day before or after (the session moves to another day), and yesterday's
# active sessions have ended
sim_stop
sim_start --today "$NEXT" "${DATASET[@]}" --revision 1
moved_before=$(psql_q "SELECT count(*) FROM livekit.sessions WHERE (COALESCE(start_time, created_at) AT TIME ZONE 'UTC')::date <> list_day")
lk --config "$WORK/r.yaml" run --today "$NEXT" --days 3
expect_status 0 "run on the changed night"
moved=$(psql_q "SELECT count(*) FROM livekit.sessions WHERE (COALESCE(start_time, created_at) AT TIME ZONE 'UTC')::date <> list_day")
[ "$moved" -gt "$moved_before" ] || fail "no session moved to another day on the changed night"
[ "$(rollup_digest)" != "$before" ] || fail "the changed night did not change the rollup"
check_rollup "changed night ($moved sessions now on another day than listed)"
# and the night after, another third: sessions moved the night before move back (their old
# day, often before the window or already stored earlier in the run, must lose them)
sim_stop
sim_start --today "$NEXT" "${DATASET[@]}" --revision 2
lk --config "$WORK/r.yaml" run --today "$NEXT" --days 3
expect_status 0 "run on the second changed night"
check_rollup "second changed night"

# an archive that existed before the rollup: take the BI migrations back, migrate again
after=$(rollup_digest)
PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
DROP SCHEMA livekit_bi CASCADE;
DROP SCHEMA livekit_bi_reference CASCADE;
DROP FUNCTION livekit.rollup_refresh(text, date[]), livekit.rollup_refresh_days(text, date[]),
    livekit.rollup_days_of_sessions(text, text[]), livekit.bi_grant_read(text), livekit.bi_regrant();
DROP TABLE livekit.rollup_daily, livekit.rollup_room_daily, livekit.rollup_participant_daily,
    livekit.rollup_peak_daily, livekit.rollup_duration_daily, livekit.rollup_dimension_daily,
    livekit.bi_readers;
DROP INDEX livekit.sessions_day, livekit.sessions_room_name, livekit.participants_identity,
    livekit.participant_connections_left_at;
DELETE FROM livekit.schema_migrations WHERE name ~ '^02[0-3]_bi_';
SQL
lk migrate
expect_status 0 "migrate an archive made before the rollup"
[ "$(rollup_digest)" = "$after" ] || fail "the migration's rollup differs from the one runs kept"
check_rollup "built by the migration"

# the peak's edge cases (tests/bi/peak_fixture.sql): touching intervals, starts at one instant,
# connections open at midnight, a start at midnight, a day with nothing open, microsecond
# intervals; refreshed a day at a time, then all days in one call
psql -X -q -v ON_ERROR_STOP=1 -f "$LK_SOURCE_DIR/tests/bi/peak_fixture.sql" >/dev/null \
    || fail "tests/bi/peak_fixture.sql does not load"
peaks() { psql_q "SELECT string_agg(day || ' ' || peak_connections || ' ' || to_char(peak_at AT TIME ZONE 'UTC', 'HH24:MI:SS.US'), ', ' ORDER BY day) FROM livekit.rollup_peak_daily WHERE project_id = 'p_peak'"; }
want="2026-11-10 3 13:00:00.000000, 2026-11-11 2 00:00:00.000000, 2026-11-12 3 00:05:00.000000, 2026-11-14 4 08:00:00.000000"
[ "$(peaks)" = "$want" ] || fail "peaks of the edge cases, a day at a time: $(peaks), expected $want"
psql_q "SELECT livekit.rollup_refresh('p_peak', ARRAY['2026-11-10', '2026-11-11', '2026-11-12', '2026-11-13', '2026-11-14']::date[])" >/dev/null
[ "$(peaks)" = "$want" ] || fail "peaks of the edge cases, all days at once: $(peaks), expected $want"
check_rollup "the peak's edge cases"
