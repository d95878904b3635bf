/* stats.h — the pool's shared memory: one anonymous MAP_SHARED segment that the master of
 * `aiengine serve` maps before it forks its first worker, so every worker of the pool (and
 * every later generation, after a crash, a recycle or a SIGHUP) counts into the same
 * counters and the same rate-limit table. Each pool (each `serve` process) has its own.
 *
 * Everything in the segment is a C11 atomic updated with single atomic operations: no
 * locks, so a worker SIGKILLed mid-request leaves nothing held and resets nothing. Route and
 * ability names are written by the master alone (before forking, and on reload before the
 * new generation starts) and published with a release store.
 *
 * What a worker records per request: requests by route, method and status, a latency
 * histogram by route, database round trips and database time by route; and the pool's
 * write generation, which page-count caches check (countcache.h). The master records
 * worker starts and exits. metrics.c formats it all for GET /api/metrics. */
#ifndef AIENGINE_STATS_H
#define AIENGINE_STATS_H

#include "ratelimit.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_MAX_ROUTES 256 /* distinct route paths a pool ever saw, reloads included */
#define STATS_ROUTE_NAME 120
#define STATS_NMETHODS 7 /* GET HEAD POST PUT PATCH DELETE other */
#define STATS_NSTATUS 24 /* see stats_status_codes; the last one is "other" */
#define STATS_NBUCKETS 13
#define STATS_RATE_SLOTS 4096 /* rate-limit table: tokens x abilities + addresses per window */

/* The histogram's upper bounds in seconds (the +Inf bucket is implicit). */
extern const double stats_bucket_bounds[STATS_NBUCKETS];
/* The status codes counted one by one; anything else is counted as "other". */
extern const int stats_status_codes[STATS_NSTATUS - 1];
extern const char *const stats_method_names[STATS_NMETHODS];

struct stats_route {
    _Atomic int used; /* 1 once `path` is written (release) */
    char path[STATS_ROUTE_NAME];
    _Atomic uint64_t requests[STATS_NMETHODS][STATS_NSTATUS];
    _Atomic uint64_t buckets[STATS_NBUCKETS + 1]; /* not cumulative; the last is > every bound */
    _Atomic uint64_t duration_us, db_us, db_round_trips;
};

struct stats_ability {
    _Atomic int used;
    char name[32];
    _Atomic uint64_t rejected; /* 429s of this ability's limit */
};

struct stats_segment {
    uint64_t magic;
    _Atomic uint64_t worker_starts;
    _Atomic uint64_t worker_exits_clean, worker_exits_error, worker_exits_signal;
    _Atomic uint64_t auth_failures;              /* 401s */
    _Atomic uint64_t ratelimit_table_full;       /* requests let through uncounted */
    _Atomic uint64_t slow_requests;              /* logged by log.slow_ms */
    _Atomic uint64_t write_generation;           /* writes answered (countcache.h) */
    _Atomic uint64_t count_cache_hits;           /* page totals from a worker's cache */
    _Atomic uint64_t count_cache_misses;         /* page totals counted (cache on, no hit) */
    struct stats_route routes[STATS_MAX_ROUTES]; /* [0] is every unmatched path */
    struct stats_ability abilities[RATELIMIT_MAX_RULES * 2];
    struct ratelimit_slot rate[STATS_RATE_SLOTS];
};

struct config;
struct route;

/* The process-local handle: the segment, and where the current config's routes and rate
 * rules count in it. Owned by the master; each worker gets its copy by fork. */
struct stats {
    struct stats_segment *seg;
    int *route_slot; /* per route of the bound config's router, by index */
    size_t nroutes;
    int limit_slot[RATELIMIT_MAX_RULES]; /* per rule of the bound config's rate_limits */
};

/* Map a fresh, zeroed segment (MAP_SHARED | MAP_ANONYMOUS). Returns a handle the caller
 * owns (stats_free), or NULL with errno set. Call before forking. */
struct stats *stats_new(void);
/* Same, over caller-provided memory (unit tests); the memory stays the caller's. */
void stats_init(struct stats *st, struct stats_segment *seg);
void stats_free(struct stats *st);

/* Give every route path and rate rule of `cfg` a slot, reusing the slot of a name seen
 * before (so counters carry over a reload). Master only, before forking the workers that
 * use `cfg`. A path that finds no slot left counts as unmatched (logged once). */
void stats_bind(struct stats *st, const struct config *cfg);

/* The slot index of `m`'s route (0: unmatched), and of a rate rule. */
int stats_route_index(const struct stats *st, const struct config *cfg, const struct route *rt);

/* Index of a status / method into the request counters. */
int stats_status_index(int status);
int stats_method_index(const char *method);
/* The histogram bucket of a duration. */
int stats_bucket_index(uint64_t duration_us);

/* Count one answered request. */
void stats_record(struct stats *st, int route_index, const char *method, int status,
                  uint64_t duration_us, uint64_t db_round_trips, uint64_t db_us);

/* The pool's write generation: how many requests that may have written (any method but
 * GET, HEAD and OPTIONS, whatever their status) this pool has answered. A count read after
 * loading generation g is exact for every write whose response was sent before g was read.
 * Mapped whether or not metrics are enabled; 0 when st is NULL (tools, unit tests). */
uint64_t stats_write_generation(const struct stats *st);
/* Call once per request after its transaction ended and before its response is sent:
 * bumps the generation unless `method` is GET, HEAD or OPTIONS. */
void stats_request_done(struct stats *st, const char *method);
/* A page list with the count cache on found its total cached (hit) or counted it. */
void stats_count_cache(struct stats *st, bool hit);

/* The master saw a worker start, or exit with wait(2)'s `status`. */
void stats_worker_started(struct stats *st);
void stats_worker_exited(struct stats *st, int wait_status);

#endif
