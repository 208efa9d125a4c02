/* metrics.h -- a run's measurements for Prometheus' textfile collector (--metrics-file).
 *
 * The counters of this process (responses by project and HTTP status, retries, rows written
 * per table, each project's pace) are counted where they happen, from any thread (projects
 * are fetched side by side); metrics_write_file writes them with the run's outcome and
 * the ledger's figures per project, atomically (a temporary file beside the target, fsync,
 * rename), so the collector never reads half a file. Names follow Prometheus' conventions:
 * prefix lkarchive_, base units (_seconds), _total only for counters.
 */
#ifndef LK_METRICS_H
#define LK_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "store_ledger.h"

struct lk_error;

/* Projects whose requests are counted one by one. */
#define METRICS_MAX_PROJECTS 64

enum metrics_table { METRICS_SESSIONS, METRICS_PARTICIPANTS, METRICS_CONNECTIONS, METRICS_TABLES };

/* A response to a request of project arrived with this HTTP status (0: none, the transport
 * failed). Cannot fail (a project beyond METRICS_MAX_PROJECTS counts in the totals only). */
void metrics_count_response(const char *project, long status);
/* The project's pace at the end of its run: the rate it learned (requests a minute), whether
 * the API limited it, and the seconds requests waited on the limit. Cannot fail. */
void metrics_note_pace(const char *project, double requests_per_minute, bool limited,
                       double wait_s);
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
    long long days_at_risk; /* not complete, and leaving the API's window within two days */
    double
        last_success_s; /* Unix time the last run that ended ok and covered it finished, 0: never */
};

/* The run being reported. */
struct metrics_run {
    double finished_s; /* Unix time */
    double duration_s;
    int exit_status;                        /* the process' exit status */
    long long runs_by_status[RUN_STATUSES]; /* ledger: runs by status (enum run_status) */
    long long requests_all_runs;            /* ledger: requests of every run */
    bool ledger_read; /* false (the database is down): the ledger's families keep the samples
                         the file at the path holds, those of the last run that read it */
};

/* Write the metrics file at path, mode 0644, atomically (atomic_file.h); with
 * !run->ledger_read, projects are ignored and the ledger's families (last success, day
 * statuses, at risk, runs, requests) are copied from the file being replaced. Returns 0, or
 * LK_ECONFIG (the directory cannot be written: err names the path and the reason). */
int metrics_write_file(const char *path, const struct metrics_run *run,
                       const struct metrics_project *projects, size_t count, struct lk_error *err);

#endif
