/* test_paging.c -- unit tests for paging.c: which list page to ask for, and when to stop.
 *
 * No network, no database: the page arithmetic is pure, and repeat detection only needs a
 * strmap. A page that timed out is asked for again at half the size from its own offset,
 * from any page of any batch, never below the minimum; the page index scales with the size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "paging.h"
#include "strmap.h"

static void paging_asks_for_consecutive_pages(void **state)
{
    struct paging p = {0, 100, 10};

    (void)state;
    assert_int_equal(paging_page_index(&p, 0), 0);
    assert_int_equal(paging_page_index(&p, 7), 7);
    paging_advance(&p, 8);
    assert_int_equal(p.offset, 800);
    assert_int_equal(paging_page_index(&p, 0), 8);
    assert_int_equal(paging_page_index(&p, 3), 11);
}

static void paging_halves_from_the_first_page(void **state)
{
    struct paging p = {0, 40, 5};

    (void)state;
    assert_true(paging_can_halve(&p));
    paging_halve_at(&p, 0);
    assert_int_equal(p.offset, 0);
    assert_int_equal(p.limit, 20);
    assert_int_equal(paging_page_index(&p, 0), 0);
    assert_int_equal(paging_page_index(&p, 1), 1);
}

static void paging_halves_from_any_page_of_the_batch(void **state)
{
    struct paging p = {0, 40, 5};

    (void)state;
    paging_halve_at(&p, 2); /* pages 0 and 1 were read: 80 sessions */
    assert_int_equal(p.offset, 80);
    assert_int_equal(p.limit, 20);
    assert_int_equal(paging_page_index(&p, 0), 4); /* 4 * 20 = 80: the same offset */
    assert_int_equal(paging_page_index(&p, 1), 5);
}

static void paging_halves_after_earlier_batches(void **state)
{
    struct paging p = {0, 40, 5};

    (void)state;
    paging_advance(&p, 4); /* 160 */
    paging_halve_at(&p, 3);
    assert_int_equal(p.offset, 280);
    assert_int_equal(p.limit, 20);
    assert_int_equal(paging_page_index(&p, 0), 14);
    paging_halve_at(&p, 1); /* again, one page into the smaller batch */
    assert_int_equal(p.offset, 300);
    assert_int_equal(p.limit, 10);
    assert_int_equal(paging_page_index(&p, 0), 30);
}

static void paging_index_rounds_down_never_skipping_a_session(void **state)
{
    struct paging p = {0, 100, 12};

    (void)state;
    paging_halve_at(&p, 0); /* 50 */
    paging_halve_at(&p, 3); /* 150 at 25 */
    paging_halve_at(&p, 1); /* 175 at 12 */
    assert_int_equal(p.offset, 175);
    assert_int_equal(p.limit, 12);
    /* page 14 at 12 starts at session 168: a little early, never after 175 */
    assert_int_equal(paging_page_index(&p, 0), 14);
    assert_true(paging_page_index(&p, 0) * p.limit <= p.offset);
    assert_true((paging_page_index(&p, 0) + 1) * p.limit > p.offset);
}

static void paging_never_goes_below_the_minimum_limit(void **state)
{
    struct paging p = {0, 15, 10};

    (void)state;
    assert_true(paging_can_halve(&p));
    paging_halve_at(&p, 0);
    assert_int_equal(p.limit, 10); /* not 7 */
    assert_false(paging_can_halve(&p));
    p = (struct paging){0, 1, 1};
    assert_false(paging_can_halve(&p));
    p = (struct paging){0, 3, 1};
    paging_halve_at(&p, 0);
    assert_int_equal(p.limit, 1);
}

static void paging_short_or_empty_page_is_the_last(void **state)
{
    (void)state;
    assert_true(paging_is_last(0, 100));
    assert_true(paging_is_last(99, 100));
    assert_false(paging_is_last(100, 100));
    assert_false(paging_is_last(1, 1));
}

static void paging_batch_size_follows_concurrency_within_bounds(void **state)
{
    (void)state;
    assert_int_equal(paging_batch_size(0), 1);
    assert_int_equal(paging_batch_size(1), 1);
    assert_int_equal(paging_batch_size(8), 8);
    assert_int_equal(paging_batch_size(PAGING_MAX_BATCH), PAGING_MAX_BATCH);
    assert_int_equal(paging_batch_size(64), PAGING_MAX_BATCH);
}

static void paging_detects_a_page_repeating_an_earlier_first_id(void **state)
{
    struct strmap firsts = {0};
    bool repeats = true;

    (void)state;
    assert_int_equal(paging_check_repeat(&firsts, "RM_a", 5, &repeats), 0);
    assert_false(repeats);
    assert_int_equal(paging_check_repeat(&firsts, "RM_b", 5, &repeats), 0);
    assert_false(repeats);
    assert_int_equal(paging_check_repeat(&firsts, "RM_a", 5, &repeats), 0);
    assert_true(repeats);
    strmap_clear(&firsts);
}

static void paging_detects_a_page_without_new_sessions(void **state)
{
    struct strmap firsts = {0};
    bool repeats = false;

    (void)state;
    /* live data shifts sessions: a new first id, but nothing not seen before */
    assert_int_equal(paging_check_repeat(&firsts, "RM_c", 0, &repeats), 0);
    assert_true(repeats);
    /* a page without a first id counts as "" once */
    assert_int_equal(paging_check_repeat(&firsts, NULL, 3, &repeats), 0);
    assert_false(repeats);
    assert_int_equal(paging_check_repeat(&firsts, NULL, 3, &repeats), 0);
    assert_true(repeats);
    strmap_clear(&firsts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paging_asks_for_consecutive_pages),
        cmocka_unit_test(paging_halves_from_the_first_page),
        cmocka_unit_test(paging_halves_from_any_page_of_the_batch),
        cmocka_unit_test(paging_halves_after_earlier_batches),
        cmocka_unit_test(paging_index_rounds_down_never_skipping_a_session),
        cmocka_unit_test(paging_never_goes_below_the_minimum_limit),
        cmocka_unit_test(paging_short_or_empty_page_is_the_last),
        cmocka_unit_test(paging_batch_size_follows_concurrency_within_bounds),
        cmocka_unit_test(paging_detects_a_page_repeating_an_earlier_first_id),
        cmocka_unit_test(paging_detects_a_page_without_new_sessions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
