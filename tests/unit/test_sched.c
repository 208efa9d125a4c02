/* test_sched.c -- unit tests for sched.c: back-off, AIMD, the rate cap and the batch loop.
 *
 * The pure functions get the jitter state and the clock as parameters, so their bounds are
 * checked exactly over many jitter draws. The batch loop runs against a fake owner whose
 * attempts end inside ops->wait with scripted outcomes: no network, no database; back-offs
 * are a few milliseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "sched.h"

#define DRAWS 2000

static long ceiling_for(long base, int attempt_no)
{
    long ceiling = base;

    for (int i = 1; i < attempt_no && ceiling < SCHED_BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    return ceiling > SCHED_BACKOFF_CAP_MS ? SCHED_BACKOFF_CAP_MS : ceiling;
}

static void sched_backoff_stays_within_jitter_bounds_per_attempt(void **state)
{
    unsigned int jitter = 12345;

    (void)state;
    for (int attempt = 1; attempt <= 12; attempt++) {
        long ceiling = ceiling_for(500, attempt);
        for (int i = 0; i < DRAWS; i++) {
            long delay = sched_backoff_ms(500, attempt, -1, &jitter);
            assert_in_range(delay, ceiling / 2, ceiling);
        }
    }
}

static void sched_backoff_doubles_up_to_the_cap(void **state)
{
    (void)state;
    assert_int_equal(ceiling_for(500, 1), 500);
    assert_int_equal(ceiling_for(500, 2), 1000);
    assert_int_equal(ceiling_for(500, 7), 30000);
    for (unsigned int seed = 0; seed < DRAWS; seed++) {
        unsigned int jitter = seed;
        assert_in_range(sched_backoff_ms(500, 20, -1, &jitter), SCHED_BACKOFF_CAP_MS / 2,
                        SCHED_BACKOFF_CAP_MS);
        /* a base above the cap is capped too */
        assert_in_range(sched_backoff_ms(60000, 1, -1, &jitter), SCHED_BACKOFF_CAP_MS / 2,
                        SCHED_BACKOFF_CAP_MS);
    }
}

static void sched_backoff_jitter_spreads_the_delays(void **state)
{
    unsigned int jitter = 7;
    long low = 1L << 30, high = 0;

    (void)state;
    for (int i = 0; i < DRAWS; i++) {
        long delay = sched_backoff_ms(1000, 1, -1, &jitter);
        low = delay < low ? delay : low;
        high = delay > high ? delay : high;
    }
    assert_true(low < 600);
    assert_true(high > 900);
}

static void sched_backoff_retry_after_is_a_floor(void **state)
{
    unsigned int jitter = 99;

    (void)state;
    for (int i = 0; i < DRAWS; i++) {
        /* a short back-off waits the Retry-After */
        assert_int_equal(sched_backoff_ms(500, 1, 5, &jitter), 5000);
        /* a longer back-off is not shortened by it */
        assert_in_range(sched_backoff_ms(500, 8, 5, &jitter), 15000, 30000);
    }
}

static void sched_backoff_retry_after_capped_at_60_seconds(void **state)
{
    unsigned int jitter = 3;

    (void)state;
    assert_int_equal(SCHED_RETRY_AFTER_CAP_S, 60);
    assert_int_equal(sched_backoff_ms(500, 1, 3600, &jitter), 60000);
    assert_int_equal(sched_backoff_ms(500, 1, 61, &jitter), 60000);
    assert_int_equal(sched_backoff_ms(500, 1, 60, &jitter), 60000);
    assert_int_equal(sched_backoff_ms(500, 12, 86400, &jitter), 60000);
}

static void sched_backoff_retry_after_zero_still_waits(void **state)
{
    unsigned int jitter = 5;

    (void)state;
    for (int i = 0; i < DRAWS; i++) {
        assert_in_range(sched_backoff_ms(500, 1, 0, &jitter), 250, 500);
        assert_in_range(sched_backoff_ms(10, 1, 0, &jitter), 5, 10);
    }
}

/* ---- the batch loop against a fake owner ---- */

#define FAKE_JOBS 6
#define FAKE_ATTEMPTS 4

struct fake {
    struct sched *s;
    int script[FAKE_JOBS][FAKE_ATTEMPTS]; /* rc of each attempt, by job */
    bool stops[FAKE_JOBS];                /* the job's failure stops the run */
    int throttled[FAKE_JOBS];             /* the first N answers of the job are 429s */
    bool running[FAKE_JOBS];
    int attempts[FAKE_JOBS];
    int in_flight, max_in_flight;
    int failed_count;
    size_t failed_index[FAKE_JOBS];
    char failed_message[FAKE_JOBS][512];
    bool cancelled;
};

static int fake_start(void *ctx, size_t i, struct lk_error *err)
{
    struct fake *f = ctx;

    (void)err;
    f->running[i] = true;
    f->attempts[i]++;
    if (++f->in_flight > f->max_in_flight)
        f->max_in_flight = f->in_flight;
    return 0;
}

/* Every running attempt ends now, with its scripted code. */
static void fake_wait(void *ctx, int timeout_ms)
{
    struct fake *f = ctx;

    (void)timeout_ms;
    for (size_t i = 0; i < FAKE_JOBS; i++) {
        struct lk_error err;
        int rc;

        if (!f->running[i])
            continue;
        bool throttled = f->throttled[i] > 0;

        f->running[i] = false;
        f->in_flight--;
        lk_error_init(&err);
        if (throttled) {
            f->throttled[i]--;
            f->attempts[i]--; /* a 429 is not an attempt of the script */
            rc = LK_ERETRY;
        } else {
            rc = f->script[i][f->attempts[i] - 1];
        }
        if (rc != 0)
            lk_error_set(&err, rc, "job %zu attempt %d failed", i, f->attempts[i]);
        sched_finished(f->s, i,
                       &(struct sched_outcome){
                           .rc = rc,
                           .err = &err,
                           .throttled = throttled,
                           .retry_after_s = throttled ? 1 : -1,
                           .answer = {throttled ? 429 : 200, throttled ? 1 : -1, -1, -1, -1, -1, 0},
                           .stops_run = rc != 0 && f->stops[i]});
    }
}

static void fake_cancel_all(void *ctx)
{
    struct fake *f = ctx;

    f->cancelled = true;
    memset(f->running, 0, sizeof f->running);
    f->in_flight = 0;
}

static void fake_describe(void *ctx, size_t i, char *out, size_t size)
{
    (void)ctx;
    snprintf(out, size, "job %zu", i);
}

static void fake_failed(void *ctx, size_t i, const struct lk_error *err)
{
    struct fake *f = ctx;

    f->failed_index[f->failed_count] = i;
    snprintf(f->failed_message[f->failed_count], sizeof f->failed_message[0], "%s", err->message);
    f->failed_count++;
}

static const struct sched_ops fake_ops = {fake_start, fake_wait, fake_cancel_all, fake_describe,
                                          fake_failed};

static struct sched *new_sched(int max_concurrency)
{
    struct sched_policy policy = {3, 2, max_concurrency, 60000};
    struct sched *s = NULL;
    struct lk_error err;

    lk_error_init(&err);
    assert_int_equal(sched_new(&s, &policy, 1, &err), 0);
    return s;
}

static void sched_run_retries_transient_failures(void **state)
{
    struct fake f = {0};
    struct sched_job jobs[FAKE_JOBS];
    struct lk_error err;

    (void)state;
    f.s = new_sched(2);
    f.script[1][0] = LK_ERETRY; /* job 1: fails once, then succeeds */
    f.script[3][0] = f.script[3][1] = LK_EDATA;
    lk_error_init(&err);
    assert_int_equal(sched_run(f.s, jobs, FAKE_JOBS, &fake_ops, &f, &err), 0);
    for (int i = 0; i < FAKE_JOBS; i++)
        assert_int_equal(jobs[i].state, SCHED_DONE);
    assert_int_equal(f.attempts[1], 2);
    assert_int_equal(f.attempts[3], 3);
    assert_int_equal(jobs[3].attempt_no, 3);
    assert_int_equal(f.failed_count, 0);
    assert_true(f.max_in_flight <= 2);
    sched_free(f.s);
}

static void sched_run_reports_each_failed_job_with_its_own_error(void **state)
{
    struct fake f = {0};
    struct sched_job jobs[FAKE_JOBS];
    struct lk_error err;

    (void)state;
    f.s = new_sched(4);
    for (int a = 0; a < FAKE_ATTEMPTS; a++)
        f.script[0][a] = LK_ERETRY; /* job 0: out of attempts */
    f.script[4][0] = LK_EAPI;       /* job 4: not worth a retry */
    lk_error_init(&err);
    assert_int_equal(sched_run(f.s, jobs, FAKE_JOBS, &fake_ops, &f, &err), 0);
    assert_int_equal(f.failed_count, 2);
    for (int k = 0; k < 2; k++) {
        size_t i = f.failed_index[k];
        char want[512];
        assert_true(i == 0 || i == 4);
        assert_int_equal(jobs[i].state, SCHED_FAILED);
        assert_int_equal(jobs[i].rc, i == 0 ? LK_ERETRY : LK_EAPI);
        snprintf(want, sizeof want, "job %zu attempt %d failed", i, i == 0 ? 3 : 1);
        assert_string_equal(f.failed_message[k], want);
    }
    assert_int_equal(f.attempts[0], 3);
    assert_int_equal(f.attempts[4], 1);
    assert_int_equal(jobs[2].state, SCHED_DONE);
    sched_free(f.s);
}

static void sched_run_stops_the_batch_on_a_run_stopping_failure(void **state)
{
    struct fake f = {0};
    struct sched_job jobs[FAKE_JOBS];
    struct lk_error err;

    (void)state;
    f.s = new_sched(1);
    f.script[1][0] = LK_EAPI;
    f.stops[1] = true;
    lk_error_init(&err);
    assert_int_equal(sched_run(f.s, jobs, FAKE_JOBS, &fake_ops, &f, &err), LK_EAPI);
    assert_string_equal(err.message, "job 1 attempt 1 failed");
    assert_true(f.cancelled);
    assert_int_equal(f.failed_count, 0); /* the run's error, not a job's */
    assert_int_equal(jobs[0].state, SCHED_DONE);
    assert_int_equal(jobs[1].state, SCHED_FAILED);
    assert_int_equal(f.attempts[2], 0); /* nothing started after it */
    /* the next batch starts clean */
    memset(f.script, 0, sizeof f.script);
    memset(f.attempts, 0, sizeof f.attempts);
    assert_int_equal(sched_run(f.s, jobs, FAKE_JOBS, &fake_ops, &f, &err), 0);
    sched_free(f.s);
}

/* 429s are asked again once the pace's hold (the Retry-After) is over, and use up no
 * attempt: a job answered 429 more often than max_attempts still succeeds. */
static void sched_run_asks_again_after_429_without_using_an_attempt(void **state)
{
    struct fake f = {0};
    struct sched_job jobs[FAKE_JOBS];
    struct ratelimit pace;
    struct lk_error err;
    long long started;

    (void)state;
    f.s = new_sched(2);
    ratelimit_init(&pace, 6000, true, 0, sched_now_ms()); /* 100 a second: 10 ms apart */
    sched_set_pace(f.s, &pace);
    f.throttled[2] = 4; /* max_attempts is 3 */
    lk_error_init(&err);
    started = sched_now_ms();
    assert_int_equal(sched_run(f.s, jobs, FAKE_JOBS, &fake_ops, &f, &err), 0);
    for (int i = 0; i < FAKE_JOBS; i++)
        assert_int_equal(jobs[i].state, SCHED_DONE);
    assert_int_equal(jobs[2].throttled, 4);
    assert_int_equal(pace.throttled, 4);
    assert_int_equal(pace.requests, FAKE_JOBS + 4);
    /* every 429 held the domain for its Retry-After of 1 s: four holds (the first 429 also
     * halves the rate, and later ones keep it) */
    assert_true(sched_now_ms() - started >= 4000);
    assert_true(pace.wait_ms > 0);
    sched_free(f.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sched_backoff_stays_within_jitter_bounds_per_attempt),
        cmocka_unit_test(sched_backoff_doubles_up_to_the_cap),
        cmocka_unit_test(sched_backoff_jitter_spreads_the_delays),
        cmocka_unit_test(sched_backoff_retry_after_is_a_floor),
        cmocka_unit_test(sched_backoff_retry_after_capped_at_60_seconds),
        cmocka_unit_test(sched_backoff_retry_after_zero_still_waits),
        cmocka_unit_test(sched_run_retries_transient_failures),
        cmocka_unit_test(sched_run_reports_each_failed_job_with_its_own_error),
        cmocka_unit_test(sched_run_stops_the_batch_on_a_run_stopping_failure),
        cmocka_unit_test(sched_run_asks_again_after_429_without_using_an_attempt),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
