/* paging.c -- list page arithmetic; see paging.h. Pure functions but for the strmap. */
#include "paging.h"

#include <assert.h>

#include "strmap.h"

int paging_batch_size(int max_concurrency)
{
    if (max_concurrency < 1)
        return 1;
    return max_concurrency < PAGING_MAX_BATCH ? max_concurrency : PAGING_MAX_BATCH;
}

long long paging_page_index(const struct paging *p, int i)
{
    assert(p->limit >= 1 && i >= 0);
    return p->offset / p->limit + i;
}

bool paging_can_halve(const struct paging *p)
{
    return p->limit > p->min_limit;
}

void paging_halve_at(struct paging *p, int i)
{
    assert(p->min_limit >= 1);
    p->offset += (long long)i * p->limit;
    p->limit = p->limit / 2 > p->min_limit ? p->limit / 2 : p->min_limit;
}

void paging_advance(struct paging *p, int pages)
{
    p->offset += (long long)pages * p->limit;
}

bool paging_is_last(size_t records, int limit)
{
    return records < (size_t)limit;
}

int paging_check_repeat(struct strmap *firsts, const char *first_id, int new_ids, bool *repeats_out)
{
    bool added;

    if (strmap_put(firsts, first_id ? first_id : "", 0, &added) != 0)
        return -1;
    *repeats_out = !added || new_ids == 0;
    return 0;
}
