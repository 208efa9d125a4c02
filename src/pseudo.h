/* pseudo.h -- pseudonyms for participant identities: HMAC-SHA256 under a key only the
 * operator holds (pseudonymize_key_file), written as 64 lower-case hex digits.
 *
 * The same identity always gives the same pseudonym, so per-identity analytics still work,
 * and without the key a pseudonym cannot be tied back to an identity by guessing. `forget`
 * records only pseudonyms; a run pseudonymizes the rows of a forgotten identity, or of every
 * identity with pseudonymize_identities, before they are staged.
 */
#ifndef LK_PSEUDO_H
#define LK_PSEUDO_H

#include <stddef.h>

struct lk_error;
struct pseudo;

#define PSEUDO_HEX_SIZE 65 /* 64 hex digits and NUL */

/* Read the key from `key_file` (at least 16 bytes; a trailing newline is not part of it).
 * On success the caller owns *out (pseudo_free). Returns 0, LK_ECONFIG (file unreadable,
 * too short; err names the file) or LK_ENOMEM. */
int pseudo_open(struct pseudo **out, const char *key_file, struct lk_error *err);
void pseudo_free(struct pseudo *p); /* wipes the key; NULL is a no-op; cannot fail */

/* out = hex HMAC-SHA256(key, text). Cannot fail. */
void pseudo_hex(const struct pseudo *p, const char *text, char out[PSEUDO_HEX_SIZE]);

#endif
