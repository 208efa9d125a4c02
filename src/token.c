/* token.c -- LiveKit access tokens for the Analytics API (libjwt 1.10, HS256); see token.h.
 *
 * Flow: token_new copies the key and the secret; token_get returns the current token while
 * it is fresh and otherwise mints a new one (jwt_new -> grants -> jwt_set_alg ->
 * jwt_encode_str) valid from now - 10 s (clock skew) to now + ttl. A token counts as stale
 * once fewer than max(ttl / 4, 30 s) remain, or when the clock went back before its nbf.
 * Invariants: the secret lives only here and in libjwt's own copy (which jwt_free scrubs);
 * the secret and every token are wiped before they are freed; nothing here logs.
 */
#include "token.h"

#include "error.h"
#include "secret.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#define NBF_SKEW_S 10
#define MIN_TTL_S 60
#define MIN_MARGIN_S 30

struct token {
    char *api_key;
    unsigned char *secret;
    size_t secret_len;
    int ttl_s;
    char *current; /* from jwt_encode_str (malloc), NULL before the first mint */
    time_t not_before, expires;
};

int token_new(struct token **out, const char *api_key, const char *api_secret, int ttl_seconds,
              struct lk_error *err)
{
    struct token *tok = NULL;
    size_t key_len, secret_len;
    int rc = LK_ENOMEM;

    assert(out != NULL);
    *out = NULL;
    if (api_key == NULL || api_key[0] == '\0') {
        lk_error_set(err, LK_ECONFIG, "no API key to sign the token with");
        rc = LK_ECONFIG;
        goto done;
    }
    if (api_secret == NULL || api_secret[0] == '\0') {
        lk_error_set(err, LK_ECONFIG, "no API secret to sign the token with");
        rc = LK_ECONFIG;
        goto done;
    }
    secret_len = strlen(api_secret);
    if (secret_len > INT_MAX) { /* jwt_set_alg takes the length as int */
        lk_error_set(err, LK_ECONFIG, "the API secret is too long");
        rc = LK_ECONFIG;
        goto done;
    }
    if (ttl_seconds < MIN_TTL_S) {
        lk_error_set(err, LK_ECONFIG, "token lifetime of %d s is too short", ttl_seconds);
        lk_error_detail(err, "token_ttl must be at least %d seconds", MIN_TTL_S);
        rc = LK_ECONFIG;
        goto done;
    }
    tok = calloc(1, sizeof *tok);
    if (tok == NULL)
        goto nomem;
    key_len = strlen(api_key);
    tok->api_key = malloc(key_len + 1);
    tok->secret = malloc(secret_len + 1);
    if (tok->api_key == NULL || tok->secret == NULL)
        goto nomem;
    memcpy(tok->api_key, api_key, key_len + 1);
    memcpy(tok->secret, api_secret, secret_len + 1);
    tok->secret_len = secret_len;
    tok->ttl_s = ttl_seconds;
    *out = tok;
    tok = NULL;
    rc = 0;
    goto done;
nomem:
    lk_error_set(err, LK_ENOMEM, "out of memory while setting up the API token");
done:
    token_free(tok);
    return rc;
}

/* Mint a token valid from now - NBF_SKEW_S to now + ttl into tok->current. */
static int mint(struct token *tok, time_t now, struct lk_error *err)
{
    jwt_t *jwt = NULL;
    char *encoded = NULL;
    int e, rc = LK_ECONFIG;

    e = jwt_new(&jwt);
    if (e == 0)
        e = jwt_add_grant(jwt, "iss", tok->api_key);
    if (e == 0)
        e = jwt_add_grant(jwt, "sub", "lkarchive");
    if (e == 0)
        e = jwt_add_grant_int(jwt, "nbf", (long)(now - NBF_SKEW_S));
    if (e == 0)
        e = jwt_add_grant_int(jwt, "exp", (long)(now + tok->ttl_s));
    if (e == 0)
        e = jwt_add_grants_json(jwt, "{\"video\":{\"roomList\":true}}");
    if (e == 0)
        e = jwt_set_alg(jwt, JWT_ALG_HS256, tok->secret, (int)tok->secret_len);
    if (e == 0) {
        errno = 0;
        encoded = jwt_encode_str(jwt);
        if (encoded == NULL)
            e = errno ? errno : ENOMEM;
    }
    if (e != 0) {
        rc = e == ENOMEM ? LK_ENOMEM : LK_ECONFIG;
        lk_error_set(err, rc, "could not create the API token");
        lk_error_detail(err, "libjwt: %s", strerror(e));
        goto done;
    }
    secret_free(tok->current);
    tok->current = encoded;
    encoded = NULL;
    tok->not_before = now - NBF_SKEW_S;
    tok->expires = now + tok->ttl_s;
    rc = 0;
done:
    secret_free(encoded);
    jwt_free(jwt); /* scrubs libjwt's copy of the key; NULL-safe */
    return rc;
}

const char *token_get(struct token *tok, time_t now, struct lk_error *err)
{
    time_t margin;

    assert(tok != NULL);
    margin = tok->ttl_s / 4 > MIN_MARGIN_S ? tok->ttl_s / 4 : MIN_MARGIN_S;
    /* fresh: not close to expiry, and the clock has not gone back before nbf (a host whose
     * clock was corrected would otherwise send a token the server does not accept yet) */
    if (tok->current != NULL && now < tok->expires - margin && now >= tok->not_before)
        return tok->current;
    if (mint(tok, now, err) != 0)
        return NULL;
    return tok->current;
}

void token_free(struct token *tok)
{
    if (tok == NULL)
        return;
    secret_free_n(tok->secret, tok->secret_len);
    secret_free(tok->current);
    free(tok->api_key);
    secret_wipe(tok, sizeof *tok);
    free(tok);
}
