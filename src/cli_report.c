/* cli_report.c -- `lkarchive report --out FILE [--days N] [--project ID]`, and the
 * `report_file` written after each run: the archive as one self-contained HTML page
 * (report.h). The report only reads: it needs the schema up to date (`migrate` first) and no
 * more than a read-only role (`lkarchive grant`) may do.
 */
#include "cli_internal.h"

#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "report.h"
#include "store.h"
#include "store_schema.h"

const char cli_report_summary[] = "write the archive's usage and billing estimate as one HTML file";
const char cli_report_usage[] = "report --out FILE [--days N] [--project ID]";
const char cli_report_help[] =
    "Write one self-contained HTML file (no request leaves it) with each project's daily\n"
    "minutes (billable and exact), sessions and peak concurrency, this month's billing\n"
    "estimate and its projection, the top rooms, the SDK, region and connection-type mix,\n"
    "and the archive's health per day. Reads only; the file is replaced atomically.\n"
    "\n"
    "options:\n"
    "  --out FILE         the HTML file to write (mode 0644)\n"
    "  --days N           the N UTC days ending today, 1..3660 (default 90)\n"
    "  --project ID       this project only (default: every project)\n";

static void request_of(struct report_request *req, const struct config *cfg,
                       const struct cli_options *opt, int days)
{
    req->today = opt->today;
    req->days = days ? days : REPORT_DEFAULT_DAYS;
    req->project = opt->project;
    req->configured = cfg->projects;
    req->configured_count = cfg->project_count;
}

int cli_command_report(const struct config *cfg, const struct cli_options *opt,
                       struct lk_error *err)
{
    struct report_request req;
    struct store *st = NULL;
    bool current = false;
    double seconds = 0;
    int rc;

    if (opt->out == NULL) {
        lk_error_set(err, LK_EUSAGE, "report needs --out FILE");
        lk_error_detail(err, "usage: lkarchive report --out FILE [--days N] [--project ID]");
        return cli_report(err);
    }
    request_of(&req, cfg, opt, opt->days);
    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_schema_current(st, &current, err);
    if (rc == 0 && !current) {
        lk_error_set(err, LK_ECONFIG, "the archive's schema is not up to date");
        lk_error_detail(err, "run `lkarchive migrate` (as the schema's owner) first");
        rc = LK_ECONFIG;
    }
    if (rc == 0)
        rc = report_write_file(st, opt->out, &req, &seconds, err);
    store_free(st);
    if (rc != 0)
        return cli_report(err);
    printf("report of %d day%s to %s written to %s in %.2f s\n", req.days, req.days == 1 ? "" : "s",
           req.today, opt->out, seconds);
    return CLI_EXIT_OK;
}

void cli_write_report(const struct config *cfg, const struct cli_options *opt, struct store *st)
{
    struct report_request req;
    struct lk_error err;

    if (cfg->report_file == NULL || opt->dry_run || st == NULL || !store_connection_ok(st))
        return;
    lk_error_init(&err);
    request_of(&req, cfg, opt, 0); /* run's --days is its window, not the report's */
    req.project = NULL;
    if (report_write_file(st, cfg->report_file, &req, NULL, &err) != 0)
        log_lk_error(LOG_LEVEL_WARN, &err); /* the run's outcome stands */
}
