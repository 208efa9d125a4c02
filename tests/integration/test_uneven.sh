#!/usr/bin/env bash
# Uneven sizes: two projects whose days differ (small days, one big day, a day without
# sessions, a small project next to a bigger one) are archived exactly, every row and column,
# each day's line on stdout names its own counts, and a second run changes nothing. Also that
# no secondary index of sessions leads with project_id (sql/009).
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
# p_small: 3 sessions a day, none on 2026-11-17; p_big: 5 a day, 400 yesterday
sim_start --today "$TODAY" --seed 12 --project p_small --project p_big --days 7 \
    --sessions-per-day 5 --project-sessions p_small:3 --day-sessions p_small:3:0 \
    --day-sessions p_big:1:400 --participants 3 --connections 5 --active-today 2 \
    --quirks all --expected-dir "$WORK/expected"
export LIVEKIT_PROJECT_ID=p_small,p_big
fast_retry_config "$WORK/a.yaml" "page_limit: 7"

lk --config "$WORK/a.yaml" run --today "$TODAY"
expect_status 0 "first run"
expect_no_secret
load_expected "$WORK/expected"
compare_all

# each day's line: the day's own session count, as the simulator has it
bad=$(psql_q "SELECT string_agg(project_id || ' ' || list_day || ' ' || n, ', ')
              FROM (SELECT project_id, list_day, count(*) AS n FROM expected.sessions
                    GROUP BY 1, 2) e" | tr ',' '\n' | while read -r project day n; do
    [ -n "$project" ] || continue
    grep -Eq "^$project +$day +[a-z]+ +$n sessions" "$WORK/last.out" || echo "$project $day $n"
done)
[ -z "$bad" ] || { cat "$WORK/last.out" >&2; fail "per-day lines do not match the expected counts: $bad"; }
grep -Eq '^p_big +2026-11-19 +complete +400 sessions' "$WORK/last.out" || fail "the big day's line"
grep -Eq '^p_small +2026-11-17 +complete +0 sessions' "$WORK/last.out" || fail "the empty day's line"

# sql/009 (tests/bench/MERGE.md): no secondary index of sessions may lead with project_id, or
# the FK checks of a big day, planned without statistics, walk the whole project per row
leading=$(psql_q "SELECT string_agg(indexrelid::regclass::text, ', ') FROM pg_index i
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                  WHERE i.indrelid = 'livekit.sessions'::regclass AND NOT i.indisprimary
                    AND a.attname = 'project_id'")
[ -z "$leading" ] || fail "indexes of livekit.sessions lead with project_id: $leading"

before=$(snapshot)
lk --config "$WORK/a.yaml" run --today "$TODAY"
expect_status 0 "second run"
[ "$(snapshot)" = "$before" ] || fail "the second run changed rows"
compare_all
log "uneven days and projects: every row exact; a second run changes nothing"
