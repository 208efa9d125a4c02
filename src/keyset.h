/* keyset.h -- a bounded set of 64-bit key hashes: has a key been seen before?
 *
 * store_stage.c adds the hash of every staged participant's and connection's key, to learn
 * whether the day staged any key twice: when none was, the merges need not pick the newest row
 * per key. A hash seen twice may be two keys that collide, never one key missed, so "seen" is
 * safe to act on as "maybe a duplicate". The table grows by doubling up to a cap and then
 * reports itself full, so memory stays bounded whatever the day's size. A zero-initialised
 * struct keyset is an empty set; keyset_clear frees it.
 */
#ifndef LK_KEYSET_H
#define LK_KEYSET_H

#include <stddef.h>
#include <stdint.h>

struct keyset {
    uint64_t *slots; /* 0 = empty (a hash of 0 is stored as 1) */
    size_t capacity, count;
};

/* The most slots a set grows to: 4 MiB, about 367,000 keys. */
#define KEYSET_MAX_SLOTS ((size_t)1 << 19)

enum keyset_result {
    KEYSET_ADDED = 0, /* new */
    KEYSET_SEEN,      /* already in the set (the same key, or a colliding one) */
    KEYSET_FULL       /* not added: the set is at its cap, or out of memory */
};

enum keyset_result keyset_add(struct keyset *set, uint64_t hash);

/* Free the table; the set is empty again. Cannot fail. */
void keyset_clear(struct keyset *set);

#endif
