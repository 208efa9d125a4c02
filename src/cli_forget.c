/* cli_forget.c -- `forget` (privacy): one participant's identity replaced by its keyed hash
 * everywhere, for good (store_forget.c), one line per project, under the pseudonym key
 * (cli_pseudo.c). Opens the store and migrates it first.
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
