/* date.h -- UTC calendar days: "YYYY-MM-DD" text and the day arithmetic behind it.
 *
 * Days are counted from 1970-01-01 on the proleptic Gregorian calendar (Howard Hinnant's
 * days-from-civil algorithm), so neither the process's time zone nor its C library's mktime
 * can move a date. convert builds its timestamps on the same functions.
 */
#ifndef LK_DATE_H
#define LK_DATE_H

#include <stdbool.h>
#include <stdint.h>

/* "YYYY-MM-DD" and a NUL */
#define DATE_TEXT_SIZE 11

/* Days since 1970-01-01 of year-month-day (month 1..12, day 1..31). Cannot fail. */
int64_t date_days_from_civil(int64_t year, int month, int day);

/* The year, month (1..12) and day (1..31) of a day count. Cannot fail. */
void date_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

/* Days in month (1..12) of year: 28..31. Cannot fail. */
int date_days_in_month(int64_t year, int month);

/* Parse a real calendar date "YYYY-MM-DD" (year 0001..9999, nothing before or after) into
 * *days_out (may be NULL). Returns whether text is one. */
bool date_parse(const char *text, int64_t *days_out);

/* Whether text is a real calendar date in the form YYYY-MM-DD. */
bool date_valid(const char *text);

/* Today's UTC date. Cannot fail. */
void date_today(char out[DATE_TEXT_SIZE]);

/* out = day + delta days. day must be a valid date (assert). Cannot fail. */
void date_add_days(char out[DATE_TEXT_SIZE], const char *day, int delta);

#endif
