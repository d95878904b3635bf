/* test_config.c — unit tests for config.c and resource.c: loading the real etc/ (the tests
 * run from the repository root), the AIENGINE_* environment overrides, values rejected
 * with "file:line: reason" (or the variable's name for an environment value), and the
 * resource compiler's load errors (unknown type, unknown filter field, bad rule string —
 * each message names the field). Fixture files go to a temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fixture.h"
#include "resource.h"

static char tmpdir[256];
static char routes_abs[PATH_MAX], resources_abs[PATH_MAX];

static const char *const env_vars[] = {
    "AIENGINE_ETC",
    "AIENGINE_LISTEN",
    "AIENGINE_WORKERS",
    "AIENGINE_MAX_REQUESTS",
    "AIENGINE_MAX_BODY_BYTES",
    "AIENGINE_DB_HOST",
    "AIENGINE_DB_PORT",
    "AIENGINE_DB_SOCKET",
    "AIENGINE_DB_USER",
    "AIENGINE_DB_PASSWORD",
    "AIENGINE_DB_NAME",
    "AIENGINE_APP_KEY",
    "AIENGINE_APP_URL",
    "AIENGINE_MIGRATIONS",
    "AIENGINE_REQUEST_TIMEOUT",
    "AIENGINE_SOCKET_MODE",
    "AIENGINE_DB_STATEMENT_CACHE",
    "AIENGINE_RATE_LIMITS",
    "AIENGINE_SLOW_MS",
    "AIENGINE_METRICS",
    "AIENGINE_ENGINE_METRICS",
    "AIENGINE_APP_KEY_FILE",
    "AIENGINE_HTTP_REQUIRE_IF_MATCH",
    "AIENGINE_LIST_COUNT_CACHE_MS",
    "AIENGINE_LOGIN_FAILURES_PER_EMAIL",
    "AIENGINE_LOGIN_FAILURES_PER_ADDRESS",
    "AIENGINE_LOGIN_TOKEN_SECONDS",
};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++) unsetenv(env_vars[i]);
}

static int setup_all(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/aiengine-config-XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    if (!realpath("etc/routes.yaml", routes_abs) ||
        !realpath("etc/resources.yaml", resources_abs)) {
        fprintf(stderr, "run from the repository root (etc/ not found)\n");
        return -1;
    }
    return 0;
}

static int teardown_all(void **state)
{
    (void)state;
    clear_env();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    return 0;
}

static const char *write_file(const char *dir, const char *name, const char *text)
{
    return fixture_write(dir, name, text);
}

/* A folder tmpdir/<name> holding an aiengine.yaml made of `server` (the text of the
 * server: block) and `extra` lines, with routes/resources pointing at the real files. */
static const char *make_etc(const char *name, const char *server, const char *extra)
{
    static char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
    char cmd[500];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    char text[16384];
    snprintf(text, sizeof text,
             "# fixture\n"
             "server:\n"
             "%s"
             "database:\n"
             "  socket: /tmp/fixture.sock\n"
             "%s"
             "routes: %s\n"
             "resources: %s\n",
             server, extra, routes_abs, resources_abs);
    write_file(dir, "aiengine.yaml", text);
    return dir;
}

static void expect_error(const char *etc, const char *prefix_file, int line, const char *needle)
{
    struct config_error err = {{0}};
    struct config *c = config_load(etc, &err);
    if (c) {
        config_free(c);
        fail_msg("expected config_load(%s) to fail with '%s'", etc, needle);
    }
    if (prefix_file) {
        char prefix[700];
        snprintf(prefix, sizeof prefix, "%s:%d: ", prefix_file, line);
        if (strncmp(err.msg, prefix, strlen(prefix)))
            fail_msg("expected '%s' at the start of '%s'", prefix, err.msg);
    }
    if (!strstr(err.msg, needle)) fail_msg("expected '%s' in '%s'", needle, err.msg);
}

/* ---- the real etc/ ---- */

static void test_real_etc(void **state)
{
    (void)state;
    struct config_error err = {{0}};
    struct config *c = config_load("etc", &err);
    if (!c) fail_msg("config_load(etc): %s", err.msg);
    assert_string_equal(c->etc_dir, "etc");
    assert_int_equal(c->workers, 4);
    assert_int_equal(c->backlog, 1024);
    assert_int_equal(c->max_requests, 50000);
    assert_int_equal(c->shutdown_timeout, 30);
    assert_int_equal(c->request_timeout, 10);
    assert_int_equal(c->socket_mode, 0660);
    assert_false(c->require_if_match);
    assert_int_equal(c->max_body_bytes, 1048576);
    assert_int_equal(c->max_json_depth, 32);
    assert_int_equal(c->default_per_page, 15);
    assert_int_equal(c->max_per_page, 100);
    assert_int_equal(c->db.port, 3306);
    assert_string_equal(c->db.socket, "");
    assert_string_equal(c->db.user, "aiengine");
    assert_string_equal(c->db.name, "aiengine");
    assert_int_equal(c->db.retry_after, 5);
    assert_int_equal(c->db.statement_cache, 64);
    assert_int_equal(c->token_cache_seconds, 2);
    assert_int_equal(c->last_used_interval, 60);
    assert_int_equal(c->login.failures_per_email, 5);
    assert_int_equal(c->login.failures_per_address, 30);
    assert_int_equal(c->login.window_seconds, 900);
    assert_int_equal(c->login.token_seconds, 43200);
    assert_string_equal(c->app_url, "");
    /* relative paths are relative to etc/ */
    assert_string_equal(c->listen, "etc/../var/run/aiengine.sock");
    assert_string_equal(c->routes_path, "etc/routes.yaml");
    assert_string_equal(c->resources_path, "etc/resources.yaml");
    assert_string_equal(c->migrations_dir, "etc/../db/migrations");
    assert_non_null(c->resources);
    assert_int_equal(c->resources->n, 5);
    assert_non_null(resource_find(c->resources, "workflow-steps"));
    assert_non_null(c->router);
    assert_true(c->router->n > 0);
    config_free(c);

    /* NULL: $AIENGINE_ETC, else "etc" */
    c = config_load(NULL, &err);
    if (!c) fail_msg("config_load(NULL): %s", err.msg);
    assert_string_equal(c->etc_dir, "etc");
    config_free(c);
    setenv("AIENGINE_ETC", "/nonexistent-etc", 1);
    assert_null(config_load(NULL, &err));
    assert_non_null(strstr(err.msg, "/nonexistent-etc/aiengine.yaml"));
}

static void test_env_overrides(void **state)
{
    (void)state;
    setenv("AIENGINE_WORKERS", "7", 1);
    setenv("AIENGINE_LISTEN", "/tmp/override.sock", 1);
    setenv("AIENGINE_DB_SOCKET", "/run/mysqld/override.sock", 1);
    setenv("AIENGINE_DB_NAME", "other", 1);
    setenv("AIENGINE_MAX_REQUESTS", "20", 1);
    setenv("AIENGINE_APP_URL", "https://api.example.com/", 1);
    setenv("AIENGINE_MIGRATIONS", "/srv/migrations", 1);
    setenv("AIENGINE_REQUEST_TIMEOUT", "3", 1);
    setenv("AIENGINE_SOCKET_MODE", "0600", 1);
    setenv("AIENGINE_DB_STATEMENT_CACHE", "16", 1);
    setenv("AIENGINE_HTTP_REQUIRE_IF_MATCH", "true", 1);
    setenv("AIENGINE_LOGIN_FAILURES_PER_EMAIL", "3", 1);
    setenv("AIENGINE_LOGIN_FAILURES_PER_ADDRESS", "500", 1);
    setenv("AIENGINE_LOGIN_TOKEN_SECONDS", "3600", 1);
    struct config_error err = {{0}};
    struct config *c = config_load("etc", &err);
    if (!c) fail_msg("%s", err.msg);
    assert_int_equal(c->workers, 7);
    assert_string_equal(c->listen, "/tmp/override.sock");
    assert_string_equal(c->db.socket, "/run/mysqld/override.sock");
    assert_string_equal(c->db.name, "other");
    assert_int_equal(c->max_requests, 20);
    assert_string_equal(c->app_url, "https://api.example.com");
    assert_string_equal(c->migrations_dir, "/srv/migrations");
    assert_int_equal(c->request_timeout, 3);
    assert_int_equal(c->socket_mode, 0600);
    assert_int_equal(c->db.statement_cache, 16);
    assert_true(c->require_if_match);
    assert_int_equal(c->login.failures_per_email, 3);
    assert_int_equal(c->login.failures_per_address, 500);
    assert_int_equal(c->login.token_seconds, 3600);
    config_free(c);
    setenv("AIENGINE_HTTP_REQUIRE_IF_MATCH", "0", 1);
    c = config_load("etc", &err);
    if (!c) fail_msg("%s", err.msg);
    assert_false(c->require_if_match);
    config_free(c);
    setenv("AIENGINE_HTTP_REQUIRE_IF_MATCH", "sometimes", 1);
    assert_null(config_load("etc", &err));
    assert_non_null(strstr(err.msg, "AIENGINE_HTTP_REQUIRE_IF_MATCH"));
    unsetenv("AIENGINE_HTTP_REQUIRE_IF_MATCH");

    /* a relative or host:port listen from the environment is taken as written */
    setenv("AIENGINE_LISTEN", "127.0.0.1:9001", 1);
    c = config_load("etc", &err);
    assert_non_null(c);
    assert_string_equal(c->listen, "127.0.0.1:9001");
    config_free(c);
    setenv("AIENGINE_LISTEN", "run/x.sock", 1);
    c = config_load("etc", &err);
    assert_non_null(c);
    assert_string_equal(c->listen, "run/x.sock");
    config_free(c);

    /* config_load_base reads the same values without compiling routes and resources */
    c = config_load_base("etc", &err);
    assert_non_null(c);
    assert_int_equal(c->workers, 7);
    assert_null(c->router);
    assert_null(c->resources);
    config_free(c);
}

static void test_bad_env_values(void **state)
{
    (void)state;
    static const struct {
        const char *var, *value;
    } bad[] = {
        {"AIENGINE_WORKERS", "0"},
        {"AIENGINE_WORKERS", "-1"},
        {"AIENGINE_WORKERS", "abc"},
        {"AIENGINE_WORKERS", ""},
        {"AIENGINE_WORKERS", "4x"},
        {"AIENGINE_WORKERS", "257"},
        {"AIENGINE_WORKERS", "99999999999999999999"},
        {"AIENGINE_MAX_REQUESTS", "-5"},
        {"AIENGINE_DB_PORT", "70000"},
        {"AIENGINE_MAX_BODY_BYTES", "0"},
        {"AIENGINE_REQUEST_TIMEOUT", "0"},
        {"AIENGINE_REQUEST_TIMEOUT", "soon"},
        {"AIENGINE_SOCKET_MODE", "0999"},
        {"AIENGINE_SOCKET_MODE", "rw-rw----"},
        {"AIENGINE_SOCKET_MODE", "01777"},
        {"AIENGINE_SOCKET_MODE", ""},
        {"AIENGINE_DB_STATEMENT_CACHE", "3"},
        {"AIENGINE_DB_STATEMENT_CACHE", "129"},
        {"AIENGINE_LOGIN_FAILURES_PER_EMAIL", "0"},
        {"AIENGINE_LOGIN_FAILURES_PER_ADDRESS", "many"},
        {"AIENGINE_LOGIN_TOKEN_SECONDS", "59"},
        {"AIENGINE_LOGIN_TOKEN_SECONDS", "31536001"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clear_env();
        setenv(bad[i].var, bad[i].value, 1);
        struct config_error err = {{0}};
        struct config *c = config_load("etc", &err);
        if (c) {
            config_free(c);
            fail_msg("%s=%s was accepted", bad[i].var, bad[i].value);
        }
        if (!strstr(err.msg, bad[i].var)) fail_msg("%s not named in '%s'", bad[i].var, err.msg);
    }
    clear_env();
    setenv("AIENGINE_MAX_REQUESTS", "0", 1); /* 0 = never recycle */
    struct config_error err = {{0}};
    struct config *c = config_load("etc", &err);
    assert_non_null(c);
    assert_int_equal(c->max_requests, 0);
    config_free(c);
}

static void test_fixture_etc_loads(void **state)
{
    (void)state;
    const char *etc = make_etc("good", "  listen: run/app.sock\n  workers: 3\n", "");
    struct config_error err = {{0}};
    struct config *c = config_load(etc, &err);
    if (!c) fail_msg("%s", err.msg);
    assert_int_equal(c->workers, 3);
    char want[600];
    snprintf(want, sizeof want, "%s/run/app.sock", etc);
    assert_string_equal(c->listen, want);
    assert_string_equal(c->db.socket, "/tmp/fixture.sock");
    assert_string_equal(c->routes_path, routes_abs); /* absolute paths stay as written */
    /* defaults for everything not written */
    assert_int_equal(c->max_requests, 50000);
    assert_int_equal(c->max_body_bytes, 1048576);
    config_free(c);
}

/* app.key_file: read (relative to etc/, trailing newline dropped) only when app.key and
 * AIENGINE_APP_KEY are empty; a file that is missing, empty or too short is an error. */
static void test_app_key_file(void **state)
{
    (void)state;
    const char *etc = make_etc("keyfile", "", "app:\n  key_file: app.key\n");
    char dir[400];
    snprintf(dir, sizeof dir, "%s", etc);
    struct config_error err = {{0}};
    expect_error(dir, NULL, 0, "app.key_file");
    write_file(dir, "app.key", "");
    expect_error(dir, NULL, 0, "is empty");
    write_file(dir, "app.key", "short\n");
    expect_error(dir, NULL, 0, "at least 32");
    write_file(dir, "app.key", "0123456789abcdef0123456789abcdef0123456789abcdef\n");
    struct config *c = config_load(dir, &err);
    if (!c) fail_msg("%s", err.msg);
    assert_string_equal(c->app_key, "0123456789abcdef0123456789abcdef0123456789abcdef");
    config_free(c);
    setenv("AIENGINE_APP_KEY", "from-the-environment-0123456789abcdef", 1);
    c = config_load(dir, &err);
    assert_non_null(c);
    assert_string_equal(c->app_key, "from-the-environment-0123456789abcdef");
    config_free(c);
}

static void test_bad_yaml_values_name_file_and_line(void **state)
{
    (void)state;
    char file[600];
    const char *etc = make_etc("w1", "  workers: many\n", "");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 3, "integer");

    etc = make_etc("w2", "  workers: 0\n", "");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 3, "between 1 and 256");

    etc = make_etc("w3", "  listen: /tmp/a.sock\n  backlog: -4\n", "");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 4, "integer");

    etc = make_etc("w4", "  workers: 2\n", "limits:\n  max_body_bytes: 1MB\n");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 7, "integer");

    etc = make_etc("w5", "  workers: 2\n", "auth:\n  token_cache_seconds: [1, 2]\n");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 7, "integer");

    etc = make_etc("w5a", "  workers: 2\n", "auth:\n  login_window_seconds: 0\n");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 7, "between 1 and 86400");

    etc = make_etc("w5b", "  workers: 2\n", "http:\n  require_if_match: sometimes\n");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 7, "true or false");

    etc = make_etc("w6", "  workers: 2\n  workers: 3\n", "");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 4, "duplicate key 'workers'");

    etc = make_etc("w7", "  listen: [a, b]\n", "");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 3, "listen");

    etc = make_etc("w8", "  workers: 2\n", "limits:\n  default_per_page: 50\n  max_per_page: 20\n");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, NULL, 0, "default_per_page");

    /* not YAML at all */
    char dir[400];
    snprintf(dir, sizeof dir, "%s/w9", tmpdir);
    char cmd[500];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    write_file(dir, "aiengine.yaml", "server:\n  workers: 2\n   listen: x\n");
    snprintf(file, sizeof file, "%s/aiengine.yaml", dir);
    expect_error(dir, file, 3, "");
}

static void test_rate_limits_slow_log_and_metrics(void **state)
{
    (void)state;
    clear_env();
    const char *etc = make_etc("rl1", "  workers: 2\n",
                               "rate_limits:\n  read: 1200/min\n  failed_auth: 30/hour\n"
                               "log:\n  slow_ms: 250\nmetrics:\n  enabled: false\n"
                               "  engine_file: /run/x.metrics\n");
    struct config_error err = {{0}};
    struct config *c = config_load(etc, &err);
    assert_non_null(c);
    assert_int_equal(c->rate_limits.n, 2);
    assert_string_equal(c->rate_limits.rules[0].ability, "read");
    assert_int_equal(c->rate_limits.rules[0].limit, 1200);
    assert_int_equal(c->rate_limits.rules[1].window, 3600);
    assert_int_equal(c->slow_ms, 250);
    assert_false(c->metrics_enabled);
    assert_string_equal(c->engine_metrics, "/run/x.metrics");
    config_free(c);
    /* the environment replaces the whole list */
    setenv("AIENGINE_RATE_LIMITS", "write=5/s", 1);
    setenv("AIENGINE_SLOW_MS", "0", 1);
    setenv("AIENGINE_METRICS", "1", 1);
    c = config_load(etc, &err);
    assert_non_null(c);
    assert_int_equal(c->rate_limits.n, 1);
    assert_string_equal(c->rate_limits.rules[0].ability, "write");
    assert_int_equal(c->slow_ms, 0);
    assert_true(c->metrics_enabled);
    config_free(c);
    setenv("AIENGINE_RATE_LIMITS", "write=5 a second", 1);
    expect_error(etc, NULL, 0, "AIENGINE_RATE_LIMITS");
    clear_env();

    char file[600];
    etc = make_etc("rl2", "  workers: 2\n", "rate_limits:\n  read: 1200/fortnight\n");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 7, "1200/min");
    etc = make_etc("rl3", "  workers: 2\n", "rate_limits: [read]\n");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 6, "mapping");
    etc = make_etc("rl4", "  workers: 2\n", "log:\n  slow_ms: -1\n");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 7, "integer");
}

/* list.count_cache_ms: 1000 by default, 0 turns the cache off, the environment wins */
static void test_count_cache_ms(void **state)
{
    (void)state;
    clear_env();
    const char *etc = make_etc("cc1", "  workers: 2\n", "");
    struct config_error err = {{0}};
    struct config *c = config_load(etc, &err);
    assert_non_null(c);
    assert_int_equal(c->count_cache_ms, 1000);
    config_free(c);
    etc = make_etc("cc2", "  workers: 2\n", "list:\n  count_cache_ms: 0\n");
    c = config_load(etc, &err);
    assert_non_null(c);
    assert_int_equal(c->count_cache_ms, 0);
    config_free(c);
    setenv("AIENGINE_LIST_COUNT_CACHE_MS", "250", 1);
    c = config_load(etc, &err);
    assert_non_null(c);
    assert_int_equal(c->count_cache_ms, 250);
    config_free(c);
    setenv("AIENGINE_LIST_COUNT_CACHE_MS", "soon", 1);
    expect_error(etc, NULL, 0, "AIENGINE_LIST_COUNT_CACHE_MS");
    clear_env();
    char file[600];
    etc = make_etc("cc3", "  workers: 2\n", "list:\n  count_cache_ms: -5\n");
    snprintf(file, sizeof file, "%s/aiengine.yaml", etc);
    expect_error(etc, file, 7, "integer");
}

/* database.lock_wait_timeout: half of read_timeout within 1-5 s unless set, and never as long
 * as read_timeout (a lock wait the client gave up on kept its locks on the server) */
static void test_lock_wait_timeout(void **state)
{
    (void)state;
    clear_env();
    struct config_error err = {{0}};
    const char *etc = make_etc("lw1", "  workers: 2\n", "");
    struct config *c = config_load(etc, &err);
    assert_non_null(c);
    assert_int_equal(c->db.read_timeout, 10);
    assert_int_equal(c->db.lock_wait_timeout, 5);
    config_free(c);
    etc = make_etc("lw2", "  workers: 2\n", "  read_timeout: 3\n");
    c = config_load(etc, &err);
    assert_non_null(c);
    assert_int_equal(c->db.lock_wait_timeout, 1);
    config_free(c);
    etc = make_etc("lw3", "  workers: 2\n", "  read_timeout: 60\n  lock_wait_timeout: 20\n");
    c = config_load(etc, &err);
    assert_non_null(c);
    assert_int_equal(c->db.lock_wait_timeout, 20);
    config_free(c);
    etc = make_etc("lw4", "  workers: 2\n", "  lock_wait_timeout: 10\n");
    expect_error(etc, NULL, 0, "must be less than database.read_timeout (10)");
}

static void test_broken_routes_fail_full_load_only(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/broken-routes", tmpdir);
    char cmd[500];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    char text[8192];
    snprintf(text, sizeof text, "server:\n  workers: 2\nroutes: routes.yaml\nresources: %s\n",
             resources_abs);
    write_file(dir, "aiengine.yaml", text);
    const char *routes = write_file(
        dir, "routes.yaml", "routes:\n  - method: GET\n    path: /api/x\n    handler: nope\n");
    char routes_path[600];
    snprintf(routes_path, sizeof routes_path, "%s", routes);
    expect_error(dir, routes_path, 4, "unknown handler 'nope'");
    struct config_error err = {{0}};
    struct config *c = config_load_base(dir, &err);
    if (!c) fail_msg("config_load_base must not read routes: %s", err.msg);
    assert_int_equal(c->workers, 2);
    config_free(c);
}

/* ---- resource loading errors ---- */

static void resource_fails(const char *name, const char *text, int line, const char *needle1,
                           const char *needle2)
{
    const char *path = write_file(tmpdir, name, text);
    char prefix[700];
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    struct config_error err = {{0}};
    struct resource_set *set = resource_set_load(path, &err);
    if (set) {
        resource_set_free(set);
        fail_msg("%s: expected an error with '%s'", name, needle1);
    }
    if (line > 0 && strncmp(err.msg, prefix, strlen(prefix)))
        fail_msg("%s: expected '%s' at the start of '%s'", name, prefix, err.msg);
    if (line == 0 && strncmp(err.msg, path, strlen(path)))
        fail_msg("%s: expected the file name at the start of '%s'", name, err.msg);
    if (!strstr(err.msg, needle1)) fail_msg("%s: expected '%s' in '%s'", name, needle1, err.msg);
    if (needle2 && !strstr(err.msg, needle2))
        fail_msg("%s: expected '%s' in '%s'", name, needle2, err.msg);
}

/* which fields read the database when validated, decided at load (write.c's fast paths) */
static void test_validation_reads_marked_at_load(void **state)
{
    (void)state;
    struct config_error err = {{0}};
    struct resource_set *set = resource_set_load(resources_abs, &err);
    if (!set) fail_msg("%s", err.msg);
    const struct resource *w = resource_find(set, "workflows");
    const struct resource *p = resource_find(set, "prompts");
    const struct resource *l = resource_find(set, "execution-logs");
    assert_false(w->validation_reads); /* nothing to check: creates are one statement */
    assert_false(resource_field(w, "name")->validation_reads);
    assert_true(p->validation_reads);
    /* unique:prompts,name,version — the rule's own field and the other column */
    assert_true(resource_field(p, "name")->validation_reads);
    assert_true(resource_field(p, "version")->validation_reads);
    assert_false(resource_field(p, "category")->validation_reads);
    /* exists rules, and both sides of `same: workflow_id` */
    assert_true(resource_field(l, "step_id")->validation_reads);
    assert_true(resource_field(l, "workflow_id")->validation_reads);
    assert_false(resource_field(l, "status")->validation_reads);
    resource_set_free(set);
}

#define RES_HEAD "resources:\n  things:\n    table: things\n    fields:\n      id: { type: id }\n"

static void test_resource_good_fixture(void **state)
{
    (void)state;
    const char *path = write_file(
        tmpdir, "good-res.yaml",
        RES_HEAD
        "      title: { type: string, fillable: true, rules: \"required|string|max:255\" }\n"
        "      price: { type: \"decimal(8,2)\", fillable: true, rules: \"nullable|numeric\" }\n"
        "      created_at: { type: timestamp, auto: created }\n"
        "    filters: [title]\n"
        "    sorts: [price]\n");
    struct config_error err = {{0}};
    struct resource_set *set = resource_set_load(path, &err);
    if (!set) fail_msg("%s", err.msg);
    const struct resource *r = resource_find(set, "things");
    assert_non_null(r);
    assert_string_equal(r->table, "things");
    assert_int_equal(r->nfields, 4);
    assert_string_equal(r->select_list, "`id`,`title`,`price`,`created_at`");
    /* the key repr.c writes before each value, built at load */
    assert_string_equal(resource_field(r, "created_at")->json_key, ",\"created_at\":");
    assert_int_equal(resource_field(r, "created_at")->json_key_len, strlen(",\"created_at\":"));
    const struct field *f = resource_field(r, "price");
    assert_int_equal(f->type, FIELD_DECIMAL);
    assert_int_equal(f->precision, 8);
    assert_int_equal(f->scale, 2);
    assert_true(resource_field(r, "title")->filterable);
    assert_false(resource_field(r, "title")->sortable);
    assert_true(f->sortable);
    assert_int_equal(resource_field(r, "created_at")->autoset, AUTO_CREATED);
    assert_ptr_equal(r->id, resource_field(r, "id"));
    assert_int_equal(r->ndefault_sort, 1);
    assert_ptr_equal(r->default_sort[0].field, r->id);
    struct sort_key keys[4];
    assert_int_equal(resource_parse_sort(r, "-price,id", true, keys, 4), 2);
    assert_true(keys[0].desc);
    assert_int_equal(resource_parse_sort(r, "title", true, keys, 4), -1); /* not sortable */
    assert_int_equal(resource_parse_sort(r, "title", false, keys, 4), 1);
    assert_int_equal(resource_parse_sort(r, "price,price", true, keys, 4), -1);
    assert_int_equal(resource_parse_sort(r, "price,", true, keys, 4), -1);
    assert_int_equal(resource_parse_sort(r, "nope", false, keys, 4), -1);
    resource_set_free(set);
}

static void test_resource_unknown_type(void **state)
{
    (void)state;
    resource_fails("type.yaml", RES_HEAD "      title: { type: varchar, fillable: true }\n", 6,
                   "title", "type must be");
    resource_fails("type2.yaml", RES_HEAD "      price: { type: \"decimal(2,5)\" }\n", 6, "price",
                   "type");
    resource_fails("type3.yaml", RES_HEAD "      title: { fillable: true }\n", 6, "title", "type");
}

static void test_resource_unknown_filter_field(void **state)
{
    (void)state;
    resource_fails("filter.yaml",
                   RES_HEAD "      title: { type: string, fillable: true }\n"
                            "    filters: [title, colour]\n",
                   7, "colour", NULL);
    resource_fails("sort.yaml",
                   RES_HEAD "      title: { type: string, fillable: true }\n"
                            "    sorts: [size]\n",
                   7, "size", NULL);
    resource_fails("dsort.yaml",
                   RES_HEAD "      title: { type: string, fillable: true }\n"
                            "    default_sort: \"-size\"\n",
                   7, "default_sort", NULL);
}

static void test_resource_bad_rule(void **state)
{
    (void)state;
    resource_fails("rule.yaml",
                   RES_HEAD
                   "      title: { type: string, fillable: true, rules: \"required|strng\" }\n",
                   6, "title", "strng");
    resource_fails("rule2.yaml",
                   RES_HEAD "      title: { type: string, fillable: true, rules: \"max:abc\" }\n",
                   6, "title", "max");
    /* exists/unique must name declared tables and fields */
    resource_fails("rule3.yaml",
                   RES_HEAD
                   "      owner_id: { type: fk, fillable: true, rules: \"exists:owners,id\" }\n",
                   0, "owner_id", "owners");
    resource_fails(
        "rule4.yaml",
        RES_HEAD
        "      title: { type: string, fillable: true, rules: \"unique:things,title,size\" }\n",
        0, "title", "size");
}

static void test_resource_other_errors(void **state)
{
    (void)state;
    resource_fails("fkey.yaml", RES_HEAD "      title: { type: string, colour: red }\n", 6, "title",
                   "unknown key 'colour'");
    resource_fails("rkey.yaml", RES_HEAD "    colour: red\n", 6, "things", "unknown key 'colour'");
    resource_fails("noid.yaml",
                   "resources:\n  things:\n    table: things\n    fields:\n"
                   "      title: { type: string }\n",
                   5, "no field of type id", NULL);
    resource_fails("twoid.yaml", RES_HEAD "      id2: { type: id }\n", 6, "only one", NULL);
    resource_fails("fillid.yaml",
                   RES_HEAD
                   "      created_at: { type: timestamp, auto: created, fillable: true }\n",
                   6, "created_at", "fillable");
    resource_fails("table.yaml",
                   "resources:\n  things:\n    table: \"things; DROP TABLE x\"\n    fields:\n"
                   "      id: { type: id }\n",
                   3, "table", NULL);
    resource_fails("fname.yaml", RES_HEAD "      \"bad name\": { type: string }\n", 6, "bad name",
                   NULL);
    resource_fails("rel.yaml",
                   RES_HEAD
                   "    relations:\n      owner: { belongs_to: owners, foreign_key: owner_id }\n",
                   7, "owner", "owners");
    resource_fails("cursor.yaml",
                   RES_HEAD
                   "      note: { type: string, fillable: true, rules: \"nullable|string\" }\n"
                   "    pagination: cursor\n"
                   "    sorts: [note]\n",
                   0, "note", NULL);
    /* relation bounds and consistency (include_limit, same, not_self) */
    const char *two = RES_HEAD "      parent_id: { type: fk }\n      group_id: { type: int }\n";
    char text[1024];
    snprintf(text, sizeof text,
             "%s    relations:\n      parent: { belongs_to: things, foreign_key: parent_id, "
             "include_limit: 5 }\n",
             two);
    resource_fails("lim1.yaml", text, 9, "include_limit only applies to has_many", NULL);
    snprintf(text, sizeof text,
             "%s    relations:\n      kids: { has_many: things, foreign_key: parent_id, "
             "include_limit: 0 }\n",
             two);
    resource_fails("lim0.yaml", text, 9, "", NULL);
    snprintf(text, sizeof text,
             "%s    relations:\n      parent: { belongs_to: things, foreign_key: parent_id, "
             "same: nothing }\n",
             two);
    resource_fails("same.yaml", text, 9, "same needs", NULL);
    snprintf(text, sizeof text,
             "%s    relations:\n      kids: { has_many: things, foreign_key: parent_id, "
             "not_self: true }\n",
             two);
    resource_fails("self.yaml", text, 9, "not_self needs", NULL);
    snprintf(text, sizeof text,
             "%s    relations:\n      parent: { belongs_to: things, foreign_key: parent_id, "
             "same: group_id, not_self: true }\n      kids: { has_many: things, foreign_key: "
             "parent_id, include_limit: 7 }\n",
             two);
    struct config_error err = {{0}};
    struct resource_set *set = resource_set_load(write_file(tmpdir, "rel-ok.yaml", text), &err);
    if (!set) fail_msg("%s", err.msg);
    const struct resource *r = resource_find(set, "things");
    assert_true(resource_relation(r, "parent")->not_self);
    assert_string_equal(resource_relation(r, "parent")->same_local->name, "group_id");
    assert_int_equal(resource_relation(r, "kids")->include_limit, 7);
    resource_set_free(set);
}

/* hidden: true drops the column (never selected); pagination: on a has_many relation */
static void test_resource_hidden_and_relation_pagination(void **state)
{
    (void)state;
    const char *text = "resources:\n  things:\n    table: things\n    pagination: cursor\n"
                       "    fields:\n      id: { type: id }\n"
                       "      lease: { type: string, hidden: true }\n"
                       "      parent_id: { type: fk }\n"
                       "      until: { type: timestamp, hidden: true }\n"
                       "    relations:\n      kids: { has_many: things, foreign_key: parent_id, "
                       "pagination: page }\n      all: { has_many: things, foreign_key: "
                       "parent_id }\n";
    struct config_error err = {{0}};
    struct resource_set *set = resource_set_load(write_file(tmpdir, "hidden.yaml", text), &err);
    if (!set) fail_msg("%s", err.msg);
    const struct resource *r = resource_find(set, "things");
    assert_int_equal(r->nfields, 2);
    assert_string_equal(r->select_list, "`id`,`parent_id`");
    assert_null(resource_field(r, "lease"));
    assert_int_equal(resource_relation(r, "kids")->pagination, PAGINATE_PAGE);
    assert_int_equal(resource_relation(r, "all")->pagination, PAGINATE_CURSOR);
    assert_true(r->count_cache); /* page counts may be cached unless a resource says not */
    resource_set_free(set);
    set = resource_set_load(
        write_file(tmpdir, "nocount.yaml",
                   "resources:\n  things:\n    table: things\n"
                   "    count_cache: false\n    fields:\n      id: { type: id }\n"),
        &err);
    if (!set) fail_msg("%s", err.msg);
    assert_false(resource_find(set, "things")->count_cache);
    resource_set_free(set);
    resource_fails("nocount2.yaml",
                   "resources:\n  things:\n    table: things\n"
                   "    count_cache: sometimes\n    fields:\n      id: { type: id }\n",
                   4, "", NULL);
    resource_fails("hidfill.yaml",
                   RES_HEAD "      lease: { type: string, hidden: true, fillable: true }\n", 6,
                   "lease", "hidden");
    resource_fails("hidfilter.yaml",
                   RES_HEAD "      lease: { type: string, hidden: true }\n    filters: [lease]\n",
                   7, "lease", NULL);
    resource_fails("hidbool.yaml", RES_HEAD "      lease: { type: string, hidden: maybe }\n", 6, "",
                   NULL);
    resource_fails("relpg.yaml",
                   RES_HEAD "      parent_id: { type: fk }\n    relations:\n      parent: { "
                            "belongs_to: things, foreign_key: parent_id, pagination: page }\n",
                   8, "pagination", NULL);
    resource_fails("relpg2.yaml",
                   RES_HEAD "      parent_id: { type: fk }\n    relations:\n      kids: { "
                            "has_many: things, foreign_key: parent_id, pagination: pages }\n",
                   8, "pagination", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_real_etc, setup),
        cmocka_unit_test_setup(test_env_overrides, setup),
        cmocka_unit_test_setup(test_bad_env_values, setup),
        cmocka_unit_test_setup(test_fixture_etc_loads, setup),
        cmocka_unit_test_setup(test_app_key_file, setup),
        cmocka_unit_test_setup(test_bad_yaml_values_name_file_and_line, setup),
        cmocka_unit_test_setup(test_rate_limits_slow_log_and_metrics, setup),
        cmocka_unit_test_setup(test_count_cache_ms, setup),
        cmocka_unit_test_setup(test_lock_wait_timeout, setup),
        cmocka_unit_test_setup(test_broken_routes_fail_full_load_only, setup),
        cmocka_unit_test_setup(test_resource_good_fixture, setup),
        cmocka_unit_test_setup(test_validation_reads_marked_at_load, setup),
        cmocka_unit_test_setup(test_resource_unknown_type, setup),
        cmocka_unit_test_setup(test_resource_unknown_filter_field, setup),
        cmocka_unit_test_setup(test_resource_bad_rule, setup),
        cmocka_unit_test_setup(test_resource_other_errors, setup),
        cmocka_unit_test_setup(test_resource_hidden_and_relation_pagination, setup),
    };
    return cmocka_run_group_tests_name("config", tests, setup_all, teardown_all);
}
