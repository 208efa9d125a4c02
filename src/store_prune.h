/* store_prune.h -- retention: archived sessions deleted in batches (store_prune.c).
 */
#ifndef LK_STORE_PRUNE_H
#define LK_STORE_PRUNE_H

struct lk_error;
struct store;

/* Retention (store_prune.c): what a prune deletes or would delete. */
struct prune_counts {
    long long sessions, participants, connections;
};

/* How many sessions of `project` listed before `before` (YYYY-MM-DD), and their participants
 * and connections, a prune would delete. Returns 0 or LK_EDB. */
int store_prune_count(struct store *st, const char *project, const char *before,
                      struct prune_counts *out, struct lk_error *err);

/* Delete the sessions of `project` listed before `before`, with their participants and
 * connections, `batch` sessions per transaction, recorded in livekit.archive_prunes (counts
 * exact after each batch). No day may be open. *out gets what was deleted (also on error: what
 * the committed batches deleted). Returns 0 or LK_EDB. */
int store_prune(struct store *st, const char *project, const char *before, int batch,
                struct prune_counts *out, struct lk_error *err);

/* forget-project: what store_forget_project would delete (sessions with their rows, and the
 * ledger's days in *days_out). Returns 0 or LK_EDB. */
int store_forget_project_count(struct store *st, const char *project, struct prune_counts *out,
                               long long *days_out, struct lk_error *err);

/* Drop `project` from the archive: every session (store_prune's batches), then, in one
 * statement, its ledger days, rollup rows, learned rate and prune records (not the runs, nor
 * the hashes of forgotten identities). *out and *days_out get what went. The caller holds the
 * project's lock. Returns 0 or LK_EDB. */
int store_forget_project(struct store *st, const char *project, int batch, struct prune_counts *out,
                         long long *days_out, struct lk_error *err);

#endif
