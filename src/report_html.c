/* report_html.c -- the report's page: one HTML document, self-contained. A header with the
 * range and the projects, then per project the month's billing estimate, the daily charts
 * (report_svg.c), the top rooms, the SDK, region and connection-type mix, the months and the
 * archive's health calendar. Every string from the archive is escaped (report_fmt.c); the
 * Content-Security-Policy forbids every request (default-src 'none'; inline styles only), so
 * the file opens the same offline, in a mail attachment or on a phone. Figures are in data-
 * attributes as the database wrote them, for tests and for scraping.
 */
#include "report.h"
#include "report_internal.h"

#include <stdio.h>
#include <string.h>

#include "date.h"
#include "store_report.h"

#ifndef LK_VERSION
#define LK_VERSION "dev"
#endif

static const char css[] =
    ":root{--ink:#1d1d1f;--muted:#5f6368;--line:#d0d4d9;--card:#f6f7f9}"
    "*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',"
    "Roboto,sans-serif;color:var(--ink);background:#fff}"
    "main,header,footer{max-width:1040px;margin:0 auto;padding:0 16px}"
    "header{padding-top:20px}h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.3em;margin:32px "
    "0 8px;border-bottom:2px solid var(--ink);padding-bottom:4px}h3{font-size:1.05em;margin:22px "
    "0 6px}.muted{color:var(--muted)}nav a{margin-right:12px}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:10px}"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}"
    ".card .v{font-size:1.5em;font-weight:650;font-variant-numeric:tabular-nums;"
    "overflow-wrap:anywhere}"
    ".card .k{font-size:.85em;color:var(--muted)}"
    ".chartbox{overflow-x:auto}svg.chart{width:100%;height:auto;display:block}svg.calendar{width:"
    "100%;height:auto}"
    "svg .grid{stroke:#e3e6ea;stroke-width:1}svg .tick{font-size:11px;fill:var(--muted)}"
    "svg .unit{font-size:12px;fill:var(--ink)}svg .bars rect{stroke:#333;stroke-width:.4}"
    "svg .line{fill:none;stroke:#111;stroke-width:1.6;stroke-dasharray:5 2}"
    "svg .points circle{fill:#111}svg.calendar text{font-size:11px;font-weight:700;fill:#fff}"
    "svg.calendar .missing rect{stroke:#555;stroke-dasharray:2 1}svg.calendar .missing text,"
    "svg.calendar .pending text{fill:#111}svg.calendar text.tick{fill:var(--muted);font-weight:400}"
    ".legend{font-size:.85em;color:var(--muted);margin:2px 0 6px}.legend span{margin-right:14px;"
    "white-space:nowrap}.legend svg{vertical-align:-2px;margin-right:4px}"
    ".cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:18px}"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.92em}"
    "th,td{padding:4px 6px;border-bottom:1px solid var(--line);text-align:left;"
    "vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}td.name{word-break:break-word}.bar{display:block;height:6px;"
    "background:repeating-linear-gradient(45deg,#1f5f9e 0 2px,#cfe0f3 2px 5px);"
    "border:1px solid #1f5f9e;margin-top:2px;min-width:1px}"
    ".empty{padding:12px;border:1px dashed var(--line);border-radius:8px;color:var(--muted)}"
    "footer{font-size:.85em;color:var(--muted);margin:36px auto 24px}"
    "@media (max-width:600px){body{font-size:14px}.card .v{font-size:1.25em}"
    "svg.chart{min-width:560px}}"
    "@media print{body{font-size:10pt;-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "nav{display:none}svg.chart{min-width:0}section.project+section.project{break-before:page}"
    ".card,table,svg{break-inside:avoid}h2,h3{break-after:avoid}a{color:inherit;"
    "text-decoration:none}}";

static void head(FILE *out, const struct report_data *data)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src 'none'; font-src 'none'; connect-src 'none'; "
          "script-src 'none'; base-uri 'none'; form-action 'none'\">\n"
          "<meta name=\"referrer\" content=\"no-referrer\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
          out);
    fprintf(out, "<title>LiveKit usage %s to %s</title>\n<style>%s</style></head>\n",
            data->first_day, data->today, css);
}

/* The page's header: range, how it was made, links to the projects. */
static void header(FILE *out, const struct report_data *data, const char *generated_at)
{
    char a[32], b[32];

    report_fmt_day(a, sizeof a, data->first_day, 0);
    report_fmt_day(b, sizeof b, data->today, 0);
    fprintf(out,
            "<body>\n<header><h1>LiveKit usage</h1><p class=\"muted\" data-first-day=\"%s\" "
            "data-today=\"%s\">UTC days %s to %s. Made by lkarchive %s at %s from its archive. "
            "Billing figures are <strong>estimates</strong>, not LiveKit's invoice.</p><nav>",
            data->first_day, data->today, a, b, LK_VERSION, generated_at);
    for (size_t i = 0; i < data->count; i++) {
        fprintf(out, "<a href=\"#project-%zu\">", i + 1);
        report_escape(out, data->projects[i].project, 60);
        fputs("</a>", out);
    }
    fputs("</nav></header>\n<main>\n", out);
}

/* A card: a figure, what it is, and the exact value in data- attributes. */
static void card(FILE *out, const char *field, const char *value_text, const char *shown,
                 const char *what)
{
    fprintf(out,
            "<div class=\"card\" data-field=\"%s\" data-value=\"%s\"><div class=\"v\">%s</div>"
            "<div class=\"k\">%s</div></div>",
            field, value_text, shown, what);
}

/* This month's estimate: the months row of today's month, when there is one. */
static void billing(FILE *out, const struct report_data *data, const struct report_project *p)
{
    const struct report_month *m = NULL;
    char shown[96], what[160], gb[48];

    for (size_t i = 0; i < p->month_count; i++)
        if (strncmp(p->months[i].month, data->today, 7) == 0)
            m = &p->months[i];
    fputs("<h3>This month: what LiveKit will bill (estimate)</h3>\n", out);
    if (m == NULL) {
        fputs("<p class=\"empty\">No sessions archived this month yet.</p>\n", out);
        return;
    }
    fprintf(out, "<div class=\"cards\" data-month=\"%s\">", m->month);
    report_fmt(shown, sizeof shown, m->billable.value, 0);
    card(out, "billable_connection_minutes", m->billable.text, shown,
         "billable connection minutes so far (each connection rounded up to a minute)");
    if (m->projected_set) {
        report_fmt(shown, sizeof shown, m->projected.value, 0);
        snprintf(what, sizeof what,
                 "projected by the month's end (linear, from %.0f complete day%s)",
                 m->projection_days.value, m->projection_days.value == 1 ? "" : "s");
        card(out, "projected_billable_connection_minutes", m->projected.text, shown, what);
    } else {
        card(out, "projected_billable_connection_minutes", "", "&mdash;",
             "no projection yet: no complete day archived this month");
    }
    report_fmt(shown, sizeof shown, m->minutes.value, 0);
    card(out, "participant_minutes", m->minutes.text, shown, "participant minutes (exact)");
    report_fmt(gb, sizeof gb, m->gb.value, 2);
    snprintf(shown, sizeof shown, "%s GB", gb);
    if (m->projected_set) {
        report_fmt(gb, sizeof gb, m->projected_gb.value, 2);
        snprintf(what, sizeof what, "downstream data so far; %s GB projected", gb);
    } else {
        snprintf(what, sizeof what, "downstream data so far");
    }
    card(out, "downstream_gb", m->gb.text, shown, what);
    snprintf(shown, sizeof shown, "%s of %s", m->days_covered.text, m->days_in_month.text);
    card(out, "days_covered", m->days_covered.text, shown, "days of the month with sessions");
    fputs("</div>\n", out);
}

/* A swatch for a legend: a small rect in fill, or a dashed line. */
static void swatch(FILE *out, const char *fill, const char *label)
{
    if (strcmp(fill, "line") == 0)
        fputs("<span><svg width=\"18\" height=\"10\" aria-hidden=\"true\"><line x1=\"0\" "
              "y1=\"5\" x2=\"18\" y2=\"5\" stroke=\"#111\" stroke-width=\"1.6\" "
              "stroke-dasharray=\"5 2\"/></svg>",
              out);
    else
        fprintf(out,
                "<span><svg width=\"14\" height=\"12\" aria-hidden=\"true\"><rect width=\"14\" "
                "height=\"12\" fill=\"%s\" stroke=\"#333\" stroke-width=\".6\"/></svg>",
                fill);
    fprintf(out, "%s</span>", label);
}

static void charts(FILE *out, const struct report_project *p)
{
    fputs("<h3>Participant minutes per UTC day</h3><div class=\"legend\">", out);
    swatch(out, "url(#hatch)", "billable minutes (estimate: each connection rounded up)");
    swatch(out, "line", "participant minutes (exact)");
    fputs("</div>\n", out);
    report_svg_chart(out, p, REPORT_CHART_MINUTES);
    fputs("<h3>Sessions per UTC day</h3>\n", out);
    report_svg_chart(out, p, REPORT_CHART_SESSIONS);
    fputs("<h3>Peak concurrent connections per UTC day</h3>\n", out);
    report_svg_chart(out, p, REPORT_CHART_PEAK);
}

/* Totals of the range in a sentence. */
static void summary(FILE *out, const struct report_project *p)
{
    double billable = 0, minutes = 0, sessions = 0, peak = 0;
    const char *peak_day = NULL;
    char a[48], b[48], c[48], d[48], when[32] = "";

    for (size_t i = 0; i < p->day_count; i++) {
        billable += p->days[i].billable.value;
        minutes += p->days[i].minutes.value;
        sessions += p->days[i].sessions.value;
        if (p->days[i].peak.value > peak) {
            peak = p->days[i].peak.value;
            peak_day = p->days[i].day;
        }
    }
    report_fmt(a, sizeof a, billable, 0);
    report_fmt(b, sizeof b, minutes, 0);
    report_fmt(c, sizeof c, sessions, 0);
    report_fmt(d, sizeof d, peak, 0);
    if (peak_day)
        report_fmt_day(when, sizeof when, peak_day, 0);
    fprintf(out,
            "<p class=\"summary\">Over these %zu days: <strong>%s</strong> billable minutes "
            "(%s exact participant minutes), <strong>%s</strong> sessions, at most "
            "<strong>%s</strong> connections at once%s%s.</p>\n",
            p->day_count, a, b, c, d, peak_day ? " on " : "", when);
}

static void project_section(FILE *out, const struct report_data *data, size_t i)
{
    const struct report_project *p = &data->projects[i];

    fprintf(out, "<section class=\"project\" id=\"project-%zu\" data-project=\"", i + 1);
    report_escape(out, p->project, 0);
    fputs("\"><h2>Project ", out);
    report_escape(out, p->project, 0);
    fputs("</h2>\n", out);
    billing(out, data, p);
    summary(out, p);
    charts(out, p);
    report_html_tables(out, p);
    report_html_months(out, p);
    report_html_health(out, p);
    fputs("</section>\n", out);
}

void report_write_html(FILE *out, const struct report_data *data, const char *generated_at)
{
    head(out, data);
    header(out, data, generated_at);
    report_svg_defs(out);
    if (data->count == 0)
        fputs("<p class=\"empty\" id=\"empty\">Nothing archived yet, and no project configured: "
              "run <code>lkarchive run</code> first.</p>\n",
              out);
    for (size_t i = 0; i < data->count; i++)
        project_section(out, data, i);
    fputs("</main>\n<footer><p>Days are UTC dates; a session counts on the day it started. "
          "<em>Participant minutes</em> sum each connection's time exactly; <em>billable "
          "minutes</em> round each connection up to a whole minute first, as LiveKit bills "
          "(10 s is 1 minute, 61 s is 2). Downstream GB: each session's bytes sent by LiveKit "
          "(bandwidthOut), rounded up to 0.01 GB (an assumption). The projection is linear over "
          "the month's complete days. Estimates from the archive, not LiveKit's invoice: days "
          "lost before archiving (gaps) are missing. Definitions: livekit_bi.monthly_usage "
          "(COMMENTs) and the README.</p></footer>\n</body></html>\n",
          out);
}
