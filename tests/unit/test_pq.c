/* test_pq.c -- pq's array literals: a text[] literal quotes every item and escapes `"` and `\`
 * (so an id with a comma, a brace or a quote stays one element), an empty one is `{}`; an
 * integer[] literal lists the numbers, negative ones included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "error.h"
#include "pq.h"

static void text_array_quotes_and_escapes(void **state)
{
    char *const items[] = {"RM_a", "b,c", "{d}", "say \"hi\"", "back\\slash", ""};
    struct lk_error err;
    char *out = NULL;
    (void)state;
    lk_error_init(&err);
    assert_int_equal(pq_text_array(&out, items, sizeof items / sizeof items[0], &err), 0);
    assert_string_equal(out,
                        "{\"RM_a\",\"b,c\",\"{d}\",\"say \\\"hi\\\"\",\"back\\\\slash\",\"\"}");
    free(out);
    assert_int_equal(pq_text_array(&out, NULL, 0, &err), 0);
    assert_string_equal(out, "{}");
    free(out);
}

static void int_array_lists_numbers(void **state)
{
    const int items[] = {1, 5, -9, 2147483647};
    struct lk_error err;
    char *out = NULL;
    (void)state;
    lk_error_init(&err);
    assert_int_equal(pq_int_array(&out, items, 4, &err), 0);
    assert_string_equal(out, "{1,5,-9,2147483647}");
    free(out);
    assert_int_equal(pq_int_array(&out, NULL, 0, &err), 0);
    assert_string_equal(out, "{}");
    free(out);
}

static void strings_free_accepts_null(void **state)
{
    (void)state;
    pq_strings_free(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_array_quotes_and_escapes),
        cmocka_unit_test(int_array_lists_numbers),
        cmocka_unit_test(strings_free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
