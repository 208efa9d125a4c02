/* sched.c -- the pace, concurrency, retries, back-off and deadline; see sched.h.
 *
 * The loop of sched_run: start the retries whose time has come (jobs before the cursor),
 * then fresh jobs in order (the cursor moves on), while fewer than max_concurrency run and the
 * pace allows; then wait for running attempts (ops->wait) or sleep until the next start is
 * due. Time a ready request spends waiting on the pace is told to the pace (it counts it, and
 * grows the rate when the pace is what holds requests back). sched_finished, called from
 * within ops->wait, tells the pace what each answer said, then applies one policy per
 * outcome: success, stop, retry when the pace allows (a 429), retry after a back-off, or
 * failure for good. Time is CLOCK_MONOTONIC in ms.
 */
#include "sched.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "log.h"
#include "metrics.h"
#include "process.h"

struct sched {
    struct sched_policy policy;
    struct ratelimit *pace; /* NULL: none */
    unsigned int jitter;
    long long deadline_ms;
    long long waiting_since_ms; /* a ready request has waited on the pace since, -1: none */
    bool throttle_told;         /* the pace's first 429 was logged */
    int in_flight;
    /* the batch sched_run is running */
    struct sched_job *jobs;
    size_t count;
    const struct sched_ops *ops;
    void *ctx;
    size_t finished; /* done or failed for good */
    size_t retrying; /* waiting for a retry */
    int stop_rc;     /* a failure that stops the run; the batch ends */
    struct lk_error stop_err;
};

long long sched_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* ---- the pure parts ---- */

long sched_backoff_ms(long base_ms, int attempt_no, long retry_after_s, unsigned int *jitter)
{
    long ceiling = base_ms, delay;

    assert(base_ms > 0 && attempt_no >= 1);
    for (int i = 1; i < attempt_no && ceiling < SCHED_BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > SCHED_BACKOFF_CAP_MS)
        ceiling = SCHED_BACKOFF_CAP_MS;
    *jitter = *jitter * 1103515245u + 12345u;
    delay = ceiling / 2 + (long)((*jitter >> 8) % (unsigned)(ceiling / 2 + 1));
    if (retry_after_s > 0) {
        long floor_ms =
            (retry_after_s > SCHED_RETRY_AFTER_CAP_S ? SCHED_RETRY_AFTER_CAP_S : retry_after_s) *
            1000;
        if (delay < floor_ms)
            delay = floor_ms;
    }
    return delay;
}

/* ---- the scheduler ---- */

int sched_new(struct sched **out, const struct sched_policy *policy, unsigned int seed,
              struct lk_error *err)
{
    struct sched *s = calloc(1, sizeof *s);

    *out = NULL;
    if (s == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    assert(policy->max_attempts >= 1 && policy->retry_base_ms > 0);
    s->policy = *policy;
    s->jitter = seed;
    s->waiting_since_ms = -1;
    s->deadline_ms = sched_now_ms() + policy->budget_ms;
    *out = s;
    return 0;
}

void sched_free(struct sched *s)
{
    free(s);
}

void sched_set_pace(struct sched *s, struct ratelimit *pace)
{
    assert(s->in_flight == 0);
    s->pace = pace;
    s->throttle_told = false;
}

/* When the pace lets the next request start (now when there is none). */
static long long pace_next(const struct sched *s, long long now)
{
    return s->pace ? ratelimit_next_start(s->pace, now) : now;
}

bool sched_out_of_time(const struct sched *s)
{
    return sched_now_ms() > s->deadline_ms;
}

/* The first failure that stops the run is the one reported. */
static void stop(struct sched *s, int rc, const struct lk_error *err)
{
    if (s->stop_rc != 0)
        return;
    s->stop_rc = rc;
    s->stop_err = *err;
}

static int start_job(struct sched *s, size_t i, long long now)
{
    struct sched_job *job = &s->jobs[i];
    struct lk_error err;
    int rc;

    lk_error_init(&err);
    job->attempt_no++;
    rc = s->ops->start(s->ctx, i, &err);
    if (rc != 0) {
        stop(s, rc, &err);
        return rc;
    }
    job->state = SCHED_RUNNING;
    job->started_ms = now;
    s->in_flight++;
    if (s->pace) {
        if (s->waiting_since_ms >= 0)
            ratelimit_waited(s->pace, s->waiting_since_ms, now);
        ratelimit_started(s->pace, now);
    }
    s->waiting_since_ms = -1;
    return 0;
}

/* A request is ready and a slot is free: whether the pace says not yet (then the wait is
 * timed from now and *wake is at most when it allows). */
static bool held_by_pace(struct sched *s, long long now, long long *wake)
{
    long long at = pace_next(s, now);

    if (at <= now)
        return false;
    if (s->waiting_since_ms < 0)
        s->waiting_since_ms = now;
    if (at < *wake)
        *wake = at;
    return true;
}

/* Start the retries among jobs[0..cursor) whose time has come; *wake gets the earliest time
 * one of the others may start. */
static void start_due_retries(struct sched *s, size_t cursor, long long now, long long *wake)
{
    for (size_t i = 0; s->retrying > 0 && i < cursor && s->in_flight < s->policy.max_concurrency;
         i++) {
        struct sched_job *job = &s->jobs[i];

        if (job->state != SCHED_WAITING)
            continue;
        if (job->not_before_ms > now) {
            if (job->not_before_ms < *wake)
                *wake = job->not_before_ms;
            continue;
        }
        if (held_by_pace(s, now, wake))
            return;
        s->retrying--;
        if (start_job(s, i, now) != 0)
            return;
    }
}

/* Start fresh jobs from the cursor while there is room; returns the new cursor. */
static size_t start_fresh(struct sched *s, size_t cursor, long long now, long long *wake)
{
    while (cursor < s->count && s->in_flight < s->policy.max_concurrency && s->stop_rc == 0) {
        if (held_by_pace(s, now, wake) || start_job(s, cursor, now) != 0)
            break;
        cursor++;
    }
    return cursor;
}

/* Let running attempts progress until wake (at most a second), or sleep until then. */
static void wait_until(struct sched *s, long long now, long long wake)
{
    long long wait = wake - now;

    if (s->in_flight > 0)
        s->ops->wait(s->ctx, (int)(wait < 1 ? 1 : wait > 1000 ? 1000 : wait));
    else if (wait > 0 && s->stop_rc == 0)
        sleep_ms(wait);
}

int sched_run(struct sched *s, struct sched_job *jobs, size_t count, const struct sched_ops *ops,
              void *ctx, struct lk_error *err)
{
    size_t cursor = 0; /* jobs before it have been started at least once */

    for (size_t i = 0; i < count; i++)
        jobs[i] = (struct sched_job){SCHED_WAITING, 0, 0, 0, 0, 0};
    s->jobs = jobs;
    s->count = count;
    s->ops = ops;
    s->ctx = ctx;
    s->finished = s->retrying = 0;
    s->waiting_since_ms = -1;
    s->stop_rc = 0; /* a batch starts clean: after a reconnect a day is archived again */
    while (s->finished < count && s->stop_rc == 0) {
        long long now = sched_now_ms(), wake = now + 1000;

        if (process_stop_signal() != 0) {
            s->stop_rc = LK_EINTR;
            lk_error_set(&s->stop_err, LK_EINTR, "interrupted by %s",
                         process_stop_signal() == SIGINT ? "SIGINT" : "SIGTERM");
            lk_error_detail(&s->stop_err, "the day in progress is rolled back; the next run "
                                          "archives it");
            break;
        }
        start_due_retries(s, cursor, now, &wake);
        cursor = start_fresh(s, cursor, now, &wake);
        wait_until(s, now, wake);
    }
    if (s->stop_rc == 0)
        return 0;
    ops->cancel_all(ctx);
    s->in_flight = 0;
    *err = s->stop_err;
    return s->stop_rc;
}

static void succeed(struct sched *s, struct sched_job *job)
{
    job->state = SCHED_DONE;
    s->finished++;
}

static void mark_failed(struct sched *s, size_t i, int rc)
{
    s->jobs[i].state = SCHED_FAILED;
    s->jobs[i].rc = rc;
    s->finished++;
}

static void fail_for_good(struct sched *s, size_t i, int rc, const struct lk_error *err)
{
    mark_failed(s, i, rc);
    s->ops->failed(s->ctx, i, err);
}

/* What makes retries alike, in buf: the transport's reason after "failed: " (the URL before
 * it differs per request), or an HTTP status's "HTTP NNN", else the whole message. */
static const char *retry_cause(char *buf, size_t size, const char *message)
{
    const char *reason = strstr(message, "failed: ");
    size_t len;

    if (reason) {
        snprintf(buf, size, "%s", reason + strlen("failed: "));
        return buf;
    }
    len = strncmp(message, "HTTP ", 5) == 0 ? strcspn(message + 5, " ") + 5 : strlen(message);
    snprintf(buf, size, "%.*s", (int)len, message);
    return buf;
}

/* Job i's next attempt starts at `at`, unless that is past the run's time budget: then it
 * fails for good, saying so. Returns whether it was scheduled. */
static bool retry_at(struct sched *s, size_t i, const struct sched_outcome *outcome, long long at)
{
    struct lk_error failure = *outcome->err;

    if (at > s->deadline_ms) {
        lk_error_detail(&failure, "the run's time budget (run_budget) is used up; not retrying");
        fail_for_good(s, i, outcome->rc, &failure);
        return false;
    }
    metrics_count_retry();
    s->jobs[i].not_before_ms = at;
    s->jobs[i].state = SCHED_WAITING;
    s->retrying++;
    return true;
}

/* Schedule job i's next attempt after a back-off, if attempts and the time budget allow;
 * else it fails for good, saying why it was not retried. */
static void retry_or_fail(struct sched *s, size_t i, const struct sched_outcome *outcome)
{
    struct sched_job *job = &s->jobs[i];
    struct lk_error failure = *outcome->err;
    long delay;
    char what[200], cause[128];

    if (job->attempt_no >= s->policy.max_attempts) {
        fail_for_good(s, i, outcome->rc, &failure);
        return;
    }
    delay = sched_backoff_ms(s->policy.retry_base_ms, job->attempt_no, outcome->retry_after_s,
                             &s->jitter);
    if (!retry_at(s, i, outcome, sched_now_ms() + delay))
        return;
    s->ops->describe(s->ctx, i, what, sizeof what);
    /* an unreachable API fails every request of the day alike: one line per cause */
    log_warn_similar(retry_cause(cause, sizeof cause, failure.message),
                     "%s: %s; retrying in %.1f s (attempt %d of %d)", what, failure.message,
                     (double)delay / 1000.0, job->attempt_no + 1, s->policy.max_attempts);
}

/* A 429: ask again when the pace allows (it holds every start until the Retry-After), without
 * using up an attempt, unless it was throttled too often or the budget would run out. */
static void retry_throttled(struct sched *s, size_t i, const struct sched_outcome *outcome)
{
    struct sched_job *job = &s->jobs[i];
    struct lk_error failure = *outcome->err;
    long long at = sched_now_ms();
    char what[200];

    if (s->pace)
        at = pace_next(s, at);
    else
        at += sched_backoff_ms(s->policy.retry_base_ms, 1, outcome->retry_after_s, &s->jitter);
    if (++job->throttled > SCHED_MAX_THROTTLED) {
        lk_error_detail(&failure, "answered 429 %d times; not retrying", job->throttled);
        fail_for_good(s, i, outcome->rc, &failure);
        return;
    }
    if (!retry_at(s, i, outcome, at))
        return;
    job->attempt_no--; /* the request was not tried: the API asked to wait */
    s->ops->describe(s->ctx, i, what, sizeof what);
    /* under a limit a few 429s are how the pace learns it: said once, then counted */
    if (!s->throttle_told && s->pace)
        log_info("%s: the API's rate limit answered 429; retrying when it allows, at %.0f "
                 "requests a minute from now on",
                 what, ratelimit_rpm(s->pace));
    else
        log_debug("%s: rate limited (429); retrying in %.1f s", what,
                  (double)(at - sched_now_ms()) / 1000.0);
    s->throttle_told = s->throttle_told || s->pace != NULL;
}

void sched_finished(struct sched *s, size_t i, const struct sched_outcome *outcome)
{
    struct ratelimit_answer answer = outcome->answer;

    assert(i < s->count && s->jobs[i].state == SCHED_RUNNING);
    s->in_flight--;
    if (s->pace) {
        answer.started_ms = s->jobs[i].started_ms;
        ratelimit_answered(s->pace, sched_now_ms(), &answer);
    }
    if (outcome->rc == 0) {
        succeed(s, &s->jobs[i]);
        return;
    }
    assert(outcome->err != NULL);
    if (outcome->throttled && !outcome->stops_run && !outcome->final && outcome->rc == LK_ERETRY) {
        retry_throttled(s, i, outcome);
        return;
    }
    if (outcome->stops_run) {
        mark_failed(s, i, outcome->rc);
        stop(s, outcome->rc, outcome->err);
    } else if (outcome->final || (outcome->rc != LK_ERETRY && outcome->rc != LK_EDATA)) {
        fail_for_good(s, i, outcome->rc, outcome->err);
    } else {
        retry_or_fail(s, i, outcome);
    }
}
