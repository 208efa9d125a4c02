#!/usr/bin/env bash
# The Grafana dashboard (config/grafana/lkarchive-dashboard.json): every panel has SQL, and
# every panel's query and every variable's query, with Grafana's macros and variables expanded
# to a real range, runs without error and returns rows, as a role given access with
# `lkarchive grant` (what a Grafana data source logs in as).
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 11 --days 7 --sessions-per-day 12 --participants 3 \
    --connections 4 --active-today 2 --quirks all --overnight 4
lk run --today "$TODAY"
expect_status 0 "run"
psql_q "CREATE ROLE grafana LOGIN" >/dev/null
lk grant grafana
expect_status 0 "grant grafana"

# from the first archived day to a minute from now: the data days and the runs' real times
TO=$(date -u -d '+1 minute' +%Y-%m-%dT%H:%M:%SZ)
PGUSER=grafana python3 "$LK_SOURCE_DIR/tests/bi/check_dashboard.py" \
    "$LK_SOURCE_DIR/config/grafana/lkarchive-dashboard.json" \
    2026-11-14T00:00:00Z "$TO" p_sim >"$WORK/dashboard.out" 2>&1 \
    || { cat "$WORK/dashboard.out" >&2; fail "a dashboard query failed"; }
log "$(tail -1 "$WORK/dashboard.out") (as the read-only role grafana)"

# negative control: a panel without SQL, and one with a broken query, are caught
python3 - "$LK_SOURCE_DIR/config/grafana/lkarchive-dashboard.json" "$WORK/broken.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
panels = [p for p in d["panels"] if p.get("type") != "row"]
panels[0]["targets"][0]["rawSql"] = ""
panels[1]["targets"][0]["rawSql"] = "SELECT no_such_column FROM livekit_bi.daily_usage"
json.dump(d, open(sys.argv[2], "w"))
PY
if PGUSER=grafana python3 "$LK_SOURCE_DIR/tests/bi/check_dashboard.py" "$WORK/broken.json" \
    2026-11-14T00:00:00Z "$TO" p_sim >"$WORK/broken.out" 2>&1; then
    fail "the check passed a dashboard with a broken panel"
fi
[ "$(grep -c '^FAIL' "$WORK/broken.out")" -eq 2 ] || { cat "$WORK/broken.out" >&2; fail "the broken panels were not both reported"; }
log "negative control: a panel without SQL and a failing query are caught"
