/* cli_retention.c -- the commands that take data out of the archive: `prune` (retention: the
 * sessions listed before a day, in short batches) and `forget` (privacy: one participant's
 * identity replaced by its keyed hash everywhere, for good), and the pseudonym key they and
 * `run` share. Each opens the store, migrates it, and prints one line per project.
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
#include "pq.h"
#include "pseudo.h"
#include "store.h"

/* Sessions a prune deletes per transaction: short locks, and a stopped prune loses little. */
#define PRUNE_BATCH_SESSIONS 1000

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

/* The key of identity pseudonyms, when configured (*out NULL otherwise); `needed`: its
 * absence is a configuration error. */
int cli_open_pseudo(const struct config *cfg, bool needed, struct pseudo **out,
                    struct lk_error *err)
{
    *out = NULL;
    if (cfg->pseudonymize_key_file)
        return pseudo_open(out, cfg->pseudonymize_key_file, err);
    if (needed || cfg->pseudonymize_identities) {
        lk_error_set(err, LK_ECONFIG, "%s needs pseudonymize_key_file",
                     needed ? "forget" : "pseudonymize_identities");
        lk_error_detail(err, "the key of the pseudonyms (HMAC-SHA256): a file of 16 bytes or more "
                             "only lkarchive's user can read, kept for the archive's life");
        return LK_ECONFIG;
    }
    return 0;
}

/* forget: the identity's rows pseudonymized in each project, its pseudonym recorded. */
int cli_command_forget(const struct config *cfg, const struct cli_options *opt,
                       struct lk_error *err)
{
    char hex[PSEUDO_HEX_SIZE];
    struct pseudo *pseudo = NULL;
    struct store *st = NULL;
    char **projects = NULL;
    size_t count = 0;
    long long participants, connections;
    int rc;

    if (opt->identity == NULL || opt->identity[0] == '\0') {
        lk_error_set(err, LK_EUSAGE, "forget needs --identity ID");
        return cli_report(err);
    }
    rc = cli_open_pseudo(cfg, true, &pseudo, err);
    if (rc == 0)
        rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_migrate(st, cfg->citus_distribute, NULL, err);
    /* --project: that project even before its first run, so the run cannot bring it back */
    if (rc == 0 && opt->project == NULL)
        rc = store_archived_projects(st, NULL, &projects, &count, err);
    if (rc == 0)
        pseudo_hex(pseudo, opt->identity, hex);
    for (size_t i = 0; rc == 0 && i < (opt->project ? 1 : count); i++) {
        const char *project = opt->project ? opt->project : projects[i];
        rc = store_forget(st, project, opt->identity, hex, &participants, &connections, err);
        if (rc == 0)
            printf("%-20s forgotten as %.16s...: %lld participant rows, %lld connections\n",
                   project, hex, participants, connections);
    }
    pq_strings_free(projects, count);
    store_free(st);
    pseudo_free(pseudo);
    return rc == 0 ? CLI_EXIT_OK : cli_report(err);
}
