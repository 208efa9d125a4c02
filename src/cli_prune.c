/* cli_prune.c -- retention: `prune`, the config's `retention` after a good run, and
 * `forget-project`.
 *
 * prune deletes the sessions listed before a day (--before DATE, or --older-than Nd counted
 * back from today), with their participants and connections, in short batches
 * (store_prune.c), under each project's run lock, one line per project; or, with --dry-run,
 * counts them. The day is checked
 * against the API's window as the real clock places it (--today only narrows it): a --today
 * in the future must not let a prune delete days the next real run fetches again. forget-project
 * drops a whole project (a mistyped id) from the archive and its ledger, after --yes.
 */
#include "cli_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cli.h"
#include "config.h"
#include "date.h"
#include "error.h"
#include "log.h"
#include "pq.h"
#include "store.h"
#include "store_ledger.h"
#include "store_prune.h"
#include "store_schema.h"

/* Sessions a prune deletes per transaction: short locks, and a stopped prune loses little. */
#define PRUNE_BATCH_SESSIONS 1000

int cli_parse_age(const char *text, int *days_out)
{
    char *end;
    long days = strtol(text, &end, 10);

    if (text[0] < '0' || text[0] > '9' || strcmp(end, "d") != 0 || days < 1 || days > 100000)
        return -1;
    *days_out = (int)days;
    return 0;
}

/* The day before which to prune into before: --before, or today (opt's) minus the age.
 * Refused (LK_EUSAGE) inside the API's window as the real clock places it (or --today, when
 * that is earlier: never a window later than the real one). */
static int prune_day(char before[DATE_TEXT_SIZE], const struct cli_options *opt, int age_days,
                     struct lk_error *err)
{
    char guard_today[DATE_TEXT_SIZE], window_start[DATE_TEXT_SIZE];

    if (age_days > 0)
        date_add_days(before, opt->today, -age_days);
    else
        snprintf(before, DATE_TEXT_SIZE, "%s", opt->before);
    date_today(guard_today); /* the real clock: a --today in the future must not widen it */
    if (strcmp(opt->today, guard_today) < 0)
        snprintf(guard_today, sizeof guard_today, "%s", opt->today);
    date_add_days(window_start, guard_today, 1 - API_WINDOW_DAYS);
    if (strcmp(before, window_start) > 0) {
        lk_error_set(err, LK_EUSAGE, "%s is inside the API's %d-day window (%s .. %s)", before,
                     API_WINDOW_DAYS, window_start, guard_today);
        lk_error_detail(err,
                        "the next run would fetch those sessions again; prune before %s "
                        "or earlier",
                        window_start);
        return LK_EUSAGE;
    }
    return 0;
}

/* The project's lock, the one a run takes: a prune does not delete under a run that is
 * writing the same sessions; it waits lock_wait seconds for one in progress. */
static int lock_project(struct store *st, const struct config *cfg, const char *project,
                        struct lk_error *err)
{
    int rc = store_lock_project(st, project, cfg->lock_wait_s, err);

    if (rc == LK_ELOCKED) {
        lk_error_set(err, rc,
                     "a run is archiving project %s: nothing pruned there (waited %d s, "
                     "lock_wait)",
                     project, cfg->lock_wait_s);
        lk_error_detail(err, "prune again once the run is over, or raise lock_wait");
    }
    return rc;
}

/* Prune (or count, dry_run) projects[0..count) before `before`, a line per project. */
static int prune_projects(struct store *st, const struct config *cfg, char *const *projects,
                          size_t count, const char *before, bool dry_run, bool quiet,
                          struct lk_error *err)
{
    struct prune_counts counts;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (!dry_run && (rc = lock_project(st, cfg, projects[i], err)) != 0)
            break;
        rc = dry_run ? store_prune_count(st, projects[i], before, &counts, err)
                     : store_prune(st, projects[i], before, PRUNE_BATCH_SESSIONS, &counts, err);
        if (rc == 0 && !quiet)
            printf("%-20s before %s: %s %lld sessions, %lld participants, %lld connections\n",
                   projects[i], before, dry_run ? "would delete" : "deleted", counts.sessions,
                   counts.participants, counts.connections);
    }
    return rc;
}

/* prune: refuse a day inside the API's window (the next run would fetch it all again), then
 * per project count (dry run) or delete in batches, one line per project. */
int cli_command_prune(const struct config *cfg, const struct cli_options *opt, struct lk_error *err)
{
    char before[DATE_TEXT_SIZE];
    struct store *st = NULL;
    char **projects = NULL;
    size_t count = 0;
    int rc = 0;

    if ((opt->before[0] == '\0') == (opt->older_than_days == 0)) {
        lk_error_set(err, LK_EUSAGE, "prune needs --before YYYY-MM-DD or --older-than Nd (one)");
        return cli_report(err);
    }
    if (prune_day(before, opt, opt->older_than_days, err) != 0)
        return cli_report(err);
    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_migrate(st, cfg->citus_distribute, NULL, err);
    if (rc == 0)
        rc = store_archived_projects(st, opt->project, &projects, &count, err);
    if (rc == 0)
        rc = prune_projects(st, cfg, projects, count, before, opt->dry_run, opt->quiet, err);
    if (rc == 0 && count == 0 && !opt->quiet)
        printf("nothing archived%s%s\n", opt->project ? " for " : "",
               opt->project ? opt->project : "");
    pq_strings_free(projects, count);
    store_free(st);
    return rc == 0 ? CLI_EXIT_OK : cli_report(err);
}

int cli_apply_retention(const struct config *cfg, const struct cli_options *opt, struct store *st,
                        struct lk_error *err)
{
    char before[DATE_TEXT_SIZE];
    int days = 0, rc;

    if (cli_parse_age(cfg->retention, &days) != 0) {
        lk_error_set(err, LK_ECONFIG,
                     "retention must be a number of days, e.g. 400d, not "
                     "\"%.40s\"",
                     cfg->retention);
        return cli_report(err);
    }
    rc = prune_day(before, opt, days, err);
    if (rc == LK_EUSAGE) {
        err->code = rc = LK_ECONFIG; /* the config's value, not the command line */
        lk_error_prefix(err, "retention %s", cfg->retention);
    }
    if (rc == 0)
        rc = prune_projects(st, cfg, cfg->projects, cfg->project_count, before, false, opt->quiet,
                            err);
    return rc == 0 ? CLI_EXIT_OK : cli_report(err);
}

/* What forget-project deletes (or would): one line. */
static void print_forgotten(const char *project, const struct prune_counts *counts, long long days,
                            bool done)
{
    printf("%s: %s %lld sessions, %lld participants, %lld connections and %lld ledger "
           "day%s\n",
           project, done ? "deleted" : "would delete", counts->sessions, counts->participants,
           counts->connections, days, days == 1 ? "" : "s");
}

int cli_command_forget_project(const struct config *cfg, const struct cli_options *opt,
                               struct lk_error *err)
{
    struct prune_counts counts = {0};
    struct store *st = NULL;
    long long days = 0;
    int rc;

    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_migrate(st, cfg->citus_distribute, NULL, err);
    if (rc == 0) /* a run archiving the project: LK_ELOCKED */
        rc = store_lock_project(st, opt->argument, 0, err);
    if (rc == 0 && !opt->yes)
        rc = store_forget_project_count(st, opt->argument, &counts, &days, err);
    else if (rc == 0)
        rc = store_forget_project(st, opt->argument, PRUNE_BATCH_SESSIONS, &counts, &days, err);
    store_free(st);
    if (rc != 0)
        return cli_report(err);
    if (!opt->yes || !opt->quiet)
        print_forgotten(opt->argument, &counts, days, opt->yes);
    for (size_t p = 0; opt->yes && p < cfg->project_count; p++)
        if (strcmp(cfg->projects[p], opt->argument) == 0)
            log_warn("project %s is still configured: the next run archives its window again",
                     opt->argument);
    if (!opt->yes) {
        log_error("nothing deleted: add --yes to drop project %s and its data", opt->argument);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}
