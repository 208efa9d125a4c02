#!/usr/bin/env bash
# What the API may send that PostgreSQL cannot hold, end to end (interface.md, "Values
# PostgreSQL cannot hold"): the simulator's --hostile sessions (tests/sim/README.md, Hostile
# data) over seven days with every quirk on. Text that is not UTF-8 (stray bytes, overlong
# forms, encoded surrogates, code points above U+10FFFF, cut sequences, lone surrogate escapes,
# NUL) in room names, identities, names, unknown keys and values; terminal escapes and newlines
# in a session id, a room name, identities and an unknown key; numbers no column holds (beyond
# bigint, integer or numeric, a negative byte count), an unknown number jsonb cannot hold;
# repeated keys; session ids "." and ".." (answered only percent-encoded); a details roomId
# about another session (exit 1, that day pending). Every value is compared with the simulator's
# expected rows and checked again by targeted SQL; the output stays one clean line per message,
# PostgreSQL never refuses a value, a second run changes nothing, memory stays small.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
MISMATCH_DAY=2026-11-17 # index 1 of today-3: its details roomId is another session's
pg_start
SIM=(--today "$TODAY" --seed 11 --days 7 --sessions-per-day 6 --participants 3 --connections 5
    --active-today 1 --quirks all --hostile)
sim_start "${SIM[@]}" --expected-dir "$WORK/expected"
# the mismatch session's id: index 1 of its day, as the dataset without --hostile has it
"$LKSIM_BIN" --api-key x --api-secret y "${SIM[@]/--hostile/--quiet}" --dump-only \
    --expected-dir "$WORK/plain" 2>/dev/null
mismatch=$(awk -F'\t' -v d="$MISMATCH_DAY" '$17 == d { if (++n == 2) { print $2; exit } }' \
    "$WORK/plain/sessions.tsv")
[ -n "$mismatch" ] || fail "no mismatch session found"
fast_retry_config "$WORK/c.yaml"
# Peak RSS under 32 MiB. AddressSanitizer (ci/test.sh's build) adds its shadow memory,
# redzones and quarantine (--version alone: 18 MiB instead of 11), so an instrumented binary
# only gets a bound that still catches a body or a value buffered whole.
RSS_LIMIT_KIB=32768
if grep -qa __asan_init "$LKARCHIVE_BIN"; then RSS_LIMIT_KIB=98304; fi

# check_clean WHAT OUT ERR: no raw control character but newline (C0, DEL) and no C1
# (U+0080..U+009F as UTF-8) in either; every stderr line is one of lkarchive's; the payload
# "\nlkarchive: forged line" never starts a line of its own.
check_clean() {
    local what=$1 out=$2 err=$3
    if LC_ALL=C grep -naP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$out" "$err" >&2; then
        fail "$what: a raw control character in lkarchive's output"
    fi
    # every line is one lkarchive wrote: logfmt (the default) or the text format
    if grep -navE '^(time=[0-9TZ:.-]+ level=[a-z]+ |lkarchive: )' "$err" >&2; then
        fail "$what: a stderr line that lkarchive did not start"
    fi
    # every "lkarchive: forged line" must follow the escape \n, whatever prefix the line has
    local forged
    forged=$(LC_ALL=C grep -naP '(?<!\\n)lkarchive: forged line' "$out" "$err" || true)
    if [ -n "$forged" ]; then
        printf '%s\n' "$forged" >&2
        fail "$what: an embedded newline forged a line"
    fi
}
# negative controls: each check catches what it is for
for bad in $'lkarchive: a \x1b[2J b' $'lkarchive: a \xc2\x9b b' $'lkarchive: a\nb' \
    $'lkarchive: a\nlkarchive: forged line' $'lkarchive: a\nlkarchive: detail: lkarchive: forged line' \
    $'table a\nlkarchive: forged line'; do
    printf '%s\n' "$bad" >"$WORK/bad.err"
    : >"$WORK/bad.out"
    if (check_clean control "$WORK/bad.out" "$WORK/bad.err") 2>/dev/null; then
        fail "the output checks missed: $(printf '%q' "$bad")"
    fi
done

# run_checked RUN: lkarchive run under /usr/bin/time; the output checks every run must pass
run_checked() {
    local what=$1 rss
    set +e
    /usr/bin/time -f %M -o "$WORK/rss" "$LKARCHIVE_BIN" --config "$WORK/c.yaml" run \
        --today "$TODAY" >"$WORK/last.out" 2>"$WORK/last.err"
    LK_STATUS=$?
    set -e
    expect_status 1 "$what (the mismatch session's day stays pending)"
    expect_no_secret
    check_clean "$what" "$WORK/last.out" "$WORK/last.err"
    if grep -qa 'PostgreSQL refused a value' "$WORK/last.err"; then
        cat "$WORK/last.err" >&2
        fail "$what: PostgreSQL refused a value"
    fi
    grep -qa "$mismatch" "$WORK/last.err" || { cat "$WORK/last.err" >&2; fail "$what: the mismatch session is not named"; }
    cp "$WORK/last.out" "$WORK/$what.out"
    cp "$WORK/last.err" "$WORK/$what.err"
    rss=$(tail -1 "$WORK/rss")
    log "$what: exit $LK_STATUS, peak RSS $rss KiB"
    [ "$rss" -lt "$RSS_LIMIT_KIB" ] || fail "$what: peak RSS $rss KiB, not under $RSS_LIMIT_KIB KiB"
}

run_checked "first run"
# the hostile unknown key reached a log line, escaped (logfmt doubles the escape's backslash)
grep -qaF 'new field from the API: session.h' "$WORK/last.err" &&
    grep -qaE '[|]\\+x1b\[2J\\+x1b\[0m\\+nlkarchive: forged line \(kept' "$WORK/last.err" ||
    { cat "$WORK/last.err" >&2; fail "the hostile key is not reported, escaped"; }
# a session id with terminal escapes and a newline (today-4, index 1): named escaped
grep -qaE 'session RM_\\+x1b\[31mX\\+x1b\[0m\\+nlkarchive: forged line: repeated keys' "$WORK/last.err" ||
    { cat "$WORK/last.err" >&2; fail "the hostile session id is not named, escaped"; }
load_expected "$WORK/expected"
compare_all

# the ledger: the mismatch day and today pending, the five other days complete
[ "$(psql_q "SELECT status FROM livekit.archive_days WHERE day = '$MISMATCH_DAY'")" = pending ] \
    || fail "the mismatch day is not pending"
psql_q "SELECT last_error FROM livekit.archive_days WHERE day = '$MISMATCH_DAY'" | grep -q "$mismatch" \
    || fail "the ledger does not name the mismatch session"
[ "$(psql_q "SELECT count(*) FROM livekit.archive_days WHERE status = 'complete'")" -eq 5 ] \
    || fail "expected 5 complete days: $(psql_q "SELECT string_agg(day || ' ' || status, ', ' ORDER BY day) FROM livekit.archive_days")"

# targeted assertions, independent of the expected rows
q_is() { # SQL WANT WHAT
    local got
    got=$(psql_q "$1")
    [ "$got" = "$2" ] || fail "$3: got '$got', expected '$2'"
}
FFFD=$'\xef\xbf\xbd'
# the mismatch session: its list entry only (as for details that fail), nothing of the
# details answer, nothing under the id that answer named
q_is "SELECT string_agg(session_id || ' ' || details_archived || ' ' || (bandwidth IS NULL AND start_time IS NULL AND details_num_participants IS NULL), ',') FROM livekit.sessions WHERE session_id LIKE '${mismatch:0:14}%'" \
    "$mismatch false true" "the mismatch session: its list entry only"
q_is "SELECT count(*) FROM livekit.participants WHERE session_id LIKE '${mismatch:0:14}%'" 0 \
    "no participant of the mismatch session"
q_is "SELECT string_agg(session_id || '@' || list_day, ',' ORDER BY list_day) FROM livekit.sessions WHERE session_id IN ('.', '..') AND details_archived" \
    "..@2026-11-18,.@2026-11-19" "sessions '.' and '..' with their details"
q_is "SELECT count(*) > 0 FROM livekit.participants WHERE session_id IN ('.', '..')" t \
    "the participants of '.' and '..'"
# the simulator refuses "." / ".." sent as literal dot segments (404, counted in errors):
# none means lkarchive sent them percent-encoded
[ "$(sim_stat errors)" -eq 0 ] || { cat "$WORK/sim.log" >&2; fail "the simulator answered errors"; }
q_is "SELECT count(*) FROM livekit.participants p JOIN livekit.sessions s USING (project_id, session_id) WHERE session_id = E'RM_\\x1b[31mX\\x1b[0m\\nlkarchive: forged line' AND s.details_archived AND s.list_day = '2026-11-16'" \
    "$(awk -F'\t' '$17 == "2026-11-16" { if (++n == 2) { print $10; exit } }' "$WORK/expected/sessions.tsv")" \
    "the session whose id holds terminal escapes and a newline, with its participants"
# text: terminal escapes and newline kept, each ill-formed sequence one U+FFFD
hostile_stored="|$FFFD|$FFFD|$FFFD$FFFD|$FFFD$FFFD$FFFD|$FFFD$FFFD$FFFD|$FFFD$FFFD$FFFD$FFFD|$FFFD|$FFFD|$FFFD|$FFFD|${FFFD}A|$FFFD|éé"$'\xf0\x9f\x98\x80|'
term=$'\x1b[31mred\x1b[0m\nlkarchive: forged line\r\xc2\x9b2J\x07'
room_md5=$(printf '%s' "room-$term$hostile_stored" | md5sum | cut -d' ' -f1)
q_is "SELECT count(*) FROM livekit.sessions WHERE md5(room_name) = '$room_md5'" 4 \
    "the hostile room names (the 4 days at an even offset from today)"
q_is "SELECT count(*) FROM livekit.participants WHERE participant_identity LIKE 'user-_-' || E'\\x1b' || '[31mred%' AND position(E'\\n' in participant_identity) > 0 AND participant_name LIKE 'User _ |' || U&'\\FFFD' || '|%'" \
    "$(psql_q "SELECT count(*) FROM livekit.participants p JOIN livekit.sessions s USING (project_id, session_id) WHERE s.room_name LIKE 'room-' || E'\\x1b' || '%'")" \
    "hostile identities and names"
q_is "SELECT count(*) FROM livekit.sessions WHERE extra ? ('h' || U&'\\FFFD\\FFFD' || 'k' || U&'\\FFFD' || 'ey' || U&'\\FFFD\\FFFD' || E'|\\x1b[2J\\x1b[0m\\nlkarchive: forged line') AND extra->'hostileNested'->>'n' = '1e1000000' AND jsonb_typeof(extra->'hostileNested'->'n') = 'string' AND extra->'hostileNested'->'m' = '-0.0015'::jsonb" \
    4 "ill-formed unknown keys and values, an unknown number jsonb cannot hold"
# numbers no column holds: NULL, the original text as a string in extra
q_is "SELECT count(*) FROM livekit.sessions WHERE bandwidth_in IS NULL AND extra->>'bandwidthIn' = '99999999999999999999' AND bandwidth_out IS NULL AND extra->>'bandwidthOut' = '-12345' AND jsonb_typeof(extra->'bandwidthOut') = 'string' AND bandwidth IS NULL AND extra->>'bandwidth' = '18446744073709551616' AND extra->>'hostileHugeNumber' = '1e1000000'" \
    3 "beyond bigint, negative byte counts, an unknown 1e1000000 (3 days with odd offset)"
q_is "SELECT count(*) FROM livekit.sessions WHERE connection_minutes IS NULL AND (length(extra->>'connectionMinutes') = 20002 AND extra->>'connectionMinutes' LIKE '0.307418%' OR extra->>'connectionMinutes' = '1e200000')" \
    3 "connectionMinutes beyond numeric"
q_is "SELECT count(*) FROM livekit.sessions WHERE num_active_participants IS NULL AND extra->>'numActiveParticipants' = '2147483648'" \
    3 "beyond integer"
# repeated keys: the last wins
q_is "SELECT count(*) FROM livekit.sessions WHERE egress = 1 AND extra->'egress' = '\"1\"' AND extra->'hostileRepeated' = '\"two\"' AND num_participants <> 999" \
    3 "repeated keys keep the last value"
q_is "SELECT count(*) FROM livekit.participants WHERE participant_name = 'first name' OR region = 'first-region'" 0 \
    "a repeated participant key keeps the last value"
q_is "SELECT (SELECT count(*) FROM livekit.participants WHERE participant_identity LIKE 'decoy-%') + (SELECT count(*) FROM livekit.participant_connections WHERE participant_identity LIKE 'decoy-%')" 0 \
    "a participantIdentity repeated after the connections: the last, for the connections too"

# status: the mismatch day pending and named, its output as clean as the run's
lk status --today "$TODAY"
check_clean status "$WORK/last.out" "$WORK/last.err"
grep -q "$MISMATCH_DAY" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "status does not list the pending day"; }
log "status: exit $LK_STATUS, output clean"

before=$(snapshot)
run_checked "second run"
[ "$before" = "$(snapshot)" ] || fail "the second run changed rows"
compare_all
log "hostile values archived as interface.md says; the second run changed nothing"
