/* cli_forget.c -- `forget` (privacy): one participant's identity replaced by its keyed hash
 * everywhere, for good (store_forget.c), one line per project, under the pseudonym key
 * (cli_pseudo.c) and each project's lock (the one a run takes); --vacuum then vacuums the
 * rewritten tables. Opens the store and migrates it first.
 */
#include "cli_internal.h"

#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "error.h"
#include "pq.h"
#include "pseudo.h"
#include "store.h"
#include "store_forget.h"
#include "store_ledger.h"
#include "store_schema.h"

/* forget's line in the command table (cli.c) */
const char cli_forget_summary[] =
    "pseudonymize one participant identity everywhere, for good (privacy)";
const char cli_forget_usage[] = "forget --identity ID [--project ID] [--vacuum]";
const char cli_forget_help[] =
    "Replace the participant identity ID by its keyed hash (HMAC-SHA256 with\n"
    "pseudonymize_key_file) in participants and connections, clear its name and extra,\n"
    "scrub it and its names from every other extra, recompute the rollup, and record only\n"
    "the hash, so later runs pseudonymize it before it is stored again. Takes each project's\n"
    "lock as a run does, waiting lock_wait seconds for a run in progress. For a GDPR-style\n"
    "erasure request.\n"
    "\n"
    "options:\n"
    "  --identity ID      the participant identity to forget\n"
    "  --project ID       this project only (default: every project in the archive)\n"
    "  --vacuum           then VACUUM the rewritten tables (old row versions leave the files)\n";

/* The identity forgotten in one project: its pseudonym recorded at once (a run in progress
 * stores it pseudonymized from its next day on), then, under the project's lock (waiting
 * lock_wait seconds for a run in progress), its rows rewritten; one line. */
static int forget_project(struct store *st, const struct config *cfg, const char *project,
                          const char *identity, const struct pseudo *pseudo, const char *hex,
                          struct lk_error *err)
{
    long long participants, connections;
    int rc = store_forget_record(st, project, identity, pseudo, err);

    if (rc == 0)
        rc = store_lock_project(st, project, cfg->lock_wait_s, err);
    if (rc == LK_ELOCKED) {
        lk_error_set(err, LK_ELOCKED,
                     "a run is archiving project %s: its rows were not rewritten (waited %d s, "
                     "lock_wait)",
                     project, cfg->lock_wait_s);
        lk_error_detail(err, "the identity is recorded as forgotten: that run stores it "
                             "pseudonymized from its next day on; run forget again once the run "
                             "is over to rewrite what it already stored (or raise lock_wait)");
    }
    if (rc == 0)
        rc = store_forget(st, project, identity, pseudo, &participants, &connections, err);
    if (rc == 0)
        printf("%-20s forgotten as %.16s...: %lld participant rows, %lld connections\n", project,
               hex, participants, connections);
    return rc;
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
    for (size_t i = 0; rc == 0 && i < (opt->project ? 1 : count); i++)
        rc = forget_project(st, cfg, opt->project ? opt->project : projects[i], opt->identity,
                            pseudo, hex, err);
    if (rc == 0 && opt->vacuum && (rc = store_forget_vacuum(st, err)) == 0)
        printf("vacuumed participants, participant_connections, sessions and the rollup\n");
    pq_strings_free(projects, count);
    store_free(st);
    pseudo_free(pseudo);
    return rc == 0 ? CLI_EXIT_OK : cli_report(err);
}
