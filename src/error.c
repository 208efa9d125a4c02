/* error.c -- filling struct lk_error; see error.h. Messages are truncated, never overflowed. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void lk_error_init(struct lk_error *err)
{
    if (err == NULL)
        return;
    err->code = LK_OK;
    err->message[0] = '\0';
    err->detail[0] = '\0';
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
