#!/usr/bin/env python3
"""check_dashboard.py -- run every query of a Grafana dashboard against the archive.

Usage: check_dashboard.py DASHBOARD.json FROM TO PROJECT   (psql on PATH, PG* variables set)

FROM and TO are the dashboard's time range (RFC 3339, UTC), PROJECT the value of the $project
variable. Every panel (rows' nested panels too) must have at least one target with rawSql;
Grafana's PostgreSQL macros ($__timeFilter(col), $__timeFrom(), $__timeTo(), $__timeGroup(col,
'1d'), $__timeGroupAlias, $__time, $__timeEpoch, $__unixEpochFilter, $__unixEpochFrom/To,
$__interval, $__interval_ms) and the dashboard variables ($project, ${project}, [[project]],
${project:csv|sqlstring|singlequote}) are expanded the way Grafana does; anything still looking
like a macro or variable afterwards is an error. Each query then runs with psql and must
succeed and return at least one row; the query variables' queries too. Exit 0 when all do.
"""
import calendar
import json
import re
import subprocess
import sys
import time

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def epoch(rfc3339):
    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ"))


def seconds(interval):
    m = re.fullmatch(r"'?(\d+)([smhdw])'?", interval.strip())
    if not m:
        raise ValueError("interval %r" % interval)
    return int(m.group(1)) * UNITS[m.group(2)]


def split_args(text):
    return [a.strip() for a in text.split(",")]


def expand(sql, frm, to, variables):
    f, t = "'%s'" % frm, "'%s'" % to

    def call(name, fn):
        nonlocal sql
        pattern = re.compile(r"\$__%s\(([^()]*)\)" % name)
        sql = pattern.sub(lambda m: fn(split_args(m.group(1)) if m.group(1).strip() else []), sql)

    call("timeFilter", lambda a: "%s BETWEEN %s AND %s" % (a[0], f, t))
    call("timeFrom", lambda a: f)
    call("timeTo", lambda a: t)
    call("timeGroupAlias", lambda a: "floor(extract(epoch from %s)/%d)*%d AS \"time\"" % (
        a[0], seconds(a[1]), seconds(a[1])))
    call("timeGroup", lambda a: "floor(extract(epoch from %s)/%d)*%d" % (
        a[0], seconds(a[1]), seconds(a[1])))
    call("timeEpoch", lambda a: "extract(epoch from %s) AS \"time\"" % a[0])
    call("time", lambda a: "%s AS \"time\"" % a[0])
    call("unixEpochFilter", lambda a: "%s >= %d AND %s <= %d" % (a[0], epoch(frm), a[0], epoch(to)))
    call("unixEpochFrom", lambda a: str(epoch(frm)))
    call("unixEpochTo", lambda a: str(epoch(to)))
    sql = sql.replace("$__interval_ms", str(86400 * 1000)).replace("$__interval", "1d")
    for name, values in variables.items():
        quoted = ",".join("'%s'" % v.replace("'", "''") for v in values)
        forms = {"csv": ",".join(values), "sqlstring": quoted, "singlequote": quoted}
        sql = re.sub(r"\$\{%s:(\w+)\}" % name, lambda m: forms[m.group(1)], sql)
        sql = sql.replace("${%s}" % name, quoted).replace("[[%s]]" % name, quoted)
        sql = re.sub(r"\$%s\b" % name, quoted, sql)
    left = re.findall(r"\$__\w+|\$\{\w+(?::\w+)?\}|\[\[\w+\]\]|\$[A-Za-z_]\w*", sql)
    if left:
        raise ValueError("not expanded: %s" % ", ".join(sorted(set(left))))
    return sql


def run(sql):
    out = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c",
                          "SELECT count(*) FROM (%s) q" % sql],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return int(out.stdout.strip())


def panels_of(dashboard):
    for p in dashboard.get("panels", []):
        yield p
        for inner in p.get("panels", []):
            yield inner


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    path, frm, to, project = sys.argv[1:]
    with open(path, encoding="utf-8") as f:
        dashboard = json.load(f)
    variables = {"project": [project]}
    failures, checked = 0, 0
    queries = []
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            queries.append(("variable $%s" % v["name"], q))
    for p in panels_of(dashboard):
        if p.get("type") == "row":
            continue
        sqls = [t.get("rawSql", "").strip() for t in p.get("targets", [])]
        sqls = [s for s in sqls if s]
        if not sqls:
            print("FAIL panel %r: no SQL" % p.get("title"))
            failures += 1
            continue
        for s in sqls:
            queries.append(("panel %r" % p.get("title"), s))
    for what, sql in queries:
        checked += 1
        expanded = None
        try:
            expanded = expand(sql, frm, to, variables)
            rows = run(expanded)
        except (RuntimeError, ValueError) as e:
            print("FAIL %s: %s\n%s" % (what, e, expanded or sql))
            failures += 1
            continue
        if rows == 0:
            print("FAIL %s: no rows\n%s" % (what, expanded))
            failures += 1
        else:
            print("ok   %s: %d row(s)" % (what, rows))
    print("%d queries, %d failed" % (checked, failures))
    sys.exit(1 if failures or checked == 0 else 0)


if __name__ == "__main__":
    main()
