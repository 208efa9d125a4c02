#!/usr/bin/env bash
# report_screenshot.sh -- the README's pictures of `lkarchive report` (docs/report.png, a
# desktop window, and docs/report-phone.png, a phone's width): three weeks archived from the
# simulator (three runs a week apart), then headless Chromium's screenshots of the page.
#   bash ci/report_screenshot.sh [BUILD_DIR]   (default build-test)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/${1:-build-test}
export LKARCHIVE_BIN=$BUILD/lkarchive LKSIM_BIN=$BUILD/tests/lkarchive-sim LK_SOURCE_DIR=$ROOT
source "$ROOT/tests/integration/lib.sh"

pg_start
for today in 2026-11-06 2026-11-13 2026-11-20; do
    sim_start --today "$today" --seed 3 --days 7 --sessions-per-day 60 --participants 4 \
        --connections 6 --active-today 2 --overnight 8
    lk run --today "$today"
    sim_stop
done
lk report --today 2026-11-20 --days 28 --out "$WORK/report.html"
expect_status 0 "report"
mkdir -p "$ROOT/docs"
CHROME=(chromium --headless --no-sandbox --disable-gpu --disable-background-networking
    --disable-component-update --no-first-run --hide-scrollbars --user-data-dir="$WORK/chrome")
"${CHROME[@]}" --window-size=1100,1500 --screenshot="$ROOT/docs/report.png" \
    "file://$WORK/report.html" >/dev/null 2>&1
"${CHROME[@]}" --window-size=390,1400 --screenshot="$ROOT/docs/report-phone.png" \
    "file://$WORK/report.html" >/dev/null 2>&1
log "docs/report.png and docs/report-phone.png written"
