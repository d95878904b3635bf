/* engine_conf.h — etc/engine.yaml: the runner's settings, the step-type table, the model
 * providers and their prices (ENGINE.md "Step handlers" and "Runner").
 *
 * Loaded once at start-up (and again on SIGHUP), read-only afterwards. Every scalar in the
 * file may use ${NAME} (or ${NAME:-default}) to read the environment at load; every scalar
 * under `engine:` may be overridden by AIENGINE_ENGINE_<KEY> (nested keys joined by '_':
 * AIENGINE_ENGINE_RETRY_BACKOFF_SECONDS), AIENGINE_WEBHOOK_SECRET and AIENGINE_ALLOWED_HOSTS
 * (comma-separated) also work, and AIENGINE_PROVIDER_<NAME>_URL replaces a provider's
 * base_url. API keys are never read here: a provider names the variable that holds its key,
 * and engine_provider_key reads it when a call is made. */
#ifndef AIENGINE_ENGINE_CONF_H
#define AIENGINE_ENGINE_CONF_H

#include "yconf.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum engine_handler { ENGINE_HANDLER_AI, ENGINE_HANDLER_HTTP };
enum engine_api { ENGINE_API_GEMINI, ENGINE_API_OPENAI };

struct engine_retry {
    int attempts;            /* total tries of a step, >= 1 */
    int backoff_seconds;     /* before the first retry; doubles each retry */
    int max_backoff_seconds; /* cap on any wait, Retry-After included */
};

/* A host (lower case, IPv6 without brackets) and a port; port 0 means every port. */
struct engine_endpoint {
    char *host;
    unsigned port;
};

struct engine_step_type {
    char *name;  /* as written in the file; matched byte for byte */
    enum engine_handler handler;
    char *url;   /* http only: the fixed url, or NULL to take step_config.url */
    struct engine_endpoint url_at; /* the url's host:port, allowed implicitly */
};

struct engine_provider {
    char *name; /* the key in `providers:`, logged as input_context.provider */
    enum engine_api api;
    char *base_url;    /* no trailing '/'; AIENGINE_PROVIDER_<NAME>_URL applied */
    char *api_key_env; /* NULL when the provider takes no key */
    char **models;     /* fnmatch globs, tried in order */
    size_t n_models;
};

/* USD per 1,000,000 tokens as an exact integer of 10^-9 USD: 0.15 is 150000000. */
struct engine_price {
    char *model;
    uint64_t input, output;
};

struct engine_conf {
    char *path;
    int workers;
    int concurrency;
    int poll_interval_ms;
    int lease_seconds;
    int step_timeout_seconds;
    int shutdown_timeout;
    struct engine_retry retry;
    char *webhook_secret; /* "" when unset */
    struct engine_endpoint *allowed_hosts;
    size_t n_allowed_hosts;
    struct engine_step_type *step_types;
    size_t n_step_types;
    struct engine_provider *providers; /* in file order: the first matching glob wins */
    size_t n_providers;
    struct engine_price *prices;
    size_t n_prices;
};

/* Load `path` (NULL: $AIENGINE_ETC/engine.yaml, else etc/engine.yaml). Returns a config the
 * caller owns (engine_conf_free), or NULL with err set to "file:line: reason" (or
 * "AIENGINE_X: reason" for a bad environment override). */
struct engine_conf *engine_conf_load(const char *path, struct config_error *err);
void engine_conf_free(struct engine_conf *c);

/* The step type called `name`, or NULL (the step fails: unknown step type). */
const struct engine_step_type *engine_step_type(const struct engine_conf *c, const char *name);

/* The first provider with a `models` glob matching `model`, or NULL. */
const struct engine_provider *engine_provider_for(const struct engine_conf *c, const char *model);

/* The provider's API key. Returns 0 with *key = NULL when the provider takes none, 0 with
 * *key pointing into the environment when its variable is set and not empty, -1 when
 * api_key_env is set but the variable is unset or empty (the step fails before any call). */
int engine_provider_key(const struct engine_provider *p, const char **key);

/* The price of `model` (exact name), or NULL: the cost is then null. */
const struct engine_price *engine_price_for(const struct engine_conf *c, const char *model);

/* (in × price.input + out × price.output) ÷ 10^6 in USD, rounded half up to 6 decimals,
 * as an integer of micro-USD. Exact (integer arithmetic). Returns 0, or -1 if it does not
 * fit 64 bits. */
int engine_cost_micros(const struct engine_price *p, uint64_t in_tokens, uint64_t out_tokens,
                       uint64_t *micros);

/* Micro-USD as a decimal(…,6) literal: 1234 -> "0.001234". Returns out. */
char *engine_micros_format(uint64_t micros, char out[32]);

/* Parse an http(s) URL strictly enough that the host checked is the host connected to:
 * no userinfo, no backslash, whitespace, control bytes or '%' in the authority, a port in
 * 1..65535 (default 80/443). Sets host (lower case, IPv6 without brackets) and *port.
 * Returns 0, or -1 with *why set to a static reason. */
int engine_url_endpoint(const char *url, char *host, size_t hostlen, unsigned *port,
                        const char **why);

/* Whether a call to host:port is allowed: an allowed_hosts entry "host" allows every port
 * of it, "host:port" only that port, and each step type's own url allows its host:port.
 * Hosts compare case-insensitively. Provider base URLs are exempt and never asked about. */
bool engine_host_allowed(const struct engine_conf *c, const char *host, unsigned port);

/* A step's retry policy: `def` with the keys of step_config.retry (an object with any of
 * attempts, backoff_seconds, max_backoff_seconds, each a non-negative integer, attempts
 * >= 1) applied. NULL or JSON null keeps def. Returns 0, or -1 with err set. */
int engine_retry_from_json(const struct engine_retry *def, const struct json_object *retry,
                           struct engine_retry *out, char *err, size_t errlen);

/* Milliseconds to wait before retry number n (1 = the first retry): backoff_seconds ×
 * 2^(n−1) scaled by a jitter factor 0.8 + 0.4 × u (u uniform in [0,1), supplied by the
 * caller so tests can pin it), or the remote side's Retry-After if larger, capped at
 * max_backoff_seconds. retry_after_seconds < 0 means none was given. */
long long engine_retry_delay_ms(const struct engine_retry *r, int n, long long retry_after_seconds,
                                double u);

#endif
