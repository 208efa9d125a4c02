#!/usr/bin/env bash
# A value PostgreSQL refuses costs the session that carried it, never the day or the run: a
# constraint (as a DBA might add) refuses one session's row; the run archives every other
# session of that day and every other day, names the session, leaves the day pending and exits
# 1 (not 5); with the constraint gone the next run fetches that session again and converges.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 11 --days 3 --sessions-per-day 30 --participants 3 \
    --connections 4 --active-today 0 --quirks all --expected-dir "$WORK/expected"
ensure_expected "$WORK/expected"

day=2026-11-19
victim=$(psql_q "SELECT session_id FROM expected.sessions WHERE list_day = '$day' ORDER BY session_id OFFSET 7 LIMIT 1")
identity=$(psql_q "SELECT participant_identity FROM expected.participants WHERE session_id = '$victim' ORDER BY 1 LIMIT 1")
[ -n "$victim" ] && [ -n "$identity" ] || fail "no victim session in the dataset"
# refused at the participants merge, after its session row was merged in the same statement group
psql_q "ALTER TABLE livekit.participants ADD CONSTRAINT lk_test_poison CHECK (session_id <> '$victim' OR participant_identity <> '$identity')" >/dev/null

lk run --today "$TODAY" --days 3
expect_status 1 "a run with one refused session"
expect_stderr "session $victim: PostgreSQL refused a value"
expect_stderr "archiving the day again"
expect_no_secret
status=$(psql_q "SELECT status FROM livekit.archive_days WHERE day = '$day'")
[ "$status" = pending ] || fail "the day with the refused session is '$status', expected pending"
psql_q "SELECT last_error FROM livekit.archive_days WHERE day = '$day'" | grep -q "session $victim" \
    || fail "the ledger does not name the refused session"
[ "$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE day <> '$day' AND day < '$TODAY' AND status = 'complete'")" -eq 1 ] \
    || fail "the other past day is not complete"
[ "$(psql_q "SELECT count(*) FROM livekit.sessions WHERE session_id = '$victim'")" -eq 0 ] \
    || fail "the refused session was half stored"
others=$(psql_q "SELECT count(*) FROM expected.sessions e WHERE NOT EXISTS (SELECT 1 FROM livekit.sessions a WHERE a.session_id = e.session_id)")
[ "$others" -eq 1 ] || fail "$others sessions missing; only the refused one should be"
missing_children=$(psql_q "SELECT count(*) FROM expected.participant_connections e WHERE e.session_id <> '$victim' AND NOT EXISTS (SELECT 1 FROM livekit.participant_connections a WHERE a.session_id = e.session_id AND a.connection_id = e.connection_id)")
[ "$missing_children" -eq 0 ] || fail "$missing_children connections of other sessions missing"
log "refused session $victim: left out, named, the other $(psql_q "SELECT count(*) FROM livekit.sessions") sessions archived"

psql_q "ALTER TABLE livekit.participants DROP CONSTRAINT lk_test_poison" >/dev/null
lk run --today "$TODAY" --days 3
expect_status 0 "the run after the constraint is gone"
compare_all
log "next run: the refused session fetched again, the archive is exact"

# No foreign key ties participants to sessions (sql/042): a session deleted by hand, its
# participants and connections left behind, is not new to the archive's child tables. The
# day's fast path (plain INSERTs for new sessions) collides with them; the day is archived
# again in isolation, where every row takes the ON CONFLICT path: the session comes back,
# nothing is refused, the run exits 0 and the archive is exact.
orphaned=$(psql_q "SELECT session_id FROM expected.sessions WHERE list_day = '$day' ORDER BY session_id OFFSET 3 LIMIT 1")
psql_q "DELETE FROM livekit.sessions WHERE session_id = '$orphaned'" >/dev/null
[ "$(psql_q "SELECT count(*) FROM livekit.participants WHERE session_id = '$orphaned'")" -gt 0 ] \
    || fail "the orphaned session has no participants left to collide with"
lk run --today "$TODAY" --days 3
expect_status 0 "the run after a session was deleted by hand"
expect_stderr "archiving the day again"
compare_all
log "a session deleted by hand without its participants: merged again through isolation, exact"
