#!/usr/bin/env bash
# sql/schema.sql is the schema a fresh `lkarchive migrate` gives (regenerate it with
# bash ci/schema_dump.sh), and a database built by the previous release's migrations (001..046,
# then its own view and function definitions) upgrades to exactly that schema: the repeatable
# files (sql/functions, sql/views) replace every older definition. A repeatable file is applied
# again when its recorded checksum differs, and not otherwise; the upgraded archive runs.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
schema_expected "$WORK/expected.sql"

# a fresh database
lk migrate
expect_status 0 "fresh migrate"
schema_dump "$WORK/fresh.sql"
schema_same "sql/schema.sql differs from a fresh migrate: run bash ci/schema_dump.sh" \
    "$WORK/expected.sql" "$WORK/fresh.sql"
lk migrate
expect_status 0 "second migrate"
grep -q "applied" "$WORK/last.err" && fail "a second migrate applied something: $(cat "$WORK/last.err")"
lk --log-level info migrate
grep -q "applied" "$WORK/last.err" && fail "a third migrate applied something: $(cat "$WORK/last.err")"

# a repeatable file whose recorded text differs is applied again, alone
psql_q "UPDATE livekit.schema_repeatables SET checksum = 'older' WHERE name = 'views/livekit_bi.sql'" >/dev/null
lk --log-level info migrate
expect_status 0 "migrate after a changed repeatable"
expect_stderr "applied views/livekit_bi.sql"
[ "$(grep -c "applied" "$WORK/last.err")" -eq 1 ] || fail "more than the changed file applied: $(cat "$WORK/last.err")"
schema_dump "$WORK/reapplied.sql"
schema_same "the schema after applying a repeatable again" "$WORK/expected.sql" "$WORK/reapplied.sql"

# the previous release's database, upgraded
psql_q "SET client_min_messages = warning; DROP SCHEMA livekit, livekit_bi CASCADE" >/dev/null
migrate_as_previous_release
psql_q "SELECT count(*) FROM livekit.schema_migrations" | grep -qx 18 || fail "previous release: not its 18 migrations"
sim_start --today "$TODAY" --seed 5 --days 3 --sessions-per-day 15 --participants 2 --connections 2 \
    --active-today 0
lk --log-level info migrate
expect_status 0 "upgrade"
expect_stderr "applied migration 047_repeatables.sql"
expect_stderr "applied functions/rollup.sql"
expect_stderr "applied views/livekit_bi.sql"
schema_dump "$WORK/upgraded.sql"
schema_same "an upgraded database differs from sql/schema.sql" "$WORK/expected.sql" "$WORK/upgraded.sql"
lk run --today "$TODAY" --days 3
expect_status 0 "run on the upgraded database"
lk status --today "$TODAY" --days 3
expect_status 0 "status on the upgraded database"
log "sql/schema.sql = fresh migrate = upgraded previous release; repeatables applied when changed"
