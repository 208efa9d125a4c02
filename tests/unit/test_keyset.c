/* test_keyset.c -- the bounded set of key hashes: new, seen, the hash 0, growth keeps every
 * key, and the cap reports the set full instead of growing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "keyset.h"

static void added_then_seen(void **state)
{
    struct keyset set = {0};
    (void)state;
    assert_int_equal(keyset_add(&set, 42), KEYSET_ADDED);
    assert_int_equal(keyset_add(&set, 43), KEYSET_ADDED);
    assert_int_equal(keyset_add(&set, 42), KEYSET_SEEN);
    assert_int_equal(keyset_add(&set, 0), KEYSET_ADDED); /* stored as 1 */
    assert_int_equal(keyset_add(&set, 1), KEYSET_SEEN);
    keyset_clear(&set);
    assert_int_equal(keyset_add(&set, 42), KEYSET_ADDED);
    keyset_clear(&set);
}

static void growth_keeps_every_key(void **state)
{
    struct keyset set = {0};
    (void)state;
    for (uint64_t i = 1; i <= 100000; i++)
        assert_int_equal(keyset_add(&set, i * 0x10001), KEYSET_ADDED);
    for (uint64_t i = 1; i <= 100000; i++)
        assert_int_equal(keyset_add(&set, i * 0x10001), KEYSET_SEEN);
    assert_int_equal(set.count, 100000);
    keyset_clear(&set);
}

static void full_at_the_cap(void **state)
{
    struct keyset set = {0};
    uint64_t i = 1;
    (void)state;
    while (keyset_add(&set, i) == KEYSET_ADDED)
        i++;
    assert_int_equal(set.capacity, KEYSET_MAX_SLOTS);
    assert_int_equal(set.count, KEYSET_MAX_SLOTS / 2);
    assert_int_equal(keyset_add(&set, 1), KEYSET_SEEN); /* what it holds it still knows */
    keyset_clear(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(added_then_seen),
        cmocka_unit_test(growth_keeps_every_key),
        cmocka_unit_test(full_at_the_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
