/* sim_server.h -- the HTTP side of lkarchive-sim: libmicrohttpd on 127.0.0.1 only.
 *
 * Requests are routed to the list and details endpoints of the Analytics API (after the token
 * check of sim_auth), to GET /_sim/stats (no auth; request counters), or answered 404. Small
 * bodies are built in memory; list pages are generated while they are sent
 * (MHD_create_response_from_callback), so memory stays flat whatever the page size. MHD runs
 * its own thread pool; the counters are atomics, everything else a request touches is its own.
 */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_auth.h"
#include "sim_dataset.h"

struct sim_server;

struct sim_server_options {
    uint16_t port;    /* 0: ephemeral */
    unsigned threads; /* MHD thread pool size, >= 1 */
    bool plan_below_scale;
    bool quiet; /* no per-request log lines */
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
