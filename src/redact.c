/* redact.c -- see redact.h. Plain scans; the inputs are short messages, never bodies. */
#include "redact.h"

#include <stdbool.h>
#include <string.h>

/* Append n bytes of s to out[*used..size-1), keeping room for the terminator. */
static void put(char *out, size_t size, size_t *used, const char *s, size_t n)
{
    if (*used + 1 >= size)
        return;
    if (n > size - 1 - *used)
        n = size - 1 - *used;
    memcpy(out + *used, s, n);
    *used += n;
}

/* How many bytes at p are a password to hide: after "password=" (up to a space, or a
 * quoted value), or after "://user:" (up to '@' when one comes before the next '/'). */
static size_t password_at(const char *text, const char *p)
{
    static const char key[] = "password=";

    if (strncmp(p, key, sizeof key - 1) == 0 &&
        (p == text || p[-1] == ' ' || p[-1] == '?' || p[-1] == '&')) {
        const char *v = p + sizeof key - 1;
        size_t n = *v == '\'' ? strcspn(v + 1, "'") + 2 : strcspn(v, " &");
        return sizeof key - 1 + n;
    }
    return 0;
}

/* At a "://": the length of "user:PASSWORD@" to rewrite as "user:***@", or 0. */
static size_t userinfo_password(const char *p, size_t *user_len)
{
    const char *start = p + 3, *at = strchr(start, '@'), *slash = strchr(start, '/');
    const char *colon;

    if (at == NULL || (slash && slash < at))
        return 0;
    colon = memchr(start, ':', (size_t)(at - start));
    if (colon == NULL)
        return 0;
    *user_len = (size_t)(colon - start) + 1;
    return (size_t)(at - start);
}

const char *redact_text(char *out, size_t size, const char *text, const char *secret)
{
    size_t used = 0, secret_len = secret ? strlen(secret) : 0;
    const char *p = text;

    if (size == 0)
        return out;
    while (*p) {
        size_t user_len = 0, n;
        if (secret_len && strncmp(p, secret, secret_len) == 0) {
            put(out, size, &used, REDACTED, sizeof REDACTED - 1);
            p += secret_len;
        } else if ((n = password_at(text, p)) != 0) {
            put(out, size, &used, "password=" REDACTED, sizeof "password=" REDACTED - 1);
            p += n;
        } else if (strncmp(p, "://", 3) == 0 && (n = userinfo_password(p, &user_len)) != 0) {
            put(out, size, &used, p, 3 + user_len);
            put(out, size, &used, REDACTED, sizeof REDACTED - 1);
            p += 3 + n;
        } else {
            put(out, size, &used, p++, 1);
        }
    }
    out[used] = '\0';
    return out;
}

const char *redact_quoted(char *out, size_t size, const char *text)
{
    size_t used = 0;
    const char *p = text;

    if (size == 0)
        return out;
    while (*p) {
        const char *close = *p == '"' ? strchr(p + 1, '"') : NULL;
        if (close && close - p - 1 > 1) {
            put(out, size, &used, "\"" REDACTED "\"", sizeof REDACTED + 1);
            p = close + 1;
        } else if (close) { /* a short one ("=", "]"), kept whole with both quotes */
            put(out, size, &used, p, (size_t)(close - p) + 1);
            p = close + 1;
        } else {
            put(out, size, &used, p++, 1);
        }
    }
    out[used] = '\0';
    return out;
}
