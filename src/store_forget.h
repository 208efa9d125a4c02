/* store_forget.h -- privacy: an identity forgotten for good (store_forget.c); the
 * pseudonyms used at staging are a connection setting (store_set_pseudo, store.h).
 */
#ifndef LK_STORE_FORGET_H
#define LK_STORE_FORGET_H

struct lk_error;
struct store;

/* Record `hex` (an identity's pseudonym) in livekit.forgotten_identities of `project`, in a
 * statement of its own: runs read the set at each day's start. Returns 0 or LK_EDB. */
int store_forget_record(struct store *st, const char *project, const char *hex,
                        struct lk_error *err);

/* Forget `identity` in `project` (the caller holds the project's lock, store_lock_project):
 * it becomes `hex` (its pseudonym) in participants and participant_connections, whose name
 * and extra are cleared (a clear row beside its pseudonym's in one session is deleted); every
 * extra of the project's participants, connections and sessions that names the identity or a
 * name it had is scrubbed (livekit.jsonb_scrub); the rollup of its days is recomputed and `hex`
 * recorded; one transaction. *participants_out and *connections_out get the rows rewritten.
 * Returns 0 or LK_EDB. */
int store_forget(struct store *st, const char *project, const char *identity, const char *hex,
                 long long *participants_out, long long *connections_out, struct lk_error *err);

/* VACUUM (ANALYZE) the tables forget rewrites, so the old row versions leave the table files
 * (not the WAL nor backups). Outside a transaction. Returns 0 or LK_EDB. */
int store_forget_vacuum(struct store *st, struct lk_error *err);

#endif
