/* throttle.h — the request side of the rate limits (ratelimit.h) and of the auth-failure
 * counting: app.c calls these hooks around authentication and after the ability check.
 * They count in the pool's shared table (stats.h), write the RateLimit-* headers of a
 * limited route, and fail the request with REQ_E_TOO_MANY (+ Retry-After) when it is over
 * its limit, before anything is done. With no `rate_limits` configured every hook returns at
 * once. */
#ifndef AIENGINE_THROTTLE_H
#define AIENGINE_THROTTLE_H

#include "req.h"

/* Before authenticating: -1 (429) when the client address has used up its `failed_auth`
 * allowance, so a flood of bad tokens never reaches the database. */
int throttle_before_auth(struct ctx *c);
/* Authentication failed with 401: count it (metrics, and against the address). */
void throttle_auth_failed(struct ctx *c);
/* After the ability check: count the request against (token, route ability); adds the
 * RateLimit-* headers, or returns -1 (429 + Retry-After) when over the limit. */
int throttle_check(struct ctx *c);

#endif
