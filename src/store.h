/* store.h -- the archive in PostgreSQL (schema "livekit"): the connection and its settings.
 *
 * One connection per struct store; its jobs have their own headers: store_schema.h
 * (migrations), store_grant.h (read access, privileges), store_day.h (a project-day: one
 * transaction that stages, merges, refreshes the rollup, writes the ledger entry and commits),
 * store_ledger.h (runs, status, gaps), store_prune.h (retention), store_forget.h (privacy).
 */
#ifndef LK_STORE_H
#define LK_STORE_H

#include <stdbool.h>

struct lk_error;
struct store;

/* conninfo NULL: libpq defaults and PG* variables. On success the caller owns *out
 * (store_free). Returns 0 or LK_EDB (err names the server and libpq's reason). */
int store_open(struct store **out, const char *conninfo, struct lk_error *err);
void store_free(struct store *st); /* NULL is a no-op; cannot fail */

/* Give dst the settings of src that store_set_* set (settling time, dry run, pseudonyms):
 * a second connection for the day work (window fetches a day on one while the other
 * commits the day before). Locks, the run id and any open day are not copied: they stay
 * with src. Both must be open; src's pseudo stays borrowed. Cannot fail. */
void store_copy_settings(struct store *dst, const struct store *src);

/* A session that ended less than `seconds` ago is not final (LiveKit fills a session in a few
 * minutes after it ends: until then it may lack participants or still read active): its
 * details are fetched again even when its list entry did not change, and its day is not
 * complete. Default 3600; for the whole connection. Cannot fail. */
void store_set_settling(struct store *st, int seconds);

/* Dry run (`run --dry-run`): store_run_begin records no run (run id 0), store_day_commit
 * compares the day with the archive (day_counts' new/changed/unchanged) and rolls it back,
 * and no ledger entry, seen field or acknowledged gap is written. Cannot fail. */
void store_set_dry_run(struct store *st, bool dry_run);

/* Take the session-level advisory lock of `project` (overlapping cron runs), trying once a
 * second for up to wait_s seconds. Returns 0, LK_ELOCKED (another run holds it) or LK_EDB.
 * Held until store_free; taken again by store_reconnect. */
int store_lock_project(struct store *st, const char *project, int wait_s, struct lk_error *err);

/* Whether the connection is usable. */
bool store_connection_ok(const struct store *st);
/* The user the store is connected as (borrowed from the connection). Cannot fail. */
const char *store_user(const struct store *st);

/* One attempt to reset a lost connection (no waiting: the caller paces its retries), then
 * take the project locks again. Any open day is gone (the server rolled it back). Returns 0,
 * LK_EDB (when store_connection_ok is still false, the server was not reached: err's detail
 * says why, and a later attempt may succeed) or LK_ELOCKED. */
int store_reconnect(struct store *st, struct lk_error *err);

/* Privacy (store_forget.c). Pseudonyms for the connection's days: a participant or connection
 * whose identity's pseudonym is forgotten (store_forget) is staged under the pseudonym, with a
 * participant's name and extra cleared; with `all`, every identity and name is staged as its
 * pseudonym. p (NULL: off; `all` needs one) is borrowed and must outlive st. Cannot fail. */
struct pseudo;
void store_set_pseudo(struct store *st, const struct pseudo *p, bool all);

#endif
