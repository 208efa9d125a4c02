/* report_tables.c -- the report's tables: the top rooms by participant minutes, the SDK,
 * region and connection-type mix (each a share bar and its percentage), the last twelve
 * months' billing estimate, and the health calendar's legend and counts. Room names and mix
 * values come from the API through the archive: escaped, and cut to a readable length.
 */
#include "report_internal.h"

#include <stdio.h>
#include <string.h>

#include "store_report.h"

/* Shown characters of a room name or a mix value (the full text is in the title). */
#define LABEL_CHARS 80
#define TITLE_CHARS 400

static void label(FILE *out, const struct report_item *it, const char *none)
{
    if (it->other) {
        fputs("<em>all others</em>", out);
    } else if (it->label == NULL) {
        fprintf(out, "<em>%s</em>", none);
    } else {
        fputs("<span title=\"", out);
        report_escape(out, it->label, TITLE_CHARS);
        fputs("\">", out);
        report_escape(out, it->label, LABEL_CHARS);
        fputs("</span>", out);
    }
}

static void rooms(FILE *out, const struct report_project *p)
{
    double top = p->room_count ? p->rooms[0].minutes.value : 0;
    char a[48], b[48];

    fputs("<div><h3>Top rooms by participant minutes</h3>", out);
    if (p->room_count == 0) {
        fputs("<p class=\"empty\">No rooms in these days.</p></div>\n", out);
        return;
    }
    fputs("<div class=\"scroll\"><table class=\"rooms\"><thead><tr><th>room</th>"
          "<th class=\"n\">minutes</th><th class=\"n\">sessions</th></tr></thead><tbody>",
          out);
    for (size_t i = 0; i < p->room_count; i++) {
        const struct report_item *it = &p->rooms[i];

        report_fmt(a, sizeof a, it->minutes.value, 0);
        report_fmt(b, sizeof b, it->count.value, 0);
        fputs("<tr><td class=\"name\">", out);
        label(out, it, "(no name)");
        fprintf(out,
                "<span class=\"bar\" style=\"width:%.1f%%\"></span></td>"
                "<td class=\"n\" data-value=\"%s\">%s</td><td class=\"n\" data-value=\"%s\">%s</td>"
                "</tr>",
                top > 0 ? 100 * it->minutes.value / top : 0, it->minutes.text, a, it->count.text,
                b);
    }
    fputs("</tbody></table></div></div>\n", out);
}

/* One dimension of the mix as a table. */
static void mix(FILE *out, const struct report_project *p, const char *dimension, const char *title)
{
    double total = 0;
    char a[48], b[48];

    for (size_t i = 0; i < p->mix_count; i++)
        if (strcmp(p->mix[i].dimension, dimension) == 0)
            total += p->mix[i].count.value;
    fprintf(out, "<div><h3>%s</h3>", title);
    if (total == 0) {
        fputs("<p class=\"empty\">No participants in these days.</p></div>\n", out);
        return;
    }
    fprintf(out,
            "<div class=\"scroll\"><table class=\"mix\" data-dimension=\"%s\"><thead><tr><th></th>"
            "<th class=\"n\">participants</th><th class=\"n\">share</th>"
            "<th class=\"n\">minutes</th></tr></thead><tbody>",
            dimension);
    for (size_t i = 0; i < p->mix_count; i++) {
        const struct report_item *it = &p->mix[i];

        if (strcmp(it->dimension, dimension) != 0)
            continue;
        report_fmt(a, sizeof a, it->count.value, 0);
        report_fmt(b, sizeof b, it->minutes.value, 0);
        fputs("<tr><td class=\"name\">", out);
        label(out, it, "(not reported)");
        fprintf(out,
                "<span class=\"bar\" style=\"width:%.1f%%\"></span></td>"
                "<td class=\"n\" data-value=\"%s\">%s</td><td class=\"n\">%.1f %%</td>"
                "<td class=\"n\" data-value=\"%s\">%s</td></tr>",
                100 * it->count.value / total, it->count.text, a, 100 * it->count.value / total,
                it->minutes.text, b);
    }
    fputs("</tbody></table></div></div>\n", out);
}

void report_html_tables(FILE *out, const struct report_project *p)
{
    fputs("<div class=\"cols\">", out);
    rooms(out, p);
    mix(out, p, "sdk", "SDKs (participants)");
    mix(out, p, "region", "Regions (participants)");
    mix(out, p, "connection_type", "Connection types (participants)");
    fputs("</div>\n", out);
}

void report_html_months(FILE *out, const struct report_project *p)
{
    char a[48], b[48], c[48], d[48];

    fputs("<h3>Months (estimates)</h3>", out);
    if (p->month_count == 0) {
        fputs("<p class=\"empty\">No month with sessions yet.</p>\n", out);
        return;
    }
    fputs("<div class=\"scroll\"><table class=\"months\"><thead><tr><th>UTC month</th>"
          "<th class=\"n\">billable min</th><th class=\"n\">projected</th>"
          "<th class=\"n\">participant min</th><th class=\"n\">downstream GB</th>"
          "<th class=\"n\">days with sessions</th></tr></thead><tbody>",
          out);
    for (size_t i = 0; i < p->month_count; i++) {
        const struct report_month *m = &p->months[i];

        report_fmt(a, sizeof a, m->billable.value, 0);
        report_fmt(b, sizeof b, m->projected.value, 0);
        report_fmt(c, sizeof c, m->minutes.value, 0);
        report_fmt(d, sizeof d, m->gb.value, 2);
        fprintf(out,
                "<tr data-month=\"%s\"><td>%.7s</td><td class=\"n\" data-value=\"%s\">%s</td>"
                "<td class=\"n\">%s</td><td class=\"n\" data-value=\"%s\">%s</td>"
                "<td class=\"n\" data-value=\"%s\">%s</td><td class=\"n\">%s / %s</td></tr>",
                m->month, m->month, m->billable.text, a, m->projected_set ? b : "&mdash;",
                m->minutes.text, c, m->gb.text, d, m->days_covered.text, m->days_in_month.text);
    }
    fputs("</tbody></table></div>\n", out);
}

void report_html_health(FILE *out, const struct report_project *p)
{
    static const char *const kinds[] = {"complete", "pending", "failed",
                                        "gap",      "missing", "before"};
    static const char *const words[] = {"complete",
                                        "pending (…)",
                                        "failed (×)",
                                        "gap, lost for good (!)",
                                        "not archived yet (?)",
                                        "before the archive began"};
    size_t counts[6] = {0};

    for (size_t i = 0; i < p->day_count; i++)
        for (size_t k = 0; k < 6; k++)
            counts[k] += strcmp(p->days[i].health, kinds[k]) == 0;
    fputs("<h3>Archive health per UTC day</h3><div class=\"legend health\">", out);
    for (size_t k = 0; k < 6; k++)
        fprintf(out, "<span class=\"%s\" data-count=\"%zu\">%zu %s</span>", kinds[k], counts[k],
                counts[k], words[k]);
    fputs("</div>\n", out);
    report_svg_calendar(out, p);
}
