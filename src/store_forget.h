/* store_forget.h -- privacy: an identity forgotten for good (store_forget.c); the
 * pseudonyms used at staging are a connection setting (store_set_pseudo, store.h).
 */
#ifndef LK_STORE_FORGET_H
#define LK_STORE_FORGET_H

struct lk_error;
struct store;

/* Forget `identity` in `project`: it becomes `hex` (its pseudonym) in participants and
 * participant_connections, a participant's name and extra are cleared, and `hex` is recorded
 * in livekit.forgotten_identities; one transaction. *participants_out and *connections_out
 * get the rows rewritten. Returns 0 or LK_EDB. */
int store_forget(struct store *st, const char *project, const char *identity, const char *hex,
                 long long *participants_out, long long *connections_out, struct lk_error *err);

#endif
