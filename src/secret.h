/* secret.h -- wiping memory that held the API secret or a token before it is freed.
 *
 * config (file bytes, YAML nodes, the secret itself) and token (its copy of the secret, every
 * minted JWT) share these, so there is one wipe the optimiser cannot drop: a plain memset
 * right before free() is a dead store it may remove.
 */
#ifndef LK_SECRET_H
#define LK_SECRET_H

#include <stddef.h>

/* Zero n bytes at p; the stores are made even if p is freed right after. p may be NULL when n
 * is 0. Cannot fail. */
void secret_wipe(void *p, size_t n);

/* Zero the string s up to its terminating NUL, then free it. NULL is a no-op. Cannot fail. */
void secret_free(char *s);

/* Zero n bytes at p, then free it (a buffer whose length is known). NULL is a no-op. */
void secret_free_n(void *p, size_t n);

#endif
