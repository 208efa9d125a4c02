/* ratelimit.h -- the pace of one rate domain (a project with its API key) under a limit the
 * API does not publish.
 *
 * LiveKit limits each project's requests per minute, by plan, and says so only by answering
 * 429 (with Retry-After) or, where an API sends them, by rate-limit headers. A struct
 * ratelimit spaces the domain's request starts 1/rate apart and learns the rate:
 * - Slow start: with no rate known, start at RATELIMIT_START_RPS and let the rate grow, while
 *   the pace is what holds requests back, up to RATELIMIT_OVERSHOOT x the answers accepted so
 *   far / the latency (at most doubling every two latencies). Spaced starts overshoot
 *   a limit by the requests in flight when it is met (rate x latency): so the 429s of that
 *   moment stay a small share of what went before, a slow API ramps up gently and a fast
 *   one (or none limited) in a fraction of a second.
 * - A 429 means the server's bucket is empty: every start is held until its Retry-After
 *   (the answers of requests already sent meanwhile are one event, not several). Between two
 *   such empty moments the server accepted what it refilled, so the answers that were not
 *   429 divided by the time between them is its rate: when that is clearly below what was
 *   sent, the pace becomes it, a little less (else the 429 was the probe just going past the
 *   limit, or noise: the pace keeps what was sent). The first 429 of a night that knew no
 *   rate has no empty moment before it (the bucket's unknown burst is in the count): the
 *   rate is halved instead.
 * - While the pace is what holds requests back and no 429 comes, the rate creeps up by
 *   RATELIMIT_PROBE a second, to follow a limit that was raised.
 * - A 429 with "Retry-After: 0" (no wait asked) is load shed at random, not a limit: it is
 *   counted and asked again, and the pace is kept.
 * - Rate-limit headers are used directly: limit / window sets the rate, remaining 0 holds
 *   until the reset. The configured ceiling caps everything.
 * Pure: the caller passes the monotonic clock in ms. Not thread-safe: one owner.
 */
#ifndef LK_RATELIMIT_H
#define LK_RATELIMIT_H

#include <stdbool.h>

/* The first rate of a domain with none known, in requests a second. */
#define RATELIMIT_START_RPS 8.0
/* Slow start at most doubles the rate once in two latencies, and never more often than this. */
#define RATELIMIT_DOUBLING_MS 10
/* Slow start keeps the requests in flight under this share of those accepted so far. */
#define RATELIMIT_OVERSHOOT 0.02
/* No rate above this (requests a second): far beyond any API, a local simulator included. */
#define RATELIMIT_MAX_RPS 1000000.0
/* The pace is set this far below a measured server rate. */
#define RATELIMIT_MARGIN 0.98
/* While the pace holds requests back without a 429, the rate grows by this share a second. */
#define RATELIMIT_PROBE 0.005
/* A domain that was idle may start this much of its rate at once (not in slow start, nor
 * within this long of a 429's hold). */
#define RATELIMIT_CREDIT_MS 1000
/* Otherwise the credit that keeps a fast rate whole on a clock of whole ms. */
#define RATELIMIT_TICK_CREDIT_MS 2.0
/* A Retry-After above this is held as this many seconds. */
#define RATELIMIT_HOLD_CAP_S 60

struct ratelimit {
    double rate;              /* requests a second, > 0 */
    double ceiling;           /* configured cap (requests a second), 0: none */
    bool slow_start;          /* no limit met yet: the rate doubles */
    bool limited;             /* the API limited this domain (a 429 or rate-limit headers) */
    bool held_back;           /* the pace delayed a start since the rate last grew */
    double next_ms;           /* no start before this: spacing (fractions of a ms) */
    long long hold_ms;        /* no start before this: Retry-After, a header's reset */
    long long grown_ms;       /* when the rate last grew (or was set) */
    long long empty_ms;       /* when the server's bucket was last found empty, -1: never */
    long long accepted_since; /* answers not 429 since empty_ms (or since the first start) */
    long long started_since;  /* requests started since empty_ms */
    long long accepted;       /* answers not 429 in all */
    double latency_ms;        /* moving average of the answers' latency, 0: none yet */
    double measured;          /* the server's rate as last measured (requests a second), 0: none */
    /* what the run saw, for the ledger and metrics */
    long long requests;  /* requests started */
    long long throttled; /* answered 429 */
    long long wait_ms;   /* time the pace held a ready request back */
};

/* What one answer said. Every field but status may be -1: absent. */
struct ratelimit_answer {
    long status;          /* HTTP status, 0: no response (transport failure) */
    long retry_after_s;   /* Retry-After */
    long limit;           /* requests allowed per window (RateLimit-Limit, X-RateLimit-Limit) */
    long remaining;       /* left in this window */
    long reset_s;         /* seconds until the window resets (or the next request is allowed) */
    long window_s;        /* the window's length (RateLimit-Policy w=), -1: a minute */
    long long started_ms; /* when the request started (a 429 of a request started before the
                             last empty moment belongs to that moment) */
};

/* A domain whose rate is known_rpm requests a minute (0: unknown, slow start from
 * RATELIMIT_START_RPS, or from known_rpm when it was not `limited`), capped at ceiling_rpm
 * (0: none). limited: known_rpm was learned from the API's limit (start there, no slow
 * start). Cannot fail. */
void ratelimit_init(struct ratelimit *rl, double known_rpm, bool limited, double ceiling_rpm,
                    long long now_ms);

/* When the next request may start (>= now_ms when it must wait). Cannot fail. */
long long ratelimit_next_start(const struct ratelimit *rl, long long now_ms);

/* A ready request waited from since_ms to now_ms for the pace: count it, and let the rate
 * grow (the pace is what holds requests back). Cannot fail. */
void ratelimit_waited(struct ratelimit *rl, long long since_ms, long long now_ms);

/* A request started at now_ms (not before ratelimit_next_start). Cannot fail. */
void ratelimit_started(struct ratelimit *rl, long long now_ms);

/* A request's answer arrived at now_ms. Cannot fail. */
void ratelimit_answered(struct ratelimit *rl, long long now_ms, const struct ratelimit_answer *a);

/* The rate in requests a minute. */
double ratelimit_rpm(const struct ratelimit *rl);

/* What the next night should start from, in requests a minute: the server's rate as last
 * measured (times RATELIMIT_MARGIN; the probe may since have gone past it), else the rate. */
double ratelimit_learned_rpm(const struct ratelimit *rl);

#endif
