/* test_copy_binary.c -- binary COPY fields from canonical text: the bytes of each type, NULL,
 * and every text that is not its type's canonical form refused without writing. (That the
 * server reads the same values as from text: tests/dbtest/test_stage_values.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "copy_binary.h"

/* Write one field and compare it with `expected` (len bytes). */
static void expect_field(enum copy_type type, const char *value, const char *expected, long len)
{
    char out[64];

    memset(out, 0x55, sizeof out);
    assert_true(copy_binary_field_size(type, value) >= (size_t)len);
    assert_int_equal(copy_binary_field(out, type, value), len);
    assert_memory_equal(out, expected, (size_t)len);
}

static void expect_refused(enum copy_type type, const char *value)
{
    char out[64];

    memset(out, 0x55, sizeof out);
    assert_int_equal(copy_binary_field(out, type, value), -1);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal((unsigned char)out[i], 0x55);
}

static void header_and_trailer(void **state)
{
    char row[2];
    (void)state;
    assert_memory_equal(copy_binary_header, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
    assert_memory_equal(copy_binary_trailer, "\377\377", 2);
    assert_int_equal(copy_binary_row_start(row, 32), 2);
    assert_memory_equal(row, "\0\x20", 2);
}

static void integers(void **state)
{
    (void)state;
    expect_field(COPY_INT8, "0", "\0\0\0\x08\0\0\0\0\0\0\0\0", 12);
    expect_field(COPY_INT8, "9223372036854775807", "\0\0\0\x08\x7f\xff\xff\xff\xff\xff\xff\xff",
                 12);
    expect_field(COPY_INT8, "-9223372036854775808", "\0\0\0\x08\x80\0\0\0\0\0\0\0", 12);
    expect_field(COPY_INT8, "-1", "\0\0\0\x08\xff\xff\xff\xff\xff\xff\xff\xff", 12);
    expect_field(COPY_INT4, "2147483647", "\0\0\0\x04\x7f\xff\xff\xff", 8);
    expect_field(COPY_INT4, "-2147483648", "\0\0\0\x04\x80\0\0\0", 8);
    expect_field(COPY_INT4, "258", "\0\0\0\x04\0\0\x01\x02", 8);
    expect_field(COPY_INT2, "32767", "\0\0\0\x02\x7f\xff", 6);
    expect_field(COPY_INT2, "-32768", "\0\0\0\x02\x80\0", 6);
    expect_refused(COPY_INT8, "9223372036854775808");
    expect_refused(COPY_INT8, "-9223372036854775809");
    expect_refused(COPY_INT8, "99999999999999999999999");
    expect_refused(COPY_INT4, "2147483648");
    expect_refused(COPY_INT2, "-32769");
    expect_refused(COPY_INT8, "");
    expect_refused(COPY_INT8, "-");
    expect_refused(COPY_INT8, "+1");
    expect_refused(COPY_INT8, "1.0");
    expect_refused(COPY_INT8, " 1");
}

static void null_text_jsonb_bool_char(void **state)
{
    (void)state;
    expect_field(COPY_TIMESTAMPTZ, NULL, "\xff\xff\xff\xff", 4);
    expect_field(COPY_TEXT, NULL, "\xff\xff\xff\xff", 4);
    expect_field(COPY_TEXT, "", "\0\0\0\0", 4);
    expect_field(COPY_TEXT, "a\tb\\N\n",
                 "\0\0\0\x06"
                 "a\tb\\N\n",
                 10);
    expect_field(COPY_JSONB, "{}", "\0\0\0\x03\x01{}", 7);
    expect_field(COPY_BOOL, "t", "\0\0\0\x01\x01", 5);
    expect_field(COPY_BOOL, "f", "\0\0\0\x01\0", 5);
    expect_field(COPY_CHAR, "L", "\0\0\0\x01L", 5);
    expect_refused(COPY_BOOL, "true");
    expect_refused(COPY_BOOL, "");
    expect_refused(COPY_CHAR, "LL");
}

static int64_t micros(const char *text)
{
    int64_t value = 0;

    assert_int_equal(copy_binary_timestamp(text, &value), 0);
    return value;
}

static void timestamps(void **state)
{
    int64_t value;
    (void)state;
    assert_int_equal(micros("2000-01-01 00:00:00+00"), 0);
    assert_int_equal(micros("1999-12-31 23:59:59+00"), -1000000);
    assert_int_equal(micros("2000-01-02 00:00:00.25+00"), 86400000000 + 250000);
    assert_int_equal(micros("2000-01-01 00:00:00.0000015+00"), 2);       /* 1.5 us: to even */
    assert_int_equal(micros("2000-01-01 00:00:00.0000025+00"), 2);       /* 2.5 us: to even */
    assert_int_equal(micros("2000-01-01 00:00:00.9999996+00"), 1000000); /* carries */
    assert_int_equal(micros("2000-01-01 00:00:00.123456789+00"), 123457);
    assert_int_equal(micros("2026-11-27 10:00:00+00"), 849088800000000);
    assert_int_equal(micros("0001-01-01 00:00:00+00"), -63082281600000000);
    assert_int_equal(micros("9999-12-31 23:59:59.999999+00"), 252455615999999999);
    expect_field(COPY_TIMESTAMPTZ, "2000-01-01 00:00:01+00", "\0\0\0\x08\0\0\0\0\0\x0f\x42\x40",
                 12);
    assert_int_equal(copy_binary_timestamp("2026-11-27T10:00:00Z", &value), -1);
    assert_int_equal(copy_binary_timestamp("2026-11-27 10:00:00", &value), -1);
    assert_int_equal(copy_binary_timestamp("2026-11-27 10:00:00+01", &value), -1);
    assert_int_equal(copy_binary_timestamp("2026-11-27 10:00:00.+00", &value), -1);
    assert_int_equal(copy_binary_timestamp("2026-11-27 10:00:00.1234567891+00", &value), -1);
    assert_int_equal(copy_binary_timestamp("2026-02-29 10:00:00+00", &value), -1);
    assert_int_equal(copy_binary_timestamp("2026-11-27 24:00:00+00", &value), -1);
    assert_int_equal(copy_binary_timestamp("2026-11-27 10:60:00+00", &value), -1);
    assert_int_equal(copy_binary_timestamp("2026-11-27 10:00:60+00", &value), -1);
    assert_int_equal(copy_binary_timestamp("0000-01-01 00:00:00+00", &value), -1);
    assert_int_equal(copy_binary_timestamp("", &value), -1);
    expect_refused(COPY_TIMESTAMPTZ, "1764237600");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_and_trailer),
        cmocka_unit_test(integers),
        cmocka_unit_test(null_text_jsonb_bool_char),
        cmocka_unit_test(timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
