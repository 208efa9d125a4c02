#!/usr/bin/env python3
"""check_views.py -- the livekit_bi views against figures computed here from the simulator.

Usage: check_views.py EXPECTED_DIR   (psql on PATH, PG* variables set)

Reads the simulator's expected rows (sessions.tsv, participants.tsv,
participant_connections.tsv: tests/sim/README.md), computes every per-day view of
interface.md's "Analytics views" in plain Python (integer microseconds, exact fractions:
none of the SQL of sql/ or tests/bi/reference.sql), reads the views with psql and demands
the same rows: every key, every column. Timestamps are rounded to microseconds the way
PostgreSQL reads them (rint of the fraction times 10^6). It also demands that the dataset
holds the cases the definitions care about (sessions across midnight, open connections,
active sessions, sessions without participants, identities in several sessions of a day),
so a change of the simulator cannot silently drop them. Exit 0 when everything matches.
"""
import calendar
import datetime
import os
import re
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

DAY_US = 86400 * 10**6
EPOCH = datetime.date(1970, 1, 1)
TS = re.compile(r"^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?(?:\+00|Z|\+00:00)$")


def unescape(field):
    """One COPY TEXT field: None for \\N, escapes decoded."""
    if field == "\\N":
        return None
    if "\\" not in field:
        return field
    out, i = [], 0
    table = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "\\": "\\"}
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field):
            out.append(table.get(field[i + 1], field[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def read_copy(text):
    return [[unescape(f) for f in line.split("\t")] for line in text.split("\n") if line != ""]


def ts(text):
    """'YYYY-MM-DD HH:MM:SS[.f]+00' -> microseconds since the epoch (PostgreSQL's rounding)."""
    if text is None:
        return None
    m = TS.match(text)
    if not m:
        raise ValueError("unexpected timestamp %r" % text)
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    frac = m.group(7)
    us = round(float("0" + frac) * 1000000) if frac else 0  # rint(), as PostgreSQL
    return (calendar.timegm((y, mo, d, h, mi, s)) * 10**6) + us


def day_of(us):
    return EPOCH + datetime.timedelta(days=us // DAY_US)


def day_start(day):
    return (day - EPOCH).days * DAY_US


def num(text):
    return None if text is None else Fraction(Decimal(text))


def boolean(text):
    return None if text is None else text == "t"


def load(expected_dir):
    def rows(name):
        with open(os.path.join(expected_dir, name), encoding="utf-8", newline="\n") as f:
            return read_copy(f.read())

    sessions = {}
    for r in rows("sessions.tsv"):
        (project, sid, room, created, ended, last_active, bw_in, bw_out, egress, _np, _na,
         start, end, bw, minutes, _dnp, _list_day, _extra) = r
        sessions[(project, sid)] = dict(
            project=project, id=sid, room=room, created=ts(created), ended=ts(ended),
            last_active=ts(last_active), bw_in=num(bw_in), bw_out=num(bw_out),
            egress=None if egress is None else int(egress), start=ts(start), end=ts(end),
            bw=num(bw), minutes=num(minutes))
    participants = []
    for r in rows("participants.tsv"):
        project, sid, identity, _name, joined, left, region, ctype, sdk, cam, mic, ss, ssa, _x = r
        participants.append(dict(
            project=project, session=sid, identity=identity, joined=ts(joined), left=ts(left),
            region=region, ctype=ctype, sdk=sdk, camera=boolean(cam), microphone=boolean(mic),
            screen_share=boolean(ss), screen_share_audio=boolean(ssa)))
    connections = []
    for r in rows("participant_connections.tsv"):
        project, sid, cid, identity, joined, left, _x = r
        connections.append(dict(project=project, session=sid, id=cid, identity=identity,
                                joined=ts(joined), left=ts(left)))
    return sessions, participants, connections


def first(*values):
    for v in values:
        if v is not None:
            return v
    return None


def total(values):
    """SQL sum(): None when every value is None."""
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def compute(sessions, participants, connections):
    for s in sessions.values():
        begin = first(s["start"], s["created"])
        s["day"] = None if begin is None else day_of(begin)
        finish = first(s["end"], s["ended"])
        s["duration"] = None if begin is None or finish is None else finish - begin
    for c in connections:
        s = sessions[(c["project"], c["session"])]
        end = first(c["left"], s["end"], s["ended"], s["last_active"])
        c["interval"] = ((c["joined"], end) if c["joined"] is not None and end is not None
                         and end > c["joined"] else None)
        c["us"] = c["interval"][1] - c["interval"][0] if c["interval"] else None
    by_participant = defaultdict(list)
    by_session_conn = defaultdict(list)
    for c in connections:
        by_participant[(c["project"], c["session"], c["identity"])].append(c)
        by_session_conn[(c["project"], c["session"])].append(c)
    by_session_part = defaultdict(list)
    for p in participants:
        by_session_part[(p["project"], p["session"])].append(p)
        p["conns"] = by_participant[(p["project"], p["session"], p["identity"])]

    def minutes(conns):
        return Fraction(sum(c["us"] for c in conns if c["us"] is not None), 60 * 10**6)

    views = defaultdict(dict)
    day_sessions = defaultdict(list)
    for s in sessions.values():
        if s["day"] is not None:
            day_sessions[(s["project"], s["day"])].append(s)
    for (project, day), group in day_sessions.items():
        parts = [p for s in group for p in by_session_part[(project, s["id"])]]
        conns = [c for s in group for c in by_session_conn[(project, s["id"])]]
        views["daily_usage"][(project, day)] = [
            len(group), len({p["identity"] for p in parts}), len(conns),
            total(s["minutes"] for s in group), minutes(conns),
            total(s["bw_in"] for s in group), total(s["bw_out"] for s in group),
            total(s["bw"] for s in group),
            sum(1 for s in group if s["egress"] is not None and s["egress"] > 0)]
        views["publishing_mix"][(project, day)] = [
            len(parts)] + [sum(1 for p in parts if p[k] is True)
                           for k in ("camera", "microphone", "screen_share", "screen_share_audio")]
        rooms = defaultdict(list)
        for s in group:
            rooms[s["room"]].append(s)
        for room, rs in rooms.items():
            rparts = [p for s in rs for p in by_session_part[(project, s["id"])]]
            rconns = [c for s in rs for c in by_session_conn[(project, s["id"])]]
            views["room_daily_usage"][(project, day, room)] = [
                len(rs), len({p["identity"] for p in rparts}), total(s["minutes"] for s in rs),
                minutes(rconns), total(s["bw"] for s in rs)]
        identities = defaultdict(list)
        for p in parts:
            identities[p["identity"]].append(p)
        for identity, ps in identities.items():
            pconns = [c for p in ps for c in p["conns"]]
            joined = [p["joined"] for p in ps if p["joined"] is not None]
            left = [p["left"] for p in ps if p["left"] is not None]
            views["participant_daily_usage"][(project, day, identity)] = [
                len(ps), len(pconns), minutes(pconns), min(joined) if joined else None,
                max(left) if left else None]
        for name, key in (("usage_by_region", "region"), ("usage_by_sdk", "sdk"),
                          ("usage_by_connection_type", "ctype")):
            groups = defaultdict(list)
            for p in parts:
                groups[p[key]].append(p)
            for value, ps in groups.items():
                views[name][(project, day, value)] = [
                    len(ps), minutes([c for p in ps for c in p["conns"]])]
        buckets = defaultdict(int)
        for s in group:
            d = s["duration"]
            if d is None or d < 0:
                continue
            low = max(b for b in (0, 1, 5, 15, 30, 60, 120) if d >= b * 60 * 10**6)
            buckets[low] += 1
        labels = {0: "0-1", 1: "1-5", 5: "5-15", 15: "15-30", 30: "30-60", 60: "60-120",
                  120: "120+"}
        for low, n in buckets.items():
            views["session_duration_histogram"][(project, day, labels[low])] = [low, n]

    # peak: clip every interval to each UTC day it overlaps, then sweep each day's events in
    # time order, ends before starts at the same instant (half-open intervals)
    events = defaultdict(list)
    for c in connections:
        if c["interval"] is None:
            continue
        lo, hi = c["interval"]
        day = day_of(lo)
        while day_start(day) < hi:
            a, b = max(lo, day_start(day)), min(hi, day_start(day) + DAY_US)
            events[(c["project"], day)] += [(a, 1), (b, -1)]
            day += datetime.timedelta(days=1)
    for key, evs in events.items():
        open_now, best, best_at = 0, -1, None
        for t, delta in sorted(evs):  # (t, -1) sorts before (t, 1)
            open_now += delta
            if open_now > best:
                best, best_at = open_now, t
        views["daily_peak_concurrency"][key] = [best, best_at]
    return views


COLUMNS = {
    "daily_usage": ("day", "sessions participants connections connection_minutes "
                    "participant_minutes bandwidth_in bandwidth_out bandwidth egress_sessions"),
    "room_daily_usage": ("day room_name", "sessions participants connection_minutes "
                         "participant_minutes bandwidth"),
    "participant_daily_usage": ("day participant_identity", "sessions connections "
                                "participant_minutes first_joined_at last_left_at"),
    "daily_peak_concurrency": ("day", "peak_connections peak_at"),
    "session_duration_histogram": ("day bucket", "bucket_min_minutes sessions"),
    "publishing_mix": ("day", "participants camera microphone screen_share screen_share_audio"),
    "usage_by_region": ("day region", "participants participant_minutes"),
    "usage_by_sdk": ("day sdk_version", "participants participant_minutes"),
    "usage_by_connection_type": ("day connection_type", "participants participant_minutes"),
}
TIME_COLUMNS = {"first_joined_at", "last_left_at", "peak_at"}


def read_view(name):
    keys, values = (c.split() for c in COLUMNS[name])
    sql = "COPY (SELECT project_id, %s FROM livekit_bi.%s) TO STDOUT" % (
        ", ".join(keys + values), name)
    env = dict(os.environ, PGTZ="UTC")
    text = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=True, capture_output=True, env=env).stdout.decode("utf-8")
    rows = {}
    for r in read_copy(text):
        key = (r[0], datetime.date.fromisoformat(r[1])) + tuple(r[2:1 + len(keys)])
        vals = []
        for col, v in zip(values, r[1 + len(keys):]):
            vals.append(ts(v) if col in TIME_COLUMNS else num(v))
        if key in rows:
            raise SystemExit("livekit_bi.%s: key %r twice" % (name, key))
        rows[key] = vals
    return values, rows


def round2(x):
    """x rounded to 0.01, half away from zero, as PostgreSQL's round(numeric, 2)."""
    q = abs(Fraction(x)) * 100
    n = int(q) + (1 if q - int(q) >= Fraction(1, 2) else 0)
    return Fraction(n if x >= 0 else -n, 100)


def same(a, b, col=""):
    if a is None or b is None:
        return a is None and b is None
    if col.endswith("minutes") and col != "bucket_min_minutes":
        return Fraction(b) == round2(a)  # the views round minutes to 0.01
    return abs(Fraction(a) - Fraction(b)) <= Fraction(1, 10**9)


def check_coverage(sessions, participants, connections):
    """The dataset must hold the cases the definitions are about."""
    days_of_session = defaultdict(set)
    for c in connections:
        if c["interval"]:
            lo, hi = c["interval"]
            if day_of(lo) != day_of(hi - 1):
                days_of_session[c["session"]].add(True)
    per_day_identity = defaultdict(int)
    for p in participants:
        s = sessions[(p["project"], p["session"])]
        per_day_identity[(p["project"], s["day"], p["identity"])] += 1
    with_parts = {(p["project"], p["session"]) for p in participants}
    cases = {
        "a connection interval across midnight": bool(days_of_session),
        "a connection without left_at": any(c["left"] is None for c in connections),
        "an active session (no ended_at)": any(s["ended"] is None for s in sessions.values()),
        "a session with no participants": any(k not in with_parts for k in sessions),
        "an identity in several sessions of a day": any(n > 1 for n in per_day_identity.values()),
        "a NULL region": any(p["region"] is None for p in participants),
    }
    missing = [name for name, present in cases.items() if not present]
    if missing:
        raise SystemExit("the dataset lacks: " + "; ".join(missing))


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sessions, participants, connections = load(sys.argv[1])
    views = compute(sessions, participants, connections)
    check_coverage(sessions, participants, connections)
    failures = 0
    for name in COLUMNS:
        columns, got = read_view(name)
        want = views[name]
        bad = []
        for key in sorted(set(want) | set(got), key=repr):
            if key not in got:
                bad.append("missing row %r: expected %r" % (key, want[key]))
            elif key not in want:
                bad.append("unexpected row %r: %r" % (key, got[key]))
            else:
                for col, w, g in zip(columns, want[key], got[key]):
                    if not same(w, g, col):
                        bad.append("%r %s: view %s, expected %s" % (
                            key, col, g if g is None else float(g), w if w is None else float(w)))
        if bad:
            failures += 1
            print("livekit_bi.%s: %d difference(s), first ones:" % (name, len(bad)))
            for line in bad[:5]:
                print("  " + line)
        else:
            print("livekit_bi.%s: %d rows match" % (name, len(want)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
