/* report.c -- `lkarchive report` and `report_file`: read the figures (store_report.c), write
 * the page (report_html.c) to a temporary beside the target and put it in place whole
 * (atomic_file.h, mode 0644: a web server or a colleague may read it), so a reader never sees
 * half a report, and a failed write leaves the last one.
 */
#include "report.h"

#include <stdio.h>
#include <time.h>

#include "atomic_file.h"
#include "date.h"
#include "error.h"
#include "store_report.h"

int report_write_file(struct store *st, const char *path, const struct report_request *req,
                      double *seconds_out, struct lk_error *err)
{
    struct report_data *data = NULL;
    struct atomic_file *af = NULL;
    struct timespec started, ended;
    char first_day[DATE_TEXT_SIZE], generated[40];
    time_t now = time(NULL);
    struct tm tm;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &started);
    date_add_days(first_day, req->today, 1 - req->days);
    gmtime_r(&now, &tm);
    strftime(generated, sizeof generated, "%Y-%m-%d %H:%M UTC", &tm);
    rc = store_report_load(&data, st, req->configured, req->configured_count, req->project,
                           first_day, req->today, err);
    if (rc == 0)
        rc = atomic_file_open(&af, path, "the report file", err);
    if (rc == 0) {
        report_write_html(atomic_file_stream(af), data, generated);
        rc = atomic_file_commit(af, 0644, err);
    }
    store_report_free(data);
    clock_gettime(CLOCK_MONOTONIC, &ended);
    if (seconds_out)
        *seconds_out = (double)(ended.tv_sec - started.tv_sec) +
                       (double)(ended.tv_nsec - started.tv_nsec) / 1e9;
    return rc;
}
