#!/usr/bin/env bash
# run --dry-run fetches and parses everything but writes nothing: no run, no ledger entry, no
# row; per day it says which sessions are new, changed or unchanged against the archive.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 7 --days 3 --sessions-per-day 6 --participants 2 --connections 2

# a dry run needs the schema (migrating would write)
lk run --today "$TODAY" --days 3 --dry-run
expect_status 3 "dry run before migrate"; expect_stderr "lkarchive migrate"
lk migrate; expect_status 0 "migrate"

snapshot() { psql_q "SELECT (SELECT count(*) FROM livekit.archive_runs) || '/' || (SELECT count(*) FROM livekit.archive_days) || '/' || (SELECT count(*) FROM livekit.sessions) || '/' || (SELECT count(*) FROM livekit.participants) || '/' || (SELECT count(*) FROM livekit.participant_connections) || '/' || (SELECT coalesce(max(updated_at)::text, '-') FROM livekit.sessions)"; }

# an empty archive: every session is new, nothing is written
lk run --today "$TODAY" --days 3 --dry-run
expect_status 0 "dry run on an empty archive"; expect_no_secret
[ "$(snapshot)" = "0/0/0/0/0/-" ] || fail "a dry run wrote: $(snapshot)"
grep -q "2026-11-19  dry-run        6 new       0 changed       0 unchanged" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "dry run: 6 new sessions on 2026-11-19"; }
grep -q "^dry run: 18 new, 0 changed, 0 unchanged sessions" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "dry run summary"; }

lk run --today "$TODAY" --days 3; expect_status 0 "real run"
before=$(snapshot)

# one session edited in the archive, one missing: changed and new; the rest unchanged
sid=$(psql_q "SELECT session_id FROM livekit.sessions WHERE list_day = '2026-11-18' ORDER BY session_id LIMIT 1")
gone=$(psql_q "SELECT session_id FROM livekit.sessions WHERE list_day = '2026-11-18' ORDER BY session_id DESC LIMIT 1")
psql_q "UPDATE livekit.participants SET region = 'edited' WHERE session_id = '$sid'" >/dev/null
psql_q "DELETE FROM livekit.participant_connections WHERE session_id = '$gone'; DELETE FROM livekit.participants WHERE session_id = '$gone'; DELETE FROM livekit.sessions WHERE session_id = '$gone'" >/dev/null
edited=$(snapshot)
lk run --today "$TODAY" --days 3 --dry-run --full
expect_status 0 "dry run after edits"
grep -q "2026-11-18  dry-run        1 new       1 changed       4 unchanged" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "dry run: 1 new, 1 changed, 4 unchanged on 2026-11-18"; }
[ "$(snapshot)" = "$edited" ] || fail "a dry run wrote: $(snapshot), was $edited"
[ "$(psql_q "SELECT count(*) FROM livekit.participants WHERE region = 'edited'")" -gt 0 ] || fail "a dry run repaired a row"
[ "$before" != "$edited" ] || fail "the edit did not take"
log "dry run writes nothing and tells new, changed and unchanged sessions"
