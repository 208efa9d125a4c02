/* test_redact.c -- unit tests for redact.c: no password survives in a message, whether it is
 * known (parsed from the connection string), in a URL's user info, a key=value string, or a
 * fragment libpq quoted from a string it could not parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "redact.h"

static void redact_hides_a_known_secret_everywhere(void **state)
{
    char out[256];
    (void)state;
    assert_string_equal(redact_text(out, sizeof out, "user \"hunter2\" said hunter2", "hunter2"),
                        "user \"***\" said ***");
    assert_string_equal(redact_text(out, sizeof out, "nothing here", ""), "nothing here");
    assert_string_equal(redact_text(out, sizeof out, "nothing here", NULL), "nothing here");
}

static void redact_hides_url_user_info_passwords(void **state)
{
    char out[256];
    (void)state;
    assert_string_equal(redact_text(out, sizeof out, "request to https://bob:pw@h/x failed", NULL),
                        "request to https://bob:***@h/x failed");
    assert_string_equal(redact_text(out, sizeof out,
                                    "postgresql://bob:p%40ss@db:5432/archive?sslmode=require",
                                    NULL),
                        "postgresql://bob:***@db:5432/archive?sslmode=require");
    /* no password, or an @ only later in the path: untouched */
    assert_string_equal(redact_text(out, sizeof out, "https://bob@h/x", NULL), "https://bob@h/x");
    assert_string_equal(redact_text(out, sizeof out, "https://h:443/a@b", NULL),
                        "https://h:443/a@b");
}

static void redact_hides_key_value_passwords(void **state)
{
    char out[256];
    (void)state;
    assert_string_equal(redact_text(out, sizeof out, "host=db password=pw user=x", NULL),
                        "host=db password=*** user=x");
    assert_string_equal(redact_text(out, sizeof out, "host=db password='p w' user=x", NULL),
                        "host=db password=*** user=x");
    assert_string_equal(redact_text(out, sizeof out, "postgresql://h/d?password=pw&x=1", NULL),
                        "postgresql://h/d?password=***&x=1");
}

static void redact_hides_quoted_fragments_but_short_ones(void **state)
{
    char out[256];
    (void)state;
    assert_string_equal(
        redact_quoted(out, sizeof out, "missing \"=\" after \"s3cret\" in connection info string"),
        "missing \"=\" after \"***\" in connection info string");
    assert_string_equal(redact_quoted(out, sizeof out, "an \"open quote"), "an \"open quote");
}

static void redact_hides_tokens_in_bodies(void **state)
{
    static const char jwt[] = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJrIn0.c2lnbmF0dXJl";
    char out[512], in[512];

    (void)state;
    /* an echoed header, a JSON member, a JWT alone, one cut short by the body's cap */
    snprintf(in, sizeof in, "{\"error\":\"bad\",\"authorization\":\"Bearer %s\"}", jwt);
    assert_string_equal(redact_tokens(out, sizeof out, in, NULL),
                        "{\"error\":\"bad\",\"authorization\":\"***\"}");
    snprintf(in, sizeof in, "echo: Authorization: Bearer %s\nnext", jwt);
    assert_string_equal(redact_tokens(out, sizeof out, in, NULL), "echo: Authorization: ***\nnext");
    snprintf(in, sizeof in, "token %s rejected", jwt);
    assert_string_equal(redact_tokens(out, sizeof out, in, NULL), "token *** rejected");
    assert_string_equal(redact_tokens(out, sizeof out, "cut eyJhbGciOiJIUz", NULL), "cut ***");
    assert_string_equal(redact_tokens(out, sizeof out, "bearer abc.def", NULL), "bearer ***");
    /* the request's own token, whatever its shape */
    assert_string_equal(redact_tokens(out, sizeof out, "x=t0k3n-value;", "t0k3n-value"), "x=***;");
    /* words about authorization, and short "eyJ" words, stay */
    assert_string_equal(redact_tokens(out, sizeof out, "{\"error\":\"missing authorization\"}", NULL),
                        "{\"error\":\"missing authorization\"}");
    assert_string_equal(redact_tokens(out, sizeof out, "eyJx and keyJohnathan", NULL),
                        "eyJx and keyJohnathan");
}

static void redact_cuts_to_fit(void **state)
{
    char out[8];
    (void)state;
    assert_string_equal(redact_text(out, sizeof out, "0123456789", NULL), "0123456");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redact_hides_a_known_secret_everywhere),
        cmocka_unit_test(redact_hides_url_user_info_passwords),
        cmocka_unit_test(redact_hides_key_value_passwords),
        cmocka_unit_test(redact_hides_quoted_fragments_but_short_ones),
        cmocka_unit_test(redact_cuts_to_fit),
        cmocka_unit_test(redact_hides_tokens_in_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
