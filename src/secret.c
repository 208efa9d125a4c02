/* secret.c -- wipes the optimiser cannot drop; see secret.h.
 *
 * Every store goes through a volatile pointer, which the compiler must perform: portable C11,
 * unlike explicit_bzero or memset_s, which _POSIX_C_SOURCE alone does not declare.
 */
#include "secret.h"

#include <stdlib.h>
#include <string.h>

void secret_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n--)
        *v++ = 0;
}

void secret_free(char *s)
{
    if (s != NULL)
        secret_free_n(s, strlen(s));
}

void secret_free_n(void *p, size_t n)
{
    if (p == NULL)
        return;
    secret_wipe(p, n);
    free(p);
}
