#!/usr/bin/env bash
# Retention: `prune --before DATE` deletes the sessions listed before DATE with their
# participants and connections, and nothing else; records what it did in archive_prunes;
# --dry-run deletes nothing and says the same; a DATE inside the API's window is refused.
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

lk prune --today "$LATER" --before 2026-11-17
expect_status 0 "prune"
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
