/* test_metrics.c — unit tests for stats.c, estats.c and metrics.c: route binding that keeps
 * a path's slot over a reload, status/method/bucket indexes, the exposition text of the
 * pool's counters (cumulative buckets, +Inf, sums in seconds, escaped labels, only used
 * series), worker exits by reason, and the engine's named counters (claim, add, merge of a
 * name claimed twice, cost in millionths, a full table drops and counts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "config.h"
#include "estats.h"
#include "metrics.h"
#include "stats.h"

static struct config *fake_config(const char **paths, size_t n)
{
    struct config *c = calloc(1, sizeof *c);
    c->router = calloc(1, sizeof *c->router);
    c->router->routes = calloc(n, sizeof *c->router->routes);
    c->router->n = n;
    for (size_t i = 0; i < n; i++) c->router->routes[i].path = (char *)paths[i];
    return c;
}

static void free_config(struct config *c)
{
    free(c->router->routes);
    free(c->router);
    free(c);
}

static bool has_line(const struct buf *b, const char *line)
{
    char want[512];
    snprintf(want, sizeof want, "\n%s\n", line);
    char *text = malloc(b->len + 2);
    text[0] = '\n';
    memcpy(text + 1, b->data, b->len);
    text[b->len + 1] = '\0';
    bool ok = strstr(text, want) != NULL;
    free(text);
    return ok;
}

static void test_indexes(void **state)
{
    (void)state;
    assert_int_equal(stats_status_codes[stats_status_index(200)], 200);
    assert_int_equal(stats_status_codes[stats_status_index(429)], 429);
    assert_int_equal(stats_status_index(418), STATS_NSTATUS - 1);
    assert_string_equal(stats_method_names[stats_method_index("PATCH")], "PATCH");
    assert_string_equal(stats_method_names[stats_method_index("BREW")], "other");
    assert_string_equal(stats_method_names[stats_method_index(NULL)], "other");
    assert_int_equal(stats_bucket_index(0), 0);
    assert_int_equal(stats_bucket_index(1000), 0); /* le 0.001 */
    assert_int_equal(stats_bucket_index(1001), 1); /* le 0.0025 */
    assert_int_equal(stats_bucket_index(10000000), STATS_NBUCKETS - 1);
    assert_int_equal(stats_bucket_index(10000001), STATS_NBUCKETS); /* +Inf only */
}

static void test_bind_keeps_slots_over_a_reload(void **state)
{
    (void)state;
    struct stats_segment *seg = malloc(sizeof *seg);
    struct stats st = {0};
    stats_init(&st, seg);
    const char *a[] = {"/api/workflows", "/api/workflows/{id}", "/api/workflows"};
    struct config *c1 = fake_config(a, 3);
    stats_bind(&st, c1);
    int list = stats_route_index(&st, c1, &c1->router->routes[0]);
    int show = stats_route_index(&st, c1, &c1->router->routes[1]);
    assert_int_not_equal(list, 0);
    assert_int_not_equal(show, list);
    /* GET and POST of one path share the path's slot (the method is a label) */
    assert_int_equal(stats_route_index(&st, c1, &c1->router->routes[2]), list);
    assert_int_equal(stats_route_index(&st, c1, NULL), 0);
    /* a reloaded config in another order finds the same slots */
    const char *b[] = {"/api/prompts", "/api/workflows/{id}", "/api/workflows"};
    struct config *c2 = fake_config(b, 3);
    stats_bind(&st, c2);
    assert_int_equal(stats_route_index(&st, c2, &c2->router->routes[1]), show);
    assert_int_equal(stats_route_index(&st, c2, &c2->router->routes[2]), list);
    int prompts = stats_route_index(&st, c2, &c2->router->routes[0]);
    assert_true(prompts != list && prompts != show && prompts != 0);
    free(st.route_slot);
    free_config(c1);
    free_config(c2);
    free(seg);
}

/* every method that may write bumps the pool's write generation, whatever its status; reads
 * never do (countcache.h relies on both) */
static void test_write_generation(void **state)
{
    (void)state;
    struct stats_segment *seg = malloc(sizeof *seg);
    struct stats st = {0};
    stats_init(&st, seg);
    assert_int_equal(stats_write_generation(&st), 0);
    const char *reads[] = {"GET", "HEAD", "OPTIONS"};
    for (size_t i = 0; i < 3; i++) stats_request_done(&st, reads[i]);
    assert_int_equal(stats_write_generation(&st), 0);
    const char *writes[] = {"POST", "PUT", "PATCH", "DELETE", "PROPFIND"};
    for (size_t i = 0; i < 5; i++) stats_request_done(&st, writes[i]);
    assert_int_equal(stats_write_generation(&st), 5);
    stats_request_done(NULL, "POST"); /* tools have no pool: nothing to bump */
    assert_int_equal(stats_write_generation(NULL), 0);
    free(seg);
}

static void test_pool_exposition(void **state)
{
    (void)state;
    struct stats_segment *seg = malloc(sizeof *seg);
    struct stats st = {0};
    stats_init(&st, seg);
    const char *paths[] = {"/api/prompts/{id}", "/api/odd\"path\\"};
    struct config *c = fake_config(paths, 2);
    c->rate_limits.n = 1;
    strcpy(c->rate_limits.rules[0].ability, "read");
    stats_bind(&st, c);
    int r = stats_route_index(&st, c, &c->router->routes[0]);
    stats_record(&st, r, "GET", 200, 800, 1, 500);      /* bucket 0.001 */
    stats_record(&st, r, "GET", 200, 3000, 2, 2000);    /* bucket 0.005 */
    stats_record(&st, r, "GET", 404, 20000000, 1, 100); /* +Inf */
    stats_record(&st, 0, "BREW", 418, 10, 0, 0);
    stats_record(&st, stats_route_index(&st, c, &c->router->routes[1]), "GET", 200, 10, 0, 0);
    stats_worker_started(&st);
    stats_worker_exited(&st, SIGKILL); /* a wait status: killed by signal 9 */
    stats_worker_exited(&st, 0);
    stats_worker_exited(&st, 1 << 8);
    atomic_fetch_add(&seg->abilities[st.limit_slot[0]].rejected, 3);

    struct buf b;
    buf_init(&b, 1 << 20);
    metrics_write_pool(&b, seg);
    assert_true(has_line(&b, "# TYPE aiengine_http_requests_total counter"));
    assert_true(has_line(&b, "aiengine_http_requests_total{route=\"/api/prompts/"
                             "{id}\",method=\"GET\",status=\"200\"} 2"));
    assert_true(has_line(&b, "aiengine_http_requests_total{route=\"/api/prompts/"
                             "{id}\",method=\"GET\",status=\"404\"} 1"));
    assert_true(has_line(
        &b,
        "aiengine_http_requests_total{route=\"unmatched\",method=\"other\",status=\"other\"} 1"));
    assert_true(has_line(&b, "aiengine_http_requests_total{route=\"/api/odd\\\"path\\\\\","
                             "method=\"GET\",status=\"200\"} 1"));
    /* no series for what never happened */
    assert_null(strstr(b.data, "status=\"201\""));
    assert_true(has_line(&b, "# TYPE aiengine_http_request_duration_seconds histogram"));
    const char *route = "aiengine_http_request_duration_seconds_bucket{route=\"/api/prompts/{id}\"";
    char line[256];
    snprintf(line, sizeof line, "%s,le=\"0.001\"} 1", route);
    assert_true(has_line(&b, line));
    snprintf(line, sizeof line, "%s,le=\"0.0025\"} 1", route);
    assert_true(has_line(&b, line));
    snprintf(line, sizeof line, "%s,le=\"0.005\"} 2", route);
    assert_true(has_line(&b, line));
    snprintf(line, sizeof line, "%s,le=\"10\"} 2", route);
    assert_true(has_line(&b, line));
    snprintf(line, sizeof line, "%s,le=\"+Inf\"} 3", route);
    assert_true(has_line(&b, line));
    assert_true(has_line(
        &b, "aiengine_http_request_duration_seconds_sum{route=\"/api/prompts/{id}\"} 20.003800"));
    assert_true(has_line(
        &b, "aiengine_http_request_duration_seconds_count{route=\"/api/prompts/{id}\"} 3"));
    assert_true(has_line(&b, "aiengine_db_round_trips_total{route=\"/api/prompts/{id}\"} 4"));
    assert_true(
        has_line(&b, "aiengine_db_time_seconds_total{route=\"/api/prompts/{id}\"} 0.002600"));
    assert_true(has_line(&b, "aiengine_worker_starts_total 1"));
    assert_true(has_line(&b, "aiengine_worker_exits_total{reason=\"signal\"} 1"));
    assert_true(has_line(&b, "aiengine_worker_exits_total{reason=\"clean\"} 1"));
    assert_true(has_line(&b, "aiengine_worker_exits_total{reason=\"error\"} 1"));
    assert_true(has_line(&b, "aiengine_ratelimit_rejections_total{limit=\"read\"} 3"));
    assert_false(b.overflow);
    buf_free(&b);
    free(st.route_slot);
    free_config(c);
    free(seg);
}

static void test_engine_counters(void **state)
{
    (void)state;
    struct estats_segment *seg = malloc(sizeof *seg);
    estats_init(seg);
    char type[32], name[ESTATS_NAME];
    estats_label(type, sizeof type, "ODD\"TYPE\n");
    assert_string_equal(type, "ODD\\\"TYPE\\n");
    snprintf(name, sizeof name, "aiengine_engine_steps_total{type=\"%s\",status=\"SUCCESS\"}",
             type);
    estats_add(seg, name, false, 1);
    estats_add(seg, name, false, 2);
    estats_add(seg, "aiengine_engine_cost_total{provider=\"gemini\"}", true, 1500);
    estats_add(seg, "aiengine_engine_runner_starts_total", false, 1);
    /* a name claimed twice (two runners racing): the exposition writes it once, summed */
    int i = 0;
    while (seg->slots[i].state) i++;
    snprintf(seg->slots[i].name, ESTATS_NAME, "aiengine_engine_runner_starts_total");
    atomic_store(&seg->slots[i].value, 4);
    atomic_store(&seg->slots[i].state, 2);

    struct buf b;
    buf_init(&b, 1 << 20);
    metrics_write_engine_counters(&b, seg);
    assert_true(has_line(&b, "# TYPE aiengine_engine_steps_total counter"));
    assert_true(
        has_line(&b, "aiengine_engine_steps_total{type=\"ODD\\\"TYPE\\n\",status=\"SUCCESS\"} 3"));
    assert_true(has_line(&b, "aiengine_engine_cost_total{provider=\"gemini\"} 0.001500"));
    assert_true(has_line(&b, "aiengine_engine_runner_starts_total 5"));
    const char *first = strstr(b.data, "aiengine_engine_runner_starts_total 5");
    assert_null(strstr(first + 1, "aiengine_engine_runner_starts_total 5"));
    buf_free(&b);

    /* without a file the families are still declared, with no series */
    buf_init(&b, 1 << 20);
    metrics_write_engine_counters(&b, NULL);
    assert_true(has_line(&b, "# TYPE aiengine_engine_tokens_total counter"));
    assert_null(strstr(b.data, "aiengine_engine_tokens_total{"));
    buf_free(&b);

    /* a full table drops and counts */
    estats_init(seg);
    for (int k = 0; k < ESTATS_SLOTS + 3; k++) {
        snprintf(name, sizeof name, "aiengine_engine_tokens_total{provider=\"p%d\"}", k);
        estats_add(seg, name, false, 1);
    }
    assert_int_equal(atomic_load(&seg->dropped), 3);
    free(seg);
}

static void test_engine_file_survives_its_writers(void **state)
{
    (void)state;
    char path[] = "/tmp/aiengine-estats-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd); /* empty: not a segment yet, initialised on open */
    const char *why;
    struct estats_segment *w = estats_open(path, &why);
    assert_null(why);
    estats_add(w, "aiengine_engine_runner_starts_total", false, 2);
    estats_close(w);
    w = estats_open(path, &why); /* a restarted `work` keeps counting on */
    estats_add(w, "aiengine_engine_runner_starts_total", false, 1);
    const struct estats_segment *r = estats_open_readonly(path);
    assert_non_null(r);
    struct buf b;
    buf_init(&b, 1 << 20);
    metrics_write_engine_counters(&b, r);
    assert_true(has_line(&b, "aiengine_engine_runner_starts_total 3"));
    buf_free(&b);
    estats_close(r);
    estats_close(w);
    unlink(path);
    assert_null(estats_open_readonly(path));
    w = estats_open("/nonexistent-dir/x", &why); /* still counts, privately */
    assert_non_null(w);
    assert_non_null(why);
    estats_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indexes),
        cmocka_unit_test(test_bind_keeps_slots_over_a_reload),
        cmocka_unit_test(test_write_generation),
        cmocka_unit_test(test_pool_exposition),
        cmocka_unit_test(test_engine_counters),
        cmocka_unit_test(test_engine_file_survives_its_writers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
