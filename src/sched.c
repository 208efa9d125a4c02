/* sched.c -- retries, back-off, AIMD concurrency, rate cap and deadline; see sched.h.
 *
 * The loop of sched_run: start the retries whose time has come (jobs before the cursor),
 * then fresh jobs in order (the cursor moves on), while fewer than `parallel` run and the
 * rate cap allows; then wait for running attempts (ops->wait) or sleep until the next start
 * is due. sched_finished, called from within ops->wait, applies one policy per outcome:
 * success, slow-down, stop, retry later, or failure for good. Time is CLOCK_MONOTONIC in ms.
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
    struct sched_aimd aimd;
    unsigned int jitter;
    long long deadline_ms;
    long long next_start_ms; /* the rate cap: no start before this */
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

static long long now_ms(void)
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

void sched_aimd_init(struct sched_aimd *a, int max)
{
    assert(max >= 1);
    a->parallel = max;
    a->successes = 0;
    a->max = max;
}

void sched_aimd_success(struct sched_aimd *a)
{
    if (++a->successes >= a->parallel && a->parallel < a->max) {
        a->parallel++;
        a->successes = 0;
    }
}

bool sched_aimd_throttle(struct sched_aimd *a)
{
    if (a->parallel <= 1)
        return false;
    a->parallel /= 2;
    a->successes = 0;
    return true;
}

long long sched_rate_next_start(long long now_ms, int requests_per_second)
{
    return requests_per_second > 0 ? now_ms + 1000 / requests_per_second : now_ms;
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
    sched_aimd_init(&s->aimd, policy->max_concurrency);
    s->jitter = seed;
    s->deadline_ms = now_ms() + policy->budget_ms;
    *out = s;
    return 0;
}

void sched_free(struct sched *s)
{
    free(s);
}

bool sched_out_of_time(const struct sched *s)
{
    return now_ms() > s->deadline_ms;
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
    s->in_flight++;
    s->next_start_ms = sched_rate_next_start(now, s->policy.requests_per_second);
    return 0;
}

/* Start the retries among jobs[0..cursor) whose time has come; *wake gets the earliest time
 * one of the others may start. */
static void start_due_retries(struct sched *s, size_t cursor, long long now, long long *wake)
{
    for (size_t i = 0; s->retrying > 0 && i < cursor && s->in_flight < s->aimd.parallel; i++) {
        struct sched_job *job = &s->jobs[i];
        long long at =
            job->not_before_ms > s->next_start_ms ? job->not_before_ms : s->next_start_ms;

        if (job->state != SCHED_WAITING)
            continue;
        if (at > now) {
            if (at < *wake)
                *wake = at;
            continue;
        }
        s->retrying--;
        if (start_job(s, i, now) != 0)
            return;
    }
}

/* Start fresh jobs from the cursor while there is room; returns the new cursor. */
static size_t start_fresh(struct sched *s, size_t cursor, long long now)
{
    while (cursor < s->count && s->in_flight < s->aimd.parallel && s->stop_rc == 0 &&
           now >= s->next_start_ms && start_job(s, cursor, now) == 0)
        cursor++;
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
        jobs[i] = (struct sched_job){SCHED_WAITING, 0, 0, 0};
    s->jobs = jobs;
    s->count = count;
    s->ops = ops;
    s->ctx = ctx;
    s->finished = s->retrying = 0;
    s->stop_rc = 0; /* a batch starts clean: after a reconnect a day is archived again */
    while (s->finished < count && s->stop_rc == 0) {
        long long now = now_ms(), wake = now + 1000;

        if (process_stop_signal() != 0) {
            s->stop_rc = LK_EINTR;
            lk_error_set(&s->stop_err, LK_EINTR, "interrupted by %s",
                         process_stop_signal() == SIGINT ? "SIGINT" : "SIGTERM");
            lk_error_detail(&s->stop_err, "the day in progress is rolled back; the next run "
                                          "archives it");
            break;
        }
        start_due_retries(s, cursor, now, &wake);
        cursor = start_fresh(s, cursor, now);
        if (cursor < count && s->next_start_ms > now && s->next_start_ms < wake)
            wake = s->next_start_ms;
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
    sched_aimd_success(&s->aimd);
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
    if (now_ms() + delay > s->deadline_ms) {
        lk_error_detail(&failure, "the run's time budget (run_budget) is used up; not retrying");
        fail_for_good(s, i, outcome->rc, &failure);
        return;
    }
    s->ops->describe(s->ctx, i, what, sizeof what);
    /* an unreachable API fails every request of the day alike: one line per cause */
    log_warn_similar(retry_cause(cause, sizeof cause, failure.message),
                     "%s: %s; retrying in %.1f s (attempt %d of %d)", what, failure.message,
                     (double)delay / 1000.0, job->attempt_no + 1, s->policy.max_attempts);
    metrics_count_retry();
    job->not_before_ms = now_ms() + delay;
    job->state = SCHED_WAITING;
    s->retrying++;
}

void sched_finished(struct sched *s, size_t i, const struct sched_outcome *outcome)
{
    assert(i < s->count && s->jobs[i].state == SCHED_RUNNING);
    s->in_flight--;
    if (outcome->rc == 0) {
        succeed(s, &s->jobs[i]);
        return;
    }
    assert(outcome->err != NULL);
    if (outcome->throttled && sched_aimd_throttle(&s->aimd))
        log_info("API rate limit: concurrency lowered to %d", s->aimd.parallel);
    if (outcome->stops_run) {
        mark_failed(s, i, outcome->rc);
        stop(s, outcome->rc, outcome->err);
    } else if (outcome->final || (outcome->rc != LK_ERETRY && outcome->rc != LK_EDATA)) {
        fail_for_good(s, i, outcome->rc, outcome->err);
    } else {
        retry_or_fail(s, i, outcome);
    }
}
