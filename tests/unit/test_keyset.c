/* test_keyset.c -- the bounded log of key hashes: distinct or not (the hash 0 included, a
 * repeat anywhere in the log), reset keeps the memory and forgets the hashes, growth keeps
 * every hash, and the cap marks the log full, which is never "all distinct".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "keyset.h"

static void distinct_or_not(void **state)
{
    struct keyset set = {0};
    (void)state;
    assert_true(keyset_all_distinct(&set)); /* empty */
    assert_int_equal(keyset_add(&set, 42), 0);
    assert_int_equal(keyset_add(&set, 0), 0);
    assert_int_equal(keyset_add(&set, UINT64_MAX), 0);
    assert_true(keyset_all_distinct(&set));
    assert_int_equal(keyset_add(&set, 0), 0);
    assert_false(keyset_all_distinct(&set));
    keyset_reset(&set);
    assert_int_equal(set.count, 0);
    assert_non_null(set.hashes);
    assert_int_equal(keyset_add(&set, 0), 0);
    assert_true(keyset_all_distinct(&set));
    keyset_free(&set);
    assert_null(set.hashes);
}

static void growth_keeps_every_hash(void **state)
{
    struct keyset set = {0};
    (void)state;
    /* descending, so the sort has work to do; the repeat is the first hash, added last */
    for (uint64_t i = 100000; i >= 1; i--)
        assert_int_equal(keyset_add(&set, i * 0x9E3779B97F4A7C15ULL), 0);
    assert_int_equal(set.count, 100000);
    assert_true(keyset_all_distinct(&set));
    assert_int_equal(keyset_add(&set, 100000 * 0x9E3779B97F4A7C15ULL), 0);
    assert_false(keyset_all_distinct(&set));
    keyset_free(&set);
}

static void full_at_the_cap(void **state)
{
    struct keyset set = {0};
    uint64_t i = 1;
    (void)state;
    while (keyset_add(&set, i) == 0)
        i++;
    assert_int_equal(set.count, KEYSET_MAX_KEYS);
    assert_int_equal(set.capacity, KEYSET_MAX_KEYS);
    assert_true(set.full);
    assert_false(keyset_all_distinct(&set)); /* distinct, but a hash was left out */
    keyset_reset(&set);
    assert_int_equal(keyset_add(&set, 1), 0);
    assert_true(keyset_all_distinct(&set));
    keyset_free(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(distinct_or_not),
        cmocka_unit_test(growth_keeps_every_hash),
        cmocka_unit_test(full_at_the_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
