/* pq.c -- checked libpq statements; see pq.h.
 *
 * One path builds every database error: "could not <what>" as the primary message, the
 * server's primary message and DETAIL (or libpq's first line) as the detail, code LK_EDB
 * (LK_EVALUE when the server refused a value).
 * The functions never log: the caller decides what an error means and logs it once.
 */
#include "pq.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "grants.h"

static bool status_expected(ExecStatusType status, enum pq_expect expect)
{
    switch (expect) {
    case PQ_COMMAND_OK:
        return status == PGRES_COMMAND_OK;
    case PQ_TUPLES_OK:
        return status == PGRES_TUPLES_OK;
    case PQ_COPY_IN:
        return status == PGRES_COPY_IN;
    case PQ_ANY_OK:
        return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    }
    return false;
}

/* Whether the server refused a value rather than failed: LK_EVALUE, else LK_EDB. */
static int error_code(const PGresult *res)
{
    static const char *const value_classes[] = {
        SQLSTATE_CLASS_DATA_EXCEPTION, SQLSTATE_CLASS_INTEGRITY, SQLSTATE_CLASS_PROGRAM_LIMIT};
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    for (size_t i = 0; state && i < sizeof value_classes / sizeof value_classes[0]; i++)
        if (strncmp(state, value_classes[i], 2) == 0)
            return LK_EVALUE;
    return LK_EDB;
}

/* The server's DETAIL without the row values it quotes ("Key (a, b)=(x, y) already exists.",
 * "Failing row contains (...)."): they may be a participant's identity or name, which the
 * program's output never shows (privacy). The columns and the verdict stay. */
static const char *detail_without_values(char *out, size_t size, const char *detail)
{
    static const char failing[] = "Failing row contains (";
    const char *eq = strstr(detail, ")=(");
    const char *close = eq ? strrchr(eq, ')') : NULL;

    if (strncmp(detail, failing, sizeof failing - 1) == 0)
        snprintf(out, size, "%s...)", failing);
    else if (strncmp(detail, "Key (", 5) == 0 && eq && close > eq + 2)
        snprintf(out, size, "%.*s=(...)%s", (int)(eq - detail + 1), detail, close + 1);
    else
        snprintf(out, size, "%s", detail);
    return out;
}

/* Fill err: LK_EDB or LK_EVALUE, "could not <what>", and the best one-line reason there is.
 * libpq's own messages (lost connection, out of memory) carry no fields and span lines. */
__attribute__((format(printf, 4, 0))) static int
fail(struct lk_error *err, const PGconn *conn, const PGresult *res, const char *what, va_list ap)
{
    char text[400], shown[sizeof err->detail];
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *message =
        res && *PQresultErrorMessage(res) ? PQresultErrorMessage(res) : PQerrorMessage(conn);

    int code = error_code(res);

    vsnprintf(text, sizeof text, what, ap);
    lk_error_set(err, code, "could not %s", text);
    if (primary && detail)
        lk_error_detail(err, "%s: %s", primary, detail_without_values(shown, sizeof shown, detail));
    else if (primary)
        lk_error_detail(err, "%s", primary);
    else if (*message)
        lk_error_detail(err, "%.*s", (int)strcspn(message, "\n"), message);
    else
        lk_error_detail(err, "unexpected result %s", PQresStatus(PQresultStatus(res)));
    if (err && pq_sqlstate_is(res, SQLSTATE_INSUFFICIENT_PRIVILEGE) && PQuser(conn))
        grants_writer_hint(err->hint, sizeof err->hint, PQuser(conn));
    return code;
}

/* The status check both entry points share. */
__attribute__((format(printf, 5, 0))) static int check(const PGresult *res, const PGconn *conn,
                                                       enum pq_expect expect, struct lk_error *err,
                                                       const char *what, va_list ap)
{
    if (status_expected(PQresultStatus(res), expect))
        return 0;
    return fail(err, conn, res, what, ap);
}

int pq_exec(PGresult **out, PGconn *conn, enum pq_expect expect, const char *sql, int nparams,
            const char *const *params, struct lk_error *err, const char *what, ...)
{
    PGresult *res = nparams == 0 ? PQexec(conn, sql)
                                 : PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    va_list ap;
    int rc;

    va_start(ap, what);
    rc = check(res, conn, expect, err, what, ap);
    va_end(ap);
    if (out)
        *out = res;
    else
        PQclear(res);
    return rc;
}

int pq_check(const PGresult *res, const PGconn *conn, enum pq_expect expect, struct lk_error *err,
             const char *what, ...)
{
    va_list ap;
    int rc;

    va_start(ap, what);
    rc = check(res, conn, expect, err, what, ap);
    va_end(ap);
    return rc;
}

int pq_fail(const PGconn *conn, struct lk_error *err, const char *what, ...)
{
    va_list ap;
    int rc;

    va_start(ap, what);
    rc = fail(err, conn, NULL, what, ap);
    va_end(ap);
    return rc;
}

bool pq_sqlstate_is(const PGresult *res, const char *sqlstate)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state != NULL && strcmp(state, sqlstate) == 0;
}

int pq_column_strings(char ***out, size_t *count_out, const PGresult *res, int column,
                      bool (*keep)(const PGresult *res, int row, void *ctx), void *ctx,
                      struct lk_error *err)
{
    char **strings = calloc((size_t)PQntuples(res) + 1, sizeof *strings);
    size_t count = 0;
    int rc = strings ? 0 : LK_ENOMEM;

    for (int row = 0; rc == 0 && row < PQntuples(res); row++) {
        if (keep && !keep(res, row, ctx))
            continue;
        if ((strings[count] = strdup(PQgetvalue(res, row, column))) == NULL)
            rc = LK_ENOMEM;
        else
            count++;
    }
    if (rc != 0)
        lk_error_set(err, rc, "out of memory");
    *out = strings;
    *count_out = count;
    return rc;
}

void pq_strings_free(char **strings, size_t count)
{
    for (size_t i = 0; strings && i < count; i++)
        free(strings[i]);
    free(strings);
}

int pq_text_array(char **out, char *const *items, size_t count, struct lk_error *err)
{
    size_t size = 3;
    char *p;

    for (size_t i = 0; i < count; i++)
        size += 2 * strlen(items[i]) + 3;
    if ((p = *out = malloc(size)) == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    *p++ = '{';
    for (size_t i = 0; i < count; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const char *s = items[i]; *s; s++) {
            if (*s == '"' || *s == '\\')
                *p++ = '\\';
            *p++ = *s;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return 0;
}

int pq_int_array(char **out, const int *items, size_t count, struct lk_error *err)
{
    char *text = *out = malloc(count * 12 + 3);
    size_t len = 0;

    if (text == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    text[len++] = '{';
    for (size_t i = 0; i < count; i++)
        len += (size_t)sprintf(text + len, "%s%d", i ? "," : "", items[i]);
    text[len++] = '}';
    text[len] = '\0';
    return 0;
}

int pq_column(const PGresult *res, const char *name)
{
    int column = PQfnumber(res, name);

    assert(column >= 0 && "the statement names this column");
    return column;
}
