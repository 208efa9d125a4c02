/* test_ratelimit.c -- unit tests for ratelimit.c: the pace against simulated limits.
 *
 * A millisecond-stepped simulation: a server with a token bucket (rate, burst) or a fixed
 * window answers 429 with Retry-After (whole seconds, rounded up) when it has no token; a
 * client starts requests whenever the pace and its concurrency allow, each answered after
 * a fixed latency. The figures the issue sets are checked on the shapes users meet: the
 * share of 429s and the time against the floor ((needed - burst) / rate).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

#define MAX_IN_FLIGHT 64

struct server {
    double rate, burst, tokens;              /* token bucket */
    unsigned int noise_percent, noise_state; /* that share of the requests get a 429 anyway */
    long window_ms, window_limit, window_used, window_start; /* fixed window, when window_ms */
    long long last_ms;
};

struct flight {
    long long started, answer_at;
    long status, retry_after;
};

struct outcome {
    long long wall_ms, accepted, throttled;
    double final_rpm;
};

static bool server_accepts(struct server *s, long long now, long *retry_after)
{
    if (s->noise_percent) {
        s->noise_state = s->noise_state * 1103515245u + 12345u;
        if ((s->noise_state >> 16) % 100 < s->noise_percent) {
            *retry_after = 0;
            return false;
        }
    }
    if (s->window_ms) {
        if (now - s->window_start >= s->window_ms) {
            s->window_start = now - (now - s->window_start) % s->window_ms;
            s->window_used = 0;
        }
        if (s->window_used < s->window_limit) {
            s->window_used++;
            return true;
        }
        *retry_after = (long)ceil((double)(s->window_start + s->window_ms - now) / 1000.0);
        return false;
    }
    s->tokens += (double)(now - s->last_ms) * s->rate / 1000.0;
    if (s->tokens > s->burst)
        s->tokens = s->burst;
    s->last_ms = now;
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
        return true;
    }
    *retry_after = (long)ceil((1.0 - s->tokens) / s->rate);
    if (*retry_after < 1)
        *retry_after = 1;
    return false;
}

/* Run `needed` requests (a 429 is asked again) through the pace at `concurrency`. */
static struct outcome simulate(struct server *s, struct ratelimit *rl, long needed, int concurrency,
                               long latency_ms)
{
    struct flight flights[MAX_IN_FLIGHT];
    int in_flight = 0;
    long done = 0, queued = needed; /* queued: not yet started or to be asked again */
    long long now = 0, waiting_since = -1;
    struct outcome out = {0};

    while (done < needed && now < 3600 * 1000) {
        for (int i = 0; i < in_flight; i++) {
            struct flight *f = &flights[i];
            struct ratelimit_answer a = {f->status, f->retry_after, -1, -1, -1, -1, f->started};
            if (f->answer_at > now)
                continue;
            ratelimit_answered(rl, now, &a);
            if (f->status == 429) {
                out.throttled++;
                queued++;
            } else {
                out.accepted++;
                done++;
            }
            flights[i--] = flights[--in_flight];
        }
        while (queued > 0 && in_flight < concurrency) {
            if (ratelimit_next_start(rl, now) > now) {
                if (waiting_since < 0)
                    waiting_since = now;
                break;
            }
            if (waiting_since >= 0)
                ratelimit_waited(rl, waiting_since, now);
            waiting_since = -1;
            ratelimit_started(rl, now);
            flights[in_flight] = (struct flight){now, now + latency_ms, 200, -1};
            if (!server_accepts(s, now, &flights[in_flight].retry_after))
                flights[in_flight].status = 429;
            in_flight++;
            queued--;
        }
        now++;
    }
    out.wall_ms = now;
    out.final_rpm = ratelimit_learned_rpm(rl);
    return out;
}

static void check(const char *name, struct outcome o, double floor_s, double max_wall_ratio,
                  double max_throttled_share)
{
    double share = (double)o.throttled / (double)(o.throttled + o.accepted);
    double ratio = (double)o.wall_ms / 1000.0 / floor_s;

    printf("%-40s wall %.1f s, floor %.1f s (x%.2f), 429s %lld of %lld (%.1f %%), learned "
           "%.0f/min\n",
           name, (double)o.wall_ms / 1000.0, floor_s, ratio, o.throttled, o.throttled + o.accepted,
           share * 100, o.final_rpm);
    assert_true(ratio <= max_wall_ratio);
    assert_true(share <= max_throttled_share);
}

/* The first shape, a new user's first night: 240 a minute, burst 8, 40 ms. */
static void ratelimit_learns_a_small_limit_in_its_first_night(void **state)
{
    struct server s = {.rate = 4, .burst = 8, .tokens = 8};
    struct ratelimit rl;

    (void)state;
    ratelimit_init(&rl, 0, false, 0, 0);
    check("240/min burst 8, first night", simulate(&s, &rl, 91, 8, 40), 83.0 / 4, 1.2, 0.05);
    assert_true(rl.limited);
    assert_in_range((long)ratelimit_learned_rpm(&rl), 200, 280);
}

/* The next night starts from the learned rate: no slow start, hardly a 429. */
static void ratelimit_starts_from_the_learned_rate(void **state)
{
    struct server s = {.rate = 4, .burst = 8, .tokens = 8};
    struct ratelimit rl;
    struct outcome o;

    (void)state;
    ratelimit_init(&rl, 235, true, 0, 0);
    assert_false(rl.slow_start);
    assert_true(rl.limited); /* saved as limited again, though no 429 came tonight */
    o = simulate(&s, &rl, 91, 8, 40);
    check("240/min burst 8, learned 235/min", o, 83.0 / 4, 1.2, 0.03);
}

/* The second shape: a big project at 6,000 a minute. */
static void ratelimit_follows_a_large_limit(void **state)
{
    struct server s = {.rate = 100, .burst = 200, .tokens = 200};
    struct ratelimit rl;

    (void)state;
    ratelimit_init(&rl, 0, false, 0, 0);
    check("6000/min burst 200, 14,147 requests", simulate(&s, &rl, 14147, 8, 40),
          (14147.0 - 200) / 100, 1.2, 0.05);
}

/* A limit counted per fixed minute (all at once, then 429 until the minute is over). */
static void ratelimit_lives_with_a_fixed_window(void **state)
{
    struct server s = {.window_ms = 60000, .window_limit = 240};
    struct ratelimit rl;
    struct outcome o;

    (void)state;
    ratelimit_init(&rl, 0, false, 0, 0);
    o = simulate(&s, &rl, 1000, 8, 40);
    /* 1,000 requests at 240 a window: the fifth window (from 240 s) at the earliest */
    check("fixed window 240/min, 1,000 requests", o, 240.0, 1.15, 0.05);
}

/* The configured ceiling is never exceeded, even with no limit at all. */
static void ratelimit_keeps_under_the_ceiling(void **state)
{
    struct server s = {.rate = 1000, .burst = 1000, .tokens = 1000};
    struct ratelimit rl;
    struct outcome o;

    (void)state;
    ratelimit_init(&rl, 0, false, 120, 0);
    o = simulate(&s, &rl, 100, 8, 5);
    assert_int_equal(o.throttled, 0);
    /* 100 requests at 2 a second: 49.5 s at least */
    assert_true(o.wall_ms >= 49500);
    assert_true(ratelimit_rpm(&rl) <= 120.0 + 1e-9);
}

/* Without a limit, slow start reaches what the concurrency allows within seconds. */
static void ratelimit_slow_start_is_quick_without_a_limit(void **state)
{
    struct server s = {.rate = 1e6, .burst = 1e6, .tokens = 1e6};
    struct ratelimit rl;
    struct outcome o;

    (void)state;
    ratelimit_init(&rl, 0, false, 0, 0);
    o = simulate(&s, &rl, 2000, 8, 40);
    /* 8 in flight, 40 ms each: 200 a second at most, so 10 s; slow start costs ~7 s at this
     * latency (it keeps the 429s of a limit met on the way to 2 % of what went before) */
    printf("no limit, 2,000 requests: %.1f s\n", (double)o.wall_ms / 1000.0);
    assert_true(o.wall_ms < 18000);
    assert_false(rl.limited);
}

/* A fast API without a limit (a simulator on this machine: 1 ms, 64 in flight): slow start
 * must not cap the rate at one start a millisecond, nor take long to get there. */
static void ratelimit_starts_many_a_millisecond_when_fast(void **state)
{
    struct server s = {.rate = 1e9, .burst = 1e9, .tokens = 1e9};
    struct ratelimit rl;
    struct outcome o;

    (void)state;
    ratelimit_init(&rl, 0, false, 0, 0);
    o = simulate(&s, &rl, 100000, 64, 1);
    printf("no limit, 1 ms, 64 in flight, 100,000 requests: %.2f s, ends at %.0f/s\n",
           (double)o.wall_ms / 1000.0, ratelimit_rpm(&rl) / 60);
    /* 64,000 a second at most: 1.6 s; the ramp costs a fraction of a second */
    assert_true(o.wall_ms < 2500);
}

/* An overloaded API answering 3 requests in 10 with 429 (Retry-After: 0) at random, under no
 * limit: the pace must not wear down to nothing (every 429 is a retry, but not a limit). */
static void ratelimit_is_not_worn_down_by_random_429s(void **state)
{
    struct server s = {.rate = 1e6, .burst = 1e6, .tokens = 1e6, .noise_percent = 30};
    struct ratelimit rl;
    struct outcome o;

    (void)state;
    ratelimit_init(&rl, 0, false, 0, 0);
    o = simulate(&s, &rl, 2000, 8, 40);
    printf("30 %% random 429s, 2,000 requests: %.1f s, %lld 429s, ends at %.0f/min\n",
           (double)o.wall_ms / 1000.0, o.throttled, ratelimit_rpm(&rl));
    /* 200 a second at most, 70 % of them accepted: 14 s; anything near a collapse is minutes */
    assert_true(o.wall_ms < 60000);
}

/* Headers give the limit: no 429 needed to learn it; remaining 0 holds until the reset. */
static void ratelimit_follows_headers(void **state)
{
    struct ratelimit rl;
    struct ratelimit_answer a = {200, -1, 240, 10, 1, -1, 0};

    (void)state;
    ratelimit_init(&rl, 0, false, 0, 0);
    ratelimit_answered(&rl, 100, &a);
    assert_false(rl.slow_start);
    assert_true(rl.limited);
    assert_in_range((long)ratelimit_rpm(&rl), 230, 240);
    a.remaining = 0;
    a.reset_s = 5;
    ratelimit_answered(&rl, 200, &a);
    assert_true(ratelimit_next_start(&rl, 300) >= 5200);
}

/* The 429s of requests already in flight at an empty moment are that moment, not several:
 * the rate is halved once. */
static void ratelimit_counts_a_burst_of_429s_once(void **state)
{
    struct ratelimit rl;
    struct ratelimit_answer a = {429, 1, -1, -1, -1, -1, 0};
    double before;

    (void)state;
    ratelimit_init(&rl, 0, false, 0, 0);
    for (int i = 0; i < 8; i++)
        ratelimit_started(&rl, 0);
    before = rl.rate;
    for (int i = 0; i < 8; i++)
        ratelimit_answered(&rl, 40 + i, &a);
    assert_true(fabs(rl.rate - before / 2) < 1e-9);
    assert_int_equal(rl.throttled, 8);
    assert_true(ratelimit_next_start(&rl, 50) >= 1040);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ratelimit_learns_a_small_limit_in_its_first_night),
        cmocka_unit_test(ratelimit_starts_from_the_learned_rate),
        cmocka_unit_test(ratelimit_follows_a_large_limit),
        cmocka_unit_test(ratelimit_lives_with_a_fixed_window),
        cmocka_unit_test(ratelimit_keeps_under_the_ceiling),
        cmocka_unit_test(ratelimit_slow_start_is_quick_without_a_limit),
        cmocka_unit_test(ratelimit_starts_many_a_millisecond_when_fast),
        cmocka_unit_test(ratelimit_is_not_worn_down_by_random_429s),
        cmocka_unit_test(ratelimit_follows_headers),
        cmocka_unit_test(ratelimit_counts_a_burst_of_429s_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
