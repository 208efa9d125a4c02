/* metrics.h -- a run's measurements for Prometheus' textfile collector (--metrics-file).
 *
 * The counters of this process (responses by HTTP status, retries, rows written per table)
 * are counted where they happen; metrics_write_file writes them with the run's outcome and
 * the ledger's figures per project, atomically (a temporary file beside the target, fsync,
 * rename), so the collector never reads half a file. Names follow Prometheus' conventions:
 * prefix lkarchive_, base units (_seconds), _total only for counters.
 */
#ifndef LK_METRICS_H
#define LK_METRICS_H

#include <stddef.h>

struct lk_error;

enum metrics_table { METRICS_SESSIONS, METRICS_PARTICIPANTS, METRICS_CONNECTIONS, METRICS_TABLES };

/* A response arrived with this HTTP status (0: none, the transport failed). Cannot fail. */
void metrics_count_response(long status);
/* A request is tried again. Cannot fail. */
void metrics_count_retry(void);
/* rows were inserted or changed in table. Cannot fail. */
void metrics_add_rows(enum metrics_table table, long long rows);
/* Forget every count (tests). Cannot fail. */
void metrics_reset(void);

/* What the ledger says of one project (all its days, as `status --all` counts them). */
struct metrics_project {
    const char *project;
    long long days_complete, days_pending, days_failed, days_missing;
    long long gaps, gaps_acknowledged;
    double
        last_success_s; /* Unix time the last run that ended ok and covered it finished, 0: never */
};

/* The run being reported. */
struct metrics_run {
    double finished_s; /* Unix time */
    double duration_s;
    int exit_status;             /* the process' exit status */
    long long runs_by_status[5]; /* ledger: runs ok, incomplete, failed, interrupted, running */
    long long requests_all_runs; /* ledger: requests of every run */
};

/* Write the metrics file at path: tmp file beside it, fsync, rename over it. Returns 0, or
 * LK_ECONFIG (the directory cannot be written: err names the path and the reason). */
int metrics_write_file(const char *path, const struct metrics_run *run,
                       const struct metrics_project *projects, size_t count, struct lk_error *err);

#endif
