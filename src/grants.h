/* grants.h -- the rights of the archive's writer role, as GRANT statements (grants.c).
 */
#ifndef LK_GRANTS_H
#define LK_GRANTS_H

#include <stdbool.h>
#include <stddef.h>

struct lk_error;

/* The GRANT statements (src/queries/grant.sql) that give `role` what `run` needs, the role
 * quoted as an identifier, into *out (the caller frees it): as SQL to run, or, with
 * one_line, on one line without comments (for a hint). Returns 0 or LK_ENOMEM. */
int grants_writer_sql(char **out, const char *role, bool one_line, struct lk_error *err);

/* The hint of a permission error met by `role`: run `lkarchive grant --writer ROLE` as the
 * archive's owner, or the statements themselves, into buf (size bytes; cut short if need be).
 * Cannot fail. */
void grants_writer_hint(char *buf, size_t size, const char *role);

#endif
