/* paging.h -- the arithmetic of a day's list pages, without any I/O.
 *
 * The list is read in batches of pages asked for at once. struct paging says where the
 * current batch starts (offset: sessions before it) and the page size. The API addresses a
 * page by index at a given limit, so when a page that timed out is asked for again at half
 * the size from its own offset, the index is offset / limit rounded down: the page may start
 * a few sessions early, never late (a session seen twice is stored once). A short or empty
 * page ends the list; a full page that starts like an earlier one, or brings no session not
 * seen before, means the API ignores `page`.
 */
#ifndef LK_PAGING_H
#define LK_PAGING_H

#include <stdbool.h>
#include <stddef.h>

struct strmap;

/* At most this many pages are asked for at once. */
#define PAGING_MAX_BATCH 16

struct paging {
    long long offset; /* sessions before the current batch */
    int limit;        /* sessions per page, >= min_limit */
    int min_limit;    /* halving stops here, >= 1 */
};

/* Pages per batch for max_concurrency parallel requests: 1..PAGING_MAX_BATCH. */
int paging_batch_size(int max_concurrency);

/* The index of the batch's i-th page (i from 0). Cannot fail. */
long long paging_page_index(const struct paging *p, int i);

/* Whether the page can still be made smaller (else a page that timed out is retried as is). */
bool paging_can_halve(const struct paging *p);

/* The batch's page i timed out: the next batch starts at that page's offset with half the
 * limit, not below min_limit. Cannot fail. */
void paging_halve_at(struct paging *p, int i);

/* The batch's `pages` pages were all read: the next batch starts after them. */
void paging_advance(struct paging *p, int pages);

/* Whether a page of `records` sessions asked for at `limit` is the last one. */
bool paging_is_last(size_t records, int limit);

/* Remember a full page's first session id (NULL: none) in firsts; *repeats_out says whether
 * the page starts like an earlier one or brought no new session (new_ids == 0), so the API
 * ignores `page`. Returns 0, or -1 when out of memory. */
int paging_check_repeat(struct strmap *firsts, const char *first_id, int new_ids,
                        bool *repeats_out);

#endif
