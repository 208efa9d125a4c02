/* sim_auth.c -- verifies a request's LiveKit access token the way LiveKit Cloud would.
 *
 * libjwt 1.10 checks the HMAC (jwt_decode with the secret) and the header; the claims are
 * then read from jwt_get_grants_json(jwt, NULL) with yajl's tree parser, because libjwt's
 * typed getters cannot tell "absent" from "wrong type". The algorithm is checked after the
 * decode: only HS256 passes, so "none" and RSA/ECDSA tokens are refused even when libjwt
 * accepts their form. Reasons are static strings for the log; the token never leaves here.
 */
#include "sim_auth.h"

#include <jwt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_tree.h>

int sim_auth_init(struct sim_auth *a, const char *api_key, const char *secret)
{
    size_t len = strlen(secret);
    int rc = -1;

    memset(a, 0, sizeof *a);
    a->api_key = malloc(strlen(api_key) + 1);
    a->secret = malloc(len + 1);
    if (a->api_key == NULL || a->secret == NULL)
        goto done;
    memcpy(a->api_key, api_key, strlen(api_key) + 1);
    memcpy(a->secret, secret, len + 1);
    a->secret_len = len;
    rc = 0;
done:
    if (rc != 0)
        sim_auth_dispose(a);
    return rc;
}

void sim_auth_dispose(struct sim_auth *a)
{
    volatile unsigned char *p = a->secret;
    size_t i;

    /* volatile stores: the secret is gone even if the compiler sees free() right after */
    for (i = 0; p != NULL && i < a->secret_len; i++)
        p[i] = 0;
    free(a->secret);
    free(a->api_key);
    memset(a, 0, sizeof *a);
}

/* A JSON number claim as seconds; false when absent or not a number. */
static bool claim_time(yajl_val claims, const char *name, long long *out)
{
    const char *path[2];
    yajl_val v;

    path[0] = name;
    path[1] = NULL;
    v = yajl_tree_get(claims, path, yajl_t_number);

    if (v == NULL)
        return false;
    if (YAJL_IS_INTEGER(v))
        *out = YAJL_GET_INTEGER(v);
    else if (YAJL_IS_DOUBLE(v))
        *out = (long long)YAJL_GET_DOUBLE(v);
    else
        return false;
    return true;
}

static const char *claim_string(yajl_val claims, const char *name)
{
    const char *path[2];
    yajl_val v;

    path[0] = name;
    path[1] = NULL;
    v = yajl_tree_get(claims, path, yajl_t_string);

    return v != NULL ? YAJL_GET_STRING(v) : NULL;
}

int sim_auth_check(const struct sim_auth *a, const char *authorization, time_t now,
                   const char **reason)
{
    const char *room_list[] = {"video", "roomList", NULL};
    jwt_t *jwt = NULL;
    char *claims_text = NULL;
    yajl_val claims = NULL, grant;
    const char *token, *s;
    long long exp, nbf;
    int rc = -1;

    if (authorization == NULL) {
        *reason = "no Authorization header";
        goto done;
    }
    if (strncasecmp(authorization, "Bearer ", 7) != 0) {
        *reason = "Authorization is not a Bearer token";
        goto done;
    }
    token = authorization + 7;
    while (*token == ' ')
        token++;
    if (*token == '\0') {
        *reason = "empty bearer token";
        goto done;
    }
    if (jwt_decode(&jwt, token, a->secret, (int)a->secret_len) != 0 || jwt == NULL) {
        *reason = "malformed token or bad signature";
        goto done;
    }
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        *reason = "token algorithm is not HS256";
        goto done;
    }
    claims_text = jwt_get_grants_json(jwt, NULL);
    if (claims_text == NULL) {
        *reason = "token has no claims";
        goto done;
    }
    claims = yajl_tree_parse(claims_text, NULL, 0);
    if (claims == NULL || !YAJL_IS_OBJECT(claims)) {
        *reason = "token claims are not a JSON object";
        goto done;
    }
    s = claim_string(claims, "iss");
    if (s == NULL || strcmp(s, a->api_key) != 0) {
        *reason = "token iss is not the API key";
        goto done;
    }
    s = claim_string(claims, "sub");
    if (s == NULL || *s == '\0') {
        *reason = "token has no sub";
        goto done;
    }
    if (!claim_time(claims, "exp", &exp)) {
        *reason = "token has no exp";
        goto done;
    }
    if (exp <= (long long)now) {
        *reason = "token expired";
        goto done;
    }
    if (!claim_time(claims, "nbf", &nbf)) {
        *reason = "token has no nbf";
        goto done;
    }
    if (nbf > (long long)now + SIM_AUTH_LEEWAY) {
        *reason = "token not valid yet (nbf)";
        goto done;
    }
    grant = yajl_tree_get(claims, room_list, yajl_t_true);
    if (grant == NULL) {
        *reason = "token lacks the video.roomList grant";
        goto done;
    }
    rc = 0;
done:
    yajl_tree_free(claims);
    free(claims_text);
    jwt_free(jwt);
    return rc;
}
