/* config.h — everything in etc/, loaded and validated as one unit.
 *
 * config_load reads aiengine.yaml, applies environment overrides, then compiles the
 * resources and routes it names. The result is read-only and owned by the caller; on
 * SIGHUP the master loads a new one and only swaps when it compiled cleanly. */
#ifndef AIENGINE_CONFIG_H
#define AIENGINE_CONFIG_H

#include "db.h"
#include "ratelimit.h"
#include "resource.h"
#include "router.h"
#include "yconf.h"

#include <stdbool.h>
#include <stddef.h>

/* Where the configuration is when neither --etc nor $AIENGINE_ETC says: ./etc in a checkout;
 * the Debian package builds with CONFIG_DEFAULT_ETC "/etc/aiengine" (Makefile ETC_DEFAULT). */
#ifndef CONFIG_DEFAULT_ETC
#define CONFIG_DEFAULT_ETC "etc"
#endif
/* `make run`'s database settings for the CLI in the same checkout (envfile.h); read only
 * while CONFIG_DEFAULT_ETC is relative, i.e. by a checkout's build. */
#define CONFIG_CHECKOUT_ENV "var/aiengine.env"

/* Shortest accepted app.key, in bytes. */
#define CONFIG_MIN_APP_KEY 32

/* Password sign-in (POST /api/auth/login): failed attempts allowed per e-mail and per
 * client address in one fixed window, the window's length, and an issued token's life. */
struct config_login {
    int failures_per_email; /* auth.login_failures_per_email (AIENGINE_LOGIN_FAILURES_PER_EMAIL) */
    int failures_per_address; /* auth.login_failures_per_address (…_PER_ADDRESS) */
    int window_seconds;       /* auth.login_window_seconds */
    int token_seconds;        /* auth.login_token_seconds (AIENGINE_LOGIN_TOKEN_SECONDS) */
};

struct config {
    char *etc_dir;
    char *listen;
    int workers;
    int backlog;
    long max_requests;
    int shutdown_timeout;
    int request_timeout;  /* seconds a FastCGI client gets to send a request, and to take the
                             response */
    unsigned socket_mode; /* permission bits of a unix listening socket */
    size_t max_body_bytes;
    int max_json_depth;
    int default_per_page, max_per_page;
    size_t max_response_bytes;
    struct config_db db;
    int token_cache_seconds;
    int last_used_interval;
    struct config_login login; /* auth.login_*: password sign-in limits (login.h) */
    char *app_key;
    char *app_url;    /* "https://api.example.com": base of links and Location; "" = origin.h */
    char **app_hosts; /* Host names accepted for links when app_url is "" (origin.h) */
    size_t napp_hosts;
    bool require_if_match; /* http.require_if_match: PUT/PATCH/DELETE need If-Match (etag.h) */
    char *routes_path, *resources_path, *migrations_dir;
    struct ratelimit_conf rate_limits; /* rate_limits: (AIENGINE_RATE_LIMITS); n == 0: none */
    int slow_ms;                       /* log.slow_ms (AIENGINE_SLOW_MS): 0 = off */
    int count_cache_ms;   /* list.count_cache_ms (AIENGINE_LIST_COUNT_CACHE_MS): 0 = count always */
    char *engine_metrics; /* metrics.engine_file (AIENGINE_ENGINE_METRICS): where `work` counts */
    bool metrics_enabled; /* metrics.enabled (AIENGINE_METRICS): count, serve /api/metrics */
    struct resource_set *resources;
    struct router *router;
};

/* etc_dir: where aiengine.yaml lives (NULL: $AIENGINE_ETC, else CONFIG_DEFAULT_ETC). Returns a
 * config the caller owns (config_free), or NULL with err set. */
struct config *config_load(const char *etc_dir, struct config_error *err);
/* Only the process/database part, without routes and resources (the CLI's migrate and
 * token commands must work even while a route file is broken). */
struct config *config_load_base(const char *etc_dir, struct config_error *err);
void config_free(struct config *c);

#endif
