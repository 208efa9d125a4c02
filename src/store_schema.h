/* store_schema.h -- the schema: migrations and repeatable files (store_schema.c).
 *
 * sql/schema.sql shows the schema they give.
 */
#ifndef LK_STORE_SCHEMA_H
#define LK_STORE_SCHEMA_H

#include <stdbool.h>

struct lk_error;
struct store;

/* Apply the embedded migrations not yet applied, in order, each in its own transaction,
 * under an advisory lock. An applied migration whose text changed is an error (LK_EDB).
 * Then the repeatable files (views, functions) whose text differs from the one last applied
 * (all of them when a migration was applied now), each in its own transaction.
 * `citus`: then, when the database has the citus extension, distribute the archive tables
 * not yet distributed (sessions, participants, connections by session_id, colocated; rows
 * already there are moved to the shards); nothing without the extension.
 * *applied_out (may be NULL) gets how many migrations (not repeatables) were applied now. */
int store_migrate(struct store *st, bool citus, int *applied_out, struct lk_error *err);

/* Whether the schema is fully migrated (for `check`): 0 and *out set, or LK_EDB. */
int store_schema_current(struct store *st, bool *out, struct lk_error *err);

#endif
