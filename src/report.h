/* report.h -- `lkarchive report`: the archive as one self-contained HTML page.
 *
 * report.c reads the figures (store_report.c, from livekit_bi) and writes the page
 * atomically; report_html.c lays it out, report_svg.c draws its charts and calendar as inline
 * SVG, report_fmt.c escapes text and formats numbers for people. The page loads nothing: its
 * CSS is inline, its charts are SVG in the document, and a Content-Security-Policy forbids
 * every request. Each chart's data points carry their figures in data- attributes.
 */
#ifndef LK_REPORT_H
#define LK_REPORT_H

#include <stddef.h>
#include <stdio.h>

struct lk_error;
struct report_data;
struct store;

/* What to report on. */
struct report_request {
    const char *today;       /* the last day shown, and the views' current day (YYYY-MM-DD) */
    int days;                /* how many days end at today (1..REPORT_MAX_DAYS) */
    const char *project;     /* one project, or NULL for every one */
    char *const *configured; /* the configured projects, shown even when not archived yet */
    size_t configured_count;
};

#define REPORT_DEFAULT_DAYS 90
#define REPORT_MAX_DAYS 3660

/* The page of data on out; generated_at is printed as the time it was made. Cannot fail
 * (a write error shows in the stream's error flag). */
void report_write_html(FILE *out, const struct report_data *data, const char *generated_at);

/* Read the report and write it to path atomically (mode 0644); *seconds_out (may be NULL)
 * gets the time it took. Returns 0, LK_EDB, LK_ENOMEM or LK_ECONFIG (the file: err names
 * it). */
int report_write_file(struct store *st, const char *path, const struct report_request *req,
                      double *seconds_out, struct lk_error *err);

#endif
