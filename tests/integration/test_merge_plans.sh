#!/usr/bin/env bash
# The statements that look up archived sessions by the staged ones (the new-session query, the
# sessions merge, rollup_days_of_sessions) probe sessions_pkey per session, with and without
# statistics: never a scan of every archived session of the project, whose cost grows with the
# archive (and, as a nested loop without statistics, with its square). A first load's sessions
# merge, every session new, reads no archived session at all and is a plain INSERT; its
# rollup days come from the rows inserted (the connections' insert reads a session, by key, only
# for a connection without left_at), not from rollup_days_of_sessions. auto_explain logs every
# plan lkarchive's statements run with (PGOPTIONS reaches its connections through libpq); each
# statement is found by its `-- name:` tag (src/queries/*.sql, sql/functions/rollup.sql).
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 31 --days 7 --sessions-per-day 300 --participants 3 \
    --connections 4 --active-today 0
PGOPTIONS="-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0"
PGOPTIONS+=" -c auto_explain.log_analyze=on -c auto_explain.log_timing=off"
export PGOPTIONS+=" -c auto_explain.log_nested_statements=on"
LOG=$WORK/pg/server.log

# sessions_scans: for each logged plan of the three statements, every line that reads the
# sessions table; prints "statement<TAB>plan line", one per read
sessions_scans() {
    awk '/LOG:  duration: .* plan:/ { kind = "" }
         /Query Text: -- name: merge_sessions_/ { kind = "sessions merge" }
         /Query Text: -- name: insert_connections_all_new/ { kind = "connection days" }
         /Query Text: -- name: collect_new_sessions/ { kind = "new sessions" }
         /-- name: rollup_days_of_sessions/ { kind = "rollup days" }
         kind != "" && /Scan.* on sessions / { sub(/^[ \t]*(->)?[ \t]*/, ""); print kind "\t" $0 }'
}
check_probes() { # check_probes WHEN KINDS: the plans logged so far; KINDS, the statements seen
    local scans bad kinds
    scans=$(sessions_scans <"$LOG")
    # by primary key; the new-session query also asks whether the day has a session yet, an
    # EXISTS that stops at its first row (the only read of sessions without an alias there)
    bad=$(grep -Ev "Index (Only )?Scan using sessions_pkey|^new sessions.*on sessions  \(" <<<"$scans" || true)
    [ -z "$bad" ] || fail "$1: archived sessions read other than by an index lookup: $bad"
    kinds=$(cut -f1 <<<"$scans" | sort -u | tr '\n' ',')
    [ "$kinds" = "$2" ] || fail "$1: the statements reading sessions were $kinds, not $2"
    log "$1: $(wc -l <<<"$scans") reads of sessions, all index lookups"
}

# the checker itself: a hash of every archived session is caught
printf '%s\n' "LOG:  duration: 1 ms  plan:" "Query Text: -- name: collect_new_sessions" \
    "  ->  Bitmap Heap Scan on sessions a  (actual rows=14000 loops=1)" >"$WORK/control.log"
[ -n "$(sessions_scans <"$WORK/control.log" | grep -v "using sessions_pkey")" ] \
    || fail "the plan check did not notice a scan of every session"

# a first load: no statistics on the archive's tables (autovacuum is too slow to see them);
# the plans of the migrations (whose texts hold the same queries) are left out
"$LKARCHIVE_BIN" migrate >/dev/null 2>&1 || fail "migrate failed"
as_pg sh -c ": > '$LOG'" # the server appends: only the plans from here on
lk run --today "$TODAY"
expect_status 0 "first load"
check_probes "first load, no statistics" "connection days,new sessions,"
# every session new: the sessions merge is a plain INSERT (no ON CONFLICT) that reads no session
merges=$(grep -Ec "Query Text: -- name: merge_sessions_" "$LOG" || true)
[ "$merges" -ge 7 ] || fail "first load: $merges sessions merges logged, expected one a day"
conflicts=$(awk '/LOG:  duration: .* plan:/ { merge = 0 }
                 /Query Text: -- name: merge_sessions_/ { merge = 1 }
                 merge && /Conflict Resolution/' "$LOG")
[ -z "$conflicts" ] || fail "first load: a sessions merge took the ON CONFLICT path: $conflicts"

# with statistics, every session archived already: the merge path of each statement
psql_q "ANALYZE livekit.sessions, livekit.participants, livekit.participant_connections" >/dev/null
as_pg sh -c ": > '$LOG'"
lk run --today "$TODAY" --full
expect_status 0 "full re-run"
check_probes "full re-run, with statistics" "new sessions,rollup days,sessions merge,"
