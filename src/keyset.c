/* keyset.c -- a bounded log of 64-bit key hashes; see keyset.h.
 *
 * Hashes are appended to an array that doubles up to KEYSET_MAX_KEYS; distinctness is decided
 * once, at the end, by sorting and comparing neighbours. 8 bytes per key and no table to
 * rehash: a hash table kept half full took 16 bytes per key, 24 while it grew, and its freed
 * tables left the allocator's heap larger than the table itself.
 */
#include "keyset.h"

#include <stdlib.h>

int keyset_add(struct keyset *set, uint64_t hash)
{
    if (set->full)
        return -1;
    if (set->count == set->capacity) {
        size_t capacity = set->capacity ? set->capacity * 2 : 1024;
        uint64_t *grown;

        if (capacity > KEYSET_MAX_KEYS ||
            (grown = realloc(set->hashes, capacity * sizeof *grown)) == NULL) {
            set->full = true;
            return -1;
        }
        set->hashes = grown;
        set->capacity = capacity;
    }
    set->hashes[set->count++] = hash;
    return 0;
}

/* Sift hashes[root] down the max-heap of the first n hashes. */
static void sift_down(uint64_t *hashes, size_t root, size_t n)
{
    uint64_t moving = hashes[root];

    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && hashes[child + 1] > hashes[child])
            child++;
        if (hashes[child] <= moving)
            break;
        hashes[root] = hashes[child];
    }
    hashes[root] = moving;
}

/* Heapsort, in place: qsort's merge buffer would double the log's memory for the moment. */
static void sort_hashes(uint64_t *hashes, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(hashes, i, n);
    for (size_t end = n; end-- > 1;) {
        uint64_t top = hashes[0];
        hashes[0] = hashes[end];
        hashes[end] = top;
        sift_down(hashes, 0, end);
    }
}

bool keyset_all_distinct(struct keyset *set)
{
    if (set->full)
        return false;
    sort_hashes(set->hashes, set->count);
    for (size_t i = 1; i < set->count; i++)
        if (set->hashes[i] == set->hashes[i - 1])
            return false;
    return true;
}

void keyset_reset(struct keyset *set)
{
    set->count = 0;
    set->full = false;
}

void keyset_free(struct keyset *set)
{
    free(set->hashes);
    set->hashes = NULL;
    set->count = set->capacity = 0;
    set->full = false;
}
