/* throttle.c — rate-limit hooks of the dispatcher (throttle.h). The headers follow the IETF
 * httpapi ratelimit-headers draft (RateLimit-Limit, -Remaining, -Reset, and the policy as
 * "limit;w=window"); a 429 carries Retry-After with the seconds left in the window. Never
 * touches the database. */
#include "throttle.h"
#include "auth.h"
#include "config.h"
#include "mono.h"
#include "stats.h"

#include <stdio.h>
#include <time.h>

static void put_headers(struct ctx *c, const struct ratelimit_verdict *v, unsigned window)
{
    buf_printf(c->headers,
               "RateLimit-Limit: %u\r\nRateLimit-Remaining: %u\r\nRateLimit-Reset: %u\r\n"
               "RateLimit-Policy: %u;w=%u\r\n",
               v->limit, v->remaining, v->reset, v->limit, window);
}

static int too_many(struct ctx *c, const struct ratelimit_verdict *v, unsigned window, int slot)
{
    put_headers(c, v, window);
    buf_printf(c->headers, "Retry-After: %u\r\n", v->reset);
    if (slot >= 0)
        atomic_fetch_add_explicit(&c->stats->seg->abilities[slot].rejected, 1,
                                  memory_order_relaxed);
    return req_fail(c, REQ_E_TOO_MANY, "Too Many Attempts.");
}

static int rule_slot(const struct ctx *c, const struct ratelimit_rule *r)
{
    return c->stats->limit_slot[r - c->cfg->rate_limits.rules];
}

static void table_full(struct ctx *c, const struct ratelimit_verdict *v)
{
    if (!v->counted)
        atomic_fetch_add_explicit(&c->stats->seg->ratelimit_table_full, 1, memory_order_relaxed);
}

int throttle_before_auth(struct ctx *c)
{
    if (!c->stats || !c->cfg->rate_limits.n || !c->req->remote_addr) return 0;
    const struct ratelimit_rule *r = ratelimit_find(&c->cfg->rate_limits, RATELIMIT_FAILED_AUTH);
    if (!r) return 0;
    struct ratelimit_verdict v;
    if (ratelimit_hit(c->stats->seg->rate, STATS_RATE_SLOTS,
                      ratelimit_key("addr", c->req->remote_addr), (uint64_t)mono_seconds(), r,
                      false, &v))
        return 0;
    return too_many(c, &v, r->window, rule_slot(c, r));
}

void throttle_auth_failed(struct ctx *c)
{
    if (!c->stats) return;
    atomic_fetch_add_explicit(&c->stats->seg->auth_failures, 1, memory_order_relaxed);
    if (!c->cfg->rate_limits.n || !c->req->remote_addr) return;
    const struct ratelimit_rule *r = ratelimit_find(&c->cfg->rate_limits, RATELIMIT_FAILED_AUTH);
    if (!r) return;
    struct ratelimit_verdict v;
    ratelimit_hit(c->stats->seg->rate, STATS_RATE_SLOTS, ratelimit_key("addr", c->req->remote_addr),
                  (uint64_t)mono_seconds(), r, true, &v);
    table_full(c, &v);
}

int throttle_check(struct ctx *c)
{
    if (!c->stats || !c->cfg->rate_limits.n || !c->token) return 0;
    const struct route *rt = c->match.route;
    const struct ratelimit_rule *r = ratelimit_find(&c->cfg->rate_limits, rt->ability);
    if (!r) return 0;
    char id[48];
    snprintf(id, sizeof id, "%llu", c->token->id);
    char what[48];
    snprintf(what, sizeof what, "token:%s", r->ability);
    struct ratelimit_verdict v;
    if (!ratelimit_hit(c->stats->seg->rate, STATS_RATE_SLOTS, ratelimit_key(what, id),
                       (uint64_t)mono_seconds(), r, true, &v))
        return too_many(c, &v, r->window, rule_slot(c, r));
    table_full(c, &v);
    put_headers(c, &v, r->window);
    return 0;
}
