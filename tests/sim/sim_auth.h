/* sim_auth.h -- verifies a request's LiveKit access token the way LiveKit Cloud would.
 *
 * The Authorization header must be "Bearer <JWT>", signed HS256 with the API secret (no
 * other algorithm, never "none"), with iss = the API key, a sub, exp in the future, nbf not
 * more than SIM_AUTH_LEEWAY seconds ahead of the wall clock, and the grant
 * {"video": {"roomList": true}}. The secret lives only in struct sim_auth and is zeroed on
 * dispose; neither it nor a token is ever logged (failures give a short reason only).
 */
#ifndef SIM_AUTH_H
#define SIM_AUTH_H

#include <stddef.h>
#include <time.h>

#define SIM_AUTH_LEEWAY 5

struct sim_auth {
    char *api_key;
    unsigned char *secret;
    size_t secret_len;
};

/* Copies key and secret. 0, or -1 when out of memory. */
int sim_auth_init(struct sim_auth *a, const char *api_key, const char *secret);
/* Zeroes and frees the copies; cannot fail. */
void sim_auth_dispose(struct sim_auth *a);

/* 0 if the header carries a valid token at time now; else -1 and *reason (static text). */
int sim_auth_check(const struct sim_auth *a, const char *authorization, time_t now,
                   const char **reason);

#endif
