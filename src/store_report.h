/* store_report.h -- what `lkarchive report` reads from the archive (store_report.c): per
 * project its days (billing estimate, sessions, peak concurrency, ledger health), the monthly
 * billing estimate, the top rooms and the SDK, region and connection-type mix, all from the
 * livekit_bi views in one read-only snapshot. Plain structs; store_report_free frees them.
 */
#ifndef LK_STORE_REPORT_H
#define LK_STORE_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "date.h"

struct lk_error;
struct store;

/* A figure as the database wrote it (exact, for the page's data- attributes) and its value. */
struct report_number {
    char text[32];
    double value;
};

struct report_day {
    char day[DATE_TEXT_SIZE];
    struct report_number billable; /* billable connection minutes (estimate) */
    struct report_number minutes;  /* exact participant minutes, rounded to 0.01 */
    struct report_number sessions;
    struct report_number peak; /* daily peak concurrency (0: none that day) */
    char health[12];           /* complete, pending, failed, gap, missing (not attempted), before */
};

struct report_month {
    char month[DATE_TEXT_SIZE]; /* its first day */
    struct report_number billable, minutes, gb, days_covered, days_in_month;
    bool projected_set; /* the current month: a projection exists */
    struct report_number projected, projected_gb, projection_days;
};

/* A room, or one value of a mix dimension. */
struct report_item {
    char *label;        /* NULL: not reported (or, with other, every value beyond the top) */
    char dimension[16]; /* rooms: "room"; mix: "sdk", "region", "connection_type" */
    bool other;
    struct report_number minutes;
    struct report_number count; /* sessions (rooms) or participant rows (mix) */
};

struct report_project {
    char *project;
    struct report_day *days; /* every day of the range, oldest first */
    size_t day_count;
    struct report_month *months; /* the last twelve months with sessions, newest first */
    size_t month_count;
    struct report_item *rooms; /* top ten by participant minutes */
    size_t room_count;
    struct report_item *mix; /* by dimension, largest first, "other" last */
    size_t mix_count;
};

struct report_data {
    char first_day[DATE_TEXT_SIZE], today[DATE_TEXT_SIZE];
    struct report_project *projects;
    size_t count;
};

/* Read the report of the days first_day..today for every project in `configured` and the
 * archive (only `project` when not NULL), in one read-only snapshot; today is also the
 * views' current day (the setting lkarchive.today). On success the caller owns *out
 * (store_report_free). Returns 0, LK_EDB or LK_ENOMEM. */
int store_report_load(struct report_data **out, struct store *st, char *const *configured,
                      size_t configured_count, const char *project, const char *first_day,
                      const char *today, struct lk_error *err);
void store_report_free(struct report_data *data); /* NULL is a no-op; cannot fail */

#endif
