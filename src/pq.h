/* pq.h -- the one checked way to run a libpq statement, and the SQLSTATEs lkarchive tests.
 *
 * Every statement the store runs goes through pq_exec: it sends the statement (with text
 * parameters or without), checks the result status it must have, and on any other outcome
 * fills struct lk_error with LK_EDB, "could not <what>" and the server's message as the
 * detail (primary message, then its DETAIL when the server sent one; libpq's own first line
 * when the failure is the client's, such as a lost connection). An error whose SQLSTATE
 * says the server refused a value (classes 22, 23, 54) is LK_EVALUE instead: the caller can
 * isolate the row that carried it, where any other database failure stops the run. A missing
 * right (42501) gets a hint: the GRANT statements of the writer role for the connected user.
 * Helpers read a result's column by name or into strings, and write array literals.
 */
#ifndef LK_PQ_H
#define LK_PQ_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct lk_error;

/* SQLSTATE codes (PostgreSQL Appendix A) that change what lkarchive does. */
#define SQLSTATE_UNDEFINED_TABLE "42P01"        /* the livekit schema was never migrated */
#define SQLSTATE_UNDEFINED_OBJECT "42704"       /* e.g. a role that does not exist */
#define SQLSTATE_INSUFFICIENT_PRIVILEGE "42501" /* a right is missing: the hint lists them */
/* SQLSTATE classes of a value the server refuses, whatever the connection: LK_EVALUE. */
#define SQLSTATE_CLASS_DATA_EXCEPTION "22" /* bad text, number out of range, bad json */
#define SQLSTATE_CLASS_INTEGRITY "23"      /* a constraint (one a DBA added, say) */
#define SQLSTATE_CLASS_PROGRAM_LIMIT "54"  /* too large, too deep */

/* The result status a statement must end with. */
enum pq_expect {
    PQ_COMMAND_OK, /* a statement without rows (BEGIN, INSERT without RETURNING, ...) */
    PQ_TUPLES_OK,  /* a query or a statement with RETURNING */
    PQ_COPY_IN,    /* COPY ... FROM STDIN, ready for data */
    PQ_ANY_OK      /* either of the first two: a script whose last statement may be a query */
};

/* Run `sql` with `nparams` text parameters; with nparams 0 (params may be NULL) it is sent
 * as a simple query, which may hold several statements. Returns 0 when the result has the
 * `expect`ed status, else LK_EDB (or LK_EVALUE, see above) with err filled ("could not " + what,
 * printf-style). With `out` NULL the result is cleared; otherwise *out gets it in both cases (NULL
 * only when libpq ran out of memory) and the caller clears it with PQclear, after looking at its
 * rows or, on failure, its SQLSTATE (pq_sqlstate_is). */
int pq_exec(PGresult **out, PGconn *conn, enum pq_expect expect, const char *sql, int nparams,
            const char *const *params, struct lk_error *err, const char *what, ...)
    __attribute__((format(printf, 8, 9)));

/* The same check for a result obtained otherwise (PQgetResult after a COPY); res stays the
 * caller's. Returns 0, LK_EDB or LK_EVALUE with err filled. */
int pq_check(const PGresult *res, const PGconn *conn, enum pq_expect expect, struct lk_error *err,
             const char *what, ...) __attribute__((format(printf, 5, 6)));

/* A libpq call without a result failed (connecting, PQputCopyData): LK_EDB, "could not " +
 * what, and libpq's reason (the first line of PQerrorMessage) as the detail. */
int pq_fail(const PGconn *conn, struct lk_error *err, const char *what, ...)
    __attribute__((format(printf, 3, 4)));

/* The text of `column` of every row of res whose row `keep` accepts (keep NULL: every row),
 * in row order: *out gets *count_out strings (the caller frees them with pq_strings_free, also
 * on failure: what was copied is there). Returns 0 or LK_ENOMEM. */
int pq_column_strings(char ***out, size_t *count_out, const PGresult *res, int column,
                      bool (*keep)(const PGresult *res, int row, void *ctx), void *ctx,
                      struct lk_error *err);
void pq_strings_free(char **strings, size_t count); /* NULL is a no-op */

/* A PostgreSQL text[] literal of items[0..count) (`{"a","b"}`: each quoted, `"` and `\`
 * escaped) or integer[] literal (`{1,5,9}`) into *out, which the caller frees. Returns 0 or
 * LK_ENOMEM. */
int pq_text_array(char **out, char *const *items, size_t count, struct lk_error *err);
int pq_int_array(char **out, const int *items, size_t count, struct lk_error *err);

/* The column of res named `name` (pg_dump's PQfnumber idiom); the statement must have it, so
 * a missing one is a programmer's mistake (assert). */
int pq_column(const PGresult *res, const char *name);

/* Whether res is an error with SQLSTATE `sqlstate` (one of the SQLSTATE_* above). res NULL
 * is false. Cannot fail. */
bool pq_sqlstate_is(const PGresult *res, const char *sqlstate);

#endif
