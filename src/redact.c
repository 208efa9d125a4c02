/* redact.c -- see redact.h. Plain scans; the inputs are short messages and capped bodies. */
#include "redact.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

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

/* ---- tokens in bodies ---- */

static bool token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '=' || c == '+' || c == '/';
}

/* Bytes at p that a token fills: a JWT ("eyJ" and base64url, dots), or the value after
 * "Bearer " or after an "Authorization" key (":" or "=", quotes and spaces skipped) up to a
 * quote, comma, brace or line end; *keep gets how many of them to copy before "***". */
static size_t token_at(const char *p, size_t *keep)
{
    static const char auth[] = "authorization";
    size_t n = 0, k = 0;

    *keep = 0;
    if (strncmp(p, "eyJ", 3) == 0) {
        while (token_char(p[n]))
            n++;
        return n >= 10 ? n : 0;
    }
    if (strncasecmp(p, "bearer ", 7) == 0) {
        k = 7;
        while (token_char(p[k + n]))
            n++;
    } else if (strncasecmp(p, auth, sizeof auth - 1) == 0) {
        k = sizeof auth - 1;
        while (p[k] == '"' || p[k] == '\'' || p[k] == ' ' || p[k] == '\\')
            k++;
        if (p[k] != ':' && p[k] != '=')
            return 0;
        k++;
        while (p[k] == ' ' || p[k] == '"' || p[k] == '\'' || p[k] == '\\')
            k++;
        n = strcspn(p + k, "\"',}\r\n\\");
    }
    *keep = k;
    return n > 0 ? k + n : 0;
}

const char *redact_tokens(char *out, size_t size, const char *text, const char *bearer)
{
    size_t used = 0, bearer_len = bearer ? strlen(bearer) : 0, n, keep;
    const char *p = text;

    if (size == 0)
        return out;
    while (*p) {
        if (bearer_len && strncmp(p, bearer, bearer_len) == 0) {
            put(out, size, &used, REDACTED, sizeof REDACTED - 1);
            p += bearer_len;
        } else if ((p == text || !token_char(p[-1])) && (n = token_at(p, &keep)) != 0) {
            put(out, size, &used, p, keep);
            put(out, size, &used, REDACTED, sizeof REDACTED - 1);
            p += n;
        } else {
            put(out, size, &used, p++, 1);
        }
    }
    out[used] = '\0';
    return out;
}
