/* test_convert.c -- unit tests for convert.c: upstream scalars to canonical column text.
 *
 * Each test names one behaviour: which timestamp forms the Analytics API may send and what
 * text PostgreSQL gets for them (always UTC, "YYYY-MM-DD HH:MM:SS[.f]+00"), which forms mean
 * "not set" (CONVERT_UNSET -> SQL NULL), and which are rejected (CONVERT_INVALID -> NULL in
 * the column, the original kept in extra). Inputs are passed with an explicit length and
 * are not read past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "convert.h"

static const char *result_name(enum convert_result result)
{
    switch (result) {
    case CONVERT_OK:
        return "CONVERT_OK";
    case CONVERT_UNSET:
        return "CONVERT_UNSET";
    case CONVERT_INVALID:
        return "CONVERT_INVALID";
    default:
        return "(not a convert_result)";
    }
}

/* Compare a result and, for CONVERT_OK, the text written; report the input on failure. */
static void check_result(const char *fn, const char *input, enum convert_result got,
                         const char *got_out, enum convert_result want, const char *want_out,
                         const char *file, int line)
{
    if (got != want) {
        print_error("%s(\"%s\") returned %s, expected %s\n", fn, input, result_name(got),
                    result_name(want));
        _fail(file, line);
    }
    if (want == CONVERT_OK && strcmp(got_out, want_out) != 0) {
        print_error("%s(\"%s\") wrote \"%s\", expected \"%s\"\n", fn, input, got_out, want_out);
        _fail(file, line);
    }
}

static void check_text_at(const char *input, enum convert_result want, const char *want_out,
                          const char *file, int line)
{
    char out[CONVERT_TIMESTAMP_MAX];
    memset(out, 'x', sizeof out);
    out[sizeof out - 1] = '\0';
    enum convert_result got = convert_timestamp_text(input, strlen(input), out);
    check_result("convert_timestamp_text", input, got, out, want, want_out, file, line);
}

static void check_epoch_at(const char *input, enum convert_result want, const char *want_out,
                           const char *file, int line)
{
    char out[CONVERT_TIMESTAMP_MAX] = "";
    enum convert_result got = convert_timestamp_epoch(input, strlen(input), out);
    check_result("convert_timestamp_epoch", input, got, out, want, want_out, file, line);
}

static void check_parts_at(const char *seconds, const char *nanos, enum convert_result want,
                           const char *want_out, const char *file, int line)
{
    char out[CONVERT_TIMESTAMP_MAX] = "";
    char input[96];
    enum convert_result got = convert_timestamp_parts(seconds, seconds ? strlen(seconds) : 0, nanos,
                                                      nanos ? strlen(nanos) : 0, out);
    snprintf(input, sizeof input, "seconds=%s, nanos=%s", seconds ? seconds : "(null)",
             nanos ? nanos : "(null)");
    check_result("convert_timestamp_parts", input, got, out, want, want_out, file, line);
}

static void check_integer_at(const char *input, int64_t min, int64_t max, enum convert_result want,
                             const char *want_out, const char *file, int line)
{
    char out[CONVERT_INT_MAX] = "";
    enum convert_result got = convert_integer(input, strlen(input), min, max, out);
    check_result("convert_integer", input, got, out, want, want_out, file, line);
}

static void check_numeric_at(const char *input, enum convert_result want, const char *file,
                             int line)
{
    enum convert_result got = convert_numeric(input, strlen(input));
    check_result("convert_numeric", input, got, "", want, "", file, line);
}

#define text_ok(input, expected) check_text_at((input), CONVERT_OK, (expected), __FILE__, __LINE__)
#define text_unset(input) check_text_at((input), CONVERT_UNSET, NULL, __FILE__, __LINE__)
#define text_invalid(input) check_text_at((input), CONVERT_INVALID, NULL, __FILE__, __LINE__)
#define epoch_ok(input, expected)                                                                  \
    check_epoch_at((input), CONVERT_OK, (expected), __FILE__, __LINE__)
#define epoch_unset(input) check_epoch_at((input), CONVERT_UNSET, NULL, __FILE__, __LINE__)
#define epoch_invalid(input) check_epoch_at((input), CONVERT_INVALID, NULL, __FILE__, __LINE__)
#define parts_ok(s, n, expected)                                                                   \
    check_parts_at((s), (n), CONVERT_OK, (expected), __FILE__, __LINE__)
#define parts_unset(s, n) check_parts_at((s), (n), CONVERT_UNSET, NULL, __FILE__, __LINE__)
#define parts_invalid(s, n) check_parts_at((s), (n), CONVERT_INVALID, NULL, __FILE__, __LINE__)
#define int_ok(input, min, max, expected)                                                          \
    check_integer_at((input), (min), (max), CONVERT_OK, (expected), __FILE__, __LINE__)
#define int_invalid(input, min, max)                                                               \
    check_integer_at((input), (min), (max), CONVERT_INVALID, NULL, __FILE__, __LINE__)
#define numeric_ok(input) check_numeric_at((input), CONVERT_OK, __FILE__, __LINE__)
#define numeric_invalid(input) check_numeric_at((input), CONVERT_INVALID, __FILE__, __LINE__)

/* ---- RFC 3339 text ---- */

static void convert_accepts_rfc3339_without_fraction(void **state)
{
    (void)state;
    text_ok("2026-11-27T10:00:00Z", "2026-11-27 10:00:00+00");
    text_ok("2026-01-01T00:00:00Z", "2026-01-01 00:00:00+00");
    text_ok("2026-12-31T23:59:59Z", "2026-12-31 23:59:59+00");
}

static void convert_accepts_rfc3339_with_millis(void **state)
{
    (void)state;
    text_ok("2026-11-27T10:00:00.123Z", "2026-11-27 10:00:00.123+00");
}

static void convert_accepts_rfc3339_with_nanos(void **state)
{
    (void)state;
    text_ok("2026-11-27T10:00:00.123456789Z", "2026-11-27 10:00:00.123456789+00");
    text_ok("2026-11-27T10:00:00.000000001Z", "2026-11-27 10:00:00.000000001+00");
}

static void convert_keeps_fraction_digits_as_sent(void **state)
{
    (void)state;
    text_ok("2026-11-27T10:00:00.5Z", "2026-11-27 10:00:00.5+00");
    text_ok("2026-11-27T10:00:00.000Z", "2026-11-27 10:00:00.000+00");
    text_ok("2026-11-27T10:00:00.120000Z", "2026-11-27 10:00:00.120000+00");
}

static void convert_applies_positive_offset(void **state)
{
    (void)state;
    text_ok("2026-11-27T12:30:00+02:00", "2026-11-27 10:30:00+00");
    text_ok("2026-11-27T12:30:00.250+02:00", "2026-11-27 10:30:00.250+00");
    text_ok("2026-11-27T10:00:00+00:00", "2026-11-27 10:00:00+00");
}

static void convert_applies_negative_half_hour_offset(void **state)
{
    (void)state;
    /* -05:30 is behind UTC: add 5h30 to get UTC, crossing midnight */
    text_ok("2026-11-27T22:00:00-05:30", "2026-11-28 03:30:00+00");
    text_ok("2026-11-27T10:15:30.5-05:30", "2026-11-27 15:45:30.5+00");
    text_ok("2026-11-27T10:00:00-00:00", "2026-11-27 10:00:00+00");
}

static void convert_offset_crosses_year_and_leap_day(void **state)
{
    (void)state;
    text_ok("2027-01-01T01:00:00+02:00", "2026-12-31 23:00:00+00");
    text_ok("2026-12-31T23:00:00-02:00", "2027-01-01 01:00:00+00");
    text_ok("2024-02-28T23:00:00-02:00", "2024-02-29 01:00:00+00");
    text_ok("2024-03-01T00:30:00+01:00", "2024-02-29 23:30:00+00");
    text_ok("2026-03-01T00:30:00+01:00", "2026-02-28 23:30:00+00");
    text_ok("2026-11-27T10:00:00+23:59", "2026-11-26 10:01:00+00");
}

static void convert_accepts_lowercase_t_and_z(void **state)
{
    (void)state;
    text_ok("2026-11-27t10:00:00z", "2026-11-27 10:00:00+00");
    text_ok("2026-11-27t10:00:00.75Z", "2026-11-27 10:00:00.75+00");
}

static void convert_accepts_space_separator(void **state)
{
    (void)state;
    text_ok("2026-11-27 10:00:00Z", "2026-11-27 10:00:00+00");
    text_ok("2026-11-27 10:00:00.001+01:00", "2026-11-27 09:00:00.001+00");
}

static void convert_accepts_leap_day_in_leap_years(void **state)
{
    (void)state;
    text_ok("2024-02-29T12:00:00Z", "2024-02-29 12:00:00+00");
    text_ok("2000-02-29T12:00:00Z", "2000-02-29 12:00:00+00");
}

static void convert_rolls_leap_second_into_next_minute(void **state)
{
    (void)state;
    /* RFC 3339 allows second 60; PostgreSQL reads it as the next minute too */
    text_ok("2016-12-31T23:59:60Z", "2017-01-01 00:00:00+00");
}

static void convert_accepts_year_range_limits(void **state)
{
    (void)state;
    text_ok("0001-01-01T00:00:01Z", "0001-01-01 00:00:01+00");
    text_ok("9999-12-31T23:59:59.999999999Z", "9999-12-31 23:59:59.999999999+00");
    text_ok("1969-12-31T23:59:59Z", "1969-12-31 23:59:59+00");
    text_ok("1970-01-01T00:00:00Z", "1970-01-01 00:00:00+00");
}

static void convert_treats_go_zero_time_as_unset(void **state)
{
    (void)state;
    text_unset("0001-01-01T00:00:00Z");
    text_unset("0001-01-01T00:00:00.000Z");
    text_unset("0001-01-01T00:00:00.000000000Z");
    text_unset("0001-01-01t00:00:00z");
    text_unset("0001-01-01 00:00:00+00:00");
}

static void convert_treats_empty_timestamp_as_unset(void **state)
{
    (void)state;
    text_unset("");
}

static void convert_reads_only_len_bytes(void **state)
{
    static const char buffer[] = "2026-11-27T10:00:00Zgarbage";
    char out[CONVERT_TIMESTAMP_MAX];
    (void)state;
    assert_int_equal(convert_timestamp_text(buffer, 20, out), CONVERT_OK);
    assert_string_equal(out, "2026-11-27 10:00:00+00");
    assert_int_equal(convert_timestamp_text(buffer, 19, out), CONVERT_INVALID);
    assert_int_equal(convert_timestamp_text(buffer, 0, out), CONVERT_UNSET);
}

static void convert_rejects_words(void **state)
{
    (void)state;
    text_invalid("yesterday");
    text_invalid("now");
    text_invalid("null");
    text_invalid("-");
}

static void convert_rejects_month_13(void **state)
{
    (void)state;
    text_invalid("2026-13-01T00:00:00Z");
    text_invalid("2026-00-01T00:00:00Z");
}

static void convert_rejects_feb_29_in_non_leap_year(void **state)
{
    (void)state;
    text_invalid("2026-02-29T00:00:00Z");
    text_invalid("2100-02-29T00:00:00Z");
    text_invalid("2026-02-30T00:00:00Z");
}

static void convert_rejects_impossible_days_and_times(void **state)
{
    (void)state;
    text_invalid("2026-04-31T00:00:00Z");
    text_invalid("2026-11-00T00:00:00Z");
    text_invalid("2026-11-32T00:00:00Z");
    text_invalid("2026-11-27T24:00:00Z");
    text_invalid("2026-11-27T10:60:00Z");
    text_invalid("2026-11-27T10:00:61Z");
}

static void convert_rejects_missing_zone(void **state)
{
    (void)state;
    text_invalid("2026-11-27T10:00:00");
    text_invalid("2026-11-27T10:00:00.123");
    text_invalid("2026-11-27 10:00:00");
}

static void convert_rejects_bad_zone_offsets(void **state)
{
    (void)state;
    text_invalid("2026-11-27T10:00:00+0200");
    text_invalid("2026-11-27T10:00:00+02");
    text_invalid("2026-11-27T10:00:00+24:00");
    text_invalid("2026-11-27T10:00:00+02:60");
    text_invalid("2026-11-27T10:00:00 UTC");
}

static void convert_rejects_ten_fraction_digits(void **state)
{
    (void)state;
    text_invalid("2026-11-27T10:00:00.1234567890Z");
}

static void convert_rejects_empty_fraction(void **state)
{
    (void)state;
    text_invalid("2026-11-27T10:00:00.Z");
}

static void convert_rejects_trailing_garbage(void **state)
{
    (void)state;
    text_invalid("2026-11-27T10:00:00Zabc");
    text_invalid("2026-11-27T10:00:00Z ");
    text_invalid("2026-11-27T10:00:00+02:00:00");
    text_invalid(" 2026-11-27T10:00:00Z");
}

static void convert_rejects_bad_separators(void **state)
{
    (void)state;
    text_invalid("2026-11-27X10:00:00Z");
    text_invalid("2026/11/27T10:00:00Z");
    text_invalid("2026-11-27T10.00.00Z");
    text_invalid("2026-11-27");
    text_invalid("2026-11-27T");
    text_invalid("26-11-27T10:00:00Z");
}

static void convert_rejects_year_0_and_10000(void **state)
{
    (void)state;
    text_invalid("0000-01-01T00:00:00Z");
    text_invalid("10000-01-01T00:00:00Z");
    /* an offset must not move a valid-looking time out of 1..9999 either */
    text_invalid("9999-12-31T23:00:00-01:00");
    text_invalid("0001-01-01T00:30:00+01:00");
}

/* ---- epoch seconds ---- */

static void convert_accepts_epoch_seconds_as_string(void **state)
{
    (void)state;
    text_ok("1795773600", "2026-11-27 10:00:00+00");
    text_ok("1795773600.25", "2026-11-27 10:00:00.25+00");
    text_ok("1", "1970-01-01 00:00:01+00");
}

static void convert_accepts_epoch_seconds_as_number(void **state)
{
    (void)state;
    epoch_ok("1795773600", "2026-11-27 10:00:00+00");
    epoch_ok("1764237600", "2025-11-27 10:00:00+00");
    epoch_ok("1795773600.123456789", "2026-11-27 10:00:00.123456789+00");
    epoch_ok("0.5", "1970-01-01 00:00:00.5+00");
    epoch_ok("253402300799", "9999-12-31 23:59:59+00");
}

static void convert_treats_epoch_zero_as_unset(void **state)
{
    (void)state;
    epoch_unset("0");
    epoch_unset("0.0");
    epoch_unset("000");
    text_unset("0");
    text_unset("0.000");
}

static void convert_rejects_bad_epoch_numbers(void **state)
{
    (void)state;
    epoch_invalid("-1");
    epoch_invalid("1e9");
    epoch_invalid("1.");
    epoch_invalid(".5");
    epoch_invalid("");
    epoch_invalid("1795773600.1234567890"); /* 10 fraction digits */
    epoch_invalid("1000000000000");         /* 13 digits */
    epoch_invalid("253402300800");          /* year 10000 */
    epoch_invalid("12abc");
    text_invalid("1.2.3");
    text_invalid("-1795773600");
}

/* ---- protobuf {seconds, nanos} ---- */

static void convert_accepts_parts_with_string_seconds(void **state)
{
    (void)state;
    parts_ok("1795773600", NULL, "2026-11-27 10:00:00+00");
    parts_ok("1795773600", "0", "2026-11-27 10:00:00+00");
    parts_ok("1795773600", "500000000", "2026-11-27 10:00:00.500000000+00");
    parts_ok("253402300799", "999999999", "9999-12-31 23:59:59.999999999+00");
}

static void convert_pads_nanos_to_nine_digits(void **state)
{
    (void)state;
    parts_ok("1795773600", "5", "2026-11-27 10:00:00.000000005+00");
    parts_ok("1795773600", "123", "2026-11-27 10:00:00.000000123+00");
    parts_ok("1795773600", "0000123", "2026-11-27 10:00:00.000000123+00");
    parts_ok(NULL, "1", "1970-01-01 00:00:00.000000001+00");
}

static void convert_treats_zero_parts_as_unset(void **state)
{
    (void)state;
    parts_unset("0", "0");
    parts_unset(NULL, NULL);
    parts_unset("0", NULL);
    parts_unset(NULL, "0");
    parts_unset("000", "00");
}

static void convert_rejects_bad_parts(void **state)
{
    (void)state;
    parts_invalid("-1", "0");
    parts_invalid("abc", NULL);
    parts_invalid("1795773600.5", NULL);
    parts_invalid("", NULL);
    parts_invalid("253402300800", NULL); /* year 10000 */
    parts_invalid("1795773600", "1000000000");
    parts_invalid("1795773600", "-1");
    parts_invalid("1795773600", "1e3");
    parts_invalid("99999999999999999999999", NULL);
}

/* ---- integers ---- */

static void convert_integer_accepts_int64_limits(void **state)
{
    (void)state;
    int_ok("9223372036854775807", INT64_MIN, INT64_MAX, "9223372036854775807");
    int_ok("-9223372036854775808", INT64_MIN, INT64_MAX, "-9223372036854775808");
    int_ok("9007199254740993", INT64_MIN, INT64_MAX, "9007199254740993"); /* 2^53 + 1 */
    int_ok("0", INT64_MIN, INT64_MAX, "0");
    int_ok("-1", INT64_MIN, INT64_MAX, "-1");
}

static void convert_integer_rejects_one_past_int64(void **state)
{
    (void)state;
    int_invalid("9223372036854775808", INT64_MIN, INT64_MAX);
    int_invalid("-9223372036854775809", INT64_MIN, INT64_MAX);
    int_invalid("18446744073709551616", INT64_MIN, INT64_MAX);
    int_invalid("99999999999999999999999999999", INT64_MIN, INT64_MAX);
    /* -2^63 is only representable when the column's minimum allows it */
    int_invalid("-9223372036854775808", INT64_MIN + 1, INT64_MAX);
}

static void convert_integer_rejects_non_integers(void **state)
{
    (void)state;
    int_invalid("12abc", INT64_MIN, INT64_MAX);
    int_invalid("1.5", INT64_MIN, INT64_MAX);
    int_invalid("1.0", INT64_MIN, INT64_MAX);
    int_invalid("+5", INT64_MIN, INT64_MAX);
    int_invalid("", INT64_MIN, INT64_MAX);
    int_invalid("-", INT64_MIN, INT64_MAX);
    int_invalid("--5", INT64_MIN, INT64_MAX);
    int_invalid(" 5", INT64_MIN, INT64_MAX);
    int_invalid("5 ", INT64_MIN, INT64_MAX);
    int_invalid("1e3", INT64_MIN, INT64_MAX);
    int_invalid("0x10", INT64_MIN, INT64_MAX);
}

static void convert_integer_normalises_leading_zeros(void **state)
{
    (void)state;
    int_ok("007", INT64_MIN, INT64_MAX, "7");
    int_ok("-007", INT64_MIN, INT64_MAX, "-7");
    int_ok("000", INT64_MIN, INT64_MAX, "0");
    int_ok("-0", INT64_MIN, INT64_MAX, "0");
    int_ok("00009223372036854775807", INT64_MIN, INT64_MAX, "9223372036854775807");
    int_ok("0032767", INT16_MIN, INT16_MAX, "32767");
}

static void convert_integer_enforces_int16_range(void **state)
{
    (void)state;
    int_ok("32767", INT16_MIN, INT16_MAX, "32767");
    int_ok("-32768", INT16_MIN, INT16_MAX, "-32768");
    int_invalid("32768", INT16_MIN, INT16_MAX);
    int_invalid("-32769", INT16_MIN, INT16_MAX);
    int_invalid("9223372036854775807", INT16_MIN, INT16_MAX);
}

static void convert_integer_enforces_int32_range(void **state)
{
    (void)state;
    int_ok("2147483647", INT32_MIN, INT32_MAX, "2147483647");
    int_ok("-2147483648", INT32_MIN, INT32_MAX, "-2147483648");
    int_invalid("2147483648", INT32_MIN, INT32_MAX);
    int_invalid("-2147483649", INT32_MIN, INT32_MAX);
}

static void convert_integer_enforces_both_ends_of_any_range(void **state)
{
    (void)state;
    /* the contract is [min, max] whatever their signs */
    int_ok("10", 10, 20, "10");
    int_ok("20", 10, 20, "20");
    int_invalid("9", 10, 20);
    int_invalid("0", 10, 20);
    int_invalid("-5", 10, 20);
    int_ok("-10", -20, -10, "-10");
    int_invalid("-9", -20, -10);
    int_invalid("-0", -20, -10);
    int_invalid("5", -20, -10);
}

/* ---- numeric ---- */

static void convert_numeric_accepts_json_numbers(void **state)
{
    (void)state;
    numeric_ok("123.45");
    numeric_ok("-0.5");
    numeric_ok("0");
    numeric_ok("42");
    numeric_ok("-12");
    numeric_ok("1e3");
    numeric_ok("1E-3");
    numeric_ok("1.5e+10");
    numeric_ok("1e999");
}

static void convert_numeric_rejects_nan_and_infinity(void **state)
{
    (void)state;
    numeric_invalid("NaN");
    numeric_invalid("nan");
    numeric_invalid("Infinity");
    numeric_invalid("-Infinity");
}

static void convert_numeric_rejects_malformed_numbers(void **state)
{
    (void)state;
    numeric_invalid("1.");
    numeric_invalid(".5");
    numeric_invalid("-.5");
    numeric_invalid("");
    numeric_invalid("-");
    numeric_invalid("+1");
    numeric_invalid("1e");
    numeric_invalid("1e+");
    numeric_invalid("12abc");
    numeric_invalid(" 1");
    numeric_invalid("1 ");
    numeric_invalid("0x1F");
    numeric_invalid("1.2.3");
}

/* numeric_ok/numeric_invalid of "<head><count times c><tail>" */
static void numeric_repeat(const char *head, char c, size_t count, const char *tail, bool ok)
{
    size_t head_len = strlen(head), tail_len = strlen(tail);
    char *text = malloc(head_len + count + tail_len + 1);

    assert_non_null(text);
    memcpy(text, head, head_len);
    memset(text + head_len, c, count);
    memcpy(text + head_len + count, tail, tail_len + 1);
    if (ok)
        numeric_ok(text);
    else
        numeric_invalid(text);
    free(text);
}

static void convert_numeric_holds_exactly_what_postgresql_holds(void **state)
{
    (void)state;
    /* every edge below was checked against PostgreSQL 15 ('...'::numeric and ::jsonb) */
    numeric_ok("1e1000"); /* was refused before: PostgreSQL takes it */
    numeric_ok("1e131071");
    numeric_ok("9.9e131071");
    numeric_invalid("1e131072");
    numeric_ok("0.0001e131075");
    numeric_invalid("0.0001e131076");
    numeric_repeat("1", '0', 131071, "", true);
    numeric_repeat("1", '0', 131072, "", false);
    numeric_repeat("-000", '0', 200000, "1", true); /* leading zeros are no digits */
    /* at most 16383 digits after the point, counting trailing zeros and the exponent */
    numeric_ok("1e-16383");
    numeric_ok("1e-0016383");
    numeric_invalid("1e-16384");
    numeric_invalid("-0.5e-16383");
    numeric_repeat("1.", '0', 16383, "", true);
    numeric_repeat("1.", '0', 16384, "", false);
    numeric_repeat("1.", '0', 16384, "e1", true);
    numeric_repeat("0.", '0', 16384, "", false);
    /* zero has no weight, but the exponent and the scale still count */
    numeric_ok("0e99999999");
    numeric_ok("0e1073741822");
    numeric_invalid("0e1073741823");
    numeric_invalid("0e-16384");
    numeric_invalid("1e99999999999999999999");
    numeric_invalid("1e-99999999999999999999");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(convert_accepts_rfc3339_without_fraction),
        cmocka_unit_test(convert_accepts_rfc3339_with_millis),
        cmocka_unit_test(convert_accepts_rfc3339_with_nanos),
        cmocka_unit_test(convert_keeps_fraction_digits_as_sent),
        cmocka_unit_test(convert_applies_positive_offset),
        cmocka_unit_test(convert_applies_negative_half_hour_offset),
        cmocka_unit_test(convert_offset_crosses_year_and_leap_day),
        cmocka_unit_test(convert_accepts_lowercase_t_and_z),
        cmocka_unit_test(convert_accepts_space_separator),
        cmocka_unit_test(convert_accepts_leap_day_in_leap_years),
        cmocka_unit_test(convert_rolls_leap_second_into_next_minute),
        cmocka_unit_test(convert_accepts_year_range_limits),
        cmocka_unit_test(convert_treats_go_zero_time_as_unset),
        cmocka_unit_test(convert_treats_empty_timestamp_as_unset),
        cmocka_unit_test(convert_reads_only_len_bytes),
        cmocka_unit_test(convert_rejects_words),
        cmocka_unit_test(convert_rejects_month_13),
        cmocka_unit_test(convert_rejects_feb_29_in_non_leap_year),
        cmocka_unit_test(convert_rejects_impossible_days_and_times),
        cmocka_unit_test(convert_rejects_missing_zone),
        cmocka_unit_test(convert_rejects_bad_zone_offsets),
        cmocka_unit_test(convert_rejects_ten_fraction_digits),
        cmocka_unit_test(convert_rejects_empty_fraction),
        cmocka_unit_test(convert_rejects_trailing_garbage),
        cmocka_unit_test(convert_rejects_bad_separators),
        cmocka_unit_test(convert_rejects_year_0_and_10000),
        cmocka_unit_test(convert_accepts_epoch_seconds_as_string),
        cmocka_unit_test(convert_accepts_epoch_seconds_as_number),
        cmocka_unit_test(convert_treats_epoch_zero_as_unset),
        cmocka_unit_test(convert_rejects_bad_epoch_numbers),
        cmocka_unit_test(convert_accepts_parts_with_string_seconds),
        cmocka_unit_test(convert_pads_nanos_to_nine_digits),
        cmocka_unit_test(convert_treats_zero_parts_as_unset),
        cmocka_unit_test(convert_rejects_bad_parts),
        cmocka_unit_test(convert_integer_accepts_int64_limits),
        cmocka_unit_test(convert_integer_rejects_one_past_int64),
        cmocka_unit_test(convert_integer_rejects_non_integers),
        cmocka_unit_test(convert_integer_normalises_leading_zeros),
        cmocka_unit_test(convert_integer_enforces_int16_range),
        cmocka_unit_test(convert_integer_enforces_int32_range),
        cmocka_unit_test(convert_integer_enforces_both_ends_of_any_range),
        cmocka_unit_test(convert_numeric_accepts_json_numbers),
        cmocka_unit_test(convert_numeric_rejects_nan_and_infinity),
        cmocka_unit_test(convert_numeric_rejects_malformed_numbers),
        cmocka_unit_test(convert_numeric_holds_exactly_what_postgresql_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
