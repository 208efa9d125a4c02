/* fetch.h -- one project-day's requests: list pages, then session details, into the store.
 *
 * Every response streams from the API through extract into the store's open day
 * (store_day_begin was called); api makes each request, sched decides when it starts (by the
 * project's pace, ratelimit.h) and whether it is tried again, paging says which list page
 * comes next. One struct fetch lives
 * for the run: its concurrency, page size and time budget carry over from day to day, and it
 * collects the field paths the API sent that extract did not know.
 */
#ifndef LK_FETCH_H
#define LK_FETCH_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct lk_error;
struct ratelimit;
struct store;
struct fetch;

/* A session whose details failed for good (the day goes on without them); err is borrowed. */
typedef void (*fetch_failed_fn)(void *ctx, const char *session_id, const struct lk_error *err);

/* cfg and st are borrowed and must outlive the handle. On success the caller owns *out
 * (fetch_free). Returns 0, LK_ECONFIG or LK_ENOMEM. */
int fetch_new(struct fetch **out, const struct config *cfg, struct store *st, struct lk_error *err);

/* NULL is a no-op (running requests are aborted). Cannot fail. */
void fetch_free(struct fetch *f);

/* The store the next day's records go to (borrowed, like fetch_new's): window fetches a day
 * into one of two connections while the other commits the day before. Only between days (no
 * request running). Cannot fail. */
void fetch_set_store(struct fetch *f, struct store *st);

/* The pace of the requests from now on: the rate domain of the project being fetched
 * (borrowed until the next call; NULL: none). Only between days. Cannot fail. */
void fetch_set_pace(struct fetch *f, struct ratelimit *pace);

/* Start a project-day (both borrowed until the next call): forget the last day's sessions. */
void fetch_begin_day(struct fetch *f, const char *project, const char *day);

/* How far the day is: list pages read, sessions listed, details done (ok or failed for good)
 * of those asked for. */
struct fetch_progress {
    int pages;
    size_t sessions;
    size_t details_done, details_total;
};
typedef void (*fetch_progress_fn)(void *ctx, const struct fetch_progress *progress);
/* Call fn (NULL: none) with ctx after every request that finished for good. Cannot fail. */
void fetch_set_progress(struct fetch *f, fetch_progress_fn fn, void *ctx);

/* The list phase: pages until a short or empty one; *pages_out gets how many were read.
 * Returns 0 or the failure that ends the day (err names the page). */
int fetch_list(struct fetch *f, int *pages_out, struct lk_error *err);

/* Distinct session ids the day's list held. */
size_t fetch_listed_count(const struct fetch *f);

/* The details phase: ids[0..count), concurrently; a session that fails for good goes to
 * on_failed. *fetched_out gets how many were stored. Returns 0 or a failure that stops the
 * run. */
int fetch_details(struct fetch *f, char *const *ids, size_t count, fetch_failed_fn on_failed,
                  void *ctx, long long *fetched_out, struct lk_error *err);

/* Whether the failure rc of this day stops the run: the database, memory or configuration
 * failed, or a request was refused for good (credentials, plan, unknown project). */
bool fetch_stops_run(const struct fetch *f, int rc);

/* Whether the day's failure ends the project's requests: none of them can succeed (the API's
 * TLS cannot be trusted or spoken; the error says how to fix it), but other projects may. */
bool fetch_stops_project(const struct fetch *f);

/* Whether the run's time budget is used up. */
bool fetch_out_of_time(const struct fetch *f);

/* Requests sent so far. */
unsigned long fetch_request_count(const struct fetch *f);

/* The field paths the API sent this run that extract did not know (*count_out of them,
 * borrowed from f). */
char *const *fetch_unknown_fields(const struct fetch *f, size_t *count_out);

#endif
