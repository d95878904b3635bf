/* ratelimit.h — fixed-window rate limits per token and ability, and per client address for
 * failed authentications, counted in a table of slots that lives in the pool's shared
 * memory (stats.h), so every worker of a pool counts together.
 *
 * A slot is two 64-bit atomics: the key (a hash of what is counted) and the state (window
 * end in monotonic seconds << 32 | count). Every change is one compare-and-swap, so a worker
 * that dies at any instruction leaves no lock behind. The table has a fixed number of slots
 * and is probed linearly for at most RATELIMIT_PROBES slots; a slot whose window has ended is
 * taken over by the next key that needs room. When every probed slot is live the request is
 * let through uncounted (fail open) and the caller counts a "table full" event. */
#ifndef AIENGINE_RATELIMIT_H
#define AIENGINE_RATELIMIT_H

#include "yconf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_PROBES 32
#define RATELIMIT_MAX_RULES 16
/* the name of the per-address rule for failed authentications in `rate_limits:` */
#define RATELIMIT_FAILED_AUTH "failed_auth"

struct ratelimit_rule {
    char ability[32]; /* a route's ability ("read", "write", "trigger", …) or "failed_auth" */
    unsigned limit;   /* requests per window, >= 1 */
    unsigned window;  /* seconds, >= 1 */
};

/* `rate_limits:` of aiengine.yaml, or AIENGINE_RATE_LIMITS. n == 0: no limits at all. */
struct ratelimit_conf {
    struct ratelimit_rule rules[RATELIMIT_MAX_RULES];
    size_t n;
};

struct ratelimit_slot {
    _Atomic uint64_t key;   /* 0: never used */
    _Atomic uint64_t state; /* window end (s) << 32 | count */
};

struct ratelimit_verdict {
    bool allowed;
    bool counted;       /* false when the table had no room to count (fail open) */
    unsigned limit;     /* RateLimit-Limit */
    unsigned remaining; /* RateLimit-Remaining, after this request */
    unsigned reset;     /* RateLimit-Reset / Retry-After: seconds until the window ends, >= 1 */
};

/* "1200/min" → 1200 per 60 s. Units: s, sec, second, m, min, minute, h, hour, d, day,
 * optionally preceded by a count ("100/10s"). Returns 0, or -1 when malformed. */
int ratelimit_parse_rate(const char *s, unsigned *limit, unsigned *window);

/* Load `node` (a mapping ability → rate, may be NULL) or, when set, the environment
 * variable `env` ("read=1200/min,write=300/min"; "" means none) into *out. Returns 0, or
 * -1 with err set ("file:line: reason"). */
int ratelimit_load(struct yconf *y, yaml_node_t *node, const char *env, struct ratelimit_conf *out,
                   struct config_error *err);

/* The rule for `ability`, or NULL. */
const struct ratelimit_rule *ratelimit_find(const struct ratelimit_conf *rc, const char *ability);

/* The end of the fixed window of `window` seconds that holds `now`. */
uint64_t ratelimit_window_end(uint64_t now, unsigned window);

/* A 64-bit key, never 0, for (what, id) — e.g. ("token:read", "42") or ("addr", "10.0.0.1"). */
uint64_t ratelimit_key(const char *what, const char *id);

/* Count one request for `key` at `now` (monotonic seconds) against `rule` in the table
 * `slots[0..n)`. With `count` false only looks (the request is not counted, e.g. before an
 * authentication whose failure alone is counted), and never takes a slot. Fills *v; returns
 * v->allowed. A request over the limit is not counted. */
bool ratelimit_hit(struct ratelimit_slot *slots, size_t n, uint64_t key, uint64_t now,
                   const struct ratelimit_rule *rule, bool count, struct ratelimit_verdict *v);

#endif
