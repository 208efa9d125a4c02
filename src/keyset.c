/* keyset.c -- a bounded set of 64-bit key hashes; see keyset.h.
 *
 * Open addressing with linear probing over a power-of-two table, kept at most half full; the
 * slot comes from the hash's high bits after a multiplicative mix (FNV-1a's low bits alone
 * spread poorly).
 */
#include "keyset.h"

#include <stdlib.h>

static size_t slot_of(uint64_t hash, size_t capacity)
{
    return (size_t)((hash * 0x9E3779B97F4A7C15ULL) >> 32) & (capacity - 1);
}

/* Place hash (not 0, not present) in slots. */
static void place(uint64_t *slots, size_t capacity, uint64_t hash)
{
    size_t i = slot_of(hash, capacity);

    while (slots[i] != 0)
        i = (i + 1) & (capacity - 1);
    slots[i] = hash;
}

/* Double the table (first: 1,024 slots). Returns 0, or -1 at the cap or out of memory. */
static int grow(struct keyset *set)
{
    size_t capacity = set->capacity ? set->capacity * 2 : 1024;
    uint64_t *slots;

    if (capacity > KEYSET_MAX_SLOTS || (slots = calloc(capacity, sizeof *slots)) == NULL)
        return -1;
    for (size_t i = 0; i < set->capacity; i++)
        if (set->slots[i] != 0)
            place(slots, capacity, set->slots[i]);
    free(set->slots);
    set->slots = slots;
    set->capacity = capacity;
    return 0;
}

enum keyset_result keyset_add(struct keyset *set, uint64_t hash)
{
    size_t i;

    if (hash == 0)
        hash = 1;
    if (set->capacity > 0) {
        for (i = slot_of(hash, set->capacity); set->slots[i] != 0;
             i = (i + 1) & (set->capacity - 1))
            if (set->slots[i] == hash)
                return KEYSET_SEEN;
    }
    if (2 * (set->count + 1) > set->capacity && grow(set) != 0)
        return KEYSET_FULL;
    place(set->slots, set->capacity, hash);
    set->count++;
    return KEYSET_ADDED;
}

void keyset_clear(struct keyset *set)
{
    free(set->slots);
    set->slots = NULL;
    set->capacity = set->count = 0;
}
