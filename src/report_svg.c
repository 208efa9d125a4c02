/* report_svg.c -- the report's charts as inline SVG, drawn here: no script, no library, no
 * request. A daily chart is bars (and, for minutes, a line) over a y axis with round steps
 * and its unit, an x axis of UTC days; the health calendar a cell per day, a column per week.
 * Every data point is one element with data-day and data-value (the figure as the database
 * wrote it) and a <title> for people; fills are patterns and shades that differ in greyscale,
 * and each series is named in a legend beside its swatch, so nothing rests on colour alone.
 */
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "date.h"
#include "store_report.h"

#define W 720.0
#define H 240.0
#define LEFT 60.0
#define RIGHT 12.0
#define TOP 12.0
#define BOTTOM 42.0

void report_svg_defs(FILE *out)
{
    fputs("<svg class=\"defs\" width=\"0\" height=\"0\" aria-hidden=\"true\"><defs>"
          "<pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
          "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#cfe0f3\"/>"
          "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#1f5f9e\" stroke-width=\"3\"/>"
          "</pattern>"
          "<pattern id=\"dots\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\">"
          "<rect width=\"5\" height=\"5\" fill=\"#f6e3c0\"/>"
          "<circle cx=\"2.5\" cy=\"2.5\" r=\"1.3\" fill=\"#8a5a00\"/></pattern>"
          "<pattern id=\"stripes\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" "
          "patternTransform=\"rotate(-45)\"><rect width=\"5\" height=\"5\" fill=\"#fff2c4\"/>"
          "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"5\" stroke=\"#9c6b00\" stroke-width=\"2\"/>"
          "</pattern></defs></svg>\n",
          out);
}

/* The largest round value (1, 2, 2.5 or 5 x 10^k) a quarter of max fits under, times 4. */
static double axis_step(double max)
{
    static const double steps[] = {1, 2, 2.5, 5, 10};
    double raw = max / 4, scale;

    if (raw <= 0)
        return 1;
    scale = pow(10, floor(log10(raw)));
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] * scale >= raw)
            return steps[i] * scale < 1 ? 1 : steps[i] * scale;
    return 10 * scale;
}

static const struct report_number *value_of(const struct report_day *d, enum report_chart chart)
{
    return chart == REPORT_CHART_SESSIONS ? &d->sessions
           : chart == REPORT_CHART_PEAK   ? &d->peak
                                          : &d->billable;
}

/* Grid lines and y labels every step up to top, the unit, x labels about every 7th day. */
static void axes(FILE *out, const struct report_project *p, double step, double top,
                 const char *unit)
{
    double ph = H - TOP - BOTTOM, band = (W - LEFT - RIGHT) / (double)p->day_count;
    size_t every = (p->day_count + 6) / 7;
    char label[32];

    for (double v = 0; v <= top + step / 2; v += step) {
        double y = TOP + ph - v / top * ph;
        report_fmt_compact(label, sizeof label, v);
        fprintf(out,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                LEFT, y, W - RIGHT, y, LEFT - 6, y + 4, label);
    }
    fprintf(out,
            "<text class=\"unit\" transform=\"translate(14 %.1f) rotate(-90)\" "
            "text-anchor=\"middle\">%s</text>",
            TOP + ph / 2, unit);
    for (size_t i = 0; i < p->day_count; i += every) {
        report_fmt_day(label, sizeof label, p->days[i].day, 1);
        fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                LEFT + band * ((double)i + 0.5), H - BOTTOM + 16, label);
    }
    fprintf(out, "<text class=\"unit\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">UTC day</text>",
            LEFT + (W - LEFT - RIGHT) / 2, H - 6);
}

/* One bar per day of the chart's series. */
static void bars(FILE *out, const struct report_project *p, enum report_chart chart, double top,
                 const char *series, const char *what, const char *fill)
{
    double ph = H - TOP - BOTTOM, band = (W - LEFT - RIGHT) / (double)p->day_count;
    char when[32], shown[48];

    fprintf(out, "<g class=\"bars\" data-series=\"%s\" fill=\"%s\">", series, fill);
    for (size_t i = 0; i < p->day_count; i++) {
        const struct report_number *n = value_of(&p->days[i], chart);
        double h = n->value / top * ph;

        report_fmt_day(when, sizeof when, p->days[i].day, 0);
        report_fmt(shown, sizeof shown, n->value, 0);
        fprintf(out,
                "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" data-day=\"%s\" "
                "data-value=\"%s\"><title>%s: %s %s</title></rect>",
                LEFT + band * (double)i + band * 0.1, TOP + ph - h, band * 0.8, h, p->days[i].day,
                n->text, when, shown, what);
    }
    fputs("</g>", out);
}

/* The exact participant minutes: a line with a point per day. */
static void minutes_line(FILE *out, const struct report_project *p, double top)
{
    double ph = H - TOP - BOTTOM, band = (W - LEFT - RIGHT) / (double)p->day_count;
    double r = p->day_count > 62 ? 1.2 : 2.5;
    char when[32], shown[48];

    fputs("<polyline class=\"line\" points=\"", out);
    for (size_t i = 0; i < p->day_count; i++)
        fprintf(out, "%.2f,%.2f ", LEFT + band * ((double)i + 0.5),
                TOP + ph - p->days[i].minutes.value / top * ph);
    fputs("\"/><g class=\"points\" data-series=\"participant_minutes\">", out);
    for (size_t i = 0; i < p->day_count; i++) {
        report_fmt_day(when, sizeof when, p->days[i].day, 0);
        report_fmt(shown, sizeof shown, p->days[i].minutes.value, 1);
        fprintf(out,
                "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.1f\" data-day=\"%s\" data-value=\"%s\">"
                "<title>%s: %s participant minutes (exact)</title></circle>",
                LEFT + band * ((double)i + 0.5), TOP + ph - p->days[i].minutes.value / top * ph, r,
                p->days[i].day, p->days[i].minutes.text, when, shown);
    }
    fputs("</g>", out);
}

void report_svg_chart(FILE *out, const struct report_project *p, enum report_chart chart)
{
    static const char *const names[] = {"minutes", "sessions", "peak"};
    static const char *const units[] = {"minutes", "sessions", "connections"};
    double max = 0, step, top;

    for (size_t i = 0; i < p->day_count; i++) {
        max = fmax(max, value_of(&p->days[i], chart)->value);
        if (chart == REPORT_CHART_MINUTES)
            max = fmax(max, p->days[i].minutes.value);
    }
    step = axis_step(max);
    top = step * fmax(1, ceil(max / step));
    fprintf(out,
            "<div class=\"chartbox\"><svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "data-chart=\"%s\" "
            "aria-label=\"%s per UTC day\">",
            W, H, names[chart], units[chart]);
    if (p->day_count > 0) {
        axes(out, p, step, top, units[chart]);
        if (chart == REPORT_CHART_MINUTES) {
            bars(out, p, chart, top, "billable_connection_minutes", "billable minutes (estimate)",
                 "url(#hatch)");
            minutes_line(out, p, top);
        } else if (chart == REPORT_CHART_SESSIONS) {
            bars(out, p, chart, top, "sessions", "sessions", "#7a7a7a");
        } else {
            bars(out, p, chart, top, "peak_connections", "connections at the peak", "url(#dots)");
        }
    }
    fputs("</svg></div>\n", out);
}

/* A calendar cell's look: fill, a mark in it, and the word for its title. */
static void health_look(const char *health, const char **fill, const char **mark, const char **word)
{
    *mark = "";
    if (strcmp(health, "complete") == 0) {
        *fill = "#2e7d4f", *word = "complete";
    } else if (strcmp(health, "pending") == 0) {
        *fill = "url(#stripes)", *mark = "\xE2\x80\xA6", *word = "pending (fetched again)";
    } else if (strcmp(health, "failed") == 0) {
        *fill = "#b2182b", *mark = "\xC3\x97", *word = "failed (retried next run)";
    } else if (strcmp(health, "gap") == 0) {
        *fill = "#111", *mark = "!", *word = "gap: lost for good";
    } else if (strcmp(health, "missing") == 0) {
        *fill = "#fff", *mark = "?", *word = "not archived yet";
    } else {
        *fill = "#ececec", *word = "before the archive began";
    }
}

void report_svg_calendar(FILE *out, const struct report_project *p)
{
    const double cell = 15, gap = 2;
    int64_t first = 0;
    int weekday;
    size_t weeks;

    if (p->day_count == 0 || !date_parse(p->days[0].day, &first))
        return;
    weekday = (int)(((first % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday; Monday = 0 */
    weeks = ((size_t)weekday + p->day_count + 6) / 7;
    fprintf(out,
            "<svg class=\"calendar\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"archive health per UTC day\" style=\"max-width:%.0fpx\">",
            30 + (double)weeks * (cell + gap), 7 * (cell + gap), 30 + (double)weeks * (cell + gap));
    for (int w = 0; w < 7; w += 2)
        fprintf(out, "<text class=\"tick\" x=\"0\" y=\"%.1f\">%s</text>", w * (cell + gap) + 11,
                (const char *const[]){"Mon", "", "Wed", "", "Fri", "", "Sun"}[w]);
    for (size_t i = 0; i < p->day_count; i++) {
        const char *fill, *mark, *word;
        size_t slot = (size_t)weekday + i;
        double x = 30 + (double)(slot / 7) * (cell + gap), y = (double)(slot % 7) * (cell + gap);
        char when[32];

        health_look(p->days[i].health, &fill, &mark, &word);
        report_fmt_day(when, sizeof when, p->days[i].day, 0);
        fprintf(out,
                "<g class=\"day %s\" data-day=\"%s\" data-health=\"%s\"><title>%s: %s</title>"
                "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"%s\"/>",
                p->days[i].health, p->days[i].day, p->days[i].health, when, word, x, y, cell, cell,
                fill);
        if (*mark)
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                    x + cell / 2, y + 11.5, mark);
        fputs("</g>", out);
    }
    fputs("</svg>\n", out);
}
