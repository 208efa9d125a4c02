/* cli_pseudo.c -- the key of identity pseudonyms that `run` (pseudonymize_identities) and
 * `forget` share, opened from the configuration (pseudo.c holds and uses it).
 */
#include "cli_internal.h"

#include "config.h"
#include "error.h"
#include "pseudo.h"

/* The key of identity pseudonyms, when configured (*out NULL otherwise); `needed`: its
 * absence is a configuration error. */
int cli_open_pseudo(const struct config *cfg, bool needed, struct pseudo **out,
                    struct lk_error *err)
{
    *out = NULL;
    if (cfg->pseudonymize_key_file)
        return pseudo_open(out, cfg->pseudonymize_key_file, err);
    if (needed || cfg->pseudonymize_identities) {
        lk_error_set(err, LK_ECONFIG, "%s needs pseudonymize_key_file",
                     needed ? "forget" : "pseudonymize_identities");
        lk_error_detail(err, "the key of the pseudonyms (HMAC-SHA256): a file of 16 bytes or more "
                             "only lkarchive's user can read, kept for the archive's life");
        return LK_ECONFIG;
    }
    return 0;
}
