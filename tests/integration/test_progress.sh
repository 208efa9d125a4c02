#!/usr/bin/env bash
# Progress: with stderr on a terminal, a live line per day (pages, sessions, details done of
# total, rate, time left) that gives way to the day's summary; in cron or a pipe, only the
# summary lines. The terminal case runs under script(1) (util-linux / bsdutils).
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 4 --days 3 --sessions-per-day 30 --participants 2 --connections 2

# a pipe: the summary only, no carriage return, no escape sequence
lk run --today "$TODAY" --days 3
expect_status 0 "run into files"
if grep -q $'\r\|\033' "$WORK/last.err" "$WORK/last.out"; then fail "progress written to a pipe"; fi
grep -q "details [0-9]*/[0-9]*" "$WORK/last.err" && fail "progress line in a pipe"
[ "$(grep -c "^p_sim " "$WORK/last.out")" -eq 3 ] || fail "summary lines missing"

command -v script >/dev/null || fail "script(1) missing (ci/deps.sh installs bsdutils)"
psql_q "SET client_min_messages = warning; DROP SCHEMA livekit CASCADE" >/dev/null
script -qfec "$LKARCHIVE_BIN run --today $TODAY --days 3 --log-level warn" "$WORK/tty.out" >/dev/null 2>&1 </dev/null \
    || { cat "$WORK/tty.out" >&2; fail "run on a terminal failed"; }
cp "$WORK/tty.out" "$WORK/tty.err" # the secret check of lib.sh reads *.err
grep -q $'\r\033\\[Kp_sim 2026-11-19: [0-9]* pages*, [0-9]* sessions, details [0-9]*/30, [0-9.]*/s' "$WORK/tty.out" \
    || { cat -v "$WORK/tty.out" >&2; fail "no progress line on a terminal"; }
grep -q "^p_sim  *2026-11-19  complete" <(tr '\r' '\n' <"$WORK/tty.out" | sed 's/\x1b\[K//g') \
    || { cat -v "$WORK/tty.out" >&2; fail "the day's summary line on a terminal"; }
log "live progress on a terminal, summary only in a pipe"
