/* strmap.c -- open-addressing string map; see strmap.h. Load factor at most one half. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t strmap_hash(uint64_t h, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    return h;
}

static size_t slot_of(const struct strmap *map, const char *key)
{
    return strmap_hash(STRMAP_HASH_SEED, key, strlen(key)) & (map->capacity - 1);
}

static int grow(struct strmap *map)
{
    struct strmap grown = {0};

    grown.capacity = map->capacity ? map->capacity * 2 : 256;
    grown.keys = calloc(grown.capacity, sizeof *grown.keys);
    grown.values = calloc(grown.capacity, sizeof *grown.values);
    if (grown.keys == NULL || grown.values == NULL) {
        free(grown.keys);
        free(grown.values);
        return -1;
    }
    for (size_t k = 0; k < map->capacity; k++) {
        size_t i;
        if (map->keys[k] == NULL)
            continue;
        i = slot_of(&grown, map->keys[k]);
        while (grown.keys[i])
            i = (i + 1) & (grown.capacity - 1);
        grown.keys[i] = map->keys[k];
        grown.values[i] = map->values[k];
    }
    grown.count = map->count;
    free(map->keys);
    free(map->values);
    *map = grown;
    return 0;
}

int strmap_put(struct strmap *map, const char *key, uint64_t value, bool *added)
{
    size_t i;

    if ((map->count + 1) * 2 > map->capacity && grow(map) != 0)
        return -1;
    i = slot_of(map, key);
    while (map->keys[i] && strcmp(map->keys[i], key) != 0)
        i = (i + 1) & (map->capacity - 1);
    if (added)
        *added = map->keys[i] == NULL;
    if (map->keys[i] == NULL) {
        if ((map->keys[i] = strdup(key)) == NULL)
            return -1;
        map->count++;
    }
    map->values[i] = value;
    return 0;
}

bool strmap_get(const struct strmap *map, const char *key, uint64_t *out)
{
    size_t i;

    if (map->capacity == 0)
        return false;
    for (i = slot_of(map, key); map->keys[i]; i = (i + 1) & (map->capacity - 1)) {
        if (strcmp(map->keys[i], key) == 0) {
            if (out)
                *out = map->values[i];
            return true;
        }
    }
    return false;
}

void strmap_clear(struct strmap *map)
{
    for (size_t i = 0; i < map->capacity; i++)
        free(map->keys[i]);
    free(map->keys);
    free(map->values);
    memset(map, 0, sizeof *map);
}
