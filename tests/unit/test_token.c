/* test_token.c -- unit tests for token.c: LiveKit access tokens minted with libjwt (HS256).
 *
 * Tokens are decoded and verified with libjwt's own jwt_decode and the same secret, then every
 * claim LiveKit checks is compared (iss, sub, nbf, exp, the video.roomList grant, alg).
 * Time is passed in explicitly, so re-minting near expiry is tested at exact second
 * boundaries: fresh until max(ttl / 4, 30 s) before exp, new from then on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>

#include "error.h"
#include "token.h"

#define KEY "APIkeyForTests"
#define SECRET "a-test-secret-of-reasonable-length-0123456789"
#define T0 ((time_t)1795000000) /* a fixed "now" in 2026 */

/* Decode tok with secret (verifying the signature); NULL when verification fails. */
static jwt_t *decode(const char *tok, const char *secret)
{
    jwt_t *jwt = NULL;

    if (jwt_decode(&jwt, tok, (const unsigned char *)secret, (int)strlen(secret)) != 0) {
        jwt_free(jwt);
        return NULL;
    }
    return jwt;
}

static struct token *new_token(int ttl)
{
    struct token *tok = NULL;
    struct lk_error err;

    lk_error_init(&err);
    assert_int_equal(token_new(&tok, KEY, SECRET, ttl, &err), 0);
    assert_non_null(tok);
    return tok;
}

/* A copy of the token valid at now (the borrowed string changes with the next call). */
static char *get_copy(struct token *tok, time_t now)
{
    struct lk_error err;
    const char *s;
    char *copy;

    lk_error_init(&err);
    s = token_get(tok, now, &err);
    if (s == NULL)
        fail_msg("token_get failed: %s (%s)", err.message, err.detail);
    copy = strdup(s);
    assert_non_null(copy);
    return copy;
}

static void token_has_every_claim(void **state)
{
    struct token *tok = new_token(600);
    char *s = get_copy(tok, T0);
    jwt_t *jwt = decode(s, SECRET);
    char *video;

    (void)state;
    assert_non_null(jwt);
    assert_int_equal(jwt_get_alg(jwt), JWT_ALG_HS256);
    assert_string_equal(jwt_get_grant(jwt, "iss"), KEY);
    assert_string_equal(jwt_get_grant(jwt, "sub"), "lkarchive");
    assert_true(jwt_get_grant_int(jwt, "nbf") <= (long)T0);
    assert_int_equal(jwt_get_grant_int(jwt, "nbf"), (long)T0 - 10);
    assert_int_equal(jwt_get_grant_int(jwt, "exp") - (long)T0, 600);
    video = jwt_get_grants_json(jwt, "video");
    assert_non_null(video);
    assert_non_null(strstr(video, "\"roomList\":true"));
    free(video);
    /* three base64url parts, the header says HS256 */
    assert_string_equal(jwt_get_header(jwt, "alg"), "HS256");
    assert_non_null(strchr(s, '.'));
    assert_null(strchr(s, '='));
    jwt_free(jwt);
    free(s);
    token_free(tok);
}

static void token_has_exp_for_any_ttl(void **state)
{
    static const int ttls[] = {60, 61, 119, 3600, 86400};

    (void)state;
    for (size_t i = 0; i < sizeof ttls / sizeof ttls[0]; i++) {
        struct token *tok = new_token(ttls[i]);
        char *s = get_copy(tok, T0 + (time_t)i);
        jwt_t *jwt = decode(s, SECRET);

        assert_non_null(jwt);
        assert_int_equal(jwt_get_grant_int(jwt, "exp"), (long)(T0 + (time_t)i) + ttls[i]);
        jwt_free(jwt);
        free(s);
        token_free(tok);
    }
}

static void token_signature_fails_with_wrong_secret(void **state)
{
    struct token *tok = new_token(600);
    char *s = get_copy(tok, T0);

    (void)state;
    assert_null(decode(s, "another-secret-of-reasonable-length-0123456"));
    assert_null(decode(s, SECRET "x"));
    /* a flipped signature byte fails with the right secret */
    s[strlen(s) - 2] = s[strlen(s) - 2] == 'A' ? 'B' : 'A';
    assert_null(decode(s, SECRET));
    free(s);
    token_free(tok);
}

static void token_reused_while_fresh(void **state)
{
    struct token *tok = new_token(600);
    char *first = get_copy(tok, T0);
    struct lk_error err;
    const char *again;

    (void)state;
    lk_error_init(&err);
    /* 600 s lifetime: fresh until 150 s before exp, i.e. through T0 + 449 */
    for (time_t t = T0; t < T0 + 450; t += 37) {
        again = token_get(tok, t, &err);
        assert_non_null(again);
        assert_string_equal(again, first);
    }
    again = token_get(tok, T0 + 449, &err);
    assert_string_equal(again, first);
    free(first);
    token_free(tok);
}

static void token_reminted_before_expiry(void **state)
{
    struct token *tok = new_token(600);
    char *first = get_copy(tok, T0);
    char *second = get_copy(tok, T0 + 450); /* exp - 150 s: a quarter of the TTL left */
    char *third;
    jwt_t *jwt;

    (void)state;
    assert_string_not_equal(first, second);
    jwt = decode(second, SECRET);
    assert_non_null(jwt);
    assert_int_equal(jwt_get_grant_int(jwt, "exp"), (long)T0 + 450 + 600);
    assert_int_equal(jwt_get_grant_int(jwt, "nbf"), (long)T0 + 450 - 10);
    jwt_free(jwt);
    /* the new one is in turn reused until its own threshold */
    third = get_copy(tok, T0 + 450 + 449);
    assert_string_equal(second, third);
    free(third);
    third = get_copy(tok, T0 + 450 + 450);
    assert_string_not_equal(second, third);
    free(first);
    free(second);
    free(third);
    token_free(tok);
}

static void token_keeps_at_least_30_seconds_margin(void **state)
{
    /* ttl 60: a quarter is 15 s, but at least 30 s must remain */
    struct token *tok = new_token(60);
    char *first = get_copy(tok, T0);
    char *same = get_copy(tok, T0 + 29);
    char *renewed = get_copy(tok, T0 + 30);

    (void)state;
    assert_string_equal(first, same);
    assert_string_not_equal(first, renewed);
    free(first);
    free(same);
    free(renewed);
    token_free(tok);
}

static void token_reminted_after_expiry_or_clock_jump(void **state)
{
    struct token *tok = new_token(600);
    char *first = get_copy(tok, T0);
    char *late = get_copy(tok, T0 + 100000);
    char *back = get_copy(tok, T0); /* the clock went back before the token's nbf */
    jwt_t *jwt;

    (void)state;
    assert_string_not_equal(first, late);
    assert_string_not_equal(late, back);
    jwt = decode(back, SECRET);
    assert_non_null(jwt);
    assert_int_equal(jwt_get_grant_int(jwt, "nbf"), (long)T0 - 10);
    jwt_free(jwt);
    free(first);
    free(late);
    free(back);
    token_free(tok);
}

static void token_new_rejects_missing_key_secret_or_short_ttl(void **state)
{
    struct token *tok = NULL;
    struct lk_error err;

    (void)state;
    lk_error_init(&err);
    assert_int_equal(token_new(&tok, "", SECRET, 600, &err), LK_ECONFIG);
    assert_null(tok);
    assert_int_equal(err.code, LK_ECONFIG);
    assert_string_equal(err.message, "no API key to sign the token with");
    assert_int_equal(token_new(&tok, NULL, SECRET, 600, &err), LK_ECONFIG);
    assert_int_equal(token_new(&tok, KEY, "", 600, &err), LK_ECONFIG);
    assert_string_equal(err.message, "no API secret to sign the token with");
    assert_int_equal(token_new(&tok, KEY, NULL, 600, &err), LK_ECONFIG);
    assert_int_equal(token_new(&tok, KEY, SECRET, 59, &err), LK_ECONFIG);
    assert_null(tok);
    assert_null(strstr(err.message, SECRET));
    assert_null(strstr(err.detail, SECRET));
}

static void token_copies_key_and_secret(void **state)
{
    char key[] = KEY, secret[] = SECRET;
    struct token *tok = NULL;
    struct lk_error err;
    char *s;
    jwt_t *jwt;

    (void)state;
    lk_error_init(&err);
    assert_int_equal(token_new(&tok, key, secret, 600, &err), 0);
    memset(key, 'x', sizeof key - 1);
    memset(secret, 'y', sizeof secret - 1);
    s = get_copy(tok, T0);
    jwt = decode(s, SECRET);
    assert_non_null(jwt);
    assert_string_equal(jwt_get_grant(jwt, "iss"), KEY);
    jwt_free(jwt);
    free(s);
    token_free(tok);
}

static void token_free_accepts_null(void **state)
{
    (void)state;
    token_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_has_every_claim),
        cmocka_unit_test(token_has_exp_for_any_ttl),
        cmocka_unit_test(token_signature_fails_with_wrong_secret),
        cmocka_unit_test(token_reused_while_fresh),
        cmocka_unit_test(token_reminted_before_expiry),
        cmocka_unit_test(token_keeps_at_least_30_seconds_margin),
        cmocka_unit_test(token_reminted_after_expiry_or_clock_jump),
        cmocka_unit_test(token_new_rejects_missing_key_secret_or_short_ttl),
        cmocka_unit_test(token_copies_key_and_secret),
        cmocka_unit_test(token_free_accepts_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
