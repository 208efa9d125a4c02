/* test_pseudo.c -- identity pseudonyms: HMAC-SHA256 hex (RFC 4231 vectors), the key file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"
#include "pseudo.h"

static char *key_file(const char *content, size_t len)
{
    static char path[] = "/tmp/lk_pseudo_keyXXXXXX";
    char *copy = strdup(path);
    int fd = mkstemp(copy);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return copy;
}

static void pseudo_hex_matches_rfc4231_case_1(void **state)
{
    /* RFC 4231 test case 1: key 0x0b x 20, data "Hi There" */
    char key[21], hex[PSEUDO_HEX_SIZE];
    struct pseudo *p = NULL;
    struct lk_error err;
    char *path;

    (void)state;
    memset(key, 0x0b, 20);
    path = key_file(key, 20);
    lk_error_init(&err);
    assert_int_equal(pseudo_open(&p, path, &err), 0);
    pseudo_hex(p, "Hi There", hex);
    assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    pseudo_free(p);
    unlink(path);
    free(path);
}

static void pseudo_key_trailing_newline_is_not_part_of_it(void **state)
{
    char hex1[PSEUDO_HEX_SIZE], hex2[PSEUDO_HEX_SIZE];
    struct pseudo *a = NULL, *b = NULL;
    struct lk_error err;
    char *pa = key_file("0123456789abcdef0123", 20), *pb = key_file("0123456789abcdef0123\n", 21);

    (void)state;
    lk_error_init(&err);
    assert_int_equal(pseudo_open(&a, pa, &err), 0);
    assert_int_equal(pseudo_open(&b, pb, &err), 0);
    pseudo_hex(a, "user-1", hex1);
    pseudo_hex(b, "user-1", hex2);
    assert_string_equal(hex1, hex2);
    pseudo_hex(a, "user-2", hex2);
    assert_string_not_equal(hex1, hex2);
    pseudo_free(a);
    pseudo_free(b);
    unlink(pa);
    unlink(pb);
    free(pa);
    free(pb);
}

static void pseudo_refuses_short_or_missing_key(void **state)
{
    struct pseudo *p = NULL;
    struct lk_error err;
    char *path = key_file("short\n", 6);

    (void)state;
    lk_error_init(&err);
    assert_int_equal(pseudo_open(&p, path, &err), LK_ECONFIG);
    assert_null(p);
    assert_non_null(strstr(err.message, "fewer than 16 bytes"));
    lk_error_init(&err);
    assert_int_equal(pseudo_open(&p, "/nonexistent/lk-key", &err), LK_ECONFIG);
    assert_null(p);
    unlink(path);
    free(path);
    pseudo_free(NULL);
}

static void pseudo_refuses_a_key_others_can_read(void **state)
{
    struct pseudo *p = NULL;
    struct lk_error err;
    char *path = key_file("0123456789abcdef0123\n", 21);

    (void)state;
    lk_error_init(&err);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(pseudo_open(&p, path, &err), LK_ECONFIG);
    assert_null(p);
    assert_non_null(strstr(err.message, "can be used by group or others (mode 0640)"));
    assert_non_null(strstr(err.detail, "chmod 600"));
    assert_int_equal(chmod(path, 0400), 0);
    lk_error_init(&err);
    assert_int_equal(pseudo_open(&p, path, &err), 0);
    pseudo_free(p);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pseudo_hex_matches_rfc4231_case_1),
        cmocka_unit_test(pseudo_key_trailing_newline_is_not_part_of_it),
        cmocka_unit_test(pseudo_refuses_short_or_missing_key),
        cmocka_unit_test(pseudo_refuses_a_key_others_can_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
