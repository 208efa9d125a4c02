/* keyset.h -- a bounded log of 64-bit key hashes: was any key added twice?
 *
 * store_stage.c adds the hash of every staged participant's and connection's key, to learn
 * whether the day staged any key twice: when none was, the merges need not pick the newest row
 * per key. Two equal hashes may be two keys that collide, never one key missed, so "not all
 * distinct" is safe to act on as "maybe a duplicate". The log is 8 bytes per key, grown by
 * doubling up to a cap and then marked full (a full log is never "all distinct"), so memory
 * stays bounded whatever the day's size; keyset_reset empties it but keeps its memory for the
 * next day. A zero-initialised struct keyset is an empty log; keyset_free frees it.
 */
#ifndef LK_KEYSET_H
#define LK_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keyset {
    uint64_t *hashes; /* in the order added, until keyset_all_distinct sorts them */
    size_t count, capacity;
    bool full; /* a hash was not added: the cap, or out of memory */
};

/* The most hashes a log holds: 4 MiB. */
#define KEYSET_MAX_KEYS ((size_t)1 << 19)

/* Add a hash. Returns 0, or -1 (and sets full) at the cap or out of memory. */
int keyset_add(struct keyset *set, uint64_t hash);

/* True when the log is not full and no hash was added twice. Sorts the log in place. */
bool keyset_all_distinct(struct keyset *set);

/* Empty the log, keeping its memory. Cannot fail. */
void keyset_reset(struct keyset *set);

/* Free the log's memory; it is empty again. Cannot fail. */
void keyset_free(struct keyset *set);

#endif
