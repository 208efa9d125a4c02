/* date.c -- UTC calendar days; see date.h.
 *
 * Pure arithmetic on day counts: a date is parsed into days since 1970-01-01, moved, and
 * written back. Only date_today reads the clock (time(), which counts UTC seconds).
 */
#include "date.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SECONDS_PER_DAY 86400

int64_t date_days_from_civil(int64_t year, int month, int day)
{
    int64_t y = year - (month <= 2);
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void date_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

int date_days_in_month(int64_t year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* The number in text[0..count), which must be digits only; -1 if it is not. */
static int digits_value(const char *text, int count)
{
    int value = 0;

    for (int i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

bool date_parse(const char *text, int64_t *days_out)
{
    int year, month, day;

    if (strlen(text) != DATE_TEXT_SIZE - 1 || text[4] != '-' || text[7] != '-')
        return false;
    year = digits_value(text, 4);
    month = digits_value(text + 5, 2);
    day = digits_value(text + 8, 2);
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > date_days_in_month(year, month))
        return false;
    if (days_out)
        *days_out = date_days_from_civil(year, month, day);
    return true;
}

bool date_valid(const char *text)
{
    return date_parse(text, NULL);
}

static void format_days(char out[DATE_TEXT_SIZE], int64_t days)
{
    int64_t year;
    int month, day;

    date_civil_from_days(days, &year, &month, &day);
    assert(year >= 0 && year <= 9999);
    snprintf(out, DATE_TEXT_SIZE, "%04d-%02d-%02d", (int)year, month, day);
}

void date_today(char out[DATE_TEXT_SIZE])
{
    format_days(out, (int64_t)time(NULL) / SECONDS_PER_DAY);
}

void date_add_days(char out[DATE_TEXT_SIZE], const char *day, int delta)
{
    int64_t days = 0;
    bool valid = date_parse(day, &days);

    assert(valid);
    (void)valid;
    format_days(out, days + delta);
}
