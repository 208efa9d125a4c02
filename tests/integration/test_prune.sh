#!/usr/bin/env bash
# Retention: `prune --before DATE` deletes the sessions listed before DATE with their
# participants and connections, and nothing else; records what it did in archive_prunes;
# --dry-run deletes nothing and says the same; a DATE inside the API's window is refused, by
# the real clock too (a --today in the future does not widen it). --older-than Nd and the
# config's retention (after a good run) do the same; forget-project drops a whole project after
# --yes. run --quiet prints nothing on stdout; run --json one object.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
LATER=2026-11-24 # the window is then 2026-11-18 .. 2026-11-24
pg_start
sim_start --today "$TODAY" --seed 12 --days 7 --sessions-per-day 15 --participants 3 --connections 3 \
    --active-today 1 --quirks all --expected-dir "$WORK/expected"
ensure_expected "$WORK/expected"
lk run --today "$TODAY"
expect_status 0 "run"
compare_all
want_s=$(psql_q "SELECT count(*) FROM expected.sessions WHERE list_day < '2026-11-17'")
want_p=$(psql_q "SELECT count(*) FROM expected.participants WHERE session_id IN (SELECT session_id FROM expected.sessions WHERE list_day < '2026-11-17')")
want_c=$(psql_q "SELECT count(*) FROM expected.participant_connections WHERE session_id IN (SELECT session_id FROM expected.sessions WHERE list_day < '2026-11-17')")
[ "$want_s" -gt 0 ] || fail "nothing to prune in the dataset"
line="p_sim                before 2026-11-17: %s $want_s sessions, $want_p participants, $want_c connections"

lk prune --today "$LATER" --before 2026-11-19
expect_status 2 "prune inside the window"
expect_stderr "inside the API's 7-day window (2026-11-18 .. 2026-11-24)"
lk prune --today "$LATER"
expect_status 2 "prune without --before"
lk prune --today "$LATER" --before 2026-11-31
expect_status 2 "prune with a bad date"
lk prune --today "$LATER" --before 2026-11-17 --older-than 7d
expect_status 2 "prune with --before and --older-than"
lk prune --today "$LATER" --older-than 7
expect_status 2 "--older-than without its unit"
# the real clock decides what is inside the window, not --today
real_today=$(date -u +%F)
lk prune --today 2099-01-01 --before 2098-12-25
expect_status 2 "prune in the future"
expect_stderr "2098-12-25 is inside the API's 7-day window"
expect_stderr " .. $real_today)"
lk prune --today 2099-01-01 --older-than 10d
expect_status 2 "prune --older-than in the future"

before=$(snapshot)
lk prune --today "$LATER" --before 2026-11-17 --dry-run
expect_status 0 "dry run"
# shellcheck disable=SC2059
grep -qxF "$(printf "$line" "would delete")" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "dry run output"; }
[ "$(snapshot)" = "$before" ] || fail "a dry run changed rows"
[ "$(psql_q "SELECT count(*) FROM livekit.archive_prunes")" -eq 0 ] || fail "a dry run was recorded"

lk prune --today "$LATER" --before 2026-11-17 --project p_other
expect_status 0 "prune of an unknown project"
grep -q "nothing archived for p_other" "$WORK/last.out" || fail "unknown project output"

lk prune --today "$LATER" --older-than 7d
expect_status 0 "prune --older-than 7d (before 2026-11-17)"
# shellcheck disable=SC2059
grep -qxF "$(printf "$line" "deleted")" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "prune output"; }
# what is left is exactly the expected rows of the days not pruned
psql_q "DELETE FROM expected.participant_connections WHERE session_id IN (SELECT session_id FROM expected.sessions WHERE list_day < '2026-11-17')" >/dev/null
psql_q "DELETE FROM expected.participants WHERE session_id IN (SELECT session_id FROM expected.sessions WHERE list_day < '2026-11-17')" >/dev/null
psql_q "DELETE FROM expected.sessions WHERE list_day < '2026-11-17'" >/dev/null
compare_all
check_rollup "after prune"
[ "$(psql_q "SELECT count(*) FROM livekit.rollup_daily WHERE day < '2026-11-17'")" -eq 0 ] || fail "the rollup still counts pruned days"
got=$(psql_q "SELECT project_id, before_day, sessions, participants, connections, batches, finished_at IS NOT NULL FROM livekit.archive_prunes")
[ "$got" = "p_sim|2026-11-17|$want_s|$want_p|$want_c|1|t" ] || fail "archive_prunes: $got"
[ "$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE status = 'complete'")" -eq 6 ] || fail "the ledger lost days"
lk prune --today "$LATER" --before 2026-11-17
expect_status 0 "second prune"
grep -q "deleted 0 sessions" "$WORK/last.out" || fail "a second prune deleted rows"
log "prune: $want_s sessions, $want_p participants, $want_c connections deleted; the rest exact; recorded"

# run --quiet: nothing on stdout; run --json: one object
lk run --today "$TODAY" --quiet
expect_status 0 "run --quiet"
[ ! -s "$WORK/last.out" ] || { cat "$WORK/last.out" >&2; fail "run --quiet printed on stdout"; }
grep -q "level=info" "$WORK/last.err" && fail "run --quiet logged info lines"
lk run --today "$TODAY" --json
expect_status 0 "run --json"
python3 - "$WORK/last.out" <<'PY' || fail "run --json: $(cat "$WORK/last.out")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["outcome"] == "ok" and o["exit_status"] == 0 and o["run_id"] > 0 and o["error"] is None, o
assert o["days"] == {"complete": 6, "pending": 1, "failed": 0} and o["today"] == "2026-11-20", o
assert o["sessions"] > 0 and o["requests"] > 0 and o["seconds"] > 0, o
PY
(export DATABASE_URL="host=$WORK/nowhere port=5999 user=postgres dbname=postgres"
 lk run --today "$TODAY" --json; expect_status 5 "run --json without a database")
python3 -c 'import json,sys; o = json.load(open(sys.argv[1])); assert o["outcome"] == "database" and o["run_id"] is None and "could not connect" in o["error"], o' \
    "$WORK/last.out" || fail "run --json of a run that never started: $(cat "$WORK/last.out")"

# retention: after a good run, what is older goes; a retention inside the window is refused
psql_q "INSERT INTO livekit.sessions (project_id, session_id, list_day) VALUES ('p_sim', 'RM_old', '2026-10-01')" >/dev/null
fast_retry_config "$WORK/r.yaml" "retention: 30d"
lk --config "$WORK/r.yaml" run --today "$TODAY" --days 1
expect_status 0 "run with retention"
grep -q "^p_sim .*before 2026-10-21: deleted 1 sessions" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "retention output"; }
[ "$(psql_q "SELECT count(*) FROM livekit.sessions WHERE session_id = 'RM_old'")" -eq 0 ] || fail "retention kept an old session"
fast_retry_config "$WORK/r2.yaml" "retention: 3d"
lk --config "$WORK/r2.yaml" run --today "$TODAY" --days 1
expect_status 3 "retention inside the window"
expect_stderr "retention 3d: 2026-11-17 is inside the API's 7-day window"

# forget-project: says what it would drop, then drops it after --yes
# every table of livekit with a project_id, whatever later migrations add, as table=rows (not
# forgotten_identities: a forgotten identity stays forgotten should the project come back)
per_table() { psql_q "SELECT string_agg(c.table_name || '=' || (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM livekit.%I WHERE project_id = %L', c.table_name, 'p_sim'), false, true, '')))[1]::text, ' ' ORDER BY c.table_name) FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name) WHERE c.table_schema = 'livekit' AND c.column_name = 'project_id' AND t.table_type = 'BASE TABLE' AND c.table_name <> 'forgotten_identities'"; }
before=$(per_table)
[ "$(psql_q "SELECT count(*) FROM livekit.rollup_billing_daily WHERE project_id = 'p_sim'")" -gt 0 ] \
    || fail "no billing rollup rows for p_sim before forget-project"
sessions=$(psql_q "SELECT count(*) FROM livekit.sessions WHERE project_id = 'p_sim'")
lk forget-project p_sim
expect_status 2 "forget-project without --yes"
grep -q "^p_sim: would delete $sessions sessions, .* and 7 ledger days" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "forget-project output"; }
expect_stderr "add --yes"
[ "$(per_table)" = "$before" ] || fail "forget-project without --yes deleted rows"
lk forget-project p_sim --yes
expect_status 0 "forget-project --yes"
grep -q "^p_sim: deleted $sessions sessions, .* and 7 ledger days" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "forget-project --yes output"; }
expect_stderr "still configured"
left=$(per_table)
echo "$left" | grep -q "rollup_billing_daily=0" || fail "the check of every table missed rollup_billing_daily: $left"
nonzero=$(echo "$left" | tr ' ' '\n' | grep -v '=0$' || true)
[ -z "$nonzero" ] || fail "forget-project left rows of p_sim in: $(echo $nonzero)"
lk status --today "$TODAY" --all-projects
expect_status 0 "status --all-projects after forget-project"
grep -q "nothing archived yet" "$WORK/last.out" || fail "status still shows p_sim: $(cat "$WORK/last.out")"
(unset LIVEKIT_PROJECT_ID; lk status --today "$TODAY"; expect_status 3 "status without a project"
 expect_stderr "status --all-projects")
log "prune --older-than, the real clock's window, retention, forget-project, run --quiet and --json"
