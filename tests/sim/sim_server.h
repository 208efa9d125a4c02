/* sim_server.h -- the HTTP side of lkarchive-sim: libmicrohttpd on 127.0.0.1 only.
 *
 * Requests are routed to the list and details endpoints of the Analytics API (after the token
 * check of sim_auth), to GET /_sim/stats (no auth; request counters), or answered 404. Small
 * bodies are built in memory; list pages are generated while they are sent
 * (MHD_create_response_from_callback), so memory stays flat whatever the page size. MHD runs
 * its own thread pool; the counters are atomics, everything else a request touches is its own.
 * Fault injection (--fault, --slow-above-limit): rules are parsed here (sim_fault_parse) and
 * applied after the token check; delays suspend the connection (MHD_suspend_connection) and a
 * timer thread resumes it, so a slow or hanging answer holds no MHD thread.
 * Rate limit (--rate-limit, --project-rate-limit): one token bucket per project, taken from
 * after the token check and before the fault rules; --latency-ms parks every /api/ answer
 * the same way, so latency never holds an MHD thread either.
 */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_auth.h"
#include "sim_dataset.h"

struct sim_server;

/* What an injected fault does to a request (tests/sim/README.md, "Faults"). */
enum sim_fault_kind {
    SIM_FAULT_500,
    SIM_FAULT_503,
    SIM_FAULT_429,
    SIM_FAULT_RESET,    /* about half of the real body, then the connection is closed */
    SIM_FAULT_TRUNCATE, /* a complete 200 carrying the first half of the real JSON */
    SIM_FAULT_BADJSON,  /* a complete 200 whose body is not JSON */
    SIM_FAULT_SLOW,     /* the real answer after ms */
    SIM_FAULT_HANG,     /* nothing for ms, then the connection is closed */
    SIM_FAULT_ECHO      /* a 500 whose body echoes the Authorization header, with control
                           characters, a forged line and a bidi override */
};

/* Which requests a rule looks at. */
enum sim_fault_match { SIM_MATCH_ALL, SIM_MATCH_LIST, SIM_MATCH_DETAILS, SIM_MATCH_SUBSTR };

#define SIM_MAX_FAULTS 32
#define SIM_FAULT_MAX_MS 3600000u

/* One --fault rule. Plain struct, filled by sim_fault_parse. */
struct sim_fault {
    enum sim_fault_kind kind;
    enum sim_fault_match match;
    char substr[256];    /* SIM_MATCH_SUBSTR: searched in path+query as sent */
    uint64_t times;      /* fail while the URL was requested fewer times before; 0: no limit */
    bool permanent;      /* every matching request fails */
    bool has_rate;       /* fail with probability rate (of the requests times allows) */
    double rate;         /* 0..1 */
    uint64_t rate_limit; /* rate * 2^53: a draw (53 bits) below it fails */
    int64_t retry_after; /* 429/503: seconds for Retry-After; -1: no header */
    uint64_t ms;         /* slow/hang: the delay */
};

/* Parses RULE = KIND[:key=value,...] into *out. 0, or -1 with the reason in err. */
int sim_fault_parse(struct sim_fault *out, const char *rule, char *err, size_t errlen);
/* "500", "reset", ...: the name of a kind, static. Cannot fail. */
const char *sim_fault_name(enum sim_fault_kind kind);

#define SIM_RATE_MAX_PER_MIN 6000000u
#define SIM_RATE_MAX_BURST 1000000u
#define SIM_LATENCY_MAX_MS 60000u

/* One project's request budget: a token bucket of burst tokens, refilled at per_min / 60
 * tokens a second, full at start. per_min 0: no limit. */
struct sim_rate_limit {
    uint64_t per_min; /* 0 or 1..SIM_RATE_MAX_PER_MIN */
    uint64_t burst;   /* 1..SIM_RATE_MAX_BURST when per_min > 0 */
};

struct sim_server_options {
    uint16_t port;    /* 0: ephemeral */
    unsigned threads; /* MHD thread pool size, >= 1 */
    bool plan_below_scale;
    bool quiet; /* no per-request log lines */
    /* faults: borrowed, must outlive the server; the first rule that decides to fail applies */
    const struct sim_fault *faults;
    size_t n_faults;
    bool slow_above;           /* list requests with limit > slow_above_limit wait ... */
    uint64_t slow_above_limit; /* ... slow_above_ms before they are answered */
    uint64_t slow_above_ms;
    bool ignore_page; /* list requests always get page 0 */
    /* live data: a session arrived after page 0 was read, so every later page starts one
     * session earlier and repeats the previous page's last session */
    bool shifting_pages;
    /* rate limit per project, indexed as ds->projects; over it: 429 + Retry-After */
    struct sim_rate_limit rate_limits[SIM_MAX_PROJECTS];
    bool rate_limit_headers; /* X-RateLimit-Limit/-Remaining/-Reset on every limited answer */
    uint64_t latency_ms;     /* every /api/ answer is sent this long after the request came */
};

/* Starts listening. ds and auth are borrowed and must outlive the server. On success the
 * caller owns *out (sim_server_stop). 0, or -1 with a message in err. */
int sim_server_start(struct sim_server **out, const struct sim_dataset *ds,
                     const struct sim_auth *auth, const struct sim_server_options *opt, char *err,
                     size_t errlen);
/* The port actually bound. */
uint16_t sim_server_port(const struct sim_server *srv);
/* Stops MHD (waits for its threads) and frees; NULL is a no-op. */
void sim_server_stop(struct sim_server *srv);

#endif
