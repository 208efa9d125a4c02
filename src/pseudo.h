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

#include <stdbool.h>
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

/* How pseudo_scrub_json rewrites an `extra` object: every string and every key goes through
 * replace, which returns what to write instead (valid until its next call) or NULL to keep it;
 * with drop_free_form the top-level members "attributes" and "metadata" (an application's
 * free-form data about the participant) go whole. */
struct pseudo_scrub {
    const char *(*replace)(void *ctx, const char *text);
    void *ctx;
    bool drop_free_form;
};

/* *out = json (an object) scrubbed as s says; the caller frees it. Returns 0, or -1 (json is
 * not an object, or out of memory; *out NULL). */
int pseudo_scrub_json(char **out, const char *json, const struct pseudo_scrub *s);

#endif
