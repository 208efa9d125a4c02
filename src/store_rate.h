/* store_rate.h -- the request rate each rate domain (a project with its API key) was found
 * to allow, kept in livekit.api_rate_limits so that the next night starts from it.
 *
 * window loads a project's row before its first request and saves it after its last one,
 * on the connection that archives the project. A dry run saves nothing (the store writes
 * nothing then). The API key is not secret (it is the token's iss); the secret never comes here.
 */
#ifndef LK_STORE_RATE_H
#define LK_STORE_RATE_H

#include <stdbool.h>

struct lk_error;
struct store;

/* What a run learned of a domain's limit, and what it cost. */
struct store_rate {
    double requests_per_minute; /* 0: nothing known */
    bool limited;               /* learned from the API's limit (429s, headers) */
    long long requests, throttled;
    double wait_s;
};

/* The domain's last saved rate into *out (requests_per_minute 0 when none was saved, or the
 * schema predates it). Returns 0 or LK_EDB. */
int store_rate_load(struct store *st, const char *project, const char *api_key,
                    struct store_rate *out, struct lk_error *err);

/* Save the domain's rate and the run's figures (run_id 0: none). Nothing in a dry run.
 * Returns 0 or LK_EDB. */
int store_rate_save(struct store *st, long long run_id, const char *project, const char *api_key,
                    const struct store_rate *rate, struct lk_error *err);

#endif
