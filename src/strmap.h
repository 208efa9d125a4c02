/* strmap.h -- a string-keyed hash map with a 64-bit value (open addressing, FNV-1a).
 *
 * Used per archived day: the session ids seen in the list (paging safety), the first id of
 * each list page (an API ignoring `page`), and the list hashes of archived sessions. Keys are
 * copied; a zero-initialised struct strmap is an empty map. Memory is freed by strmap_clear.
 */
#ifndef LK_STRMAP_H
#define LK_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap {
    char **keys; /* NULL = empty slot */
    uint64_t *values;
    size_t capacity, count;
};

/* FNV-1a of len bytes of text, continuing from h (start with STRMAP_HASH_SEED). */
#define STRMAP_HASH_SEED 1469598103934665603ULL
uint64_t strmap_hash(uint64_t h, const char *text, size_t len);

/* Insert key (copied) with value, or replace the value of an existing key. *added (may be
 * NULL) says whether the key was new. Returns 0, or -1 when out of memory (map unchanged). */
int strmap_put(struct strmap *map, const char *key, uint64_t value, bool *added);

/* Whether key is in the map; *out (may be NULL) gets its value. Cannot fail. */
bool strmap_get(const struct strmap *map, const char *key, uint64_t *out);

/* Free every key and the table; the map is empty again. Cannot fail. */
void strmap_clear(struct strmap *map);

#endif
