/* metrics.c -- the Prometheus textfile of a run; see metrics.h.
 *
 * The process counts in a few static arrays (one run per process), under one mutex: the
 * projects' fetch threads and the committer count at once. The file is written at the end
 * of `run`. Label values are project ids ([A-Za-z0-9_-], checked by config), table
 * names and status numbers, so they need no escaping beyond what write_label does anyway.
 */
#include "metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "error.h"
#include "store_ledger.h"

/* HTTP statuses counted one by one: 0 (no response) and 100..599; others fall into 0. */
#define STATUS_SLOTS 600

/* One project's requests and pace. */
struct project_counts {
    char project[128];
    unsigned long responses[STATUS_SLOTS];
    double requests_per_minute, wait_s;
    bool paced, limited;
};

static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long responses[STATUS_SLOTS];
static unsigned long retries;
static long long rows_written[METRICS_TABLES];
static struct project_counts projects_counted[METRICS_MAX_PROJECTS];
static size_t projects_counted_count;

static const char *const table_names[METRICS_TABLES] = {"sessions", "participants",
                                                        "participant_connections"};

/* The project's counts (made on first use), NULL when there is no room; under counts_lock. */
static struct project_counts *project_counts(const char *project)
{
    struct project_counts *p;

    for (size_t i = 0; i < projects_counted_count; i++)
        if (strcmp(projects_counted[i].project, project) == 0)
            return &projects_counted[i];
    if (projects_counted_count == METRICS_MAX_PROJECTS)
        return NULL;
    p = &projects_counted[projects_counted_count++];
    memset(p, 0, sizeof *p);
    snprintf(p->project, sizeof p->project, "%s", project);
    return p;
}

void metrics_count_response(const char *project, long status)
{
    int slot = status > 0 && status < STATUS_SLOTS ? (int)status : 0;
    struct project_counts *p;

    pthread_mutex_lock(&counts_lock);
    responses[slot]++;
    if (project && (p = project_counts(project)) != NULL)
        p->responses[slot]++;
    pthread_mutex_unlock(&counts_lock);
}

void metrics_note_pace(const char *project, double requests_per_minute, bool limited, double wait_s)
{
    struct project_counts *p;

    pthread_mutex_lock(&counts_lock);
    if ((p = project_counts(project)) != NULL) {
        p->paced = true;
        p->requests_per_minute = requests_per_minute;
        p->limited = limited;
        p->wait_s += wait_s;
    }
    pthread_mutex_unlock(&counts_lock);
}

void metrics_count_retry(void)
{
    pthread_mutex_lock(&counts_lock);
    retries++;
    pthread_mutex_unlock(&counts_lock);
}

void metrics_add_rows(enum metrics_table table, long long rows)
{
    if (table < 0 || table >= METRICS_TABLES || rows <= 0)
        return;
    pthread_mutex_lock(&counts_lock);
    rows_written[table] += rows;
    pthread_mutex_unlock(&counts_lock);
}

void metrics_reset(void)
{
    pthread_mutex_lock(&counts_lock);
    memset(responses, 0, sizeof responses);
    memset(rows_written, 0, sizeof rows_written);
    retries = 0;
    projects_counted_count = 0;
    pthread_mutex_unlock(&counts_lock);
}

/* A label value with \, " and newline escaped as the exposition format asks. */
static void write_label(FILE *fp, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            fprintf(fp, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", fp);
        else
            fputc(*p, fp);
    }
}

static void header(FILE *fp, const char *name, const char *type, const char *help)
{
    fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The families drawn from the ledger: when it cannot be read (the database is down), their
 * samples are carried over from the file the last run wrote, so an alert on the last success
 * keeps its data (and fires) through an outage instead of going silent. */
static const char *const ledger_families[] = {"lkarchive_last_success_timestamp_seconds",
                                              "lkarchive_at_risk",
                                              "lkarchive_day_statuses",
                                              "lkarchive_runs_total",
                                              "lkarchive_runs_running",
                                              "lkarchive_requests_total"};
#define LEDGER_FAMILIES (sizeof ledger_families / sizeof ledger_families[0])

/* Copy to fp the sample lines of family that the previous file `old` holds (NULL: none). */
static void carry_samples(FILE *fp, FILE *old, const char *family)
{
    char line[1024];
    size_t len = strlen(family);

    if (old == NULL)
        return;
    rewind(old);
    while (fgets(line, sizeof line, old))
        if (strncmp(line, family, len) == 0 && (line[len] == '{' || line[len] == ' ') &&
            strchr(line, '\n') != NULL)
            fputs(line, fp);
}

static void write_projects(FILE *fp, const struct metrics_project *projects, size_t count,
                           FILE *old)
{
    static const char *const day_statuses[] = {"complete", "pending", "failed",
                                               "missing",  "gap",     "gap_acknowledged"};

    header(fp, ledger_families[0], "gauge",
           "Unix time the last run that ended ok and covered the project finished (0: never).");
    carry_samples(fp, old, ledger_families[0]);
    for (size_t i = 0; i < count; i++) {
        fputs("lkarchive_last_success_timestamp_seconds{project=\"", fp);
        write_label(fp, projects[i].project);
        fprintf(fp, "\"} %.3f\n", projects[i].last_success_s);
    }
    header(fp, ledger_families[1], "gauge",
           "Days of the project not yet complete that leave the API's 7-day window within two "
           "days: archive them before they are lost.");
    carry_samples(fp, old, ledger_families[1]);
    for (size_t i = 0; i < count; i++) {
        fputs("lkarchive_at_risk{project=\"", fp);
        write_label(fp, projects[i].project);
        fprintf(fp, "\"} %lld\n", projects[i].days_at_risk);
    }
    header(fp, ledger_families[2], "gauge",
           "UTC days of the project's ledger in each status (gap: left the 7-day window before "
           "it was complete; missing: never archived, still in the window).");
    carry_samples(fp, old, ledger_families[2]);
    for (size_t i = 0; i < count; i++) {
        const long long values[] = {projects[i].days_complete, projects[i].days_pending,
                                    projects[i].days_failed,   projects[i].days_missing,
                                    projects[i].gaps,          projects[i].gaps_acknowledged};
        for (size_t s = 0; s < sizeof values / sizeof values[0]; s++) {
            fputs("lkarchive_day_statuses{project=\"", fp);
            write_label(fp, projects[i].project);
            fprintf(fp, "\",status=\"%s\"} %lld\n", day_statuses[s], values[s]);
        }
    }
}

/* Each project's requests by status, its pace and its wait; under counts_lock. */
static void write_project_requests(FILE *fp)
{
    header(fp, "lkarchive_last_run_project_requests", "gauge",
           "Responses of the last run by project and HTTP status (429: rate limited; code 0: "
           "no response).");
    for (size_t i = 0; i < projects_counted_count; i++)
        for (int code = 0; code < STATUS_SLOTS; code++)
            if (projects_counted[i].responses[code] > 0)
                fprintf(fp, "lkarchive_last_run_project_requests{project=\"%s\",code=\"%d\"} %lu\n",
                        projects_counted[i].project, code, projects_counted[i].responses[code]);
    header(fp, "lkarchive_rate_limit_requests_per_minute", "gauge",
           "The request rate the last run learned for the project (the next run starts from it).");
    for (size_t i = 0; i < projects_counted_count; i++)
        if (projects_counted[i].paced)
            fprintf(fp,
                    "lkarchive_rate_limit_requests_per_minute{project=\"%s\",limited=\"%s\"} "
                    "%.1f\n",
                    projects_counted[i].project, projects_counted[i].limited ? "true" : "false",
                    projects_counted[i].requests_per_minute);
    header(fp, "lkarchive_last_run_rate_limit_wait_seconds", "gauge",
           "Seconds the last run's requests of the project waited on the API's rate limit.");
    for (size_t i = 0; i < projects_counted_count; i++)
        if (projects_counted[i].paced)
            fprintf(fp, "lkarchive_last_run_rate_limit_wait_seconds{project=\"%s\"} %.3f\n",
                    projects_counted[i].project, projects_counted[i].wait_s);
}

static void write_run(FILE *fp, const struct metrics_run *run)
{
    header(fp, "lkarchive_last_run_timestamp_seconds", "gauge", "Unix time the last run finished.");
    fprintf(fp, "lkarchive_last_run_timestamp_seconds %.3f\n", run->finished_s);
    header(fp, "lkarchive_last_run_duration_seconds", "gauge", "How long the last run took.");
    fprintf(fp, "lkarchive_last_run_duration_seconds %.3f\n", run->duration_s);
    header(fp, "lkarchive_last_run_exit_status", "gauge",
           "Exit status of the last run (0: everything archived; see lkarchive(1)).");
    fprintf(fp, "lkarchive_last_run_exit_status %d\n", run->exit_status);
    header(fp, "lkarchive_last_run_rows_written", "gauge",
           "Rows the last run inserted or changed, by table.");
    for (int t = 0; t < METRICS_TABLES; t++)
        fprintf(fp, "lkarchive_last_run_rows_written{table=\"%s\"} %lld\n", table_names[t],
                rows_written[t]);
    header(fp, "lkarchive_last_run_requests", "gauge",
           "Responses of the last run by HTTP status (code 0: no response, the transport "
           "failed).");
    for (int code = 0; code < STATUS_SLOTS; code++)
        if (responses[code] > 0 || code == 200)
            fprintf(fp, "lkarchive_last_run_requests{code=\"%d\"} %lu\n", code, responses[code]);
    write_project_requests(fp);
    header(fp, "lkarchive_last_run_retries", "gauge",
           "Requests the last run sent again (429s included; each is also a response above).");
    fprintf(fp, "lkarchive_last_run_retries %lu\n", retries);
}

/* The ledger's runs: ended ones by status (a counter), the ones still running (a gauge). */
static void write_ledger_runs(FILE *fp, const struct metrics_run *run, FILE *old)
{
    header(fp, ledger_families[3], "counter", "Runs recorded in the ledger that ended, by status.");
    carry_samples(fp, old, ledger_families[3]);
    for (int s = 0; run->ledger_read && s < RUN_STATUSES; s++)
        if (s != RUN_RUNNING)
            fprintf(fp, "lkarchive_runs_total{status=\"%s\"} %lld\n",
                    store_run_status_name((enum run_status)s), run->runs_by_status[s]);
    header(fp, ledger_families[4], "gauge",
           "Runs the ledger shows as running (this one is not counted: it has ended).");
    carry_samples(fp, old, ledger_families[4]);
    if (run->ledger_read)
        fprintf(fp, "lkarchive_runs_running %lld\n", run->runs_by_status[RUN_RUNNING]);
    header(fp, ledger_families[5], "counter", "API requests of every run recorded in the ledger.");
    carry_samples(fp, old, ledger_families[5]);
    if (run->ledger_read)
        fprintf(fp, "lkarchive_requests_total %lld\n", run->requests_all_runs);
}

int metrics_write_file(const char *path, const struct metrics_run *run,
                       const struct metrics_project *projects, size_t count, struct lk_error *err)
{
    struct atomic_file *file = NULL;
    FILE *old = NULL;
    int rc;

    /* the ledger unread: its families as the last file had them (none at first) */
    old = run->ledger_read ? NULL : fopen(path, "r");
    rc = atomic_file_open(&file, path, "the metrics file", err);
    if (rc != 0)
        goto done;
    write_projects(atomic_file_stream(file), projects, count, old);
    write_ledger_runs(atomic_file_stream(file), run, old);
    pthread_mutex_lock(&counts_lock);
    write_run(atomic_file_stream(file), run);
    pthread_mutex_unlock(&counts_lock);
    /* 0644 whatever the umask (the unit's UMask=0077): node_exporter runs as another user */
    rc = atomic_file_commit(file, 0644, err);
done:
    if (old)
        fclose(old);
    if (rc == LK_ECONFIG)
        lk_error_detail(err, "--metrics-file (metrics_file) must be in a directory this user "
                             "can write");
    return rc;
}
