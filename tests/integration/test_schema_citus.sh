#!/usr/bin/env bash
# On Citus (a coordinator and two workers), a database built and distributed by the previous
# release (migrations 001..046, then its citus_distribute) upgrades to exactly the schema a
# fresh migrate gives on Citus, and to sql/schema.sql: 047 and the repeatable files apply on the
# distributed archive, and the upgraded archive runs.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
citus_start
schema_expected "$WORK/expected.sql"
sim_start --today "$TODAY" --seed 5 --days 3 --sessions-per-day 15 --participants 2 --connections 2 \
    --active-today 0

migrate_as_previous_release
[ "$(psql_q "SELECT count(*) FROM citus_tables WHERE table_name::text LIKE 'livekit.%'")" -eq 3 ] \
    || fail "previous release: the archive tables were not distributed"
lk --log-level info migrate
expect_status 0 "upgrade on Citus"
expect_stderr "applied migration 047_repeatables.sql"
expect_stderr "applied views/livekit_bi.sql"
schema_dump "$WORK/upgraded.sql"
lk run --today "$TODAY" --days 3
expect_status 0 "run on the upgraded Citus archive"

psql_q "SET client_min_messages = warning; DROP SCHEMA livekit, livekit_bi CASCADE" >/dev/null
lk migrate
expect_status 0 "fresh migrate on Citus"
schema_dump "$WORK/fresh.sql"
schema_same "an upgraded Citus database differs from a fresh one" "$WORK/fresh.sql" "$WORK/upgraded.sql"
schema_same "a fresh Citus database differs from sql/schema.sql" "$WORK/expected.sql" "$WORK/fresh.sql"
log "on Citus: upgraded previous release = fresh migrate = sql/schema.sql"
