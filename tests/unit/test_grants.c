/* test_grants.c -- unit tests for grants.c: the writer's GRANT statements for a role, its name
 * quoted as an identifier whatever it holds, as SQL to run or on one line for a hint; and the
 * hint itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "grants.h"

/* How many times needle occurs in haystack. */
static int occurrences(const char *haystack, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void grants_quote_the_role_in_every_statement(void **state)
{
    char *sql = NULL;
    (void)state;
    assert_int_equal(grants_writer_sql(&sql, "lkarchive_writer", false, NULL), 0);
    assert_int_equal(occurrences(sql, "GRANT "), 5);
    assert_int_equal(occurrences(sql, " TO \"lkarchive_writer\";"), 5);
    assert_null(strstr(sql, "{role}"));
    assert_non_null(strstr(sql, "GRANT USAGE ON SCHEMA livekit TO \"lkarchive_writer\";"));
    free(sql);
    /* a quote in the name is doubled: the name cannot end the identifier */
    assert_int_equal(grants_writer_sql(&sql, "a\"; DROP TABLE x; --", false, NULL), 0);
    assert_int_equal(occurrences(sql, " TO \"a\"\"; DROP TABLE x; --\";"), 5);
    free(sql);
}

static void grants_on_one_line_drop_comments_and_newlines(void **state)
{
    char *sql = NULL;
    (void)state;
    assert_int_equal(grants_writer_sql(&sql, "w", true, NULL), 0);
    assert_null(strchr(sql, '\n'));
    assert_null(strstr(sql, "--"));
    assert_null(strstr(sql, "  "));
    assert_true(strncmp(sql, "GRANT USAGE ON SCHEMA livekit TO \"w\"; GRANT SELECT", 50) == 0);
    assert_non_null(strstr(sql, "livekit.sessions, livekit.participants, livekit."));
    free(sql);
}

static void grants_hint_names_the_command_and_fits(void **state)
{
    char hint[sizeof((struct lk_error *)0)->hint], small[64];
    (void)state;
    grants_writer_hint(hint, sizeof hint, "bob");
    assert_true(strncmp(hint, "as the archive's owner, run `lkarchive grant --writer bob`", 58) ==
                0);
    assert_non_null(strstr(hint, "GRANT USAGE ON SEQUENCE livekit.archive_runs_run_id_seq TO "
                                 "\"bob\";"));
    grants_writer_hint(small, sizeof small, "bob"); /* cut short, never overrun */
    assert_int_equal(strlen(small), sizeof small - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grants_quote_the_role_in_every_statement),
        cmocka_unit_test(grants_on_one_line_drop_comments_and_newlines),
        cmocka_unit_test(grants_hint_names_the_command_and_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
