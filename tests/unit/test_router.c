/* test_router.c — unit tests for router.c: compiling routes.yaml (api_resource expansion,
 * explicit routes, every load error as "file:line: reason") and matching (literal and {id}
 * segments, digits only, 404 vs 405 with the Allow list, HEAD as GET, trailing slash).
 * Fixture route files are written to a temporary folder; resources come from etc/ (the
 * tests run from the repository root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resource.h"
#include "router.h"
#include "fixture.h"

static char tmpdir[256];
static struct resource_set *resources;

static int setup_all(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/aiengine-router-XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    struct config_error err = {{0}};
    resources = resource_set_load("etc/resources.yaml", &err);
    if (!resources) {
        fprintf(stderr, "cannot load etc/resources.yaml (run from the repository root): %s\n",
                err.msg);
        return -1;
    }
    return 0;
}

static int teardown_all(void **state)
{
    (void)state;
    resource_set_free(resources);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write `text` to tmpdir/name and return the path (static buffer, one at a time). */
static const char *fixture(const char *name, const char *text)
{
    return fixture_write(tmpdir, name, text);
}

static struct router *load_ok(const char *name, const char *text)
{
    struct config_error err = {{0}};
    struct router *r = router_load(fixture(name, text), resources, &err);
    if (!r) fail_msg("router_load failed: %s", err.msg);
    return r;
}

/* Load must fail; the message must start with "<path>:<line>: " and contain `needle`. */
static void load_fails(const char *name, const char *text, int line, const char *needle)
{
    struct config_error err = {{0}};
    const char *path = fixture(name, text);
    char prefix[640];
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    struct router *r = router_load(path, resources, &err);
    if (r) {
        router_free(r);
        fail_msg("%s: expected an error containing '%s'", name, needle);
    }
    if (strncmp(err.msg, prefix, strlen(prefix)))
        fail_msg("%s: expected the message to start with '%s', got '%s'", name, prefix, err.msg);
    if (!strstr(err.msg, needle)) fail_msg("%s: expected '%s' in '%s'", name, needle, err.msg);
}

static enum router_status match(const struct router *r, const char *method, const char *path,
                                struct route_match *m, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "%s", path);
    return router_match(r, method, buf, m);
}

/* ---- the real routes.yaml ---- */

static void test_real_routes_load(void **state)
{
    (void)state;
    struct config_error err = {{0}};
    struct router *r = router_load("etc/routes.yaml", resources, &err);
    if (!r) fail_msg("%s", err.msg);
    /* health, openapi, metrics, 4 x 6 api_resource routes, 4 relation routes; the engine's:
     * runs (index, show), their logs, events, a workflow's runs, cancel, retry; login, logout */
    assert_int_equal(r->n, 3 + 4 * 6 + 4 + 2 + 1 + 4 + 2);
    char buf[256];
    struct route_match m;
    assert_int_equal(match(r, "GET", "/api/workflows", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_INDEX);
    assert_string_equal(m.route->resource->name, "workflows");
    assert_true(m.route->auth);
    assert_string_equal(m.route->ability, "read");
    assert_int_equal(m.nparams, 0);

    assert_int_equal(match(r, "POST", "/api/workflow-steps", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_STORE);
    assert_string_equal(m.route->ability, "write");

    assert_int_equal(match(r, "GET", "/api/execution-logs/42/children", &m, buf, sizeof buf),
                     ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_RELATION);
    assert_string_equal(m.route->relation->name, "child_logs");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0], "42");

    assert_int_equal(match(r, "GET", "/api/metrics", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_METRICS);
    assert_true(m.route->auth);
    assert_string_equal(m.route->ability, "metrics");
    assert_null(m.route->resource);

    assert_int_equal(match(r, "GET", "/api/health", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_HEALTH);
    assert_false(m.route->auth);
    assert_true(m.path_public);
    assert_null(m.route->resource);

    assert_int_equal(match(r, "PATCH", "/api/prompts/7", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_UPDATE);
    assert_int_equal(match(r, "PUT", "/api/prompts/7", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_UPDATE);
    assert_int_equal(match(r, "DELETE", "/api/prompts/7", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_DESTROY);
    assert_false(m.path_public);
    router_free(r);
}

static void test_id_digits_only(void **state)
{
    (void)state;
    struct config_error err = {{0}};
    struct router *r = router_load("etc/routes.yaml", resources, &err);
    assert_non_null(r);
    char buf[256];
    struct route_match m;
    static const char *ok[] = {"/api/workflows/0", "/api/workflows/1", "/api/workflows/007",
                               "/api/workflows/18446744073709551616"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (match(r, "GET", ok[i], &m, buf, sizeof buf) != ROUTER_FOUND) fail_msg("%s", ok[i]);
        assert_int_equal(m.route->handler, HANDLER_SHOW);
        assert_string_equal(m.params[0], strrchr(ok[i], '/') + 1);
    }
    static const char *bad[] = {
        "/api/workflows/abc",    "/api/workflows/-1",     "/api/workflows/+1",
        "/api/workflows/1.5",    "/api/workflows/1e3",    "/api/workflows/ 1",
        "/api/workflows/0x10",   "/api/workflows/1a",     "/api/workflows/%31",
        "/api/workflows//steps", "/api/workflows/x/steps"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (match(r, "GET", bad[i], &m, buf, sizeof buf) != ROUTER_NOT_FOUND)
            fail_msg("expected 404 for %s", bad[i]);
    router_free(r);
}

static void test_not_found(void **state)
{
    (void)state;
    struct config_error err = {{0}};
    struct router *r = router_load("etc/routes.yaml", resources, &err);
    assert_non_null(r);
    char buf[256];
    struct route_match m;
    static const char *paths[] = {"/",
                                  "/api",
                                  "/api/nothing",
                                  "/api/Workflows",
                                  "/API/workflows",
                                  "/api/workflows/1/nothing",
                                  "/api/workflows/1/steps/2",
                                  "api/workflows",
                                  "",
                                  "/api/workflows//",
                                  "//api/workflows",
                                  "/api/a/b/c/d/e/f/g/h/i/j/k/l"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (match(r, "GET", paths[i], &m, buf, sizeof buf) != ROUTER_NOT_FOUND)
            fail_msg("expected 404 for '%s'", paths[i]);
        assert_null(m.route);
        assert_string_equal(m.allow, "");
    }
    /* an unknown method on an unknown path is still 404 */
    assert_int_equal(match(r, "BREW", "/api/coffee", &m, buf, sizeof buf), ROUTER_NOT_FOUND);
    router_free(r);
}

static void test_method_not_allowed_allow_list(void **state)
{
    (void)state;
    struct config_error err = {{0}};
    struct router *r = router_load("etc/routes.yaml", resources, &err);
    assert_non_null(r);
    char buf[256];
    struct route_match m;
    assert_int_equal(match(r, "DELETE", "/api/workflows", &m, buf, sizeof buf),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_null(m.route);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    assert_int_equal(match(r, "PUT", "/api/workflows", &m, buf, sizeof buf),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    assert_int_equal(match(r, "POST", "/api/workflows/3", &m, buf, sizeof buf),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD, PUT, PATCH, DELETE");
    assert_int_equal(match(r, "POST", "/api/health", &m, buf, sizeof buf),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD");
    assert_true(m.path_public);
    assert_int_equal(match(r, "DELETE", "/api/workflows/3/steps", &m, buf, sizeof buf),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD");
    assert_false(m.path_public);
    /* methods the router has never heard of are 405 on a known path too */
    assert_int_equal(match(r, "OPTIONS", "/api/prompts", &m, buf, sizeof buf),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    /* the trailing slash does not change the answer */
    assert_int_equal(match(r, "DELETE", "/api/workflows/", &m, buf, sizeof buf),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    router_free(r);
}

static void test_head_is_get(void **state)
{
    (void)state;
    struct config_error err = {{0}};
    struct router *r = router_load("etc/routes.yaml", resources, &err);
    assert_non_null(r);
    char buf[256];
    struct route_match m;
    assert_int_equal(match(r, "HEAD", "/api/workflows", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_string_equal(m.route->method, "GET");
    assert_int_equal(m.route->handler, HANDLER_INDEX);
    assert_int_equal(match(r, "HEAD", "/api/prompts/9/steps", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_RELATION);
    assert_string_equal(m.params[0], "9");
    assert_int_equal(match(r, "HEAD", "/api/health", &m, buf, sizeof buf), ROUTER_FOUND);
    router_free(r);

    /* a path with no GET route: HEAD is not allowed there either */
    r = load_ok("head.yaml", "routes:\n"
                             "  - method: POST\n"
                             "    path: /api/hook\n"
                             "    handler: store\n"
                             "    resource: workflows\n");
    assert_int_equal(match(r, "HEAD", "/api/hook", &m, buf, sizeof buf), ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "POST");
    assert_int_equal(match(r, "GET", "/api/hook", &m, buf, sizeof buf), ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "POST");
    router_free(r);
}

static void test_trailing_slash(void **state)
{
    (void)state;
    struct config_error err = {{0}};
    struct router *r = router_load("etc/routes.yaml", resources, &err);
    assert_non_null(r);
    char buf[256];
    struct route_match m;
    assert_int_equal(match(r, "GET", "/api/workflows/", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_INDEX);
    assert_int_equal(match(r, "GET", "/api/workflows/5/", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_SHOW);
    assert_string_equal(m.params[0], "5");
    assert_int_equal(match(r, "GET", "/api/health/", &m, buf, sizeof buf), ROUTER_FOUND);
    /* only one */
    assert_int_equal(match(r, "GET", "/api/workflows//", &m, buf, sizeof buf), ROUTER_NOT_FOUND);
    assert_int_equal(match(r, "GET", "/api/workflows/5//", &m, buf, sizeof buf), ROUTER_NOT_FOUND);
    router_free(r);
}

static void test_explicit_routes_and_abilities(void **state)
{
    (void)state;
    struct router *r =
        load_ok("explicit.yaml", "routes:\n"
                                 "  - method: GET\n"
                                 "    path: /api/ping\n"
                                 "    handler: health\n"
                                 "    auth: false\n"
                                 "  - api_resource: prompts\n"
                                 "    abilities: { read: prompts.read, write: prompts.write }\n"
                                 "  - method: GET\n"
                                 "    path: /api/flows/{id}/steps\n"
                                 "    handler: relation\n"
                                 "    resource: workflows\n"
                                 "    relation: steps\n"
                                 "    ability: steps\n");
    assert_int_equal(r->n, 1 + 6 + 1);
    char buf[256];
    struct route_match m;
    assert_int_equal(match(r, "GET", "/api/ping", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_HEALTH);
    assert_false(m.route->auth);
    assert_int_equal(m.route->line, 2);
    assert_int_equal(match(r, "GET", "/api/prompts/1", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_string_equal(m.route->ability, "prompts.read");
    assert_int_equal(m.route->line, 6);
    assert_int_equal(match(r, "DELETE", "/api/prompts/1", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_string_equal(m.route->ability, "prompts.write");
    assert_int_equal(match(r, "GET", "/api/flows/3/steps", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_string_equal(m.route->ability, "steps");
    assert_true(m.route->auth);
    assert_string_equal(m.route->path, "/api/flows/{id}/steps");
    assert_int_equal(m.route->line, 8);
    assert_int_equal(match(r, "GET", "/api/workflows", &m, buf, sizeof buf), ROUTER_NOT_FOUND);
    assert_string_equal(router_handler_name(HANDLER_RELATION), "relation");
    assert_string_equal(router_handler_name(HANDLER_HEALTH), "health");
    router_free(r);
}

static void test_explicit_route_without_ability_follows_its_method(void **state)
{
    (void)state;
    struct router *r = load_ok("noability.yaml", "routes:\n"
                                                 "  - method: GET\n"
                                                 "    path: /api/flows\n"
                                                 "    handler: index\n"
                                                 "    resource: workflows\n"
                                                 "  - method: POST\n"
                                                 "    path: /api/flows\n"
                                                 "    handler: store\n"
                                                 "    resource: workflows\n"
                                                 "  - method: PUT\n"
                                                 "    path: /api/flows/{id}\n"
                                                 "    handler: update\n"
                                                 "    resource: workflows\n"
                                                 "  - method: PATCH\n"
                                                 "    path: /api/flows/{id}\n"
                                                 "    handler: update\n"
                                                 "    resource: workflows\n"
                                                 "  - method: DELETE\n"
                                                 "    path: /api/flows/{id}\n"
                                                 "    handler: destroy\n"
                                                 "    resource: workflows\n"
                                                 "  - method: GET\n"
                                                 "    path: /api/flows/{id}\n"
                                                 "    handler: show\n"
                                                 "    resource: workflows\n"
                                                 "    ability: special\n"
                                                 "  - method: GET\n"
                                                 "    path: /api/open\n"
                                                 "    handler: health\n"
                                                 "    auth: false\n");
    char buf[256];
    struct route_match m;
    static const struct {
        const char *method, *path, *ability;
    } want[] = {
        {"GET", "/api/flows", "read"},       {"POST", "/api/flows", "write"},
        {"PUT", "/api/flows/1", "write"},    {"PATCH", "/api/flows/1", "write"},
        {"DELETE", "/api/flows/1", "write"}, {"GET", "/api/flows/1", "special"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(match(r, want[i].method, want[i].path, &m, buf, sizeof buf), ROUTER_FOUND);
        assert_true(m.route->auth);
        if (!m.route->ability || strcmp(m.route->ability, want[i].ability))
            fail_msg("%s %s: ability %s, want %s", want[i].method, want[i].path,
                     m.route->ability ? m.route->ability : "(none)", want[i].ability);
    }
    assert_int_equal(match(r, "GET", "/api/open", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_false(m.route->auth);
    assert_null(m.route->ability);
    router_free(r);
}

/* ---- load errors, each "file:line: reason" ---- */

static void test_duplicate_route_rejected(void **state)
{
    (void)state;
    load_fails("dup.yaml",
               "routes:\n"
               "  - method: GET\n"
               "    path: /api/ping\n"
               "    handler: health\n"
               "    auth: false\n"
               "  - method: GET\n"
               "    path: /api/ping\n"
               "    handler: health\n",
               6, "declared twice");
    /* the same pattern spelled differently is still the same route */
    load_fails("dup_api.yaml",
               "routes:\n"
               "  - api_resource: workflows\n"
               "  - method: GET\n"
               "    path: /api/workflows/{id}\n"
               "    handler: show\n"
               "    resource: workflows\n",
               3, "declared twice");
    load_fails("dup_res.yaml",
               "routes:\n"
               "  - api_resource: workflows\n"
               "  - api_resource: workflows\n",
               3, "declared twice");
    /* same path, other method: fine */
    struct router *r = load_ok("nodup.yaml", "routes:\n"
                                             "  - method: GET\n"
                                             "    path: /api/ping\n"
                                             "    handler: health\n"
                                             "  - method: POST\n"
                                             "    path: /api/ping\n"
                                             "    handler: health\n");
    assert_int_equal(r->n, 2);
    router_free(r);
}

static void test_unknown_handler_rejected(void **state)
{
    (void)state;
    load_fails("handler.yaml",
               "# a comment\n"
               "routes:\n"
               "  - method: GET\n"
               "    path: /api/ping\n"
               "    handler: pong\n",
               5, "unknown handler 'pong'");
}

/* only: keeps some of the five actions; the others answer 405 with what is left */
static void test_api_resource_only(void **state)
{
    (void)state;
    struct router *r = load_ok("only.yaml", "routes:\n  - api_resource: workflow-runs\n"
                                            "    only: [index, show]\n");
    assert_int_equal(r->n, 2);
    char buf[256];
    struct route_match m;
    assert_int_equal(match(r, "GET", "/api/workflow-runs/4", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_SHOW);
    assert_int_equal(match(r, "PATCH", "/api/workflow-runs/4", &m, buf, sizeof buf),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD");
    assert_int_equal(match(r, "POST", "/api/workflow-runs", &m, buf, sizeof buf),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD");
    router_free(r);
    load_fails("only-bad.yaml", "routes:\n  - api_resource: workflows\n    only: [index, edit]\n",
               3, "unknown action 'edit'");
    load_fails("only-map.yaml", "routes:\n  - api_resource: workflows\n    only: index\n", 3,
               "only:");
    load_fails("ar-key.yaml", "routes:\n  - api_resource: workflows\n    except: [index]\n", 3,
               "unknown key 'except'");
}

/* the engine's routes in etc/routes.yaml: handlers, abilities, {id} */
static void test_engine_routes(void **state)
{
    (void)state;
    struct config_error err = {{0}};
    struct router *r = router_load("etc/routes.yaml", resources, &err);
    assert_non_null(r);
    char buf[256];
    struct route_match m;
    assert_int_equal(match(r, "POST", "/api/events", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_TRIGGER_EVENT);
    assert_string_equal(m.route->ability, "trigger");
    assert_int_equal(m.route->nbody, 3);
    assert_string_equal(m.route->body[0].field, "event");
    assert_int_equal(match(r, "POST", "/api/workflows/7/runs", &m, buf, sizeof buf), ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_START_RUN);
    assert_string_equal(m.route->ability, "trigger");
    assert_string_equal(m.params[0], "7");
    assert_int_equal(match(r, "POST", "/api/workflow-runs/8/cancel", &m, buf, sizeof buf),
                     ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_CANCEL_RUN);
    assert_string_equal(m.route->ability, "write");
    assert_int_equal(match(r, "POST", "/api/workflow-runs/8/retry", &m, buf, sizeof buf),
                     ROUTER_FOUND);
    assert_int_equal(m.route->handler, HANDLER_RETRY_RUN);
    assert_int_equal(m.route->nbody, 0); /* cancel/retry read no body */
    assert_int_equal(match(r, "DELETE", "/api/workflow-runs/8", &m, buf, sizeof buf),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD");
    assert_int_equal(match(r, "GET", "/api/events", &m, buf, sizeof buf),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "POST");
    router_free(r);
    load_fails("ev-id.yaml",
               "routes:\n  - method: POST\n    path: /api/workflows/runs\n    handler: start_run\n"
               "    resource: workflow-runs\n",
               2, "needs an {id}");
    /* the intake's body contract is compiled with the routes: a bad rule stops the load */
    load_fails("ev-nobody.yaml",
               "routes:\n  - method: POST\n    path: /api/events\n    handler: trigger_event\n"
               "    resource: workflow-runs\n",
               2, "needs body:");
    load_fails("ev-badrule.yaml",
               "routes:\n  - method: POST\n    path: /api/events\n    handler: trigger_event\n"
               "    resource: workflow-runs\n    body:\n      event: \"required|frobnicate\"\n",
               7, "body field 'event': ");
    /* sign-in reads its fields through the same mechanism; a handler that reads no body
     * cannot be given rules it would never apply */
    load_fails("login-nobody.yaml",
               "routes:\n  - method: POST\n    path: /api/auth/login\n    handler: login\n"
               "    auth: false\n",
               2, "needs body:");
    load_fails("health-body.yaml",
               "routes:\n  - method: GET\n    path: /api/x\n    handler: health\n"
               "    body:\n      a: \"required\"\n",
               2, "reads no body");
}

static void test_other_load_errors(void **state)
{
    (void)state;
    load_fails("method.yaml", "routes:\n  - method: FETCH\n    path: /api/x\n    handler: health\n",
               2, "unknown method 'FETCH'");
    load_fails("param.yaml",
               "routes:\n  - method: GET\n    path: /api/x/{name}\n    handler: health\n", 2,
               "{id}");
    load_fails("noid.yaml",
               "routes:\n  - method: GET\n    path: /api/workflows/x\n    handler: show\n"
               "    resource: workflows\n",
               2, "needs an {id}");
    load_fails("extra_id.yaml",
               "routes:\n  - method: GET\n    path: /api/workflows/{id}\n    handler: index\n"
               "    resource: workflows\n",
               2, "takes no");
    load_fails("nores.yaml", "routes:\n  - method: GET\n    path: /api/x\n    handler: index\n", 2,
               "needs a resource");
    load_fails("badres.yaml",
               "routes:\n  - method: GET\n    path: /api/x\n    handler: index\n"
               "    resource: widgets\n",
               5, "widgets");
    load_fails("badapi.yaml", "routes:\n  - api_resource: widgets\n", 2, "widgets");
    load_fails("rel.yaml",
               "routes:\n  - method: GET\n    path: /api/workflows/{id}/x\n    handler: relation\n"
               "    resource: workflows\n    relation: nope\n",
               6, "nope");
    load_fails("key.yaml",
               "routes:\n  - method: GET\n    path: /api/x\n    handler: health\n    colour: red\n",
               5, "unknown key 'colour'");
    load_fails("missing.yaml", "routes:\n  - method: GET\n    handler: health\n", 2,
               "needs method, path and handler");
    load_fails("slash.yaml", "routes:\n  - method: GET\n    path: api/x\n    handler: health\n", 2,
               "start with /");
    load_fails("trail.yaml", "routes:\n  - method: GET\n    path: /api/x/\n    handler: health\n",
               2, "trailing slash");
    load_fails("empty.yaml", "routes:\n  - method: GET\n    path: /api//x\n    handler: health\n",
               2, "empty path segment");
    load_fails("auth.yaml",
               "routes:\n  - method: GET\n    path: /api/x\n    handler: health\n    auth: maybe\n",
               5, "true or false");
    load_fails("notlist.yaml", "routes: {}\n", 1, "routes");
    load_fails(
        "dupkey.yaml",
        "routes:\n  - method: GET\n    path: /api/x\n    path: /api/y\n    handler: health\n", 4,
        "duplicate key 'path'");
    load_fails("syntax.yaml", "routes:\n  - method: GET\n    path: [/api/x\n", 4, "");
    struct config_error err = {{0}};
    assert_null(router_load("/nonexistent/routes.yaml", resources, &err));
    assert_non_null(strstr(err.msg, "/nonexistent/routes.yaml"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_routes_load),
        cmocka_unit_test(test_id_digits_only),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed_allow_list),
        cmocka_unit_test(test_head_is_get),
        cmocka_unit_test(test_trailing_slash),
        cmocka_unit_test(test_explicit_routes_and_abilities),
        cmocka_unit_test(test_explicit_route_without_ability_follows_its_method),
        cmocka_unit_test(test_duplicate_route_rejected),
        cmocka_unit_test(test_unknown_handler_rejected),
        cmocka_unit_test(test_other_load_errors),
        cmocka_unit_test(test_api_resource_only),
        cmocka_unit_test(test_engine_routes),
    };
    return cmocka_run_group_tests_name("router", tests, setup_all, teardown_all);
}
