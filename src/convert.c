/* convert.c -- strict scalar conversions for extract; see convert.h.
 *
 * Calendar arithmetic is date's (days from civil and back, proleptic Gregorian, by hand)
 * because C11 without extensions has no timegm and the zone of the process must not matter.
 */
#include "convert.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "date.h"

/* Parse exactly `count` digits at text[*pos]; advances *pos. */
static bool read_digits(const char *text, size_t len, size_t *pos, int count, int *out)
{
    int value = 0;
    if (*pos + (size_t)count > len)
        return false;
    for (int i = 0; i < count; i++) {
        char c = text[*pos + (size_t)i];
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + (c - '0');
    }
    *pos += (size_t)count;
    *out = value;
    return true;
}

static bool all_digits(const char *text, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (text[i] < '0' || text[i] > '9')
            return false;
    return true;
}

/* Write value as exactly `width` decimal digits (zero-padded); returns the end. */
static char *put_digits(char *out, int value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
    return out + width;
}

/* Digits with at most one '.': epoch seconds sent as a string. */
static bool looks_like_epoch(const char *text, size_t len)
{
    const char *dot = memchr(text, '.', len);
    if (dot == NULL)
        return all_digits(text, len);
    return all_digits(text, (size_t)(dot - text)) &&
           all_digits(dot + 1, len - (size_t)(dot - text) - 1);
}

/* Write epoch seconds plus a fraction (digits only, may be empty) as canonical UTC text.
 * Years outside 1..9999 are invalid: PostgreSQL could hold some, but they are not real. */
static enum convert_result format_epoch(int64_t seconds, const char *fraction, size_t fraction_len,
                                        char *out)
{
    int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
    int64_t second_of_day = seconds - days * 86400;
    int64_t year;
    int month, day;

    if (fraction_len > 9)
        return CONVERT_INVALID;
    date_civil_from_days(days, &year, &month, &day);
    if (year < 1 || year > 9999)
        return CONVERT_INVALID;
    /* by hand, not snprintf: this runs for every timestamp of every record (profiled) */
    out = put_digits(out, (int)year, 4);
    *out++ = '-';
    out = put_digits(out, month, 2);
    *out++ = '-';
    out = put_digits(out, day, 2);
    *out++ = ' ';
    out = put_digits(out, (int)(second_of_day / 3600), 2);
    *out++ = ':';
    out = put_digits(out, (int)(second_of_day / 60 % 60), 2);
    *out++ = ':';
    out = put_digits(out, (int)(second_of_day % 60), 2);
    if (fraction_len) {
        *out++ = '.';
        memcpy(out, fraction, fraction_len);
        out += fraction_len;
    }
    memcpy(out, "+00", 4);
    return CONVERT_OK;
}

static bool fraction_is_zero(const char *fraction, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (fraction[i] != '0')
            return false;
    return true;
}

enum convert_result convert_timestamp_text(const char *text, size_t len,
                                           char out[CONVERT_TIMESTAMP_MAX])
{
    size_t pos = 0, fraction_at = 0, fraction_len = 0;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offset_minutes = 0;

    if (len == 0)
        return CONVERT_UNSET;
    if (looks_like_epoch(text, len))
        return convert_timestamp_epoch(text, len, out);
    if (!read_digits(text, len, &pos, 4, &year) || pos >= len || text[pos++] != '-' ||
        !read_digits(text, len, &pos, 2, &month) || pos >= len || text[pos++] != '-' ||
        !read_digits(text, len, &pos, 2, &day) || pos >= len ||
        (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' '))
        return CONVERT_INVALID;
    pos++;
    if (!read_digits(text, len, &pos, 2, &hour) || pos >= len || text[pos++] != ':' ||
        !read_digits(text, len, &pos, 2, &minute) || pos >= len || text[pos++] != ':' ||
        !read_digits(text, len, &pos, 2, &second))
        return CONVERT_INVALID;
    if (pos < len && text[pos] == '.') {
        fraction_at = ++pos;
        while (pos < len && text[pos] >= '0' && text[pos] <= '9')
            pos++;
        fraction_len = pos - fraction_at;
        if (fraction_len == 0 || fraction_len > 9)
            return CONVERT_INVALID;
    }
    if (pos < len && (text[pos] == 'Z' || text[pos] == 'z')) {
        pos++;
    } else if (pos < len && (text[pos] == '+' || text[pos] == '-')) {
        int sign = text[pos++] == '-' ? -1 : 1, off_h, off_m;
        if (!read_digits(text, len, &pos, 2, &off_h) || pos >= len || text[pos++] != ':' ||
            !read_digits(text, len, &pos, 2, &off_m) || off_h > 23 || off_m > 59)
            return CONVERT_INVALID;
        offset_minutes = sign * (off_h * 60 + off_m);
    } else {
        return CONVERT_INVALID; /* RFC 3339 requires a zone */
    }
    if (pos != len || year < 1 || month < 1 || month > 12 || day < 1 ||
        day > date_days_in_month(year, month) || hour > 23 || minute > 59 || second > 60)
        return CONVERT_INVALID;
    /* Go's zero time.Time: "not set" (the API writes it for sessions still active). */
    if (year == 1 && month == 1 && day == 1 && hour == 0 && minute == 0 && second == 0 &&
        offset_minutes == 0 && fraction_is_zero(text + fraction_at, fraction_len))
        return CONVERT_UNSET;
    int64_t epoch = date_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 +
                    second - (int64_t)offset_minutes * 60;
    return format_epoch(epoch, text + fraction_at, fraction_len, out);
}

enum convert_result convert_timestamp_epoch(const char *text, size_t len,
                                            char out[CONVERT_TIMESTAMP_MAX])
{
    const char *dot = memchr(text, '.', len);
    size_t int_len = dot ? (size_t)(dot - text) : len;
    size_t fraction_len = dot ? len - int_len - 1 : 0;
    int64_t seconds = 0;

    /* Negative epochs and exponents never describe a LiveKit session: reject them. */
    if (!all_digits(text, int_len) || int_len > 12 || (dot && !all_digits(dot + 1, fraction_len)))
        return CONVERT_INVALID;
    for (size_t i = 0; i < int_len; i++)
        seconds = seconds * 10 + (text[i] - '0');
    if (seconds == 0 && fraction_is_zero(dot ? dot + 1 : "", fraction_len))
        return CONVERT_UNSET;
    return format_epoch(seconds, dot ? dot + 1 : "", fraction_len, out);
}

enum convert_result convert_timestamp_parts(const char *seconds, size_t seconds_len,
                                            const char *nanos, size_t nanos_len,
                                            char out[CONVERT_TIMESTAMP_MAX])
{
    char seconds_text[CONVERT_INT_MAX] = "0", nanos_text[CONVERT_INT_MAX] = "0";
    char fraction[10];
    long long secs, ns;

    if (seconds &&
        convert_integer(seconds, seconds_len, 0, 253402300799LL, seconds_text) != CONVERT_OK)
        return CONVERT_INVALID;
    if (nanos && convert_integer(nanos, nanos_len, 0, 999999999, nanos_text) != CONVERT_OK)
        return CONVERT_INVALID;
    sscanf(seconds_text, "%lld", &secs);
    sscanf(nanos_text, "%lld", &ns);
    if (secs == 0 && ns == 0)
        return CONVERT_UNSET;
    snprintf(fraction, sizeof fraction, "%09lld", ns);
    return format_epoch(secs, fraction, ns ? 9 : 0, out);
}

void convert_format_unsigned(char *out, uint64_t value)
{
    char digits[24];
    int n = 0;

    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    while (n > 0)
        *out++ = digits[--n];
    *out = '\0';
}

enum convert_result convert_integer(const char *text, size_t len, int64_t min, int64_t max,
                                    char out[CONVERT_INT_MAX])
{
    bool negative = len > 0 && text[0] == '-';
    size_t start = negative ? 1 : 0;
    uint64_t magnitude = 0;
    const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

    if (!all_digits(text + start, len - start))
        return CONVERT_INVALID;
    for (size_t i = start; i < len; i++) {
        unsigned digit = (unsigned)(text[i] - '0');
        if (magnitude > (limit - digit) / 10)
            return CONVERT_INVALID; /* beyond bigint: keep the original rather than wrap */
        magnitude = magnitude * 10 + digit;
    }
    if (negative) {
        if (magnitude > (uint64_t)INT64_MAX) {
            if (min != INT64_MIN)
                return CONVERT_INVALID;
            snprintf(out, CONVERT_INT_MAX, "%s", "-9223372036854775808");
            return CONVERT_OK;
        }
        int64_t value = -(int64_t)magnitude;
        if (value < min || value > max)
            return CONVERT_INVALID;
        if (magnitude == 0) { /* "-0" is 0 */
            convert_format_unsigned(out, 0);
            return CONVERT_OK;
        }
        *out = '-';
        convert_format_unsigned(out + 1, magnitude);
        return CONVERT_OK;
    }
    if (max < 0 || magnitude > (uint64_t)max || (int64_t)magnitude < min)
        return CONVERT_INVALID;
    convert_format_unsigned(out, magnitude);
    return CONVERT_OK;
}

/* PostgreSQL's numeric (and so jsonb's numbers): 16383 digits after the point at most
 * (NUMERIC_DSCALE_MAX), a first non-zero digit no higher than 10^131071 (a weight of 32767
 * base-10000 digits), and an exponent below INT_MAX / 2 either way (numeric.c checks it
 * before anything else). The display scale is the digits after the point minus the exponent,
 * and at least 0; it counts trailing zeros (1.000 has 3), so 1.(16384 zeros) is refused as
 * PostgreSQL refuses it. */
#define NUMERIC_MAX_SCALE 16383
#define NUMERIC_MAX_POWER 131071
#define NUMERIC_MAX_EXPONENT 1073741822 /* INT_MAX / 2 - 1 */

enum convert_result convert_numeric(const char *text, size_t len)
{
    size_t pos = 0, int_at, int_len, fraction_at, fraction_len = 0, first_nonzero = SIZE_MAX;
    int64_t exponent = 0, scale, power;

    if (pos < len && text[pos] == '-')
        pos++;
    int_at = pos;
    while (pos < len && text[pos] >= '0' && text[pos] <= '9')
        pos++;
    int_len = pos - int_at;
    if (int_len == 0)
        return CONVERT_INVALID;
    fraction_at = pos + 1;
    if (pos < len && text[pos] == '.') {
        pos++;
        while (pos < len && text[pos] >= '0' && text[pos] <= '9')
            pos++;
        fraction_len = pos - fraction_at;
        if (fraction_len == 0)
            return CONVERT_INVALID;
    }
    if (pos < len && (text[pos] == 'e' || text[pos] == 'E')) {
        bool negative = false;
        size_t digits_at;

        pos++;
        if (pos < len && (text[pos] == '+' || text[pos] == '-'))
            negative = text[pos++] == '-';
        digits_at = pos;
        while (pos < len && text[pos] >= '0' && text[pos] <= '9') {
            /* beyond the bound, more digits only matter for the grammar */
            if (exponent <= NUMERIC_MAX_EXPONENT)
                exponent = exponent * 10 + (text[pos] - '0');
            pos++;
        }
        if (pos == digits_at || exponent > NUMERIC_MAX_EXPONENT)
            return CONVERT_INVALID;
        if (negative)
            exponent = -exponent;
    }
    if (pos != len)
        return CONVERT_INVALID;

    scale = (int64_t)fraction_len - exponent;
    if (scale > NUMERIC_MAX_SCALE)
        return CONVERT_INVALID;
    for (size_t i = 0; i < int_len && first_nonzero == SIZE_MAX; i++)
        if (text[int_at + i] != '0')
            first_nonzero = i;
    for (size_t i = 0; i < fraction_len && first_nonzero == SIZE_MAX; i++)
        if (text[fraction_at + i] != '0')
            first_nonzero = int_len + i;
    if (first_nonzero == SIZE_MAX)
        return CONVERT_OK; /* zero, of any weight */
    /* the power of ten of the first non-zero digit */
    power = (int64_t)int_len - 1 + exponent - (int64_t)first_nonzero;
    return power > NUMERIC_MAX_POWER ? CONVERT_INVALID : CONVERT_OK;
}
