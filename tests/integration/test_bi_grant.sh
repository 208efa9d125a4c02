#!/usr/bin/env bash
# Roles: `lkarchive grant ROLE` gives an existing role read access to livekit and livekit_bi and
# nothing else, also to objects created later (by the owner: default privileges; by another
# role during `migrate`: the re-grant); an unknown role is a configuration error naming it. A
# non-superuser owner migrates; a writer created with exactly the README's SQL runs `run`.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 4 --days 3 --sessions-per-day 8 --participants 2 \
    --connections 3 --active-today 1
url_of() { echo "host=$PG_SOCKET port=5432 user=$1 dbname=postgres"; }
as_role() { local role=$1; shift; PGUSER=$role psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

lk grant
expect_status 2 "grant without a role"
expect_stderr "grant needs the role"
# the owner: no superuser, CREATE on the database
psql_q "CREATE ROLE lk_owner LOGIN" >/dev/null
psql_q "GRANT CREATE ON DATABASE postgres TO lk_owner" >/dev/null
DATABASE_URL=$(url_of lk_owner) lk migrate
expect_status 0 "migrate as a non-superuser owner"
DATABASE_URL=$(url_of lk_owner) lk grant nosuchrole
expect_status 3 "grant to a role that does not exist"
expect_stderr 'role \\"nosuchrole\\" does not exist' # logfmt escapes the quotes in msg="..."

# the writer: the README's SQL block, as it stands
awk '/<!-- writer-role-sql/ { on = 1; next } on && /^```sql/ { grab = 1; next } grab && /^```/ { exit } grab { print }' \
    "$LK_SOURCE_DIR/README.md" >"$WORK/writer.sql"
grep -q "CREATE ROLE lkarchive_writer" "$WORK/writer.sql" || fail "no writer SQL found in the README"
psql -X -q -v ON_ERROR_STOP=1 -f "$WORK/writer.sql" >/dev/null || fail "the README's writer SQL fails"
DATABASE_URL=$(url_of lkarchive_writer) lk run --today "$TODAY" --days 3
expect_status 0 "run as the README's writer role"
[ "$(psql_q "SELECT count(*) FROM livekit_bi.daily_usage")" -eq 3 ] || fail "the writer's run did not fill the rollup"
DATABASE_URL=$(url_of lkarchive_writer) lk run --today "$TODAY" --days 3 --full
expect_status 0 "a second run as the writer"
if as_role lkarchive_writer -c "CREATE TABLE livekit.mine (x int)" 2>/dev/null; then
    fail "the writer can create tables"
fi
log "a non-superuser owner migrates; the README's writer role runs"

# a writer nobody granted anything: what to run, not "could not create livekit.schema_migrations"
psql_q "CREATE ROLE lk_w2 LOGIN" >/dev/null
DATABASE_URL=$(url_of lk_w2) lk run --today "$TODAY" --days 1
expect_status 5 "run as a role without rights"
expect_stderr "database user lk_w2 may not use the archive (schema livekit)"
grep -q 'lkarchive grant --writer lk_w2' "$WORK/last.err" || fail "no grant --writer in the hint"
grep -q 'GRANT SELECT, INSERT, UPDATE ON livekit.sessions' "$WORK/last.err" || fail "no GRANT statements in the hint"
if grep -q "could not create livekit.schema_migrations" "$WORK/last.err"; then fail "blamed the schema's creation"; fi
# USAGE alone: the server's refusal keeps its text and gets the same hint
psql_q 'GRANT USAGE ON SCHEMA livekit TO lk_w2' >/dev/null
DATABASE_URL=$(url_of lk_w2) lk run --today "$TODAY" --days 1
expect_status 5 "run as a role with USAGE only"
expect_stderr "permission denied for table schema_migrations"
grep -q 'lkarchive grant --writer lk_w2' "$WORK/last.err" || fail "no grant --writer in the hint of a refusal"
DATABASE_URL=$(url_of lk_owner) lk grant --writer lk_w2
expect_status 0 "grant --writer"
grep -q "role lk_w2 can write the archive" "$WORK/last.out" || fail "grant --writer does not say what it did"
# the same rights as the README's writer SQL, table by table
rights_of() { psql_q "SELECT string_agg(table_name || ':' || privilege_type, ' ' ORDER BY table_name, privilege_type) FROM information_schema.role_table_grants WHERE grantee = '$1' AND table_schema = 'livekit'"; }
[ "$(rights_of lk_w2 | wc -w)" -ge 20 ] || fail "grant --writer gave lk_w2 no rights on the tables: $(rights_of lk_w2)"
[ "$(rights_of lk_w2)" = "$(rights_of lkarchive_writer)" ] || {
    diff <(rights_of lkarchive_writer | tr ' ' '\n') <(rights_of lk_w2 | tr ' ' '\n') >&2
    fail "grant --writer and the README's writer SQL give different rights"
}
# a table a later migration adds is writable by the writers that exist: what they lack is
# granted again after migrations (here a table's rights taken away, and a repeatable file
# marked changed so that migrate applies it)
psql_q "REVOKE ALL ON livekit.rollup_billing_daily FROM lk_w2, lkarchive_writer" >/dev/null
# check sees it first: every rollup table is one `run` writes
DATABASE_URL=$(url_of lk_w2) lk check --today "$TODAY"
expect_status 5 "check as a writer without one rollup table"
grep -q "^database privileges: FAILED: database user lk_w2 lacks INSERT, DELETE on livekit.rollup_billing_daily" "$WORK/last.out" \
    || { cat "$WORK/last.out" >&2; fail "check does not name the rollup table the writer lacks"; }
psql_q "UPDATE livekit.schema_repeatables SET checksum = 'changed' WHERE name LIKE '%rollup%'" >/dev/null
DATABASE_URL=$(url_of lk_owner) lk migrate
expect_status 0 "migrate with writers"
grep -q "granted the writer's rights again to 2 role(s)" "$WORK/last.err" "$WORK/last.out" \
    || { cat "$WORK/last.err" >&2; fail "migrate did not grant the writers' rights again"; }
[ "$(rights_of lk_w2)" = "$(rights_of lkarchive_writer)" ] && rights_of lk_w2 | grep -q "rollup_billing_daily:INSERT" \
    || fail "after migrate the writers lack rights on a table: $(rights_of lk_w2)"
# a new day (the simulator a day on): its merges insert, and its rollup refresh writes every
# rollup table, so a table missing from the grants fails the run
NEXT=2026-11-21
sim_stop
sim_start --today "$NEXT" --seed 4 --days 3 --sessions-per-day 8 --participants 2 \
    --connections 3 --active-today 1
DATABASE_URL=$(url_of lk_w2) lk run --today "$NEXT" --days 3
expect_status 0 "run as the role grant --writer made"
for table in rollup_daily rollup_room_daily rollup_participant_daily rollup_peak_daily \
    rollup_duration_daily rollup_dimension_daily rollup_billing_daily; do
    [ "$(psql_q "SELECT count(*) FROM livekit.$table WHERE day = '$NEXT'")" -gt 0 ] \
        || fail "the writer's run of a new day left livekit.$table without a row for it"
done
if as_role lk_w2 -c "CREATE TABLE livekit.mine (x int)" 2>/dev/null; then fail "grant --writer gave CREATE"; fi
if as_role lk_w2 -c "DELETE FROM livekit.sessions" 2>/dev/null; then fail "grant --writer gave DELETE"; fi
# the owner and a superuser are given nothing, and told why
for role in lk_owner postgres; do
    DATABASE_URL=$(url_of lk_owner) lk grant "$role"
    expect_status 0 "grant $role"
    grep -q "role $role owns the archive.*nothing granted" "$WORK/last.out" || fail "grant $role: $(cat "$WORK/last.out")"
done
[ "$(psql_q "SELECT count(*) FROM livekit.bi_readers WHERE role_name IN ('lk_owner', 'postgres')")" -eq 0 ] ||
    fail "an owner was recorded as a reader"
log "a role without rights is told the GRANT statements; grant --writer gives them; owners get nothing"

# a reader
psql_q "CREATE ROLE lk_reader LOGIN" >/dev/null
DATABASE_URL=$(url_of lk_owner) lk grant lk_reader
expect_status 0 "grant lk_reader"
grep -q "lk_reader" "$WORK/last.out" || fail "grant does not say what it did"
for rel in $(psql_q "SELECT c.oid::regclass FROM pg_class c WHERE c.relnamespace IN ('livekit'::regnamespace, 'livekit_bi'::regnamespace) AND c.relkind IN ('r', 'v')"); do
    as_role lk_reader -c "SELECT count(*) FROM $rel" >/dev/null || fail "lk_reader cannot read $rel"
done
bad=$(psql_q "SELECT string_agg(c.oid::regclass::text, ', ') FROM pg_class c
    WHERE c.relnamespace IN ('livekit'::regnamespace, 'livekit_bi'::regnamespace) AND c.relkind IN ('r', 'v', 'S')
      AND has_table_privilege('lk_reader', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')")
[ -z "$bad" ] || fail "lk_reader may write to: $bad"
[ "$(psql_q "SELECT has_schema_privilege('lk_reader', 'livekit', 'CREATE') OR has_schema_privilege('lk_reader', 'livekit_bi', 'CREATE')")" = f ] \
    || fail "lk_reader may create objects"
for sql in "INSERT INTO livekit.seen_fields (path) VALUES ('x')" \
           "UPDATE livekit.sessions SET room_name = 'x'" \
           "DELETE FROM livekit.rollup_daily" \
           "TRUNCATE livekit.archive_days CASCADE" \
           "CREATE TABLE livekit_bi.mine (x int)" \
           "CREATE VIEW livekit.mine AS SELECT 1"; do
    if as_role lk_reader -c "$sql" 2>/dev/null; then fail "lk_reader could: $sql"; fi
done
DATABASE_URL=$(url_of lk_reader) lk run --today "$TODAY" --days 3
[ "$LK_STATUS" -ne 0 ] || fail "a run as the read-only role succeeded"
DATABASE_URL=$(url_of lk_reader) lk status --today "$TODAY"
expect_status 0 "status as the read-only role"
log "lk_reader reads every table and view, and can write nothing"

# objects created later by the owner: default privileges
as_role lk_owner -c "CREATE TABLE livekit.later_table (x int)" -c "CREATE VIEW livekit_bi.later_view AS SELECT 1 AS x" >/dev/null
as_role lk_reader -c "SELECT count(*) FROM livekit.later_table" -c "SELECT count(*) FROM livekit_bi.later_view" >/dev/null \
    || fail "lk_reader cannot read what the owner created after the grant"
# objects a migration creates as another role: the re-grant at the end of migrate
PGOPTIONS='-c client_min_messages=warning' psql_q "DROP SCHEMA livekit_bi CASCADE" >/dev/null
psql_q "DELETE FROM livekit.schema_migrations WHERE name = '022_bi_views.sql'" >/dev/null
lk migrate
expect_status 0 "migrate as another role (postgres)"
[ "$(psql_q "SELECT relowner::regrole FROM pg_class WHERE oid = 'livekit_bi.daily_usage'::regclass")" = postgres ] \
    || fail "the re-migrated view is not owned by postgres (the test would not show the re-grant)"
as_role lk_reader -c "SELECT count(*) FROM livekit_bi.daily_usage" >/dev/null \
    || fail "lk_reader cannot read a view another role's migration created"
[ "$(psql_q "SELECT has_table_privilege('lk_reader', 'livekit_bi.daily_usage', 'INSERT')")" = f ] \
    || fail "the re-grant gave more than SELECT"
log "objects created after the grant are readable (default privileges; re-grant after migrate)"
