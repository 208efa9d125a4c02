/* test_escape.c -- unit tests for utf8.c (strict decoding, cleaning for PostgreSQL text) and
 * escape.c (terminal-safe text).
 *
 * The hostile inputs are the ones an API or a server can send into a log line: ANSI escape
 * sequences, newlines that would forge a second log line, C1 controls, every kind of
 * ill-formed UTF-8 (stray bytes, overlong forms, surrogates, beyond U+10FFFF) and text long
 * enough to flood a terminal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "escape.h"
#include "utf8.h"

static size_t seq(const char *bytes)
{
    return utf8_sequence(bytes, strlen(bytes), NULL);
}

static void utf8_accepts_each_length_at_its_bounds(void **state)
{
    uint32_t cp = 0;
    (void)state;
    assert_int_equal(utf8_sequence("A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(seq("\xc2\x80"), 2);     /* U+0080 */
    assert_int_equal(seq("\xdf\xbf"), 2);     /* U+07FF */
    assert_int_equal(seq("\xe0\xa0\x80"), 3); /* U+0800 */
    assert_int_equal(seq("\xed\x9f\xbf"), 3); /* U+D7FF */
    assert_int_equal(seq("\xee\x80\x80"), 3); /* U+E000 */
    assert_int_equal(utf8_sequence("\xef\xbf\xbd", 3, &cp), 3);
    assert_int_equal(cp, 0xfffd);
    assert_int_equal(seq("\xf0\x90\x80\x80"), 4); /* U+10000 */
    assert_int_equal(utf8_sequence("\xf4\x8f\xbf\xbf", 4, &cp), 4);
    assert_int_equal(cp, 0x10ffff);
}

static void utf8_refuses_every_ill_formed_kind(void **state)
{
    (void)state;
    assert_int_equal(seq("\x80"), 0);                 /* stray continuation */
    assert_int_equal(seq("\xc0\xaf"), 0);             /* overlong '/' */
    assert_int_equal(seq("\xc1\xbf"), 0);             /* overlong */
    assert_int_equal(seq("\xe0\x80\xaf"), 0);         /* overlong, 3 bytes */
    assert_int_equal(seq("\xf0\x80\x80\xaf"), 0);     /* overlong, 4 bytes */
    assert_int_equal(seq("\xed\xa0\x80"), 0);         /* U+D800, a surrogate */
    assert_int_equal(seq("\xed\xbf\xbf"), 0);         /* U+DFFF */
    assert_int_equal(seq("\xf4\x90\x80\x80"), 0);     /* U+110000 */
    assert_int_equal(seq("\xf8\x88\x80\x80\x80"), 0); /* 5-byte form */
    assert_int_equal(seq("\xff"), 0);
    assert_int_equal(seq("\xe2\x82"), 0);     /* cut short */
    assert_int_equal(seq("\xe2\x28\xa1"), 0); /* bad continuation */
    assert_int_equal(utf8_sequence("", 0, NULL), 0);
}

#define FFFD "\xef\xbf\xbd"

/* utf8_clean of a literal (len bytes, NULs allowed) compared with want. */
static void clean_is_at(const char *in, size_t len, const char *want, const char *file, int line)
{
    char out[256];
    size_t n;

    assert_true(UTF8_CLEAN_MAX(len) <= sizeof out);
    n = utf8_clean(out, in, len);
    out[n] = '\0';
    if (n != strlen(want) || memcmp(out, want, n) != 0) {
        print_error("utf8_clean gave \"%s\", expected \"%s\"\n", out, want);
        _fail(file, line);
    }
}

#define clean_is(in, want) clean_is_at((in), sizeof(in) - 1, (want), __FILE__, __LINE__)

static void utf8_clean_replaces_each_maximal_subpart(void **state)
{
    (void)state;
    clean_is("plain ASCII, long enough for the 8-byte path",
             "plain ASCII, long enough for the 8-byte path");
    clean_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
             "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf");
    clean_is("a\x00"
             "b",
             "a" FFFD "b");                                     /* NUL: text cannot hold it */
    clean_is("0123456\x00", "0123456" FFFD);                    /* found by the 8-byte path */
    clean_is("\x80", FFFD);                                     /* stray continuation */
    clean_is("\xc0\xaf", FFFD FFFD);                            /* overlong: C0 never leads */
    clean_is("\xe0\x80\xaf", FFFD FFFD FFFD);                   /* overlong 3-byte */
    clean_is("\xed\xa0\x80", FFFD FFFD FFFD);                   /* encoded surrogate */
    clean_is("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);          /* above U+10FFFF */
    clean_is("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD); /* 5-byte form */
    clean_is("\xe2\x82x", FFFD "x");                            /* cut short: one U+FFFD */
    clean_is("\xf0\x9f\x98", FFFD);                             /* cut by the end */
    clean_is("\xe2\x28\xa1", FFFD "(" FFFD);                    /* bad second byte */
    clean_is("\xf1\x80\x80\xf1\x80\x80\x80", FFFD "\xf1\x80\x80\x80");
    clean_is("\xff\xfe", FFFD FFFD);
    clean_is("", "");
    assert_int_equal(utf8_clean_prefix("abc\xc3\xa9\xff", 6), 5);
    assert_int_equal(utf8_clean_prefix("abcdefghijk\x00", 12), 11);
    assert_int_equal(utf8_clean_prefix("abc", 3), 3);
}

static const char *esc(char *out, size_t size, const char *in)
{
    return escape_text(out, size, in, strlen(in), 4096);
}

static void utf8_cut_never_ends_inside_a_character(void **state)
{
    (void)state;
    assert_int_equal(utf8_cut("abc", 3, 5), 3);                      /* fits */
    assert_int_equal(utf8_cut("abcdef", 6, 4), 4);                   /* ASCII: at max */
    assert_int_equal(utf8_cut("ab\xc3\xa9z", 5, 3), 2);              /* max inside é: before it */
    assert_int_equal(utf8_cut("ab\xc3\xa9z", 5, 4), 4);              /* max after é */
    assert_int_equal(utf8_cut("\xe2\x82\xac\xe2\x82\xac", 6, 5), 3); /* inside the 2nd € */
    assert_int_equal(utf8_cut("\xe2\x82\xac", 3, 2), 0);             /* inside the only character */
}

static void escape_keeps_printable_text_and_utf8(void **state)
{
    char out[128];
    (void)state;
    assert_string_equal(esc(out, sizeof out, "RM_abc room \xc3\xa9t\xc3\xa9 \xf0\x9f\x8e\xa5"),
                        "RM_abc room \xc3\xa9t\xc3\xa9 \xf0\x9f\x8e\xa5");
    assert_string_equal(esc(out, sizeof out, ""), "");
}

static void escape_makes_controls_visible(void **state)
{
    char out[256];
    (void)state;
    /* an ANSI sequence that would clear the screen, a forged second log line */
    assert_string_equal(esc(out, sizeof out, "\x1b[2J\x1b[31mred"), "\\x1b[2J\\x1b[31mred");
    assert_string_equal(esc(out, sizeof out, "id\nlkarchive: info: all good"),
                        "id\\nlkarchive: info: all good");
    assert_string_equal(esc(out, sizeof out, "a\rb\tc\x7f"), "a\\rb\\tc\\x7f");
    /* C1 CSI (U+009B) is two bytes in UTF-8; both become escapes */
    assert_string_equal(esc(out, sizeof out,
                            "x\xc2\x9b"
                            "2J"),
                        "x\\xc2\\x9b2J");
}

static void escape_makes_bidi_controls_visible(void **state)
{
    char out[256];
    (void)state;
    /* U+202E (RLO) would show "gpj.exe" as "exe.jpg"; every embedding, override and isolate */
    assert_string_equal(esc(out, sizeof out, "a\xe2\x80\xaegpj.exe"), "a\\u202egpj.exe");
    assert_string_equal(esc(out, sizeof out,
                            "\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad"
                            "\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9"),
                        "\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069");
    /* their neighbours stay: U+2029, U+202F, U+206A */
    assert_string_equal(esc(out, sizeof out, "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xaa"),
                        "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xaa");
}

static void escape_makes_ill_formed_bytes_visible(void **state)
{
    char out[256];
    (void)state;
    assert_string_equal(esc(out, sizeof out,
                            "a\xff"
                            "b\xed\xa0\x80"
                            "c"),
                        "a\\xffb\\xed\\xa0\\x80c");
    assert_string_equal(esc(out, sizeof out, "\xc0\xaf"), "\\xc0\\xaf");
}

static void escape_cuts_long_text_with_a_marker(void **state)
{
    char in[1000], out[256];
    (void)state;
    memset(in, 'x', sizeof in);
    escape_text(out, sizeof out, in, sizeof in, 100);
    assert_non_null(strstr(out, "...[900 more bytes]"));
    assert_int_equal(strspn(out, "x"), 100);
    /* out too small for the input: cut where it fills, still terminated, still marked */
    escape_text(out, 64, in, sizeof in, sizeof in);
    assert_true(strlen(out) < 64);
    assert_non_null(strstr(out, "more bytes]"));
    /* never cuts a UTF-8 sequence in half */
    escape_text(out, sizeof out, "\xc3\xa9\xc3\xa9", 4, 3);
    assert_string_equal(out, "\xc3\xa9...[2 more bytes]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_accepts_each_length_at_its_bounds),
        cmocka_unit_test(utf8_refuses_every_ill_formed_kind),
        cmocka_unit_test(utf8_clean_replaces_each_maximal_subpart),
        cmocka_unit_test(utf8_cut_never_ends_inside_a_character),
        cmocka_unit_test(escape_keeps_printable_text_and_utf8),
        cmocka_unit_test(escape_makes_controls_visible),
        cmocka_unit_test(escape_makes_ill_formed_bytes_visible),
        cmocka_unit_test(escape_makes_bidi_controls_visible),
        cmocka_unit_test(escape_cuts_long_text_with_a_marker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
