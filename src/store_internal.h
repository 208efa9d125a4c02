/* store_internal.h -- what the store_*.c files share; nothing outside the store includes it.
 *
 * The store is one module split by job, each file calling down, never back: store_conn.c
 * (connection, advisory locks, reconnect), store_schema.c (migrations and repeatable files),
 * store_grant.c (read access, the privilege check), store_day.c (a day's begin, commit and
 * abort, its counts, ledger entry and run counters), store_stage.c (the day's COPY stage),
 * store_isolate.c (a day archived again session by session; it calls the merges),
 * store_merge.c (the merges), store_rollup.c (the daily rollup's refresh), store_ledger.c
 * (runs, status and gaps), store_prune.c (retention) and store_forget.c (privacy). Their
 * statements longer than a line are in src/queries/NAME.sql (store_sql.h, generated). store.h is
 * their public contract.
 */
#ifndef LK_STORE_INTERNAL_H
#define LK_STORE_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "date.h"
#include "keyset.h"
#include "metrics.h"
#include "strmap.h"

struct lk_error;

/* The COPY buffer is sent to the server whenever it holds this much. */
#define STORE_COPY_FLUSH_BYTES (256 * 1024)
/* A day in isolation sends its rows in COPYs of about this much, each under a savepoint. */
#define STORE_ISOLATE_CHUNK_BYTES (64 * 1024)
/* The stage's COPY statement and its column of the session id (store_isolate.c reads it). */
#define STORE_COPY_STAGE_SQL "COPY lk_stage FROM STDIN (FORMAT binary)"
#define STORE_STAGE_SESSION_COLUMN 3

/* The advisory lock a run holds on its archive_runs row while it lives (two-key form:
 * this class, the run id): a row left `running` whose lock is free belongs to a dead run. */
#define STORE_RUN_LOCK_CLASS 27755 /* "lk" */
#define STORE_STRINGIFY_VALUE(x) #x
#define STORE_STRINGIFY(x) STORE_STRINGIFY_VALUE(x) /* a constant into SQL text */

struct store {
    PGconn *conn;
    long long run_id;       /* the run this connection records (0: none), its lock held */
    char settle_s[16];      /* store_set_settling, as a statement parameter (seconds) */
    char **locked_projects; /* advisory locks held, taken again after a reconnect */
    size_t locked_count;
    bool dry_run; /* store_set_dry_run: no run, ledger or day is written */
    /* the database has the citus extension (read at the first day): the merges of new
     * sessions' rows take the ON CONFLICT path too, whose errors Citus reports with their
     * SQLSTATE (its plain INSERT ... SELECT does not, so a refused value would stop the run) */
    enum { STORE_CITUS_UNKNOWN, STORE_CITUS_NO, STORE_CITUS_YES } citus;

    /* the open day (store_day.c, store_stage.c, store_merge.c) */
    char project[128];
    char day[DATE_TEXT_SIZE];
    bool in_day;            /* its transaction is open: store_day_abort rolls it back */
    bool copying;           /* a COPY into lk_stage is open */
    long long seq;          /* staged rows so far: the last staged version of a key wins */
    bool list_rows_changed; /* the day's list differs from the archive (else skip its merge) */
    struct strmap known;    /* session id -> list hash of the day's ended, archived sessions */
    long long rows_merged;  /* rows the day's merges inserted or changed */
    bool new_collected;     /* lk_new holds the staged sessions new to the archive */
    bool all_new;           /* ... and that is every staged session: nothing can conflict */
    bool day_was_empty;     /* the archive held no session of the day before its merges */
    /* with all_new: the rollup days the inserts' rows reach (date[] literals; merge_stage
     * frees them) */
    char *new_session_days, *new_connection_days;
    long long table_rows[METRICS_TABLES]; /* of those, per table (metrics, once committed) */
    char day_now[48]; /* the day transaction's now() as text: the merges' updated_at */
    char *copy_buf;   /* binary COPY rows not yet sent; flushed at STORE_COPY_FLUSH_BYTES */
    size_t copy_len, copy_capacity;
    /* the hashes of the participants' and connections' keys staged so far: when none was
     * staged twice, the merges of an all-new day skip the newest-row sort */
    struct keyset staged_keys;
    int *discarded; /* HTTP attempts whose staged rows must not be merged */
    size_t discarded_count, discarded_capacity;
    /* isolation (store_isolate.c): a day archived again after PostgreSQL refused a value */
    bool isolate;
    struct strmap refused;   /* sessions left out of the day: a value of theirs refused */
    long long refused_count; /* refused.count, kept for the day's counts */
    char refused_first[640]; /* "session X: <the server's reason>", for the ledger */
    /* privacy (store_forget.c): pseudonyms, borrowed from the caller */
    const struct pseudo *pseudo; /* NULL: identities stored as they come */
    bool pseudo_all;             /* pseudonymize_identities: every identity and name */
    struct strmap forgotten;     /* the day's project's forgotten pseudonyms */
    char *scrubbed_extra;        /* the last staged row's extra, pseudonymized (owned) */
};

/* The daily rollup of the day's merges (store_rollup.c). Before them: *days_out (caller frees)
 * gets the days the archive holds the staged sessions under, as a date[] literal ($2 discarded
 * attempts). After them: recompute those days and the staged sessions' days now. 0, LK_EDB or
 * LK_ENOMEM. */
int store_rollup_collect_days(struct store *st, const char *discarded, char **days_out,
                              struct lk_error *err);
int store_rollup_refresh(struct store *st, const char *discarded, const char *days_before,
                         struct lk_error *err);

/* Take the advisory lock of st->run_id (none when 0). Returns 0 or LK_EDB. */
int store_lock_run(struct store *st, struct lk_error *err);

/* Run a statement (or a script) that returns no rows; LK_EDB with err filled on failure. */
int store_exec(struct store *st, const char *sql, const char *what, struct lk_error *err);

/* The open day's stage (the day's transaction is open): create it if this connection has none,
 * read whether the database runs Citus (once), remember the day's final sessions unless
 * `full`, load the forgotten pseudonyms, and start the COPY. Returns 0, LK_EDB or LK_ENOMEM. */
int store_stage_open(struct store *st, bool full, struct lk_error *err);

/* End the COPY into the stage, if one is open, and check what the server said of it. */
int store_stage_end_copy(struct store *st, struct lk_error *err);

/* Before the merges: fill lk_new with the staged sessions new to the archive and set
 * st->new_collected, all_new and day_was_empty. Not on Citus (its plain INSERT ... SELECT does
 * not report a refused value's SQLSTATE, so a refused value would stop the run) nor in
 * isolation (every row takes the ON CONFLICT path there: a session deleted by hand without its
 * participants is merged again, not refused), nor when no list entry changed (nothing is
 * merged). Returns 0 or LK_EDB. */
int store_merge_collect_new(struct store *st, const char *discarded, struct lk_error *err);

/* The four merges of the stage, for the sessions in `subset` (a text[] literal; NULL: every
 * session), skipping attempts in `discarded`. Returns 0, LK_EDB or LK_EVALUE. */
int store_merge_sessions(struct store *st, const char *discarded, const char *subset,
                         struct lk_error *err);

/* Isolation (store_isolate.c). Send the COPY buffer as its own COPY under a savepoint; a
 * refused chunk is sent again row by row, and the session of each refused row is left
 * out of the day (store_isolate_refuse). Returns 0, LK_EDB or LK_ENOMEM. */
int store_isolate_flush(struct store *st, struct lk_error *err);
/* Leave `session_id` out of the day for the reason `why` (logged once per session, the first
 * kept for the ledger). Returns 0 or LK_ENOMEM. */
int store_isolate_refuse(struct store *st, const char *session_id, const struct lk_error *why,
                         struct lk_error *err);
/* Merge the stage by groups of sessions under savepoints, halving a refused group until the
 * refused session is found and left out; then make the refused sessions be fetched again
 * next run. Returns 0, LK_EDB or LK_ENOMEM. */
int store_isolate_merge(struct store *st, const char *discarded, struct lk_error *err);

/* *out gets "{1,5,9}", the discarded attempts as a PostgreSQL integer[] literal; the caller
 * frees it. Returns 0 or LK_ENOMEM. */
int store_stage_discarded(const struct store *st, char **out, struct lk_error *err);

/* Privacy (store_forget.c). Load the open day's project's forgotten pseudonyms. Returns 0,
 * LK_EDB, LK_ENOMEM, or LK_ECONFIG when the project has some and the store no pseudo (they
 * would come back in clear). */
int store_forget_load(struct store *st, struct lk_error *err);
/* For a participant or connection record: point *identity (and a participant's *name) at the
 * pseudonymized values in the caller's buffers, and *extra at "{}" (forgotten) or at its scrub
 * (pseudo_all: st->scrubbed_extra, valid until the next call), when the identity is forgotten
 * or pseudo_all; otherwise leave them. Cannot fail. */
struct record;
void store_forget_apply(struct store *st, const struct record *rec, const char **identity,
                        const char **name, const char **extra, char id_hex[65], char name_hex[65]);

#endif
