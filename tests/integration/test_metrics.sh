#!/usr/bin/env bash
# run --metrics-file (and metrics_file) writes a Prometheus textfile atomically: HELP and TYPE
# for every metric, names and labels as Prometheus asks, the ledger's days per project, rows
# written per table, requests by HTTP status, retries, duration; a failed run says so and
# keeps the last success, also when the database is down. Parsed by a small exposition-format
# parser and by promtool (ci/deps.sh installs it).
source "$(dirname "$0")/lib.sh"

TODAY=2026-11-20
pg_start
sim_start --today "$TODAY" --seed 5 --days 7 --sessions-per-day 4 --participants 2 --connections 2 \
    --fault "503:match=page=0&limit=100&start=2026-11-19,times=2"
mkdir -p "$WORK/prom"
fast_retry_config "$WORK/m.yaml" "metrics_file: $WORK/prom/from-config.prom"

check_metrics() { # FILE EXPECTATIONS...: parse FILE, then check each "name{labels} op value"
    python3 - "$@" <<'PY'
import re, sys
path, checks = sys.argv[1], sys.argv[2:]
name_re = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*$')
sample_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
helps, types, samples = {}, {}, {}
for n, line in enumerate(open(path), 1):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        name, text = line[7:].split(" ", 1)
        assert name_re.match(name) and text, (n, line)
        helps[name] = text
    elif line.startswith("# TYPE "):
        name, kind = line[7:].split(" ")
        assert kind in ("gauge", "counter"), (n, line)
        assert name in helps, ("TYPE before HELP", n, line)
        types[name] = kind
    else:
        m = sample_re.match(line)
        assert m, ("not a sample", n, line)
        name, labels = m.group(1), m.group(3) or ""
        assert name in types, ("sample without TYPE", n, line)
        pairs = label_re.findall(labels)
        assert "".join('%s="%s"%s' % p for p in pairs) == labels, ("bad labels", n, line)
        key = name + "{" + ",".join('%s="%s"' % (k, v) for k, v, _ in pairs) + "}"
        assert key not in samples, ("duplicate", n, line)
        samples[key] = float(m.group(4))
for name, kind in types.items():
    assert name.startswith("lkarchive_"), name
    assert name.endswith("_total") == (kind == "counter"), ("_total is for counters", name)
    assert any(k.startswith(name + "{") for k in samples) or name == "lkarchive_runs_running", ("no sample", name)
for check in checks:
    key, op, want = check.rsplit(" ", 2)
    got = samples.get(key)
    assert got is not None, ("missing", key, sorted(samples))
    ok = {"=": got == float(want), ">": got > float(want), ">=": got >= float(want)}[op]
    assert ok, (key, got, op, want)
PY
}

lk --config "$WORK/m.yaml" run --today "$TODAY" --metrics-file "$WORK/prom/lkarchive.prom"
expect_status 0 "run with --metrics-file"
[ -f "$WORK/prom/lkarchive.prom" ] || fail "no metrics file"
[ ! -e "$WORK/prom/from-config.prom" ] || fail "--metrics-file did not override metrics_file"
[ "$(ls "$WORK/prom")" = "lkarchive.prom" ] || fail "temporary files left: $(ls "$WORK/prom")"
sessions=$(psql_q "SELECT count(*) FROM livekit.sessions")
participants=$(psql_q "SELECT count(*) FROM livekit.participants")
connections=$(psql_q "SELECT count(*) FROM livekit.participant_connections")
check_metrics "$WORK/prom/lkarchive.prom" \
    'lkarchive_day_statuses{project="p_sim",status="complete"} = 6' \
    'lkarchive_day_statuses{project="p_sim",status="pending"} = 1' \
    'lkarchive_day_statuses{project="p_sim",status="gap"} = 0' \
    'lkarchive_last_success_timestamp_seconds{project="p_sim"} > 1700000000' \
    "lkarchive_last_run_rows_written{table=\"sessions\"} >= $sessions" \
    "lkarchive_last_run_rows_written{table=\"participants\"} = $participants" \
    "lkarchive_last_run_rows_written{table=\"participant_connections\"} = $connections" \
    'lkarchive_last_run_requests{code="200"} >= 35' \
    'lkarchive_last_run_requests{code="503"} = 2' \
    'lkarchive_last_run_retries{} = 2' \
    'lkarchive_last_run_exit_status{} = 0' \
    'lkarchive_last_run_duration_seconds{} > 0' \
    'lkarchive_runs_total{status="ok"} = 1' \
    'lkarchive_requests_total{} >= 37' || { cat "$WORK/prom/lkarchive.prom" >&2; fail "metrics file"; }
promtool_check() { promtool check metrics <"$1" || fail "promtool rejects $1"; }
promtool_check "$WORK/prom/lkarchive.prom"
grep -q '^lkarchive_runs_total{status="running"}' "$WORK/prom/lkarchive.prom" &&
    fail "runs still running are a gauge, not a counter"
success=$(grep '^lkarchive_last_success_timestamp_seconds' "$WORK/prom/lkarchive.prom")

# from the config file; a failed run says so and keeps the last success
sim_stop
(export LIVEKIT_ANALYTICS_URL="http://127.0.0.1:9"
 lk --config "$WORK/m.yaml" run --today "$TODAY" --days 3; expect_status 4 "run with the API unreachable"
 # the closing line counts the days by what the ledger now says of them
 expect_stderr "3 days were not archived completely by this run: 2 stay complete (archived by an earlier run), 1 failed;")
check_metrics "$WORK/prom/from-config.prom" \
    'lkarchive_last_run_exit_status{} = 4' \
    'lkarchive_last_run_requests{code="0"} >= 1' \
    'lkarchive_runs_total{status="incomplete"} = 1' || { cat "$WORK/prom/from-config.prom" >&2; fail "metrics of a failed run"; }
grep -qx "$success" "$WORK/prom/from-config.prom" || fail "a failed run changed the last success"
promtool_check "$WORK/prom/from-config.prom"

# a directory that cannot be written: a warning, the run's outcome stands
sim_start --today "$TODAY" --seed 5 --days 7 --sessions-per-day 4 --participants 2 --connections 2
lk --config "$WORK/m.yaml" run --today "$TODAY" --metrics-file "$WORK/nowhere/x.prom"
expect_status 0 "unwritable metrics file"; expect_stderr "could not create the metrics file"

# the database down: the ledger's figures of the last file stay, so the staleness alert fires
lk --config "$WORK/m.yaml" run --today "$TODAY" --days 1
expect_status 0 "run before the outage"
ledger_lines() { grep -E '^lkarchive_(last_success_timestamp_seconds|day_statuses|at_risk|runs_total|requests_total)' "$1"; }
before=$(ledger_lines "$WORK/prom/from-config.prom")
[ "$(grep -c 'project="p_sim"' <<<"$before")" -eq 8 ] || fail "ledger figures missing: $before"
pg_stop
lk --config "$WORK/m.yaml" run --today "$TODAY" --days 1
expect_status 5 "run with the database down"
[ "$(ledger_lines "$WORK/prom/from-config.prom")" = "$before" ] ||
    { cat "$WORK/prom/from-config.prom" >&2; fail "the database outage lost the ledger's figures"; }
grep -qx 'lkarchive_last_run_exit_status 5' "$WORK/prom/from-config.prom" || fail "exit status 5 not in the file"
promtool_check "$WORK/prom/from-config.prom"
log "metrics file written atomically, parsed and checked"
