#!/usr/bin/env bash
# lkarchive report and the billing estimate (issue 25), in a real browser: headless Chromium
# (Debian's chromium) parses each page, and tests/bi/check_report.py compares its DOM with the
# livekit_bi views (every chart's data points, this month's estimate, the top rooms, the health
# calendar against the ledger) and proves no request left the page (Chromium's net log; a
# negative control shows the check sees one). Cases: an empty archive, a simulator archive with
# a gap, a failed day and hostile room names, a single day, report_file after a run. Billing:
# livekit_bi.daily_billable_usage and monthly_usage against tests/bi/check_billing.py's
# computation from the simulator's rows and from a hand-made fixture (10 s, 60 s, 61 s,
# midnight and month ends, open connections), whose figures are also written out here.
source "$(dirname "$0")/lib.sh"

command -v chromium >/dev/null || fail "chromium is not installed (bash ci/deps.sh installs it)"
CHROME=(chromium --headless --no-sandbox --disable-gpu --disable-background-networking
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$WORK/chrome")
check_page() { # check_page HTML TODAY DAYS: the DOM against the views, and no request made
    "${CHROME[@]}" --log-net-log="$1.net.json" --net-log-capture-mode=Everything \
        --dump-dom "file://$1" >"$1.dom" 2>"$WORK/chrome.err" \
        || { cat "$WORK/chrome.err" >&2; fail "chromium failed on $1"; }
    python3 "$LK_SOURCE_DIR/tests/bi/check_report.py" "$1.dom" "$2" "$3" >"$WORK/check.out" 2>&1 \
        || { cat "$WORK/check.out" >&2; fail "$(basename "$1"): the page differs from the views"; }
    python3 "$LK_SOURCE_DIR/tests/bi/check_report.py" --netlog "$1.net.json" >"$WORK/check.out" 2>&1 \
        || { cat "$WORK/check.out" >&2; fail "$(basename "$1"): the page made a request"; }
    log "$(basename "$1"): every chart point equal to the views, no request left the page"
}
report() { # report ARGS...: lkarchive report, which must succeed
    lk report "$@"
    expect_status 0 "report $*"
}

pg_start
lk migrate
expect_status 0 "migrate"

# ---- usage ----------------------------------------------------------------------------------
lk report
expect_status 2 "report without --out"
lk report --out "$WORK/x.html" --days 0
expect_status 2 "report --days 0"
lk run --days 8
expect_status 2 "run --days 8 (the report's range is not run's window)"

# ---- an empty archive -----------------------------------------------------------------------
report --today 2026-11-20 --days 14 --out "$WORK/empty.html"
check_page "$WORK/empty.html" 2026-11-20 14
grep -q 'No sessions archived this month yet' "$WORK/empty.html" || fail "empty: no word for an empty month"
LIVEKIT_PROJECT_ID='' lk report --today 2026-11-20 --out "$WORK/none.html"
expect_status 0 "report with no project at all"
grep -q 'id="empty"' "$WORK/none.html" || fail "no project: the page does not say nothing is archived"

# ---- billing: the fixture's edge cases, figures written out ---------------------------------
psql -X -q -v ON_ERROR_STOP=1 -f "$LK_SOURCE_DIR/tests/bi/billing_fixture.sql" >/dev/null
got=$(PGOPTIONS='-c lkarchive.today=2026-12-02' psql_q "SELECT string_agg(concat_ws(':', month, billable_connection_minutes, downstream_gb, days_covered, projected_billable_connection_minutes), ' ' ORDER BY month) FROM livekit_bi.monthly_usage WHERE project_id = 'p_edge'")
[ "$got" = "2026-10-01:8:0.01:1 2026-11-01:77:0.03:2 2026-12-01:4:0.00:2:62" ] \
    || fail "monthly_usage of the fixture: $got"
got=$(psql_q "SELECT string_agg(day || ':' || billable_connection_minutes, ' ' ORDER BY day) FROM livekit_bi.daily_billable_usage WHERE project_id = 'p_edge'")
[ "$got" = "2026-10-31:8 2026-11-15:60 2026-11-30:17 2026-12-01:2 2026-12-02:2" ] \
    || fail "daily_billable_usage of the fixture: $got"
got=$(PGOPTIONS='-c lkarchive.today=2026-12-10' psql_q "SELECT projected_billable_connection_minutes || '/' || projection_days FROM livekit_bi.monthly_usage WHERE project_id = 'p_edge' AND month = '2026-12-01'")
[ "$got" = "14/9" ] || fail "December projected from 9 complete days: $got"
python3 "$LK_SOURCE_DIR/tests/bi/check_billing.py" --tables p_edge 2026-12-02 >"$WORK/billing.out" 2>&1 \
    || { cat "$WORK/billing.out" >&2; fail "the fixture's billing differs from check_billing.py"; }
log "billing fixture: 10 s, 60 s, 61 s, midnight, month ends, open connections as LiveKit bills them"
psql_q "DELETE FROM livekit.rollup_daily WHERE project_id = 'p_edge'; DELETE FROM livekit.rollup_billing_daily WHERE project_id = 'p_edge'; DELETE FROM livekit.participant_connections WHERE project_id = 'p_edge'; DELETE FROM livekit.sessions WHERE project_id = 'p_edge'" >/dev/null

# ---- a simulator archive with a gap ---------------------------------------------------------
DATASET=(--seed 11 --days 7 --sessions-per-day 12 --participants 3 --connections 5 --active-today 2
    --quirks odd-strings,nulls --empty-sessions 6 --overnight 4)
sim_start --today 2026-11-10 "${DATASET[@]}" --expected-dir "$WORK/e1"
lk run --today 2026-11-10
expect_status 0 "first run"
sim_stop
sim_start --today 2026-11-20 "${DATASET[@]}" --expected-dir "$WORK/e2"
lk run --today 2026-11-20
expect_status 6 "second run, days lost (10 to 13 November)"
mkdir -p "$WORK/expected"
for t in sessions participants participant_connections; do
    cat "$WORK/e1/$t.tsv" "$WORK/e2/$t.tsv" >"$WORK/expected/$t.tsv"
done
python3 "$LK_SOURCE_DIR/tests/bi/check_billing.py" "$WORK/expected" 2026-11-20 >"$WORK/billing.out" 2>&1 \
    || { cat "$WORK/billing.out" >&2; fail "billing views differ from check_billing.py on the simulator's rows"; }
sed 's/^/  /' "$WORK/billing.out" >&2
# a failed day, and a room whose name is markup
psql_q "UPDATE livekit.archive_days SET status = 'failed', pending_reason = 'error', last_error = 'test' WHERE project_id = 'p_sim' AND day = '2026-11-18'" >/dev/null
HOSTILE=$'<script>alert(1)</script><img src=x onerror=alert(2)>"\'&amp;<!--'
psql -X -q -v ON_ERROR_STOP=1 -v name="$HOSTILE" >/dev/null <<'SQL'
-- the session with the most minutes: its room is first of the top rooms
SELECT session_id AS sid, day FROM livekit_bi.session_usage ORDER BY participant_minutes DESC LIMIT 1 \gset
UPDATE livekit.sessions SET room_name = :'name' WHERE project_id = 'p_sim' AND session_id = :'sid';
SELECT FROM livekit.rollup_refresh('p_sim', ARRAY[:'day']::date[]);
SQL
report --today 2026-11-20 --days 30 --out "$WORK/report.html"
grep -q '^report of 30 days to 2026-11-20 written to' "$WORK/last.out" || fail "report's line: $(cat "$WORK/last.out")"
[ "$(stat -c %a "$WORK/report.html")" = 644 ] || fail "the report is not mode 0644"
check_page "$WORK/report.html" 2026-11-20 30
[ "$(grep -o 'data-health="gap"' "$WORK/report.html.dom" | wc -l)" -eq 4 ] || fail "the calendar does not show the 4 lost days (10 November, left pending, and 11 to 13)"
grep -q 'data-health="failed"' "$WORK/report.html.dom" || fail "the calendar does not show the failed day"
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;amp;&lt;!--' "$WORK/report.html" \
    || fail "the hostile room name is not escaped in the file"
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$WORK/report.html.dom" \
    || fail "the hostile room name is not text in Chromium's DOM"
log "hostile room name: text, never markup; gap and failed days on the calendar"

# ---- nothing leaves the page ------------------------------------------------------------------
netlog() { # netlog HTML LOG
    "${CHROME[@]}" --log-net-log="$2" --net-log-capture-mode=Everything --dump-dom "file://$1" \
        >/dev/null 2>"$WORK/chrome.err" || { cat "$WORK/chrome.err" >&2; fail "chromium failed on $1"; }
}
# (check_page read every page's net log) negative controls: an image injected into the page is requested without the CSP, and
# blocked by it
sed 's|<meta http-equiv="Content-Security-Policy"[^>]*>||; s|<body>|<body><img src="http://127.0.0.1:9/probe.png">|' \
    "$WORK/report.html" >"$WORK/probe-open.html"
sed 's|<body>|<body><img src="http://127.0.0.1:9/probe.png">|' "$WORK/report.html" >"$WORK/probe-csp.html"
netlog "$WORK/probe-open.html" "$WORK/net-open.json"
python3 "$LK_SOURCE_DIR/tests/bi/check_report.py" --netlog "$WORK/net-open.json" \
    http://127.0.0.1:9/probe.png >&2 || fail "the net log check does not see a request"
netlog "$WORK/probe-csp.html" "$WORK/net-csp.json"
python3 "$LK_SOURCE_DIR/tests/bi/check_report.py" --netlog "$WORK/net-csp.json" >&2 \
    || fail "the Content-Security-Policy let an injected image load"
log "the net log sees an injected request, and the CSP blocks it"

# ---- a screenshot, a phone, print ------------------------------------------------------------
"${CHROME[@]}" --hide-scrollbars --window-size=1100,2400 --screenshot="$WORK/report.png" \
    "file://$WORK/report.html" >/dev/null 2>&1 || fail "no screenshot"
"${CHROME[@]}" --print-to-pdf="$WORK/report.pdf" --no-pdf-header-footer "file://$WORK/report.html" \
    >/dev/null 2>&1 || fail "no PDF"
[ "$(stat -c %s "$WORK/report.png")" -gt 20000 ] && [ "$(head -c 4 "$WORK/report.pdf")" = "%PDF" ] \
    || fail "the screenshot or the PDF is empty"
log "screenshot and print (PDF) made"

# ---- a single day, one project ---------------------------------------------------------------
report --today 2026-11-20 --days 1 --project p_sim --out "$WORK/one.html"
check_page "$WORK/one.html" 2026-11-20 1

# ---- a read-only role (lkarchive grant) may make it ---------------------------------------------
psql_q "CREATE ROLE viewer LOGIN" >/dev/null
lk grant viewer
expect_status 0 "grant viewer"
DATABASE_URL="host=$PG_SOCKET port=5432 user=viewer dbname=postgres" \
    lk report --today 2026-11-20 --days 7 --out "$WORK/viewer.html"
expect_status 0 "report as a read-only role"
grep -q 'data-project="p_sim"' "$WORK/viewer.html" || fail "the read-only role's report has no project"
log "a role given lkarchive grant (read only) makes the report"

# ---- report_file after a run ------------------------------------------------------------------
mkdir -p "$WORK/site"
echo "report_file: $WORK/site/lkarchive.html" >"$WORK/r.yaml"
lk --config "$WORK/r.yaml" run --today 2026-11-20 --acknowledge-gaps
expect_status 0 "run with report_file"
[ "$(stat -c %a "$WORK/site/lkarchive.html")" = 644 ] || fail "report_file is missing or not 0644"
[ "$(ls "$WORK/site")" = lkarchive.html ] || fail "a temporary was left beside report_file: $(ls "$WORK/site")"
grep -q '</html>' "$WORK/site/lkarchive.html" || fail "report_file is not a whole page"
log "report_file written after the run, 0644, whole"
