/* ratelimit.c -- pacing one rate domain; see ratelimit.h.
 *
 * Starts are spaced 1/rate apart (next_ms) and none starts during a hold (hold_ms). The rate
 * changes in three places only: it grows in grow() when a start comes and the pace has been
 * holding requests back; it drops on an empty moment (a 429 of a request started after the
 * last one) in empty_moment(); and rate-limit headers set it in follow_headers(). Every
 * change goes through set_rate, which applies the ceiling and the bounds.
 */
#include "ratelimit.h"

#include <math.h>

/* Rate estimates over a shorter span than this are too coarse (one request either way). */
#define MIN_SPAN_MS 1000
/* The lowest rate: one request a minute. */
#define MIN_RPS (1.0 / 60.0)

static void set_rate(struct ratelimit *rl, double rps, long long now_ms)
{
    if (rl->ceiling > 0 && rps > rl->ceiling)
        rps = rl->ceiling;
    if (rps > RATELIMIT_MAX_RPS)
        rps = RATELIMIT_MAX_RPS;
    rl->rate = rps < MIN_RPS ? MIN_RPS : rps;
    rl->grown_ms = now_ms;
    rl->held_back = false;
}

void ratelimit_init(struct ratelimit *rl, double known_rpm, bool limited, double ceiling_rpm,
                    long long now_ms)
{
    *rl = (struct ratelimit){.ceiling = ceiling_rpm > 0 ? ceiling_rpm / 60.0 : 0,
                             .slow_start = !(limited && known_rpm > 0),
                             /* a limit learned before is still the API's limit */
                             .limited = limited && known_rpm > 0,
                             .next_ms = (double)now_ms,
                             .hold_ms = now_ms,
                             .empty_ms = -1};
    /* an unlimited night's rate is only a floor: slow start goes on from there */
    set_rate(rl, known_rpm > 0 ? known_rpm / 60.0 : RATELIMIT_START_RPS, now_ms);
    /* a known limit starts with the credit of a domain that was idle (all night) */
    if (!rl->slow_start) {
        rl->hold_ms = now_ms - RATELIMIT_CREDIT_MS;
        rl->next_ms = (double)rl->hold_ms;
    }
}

long long ratelimit_next_start(const struct ratelimit *rl, long long now_ms)
{
    long long next = (long long)ceil(rl->next_ms);
    long long at = next > rl->hold_ms ? next : rl->hold_ms;

    return at > now_ms ? at : now_ms;
}

void ratelimit_waited(struct ratelimit *rl, long long since_ms, long long now_ms)
{
    if (now_ms > since_ms)
        rl->wait_ms += now_ms - since_ms;
    /* a hold is the server's doing, spacing is ours: only spacing says the rate is too low */
    if (now_ms >= rl->hold_ms)
        rl->held_back = true;
}

/* Both kinds of growth happen only while the pace is what holds requests back (an idle
 * domain learns nothing about its limit): slow start up to what keeps the requests in flight
 * a small share of those accepted, then the probe adds a share a second. */
static void grow(struct ratelimit *rl, long long now_ms)
{
    long long elapsed = now_ms - rl->grown_ms;

    if (!rl->held_back)
        return;
    if (rl->slow_start && rl->latency_ms > 0 &&
        (double)elapsed >= fmax(RATELIMIT_DOUBLING_MS, 2 * rl->latency_ms)) {
        double latency_s = (rl->latency_ms < 0.1 ? 0.1 : rl->latency_ms) / 1000.0;
        double target = RATELIMIT_OVERSHOOT * (double)rl->accepted / latency_s;

        if (target > rl->rate)
            set_rate(rl, target < rl->rate * 2 ? target : rl->rate * 2, now_ms);
    } else if (!rl->slow_start && elapsed >= 1000) {
        set_rate(rl, rl->rate * (1.0 + RATELIMIT_PROBE * (double)elapsed / 1000.0), now_ms);
    }
}

void ratelimit_started(struct ratelimit *rl, long long now_ms)
{
    grow(rl, now_ms);
    rl->requests++;
    rl->started_since++;
    /* spacing (in fractions of a ms: fast rates start several a ms) from the later of the
     * slot and now less the credit: a domain idle for a while (a day's commit) may use up to
     * RATELIMIT_CREDIT_MS of its rate at once, as the server's bucket refilled meanwhile; in
     * slow start, and right after a 429, only what the clock's ms ticks would lose */
    {
        double credit = rl->slow_start || now_ms < rl->hold_ms + RATELIMIT_CREDIT_MS
                            ? RATELIMIT_TICK_CREDIT_MS
                            : RATELIMIT_CREDIT_MS;
        double from = rl->next_ms > (double)now_ms - credit ? rl->next_ms : (double)now_ms - credit;

        rl->next_ms = from + 1000.0 / rl->rate;
    }
}

/* The server's bucket was found empty at now_ms. Over a span since the last such moment long
 * enough to measure, the answers it accepted are its rate: when that is clearly below what
 * was sent, the pace drops to it (a little less; not below a quarter at once). When the server
 * took nearly everything sent and then one 429, the pace only just went past the limit (or
 * the 429 was noise, as an overloaded API answers some at random): it keeps what was sent,
 * without the margin, so that noise cannot wear the pace down. A 429 within a short span of
 * the last one moves the moment on and keeps the rate. The first moment of a night that knew
 * no rate halves it: its count holds the bucket's unknown burst. */
static void empty_moment(struct ratelimit *rl, long long now_ms)
{
    long long span = rl->empty_ms >= 0 ? now_ms - rl->empty_ms : -1;

    if (span < 0) {
        set_rate(rl, rl->rate / 2, now_ms);
    } else if (span >= MIN_SPAN_MS) {
        double measured = (double)rl->accepted_since * 1000.0 / (double)span;
        double sent = (double)rl->started_since * 1000.0 / (double)span;

        if (measured < sent * 0.95) {
            if (measured < rl->rate / 4)
                measured = rl->rate / 4;
            rl->measured = measured < rl->rate ? measured : rl->rate;
            set_rate(rl, rl->measured * RATELIMIT_MARGIN, now_ms);
        } else if (measured < rl->rate) {
            rl->measured = measured;
            set_rate(rl, measured, now_ms);
        }
    }
    rl->empty_ms = now_ms;
    rl->accepted_since = 0;
    rl->started_since = 0;
    rl->slow_start = false;
}

/* Hold every start until seconds from now (capped). */
static void hold(struct ratelimit *rl, long long now_ms, long seconds)
{
    long long until;

    if (seconds > RATELIMIT_HOLD_CAP_S)
        seconds = RATELIMIT_HOLD_CAP_S;
    until = now_ms + (long long)seconds * 1000;
    if (until > rl->hold_ms)
        rl->hold_ms = until;
}

/* Headers say the limit outright: limit per window is the rate, nothing left holds. */
static void follow_headers(struct ratelimit *rl, long long now_ms, const struct ratelimit_answer *a)
{
    if (a->limit > 0) {
        double window_s = a->window_s > 0 ? (double)a->window_s : 60.0;
        double rps = (double)a->limit / window_s * RATELIMIT_MARGIN;

        rl->measured = (double)a->limit / window_s;

        if (rl->slow_start || fabs(rps - rl->rate) > rl->rate * 0.01)
            set_rate(rl, rps, now_ms);
        rl->slow_start = false;
        rl->limited = true;
    }
    if (a->remaining == 0 && a->reset_s > 0) {
        hold(rl, now_ms, a->reset_s);
        rl->limited = true;
    }
}

void ratelimit_answered(struct ratelimit *rl, long long now_ms, const struct ratelimit_answer *a)
{
    follow_headers(rl, now_ms, a);
    if (a->status > 0 && now_ms >= a->started_ms) {
        double latency = (double)(now_ms - a->started_ms);
        rl->latency_ms = rl->latency_ms > 0 ? rl->latency_ms * 0.8 + latency * 0.2 : latency;
    }
    if (a->status != 429) {
        if (a->status > 0) {
            rl->accepted_since++;
            rl->accepted++;
        }
        return;
    }
    rl->throttled++;
    /* "Retry-After: 0" asks for no wait: an API shedding load at random, not a limit met
     * (a limiter names the seconds until it has room): asked again, the pace kept */
    if (a->retry_after_s == 0)
        return;
    rl->limited = true;
    /* the answer of a request sent before the last empty moment is part of that moment */
    if (rl->empty_ms < 0 || a->started_ms >= rl->empty_ms)
        empty_moment(rl, now_ms);
    /* without Retry-After, hold a second */
    hold(rl, now_ms, a->retry_after_s > 0 ? a->retry_after_s : 1);
}

double ratelimit_rpm(const struct ratelimit *rl)
{
    return rl->rate * 60.0;
}

double ratelimit_learned_rpm(const struct ratelimit *rl)
{
    double rps = rl->measured > 0 ? rl->measured * RATELIMIT_MARGIN : rl->rate;

    if (rl->ceiling > 0 && rps > rl->ceiling)
        rps = rl->ceiling;
    return (rps < rl->rate ? rps : rl->rate) * 60.0;
}
