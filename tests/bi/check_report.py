#!/usr/bin/env python3
"""check_report.py -- the DOM of `lkarchive report`'s page, as headless Chromium parsed it,
against the livekit_bi views read with psql.

Usage: check_report.py DOM_FILE TODAY DAYS   (the DOM: chromium --headless --dump-dom FILE;
                                              psql on PATH, PG* variables set)
       check_report.py --netlog NETLOG [URL]  (chromium --log-net-log=NETLOG: exit 0 when the
                                              page made no request; with URL, when it made
                                              that one and only that one: a negative control)

Demands: a Content-Security-Policy meta with default-src 'none'; no element that could load or
run anything (script, img, iframe, object, embed, link, audio, video, source, base, form) and
no on* attribute; for every project section, one data point per day of the range in each
chart, each equal to the views (billable minutes, exact minutes rounded to 0.01, sessions,
peak concurrency; 0 on days without a row); this month's cards equal to monthly_usage (with
lkarchive.today = TODAY); the top rooms equal to room_daily_usage summed over the range; the
health calendar equal to the ledger, the gap rule computed here. Exit 0 when all match.
"""
import datetime
import os
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_views import read_copy  # noqa: E402  (COPY text rows)

FORBIDDEN = {"script", "img", "iframe", "object", "embed", "link", "audio", "video", "source",
             "base", "form", "frame", "portal"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.csp, self.bad, self.project = None, [], None
        self.points = defaultdict(dict)  # (project, chart/series) -> {day: value}
        self.cards = {}                  # (project, field) -> value
        self.health = defaultdict(dict)  # project -> {day: health}
        self.rooms = defaultdict(list)   # project -> [[name, minutes, sessions]]
        self.projects, self.chart, self.series, self.table, self.row, self.cell = ([], None,
                                                                                  None, None,
                                                                                  None, None)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in FORBIDDEN:
            self.bad.append("<%s>" % tag)
        self.bad += ["%s on <%s>" % (k, tag) for k in a if k.startswith("on")]
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = a.get("content")
        if tag == "section" and "data-project" in a:
            self.project = a["data-project"]
            self.projects.append(self.project)
        if tag == "svg" and "data-chart" in a:
            self.chart = a["data-chart"]
        if tag == "g" and "data-series" in a:
            self.series = a["data-series"]
        if tag in ("rect", "circle") and "data-day" in a and self.series:
            self.points[(self.project, self.series)][a["data-day"]] = Decimal(a["data-value"])
        if tag == "g" and "data-health" in a:
            self.health[self.project][a["data-day"]] = a["data-health"]
        if tag == "div" and "data-field" in a:
            self.cards[(self.project, a["data-field"])] = a["data-value"]
        if tag == "table":
            self.table = (a.get("class") or "")
        if tag == "tr" and self.table == "rooms":
            self.row = []
        if tag == "td" and self.row is not None:
            self.cell = [a.get("data-value"), ""]
            self.row.append(self.cell)

    def handle_endtag(self, tag):
        if tag == "g":
            self.series = None
        if tag == "svg":
            self.chart = None
        if tag == "tr" and self.row:
            name, minutes, sessions = self.row
            self.rooms[self.project].append([name[1], Decimal(minutes[0]), int(sessions[0])])
            self.row = None
        if tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None and self.row is not None:
            self.cell[1] += data


def psql(sql, today):
    """Rows of sql (COPY text: names with tabs or newlines stay whole)."""
    env = dict(os.environ, PGTZ="UTC", PGOPTIONS="-c lkarchive.today=" + today)
    out = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                          "COPY (%s) TO STDOUT" % sql], check=True, capture_output=True, env=env)
    return [["" if v is None else v for v in r] for r in read_copy(out.stdout.decode("utf-8"))]


def expected_health(project, first, today):
    rows = {r[0]: r[1:] for r in psql(
        "SELECT day, status, COALESCE(pending_reason, '') FROM livekit.archive_days "
        "WHERE project_id = '%s'" % project, today.isoformat())}
    ledger_first = min(rows) if rows else None
    out, day = {}, first
    while day <= today:
        key = day.isoformat()
        status, reason = rows.get(key, (None, ""))
        if status == "complete":
            h = "complete"
        elif (ledger_first and key >= ledger_first and day < today - datetime.timedelta(days=6)
              and reason != "active sessions"):
            h = "gap"
        elif status:
            h = status
        elif ledger_first is None or key < ledger_first:
            h = "before"
        else:
            h = "missing"
        out[key] = h
        day += datetime.timedelta(days=1)
    return out


def check_project(page, p, first, today, problems):
    t, f = today.isoformat(), first.isoformat()
    days = [(first + datetime.timedelta(days=i)).isoformat() for i in range((today - first).days + 1)]
    want = defaultdict(lambda: defaultdict(lambda: Decimal(0)))
    for day, billable, minutes, sessions in psql(
            "SELECT day, billable_connection_minutes, round(participant_minutes, 2), sessions "
            "FROM livekit_bi.daily_billable_usage WHERE project_id = '%s' AND day BETWEEN '%s' "
            "AND '%s'" % (p, f, t), t):
        want["billable_connection_minutes"][day] = Decimal(billable)
        want["participant_minutes"][day] = Decimal(minutes)
        want["sessions"][day] = Decimal(sessions)
    for day, peak in psql("SELECT day, peak_connections FROM livekit_bi.daily_peak_concurrency "
                          "WHERE project_id = '%s' AND day BETWEEN '%s' AND '%s'" % (p, f, t), t):
        want["peak_connections"][day] = Decimal(peak)
    for series in ("billable_connection_minutes", "participant_minutes", "sessions",
                   "peak_connections"):
        got = page.points[(p, series)]
        if sorted(got) != days:
            problems.append("%s %s: %d points, the range has %d days" % (p, series, len(got), len(days)))
        for day in days:
            if got.get(day) != want[series][day]:
                problems.append("%s %s %s: page %s, views %s" % (p, series, day, got.get(day),
                                                                want[series][day]))
    month = psql("SELECT billable_connection_minutes, round(participant_minutes, 2), "
                 "downstream_gb, days_covered, projected_billable_connection_minutes "
                 "FROM livekit_bi.monthly_usage WHERE project_id = '%s' AND month = "
                 "date_trunc('month', '%s'::date)" % (p, t), t)
    fields = ("billable_connection_minutes", "participant_minutes", "downstream_gb",
              "days_covered", "projected_billable_connection_minutes")
    for i, field in enumerate(fields):
        w = month[0][i] if month else None
        g = page.cards.get((p, field))
        if (w or None) != (g or None) and not (w and g and Decimal(w) == Decimal(g)):
            problems.append("%s card %s: page %r, monthly_usage %r" % (p, field, g, w))
    rooms = psql("SELECT COALESCE(room_name, '(no name)'), round(sum(participant_minutes), 2), "
                 "sum(sessions) FROM livekit_bi.room_daily_usage WHERE project_id = '%s' AND day "
                 "BETWEEN '%s' AND '%s' GROUP BY room_name ORDER BY sum(participant_minutes) "
                 "DESC, sum(sessions) DESC, room_name LIMIT 10" % (p, f, t), t)
    got_rooms = page.rooms[p]
    if len(rooms) != len(got_rooms):
        problems.append("%s: %d top rooms on the page, %d in the view" % (p, len(got_rooms), len(rooms)))
    for (name, minutes, sessions), (gname, gmin, gsess) in zip(rooms, got_rooms):
        if Decimal(minutes) != gmin or int(sessions) != gsess:
            problems.append("%s room %r: page %s/%s, view %s/%s" % (p, name[:40], gmin, gsess,
                                                                  minutes, sessions))
    if page.health[p] != expected_health(p, first, today):
        problems.append("%s: the health calendar differs from the ledger: %r" % (
            p, sorted(set(page.health[p].items()) ^ set(expected_health(p, first, today).items()))[:6]))


def page_requests(netlog):
    """The URLs of the requests the page made: Chromium's own (updates, sign-in) carry the
    initiator "not an origin"; a file:// page's carry its opaque origin and its site."""
    import json
    with open(netlog, encoding="utf-8") as f:
        log = json.load(f)
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for e in log["events"]:
        p = e.get("params", {})
        if e["type"] == start and "url" in p and (p.get("initiator") != "not an origin"
                                   or "file://" in p.get("network_isolation_key", "")):
            urls.append(p.get("url"))
    return urls


def main():
    if len(sys.argv) in (3, 4) and sys.argv[1] == "--netlog":
        urls = page_requests(sys.argv[2])
        want = sys.argv[3:]
        print("requests from the page: %r" % urls)
        sys.exit(0 if urls == want else 1)
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    page = Page()
    with open(sys.argv[1], encoding="utf-8") as f:
        page.feed(f.read())
    today = datetime.date.fromisoformat(sys.argv[2])
    first = today - datetime.timedelta(days=int(sys.argv[3]) - 1)
    problems = ["element or attribute that could load or run: " + b for b in page.bad]
    if not page.csp or "default-src 'none'" not in page.csp:
        problems.append("no Content-Security-Policy with default-src 'none': %r" % page.csp)
    for p in page.projects:
        check_project(page, p, first, today, problems)
    for line in problems[:20]:
        print(line)
    print("%d project(s), %d problem(s)" % (len(page.projects), len(problems)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
