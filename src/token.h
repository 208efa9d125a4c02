/* token.h -- LiveKit access tokens (libjwt, HS256) for the Analytics API.
 *
 * A token carries iss = API key, sub = "lkarchive", nbf = now - 10 s (clock skew),
 * exp = now + ttl, and the grant {"video": {"roomList": true}}. struct token keeps a copy
 * of the secret (zeroed on free) and the current token, and mints a new one when fewer
 * than a quarter of the TTL (at least 30 s) remain, so a long run never sends a stale one.
 */
#ifndef LK_TOKEN_H
#define LK_TOKEN_H

#include <time.h>

struct lk_error;
struct token;

/* Create a minter. key and secret are copied. ttl_seconds >= 60. On success the caller
 * owns *out (token_free). Returns 0, LK_ECONFIG (empty key/secret) or LK_ENOMEM. */
int token_new(struct token **out, const char *api_key, const char *api_secret, int ttl_seconds,
              struct lk_error *err);

/* The bearer token valid at `now` (pass time(NULL)); re-minted when close to expiry.
 * The returned string is borrowed from tok and valid until the next call or token_free.
 * Returns NULL and fills err (LK_ENOMEM or LK_ECONFIG) if minting fails. */
const char *token_get(struct token *tok, time_t now, struct lk_error *err);

/* Free, zeroing the secret and the token. NULL is a no-op. Cannot fail. */
void token_free(struct token *tok);

#endif
