#!/usr/bin/env bash
# The heart of lkarchive, end to end: the simulator with every quirk on, a real PostgreSQL,
# `lkarchive run` over the 7-day window, every column of every table compared with the
# simulator's dataset; then a second run that must change nothing at all.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 42 --days 7 --sessions-per-day 40 --participants 3 \
    --connections 5 --active-today 3 --quirks all --expected-dir "$WORK/expected"

start=$(date +%s%N)
lk run --today "$TODAY"
expect_status 0 "first run"
expect_no_secret
log "first run: $(tail -1 "$WORK/last.out") ($(( ($(date +%s%N) - start) / 1000000 )) ms wall)"
grep -q "complete" "$WORK/last.out" || fail "no day reported complete"

load_expected "$WORK/expected"
compare_all

# each day's ledger counts are what the archive holds under that list day (a first load
# takes them from the rows it inserted; later runs count them)
ledger_counts_match() {
    local ledger held
    ledger=$(psql_q "SELECT day, sessions, participants, connections, active_sessions
        FROM livekit.archive_days ORDER BY day")
    held=$(psql_q "SELECT s.list_day, count(*),
        sum((SELECT count(*) FROM livekit.participants p WHERE p.session_id = s.session_id)),
        sum((SELECT count(*) FROM livekit.participant_connections c
             WHERE c.session_id = s.session_id)),
        count(*) FILTER (WHERE s.ended_at IS NULL)
        FROM livekit.sessions s GROUP BY s.list_day ORDER BY s.list_day")
    [ -n "$ledger" ] && [ "$ledger" = "$held" ] \
        || fail "$1: ledger counts differ from the archive: ledger [$ledger] archive [$held]"
}
ledger_counts_match "first run"

# the ledger: 6 past days complete, today pending (it can still grow)
[ "$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE status = 'complete'")" -eq 6 ] \
    || fail "expected 6 complete days"
[ "$(psql_q "SELECT status FROM livekit.archive_days WHERE day = '$TODAY'")" = pending ] \
    || fail "today should be pending"
[ "$(psql_q "SELECT status FROM livekit.archive_runs ORDER BY run_id DESC LIMIT 1")" = ok ] \
    || fail "run not recorded as ok"
grep -q "new field from the API" "$WORK/last.err" || fail "new fields not reported"

before=$(snapshot)
lk run --today "$TODAY"
expect_status 0 "second run"
after=$(snapshot)
[ "$before" = "$after" ] || fail "the second run changed rows"
ledger_counts_match "second run"
grep -q "new field from the API" "$WORK/last.err" && fail "known fields reported as new again"
compare_all
log "second run left every row identical"

# negative control: the comparison must notice a single changed value
psql_q "UPDATE livekit.participants SET region = 'changed' WHERE (session_id, participant_identity) = (SELECT session_id, participant_identity FROM livekit.participants ORDER BY 1, 2 LIMIT 1)" >/dev/null
if (compare_table participants "project_id, session_id, participant_identity" "$PARTICIPANTS_COLS") 2>/dev/null; then
    fail "the comparison did not notice a changed value"
fi
log "negative control: a changed value is caught"
