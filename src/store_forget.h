/* store_forget.h -- privacy: an identity forgotten for good (store_forget.c); the
 * pseudonyms used at staging are a connection setting (store_set_pseudo, store.h).
 */
#ifndef LK_STORE_FORGET_H
#define LK_STORE_FORGET_H

struct lk_error;
struct pseudo;
struct store;

/* Record the pseudonyms (under pseudo) of `identity` and of the names its rows in `project`
 * have in livekit.forgotten_identities, in a statement of its own: runs read the set at each
 * day's start and pseudonymize such a string wherever it comes. Returns 0, LK_EDB or
 * LK_ENOMEM. */
int store_forget_record(struct store *st, const char *project, const char *identity,
                        const struct pseudo *pseudo, struct lk_error *err);

/* Forget `identity` in `project` (the caller holds the project's lock, store_lock_project):
 * it becomes its pseudonym in participants and participant_connections, whose name and extra
 * are cleared (a clear row beside its pseudonym's in one session is deleted); every string or
 * key of the project's participants', connections' and sessions' extra that is the identity or
 * a name it had becomes that one's pseudonym (livekit.jsonb_scrub); the rollup of its days is
 * recomputed and the pseudonyms recorded; one transaction. *participants_out and
 * *connections_out get the rows rewritten. Returns 0, LK_EDB or LK_ENOMEM. */
int store_forget(struct store *st, const char *project, const char *identity,
                 const struct pseudo *pseudo, long long *participants_out,
                 long long *connections_out, struct lk_error *err);

/* VACUUM (ANALYZE) the tables forget rewrites, so the old row versions leave the table files
 * (not the WAL nor backups). Outside a transaction. Returns 0 or LK_EDB. */
int store_forget_vacuum(struct store *st, struct lk_error *err);

#endif
