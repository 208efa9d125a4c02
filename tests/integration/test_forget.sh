#!/usr/bin/env bash
# Privacy: `forget --identity ID` replaces the identity everywhere with its pseudonym (hex
# HMAC-SHA256 under pseudonymize_key_file), clears the name and extra, records only the
# pseudonym, and later runs (even --full) do not bring the identity back nor change a row.
# pseudonymize_identities stores every identity and name as its pseudonym from the start.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 13 --days 3 --sessions-per-day 15 --participants 4 --connections 3 \
    --active-today 0 --quirks all --expected-dir "$WORK/expected"
ensure_expected "$WORK/expected"
KEY=forget-test-key-0123456789abcdef
printf '%s\n' "$KEY" >"$WORK/key"
chmod 600 "$WORK/key"
fast_retry_config "$WORK/forget.yaml" "pseudonymize_key_file: $WORK/key"
hmac() { printf '%s' "$1" | openssl dgst -sha256 -hmac "$KEY" | sed 's/.*= //'; }

lk run --today "$TODAY" --days 3
expect_status 0 "run"
compare_all
who=$(psql_q "SELECT participant_identity FROM expected.participants GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
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
    [ "$(psql_q "SELECT count(*) FROM livekit.participant_connections WHERE participant_identity = '$hex'")" -eq "$n_c" ] || fail "$what: pseudonymized connections"
    [ "$(psql_q "SELECT count(*) FROM livekit.participants")" -eq "$total_p" ] || fail "$what: participant rows lost"
    [ "$(psql_q "SELECT string_agg(identity_hmac, ',') FROM livekit.forgotten_identities")" = "$hex" ] || fail "$what: forgotten set"
    if psql -X -At -c "SELECT t::text FROM livekit.participants t UNION ALL SELECT t::text FROM livekit.participant_connections t UNION ALL SELECT t::text FROM livekit.forgotten_identities t" | grep -qF "\"$who\""; then
        fail "$what: the identity is still stored somewhere"
    fi
}
check_forgotten "after forget"
[ "$(psql_q "SELECT count(*) FROM livekit.rollup_participant_daily WHERE participant_identity = '$who'")" -eq 0 ] || fail "the rollup still names the forgotten identity"
check_rollup "after forget"
after=$(snapshot)
lk --config "$WORK/forget.yaml" run --today "$TODAY" --days 3 --full
expect_status 0 "run --full after forget"
check_forgotten "after a full re-run"
[ "$(snapshot)" = "$after" ] || fail "a re-run after forget changed rows"
lk --config "$WORK/forget.yaml" forget --identity "$who"
expect_status 0 "forget again"
grep -q ": 0 participant rows, 0 connections" "$WORK/last.out" || fail "a second forget rewrote rows"
log "forget: $n_p participant rows, $n_c connections pseudonymized; a full re-run brings nothing back"

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
log "pseudonymize_identities: every identity and name a pseudonym, per-identity counts exact, re-runs unchanged"

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
