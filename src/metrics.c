/* metrics.c — GET /api/metrics (metrics.h). Reads shared memory with relaxed atomic loads
 * (a scrape is a snapshot, not a transaction), and the engine's queue with one bounded
 * statement; never writes anything. Families and labels are documented in
 * docs/operations.md. */
#include "metrics.h"
#include "config.h"
#include "db.h"
#include "estats.h"
#include "stats.h"

#include <stdlib.h>
#include <string.h>

/* counts of runs per status stop here: the statement reads at most this many index
 * entries per status, however long the queue grows */
#define METRICS_RUNS_CAP 100000

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

void metrics_label_value(struct buf *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            buf_putc(o, '\\'), buf_putc(o, *s);
        else if (*s == '\n')
            buf_puts(o, "\\n");
        else
            buf_putc(o, *s);
    }
}

static void family(struct buf *o, const char *name, const char *type, const char *help)
{
    buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static bool route_used(const struct stats_route *r)
{
    return atomic_load_explicit(&r->used, memory_order_acquire);
}

static void route_label(struct buf *o, const struct stats_route *r)
{
    buf_puts(o, "route=\"");
    metrics_label_value(o, r->path);
    buf_putc(o, '"');
}

static void requests(struct buf *o, const struct stats_segment *seg)
{
    family(o, "aiengine_http_requests_total", "counter",
           "Requests answered, by route pattern, method and status.");
    for (int i = 0; i < STATS_MAX_ROUTES; i++) {
        const struct stats_route *r = &seg->routes[i];
        if (!route_used(r)) continue;
        for (int m = 0; m < STATS_NMETHODS; m++)
            for (int s = 0; s < STATS_NSTATUS; s++) {
                uint64_t n = LOAD(r->requests[m][s]);
                if (!n) continue;
                buf_puts(o, "aiengine_http_requests_total{");
                route_label(o, r);
                buf_printf(o, ",method=\"%s\",status=\"", stats_method_names[m]);
                if (s < STATS_NSTATUS - 1)
                    buf_printf(o, "%d", stats_status_codes[s]);
                else
                    buf_puts(o, "other");
                buf_printf(o, "\"} %llu\n", (unsigned long long)n);
            }
    }
}

static uint64_t route_count(const struct stats_route *r)
{
    uint64_t n = 0;
    for (int b = 0; b <= STATS_NBUCKETS; b++) n += LOAD(r->buckets[b]);
    return n;
}

static void latency(struct buf *o, const struct stats_segment *seg)
{
    family(o, "aiengine_http_request_duration_seconds", "histogram",
           "Time from the request's arrival in the worker to its response, by route pattern.");
    for (int i = 0; i < STATS_MAX_ROUTES; i++) {
        const struct stats_route *r = &seg->routes[i];
        if (!route_used(r) || !route_count(r)) continue;
        uint64_t cum = 0;
        for (int b = 0; b <= STATS_NBUCKETS; b++) {
            cum += LOAD(r->buckets[b]);
            buf_puts(o, "aiengine_http_request_duration_seconds_bucket{");
            route_label(o, r);
            if (b < STATS_NBUCKETS)
                buf_printf(o, ",le=\"%g\"} %llu\n", stats_bucket_bounds[b],
                           (unsigned long long)cum);
            else
                buf_printf(o, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        buf_puts(o, "aiengine_http_request_duration_seconds_sum{");
        route_label(o, r);
        buf_printf(o, "} %.6f\n", (double)LOAD(r->duration_us) / 1e6);
        buf_puts(o, "aiengine_http_request_duration_seconds_count{");
        route_label(o, r);
        buf_printf(o, "} %llu\n", (unsigned long long)cum);
    }
}

static void per_route(struct buf *o, const struct stats_segment *seg, const char *name,
                      const char *help, size_t field_offset, bool seconds)
{
    family(o, name, "counter", help);
    for (int i = 0; i < STATS_MAX_ROUTES; i++) {
        const struct stats_route *r = &seg->routes[i];
        if (!route_used(r) || !route_count(r)) continue;
        const _Atomic uint64_t *f = (const _Atomic uint64_t *)((const char *)r + field_offset);
        uint64_t v = atomic_load_explicit(f, memory_order_relaxed);
        buf_printf(o, "%s{", name);
        route_label(o, r);
        if (seconds)
            buf_printf(o, "} %.6f\n", (double)v / 1e6);
        else
            buf_printf(o, "} %llu\n", (unsigned long long)v);
    }
}

static void scalar(struct buf *o, const char *name, const char *type, const char *help, uint64_t v)
{
    family(o, name, type, help);
    buf_printf(o, "%s %llu\n", name, (unsigned long long)v);
}

void metrics_write_pool(struct buf *o, const struct stats_segment *seg)
{
    requests(o, seg);
    latency(o, seg);
    per_route(o, seg, "aiengine_db_round_trips_total",
              "Round trips to MariaDB (statements, prepares, transaction control), by route.",
              offsetof(struct stats_route, db_round_trips), false);
    per_route(o, seg, "aiengine_db_time_seconds_total", "Time spent waiting for MariaDB, by route.",
              offsetof(struct stats_route, db_us), true);
    scalar(o, "aiengine_worker_starts_total", "counter", "Workers forked by this pool's master.",
           LOAD(seg->worker_starts));
    family(o, "aiengine_worker_exits_total", "counter",
           "Workers that ended: clean (recycled or told to stop), error (non-zero exit), signal "
           "(killed, e.g. SIGKILL or a crash).");
    buf_printf(o, "aiengine_worker_exits_total{reason=\"clean\"} %llu\n",
               (unsigned long long)LOAD(seg->worker_exits_clean));
    buf_printf(o, "aiengine_worker_exits_total{reason=\"error\"} %llu\n",
               (unsigned long long)LOAD(seg->worker_exits_error));
    buf_printf(o, "aiengine_worker_exits_total{reason=\"signal\"} %llu\n",
               (unsigned long long)LOAD(seg->worker_exits_signal));
    scalar(o, "aiengine_auth_failures_total", "counter",
           "Requests refused with 401 (missing, malformed, unknown, expired or revoked token).",
           LOAD(seg->auth_failures));
    family(o, "aiengine_ratelimit_rejections_total", "counter",
           "Requests refused with 429, by limit (an ability of rate_limits, or failed_auth).");
    for (size_t i = 0; i < sizeof seg->abilities / sizeof seg->abilities[0]; i++) {
        const struct stats_ability *a = &seg->abilities[i];
        if (!atomic_load_explicit(&a->used, memory_order_acquire)) break;
        buf_puts(o, "aiengine_ratelimit_rejections_total{limit=\"");
        metrics_label_value(o, a->name);
        buf_printf(o, "\"} %llu\n", (unsigned long long)LOAD(a->rejected));
    }
    scalar(o, "aiengine_ratelimit_table_full_total", "counter",
           "Requests let through uncounted because the rate-limit table had no free slot.",
           LOAD(seg->ratelimit_table_full));
    scalar(o, "aiengine_slow_requests_total", "counter",
           "Requests slower than log.slow_ms (each one logged).", LOAD(seg->slow_requests));
    scalar(o, "aiengine_count_cache_hits_total", "counter",
           "Page lists whose meta.total came from a worker's count cache (list.count_cache_ms).",
           LOAD(seg->count_cache_hits));
    scalar(o, "aiengine_count_cache_misses_total", "counter",
           "Page lists that counted meta.total with the count cache on (no fresh entry).",
           LOAD(seg->count_cache_misses));
}

static const struct {
    const char *name, *help;
} engine_families[] = {
    {"aiengine_engine_steps_total",
     "Step results written by the runners, by step type and status (SUCCESS, SKIPPED, RETRY, "
     "FAILURE)."},
    {"aiengine_engine_provider_calls_total",
     "AI provider calls, by provider and outcome (success, retry, failure)."},
    {"aiengine_engine_tokens_total", "Tokens reported by AI providers, by provider."},
    {"aiengine_engine_cost_total", "Cost of AI calls (engine.yaml prices), by provider."},
    {"aiengine_engine_runner_starts_total", "Runner processes started by `aiengine work`."},
};

static bool in_family(const char *series, const char *fam)
{
    size_t n = strlen(fam);
    return !strncmp(series, fam, n) && (series[n] == '{' || series[n] == '\0');
}

void metrics_write_engine_counters(struct buf *o, const struct estats_segment *seg)
{
    for (size_t f = 0; f < sizeof engine_families / sizeof engine_families[0]; f++) {
        const char *fam = engine_families[f].name;
        family(o, fam, "counter", engine_families[f].help);
        if (!seg) continue;
        for (int i = 0; i < ESTATS_SLOTS; i++) {
            const struct estats_slot *s = &seg->slots[i];
            if (atomic_load_explicit(&s->state, memory_order_acquire) != 2 ||
                !in_family(s->name, fam))
                continue;
            /* a name claimed twice (two runners racing for a new series) is written once,
             * with the sum */
            bool seen = false;
            for (int j = 0; j < i && !seen; j++)
                seen = atomic_load_explicit(&seg->slots[j].state, memory_order_acquire) == 2 &&
                       !strcmp(seg->slots[j].name, s->name);
            if (seen) continue;
            uint64_t v = 0;
            for (int j = i; j < ESTATS_SLOTS; j++)
                if (atomic_load_explicit(&seg->slots[j].state, memory_order_acquire) == 2 &&
                    !strcmp(seg->slots[j].name, s->name))
                    v += LOAD(seg->slots[j].value);
            if (s->micros)
                buf_printf(o, "%s %.6f\n", s->name, (double)v / 1e6);
            else
                buf_printf(o, "%s %llu\n", s->name, (unsigned long long)v);
        }
    }
}

/* The queue as the database has it now: one statement, every part an index range of
 * (status, run_at) read at most METRICS_RUNS_CAP entries deep, or a MIN on it. */
static void engine_queue(struct ctx *c, struct buf *o)
{
    static const char sql[] =
        "SELECT "
        "(SELECT COUNT(*) FROM (SELECT 1 FROM workflow_runs WHERE status = 'queued' "
        "LIMIT 100000) q), "
        "(SELECT COUNT(*) FROM (SELECT 1 FROM workflow_runs WHERE status = 'waiting' "
        "LIMIT 100000) w), "
        "(SELECT COUNT(*) FROM (SELECT 1 FROM workflow_runs WHERE status = 'running' "
        "LIMIT 100000) r), "
        "(SELECT COUNT(*) FROM (SELECT 1 FROM workflow_runs WHERE status = 'queued' "
        "AND run_at <= NOW(6) LIMIT 100000) dq), "
        "(SELECT COUNT(*) FROM (SELECT 1 FROM workflow_runs WHERE status = 'waiting' "
        "AND run_at <= NOW(6) LIMIT 100000) dw), "
        "TIMESTAMPDIFF(MICROSECOND, LEAST("
        "COALESCE((SELECT MIN(run_at) FROM workflow_runs WHERE status = 'queued' "
        "AND run_at <= NOW(6)), NOW(6)), "
        "COALESCE((SELECT MIN(run_at) FROM workflow_runs WHERE status = 'waiting' "
        "AND run_at <= NOW(6)), NOW(6))), NOW(6))";
    struct db_result res;
    int s = db_query(c->db, c->arena, sql, NULL, 0, &res);
    bool ok = s == DB_OK && res.nrows == 1 && res.ncols == 6;
    scalar(o, "aiengine_engine_queue_up", "gauge",
           "1 when the engine's queue gauges below were read from the database at this scrape.",
           ok);
    if (!ok) return;
    const char *v[6];
    for (int i = 0; i < 6; i++) v[i] = db_cell(&res, 0, i)->s ? db_cell(&res, 0, i)->s : "0";
    family(o, "aiengine_engine_runs", "gauge",
           "Runs not yet finished, by status (each count stops at 100000).");
    buf_printf(o, "aiengine_engine_runs{status=\"queued\"} %s\n", v[0]);
    buf_printf(o, "aiengine_engine_runs{status=\"waiting\"} %s\n", v[1]);
    buf_printf(o, "aiengine_engine_runs{status=\"running\"} %s\n", v[2]);
    family(o, "aiengine_engine_queue_depth", "gauge",
           "Runs due now (queued or waiting with run_at <= now), at most 100000 of each.");
    buf_printf(o, "aiengine_engine_queue_depth %lld\n", atoll(v[3]) + atoll(v[4]));
    family(o, "aiengine_engine_oldest_due_run_age_seconds", "gauge",
           "How long the oldest due run has been due (0 when none is).");
    buf_printf(o, "aiengine_engine_oldest_due_run_age_seconds %.6f\n", (double)atoll(v[5]) / 1e6);
}

int metrics_handle(struct ctx *c)
{
    if (!c->cfg->metrics_enabled)
        return req_fail(c, REQ_E_NOT_FOUND, "Metrics are turned off (metrics.enabled).");
    c->status = 200;
    c->content_type = "text/plain; version=0.0.4; charset=utf-8";
    if (c->stats) metrics_write_pool(c->out, c->stats->seg);
    engine_queue(c, c->out);
    const struct estats_segment *es = estats_open_readonly(c->cfg->engine_metrics);
    metrics_write_engine_counters(c->out, es);
    estats_close(es);
    return 0;
}
