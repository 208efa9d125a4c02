#!/usr/bin/env bash
# stderr lines are logfmt by default, JSON lines with --log-format json (text: the older human
# form); lines of a day carry the run id, the project and the day; messages stay greppable.
# (Every test's outputs are checked for the secret and JWTs by lib.sh when it ends.)
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 9 --days 2 --sessions-per-day 3 --participants 2 --connections 2 \
    --fault "503:match=page=0&limit=100&start=2026-11-19,times=1"
fast_retry_config "$WORK/l.yaml"

lk --config "$WORK/l.yaml" run --today "$TODAY" --days 2
expect_status 0 "run, logfmt"
# a first run says what it archives and how far back the API can still go
expect_stderr "first run for project p_sim: the API still serves 2026-11-14 .. 2026-11-20"
expect_stderr "this run archives only 2026-11-19 .. 2026-11-20 (--days 2): 2026-11-14 .. 2026-11-18 can still be archived with --days 7"
python3 - "$WORK/last.err" <<'PY' || { cat "$WORK/last.err" >&2; fail "logfmt lines"; }
import re, sys
pair = r'[a-z_]+=(?:"(?:[^"\\]|\\.)*"|[^ "=]+)'
line_re = re.compile(r'^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(error|warn|info|debug)( %s)*$' % pair)
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no line"
for line in lines:
    assert line_re.match(line), line
retry = [l for l in lines if "retrying in" in l]
assert len(retry) == 1, lines
assert re.search(r' run=\d+ project=p_sim day=2026-11-19 msg="list page 0', retry[0]), retry[0]
PY

lk --config "$WORK/l.yaml" run --today "$TODAY" --days 2 --log-format json --full --log-level debug
expect_status 0 "run, JSON lines"
python3 - "$WORK/last.err" <<'PY' || { cat "$WORK/last.err" >&2; fail "JSON lines"; }
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert lines, "no line"
for rec in lines:
    assert rec["level"] in ("error", "warn", "info", "debug"), rec
    assert "msg" in rec or "detail" in rec, rec
    assert rec["time"].endswith("Z"), rec
days = [r for r in lines if "day" in r]
assert days, "no line of a day"
assert all(r["project"] == "p_sim" and isinstance(r["run"], int) for r in days), days
PY

lk --config "$WORK/l.yaml" status --today "$TODAY" --log-format text --days 9
expect_status 2 "bad --days, text format"; expect_stderr "^lkarchive: error: --days must be"
lk status --log-format yaml; expect_status 2 "unknown log format"; expect_stderr 'unknown log format'
log "logfmt by default, JSON lines and text on request, with run, project and day"
