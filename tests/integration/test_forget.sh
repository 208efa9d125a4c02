#!/usr/bin/env bash
# Privacy: `forget --identity ID` replaces the identity everywhere with its pseudonym (hex
# HMAC-SHA256 under pseudonymize_key_file), clears the name and extra, records only the
# pseudonym, and later runs (even --full) do not bring the identity back nor change a row.
# pseudonymize_identities stores every identity and name as its pseudonym from the start.
# The identity also arrives in attributes, metadata and connection fields (--identity-echo):
# after forget, and with pseudonymize_identities, neither it nor the name is anywhere in a
# pg_dump of the data or in lkarchive's output. forget during a slow run --full waits for the
# run's lock (or refuses, saying so) and the identity does not come back; forgetting a clear
# row beside its pseudonym (what a race left) works and the rollup counts the person once.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 13 --days 3 --sessions-per-day 15 --participants 4 --connections 3 \
    --active-today 0 --quirks all --identity-echo --expected-dir "$WORK/expected"
ensure_expected "$WORK/expected"
KEY=forget-test-key-0123456789abcdef
printf '%s\n' "$KEY" >"$WORK/key"
chmod 600 "$WORK/key"
fast_retry_config "$WORK/forget.yaml" "pseudonymize_key_file: $WORK/key"
hmac() { printf '%s' "$1" | openssl dgst -sha256 -hmac "$KEY" | sed 's/.*= //'; }

lk run --today "$TODAY" --days 3
expect_status 0 "run"
compare_all
who=$(psql_q "SELECT participant_identity FROM expected.participants WHERE participant_identity ~ '^user-[0-9]+\$' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
name="User ${who#user-}"
[ "$(psql_q "SELECT count(*) FROM livekit.participant_connections WHERE extra->>'participantIdentity' = '$who' AND extra->'clientInfo'->>'user' = '$who'")" -gt 0 ] \
    || fail "the simulator's connections do not echo $who"
[ "$(psql_q "SELECT count(*) FROM livekit.participants WHERE extra->'attributes'->>'email' = '$who' AND extra->>'metadata' LIKE '%$who%'")" -gt 0 ] \
    || fail "the simulator's participants do not echo $who"
# nowhere: not in a dump of every row of the archive, not in any output of lkarchive so far
# (its command lines aside): the identity as a whole value, the name it had as a JSON string
# (another identity of the simulator, "user-3-é", may have the same name in its own column)
nowhere() {
    local what=$1 pattern="(^|[\t\"])$who([\t\"]|\$)|\"$name\""
    pg_dump --data-only -n livekit -n livekit_bi >"$WORK/dump.sql"
    if grep -E "$pattern" "$WORK/dump.sql" | head -3 | grep .; then fail "$what: the dump holds $who or its name"; fi
    if grep -v '^### lkarchive' "$WORK/lk-all.log" | grep -E "$pattern|participant $who" | head -3 | grep .; then
        fail "$what: lkarchive's output names $who or its name"
    fi
}
hex=$(hmac "$who")
n_p=$(psql_q "SELECT count(*) FROM expected.participants WHERE participant_identity = '$who'")
n_c=$(psql_q "SELECT count(*) FROM expected.participant_connections WHERE participant_identity = '$who'")
total_p=$(psql_q "SELECT count(*) FROM livekit.participants")

lk forget --identity "$who"
expect_status 3 "forget without pseudonymize_key_file"
expect_stderr "forget needs pseudonymize_key_file"
lk --config "$WORK/forget.yaml" forget
expect_status 2 "forget without --identity"

lk --config "$WORK/forget.yaml" forget --identity "$who"
expect_status 0 "forget"
grep -q "p_sim  *forgotten as ${hex:0:16}...: $n_p participant rows, $n_c connections" "$WORK/last.out" \
    || { cat "$WORK/last.out" >&2; fail "forget output"; }
check_forgotten() {
    local what=$1
    [ "$(psql_q "SELECT count(*) FROM livekit.participants WHERE participant_identity = '$who'")" -eq 0 ] || fail "$what: identity left in participants"
    [ "$(psql_q "SELECT count(*) FROM livekit.participant_connections WHERE participant_identity = '$who'")" -eq 0 ] || fail "$what: identity left in connections"
    [ "$(psql_q "SELECT count(*) FROM livekit.participants WHERE participant_identity = '$hex' AND participant_name IS NULL AND extra = '{}'")" -eq "$n_p" ] || fail "$what: pseudonymized participants"
    [ "$(psql_q "SELECT count(*) FROM livekit.participant_connections WHERE participant_identity = '$hex' AND extra = '{}'")" -eq "$n_c" ] || fail "$what: pseudonymized connections"
    [ "$(psql_q "SELECT count(*) FROM livekit.participants")" -eq "$total_p" ] || fail "$what: participant rows lost"
    [ "$(psql_q "SELECT count(*) FROM livekit.forgotten_identities WHERE identity_hmac = '$hex'")" -eq 1 ] || fail "$what: forgotten set"
    nowhere "$what"
    if psql -X -At -c "SELECT t::text FROM livekit.participants t UNION ALL SELECT t::text FROM livekit.participant_connections t UNION ALL SELECT t::text FROM livekit.forgotten_identities t" | grep -qF "\"$who\""; then
        fail "$what: the identity is still stored somewhere"
    fi
}
check_forgotten "after forget"
[ "$(psql_q "SELECT count(*) FROM livekit.forgotten_identities WHERE identity_hmac = '$(hmac "$name")'")" -eq 1 ] \
    || fail "the pseudonym of the name $name is not recorded"
[ "$(psql_q "SELECT count(*) FROM livekit.rollup_participant_daily WHERE participant_identity = '$who'")" -eq 0 ] || fail "the rollup still names the forgotten identity"
check_rollup "after forget"
after=$(snapshot)
lk run --today "$TODAY" --days 3 --full
expect_status 3 "a run without the key after forget"
expect_stderr "project p_sim has forgotten identities and no pseudonymize_key_file"
[ "$(snapshot)" = "$after" ] || fail "a run without the key changed rows"
lk --config "$WORK/forget.yaml" run --today "$TODAY" --days 3 --full
expect_status 0 "run --full after forget"
check_forgotten "after a full re-run"
[ "$(snapshot)" = "$after" ] || fail "a re-run after forget changed rows"
lk --config "$WORK/forget.yaml" forget --identity "$who"
expect_status 0 "forget again"
grep -q ": 0 participant rows, 0 connections" "$WORK/last.out" || fail "a second forget rewrote rows"
# what a run racing an older forget left: the identity in clear beside its pseudonym in one
# session; forget again deletes the clear row (no duplicate key) and the rollup counts it once
psql_q "INSERT INTO livekit.participants SELECT * FROM (SELECT (json_populate_record(p, json_build_object('participant_identity', '$who', 'participant_name', '$name'))).* FROM livekit.participants p WHERE participant_identity = '$hex' LIMIT 1) x" >/dev/null
psql_q "UPDATE livekit.participant_connections SET participant_identity = '$who' WHERE connection_id = (SELECT min(connection_id) FROM livekit.participant_connections WHERE participant_identity = '$hex')" >/dev/null
psql_q "SELECT livekit.rollup_refresh('p_sim', ARRAY(SELECT DISTINCT day FROM livekit.rollup_participant_daily))" >/dev/null
lk --config "$WORK/forget.yaml" forget --identity "$who" --vacuum
expect_status 0 "forget of a clear row beside its pseudonym"
grep -q ": 1 participant rows, 1 connections" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "forget after a race: output"; }
grep -q "^vacuumed " "$WORK/last.out" || fail "forget --vacuum says nothing of the vacuum"
check_forgotten "after forgetting what a race left"
# (check_rollup above loaded tests/bi/reference.sql: the per-identity view alone, once more)
[ "$(psql_q "SELECT livekit_bi_reference.differences('participant_daily_usage')")" -eq 0 ] \
    || fail "after forgetting what a race left: participant_daily_usage differs from the base tables"
log "forget: $n_p participant rows, $n_c connections pseudonymized; a full re-run brings nothing back; forgetting again works"

# pseudonymize_identities: no identity or name stored, per-identity counts intact
psql_q "DROP SCHEMA livekit CASCADE" >/dev/null 2>&1
fast_retry_config "$WORK/pseudo.yaml" "pseudonymize_key_file: $WORK/key" "pseudonymize_identities: true"
lk --config "$WORK/pseudo.yaml" run --today "$TODAY" --days 3
expect_status 0 "run with pseudonymize_identities"
[ "$(psql_q "SELECT count(*) FROM livekit.participants WHERE participant_identity !~ '^[0-9a-f]{64}$' OR participant_name !~ '^[0-9a-f]{64}$'")" -eq 0 ] \
    || fail "an identity or name stored in clear"
[ "$(psql_q "SELECT count(*) FROM livekit.participant_connections WHERE participant_identity !~ '^[0-9a-f]{64}$'")" -eq 0 ] \
    || fail "a connection's identity stored in clear"
load_expected "$WORK/expected"
[ "$(psql_q "SELECT count(*) FROM livekit.participants WHERE participant_identity = '$hex'")" -eq "$n_p" ] || fail "pseudonym of $who"
got=$(psql_q "SELECT string_agg(n::text, ',' ORDER BY n) FROM (SELECT count(*) n FROM livekit.participants GROUP BY participant_identity) x")
want=$(psql_q "SELECT string_agg(n::text, ',' ORDER BY n) FROM (SELECT count(*) n FROM expected.participants GROUP BY participant_identity) x")
[ "$got" = "$want" ] || fail "per-identity counts differ: $got vs $want"
before=$(snapshot)
lk --config "$WORK/pseudo.yaml" run --today "$TODAY" --days 3 --full
expect_status 0 "re-run with pseudonymize_identities"
[ "$(snapshot)" = "$before" ] || fail "a re-run with pseudonymize_identities changed rows"
[ "$(psql_q "SELECT count(*) FROM livekit.participants WHERE extra ?| ARRAY['attributes', 'metadata']")" -eq 0 ] \
    || fail "pseudonymize_identities kept attributes or metadata"
[ "$(psql_q "SELECT count(*) FROM livekit.participant_connections WHERE extra->>'participantIdentity' = '$hex' AND extra->'clientInfo'->>'user' = '$hex'")" -gt 0 ] \
    || fail "pseudonymize_identities: the connections' echoes are not the pseudonym"
nowhere "pseudonymize_identities"
log "pseudonymize_identities: every identity and name a pseudonym, per-identity counts exact, re-runs unchanged"

# forget during a slow run --full (one list page answered 2.5 s late): the project's lock. lock_wait 0: refused, saying so, the
# identity recorded; lock_wait 60: it waits for the run, then rewrites what the run stored
psql_q "DROP SCHEMA livekit CASCADE" >/dev/null 2>&1
sim_stop
sim_start --today "$TODAY" --seed 13 --days 3 --sessions-per-day 15 --participants 4 --connections 3 \
    --active-today 0 --quirks all --identity-echo --fault "slow:ms=2500,times=1,match=start=2026-11-19"
fast_retry_config "$WORK/wait.yaml" "pseudonymize_key_file: $WORK/key" "lock_wait: 60"
"$LKARCHIVE_BIN" --config "$WORK/forget.yaml" run --today "$TODAY" --days 3 --full >"$WORK/slow.out" 2>"$WORK/slow.err" &
slow=$!
held="SELECT count(*) FROM pg_locks l, (SELECT hashtextextended('lkarchive:p_sim', 0) k) h WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted AND l.classid::bigint = (h.k >> 32) & 4294967295 AND l.objid::bigint = h.k & 4294967295"
for _ in $(seq 1 200); do [ "$(psql_q "$held")" -ge 1 ] && break; sleep 0.02; done
[ "$(psql_q "$held")" -ge 1 ] || fail "the slow run never took the project's lock"
lk --config "$WORK/forget.yaml" forget --identity "$who" --project p_sim
expect_status 7 "forget while a run holds the project (lock_wait 0)"
expect_stderr "a run is archiving project p_sim"
expect_stderr "recorded as forgotten"
lk --config "$WORK/wait.yaml" forget --identity "$who" --project p_sim
expect_status 0 "forget that waits for the run"
expect_stderr "waiting up to 60 s"
kill -0 "$slow" 2>/dev/null && fail "forget did not wait for the run"
wait "$slow" || fail "the slow run failed: $(cat "$WORK/slow.err")"
check_forgotten "forget during a slow run --full"
log "forget during a slow run --full: refused with lock_wait 0, waits with lock_wait 60; the identity stays forgotten"

# --project of a project never archived yet: recorded, so its first run stores the pseudonym
psql_q "DROP SCHEMA livekit CASCADE" >/dev/null 2>&1
lk --config "$WORK/forget.yaml" forget --identity "$who" --project p_sim
expect_status 0 "forget before the first run"
grep -q "p_sim  *forgotten as ${hex:0:16}...: 0 participant rows, 0 connections" "$WORK/last.out" || fail "forget before the first run: output"
lk --config "$WORK/forget.yaml" run --today "$TODAY" --days 3
expect_status 0 "first run after forget"
load_expected "$WORK/expected"
check_forgotten "a first run after forget"
log "forget --project before the first run: the identity is never stored"
