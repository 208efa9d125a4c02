/* copy_binary.c -- PostgreSQL's binary COPY format from canonical text; see copy_binary.h.
 *
 * A field is its byte length (int32, -1 for NULL) and the value as the type's send function
 * writes it, all integers in network byte order. A timestamp's fraction finer than a
 * microsecond is rounded exactly as PostgreSQL's timestamptz input rounds it (strtod, then
 * rint of the microseconds: the same doubles give the same result), so a value staged in
 * binary equals the one the server would have read from text.
 */
#include "copy_binary.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"

const char copy_binary_header[COPY_BINARY_HEADER_SIZE] = "PGCOPY\n\377\r\n\0"
                                                         "\0\0\0\0"
                                                         "\0\0\0";
const char copy_binary_trailer[COPY_BINARY_TRAILER_SIZE] = {'\377', '\377'};

#define USECS_PER_SECOND INT64_C(1000000)
#define SECONDS_PER_DAY INT64_C(86400)

static void put_u16(char *out, uint16_t value)
{
    out[0] = (char)(value >> 8);
    out[1] = (char)value;
}

static void put_u32(char *out, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        out[i] = (char)(value >> (24 - 8 * i));
}

static void put_u64(char *out, uint64_t value)
{
    for (int i = 0; i < 8; i++)
        out[i] = (char)(value >> (56 - 8 * i));
}

/* The `count` digits at text as a number; false if any is not a digit. */
static bool fixed_digits(const char *text, int count, int *out)
{
    int value = 0;

    for (int i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        value = value * 10 + (text[i] - '0');
    }
    *out = value;
    return true;
}

/* The fraction ".d..." (1 to 9 digits) in microseconds, rounded as PostgreSQL rounds it.
 * *len gets the characters read (0 when there is no fraction). */
static bool fraction_micros(const char *text, size_t *len, int64_t *out)
{
    char buffer[12];
    size_t digits = 0;

    *len = 0;
    *out = 0;
    if (text[0] != '.')
        return true;
    while (digits < 10 && text[1 + digits] >= '0' && text[1 + digits] <= '9')
        digits++;
    if (digits == 0 || digits > 9)
        return false;
    memcpy(buffer, text, digits + 1);
    buffer[digits + 1] = '\0';
    *out = (int64_t)rint(strtod(buffer, NULL) * (double)USECS_PER_SECOND);
    *len = digits + 1;
    return true;
}

int copy_binary_timestamp(const char *text, int64_t *out)
{
    int year, month, day, hour, minute, second;
    size_t fraction_len;
    int64_t micros;

    if (strlen(text) < 22 || text[4] != '-' || text[7] != '-' || text[10] != ' ' ||
        text[13] != ':' || text[16] != ':' || !fixed_digits(text, 4, &year) ||
        !fixed_digits(text + 5, 2, &month) || !fixed_digits(text + 8, 2, &day) ||
        !fixed_digits(text + 11, 2, &hour) || !fixed_digits(text + 14, 2, &minute) ||
        !fixed_digits(text + 17, 2, &second))
        return -1;
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > date_days_in_month(year, month) ||
        hour > 23 || minute > 59 || second > 59)
        return -1;
    if (!fraction_micros(text + 19, &fraction_len, &micros) ||
        strcmp(text + 19 + fraction_len, "+00") != 0)
        return -1;
    *out = ((date_days_from_civil(year, month, day) - date_days_from_civil(2000, 1, 1)) *
                SECONDS_PER_DAY +
            hour * 3600 + minute * 60 + second) *
               USECS_PER_SECOND +
           micros;
    return 0;
}

/* A decimal integer (optional '-', then 1 to 19 digits) within [min, max]. */
static bool decimal(const char *text, int64_t min, int64_t max, int64_t *out)
{
    bool negative = text[0] == '-';
    const char *p = text + negative;
    uint64_t magnitude = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

    if (*p == '\0')
        return false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || magnitude > (limit - (uint64_t)(*p - '0')) / 10)
            return false;
        magnitude = magnitude * 10 + (uint64_t)(*p - '0');
    }
    /* two's complement: the negation of magnitude, INT64_MIN included */
    *out = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    return *out >= min && *out <= max;
}

size_t copy_binary_field_size(enum copy_type type, const char *value)
{
    if (value == NULL)
        return 4;
    switch (type) {
    case COPY_TEXT:
        return 4 + strlen(value);
    case COPY_JSONB:
        return 5 + strlen(value);
    case COPY_TIMESTAMPTZ:
    case COPY_INT8:
        return 12;
    case COPY_INT4:
        return 8;
    case COPY_INT2:
        return 6;
    case COPY_BOOL:
    case COPY_CHAR:
        return 5;
    }
    return 4;
}

size_t copy_binary_row_start(char *out, int fields)
{
    put_u16(out, (uint16_t)fields);
    return COPY_BINARY_ROW_START_SIZE;
}

/* The value of a fixed-size type, written after its length; its size, or -1. */
static long fixed_value(char *out, enum copy_type type, const char *value)
{
    int64_t number = 0;

    switch (type) {
    case COPY_TIMESTAMPTZ:
        if (copy_binary_timestamp(value, &number) != 0)
            return -1;
        put_u64(out, (uint64_t)number);
        return 8;
    case COPY_INT8:
        if (!decimal(value, INT64_MIN, INT64_MAX, &number))
            return -1;
        put_u64(out, (uint64_t)number);
        return 8;
    case COPY_INT4:
        if (!decimal(value, INT32_MIN, INT32_MAX, &number))
            return -1;
        put_u32(out, (uint32_t)number);
        return 4;
    case COPY_INT2:
        if (!decimal(value, INT16_MIN, INT16_MAX, &number))
            return -1;
        put_u16(out, (uint16_t)number);
        return 2;
    case COPY_BOOL:
        if (strcmp(value, "t") != 0 && strcmp(value, "f") != 0)
            return -1;
        out[0] = value[0] == 't';
        return 1;
    case COPY_CHAR:
        if (strlen(value) != 1)
            return -1;
        out[0] = value[0];
        return 1;
    case COPY_TEXT:
    case COPY_JSONB:
        break;
    }
    return -1;
}

long copy_binary_field(char *out, enum copy_type type, const char *value)
{
    size_t len;
    long size;

    if (value == NULL) {
        put_u32(out, UINT32_MAX); /* -1: NULL */
        return 4;
    }
    if (type == COPY_TEXT || type == COPY_JSONB) {
        len = strlen(value);
        if (len > INT32_MAX - 1)
            return -1;
        if (type == COPY_JSONB)
            out[4] = 1; /* jsonb's binary format version */
        memcpy(out + 4 + (type == COPY_JSONB), value, len);
        len += type == COPY_JSONB;
        put_u32(out, (uint32_t)len);
        return (long)len + 4;
    }
    if ((size = fixed_value(out + 4, type, value)) < 0)
        return -1;
    put_u32(out, (uint32_t)size);
    return size + 4;
}
