/* stats.c — the pool's shared segment (stats.h): mapping it before fork, binding a config's
 * route paths and rate rules to slots, and the per-request counting. Only atomic adds and
 * release/acquire stores; never a lock, never a syscall on the request path. */
#include "stats.h"
#include "arena.h"
#include "config.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define STATS_MAGIC 0x61696e7374617431ULL /* "ainstat1" */

const double stats_bucket_bounds[STATS_NBUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                    0.25,  0.5,    1,     2.5,  5,     10};
const int stats_status_codes[STATS_NSTATUS - 1] = {200, 201, 202, 204, 304, 400, 401, 403,
                                                   404, 405, 409, 412, 413, 415, 422, 428,
                                                   429, 500, 502, 503, 504, 301, 302};
const char *const stats_method_names[STATS_NMETHODS] = {"GET",   "HEAD",   "POST", "PUT",
                                                        "PATCH", "DELETE", "other"};

struct stats *stats_new(void)
{
    void *p = mmap(NULL, sizeof(struct stats_segment), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    struct stats *st = mem_calloc(1, sizeof *st);
    stats_init(st, p);
    return st;
}

void stats_init(struct stats *st, struct stats_segment *seg)
{
    memset(seg, 0, sizeof *seg);
    seg->magic = STATS_MAGIC;
    st->seg = seg;
    /* slot 0 collects every path no route matched */
    strcpy(seg->routes[0].path, "unmatched");
    atomic_store_explicit(&seg->routes[0].used, 1, memory_order_release);
}

void stats_free(struct stats *st)
{
    if (!st) return;
    free(st->route_slot);
    munmap(st->seg, sizeof *st->seg);
    free(st);
}

static int route_slot_for(struct stats_segment *seg, const char *path)
{
    for (int i = 1; i < STATS_MAX_ROUTES; i++) {
        struct stats_route *r = &seg->routes[i];
        if (!atomic_load_explicit(&r->used, memory_order_acquire)) {
            snprintf(r->path, sizeof r->path, "%s", path);
            atomic_store_explicit(&r->used, 1, memory_order_release);
            return i;
        }
        if (!strcmp(r->path, path)) return i;
    }
    log_warn("metrics: no room for route %s (%d paths); counted as unmatched", path,
             STATS_MAX_ROUTES - 1);
    return 0;
}

static int ability_slot_for(struct stats_segment *seg, const char *name)
{
    size_t n = sizeof seg->abilities / sizeof seg->abilities[0];
    for (size_t i = 0; i < n; i++) {
        struct stats_ability *a = &seg->abilities[i];
        if (!atomic_load_explicit(&a->used, memory_order_acquire)) {
            snprintf(a->name, sizeof a->name, "%s", name);
            atomic_store_explicit(&a->used, 1, memory_order_release);
            return (int)i;
        }
        if (!strcmp(a->name, name)) return (int)i;
    }
    return -1;
}

void stats_bind(struct stats *st, const struct config *cfg)
{
    free(st->route_slot);
    st->nroutes = cfg->router ? cfg->router->n : 0;
    st->route_slot = mem_calloc(st->nroutes ? st->nroutes : 1, sizeof *st->route_slot);
    for (size_t i = 0; i < st->nroutes; i++)
        st->route_slot[i] = route_slot_for(st->seg, cfg->router->routes[i].path);
    for (size_t i = 0; i < cfg->rate_limits.n; i++)
        st->limit_slot[i] = ability_slot_for(st->seg, cfg->rate_limits.rules[i].ability);
}

int stats_route_index(const struct stats *st, const struct config *cfg, const struct route *rt)
{
    if (!rt || !cfg->router || rt < cfg->router->routes) return 0;
    size_t i = (size_t)(rt - cfg->router->routes);
    return i < st->nroutes ? st->route_slot[i] : 0;
}

int stats_status_index(int status)
{
    for (int i = 0; i < STATS_NSTATUS - 1; i++)
        if (stats_status_codes[i] == status) return i;
    return STATS_NSTATUS - 1;
}

int stats_method_index(const char *method)
{
    for (int i = 0; i < STATS_NMETHODS - 1; i++)
        if (method && !strcmp(stats_method_names[i], method)) return i;
    return STATS_NMETHODS - 1;
}

int stats_bucket_index(uint64_t duration_us)
{
    for (int i = 0; i < STATS_NBUCKETS; i++)
        if ((double)duration_us <= stats_bucket_bounds[i] * 1e6) return i;
    return STATS_NBUCKETS;
}

void stats_record(struct stats *st, int route_index, const char *method, int status,
                  uint64_t duration_us, uint64_t db_round_trips, uint64_t db_us)
{
    if (!st) return;
    if (route_index < 0 || route_index >= STATS_MAX_ROUTES) route_index = 0;
    struct stats_route *r = &st->seg->routes[route_index];
    memory_order rx = memory_order_relaxed;
    atomic_fetch_add_explicit(&r->requests[stats_method_index(method)][stats_status_index(status)],
                              1, rx);
    atomic_fetch_add_explicit(&r->buckets[stats_bucket_index(duration_us)], 1, rx);
    atomic_fetch_add_explicit(&r->duration_us, duration_us, rx);
    atomic_fetch_add_explicit(&r->db_us, db_us, rx);
    atomic_fetch_add_explicit(&r->db_round_trips, db_round_trips, rx);
}

void stats_worker_started(struct stats *st)
{
    if (st) atomic_fetch_add_explicit(&st->seg->worker_starts, 1, memory_order_relaxed);
}

void stats_worker_exited(struct stats *st, int wait_status)
{
    if (!st) return;
    _Atomic uint64_t *c = WIFSIGNALED(wait_status) ? &st->seg->worker_exits_signal
                          : WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0
                              ? &st->seg->worker_exits_clean
                              : &st->seg->worker_exits_error;
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

uint64_t stats_write_generation(const struct stats *st)
{
    /* seq_cst pairs with the bump: a count run after this load sees every write whose
     * generation bump it observed */
    return st ? atomic_load(&st->seg->write_generation) : 0;
}

void stats_request_done(struct stats *st, const char *method)
{
    if (!st || !method) return;
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD") || !strcmp(method, "OPTIONS")) return;
    atomic_fetch_add(&st->seg->write_generation, 1);
}

void stats_count_cache(struct stats *st, bool hit)
{
    if (!st) return;
    atomic_fetch_add_explicit(hit ? &st->seg->count_cache_hits : &st->seg->count_cache_misses, 1,
                              memory_order_relaxed);
}
