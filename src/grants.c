/* grants.c -- the writer role's rights as GRANT statements; see grants.h.
 *
 * One text (src/queries/grant.sql, `writer_grants`) serves both `lkarchive grant --writer
 * ROLE`, which runs it, and the hint of a permission error, which prints it for the role that
 * met it: what the operator is told to run is what the command does. The role is quoted as
 * an identifier ("..." with " doubled), whatever its name.
 */
#include "grants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "store_sql.h"

#define ROLE_PLACEHOLDER "{role}"

/* Append n bytes of text to out at *used (out has room: the caller sized it). */
static void append(char *out, size_t *used, const char *text, size_t n)
{
    memcpy(out + *used, text, n);
    *used += n;
}

int grants_writer_sql(char **out, const char *role, bool one_line, struct lk_error *err)
{
    const char *sql = store_sql_writer_grants, *p;
    size_t quoted_len = 2, count = 0, used = 0;
    char *text, *quoted;

    for (p = role; *p; p++)
        quoted_len += *p == '"' ? 2 : 1;
    for (p = strstr(sql, ROLE_PLACEHOLDER); p; p = strstr(p + 1, ROLE_PLACEHOLDER))
        count++;
    text = malloc(strlen(sql) + count * quoted_len + 1);
    quoted = malloc(quoted_len + 1);
    *out = text;
    if (text == NULL || quoted == NULL) {
        free(quoted);
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    quoted[used++] = '"';
    for (p = role; *p; p++) {
        if (*p == '"')
            quoted[used++] = '"';
        quoted[used++] = *p;
    }
    quoted[used++] = '"';
    quoted[used] = '\0';
    used = 0;
    for (p = sql; *p;) {
        if (strncmp(p, ROLE_PLACEHOLDER, strlen(ROLE_PLACEHOLDER)) == 0) {
            append(text, &used, quoted, strlen(quoted));
            p += strlen(ROLE_PLACEHOLDER);
        } else if (one_line && strncmp(p, "--", 2) == 0) {
            p += strcspn(p, "\n"); /* a comment line */
            p += *p == '\n';
        } else if (one_line && (*p == '\n' || *p == ' ')) {
            p += strspn(p, "\n ");
            if (used > 0)
                append(text, &used, " ", 1);
        } else {
            append(text, &used, p++, 1);
        }
    }
    text[used] = '\0';
    free(quoted);
    return 0;
}

void grants_writer_hint(char *buf, size_t size, const char *role)
{
    char *sql = NULL;

    if (grants_writer_sql(&sql, role, true, NULL) == 0)
        snprintf(buf, size,
                 "as the archive's owner, run `lkarchive grant --writer %s`, which runs: %s", role,
                 sql);
    else
        snprintf(buf, size, "as the archive's owner, run `lkarchive grant --writer %s`", role);
    free(sql);
}
