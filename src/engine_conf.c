/* engine_conf.c — load etc/engine.yaml with ${ENV} expansion and AIENGINE_* overrides, and
 * answer the questions the runner asks of it: which handler, which provider, what price,
 * which host may be called, how long to wait before a retry. Loading happens at start-up
 * and on SIGHUP only; the lookups are cheap and never allocate. Never reads an API key into
 * memory it keeps. */
#include "engine_conf.h"
#include "arena.h"
#include "buf.h"
#include "config.h"
#include "mem.h"
#include "yconf.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ENV_NAME_MAX 128

/* ---- scalars with ${NAME} / ${NAME:-default} ---- */

static bool env_name_char(char c, bool first)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (!first && c >= '0' && c <= '9');
}

/* Expand ${…} in s. Returns a malloc'd string, or NULL with *why set (a reason naming what
 * was wrong; static or in `whybuf`). */
static char *expand_text(const char *s, char *whybuf, size_t whylen, const char **why)
{
    struct buf b;
    buf_init(&b, 0);
    const char *p = s;
    while (*p) {
        if (p[0] != '$' || p[1] != '{') {
            buf_putc(&b, *p++);
            continue;
        }
        const char *name = p + 2, *close = strchr(name, '}');
        if (!close) {
            *why = "unclosed \"${\"";
            goto fail;
        }
        const char *e = name;
        while (e < close && env_name_char(*e, e == name)) e++;
        bool has_default = e + 1 < close && e[0] == ':' && e[1] == '-';
        if (e == name || (size_t)(e - name) >= ENV_NAME_MAX || (e != close && !has_default)) {
            snprintf(whybuf, whylen, "invalid variable \"%.*s\"", (int)(close + 1 - p), p);
            *why = whybuf;
            goto fail;
        }
        char var[ENV_NAME_MAX];
        memcpy(var, name, (size_t)(e - name));
        var[e - name] = '\0';
        const char *val = getenv(var);
        if (has_default && (!val || !*val)) {
            buf_append(&b, e + 2, (size_t)(close - e - 2));
        } else if (!val) {
            snprintf(whybuf, whylen, "environment variable %s is not set (use ${%s:-default})", var,
                     var);
            *why = whybuf;
            goto fail;
        } else {
            buf_puts(&b, val);
        }
        p = close + 1;
    }
    return b.data;
fail:
    buf_free(&b);
    return NULL;
}

/* The expanded text of a scalar node, or NULL with err set. */
static char *scalar(struct yconf *y, yaml_node_t *n, const char *what, struct config_error *err)
{
    const char *s = yconf_scalar(n);
    if (!s) {
        yconf_error(y, n, err, "%s must be a string", what);
        return NULL;
    }
    char whybuf[400];
    const char *why = "";
    char *v = expand_text(s, whybuf, sizeof whybuf, &why);
    if (!v) yconf_error(y, n, err, "%s: %s", what, why);
    return v;
}

static int parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max) return -1;
    *out = v;
    return 0;
}

/* engine.<key> (or engine.retry.<key>): the environment override, else the file, else def. */
static int get_int(struct yconf *y, yaml_node_t *map, const char *key, const char *env,
                   long long def, long long min, long long max, int *out, struct config_error *err)
{
    const char *e = getenv(env);
    long long v = def;
    if (e) {
        if (parse_int(e, min, max, &v)) {
            yconf_errorf(err, "%s: expected an integer between %lld and %lld", env, min, max);
            return -1;
        }
    } else {
        yaml_node_t *n = yconf_get(y, map, key);
        if (n) {
            char *s = scalar(y, n, key, err);
            if (!s) return -1;
            int rc = parse_int(s, min, max, &v);
            free(s);
            if (rc) {
                yconf_error(y, n, err, "%s: expected an integer between %lld and %lld", key, min,
                            max);
                return -1;
            }
        }
    }
    *out = (int)v;
    return 0;
}

/* Refuse keys a mapping should not have: a typo in etc/ is an error at load, not a default. */
static int known_keys(struct yconf *y, yaml_node_t *map, const char *const *keys, const char *where,
                      struct config_error *err)
{
    YCONF_MAP_EACH(y, map, pair)
    {
        yaml_node_t *k = YCONF_NODE(y, pair->key);
        const char *ks = yconf_scalar(k);
        bool ok = false;
        for (size_t i = 0; ks && keys[i]; i++)
            if (!strcmp(ks, keys[i])) ok = true;
        if (!ok) {
            yconf_error(y, k, err, "unknown key '%s' in %s", ks ? ks : "?", where);
            return -1;
        }
    }
    return 0;
}

/* A section: `key:` with nothing under it (an empty plain scalar) counts as absent. */
static yaml_node_t *section(struct yconf *y, yaml_node_t *map, const char *key)
{
    yaml_node_t *n = yconf_get(y, map, key);
    if (n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 &&
        n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        return NULL;
    return n;
}

static int need_map(struct yconf *y, yaml_node_t *n, const char *what, struct config_error *err)
{
    if (n && n->type != YAML_MAPPING_NODE) {
        yconf_error(y, n, err, "%s must be a mapping", what);
        return -1;
    }
    return 0;
}

/* ---- hosts and URLs ---- */

static bool reg_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static bool v6_char(char c)
{
    return isxdigit((unsigned char)c) || c == ':' || c == '.';
}

static int parse_port(const char *s, size_t n, unsigned *port)
{
    if (n == 0 || n > 5) return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v < 1 || v > 65535) return -1;
    *port = v;
    return 0;
}

/* "host", "host:port", "[v6]", "[v6]:port" (and a bare IPv6 address, every port) into host
 * (lower case, no brackets) and port (0 = every port). */
static int parse_hostport(const char *s, size_t n, char *host, size_t hostlen, unsigned *port)
{
    const char *h = s, *rest;
    size_t hl;
    *port = 0;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) return -1;
        h = s + 1;
        hl = (size_t)(close - h);
        for (size_t i = 0; i < hl; i++)
            if (!v6_char(h[i])) return -1;
        rest = close + 1;
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) {
            for (size_t i = 0; i < n; i++) /* a bare IPv6 address */
                if (!v6_char(s[i])) return -1;
            hl = n;
            rest = s + n;
        } else {
            hl = colon ? (size_t)(colon - s) : n;
            for (size_t i = 0; i < hl; i++)
                if (!reg_name_char(s[i])) return -1;
            rest = s + hl;
        }
    }
    if (hl == 0 || hl >= hostlen) return -1;
    size_t rl = n - (size_t)(rest - s);
    if (rl && (rest[0] != ':' || parse_port(rest + 1, rl - 1, port))) return -1;
    for (size_t i = 0; i < hl; i++) host[i] = (char)tolower((unsigned char)h[i]);
    host[hl] = '\0';
    return 0;
}

int engine_url_endpoint(const char *url, char *host, size_t hostlen, unsigned *port,
                        const char **why)
{
    const char *p;
    unsigned def;
    if (!strncasecmp(url, "http://", 7)) {
        p = url + 7;
        def = 80;
    } else if (!strncasecmp(url, "https://", 8)) {
        p = url + 8;
        def = 443;
    } else {
        *why = "must start with http:// or https://";
        return -1;
    }
    for (const char *q = url; *q; q++) {
        if ((unsigned char)*q <= 0x20 || *q == 0x7f) {
            *why = "contains whitespace or control characters";
            return -1;
        }
    }
    size_t n = strcspn(p, "/?#");
    if (memchr(p, '@', n)) {
        *why = "must not contain user information";
        return -1;
    }
    if (n == 0 || memchr(p, '\\', n) || memchr(p, '%', n) ||
        parse_hostport(p, n, host, hostlen, port)) {
        *why = "has no valid host[:port]";
        return -1;
    }
    if (*port == 0) *port = def;
    return 0;
}

static int add_allowed(struct engine_conf *c, const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n == 0) return 0;
    char host[256];
    unsigned port;
    if (parse_hostport(s, n, host, sizeof host, &port)) return -1;
    c->allowed_hosts =
        mem_realloc(c->allowed_hosts, (c->n_allowed_hosts + 1) * sizeof *c->allowed_hosts);
    c->allowed_hosts[c->n_allowed_hosts++] = (struct engine_endpoint){mem_strdup(host), port};
    return 0;
}

/* A comma-separated list (the environment's form, or one YAML string). */
static int add_allowed_list(struct engine_conf *c, const char *s, const char **bad, size_t *badlen)
{
    while (*s) {
        size_t n = strcspn(s, ",");
        if (add_allowed(c, s, n)) {
            *bad = s;
            *badlen = n;
            return -1;
        }
        s += n;
        if (*s == ',') s++;
    }
    return 0;
}

static int load_allowed(struct engine_conf *c, struct yconf *y, yaml_node_t *eng,
                        struct config_error *err)
{
    const char *bad;
    size_t badlen;
    const char *env = getenv("AIENGINE_ALLOWED_HOSTS");
    const char *envname = "AIENGINE_ALLOWED_HOSTS";
    if (!env) {
        env = getenv("AIENGINE_ENGINE_ALLOWED_HOSTS");
        envname = "AIENGINE_ENGINE_ALLOWED_HOSTS";
    }
    if (env) {
        if (add_allowed_list(c, env, &bad, &badlen)) {
            yconf_errorf(err, "%s: invalid host or host:port \"%.*s\"", envname, (int)badlen, bad);
            return -1;
        }
        return 0;
    }
    yaml_node_t *n = yconf_get(y, eng, "allowed_hosts");
    if (!n) return 0;
    if (n->type == YAML_SCALAR_NODE) {
        char *s = scalar(y, n, "allowed_hosts", err);
        if (!s) return -1;
        int rc = add_allowed_list(c, s, &bad, &badlen);
        if (rc) yconf_error(y, n, err, "invalid host or host:port \"%.*s\"", (int)badlen, bad);
        free(s);
        return rc;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        yconf_error(y, n, err, "allowed_hosts must be a list of host or host:port");
        return -1;
    }
    YCONF_SEQ_EACH(y, n, item)
    {
        yaml_node_t *it = YCONF_NODE(y, *item);
        char *s = scalar(y, it, "an allowed_hosts entry", err);
        if (!s) return -1;
        int rc = add_allowed(c, s, strlen(s));
        if (rc) yconf_error(y, it, err, "invalid host or host:port \"%s\"", s);
        free(s);
        if (rc) return -1;
    }
    return 0;
}

/* ---- sections ---- */

static int load_engine(struct engine_conf *c, struct yconf *y, yaml_node_t *eng,
                       struct config_error *err)
{
    static const char *const keys[] = {"workers",
                                       "concurrency",
                                       "poll_interval_ms",
                                       "lease_seconds",
                                       "step_timeout_seconds",
                                       "shutdown_timeout",
                                       "retry",
                                       "webhook_secret",
                                       "allowed_hosts",
                                       NULL};
    static const char *const retry_keys[] = {"attempts", "backoff_seconds", "max_backoff_seconds",
                                             NULL};
    if (need_map(y, eng, "engine", err)) return -1;
    if (eng && known_keys(y, eng, keys, "engine", err)) return -1;
    yaml_node_t *retry = section(y, eng, "retry");
    if (need_map(y, retry, "engine.retry", err)) return -1;
    if (retry && known_keys(y, retry, retry_keys, "engine.retry", err)) return -1;

    if (get_int(y, eng, "workers", "AIENGINE_ENGINE_WORKERS", 2, 1, 256, &c->workers, err) ||
        get_int(y, eng, "concurrency", "AIENGINE_ENGINE_CONCURRENCY", 256, 1, 65536,
                &c->concurrency, err) ||
        get_int(y, eng, "poll_interval_ms", "AIENGINE_ENGINE_POLL_INTERVAL_MS", 200, 1, 60000,
                &c->poll_interval_ms, err) ||
        get_int(y, eng, "lease_seconds", "AIENGINE_ENGINE_LEASE_SECONDS", 30, 1, 86400,
                &c->lease_seconds, err) ||
        get_int(y, eng, "step_timeout_seconds", "AIENGINE_ENGINE_STEP_TIMEOUT_SECONDS", 60, 1,
                86400, &c->step_timeout_seconds, err) ||
        get_int(y, eng, "shutdown_timeout", "AIENGINE_ENGINE_SHUTDOWN_TIMEOUT", 30, 0, 3600,
                &c->shutdown_timeout, err) ||
        get_int(y, retry, "attempts", "AIENGINE_ENGINE_RETRY_ATTEMPTS", 3, 1, 100,
                &c->retry.attempts, err) ||
        get_int(y, retry, "backoff_seconds", "AIENGINE_ENGINE_RETRY_BACKOFF_SECONDS", 5, 0, 86400,
                &c->retry.backoff_seconds, err) ||
        get_int(y, retry, "max_backoff_seconds", "AIENGINE_ENGINE_RETRY_MAX_BACKOFF_SECONDS", 300,
                0, 604800, &c->retry.max_backoff_seconds, err))
        return -1;

    const char *secret = getenv("AIENGINE_WEBHOOK_SECRET");
    if (!secret) secret = getenv("AIENGINE_ENGINE_WEBHOOK_SECRET");
    yaml_node_t *n = yconf_get(y, eng, "webhook_secret");
    if (secret) {
        c->webhook_secret = mem_strdup(secret);
    } else if (n) {
        if (!(c->webhook_secret = scalar(y, n, "webhook_secret", err))) return -1;
    } else {
        c->webhook_secret = mem_strdup("");
    }
    return load_allowed(c, y, eng, err);
}

static int load_step_types(struct engine_conf *c, struct yconf *y, yaml_node_t *map,
                           struct config_error *err)
{
    static const char *const keys[] = {"handler", "url", NULL};
    if (need_map(y, map, "step_types", err)) return -1;
    if (!map) return 0;
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    c->step_types = mem_calloc(n ? n : 1, sizeof *c->step_types);
    YCONF_MAP_EACH(y, map, pair)
    {
        yaml_node_t *k = YCONF_NODE(y, pair->key), *v = YCONF_NODE(y, pair->value);
        const char *name = yconf_scalar(k);
        if (!name || !*name) {
            yconf_error(y, k, err, "a step type needs a name");
            return -1;
        }
        struct engine_step_type *t = &c->step_types[c->n_step_types++];
        t->name = mem_strdup(name);
        if (!v || v->type != YAML_MAPPING_NODE) {
            yconf_error(y, v, err, "step type '%s' must be a mapping with a handler", name);
            return -1;
        }
        if (known_keys(y, v, keys, "a step type", err)) return -1;
        yaml_node_t *h = yconf_get(y, v, "handler");
        const char *hs = yconf_scalar(h);
        if (hs && !strcmp(hs, "ai")) {
            t->handler = ENGINE_HANDLER_AI;
        } else if (hs && !strcmp(hs, "http")) {
            t->handler = ENGINE_HANDLER_HTTP;
        } else {
            yconf_error(y, h ? h : v, err, "step type '%s': handler must be ai or http", name);
            return -1;
        }
        yaml_node_t *u = yconf_get(y, v, "url");
        if (!u) continue;
        if (t->handler != ENGINE_HANDLER_HTTP) {
            yconf_error(y, u, err, "step type '%s': only http steps have a url", name);
            return -1;
        }
        if (!(t->url = scalar(y, u, "url", err))) return -1;
        char host[256];
        const char *why;
        if (engine_url_endpoint(t->url, host, sizeof host, &t->url_at.port, &why)) {
            yconf_error(y, u, err, "step type '%s': url \"%s\" %s", name, t->url, why);
            return -1;
        }
        t->url_at.host = mem_strdup(host);
    }
    return 0;
}

static int load_providers(struct engine_conf *c, struct yconf *y, yaml_node_t *map,
                          struct config_error *err)
{
    static const char *const keys[] = {"api", "base_url", "api_key_env", "models", NULL};
    if (need_map(y, map, "providers", err)) return -1;
    if (!map) return 0;
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    c->providers = mem_calloc(n ? n : 1, sizeof *c->providers);
    YCONF_MAP_EACH(y, map, pair)
    {
        yaml_node_t *k = YCONF_NODE(y, pair->key), *v = YCONF_NODE(y, pair->value);
        const char *name = yconf_scalar(k);
        if (!name || !*name) {
            yconf_error(y, k, err, "a provider needs a name");
            return -1;
        }
        struct engine_provider *p = &c->providers[c->n_providers++];
        p->name = mem_strdup(name);
        if (!v || v->type != YAML_MAPPING_NODE) {
            yconf_error(y, v, err, "provider '%s' must be a mapping", name);
            return -1;
        }
        if (known_keys(y, v, keys, "a provider", err)) return -1;
        yaml_node_t *api = yconf_get(y, v, "api");
        const char *as = yconf_scalar(api);
        if (as && !strcmp(as, "gemini")) {
            p->api = ENGINE_API_GEMINI;
        } else if (as && !strcmp(as, "openai")) {
            p->api = ENGINE_API_OPENAI;
        } else {
            yconf_error(y, api ? api : v, err, "provider '%s': api must be gemini or openai", name);
            return -1;
        }
        /* AIENGINE_PROVIDER_<NAME>_URL: the name in upper case, other bytes as '_' */
        char env[200];
        size_t j = (size_t)snprintf(env, sizeof env, "AIENGINE_PROVIDER_");
        for (const char *q = name; *q && j < sizeof env - 5; q++)
            env[j++] = isalnum((unsigned char)*q) ? (char)toupper((unsigned char)*q) : '_';
        memcpy(env + j, "_URL", 5);
        yaml_node_t *bu = yconf_get(y, v, "base_url");
        const char *override = getenv(env);
        if (override) {
            p->base_url = mem_strdup(override);
        } else if (!bu) {
            yconf_error(y, v, err, "provider '%s' needs a base_url", name);
            return -1;
        } else if (!(p->base_url = scalar(y, bu, "base_url", err))) {
            return -1;
        }
        size_t bl = strlen(p->base_url);
        while (bl && p->base_url[bl - 1] == '/') p->base_url[--bl] = '\0';
        char host[256];
        unsigned port;
        const char *why;
        if (engine_url_endpoint(p->base_url, host, sizeof host, &port, &why)) {
            if (override)
                yconf_errorf(err, "%s: \"%s\" %s", env, p->base_url, why);
            else
                yconf_error(y, bu, err, "provider '%s': base_url \"%s\" %s", name, p->base_url,
                            why);
            return -1;
        }
        yaml_node_t *ke = yconf_get(y, v, "api_key_env");
        if (ke) {
            if (!(p->api_key_env = scalar(y, ke, "api_key_env", err))) return -1;
            bool ok = *p->api_key_env != '\0';
            for (const char *q = p->api_key_env; *q; q++)
                ok = ok && env_name_char(*q, q == p->api_key_env);
            if (!ok) {
                yconf_error(y, ke, err,
                            "provider '%s': api_key_env must name an environment "
                            "variable",
                            name);
                return -1;
            }
        }
        yaml_node_t *models = yconf_get(y, v, "models");
        if (!models || models->type != YAML_SEQUENCE_NODE ||
            models->data.sequence.items.top == models->data.sequence.items.start) {
            yconf_error(y, models ? models : v, err,
                        "provider '%s' needs models: a list of globs such as [\"gpt-*\"]", name);
            return -1;
        }
        size_t nm = (size_t)(models->data.sequence.items.top - models->data.sequence.items.start);
        p->models = mem_calloc(nm, sizeof *p->models);
        YCONF_SEQ_EACH(y, models, item)
        {
            char *g = scalar(y, YCONF_NODE(y, *item), "a models glob", err);
            if (!g) return -1;
            p->models[p->n_models++] = g;
        }
    }
    return 0;
}

/* USD per 1,000,000 tokens, "0.15" or 2, to an integer of 10^-9 USD. */
static int parse_price(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0, digits = 0, frac = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (digits >= 9) return -1; /* under a billion dollars per million tokens */
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (digits == 0) return -1;
    if (s[i] == '.') {
        for (i++; s[i] >= '0' && s[i] <= '9'; i++, frac++) {
            if (frac >= 9) return -1;
            v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (frac == 0) return -1;
    }
    if (s[i]) return -1;
    for (; frac < 9; frac++) v *= 10;
    *out = v;
    return 0;
}

static int load_prices(struct engine_conf *c, struct yconf *y, yaml_node_t *map,
                       struct config_error *err)
{
    static const char *const keys[] = {"input", "output", NULL};
    static const char *const sides[] = {"input", "output"};
    if (need_map(y, map, "prices", err)) return -1;
    if (!map) return 0;
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    c->prices = mem_calloc(n ? n : 1, sizeof *c->prices);
    YCONF_MAP_EACH(y, map, pair)
    {
        yaml_node_t *k = YCONF_NODE(y, pair->key), *v = YCONF_NODE(y, pair->value);
        const char *model = yconf_scalar(k);
        if (!model || !*model) {
            yconf_error(y, k, err, "a price needs a model name");
            return -1;
        }
        struct engine_price *p = &c->prices[c->n_prices++];
        p->model = mem_strdup(model);
        if (!v || v->type != YAML_MAPPING_NODE) {
            yconf_error(y, v, err, "price of '%s' must be { input: USD, output: USD }", model);
            return -1;
        }
        if (known_keys(y, v, keys, "a price", err)) return -1;
        for (int side = 0; side < 2; side++) {
            yaml_node_t *sn = yconf_get(y, v, sides[side]);
            if (!sn) {
                yconf_error(y, v, err, "price of '%s' needs %s", model, sides[side]);
                return -1;
            }
            char *s = scalar(y, sn, sides[side], err);
            if (!s) return -1;
            int rc = parse_price(s, side ? &p->output : &p->input);
            if (rc)
                yconf_error(y, sn, err,
                            "price of '%s': %s \"%s\" must be a decimal number of USD "
                            "per 1,000,000 tokens, at most 9 decimals",
                            model, sides[side], s);
            free(s);
            if (rc) return -1;
        }
    }
    return 0;
}

struct engine_conf *engine_conf_load(const char *path, struct config_error *err)
{
    char def[600];
    if (!path) {
        const char *etc = getenv("AIENGINE_ETC");
        snprintf(def, sizeof def, "%s/engine.yaml", etc ? etc : CONFIG_DEFAULT_ETC);
        path = def;
    }
    struct engine_conf *c = mem_calloc(1, sizeof *c);
    c->path = mem_strdup(path);
    struct yconf y;
    if (yconf_load(&y, path, err)) goto fail;
    yaml_node_t *root = yconf_root(&y);
    static const char *const keys[] = {"engine", "step_types", "providers", "prices", NULL};
    if (root->type != YAML_MAPPING_NODE) {
        yconf_error(&y, root, err, "expected a mapping at the top");
        goto fail;
    }
    if (known_keys(&y, root, keys, "engine.yaml", err) ||
        load_engine(c, &y, section(&y, root, "engine"), err) ||
        load_step_types(c, &y, section(&y, root, "step_types"), err) ||
        load_providers(c, &y, section(&y, root, "providers"), err) ||
        load_prices(c, &y, section(&y, root, "prices"), err))
        goto fail;
    yconf_free(&y);
    return c;
fail:
    yconf_free(&y);
    engine_conf_free(c);
    return NULL;
}

void engine_conf_free(struct engine_conf *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_allowed_hosts; i++) free(c->allowed_hosts[i].host);
    for (size_t i = 0; i < c->n_step_types; i++) {
        free(c->step_types[i].name);
        free(c->step_types[i].url);
        free(c->step_types[i].url_at.host);
    }
    for (size_t i = 0; i < c->n_providers; i++) {
        struct engine_provider *p = &c->providers[i];
        free(p->name);
        free(p->base_url);
        free(p->api_key_env);
        for (size_t j = 0; j < p->n_models; j++) free(p->models[j]);
        free(p->models);
    }
    for (size_t i = 0; i < c->n_prices; i++) free(c->prices[i].model);
    free(c->allowed_hosts);
    free(c->step_types);
    free(c->providers);
    free(c->prices);
    free(c->webhook_secret);
    free(c->path);
    free(c);
}

/* ---- lookups ---- */

const struct engine_step_type *engine_step_type(const struct engine_conf *c, const char *name)
{
    for (size_t i = 0; i < c->n_step_types; i++)
        if (!strcmp(c->step_types[i].name, name)) return &c->step_types[i];
    return NULL;
}

const struct engine_provider *engine_provider_for(const struct engine_conf *c, const char *model)
{
    for (size_t i = 0; i < c->n_providers; i++)
        for (size_t j = 0; j < c->providers[i].n_models; j++)
            if (fnmatch(c->providers[i].models[j], model, 0) == 0) return &c->providers[i];
    return NULL;
}

int engine_provider_key(const struct engine_provider *p, const char **key)
{
    *key = NULL;
    if (!p->api_key_env) return 0;
    const char *v = getenv(p->api_key_env);
    if (!v || !*v) return -1;
    *key = v;
    return 0;
}

const struct engine_price *engine_price_for(const struct engine_conf *c, const char *model)
{
    for (size_t i = 0; i < c->n_prices; i++)
        if (!strcmp(c->prices[i].model, model)) return &c->prices[i];
    return NULL;
}

int engine_cost_micros(const struct engine_price *p, uint64_t in_tokens, uint64_t out_tokens,
                       uint64_t *micros)
{
    /* tokens × 10^-9 USD per 10^6 tokens = 10^-15 USD; 10^9 of those make a micro-USD */
    unsigned __int128 total =
        (unsigned __int128)in_tokens * p->input + (unsigned __int128)out_tokens * p->output;
    unsigned __int128 m = (total + 500000000u) / 1000000000u;
    if (m > UINT64_MAX) return -1;
    *micros = (uint64_t)m;
    return 0;
}

char *engine_micros_format(uint64_t micros, char out[32])
{
    snprintf(out, 32, "%llu.%06llu", (unsigned long long)(micros / 1000000),
             (unsigned long long)(micros % 1000000));
    return out;
}

bool engine_host_allowed(const struct engine_conf *c, const char *host, unsigned port)
{
    for (size_t i = 0; i < c->n_allowed_hosts; i++) {
        const struct engine_endpoint *e = &c->allowed_hosts[i];
        if (!strcasecmp(e->host, host) && (e->port == 0 || e->port == port)) return true;
    }
    for (size_t i = 0; i < c->n_step_types; i++) {
        const struct engine_endpoint *e = &c->step_types[i].url_at;
        if (e->host && !strcasecmp(e->host, host) && e->port == port) return true;
    }
    return false;
}

/* ---- retries ---- */

int engine_retry_from_json(const struct engine_retry *def, const struct json_object *retry,
                           struct engine_retry *out, char *err, size_t errlen)
{
    static const struct {
        const char *key;
        long long min, max;
    } keys[] = {
        {"attempts", 1, 100}, {"backoff_seconds", 0, 86400}, {"max_backoff_seconds", 0, 604800}};
    *out = *def;
    if (!retry) return 0;
    if (!json_object_is_type(retry, json_type_object)) {
        snprintf(err, errlen, "step_config.retry must be an object");
        return -1;
    }
    json_object_object_foreach((struct json_object *)retry, k, v)
    {
        size_t i = 0;
        while (i < 3 && strcmp(keys[i].key, k)) i++;
        if (i == 3) {
            snprintf(err, errlen, "step_config.retry: unknown key \"%.64s\"", k);
            return -1;
        }
        int64_t n = json_object_get_int64(v);
        if (!json_object_is_type(v, json_type_int) || n < keys[i].min || n > keys[i].max) {
            snprintf(err, errlen, "step_config.retry.%s must be an integer between %lld and %lld",
                     k, keys[i].min, keys[i].max);
            return -1;
        }
        int *field = i == 0   ? &out->attempts
                     : i == 1 ? &out->backoff_seconds
                              : &out->max_backoff_seconds;
        *field = (int)n;
    }
    return 0;
}

long long engine_retry_delay_ms(const struct engine_retry *r, int n, long long retry_after_seconds,
                                double u)
{
    long long cap = (long long)r->max_backoff_seconds * 1000;
    long long base = (long long)r->backoff_seconds * 1000;
    for (int i = 1; i < n && base < cap; i++) base *= 2;
    if (u < 0) u = 0;
    if (u >= 1) u = 0.999999;
    long long d = (long long)((double)base * (0.8 + 0.4 * u));
    if (retry_after_seconds >= 0) {
        long long ra = retry_after_seconds > cap / 1000 ? cap : retry_after_seconds * 1000;
        if (ra > d) d = ra;
    }
    return d > cap ? cap : d;
}
