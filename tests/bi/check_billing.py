#!/usr/bin/env python3
"""check_billing.py -- livekit_bi.daily_billable_usage and monthly_usage against figures
computed here, in plain Python, from rows read independently of the rollup.

Usage: check_billing.py EXPECTED_DIR TODAY     (the simulator's expected rows)
       check_billing.py --tables PROJECT TODAY (the base tables' rows of one project, read
                                                 with psql: for hand-made fixtures)
(psql on PATH, PG* variables set.) Per connection interval (interface.md: joined_at to
left_at, or to its session's COALESCE(end_time, ended_at, last_active); none when it does not
end after it starts) the billable minutes are ceil(microseconds / 60,000,000), summed per
session day; downstream is each session's bandwidth_out rounded up to 10^7 bytes (0.01 GB).
Months: the sum of their days; for TODAY's month a projection from the complete days before
TODAY (from the month's first day, or the archive's first day, whichever is later: the
ledger's first day, else the first day with sessions) times the days of the month, never
below the month so far. Exit 0 when every row and column matches.
"""
import calendar
import datetime
import os
import subprocess
import sys
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_views as cv  # noqa: E402  (its readers of COPY text and timestamps)


def psql(sql, today=None):
    env = dict(os.environ, PGTZ="UTC")
    if today:
        env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c lkarchive.today=" + today).strip()
    out = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                          "COPY (%s) TO STDOUT" % sql], check=True, capture_output=True, env=env)
    return cv.read_copy(out.stdout.decode("utf-8"))


def load_tables(project):
    sessions, connections = {}, []
    for r in psql("SELECT project_id, session_id, created_at, ended_at, last_active, "
                  "bandwidth_out, start_time, end_time FROM livekit.sessions "
                  "WHERE project_id = '%s'" % project):
        p, sid, created, ended, last, bw_out, start, end = r
        sessions[(p, sid)] = dict(project=p, id=sid, created=cv.ts(created), ended=cv.ts(ended),
                                  last_active=cv.ts(last), bw_out=cv.num(bw_out),
                                  start=cv.ts(start), end=cv.ts(end))
    for r in psql("SELECT project_id, session_id, joined_at, left_at "
                  "FROM livekit.participant_connections WHERE project_id = '%s'" % project):
        p, sid, joined, left = r
        connections.append(dict(project=p, session=sid, joined=cv.ts(joined), left=cv.ts(left)))
    return sessions, connections


def ceil_div(a, b):
    return -(-a // b)


def daily(sessions, connections):
    """(project, day) -> [billable minutes, exact minutes, centi-GB, sessions]"""
    days = defaultdict(lambda: [0, Fraction(0), 0, 0])
    for s in sessions.values():
        begin = cv.first(s["start"], s["created"])
        s["day"] = None if begin is None else cv.day_of(begin)
        if s["day"] is None:
            continue
        row = days[(s["project"], s["day"])]
        row[3] += 1
        if s["bw_out"] is not None:
            row[2] += ceil_div(int(s["bw_out"]), 10**7)
    for c in connections:
        s = sessions[(c["project"], c["session"])]
        end = cv.first(c["left"], s["end"], s["ended"], s["last_active"])
        if s["day"] is None or c["joined"] is None or end is None or end <= c["joined"]:
            continue
        us = end - c["joined"]
        row = days[(s["project"], s["day"])]
        row[0] += ceil_div(us, 60 * 10**6)
        row[1] += Fraction(us, 60 * 10**6)
    return days


def monthly(days, today, ledger_first):
    months = defaultdict(lambda: dict(billable=0, minutes=Fraction(0), centi=0, covered=0,
                                      billable_before=0, centi_before=0, first=None))
    for (project, day), (billable, minutes, centi, _n) in days.items():
        m = months[(project, day.replace(day=1))]
        m["billable"] += billable
        m["minutes"] += minutes
        m["centi"] += centi
        m["covered"] += 1
        m["first"] = day if m["first"] is None else min(m["first"], day)
        if day < today:
            m["billable_before"] += billable
            m["centi_before"] += centi
    out = {}
    for (project, month), m in months.items():
        length = calendar.monthrange(month.year, month.month)[1]
        projected = projected_gb = None
        if month == today.replace(day=1):
            firsts = [d for d in (m["first"], ledger_first.get(project)) if d is not None]
            n = (today - max(month, min(firsts))).days
            if n > 0:
                projected = max(m["billable"], half_up(Fraction(m["billable_before"] * length, n)))
                projected_gb = Fraction(max(m["centi"], ceil_div(m["centi_before"] * length, n)),
                                        100)
        out[(project, month)] = [m["billable"], m["minutes"], Fraction(m["centi"], 100),
                                 m["covered"], projected, length, projected_gb]
    return out


def half_up(f):
    return int(Decimal(f.numerator / Decimal(f.denominator)).quantize(Decimal(1), ROUND_HALF_UP))


def compare(name, want, got):
    bad = []
    for key in sorted(set(want) | set(got), key=repr):
        w, g = want.get(key), got.get(key)
        if w is None or g is None:
            bad.append("%r: view %r, expected %r" % (key, g, w))
        elif any(not cv.same(a, b) for a, b in zip(w, g)):
            bad.append("%r: view %s, expected %s" % (
                key, [None if x is None else float(x) for x in g],
                [None if x is None else float(x) for x in w]))
    if bad:
        print("livekit_bi.%s: %d difference(s), first ones:" % (name, len(bad)))
        for line in bad[:6]:
            print("  " + line)
        return 1
    print("livekit_bi.%s: %d rows match" % (name, len(want)))
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--tables":
        project, today = sys.argv[2], sys.argv[3]
        sessions, connections = load_tables(project)
        where = " WHERE project_id = '%s'" % project
    elif len(sys.argv) == 3:
        today = sys.argv[2]
        sessions, _p, connections = cv.load(sys.argv[1])
        where = ""
    else:
        raise SystemExit(__doc__)
    today_d = datetime.date.fromisoformat(today)
    days = daily(sessions, connections)
    ledger_first = {r[0]: datetime.date.fromisoformat(r[1]) for r in psql(
        "SELECT project_id, min(day) FROM livekit.archive_days GROUP BY 1")}
    want_days = {k: [v[0], v[1], Fraction(v[2], 100), v[3]] for k, v in days.items()}
    got_days = {(r[0], datetime.date.fromisoformat(r[1])): [cv.num(x) for x in r[2:]]
                for r in psql("SELECT project_id, day, billable_connection_minutes, "
                              "participant_minutes, downstream_gb, sessions "
                              "FROM livekit_bi.daily_billable_usage" + where)}
    got_months = {(r[0], datetime.date.fromisoformat(r[1])): [cv.num(x) for x in r[2:]]
                  for r in psql("SELECT project_id, month, billable_connection_minutes, "
                                "participant_minutes, downstream_gb, days_covered, "
                                "projected_billable_connection_minutes, days_in_month, "
                                "projected_downstream_gb FROM livekit_bi.monthly_usage" + where,
                                today)}
    failures = compare("daily_billable_usage", want_days, got_days)
    failures += compare("monthly_usage", monthly(days, today_d, ledger_first), got_months)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
