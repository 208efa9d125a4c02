/* store_grant.h -- read access for BI roles and the privilege check of `check` (store_grant.c).
 */
#ifndef LK_STORE_GRANT_H
#define LK_STORE_GRANT_H

#include <stdbool.h>
#include <stddef.h>

struct lk_error;
struct store;

/* For `check`: whether this database user may do what run does: create the schema (not
 * migrated yet: CREATE on the database) or write the archive (migrated: INSERT and UPDATE on
 * the archive's and the ledger's tables, INSERT and DELETE on every rollup table).
 * *ok_out false with `missing` (size bytes) naming what is lacking. Returns 0 or LK_EDB. */
int store_check_privileges(struct store *st, bool migrated, bool *ok_out, char *missing,
                           size_t size, struct lk_error *err);

/* Give the existing `role` read-only access to the archive: USAGE on the schemas livekit and
 * livekit_bi, SELECT on their tables and views, also on objects later migrations create
 * (default privileges, and a re-grant after every migration). Returns 0, LK_ECONFIG when the
 * role does not exist (err names it), or LK_EDB. */
int store_grant_read(struct store *st, const char *role, struct lk_error *err);

/* Whether the existing `role` already may do everything to the archive: a superuser, or a
 * member of the role owning schema livekit (*out). Returns 0, LK_ECONFIG when the role does not
 * exist, or LK_EDB. */
int store_role_owns(struct store *st, const char *role, bool *out, struct lk_error *err);

/* Give the existing `role` what `run` needs, and nothing more (grants.h: the README's writer
 * role), in one transaction. Returns 0, LK_EDB or LK_ENOMEM. */
int store_grant_write(struct store *st, const char *role, struct lk_error *err);

/* After migrations: store_grant_write for every role other than the owner and superusers
 * that may INSERT into livekit.sessions, so that a table a migration added is writable by the
 * writers that exist; *count_out gets how many. Returns 0, LK_EDB or LK_ENOMEM. */
int store_regrant_writers(struct store *st, int *count_out, struct lk_error *err);

#endif
