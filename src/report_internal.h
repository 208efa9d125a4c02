/* report_internal.h -- what the report's files share (report_html.c, report_svg.c,
 * report_fmt.c): escaping, number formats and the charts. Nothing else includes it.
 */
#ifndef LK_REPORT_INTERNAL_H
#define LK_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

struct report_project;

/* s as HTML text or attribute value: & < > " ' escaped, control characters as U+FFFD, cut
 * after max_chars characters (0: no limit) with an ellipsis. NULL prints nothing. */
void report_escape(FILE *out, const char *s, size_t max_chars);

/* v with thousands separators and `decimals` digits after the point ("12,345.6"). */
void report_fmt(char *out, size_t size, double v, int decimals);

/* v in at most four characters and a unit for an axis ("950", "1.2k", "34M"). */
void report_fmt_compact(char *out, size_t size, double v);

/* "7 Dec 2026" of "2026-12-07" (short: "7 Dec"). */
void report_fmt_day(char *out, size_t size, const char *day, int short_form);

/* The daily charts of a project: which one. */
enum report_chart {
    REPORT_CHART_MINUTES,  /* billable minutes (bars) and exact participant minutes (line) */
    REPORT_CHART_SESSIONS, /* sessions per day (bars) */
    REPORT_CHART_PEAK      /* peak concurrent connections per day (bars) */
};
void report_svg_chart(FILE *out, const struct report_project *p, enum report_chart chart);

/* The archive's health as a calendar of days: a column per week, a row per weekday. */
void report_svg_calendar(FILE *out, const struct report_project *p);

/* report_tables.c: the top rooms and the mix, the months, the health calendar with its
 * legend and counts. */
void report_html_tables(FILE *out, const struct report_project *p);
void report_html_months(FILE *out, const struct report_project *p);
void report_html_health(FILE *out, const struct report_project *p);

/* The SVG patterns the charts use (once per page). */
void report_svg_defs(FILE *out);

#endif
