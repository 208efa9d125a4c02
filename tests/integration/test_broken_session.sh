#!/usr/bin/env bash
# One session whose details keep failing does not stop the others: the run archives the
# rest, exits non-zero naming project, day and session, and leaves that day pending; once
# the session is fixed upstream, the next run completes the day.
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
SIM=(--today "$TODAY" --seed 9 --days 3 --sessions-per-day 10 --participants 3 --connections 4 --active-today 1 --quirks all --expected-dir "$WORK/expected")
"$LKSIM_BIN" --api-key x --api-secret y "${SIM[@]}" --dump-only 2>/dev/null
broken=$(awk -F'\t' '$17 == "2026-11-19" { print $2; exit }' "$WORK/expected/sessions.tsv")
[ -n "$broken" ] || fail "no session to break"
sim_start "${SIM[@]}" --fault "500:match=/sessions/$broken,permanent"
fast_retry_config "$WORK/c.yaml"
lk --config "$WORK/c.yaml" run --today "$TODAY" --days 3
expect_status 4 "a permanently broken session"
expect_stderr "session $broken"
expect_stderr "project=p_sim day=2026-11-19"
[ "$(psql_q "SELECT status FROM livekit.archive_days WHERE day = '2026-11-19'")" = pending ] || fail "broken day not pending"
psql_q "SELECT last_error FROM livekit.archive_days WHERE day = '2026-11-19'" | grep -q "$broken" || fail "ledger does not name the session"
[ "$(psql_q "SELECT status FROM livekit.archive_days WHERE day = '2026-11-18'")" = complete ] || fail "other days not complete"
[ "$(psql_q "SELECT count(*) FROM livekit.sessions WHERE list_day = '2026-11-19' AND details_archived")" -eq 9 ] \
    || fail "the other sessions of the day were not archived"
sim_stop

sim_start "${SIM[@]}"
lk --config "$WORK/c.yaml" run --today "$TODAY" --days 3
expect_status 0 "after the session is fixed"
[ "$(psql_q "SELECT status FROM livekit.archive_days WHERE day = '2026-11-19'")" = complete ] || fail "day not complete after the fix"
[ "$(sim_stat details)" -le 3 ] || fail "the fixing run fetched unchanged details again ($(sim_stat details))"
load_expected "$WORK/expected"
compare_all
log "broken session: others archived, day pending, fixed next run (2 runs to converge)"
