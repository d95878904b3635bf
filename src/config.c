/* config.c — load etc/aiengine.yaml, apply AIENGINE_* environment overrides, and compile
 * the resource and route files it names. Never called per request. */
#include "config.h"
#include "arena.h"
#include "origin.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *path_join(const char *dir, const char *p)
{
    if (p[0] == '/') return mem_strdup(p);
    size_t n = strlen(dir) + strlen(p) + 2;
    char *s = mem_alloc(n);
    snprintf(s, n, "%s/%s", dir, p);
    return s;
}

static int get_str(struct yconf *y, yaml_node_t *map, const char *key, const char *env,
                   const char *def, char **out, struct config_error *err)
{
    const char *e = env ? getenv(env) : NULL;
    if (e) {
        *out = mem_strdup(e);
        return 0;
    }
    yaml_node_t *n = yconf_get(y, map, key);
    if (!n) {
        *out = mem_strdup(def);
        return 0;
    }
    const char *s = yconf_scalar(n);
    if (!s) {
        yconf_error(y, n, err, "'%s' must be a string", key);
        return -1;
    }
    *out = mem_strdup(s);
    return 0;
}

static int get_int(struct yconf *y, yaml_node_t *map, const char *key, const char *env,
                   long long def, long long min, long long max, long long *out,
                   struct config_error *err)
{
    const char *e = env ? getenv(env) : NULL;
    if (e) {
        char *end;
        long long v = strtoll(e, &end, 10);
        if (!*e || *end || v < min || v > max) {
            yconf_errorf(err, "%s: expected an integer between %lld and %lld", env, min, max);
            return -1;
        }
        *out = v;
        return 0;
    }
    yaml_node_t *n = yconf_get(y, map, key);
    if (!n) {
        *out = def;
        return 0;
    }
    return yconf_int(y, n, min, max, out, err);
}

static int get_bool(struct yconf *y, yaml_node_t *map, const char *key, const char *env, bool def,
                    bool *out, struct config_error *err)
{
    const char *e = env ? getenv(env) : NULL;
    if (e) {
        bool t = !strcmp(e, "1") || !strcmp(e, "true"), f = !strcmp(e, "0") || !strcmp(e, "false");
        if (!t && !f) {
            yconf_errorf(err, "%s: expected true, false, 1 or 0", env);
            return -1;
        }
        *out = t;
        return 0;
    }
    yaml_node_t *n = map ? yconf_get(y, map, key) : NULL;
    if (!n) {
        *out = def;
        return 0;
    }
    return yconf_bool(y, n, out, err);
}

/* Appends a copy of h[0..n) to app.hosts; -1 (nothing kept) when it is not a host name. */
static int add_host(struct config *c, const char *h, size_t n)
{
    char *s = mem_alloc(n + 1);
    memcpy(s, h, n);
    s[n] = '\0';
    if (!origin_pattern_valid(s)) {
        free(s);
        return -1;
    }
    c->app_hosts = mem_realloc(c->app_hosts, (c->napp_hosts + 1) * sizeof *c->app_hosts);
    c->app_hosts[c->napp_hosts++] = s;
    return 0;
}

/* app.hosts: a YAML sequence of names, or AIENGINE_APP_HOSTS as a comma-separated list. */
static int load_hosts(struct yconf *y, yaml_node_t *app, struct config *c, struct config_error *err)
{
    const char *e = getenv("AIENGINE_APP_HOSTS");
    if (e) {
        const char *p = e;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            while (n && *p == ' ') p++, n--;
            while (n && p[n - 1] == ' ') n--;
            if (n && add_host(c, p, n)) {
                yconf_errorf(err,
                             "AIENGINE_APP_HOSTS: '%.*s' is not a host name "
                             "(e.g. api.example.com or *.example.com)",
                             (int)n, p);
                return -1;
            }
            if (!comma) break;
            p = comma + 1;
        }
        return 0;
    }
    yaml_node_t *n = app ? yconf_get(y, app, "hosts") : NULL;
    if (!n) return 0;
    if (n->type != YAML_SEQUENCE_NODE) {
        yconf_error(y, n, err, "'hosts' must be a list of host names");
        return -1;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(&y->doc, *it);
        const char *s = yconf_scalar(item);
        if (!s || add_host(c, s, strlen(s))) {
            yconf_error(
                y, item, err,
                "'hosts' entries must be host names (e.g. api.example.com or *.example.com)");
            return -1;
        }
    }
    return 0;
}

/* app.key_file: the key in a file of its own (the Debian package's /etc/aiengine/app.key,
 * root:aiengine 0640, made at install), so that the YAML can stay a readable conffile.
 * Used only when app.key and AIENGINE_APP_KEY are empty; a named file that cannot be read
 * is an error, never a silent random key. */
static int load_key_file(struct yconf *y, yaml_node_t *app, const char *etc_dir, struct config *c,
                         struct config_error *err)
{
    char *name;
    if (get_str(y, app, "key_file", "AIENGINE_APP_KEY_FILE", "", &name, err)) return -1;
    if (!*name) {
        free(name);
        return 0;
    }
    char *path = path_join(etc_dir, name);
    free(name);
    char key[1024];
    size_t n = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        n = fread(key, 1, sizeof key - 1, f);
        fclose(f);
    }
    while (n && (key[n - 1] == '\n' || key[n - 1] == '\r' || key[n - 1] == ' ')) n--;
    key[n] = '\0';
    if (!f || !n) {
        yconf_errorf(err, "%s: app.key_file %s: %s", y->path, path,
                     f ? "is empty" : strerror(errno));
        free(path);
        return -1;
    }
    free(path);
    free(c->app_key);
    c->app_key = mem_strdup(key);
    return 0;
}

static struct config *load(const char *etc_dir, bool full, struct config_error *err)
{
    if (!etc_dir) etc_dir = getenv("AIENGINE_ETC");
    if (!etc_dir) etc_dir = CONFIG_DEFAULT_ETC;
    struct config *c = mem_calloc(1, sizeof *c);
    c->etc_dir = mem_strdup(etc_dir);
    char *main_path = path_join(etc_dir, "aiengine.yaml");
    struct yconf y;
    int rc = yconf_load(&y, main_path, err);
    free(main_path);
    if (rc) goto fail;

    yaml_node_t *root = yconf_root(&y);
    if (root->type != YAML_MAPPING_NODE) {
        yconf_error(&y, root, err, "expected a mapping at the top");
        goto fail;
    }
    yaml_node_t *srv = yconf_get(&y, root, "server");
    yaml_node_t *lim = yconf_get(&y, root, "limits");
    yaml_node_t *db = yconf_get(&y, root, "database");
    yaml_node_t *auth = yconf_get(&y, root, "auth");
    yaml_node_t *app = yconf_get(&y, root, "app");
    long long v;
    char *tmp;

    if (get_str(&y, srv, "listen", "AIENGINE_LISTEN", "127.0.0.1:9000", &tmp, err)) goto fail;
    /* a relative unix path is relative to etc/, like every other path in the file */
    if (!getenv("AIENGINE_LISTEN") && tmp[0] != '/' && !strchr(tmp, ':')) {
        c->listen = path_join(etc_dir, tmp);
        free(tmp);
    } else {
        c->listen = tmp;
    }
    if (get_int(&y, srv, "workers", "AIENGINE_WORKERS", 4, 1, 256, &v, err)) goto fail;
    c->workers = (int)v;
    if (get_int(&y, srv, "backlog", NULL, 1024, 1, 65535, &v, err)) goto fail;
    c->backlog = (int)v;
    if (get_int(&y, srv, "max_requests", "AIENGINE_MAX_REQUESTS", 50000, 0, LONG_MAX, &v, err))
        goto fail;
    c->max_requests = (long)v;
    if (get_int(&y, srv, "shutdown_timeout", NULL, 30, 1, 3600, &v, err)) goto fail;
    c->shutdown_timeout = (int)v;
    if (get_int(&y, srv, "request_timeout", "AIENGINE_REQUEST_TIMEOUT", 10, 1, 3600, &v, err))
        goto fail;
    c->request_timeout = (int)v;
    if (get_str(&y, srv, "socket_mode", "AIENGINE_SOCKET_MODE", "0660", &tmp, err)) goto fail;
    {
        char *end;
        long mode = strtol(tmp, &end, 8);
        bool bad = !*tmp || *end || mode < 0 || mode > 0777;
        free(tmp);
        if (bad) {
            yconf_errorf(err, "%s: server.socket_mode must be octal permission bits such as 0660",
                         getenv("AIENGINE_SOCKET_MODE") ? "AIENGINE_SOCKET_MODE" : y.path);
            goto fail;
        }
        c->socket_mode = (unsigned)mode;
    }

    if (get_int(&y, lim, "max_body_bytes", "AIENGINE_MAX_BODY_BYTES", 1048576, 1,
                1024LL * 1024 * 1024, &v, err))
        goto fail;
    c->max_body_bytes = (size_t)v;
    if (get_int(&y, lim, "max_json_depth", NULL, 32, 1, 1000, &v, err)) goto fail;
    c->max_json_depth = (int)v;
    if (get_int(&y, lim, "default_per_page", NULL, 15, 1, 10000, &v, err)) goto fail;
    c->default_per_page = (int)v;
    if (get_int(&y, lim, "max_per_page", NULL, 100, 1, 10000, &v, err)) goto fail;
    c->max_per_page = (int)v;
    if (c->default_per_page > c->max_per_page) {
        yconf_errorf(err, "%s: default_per_page is larger than max_per_page", y.path);
        goto fail;
    }
    if (get_int(&y, lim, "max_response_bytes", NULL, 64LL << 20, 4096, 1LL << 32, &v, err))
        goto fail;
    c->max_response_bytes = (size_t)v;

    if (get_str(&y, db, "host", "AIENGINE_DB_HOST", "localhost", &c->db.host, err)) goto fail;
    if (get_str(&y, db, "socket", "AIENGINE_DB_SOCKET", "", &c->db.socket, err)) goto fail;
    if (get_str(&y, db, "user", "AIENGINE_DB_USER", "aiengine", &c->db.user, err)) goto fail;
    if (get_str(&y, db, "password", "AIENGINE_DB_PASSWORD", "", &c->db.password, err)) goto fail;
    if (get_str(&y, db, "name", "AIENGINE_DB_NAME", "aiengine", &c->db.name, err)) goto fail;
    if (get_int(&y, db, "port", "AIENGINE_DB_PORT", 3306, 1, 65535, &v, err)) goto fail;
    c->db.port = (unsigned)v;
    if (get_int(&y, db, "connect_timeout", NULL, 2, 1, 600, &v, err)) goto fail;
    c->db.connect_timeout = (unsigned)v;
    if (get_int(&y, db, "read_timeout", NULL, 10, 1, 3600, &v, err)) goto fail;
    c->db.read_timeout = (unsigned)v;
    if (get_int(&y, db, "write_timeout", NULL, 10, 1, 3600, &v, err)) goto fail;
    c->db.write_timeout = (unsigned)v;
    /* A statement waiting for a row lock must give up before the client does: one the client
     * left at read_timeout went on waiting on the server, holding its transaction's locks,
     * until innodb_lock_wait_timeout (50 s by default), and the request read "unavailable".
     * 0 (the default) is half of read_timeout, between 1 and 5 seconds. */
    if (get_int(&y, db, "lock_wait_timeout", NULL, 0, 0, 3600, &v, err)) goto fail;
    if (v == 0) {
        v = c->db.read_timeout / 2;
        v = v < 1 ? 1 : v > 5 ? 5 : v;
    } else if (v >= c->db.read_timeout) {
        yconf_errorf(err,
                     "%s: database.lock_wait_timeout (%lld) must be less than "
                     "database.read_timeout (%u): a lock wait the client gives up on keeps "
                     "its transaction's locks on the server",
                     y.path, v, c->db.read_timeout);
        goto fail;
    }
    c->db.lock_wait_timeout = (unsigned)v;
    if (get_int(&y, db, "retry_after", NULL, 5, 1, 3600, &v, err)) goto fail;
    c->db.retry_after = (unsigned)v;
    if (get_int(&y, db, "statement_cache", "AIENGINE_DB_STATEMENT_CACHE", 64, 4, 128, &v, err))
        goto fail;
    c->db.statement_cache = (unsigned)v;

    if (get_int(&y, auth, "token_cache_seconds", NULL, 2, 0, 3600, &v, err)) goto fail;
    c->token_cache_seconds = (int)v;
    if (get_int(&y, auth, "last_used_interval", NULL, 60, 0, 86400, &v, err)) goto fail;
    c->last_used_interval = (int)v;
    if (get_int(&y, auth, "login_failures_per_email", "AIENGINE_LOGIN_FAILURES_PER_EMAIL", 5, 1,
                100000, &v, err))
        goto fail;
    c->login.failures_per_email = (int)v;
    if (get_int(&y, auth, "login_failures_per_address", "AIENGINE_LOGIN_FAILURES_PER_ADDRESS", 30,
                1, 100000, &v, err))
        goto fail;
    c->login.failures_per_address = (int)v;
    if (get_int(&y, auth, "login_window_seconds", NULL, 900, 1, 86400, &v, err)) goto fail;
    c->login.window_seconds = (int)v;
    if (get_int(&y, auth, "login_token_seconds", "AIENGINE_LOGIN_TOKEN_SECONDS", 43200, 60,
                31536000, &v, err))
        goto fail;
    c->login.token_seconds = (int)v;
    if (get_str(&y, app, "key", "AIENGINE_APP_KEY", "", &c->app_key, err)) goto fail;
    if (!*c->app_key && load_key_file(&y, app, etc_dir, c, err)) goto fail;
    /* the key signs cursors (HMAC-SHA256): a short one can be guessed offline from any
     * cursor a client holds. Empty means "generate one per start" (see main.c). */
    if (*c->app_key && strlen(c->app_key) < CONFIG_MIN_APP_KEY) {
        yconf_errorf(err, "%s: app.key is %zu bytes; it must be at least %d (or empty)", y.path,
                     strlen(c->app_key), CONFIG_MIN_APP_KEY);
        goto fail;
    }
    if (get_str(&y, app, "url", "AIENGINE_APP_URL", "", &c->app_url, err)) goto fail;
    if (strlen(c->app_url) > 1 && c->app_url[strlen(c->app_url) - 1] == '/')
        c->app_url[strlen(c->app_url) - 1] = '\0';
    if (load_hosts(&y, app, c, err)) goto fail;
    if (get_bool(&y, yconf_get(&y, root, "http"), "require_if_match",
                 "AIENGINE_HTTP_REQUIRE_IF_MATCH", false, &c->require_if_match, err))
        goto fail;
    if (ratelimit_load(&y, yconf_get(&y, root, "rate_limits"), "AIENGINE_RATE_LIMITS",
                       &c->rate_limits, err))
        goto fail;
    if (get_int(&y, yconf_get(&y, root, "log"), "slow_ms", "AIENGINE_SLOW_MS", 0, 0, 3600000, &v,
                err))
        goto fail;
    c->slow_ms = (int)v;
    if (get_int(&y, yconf_get(&y, root, "list"), "count_cache_ms", "AIENGINE_LIST_COUNT_CACHE_MS",
                1000, 0, 3600000, &v, err))
        goto fail;
    c->count_cache_ms = (int)v;
    if (get_str(&y, yconf_get(&y, root, "metrics"), "engine_file", NULL,
                "../var/run/aiengine-work.metrics", &tmp, err))
        goto fail;
    if (get_bool(&y, yconf_get(&y, root, "metrics"), "enabled", "AIENGINE_METRICS", true,
                 &c->metrics_enabled, err))
        goto fail;
    c->engine_metrics = getenv("AIENGINE_ENGINE_METRICS")
                            ? mem_strdup(getenv("AIENGINE_ENGINE_METRICS"))
                            : path_join(etc_dir, tmp);
    free(tmp);

    if (get_str(&y, root, "routes", NULL, "routes.yaml", &tmp, err)) goto fail;
    c->routes_path = path_join(etc_dir, tmp);
    free(tmp);
    if (get_str(&y, root, "resources", NULL, "resources.yaml", &tmp, err)) goto fail;
    c->resources_path = path_join(etc_dir, tmp);
    free(tmp);
    if (getenv("AIENGINE_MIGRATIONS")) {
        c->migrations_dir = mem_strdup(getenv("AIENGINE_MIGRATIONS"));
    } else {
        if (get_str(&y, root, "migrations", NULL, "../db/migrations", &tmp, err)) goto fail;
        c->migrations_dir = path_join(etc_dir, tmp);
        free(tmp);
    }
    yconf_free(&y);

    if (full) {
        c->resources = resource_set_load(c->resources_path, err);
        if (!c->resources) goto fail_nodoc;
        c->router = router_load(c->routes_path, c->resources, err);
        if (!c->router) goto fail_nodoc;
    }
    return c;

fail:
    yconf_free(&y);
fail_nodoc:
    config_free(c);
    return NULL;
}

struct config *config_load(const char *etc_dir, struct config_error *err)
{
    return load(etc_dir, true, err);
}

struct config *config_load_base(const char *etc_dir, struct config_error *err)
{
    return load(etc_dir, false, err);
}

void config_free(struct config *c)
{
    if (!c) return;
    router_free(c->router);
    resource_set_free(c->resources);
    free(c->etc_dir);
    free(c->listen);
    free(c->db.host);
    free(c->db.socket);
    free(c->db.user);
    free(c->db.password);
    free(c->db.name);
    free(c->app_key);
    free(c->app_url);
    for (size_t i = 0; i < c->napp_hosts; i++) free(c->app_hosts[i]);
    free(c->app_hosts);
    free(c->routes_path);
    free(c->resources_path);
    free(c->migrations_dir);
    free(c->engine_metrics);
    free(c);
}
