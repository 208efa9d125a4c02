/* error.c -- filling struct lk_error; see error.h. Messages are truncated, never overflowed. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* code -> exit status and rank; a code not listed is an internal error of rank 2. */
static const struct code_meaning {
    int code;
    int exit_status;
    int rank;
} codes[] = {
    {LK_OK, CLI_EXIT_OK, 0},
    {LK_EUSAGE, CLI_EXIT_USAGE, 2},
    {LK_ECONFIG, CLI_EXIT_CONFIG, 5},
    {LK_EAPI, CLI_EXIT_API, 3},
    {LK_ERETRY, CLI_EXIT_API, 3},
    {LK_EDB, CLI_EXIT_DATABASE, 4},
    {LK_EDATA, CLI_EXIT_INCOMPLETE, 2},
    /* the database works, but refused what the API sent: not all archived */
    {LK_EVALUE, CLI_EXIT_INCOMPLETE, 2},
    {LK_EINCOMPLETE, CLI_EXIT_INCOMPLETE, 2},
    {LK_EGAP, CLI_EXIT_GAP, 2},
    {LK_ELOCKED, CLI_EXIT_LOCKED, 2},
};

static const struct code_meaning *find_code(int code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code)
            return &codes[i];
    return NULL;
}

int lk_code_exit_status(int code)
{
    const struct code_meaning *c = find_code(code);
    return c ? c->exit_status : CLI_EXIT_INTERNAL;
}

int lk_code_rank(int code)
{
    const struct code_meaning *c = find_code(code);
    return c ? c->rank : 2;
}

void lk_error_init(struct lk_error *err)
{
    if (err == NULL)
        return;
    err->code = LK_OK;
    err->message[0] = '\0';
    err->detail[0] = '\0';
    err->hint[0] = '\0';
}

void lk_error_set(struct lk_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->detail[0] = '\0';
    err->hint[0] = '\0';
}

void lk_error_hint(struct lk_error *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
}

void lk_error_detail(struct lk_error *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
}

void lk_error_prefix(struct lk_error *err, const char *fmt, ...)
{
    char prefix[256];
    char joined[sizeof err->message];
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* precision caps keep the compiler's truncation analysis (and the reader) calm */
    snprintf(joined, sizeof joined, "%.200s: %.300s", prefix, err->message);
    memcpy(err->message, joined, sizeof joined);
}
