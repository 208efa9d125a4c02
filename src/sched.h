/* sched.h -- when requests start: the pace of the rate domain, concurrency, retries, a deadline.
 *
 * sched_run takes a batch of jobs and starts them in order through the owner's ops->start, at
 * most max_concurrency at once (what covers the API's latency) and when the pace of the rate
 * domain allows (ratelimit.h: the owner sets it per project); the owner reports the end of
 * every attempt with sched_finished, with what the answer said of the rate limit. A 429 is
 * asked again as soon as the pace allows, without using up an attempt (up to
 * SCHED_MAX_THROTTLED times); another transient failure is tried again after an exponential
 * back-off with full jitter (a Retry-After, capped, is a floor) while attempts and the run's
 * time budget last. A failure that stops the run ends the batch at once. One struct sched
 * lives for the run; a job's own state is a struct sched_job in an array the owner keeps.
 * The pure parts take the clock and the jitter state as parameters: they are unit-tested.
 */
#ifndef LK_SCHED_H
#define LK_SCHED_H

#include <stdbool.h>
#include <stddef.h>

#include "ratelimit.h"

struct lk_error;
struct sched;

/* The back-off ceiling doubles per attempt up to this. */
#define SCHED_BACKOFF_CAP_MS 30000
/* A longer Retry-After is honoured as this many seconds. */
#define SCHED_RETRY_AFTER_CAP_S 60
/* A request answered 429 this many times fails (the pace should have prevented it). */
#define SCHED_MAX_THROTTLED 20

struct sched_policy {
    int max_attempts;    /* attempts per job, >= 1 */
    long retry_base_ms;  /* the first back-off ceiling, > 0 */
    int max_concurrency; /* parallel attempts at most, >= 1 */
    long long budget_ms; /* no retry is scheduled to start later than this after sched_new */
};

enum sched_state { SCHED_WAITING, SCHED_RUNNING, SCHED_DONE, SCHED_FAILED };

/* One job's scheduling state. */
struct sched_job {
    enum sched_state state;
    int attempt_no;          /* attempts started so far (a 429 answer's not counted) */
    int throttled;           /* attempts answered 429 */
    long long not_before_ms; /* SCHED_WAITING after a failure: the retry waits until then */
    long long started_ms;    /* SCHED_RUNNING: when the attempt started */
    int rc;                  /* SCHED_FAILED: the final code */
};

/* How an attempt ended, as its owner saw it. */
struct sched_outcome {
    int rc;                         /* 0 (success) or the failure's LK_E* code */
    const struct lk_error *err;     /* rc != 0: why (borrowed for the call) */
    bool throttled;                 /* the upstream asked to slow down (HTTP 429) */
    long retry_after_s;             /* the upstream's Retry-After, -1 when absent */
    struct ratelimit_answer answer; /* what the answer said of the limit (sched sets started_ms) */
    bool stops_run;                 /* no other job can succeed: end the batch */
    bool final;                     /* no retry: the owner deals with it another way */
};

/* The owner's side of a batch; every function gets sched_run's ctx and a job's index. */
struct sched_ops {
    /* Start job i's next attempt, which must end in one sched_finished call. Returns 0, or
     * a code that stops the run (err filled). */
    int (*start)(void *ctx, size_t i, struct lk_error *err);
    /* Wait up to timeout_ms for running attempts to end (each calls sched_finished). */
    void (*wait)(void *ctx, int timeout_ms);
    /* Abort every running attempt; none of them calls sched_finished. */
    void (*cancel_all)(void *ctx);
    /* Name job i for a message ("list page 3 (limit 100)"). */
    void (*describe)(void *ctx, size_t i, char *out, size_t size);
    /* Job i failed for good and does not stop the run; err is borrowed for the call. */
    void (*failed)(void *ctx, size_t i, const struct lk_error *err);
};

/* A scheduler whose time budget starts now; seed starts the jitter. On success the caller
 * owns *out (sched_free). Returns 0 or LK_ENOMEM. */
int sched_new(struct sched **out, const struct sched_policy *policy, unsigned int seed,
              struct lk_error *err);

/* NULL is a no-op. Cannot fail. */
void sched_free(struct sched *s);

/* The pace the next batches start by (borrowed; NULL: none, only concurrency limits them).
 * Between batches only. Cannot fail. */
void sched_set_pace(struct sched *s, struct ratelimit *pace);

/* The monotonic clock sched and its pace use, in ms. */
long long sched_now_ms(void);

/* Run jobs[0..count) (their state is reset first) until each is done or failed for good.
 * Returns 0, or the code of the first failure that stops the run: err says why, running
 * attempts are cancelled (their jobs stay SCHED_RUNNING) and the rest are left as they are. */
int sched_run(struct sched *s, struct sched_job *jobs, size_t count, const struct sched_ops *ops,
              void *ctx, struct lk_error *err);

/* The attempt of job i (of the batch sched_run is running) ended. Cannot fail. */
void sched_finished(struct sched *s, size_t i, const struct sched_outcome *outcome);

/* Whether the run's time budget is used up. */
bool sched_out_of_time(const struct sched *s);

/* The back-off before attempt attempt_no + 1: a ceiling of base_ms doubled per attempt
 * (capped at SCHED_BACKOFF_CAP_MS, or base_ms if larger), full jitter in [ceiling / 2,
 * ceiling] drawn from *jitter (advanced), then at least retry_after_s seconds (capped at
 * SCHED_RETRY_AFTER_CAP_S) when it is > 0. A Retry-After of 0 still waits: retrying at once
 * would burn every attempt. base_ms > 0, attempt_no >= 1. Cannot fail. */
long sched_backoff_ms(long base_ms, int attempt_no, long retry_after_s, unsigned int *jitter);

#endif
