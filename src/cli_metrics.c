/* cli_metrics.c -- `run --metrics-file`: the run's counters and the ledger's figures per
 * project into metrics_write_file. The ledger is read after the run (days by status, gaps,
 * last success per project, runs and requests of all time); when it cannot be read (the
 * database is down) the file still says how the run ended, and keeps the ledger's figures of
 * the file it replaces, so the last success survives an outage.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_internal.h"
#include "config.h"
#include "date.h"
#include "error.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "store_ledger.h"

/* One project's days, as `status --all` counts them. */
static int project_days(struct store *st, const char *today, struct metrics_project *out,
                        struct lk_error *err)
{
    struct status_row *rows = NULL;
    size_t count = 0;
    bool migrated = true;
    int rc = store_status_rows(st, today, NULL, out->project, &rows, &count, &migrated, err);

    for (size_t i = 0; rc == 0 && i < count; i++) {
        const struct status_row *row = &rows[i];

        out->days_at_risk += store_status_at_risk(row, today);
        if (row->gap)
            *(row->acknowledged ? &out->gaps_acknowledged : &out->gaps) += 1;
        else if (strcmp(row->status, "complete") == 0)
            out->days_complete++;
        else if (strcmp(row->status, "pending") == 0)
            out->days_pending++;
        else if (strcmp(row->status, "failed") == 0)
            out->days_failed++;
        else
            out->days_missing++;
    }
    store_status_rows_free(rows, count);
    if (rc == 0)
        rc = store_last_success(st, out->project, &out->last_success_s, err);
    return rc;
}

void cli_write_metrics(const struct config *cfg, const struct cli_options *opt, struct store *st,
                       int exit_status, double duration_s)
{
    const char *path = opt->metrics_file ? opt->metrics_file : cfg->metrics_file;
    struct metrics_project *projects = NULL;
    struct metrics_run run = {0};
    struct lk_error err;
    size_t count = 0;
    int rc = 0;

    if (path == NULL || opt->dry_run)
        return;
    lk_error_init(&err);
    run.finished_s = (double)time(NULL);
    run.duration_s = duration_s;
    run.exit_status = exit_status;
    projects = calloc(cfg->project_count + 1, sizeof *projects);
    if (projects == NULL)
        return;
    for (size_t p = 0; st != NULL && store_connection_ok(st) && rc == 0 && p < cfg->project_count;
         p++) {
        projects[p].project = cfg->projects[p];
        rc = project_days(st, opt->today, &projects[p], &err);
        count = p + 1;
    }
    if (rc == 0 && st != NULL && store_connection_ok(st))
        rc = store_run_totals(st, run.runs_by_status, &run.requests_all_runs, &err);
    run.ledger_read = rc == 0 && st != NULL && store_connection_ok(st);
    if (rc != 0) {
        log_lk_error(LOG_LEVEL_WARN, &err); /* the file still says how the run ended */
        lk_error_init(&err);
    }
    if (!run.ledger_read)
        count = 0; /* the last file's ledger figures are kept instead */
    if (metrics_write_file(path, &run, projects, count, &err) != 0)
        log_lk_error(LOG_LEVEL_WARN, &err);
    free(projects);
}
