/* report_fmt.c -- text for the report's page: HTML escaping (every string from the archive
 * goes through report_escape, so a room named "<script>" stays text) and numbers and days
 * formatted for people ("12,345", "1.2k", "7 Dec 2026"). Pure functions of their arguments.
 */
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "date.h"

/* The length of the UTF-8 sequence that starts with byte c (1 for a stray byte). */
static size_t utf8_length(unsigned char c)
{
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    if (c >= 0xE0)
        return 3;
    if (c >= 0xC2 && c < 0xE0)
        return 2;
    return 1;
}

void report_escape(FILE *out, const char *s, size_t max_chars)
{
    size_t chars = 0;

    for (const unsigned char *p = (const unsigned char *)s; p && *p; chars++) {
        size_t len = utf8_length(*p);

        if (max_chars && chars == max_chars) {
            fputs("\xE2\x80\xA6", out); /* … */
            break;
        }
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            if (*p < 0x20 || *p == 0x7F) {
                fputs("&#xFFFD;", out);
            } else {
                for (size_t i = 0; i < len && p[i]; i++)
                    fputc(p[i], out);
                p += len;
                continue;
            }
        }
        p++;
    }
}

void report_fmt(char *out, size_t size, double v, int decimals)
{
    char digits[64], *point;
    size_t n, lead, o = 0;
    const char *s = digits;

    snprintf(digits, sizeof digits, "%.*f", decimals, fabs(v) < 1e15 ? v : 0.0);
    if (*s == '-' && strspn(s + 1, "0.") != strlen(s + 1))
        out[o++] = '-';
    if (*s == '-')
        s++;
    point = strchr(s, '.');
    n = point ? (size_t)(point - s) : strlen(s);
    lead = n % 3 ? n % 3 : 3;
    for (size_t i = 0; i < n && o + 2 < size; i++) {
        if (i >= lead && (i - lead) % 3 == 0)
            out[o++] = ',';
        out[o++] = s[i];
    }
    out[o] = '\0';
    if (point)
        snprintf(out + o, size - o, "%s", point);
}

void report_fmt_compact(char *out, size_t size, double v)
{
    static const char *const units[] = {"", "k", "M", "G", "T"};
    size_t u = 0;

    while (fabs(v) >= 1000 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1000;
        u++;
    }
    if (u > 0 && fabs(v) < 10 && v != floor(v))
        snprintf(out, size, "%.1f%s", v, units[u]);
    else
        snprintf(out, size, "%.0f%s", v, units[u]);
}

void report_fmt_day(char *out, size_t size, const char *day, int short_form)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t days, year;
    int month, mday;

    if (!date_parse(day, &days)) {
        snprintf(out, size, "?");
        return;
    }
    date_civil_from_days(days, &year, &month, &mday);
    if (short_form)
        snprintf(out, size, "%d %s", mday, months[month - 1]);
    else
        snprintf(out, size, "%d %s %lld", mday, months[month - 1], (long long)year);
}
