/* cli_prune.c -- `prune` (retention): the sessions listed before a day deleted, with their
 * participants and connections, in short batches (store_prune.c), under each project's run
 * lock, one line per project; or,
 * with --dry-run, counted. A day inside the API's window is refused: the next run would fetch
 * it all again. Opens the store and migrates it first.
 */
#include "cli_internal.h"

#include <stdio.h>
#include <string.h>

#include "api.h"
#include "cli.h"
#include "config.h"
#include "date.h"
#include "error.h"
#include "pq.h"
#include "store.h"
#include "store_ledger.h"
#include "store_prune.h"
#include "store_schema.h"

/* Sessions a prune deletes per transaction: short locks, and a stopped prune loses little. */
#define PRUNE_BATCH_SESSIONS 1000

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

/* prune: refuse a day inside the API's window (the next run would fetch it all again), then
 * per project count (dry run) or delete in batches, one line per project. */
int cli_command_prune(const struct config *cfg, const struct cli_options *opt, struct lk_error *err)
{
    char today[DATE_TEXT_SIZE], window_start[DATE_TEXT_SIZE];
    struct store *st = NULL;
    struct prune_counts counts;
    char **projects = NULL;
    size_t count = 0;
    int rc = 0;

    if (opt->before[0] == '\0') {
        lk_error_set(err, LK_EUSAGE, "prune needs --before YYYY-MM-DD");
        return cli_report(err);
    }
    if (opt->today[0])
        snprintf(today, sizeof today, "%s", opt->today);
    else
        date_today(today);
    date_add_days(window_start, today, 1 - API_WINDOW_DAYS);
    if (strcmp(opt->before, window_start) > 0) {
        lk_error_set(err, LK_EUSAGE, "--before %s is inside the API's %d-day window (%s .. %s)",
                     opt->before, API_WINDOW_DAYS, window_start, today);
        lk_error_detail(err, "the next run would fetch those sessions again; use %s or earlier",
                        window_start);
        return cli_report(err);
    }
    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_migrate(st, cfg->citus_distribute, NULL, err);
    if (rc == 0)
        rc = store_archived_projects(st, opt->project, &projects, &count, err);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (!opt->dry_run && (rc = lock_project(st, cfg, projects[i], err)) != 0)
            break;
        rc = opt->dry_run
                 ? store_prune_count(st, projects[i], opt->before, &counts, err)
                 : store_prune(st, projects[i], opt->before, PRUNE_BATCH_SESSIONS, &counts, err);
        if (rc == 0)
            printf("%-20s before %s: %s %lld sessions, %lld participants, %lld connections\n",
                   projects[i], opt->before, opt->dry_run ? "would delete" : "deleted",
                   counts.sessions, counts.participants, counts.connections);
    }
    if (rc == 0 && count == 0)
        printf("nothing archived%s%s\n", opt->project ? " for " : "",
               opt->project ? opt->project : "");
    pq_strings_free(projects, count);
    store_free(st);
    return rc == 0 ? CLI_EXIT_OK : cli_report(err);
}
