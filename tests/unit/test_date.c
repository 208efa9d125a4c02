/* test_date.c -- unit tests for date.c: "YYYY-MM-DD" days and their arithmetic.
 *
 * The arithmetic must agree with the C library's UTC calendar (gmtime_r) over every day of
 * several centuries, across month, year and leap-day boundaries, whatever the local zone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"

static void date_accepts_real_dates_only(void **state)
{
    (void)state;
    assert_true(date_valid("2026-11-20"));
    assert_true(date_valid("2024-02-29"));
    assert_true(date_valid("2000-02-29"));
    assert_true(date_valid("0001-01-01"));
    assert_true(date_valid("9999-12-31"));
    assert_false(date_valid("2026-02-29"));
    assert_false(date_valid("1900-02-29"));
    assert_false(date_valid("2026-02-30"));
    assert_false(date_valid("2026-04-31"));
    assert_false(date_valid("2026-13-01"));
    assert_false(date_valid("2026-00-10"));
    assert_false(date_valid("2026-01-00"));
    assert_false(date_valid("0000-01-01"));
    assert_false(date_valid("2026-1-01"));
    assert_false(date_valid("2026-01-1"));
    assert_false(date_valid("2026-01-01x"));
    assert_false(date_valid("2026/01/01"));
    assert_false(date_valid("+026-01-01"));
    assert_false(date_valid(""));
}

static void date_adds_days_across_boundaries(void **state)
{
    char out[DATE_TEXT_SIZE];

    (void)state;
    date_add_days(out, "2026-11-20", -6);
    assert_string_equal(out, "2026-11-14");
    date_add_days(out, "2026-03-01", -1);
    assert_string_equal(out, "2026-02-28");
    date_add_days(out, "2024-03-01", -1);
    assert_string_equal(out, "2024-02-29");
    date_add_days(out, "2026-12-31", 1);
    assert_string_equal(out, "2027-01-01");
    date_add_days(out, "2027-01-03", -6);
    assert_string_equal(out, "2026-12-28");
    date_add_days(out, "2026-11-20", 0);
    assert_string_equal(out, "2026-11-20");
    date_add_days(out, "1970-01-01", -1);
    assert_string_equal(out, "1969-12-31");
}

static void date_arithmetic_agrees_with_gmtime(void **state)
{
    (void)state;
    /* every day from 1901 to 2099, one step at a time */
    for (time_t t = -2145916800; t < 4102444800; t += 86400) {
        struct tm tm;
        int64_t year;
        int month, day;

        gmtime_r(&t, &tm);
        date_civil_from_days((int64_t)(t / 86400), &year, &month, &day);
        assert_int_equal(year, tm.tm_year + 1900);
        assert_int_equal(month, tm.tm_mon + 1);
        assert_int_equal(day, tm.tm_mday);
        assert_int_equal(date_days_from_civil(year, month, day), t / 86400);
    }
}

static void date_today_is_the_utc_date(void **state)
{
    char today[DATE_TEXT_SIZE], expected[DATE_TEXT_SIZE], again[DATE_TEXT_SIZE];
    time_t now;
    struct tm tm;

    (void)state;
    setenv("TZ", "Pacific/Kiritimati", 1); /* UTC+14: the local date is often tomorrow */
    tzset();
    do {
        now = time(NULL);
        date_today(today);
        gmtime_r(&now, &tm);
        strftime(expected, sizeof expected, "%Y-%m-%d", &tm);
        date_today(again);
    } while (strcmp(today, again) != 0); /* not across a midnight */
    assert_true(date_valid(today));
    assert_string_equal(today, expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(date_accepts_real_dates_only),
        cmocka_unit_test(date_adds_days_across_boundaries),
        cmocka_unit_test(date_arithmetic_agrees_with_gmtime),
        cmocka_unit_test(date_today_is_the_utc_date),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
