#!/usr/bin/env bash
# The command-line contract: exit statuses, messages that name what to fix, configuration
# from file and environment, check/status/migrate, and that neither the secret nor a token
# is ever printed.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20

lk --version; expect_status 0 "--version"; grep -q "^lkarchive [0-9]" "$WORK/last.out" || fail "--version output"
lk --help; expect_status 0 "--help"; grep -q "usage: lkarchive" "$WORK/last.out" || fail "--help output"
lk; expect_status 2 "no command"
lk frobnicate; expect_status 2 "unknown command"; expect_stderr 'msg="unknown command \\"frobnicate\\""'
lk run --bogus; expect_status 2 "unknown option"; expect_stderr "unknown option --bogus"
lk run --days 9; expect_status 2 "--days 9"; expect_stderr "from 1 to 7"
lk run --today 2026-02-30; expect_status 2 "bad --today"; expect_stderr "YYYY-MM-DD"

# configuration errors name the file, the line and the key
cat >"$WORK/bad.yaml" <<YAML
projects: [p_sim]
page_limt: 50
YAML
lk --config "$WORK/bad.yaml" run; expect_status 3 "unknown key"
expect_stderr "bad.yaml:2"; expect_stderr "page_limt"
printf 'projects: [p_sim]\npage_limit: lots\n' >"$WORK/bad2.yaml"
lk --config "$WORK/bad2.yaml" run; expect_status 3 "wrong type"; expect_stderr "bad2.yaml:2"; expect_stderr "page_limit"
lk --config "$WORK/missing.yaml" run; expect_status 3 "missing file"; expect_stderr "missing.yaml"
(unset LIVEKIT_API_KEY; lk run; expect_status 3 "no API key"; expect_stderr "LIVEKIT_API_KEY")
(unset LIVEKIT_API_SECRET; lk run; expect_status 3 "no secret"; expect_stderr "LIVEKIT_API_SECRET")

pg_start

# the database cannot be reached: exit 5, naming what to set
(export DATABASE_URL="host=$WORK/nowhere port=5999 user=postgres dbname=postgres connect_timeout=2"
 lk migrate; expect_status 5 "database unreachable"; expect_stderr "could not connect to PostgreSQL"
 # libpq's own hint stays, and the fix names the socket and the port
 expect_stderr 'detail="Is the server running locally and accepting connections on that socket?"'
 expect_stderr "hint=\"is PostgreSQL running and accepting connections on socket $WORK/nowhere/.s.PGSQL.\*, port 5999?")
# a database that does not exist: createdb; a wrong password: .pgpass or the URL
(export DATABASE_URL="host=$PG_SOCKET port=5432 user=postgres dbname=lk_nodb"
 lk migrate; expect_status 5 "missing database"; expect_stderr 'database \\"lk_nodb\\" does not exist'
 expect_stderr "createdb -O postgres lk_nodb")
psql_q "CREATE ROLE lk_pw LOGIN PASSWORD 'right-one'" >/dev/null
{ echo "local all lk_pw scram-sha-256"; cat "$WORK/pg/data/pg_hba.conf"; } >"$WORK/hba" &&
    cat "$WORK/hba" >"$WORK/pg/data/pg_hba.conf" && psql_q "SELECT pg_reload_conf()" >/dev/null
(export DATABASE_URL="host=$PG_SOCKET port=5432 user=lk_pw dbname=postgres password=wrong-one"
 lk migrate; expect_status 5 "wrong password"; expect_stderr "password authentication failed"
 expect_stderr "in ~/.pgpass (or the file PGPASSFILE names"
 if grep -q "wrong-one" "$WORK/last.err"; then fail "the password was printed"; fi)

# a password in DATABASE_URL or in the base URL is never printed, however libpq or curl echo it
for url in "postgresql://bob:Pw-0f-DB@127.0.0.1:1/x?connect_timeout=2" "host=127.0.0.1 port=1 password=Pw-0f-DB connect_timeout=2" \
           "postgresql://bob:Pw-0f-DB@[broken" "host=x Pw-0f-DB"; do
    (export DATABASE_URL="$url"; lk migrate; expect_status 5 "unreachable database")
    if grep -q "Pw-0f-DB" "$WORK/last.out" "$WORK/last.err"; then cat "$WORK/last.err" >&2; fail "the database password was printed"; fi
done
(export LIVEKIT_ANALYTICS_URL="http://bob:Pw-0f-API@127.0.0.1:1" DATABASE_URL="host=$WORK/nowhere"; lk check)
if grep -q "Pw-0f-API" "$WORK/last.out" "$WORK/last.err"; then cat "$WORK/last.out" "$WORK/last.err" >&2; fail "the base URL's password was printed"; fi

lk status; expect_status 0 "status before any schema"; grep -q "nothing archived yet" "$WORK/last.out" || fail "status on an empty database"
migrations=$(ls "$LK_SOURCE_DIR"/sql/[0-9]*.sql | wc -l)
lk migrate; expect_status 0 "migrate"; grep -Eq "\($migrations migrations? applied" "$WORK/last.out" || fail "migrate output: $(cat "$WORK/last.out"), expected $migrations applied"
lk migrate; expect_status 0 "migrate again"; grep -q "0 migrations applied" "$WORK/last.out" || fail "second migrate"

# check makes every check and names each failure with what to fix
(export LIVEKIT_ANALYTICS_URL="http://127.0.0.1:9" LIVEKIT_PROJECT_ID=p_one,p_two DATABASE_URL="host=$WORK/nowhere"
 lk check; expect_status 5 "check with nothing reachable")
grep -q "^database: FAILED: could not connect" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "check: database line"; }
grep -q "^api: project p_one: FAILED: .*Couldn't connect" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "check: first project"; }
grep -q "^api: project p_two: FAILED" "$WORK/last.out" || fail "check stopped at the first failure"
[ "$(grep -c "^  fix: " "$WORK/last.out")" -eq 3 ] || { cat "$WORK/last.out" >&2; fail "check: a failure without its fix"; }
expect_stderr "3 checks failed"
# every configuration problem at once
printf 'bogus: 1\npage_limit: x\nmax_depth: 2\n' >"$WORK/bad3.yaml"
(unset LIVEKIT_API_KEY; lk --config "$WORK/bad3.yaml" check; expect_status 3 "several config problems")
for what in 'bad3.yaml:1: unknown key \\"bogus' 'bad3.yaml:2: \\"page_limit' 'bad3.yaml:3: \\"max_depth' "no API key" "4 problems"; do
    expect_stderr "$what"
done

# an unreachable API: the retries of a day are one warning per cause, the rest counted
fast_retry_config "$WORK/unreachable.yaml"
(export LIVEKIT_ANALYTICS_URL="http://127.0.0.1:9"
 lk --config "$WORK/unreachable.yaml" run --today "$TODAY" --days 2; expect_status 4 "API unreachable")
[ "$(grep -c "retrying in" "$WORK/last.err")" -eq 2 ] || { cat "$WORK/last.err" >&2; fail "retry warnings of an unreachable API not counted"; }
expect_stderr "day=2026-11-19 msg=\"[0-9]* more warnings like that (Couldn't connect to server) not printed\""
psql_q "SET client_min_messages = warning; DROP SCHEMA livekit CASCADE" >/dev/null

sim_start --today "$TODAY" --sessions-per-day 5 --quirks all

# a wrong secret: 401, exit 4, says what to check, prints neither secret
(export LIVEKIT_API_SECRET=wrong-secret-wrong-secret-wrong-secret-00
 lk run --today "$TODAY"; expect_status 4 "wrong secret"; expect_stderr "HTTP 401"
 expect_stderr "check LIVEKIT_API_KEY"; expect_no_secret
 lk check --today "$TODAY"; expect_status 4 "check with a wrong secret"; expect_no_secret)
[ "$(psql_q "SELECT count(*) FROM livekit.sessions")" -eq 0 ] || fail "rows written with a wrong secret"

# an unknown project: 404, exit 4, names the project, stops at once
(export LIVEKIT_PROJECT_ID=p_nope
 lk run --today "$TODAY"; expect_status 4 "unknown project"; expect_stderr "p_nope"
 expect_stderr "project not found")

# everything in order: check says so and changes nothing
lk check --today "$TODAY"; expect_status 0 "check"; expect_no_secret
grep -q "credentials accepted" "$WORK/last.out" || fail "check output"
grep -q "^database privileges: may write the archive" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "check: privileges"; }
lk check --today "$TODAY" --json; expect_status 0 "check --json"
python3 - "$WORK/last.out" <<'PY' || { cat "$WORK/last.out" >&2; fail "check --json"; }
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert [r["check"] for r in rows] == ["config", "database", "database privileges", "tls", "proxy", "api project p_sim"], rows
assert all(r["ok"] is True and r["fix"] is None and r["message"] for r in rows), rows
PY
# a user that may not write the archive: check says what to grant
psql_q "CREATE ROLE reader LOGIN; GRANT USAGE ON SCHEMA livekit TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA livekit TO reader" >/dev/null
(export DATABASE_URL="host=$PG_SOCKET port=5432 user=reader dbname=postgres"
 lk check --today "$TODAY"; expect_status 5 "check as a user without privileges")
grep -q "^database privileges: FAILED: database user reader lacks INSERT, UPDATE on livekit.sessions" "$WORK/last.out" \
    || { cat "$WORK/last.out" >&2; fail "check: missing privileges"; }
grep -q '^  fix: .*lkarchive grant --writer reader`, which runs: GRANT USAGE ON SCHEMA livekit TO "reader";' "$WORK/last.out" \
    || { cat "$WORK/last.out" >&2; fail "check: the fix of missing privileges"; }
grep -q "^api: project p_sim reachable" "$WORK/last.out" || fail "check stopped at the database"
[ "$(psql_q "SELECT count(*) FROM livekit.archive_runs")" -eq 2 ] || fail "check wrote a run"

# credentials per project: p_sim's own sign its tokens, the wrong top-level ones are refused
printf '%s\n' "$LIVEKIT_API_SECRET" >"$WORK/sim.secret"; chmod 600 "$WORK/sim.secret"
printf 'wrong-secret-wrong-secret-wrong-secret-00\n' >"$WORK/top.secret"; chmod 600 "$WORK/top.secret"
cat >"$WORK/per_project.yaml" <<YAML
api_key: APIwrongkey
api_secret_file: top.secret
projects:
  - {id: p_sim, api_key: $LIVEKIT_API_KEY, api_secret_file: sim.secret}
  - p_topcreds
YAML
chmod 600 "$WORK/per_project.yaml"
(unset LIVEKIT_API_KEY LIVEKIT_API_SECRET LIVEKIT_PROJECT_ID
 lk --config "$WORK/per_project.yaml" check --today "$TODAY"; expect_status 4 "per-project credentials")
expect_no_secret
grep -q "^api: project p_sim reachable, credentials accepted" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "p_sim's own credentials not used"; }
grep -q "^api: project p_topcreds: FAILED: .*HTTP 401" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "top-level credentials not used for p_topcreds"; }

# environment overrides the file; --days limits the window
cat >"$WORK/good.yaml" <<YAML
projects: [p_other]
api_key: not-the-key
base_url: http://127.0.0.1:9
page_limit: 2
YAML
lk --config "$WORK/good.yaml" run --today "$TODAY" --days 2; expect_status 0 "env over file"; expect_no_secret
[ "$(psql_q "SELECT string_agg(DISTINCT list_day::text, ',') FROM livekit.sessions")" = "2026-11-19,2026-11-20" ] \
    || fail "--days 2 archived other days"
[ "$(psql_q "SELECT max(pages) FROM livekit.archive_days")" -ge 3 ] || fail "page_limit from the file not used"

lk status --today "$TODAY"; expect_status 0 "status"
grep -q "p_sim .*2026-11-19 .*complete" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "status output"; }

# a migration edited after it was applied is detected
psql_q "UPDATE livekit.schema_migrations SET checksum = 'edited'" >/dev/null
lk migrate; expect_status 5 "edited migration"; expect_stderr "was changed after it was applied"

# below the Scale plan: 403 with the plan named
sim_stop
sim_start --today "$TODAY" --sessions-per-day 5 --plan-below-scale
psql_q "UPDATE livekit.schema_migrations SET checksum = md5('x')" >/dev/null
psql_q "DROP SCHEMA livekit CASCADE" >/dev/null
lk run --today "$TODAY"; expect_status 4 "plan below Scale"; expect_stderr "Scale plan"
log "all CLI contract checks passed"
