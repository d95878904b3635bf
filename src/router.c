/* router.c — compile etc/routes.yaml and match requests against it.
 *
 * The table is short (tens of routes), so matching is a linear scan over pre-split
 * patterns: no allocation and no regex per request. A path that matches some route with
 * another method gives 405 and the Allow list, as Laravel does. */
#include "router.h"
#include "arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum handler_kind kind;
    bool reads_body;  /* the dispatcher parses a JSON body for it (route->reads_body) */
    bool needs_rules; /* it reads fields outside the CRUD engine: routes.yaml must give body: */
} handler_names[] = {
    {"health", HANDLER_HEALTH, false, false},
    {"index", HANDLER_INDEX, false, false},
    {"store", HANDLER_STORE, true, false},
    {"show", HANDLER_SHOW, false, false},
    {"update", HANDLER_UPDATE, true, false},
    {"destroy", HANDLER_DESTROY, false, false},
    {"relation", HANDLER_RELATION, false, false},
    {"openapi", HANDLER_OPENAPI, false, false},
    {"trigger_event", HANDLER_TRIGGER_EVENT, true, true},
    {"start_run", HANDLER_START_RUN, true, true},
    {"cancel_run", HANDLER_CANCEL_RUN, false, false},
    {"retry_run", HANDLER_RETRY_RUN, false, false},
    {"metrics", HANDLER_METRICS, false, false},
    {"login", HANDLER_LOGIN, true, true},
    {"logout", HANDLER_LOGOUT, false, false},
};

const char *router_handler_name(enum handler_kind h)
{
    for (size_t i = 0; i < sizeof handler_names / sizeof handler_names[0]; i++)
        if (handler_names[i].kind == h) return handler_names[i].name;
    return "?";
}

static void route_free(struct route *rt)
{
    free(rt->method);
    free(rt->path);
    free(rt->ability);
    for (size_t i = 0; i < rt->nsegments; i++) free(rt->segments[i]);
    for (size_t i = 0; i < rt->nbody; i++) {
        free(rt->body[i].field);
        rules_free(&rt->body[i].rules);
    }
    free(rt->body);
}

/* body: {field: "rules", ...} → rt->body, each rule string compiled now. */
static int load_body(struct yconf *y, yaml_node_t *map, struct route *rt, struct config_error *err)
{
    if (!map || map->type != YAML_MAPPING_NODE) {
        yconf_error(y, map, err, "'body' must be a mapping of field: rules");
        return -1;
    }
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    rt->body = mem_calloc(n ? n : 1, sizeof *rt->body);
    YCONF_MAP_EACH(y, map, pair)
    {
        yaml_node_t *k = YCONF_NODE(y, pair->key), *v = YCONF_NODE(y, pair->value);
        const char *ks = yconf_scalar(k), *vs = yconf_scalar(v);
        if (!ks || !vs) {
            yconf_error(y, v, err, "body: each field's rules must be a string");
            return -1;
        }
        struct route_body_rule *b = &rt->body[rt->nbody];
        char why[128];
        if (rules_compile(vs, ks, &b->rules, why, sizeof why)) {
            yconf_error(y, v, err, "body field '%s': %s", ks, why);
            return -1;
        }
        b->field = mem_strdup(ks);
        rt->nbody++;
    }
    return 0;
}

void router_free(struct router *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) route_free(&r->routes[i]);
    free(r->routes);
    free(r);
}

static int compile_path(const char *path, struct route *rt, char *why, size_t whylen)
{
    if (path[0] != '/') {
        snprintf(why, whylen, "path must start with /");
        return -1;
    }
    const char *p = path + 1;
    size_t nparams = 0;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0) {
            snprintf(why, whylen, "empty path segment");
            return -1;
        }
        if (rt->nsegments >= ROUTE_MAX_SEGMENTS) {
            snprintf(why, whylen, "more than %d segments", ROUTE_MAX_SEGMENTS);
            return -1;
        }
        if (p[0] == '{') {
            if (len != 4 || strncmp(p, "{id}", 4)) {
                snprintf(why, whylen, "only the {id} parameter is supported");
                return -1;
            }
            if (++nparams > ROUTE_MAX_PARAMS) {
                snprintf(why, whylen, "too many parameters");
                return -1;
            }
            rt->segments[rt->nsegments++] = NULL;
        } else {
            for (size_t i = 0; i < len; i++)
                if (p[i] == '{' || p[i] == '}' || p[i] == '?' || p[i] == '%') {
                    snprintf(why, whylen, "bad character '%c' in path", p[i]);
                    return -1;
                }
            char *seg = mem_alloc(len + 1);
            memcpy(seg, p, len);
            seg[len] = '\0';
            rt->segments[rt->nsegments++] = seg;
        }
        if (!slash) break;
        p = slash + 1;
        if (!*p) {
            snprintf(why, whylen, "trailing slash");
            return -1;
        }
    }
    return 0;
}

static bool valid_method(const char *m)
{
    static const char *ok[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcmp(m, ok[i])) return true;
    return false;
}

static struct route *add_route(struct router *r, size_t *cap)
{
    if (r->n == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        r->routes = mem_realloc(r->routes, *cap * sizeof *r->routes);
    }
    struct route *rt = &r->routes[r->n++];
    memset(rt, 0, sizeof *rt);
    return rt;
}

static int same_pattern(const struct route *a, const struct route *b)
{
    if (a->nsegments != b->nsegments) return 0;
    for (size_t i = 0; i < a->nsegments; i++) {
        if (!a->segments[i] != !b->segments[i]) return 0;
        if (a->segments[i] && strcmp(a->segments[i], b->segments[i])) return 0;
    }
    return 1;
}

static int finish_route(struct yconf *y, yaml_node_t *at, struct router *r, struct route *rt,
                        struct config_error *err)
{
    char why[128];
    if (compile_path(rt->path, rt, why, sizeof why)) {
        yconf_error(y, at, err, "path '%s': %s", rt->path, why);
        return -1;
    }
    for (size_t i = 0; i + 1 < r->n; i++)
        if (!strcmp(r->routes[i].method, rt->method) && same_pattern(&r->routes[i], rt)) {
            yconf_error(y, at, err, "%s %s is declared twice (first at line %d)", rt->method,
                        rt->path, r->routes[i].line);
            return -1;
        }
    bool needs_resource = rt->handler != HANDLER_HEALTH && rt->handler != HANDLER_OPENAPI &&
                          rt->handler != HANDLER_METRICS && rt->handler != HANDLER_LOGIN &&
                          rt->handler != HANDLER_LOGOUT;
    if (needs_resource && !rt->resource) {
        yconf_error(y, at, err, "handler '%s' needs a resource", router_handler_name(rt->handler));
        return -1;
    }
    bool needs_id = rt->handler == HANDLER_SHOW || rt->handler == HANDLER_UPDATE ||
                    rt->handler == HANDLER_DESTROY || rt->handler == HANDLER_RELATION ||
                    rt->handler == HANDLER_START_RUN || rt->handler == HANDLER_CANCEL_RUN ||
                    rt->handler == HANDLER_RETRY_RUN;
    size_t nparams = 0;
    for (size_t i = 0; i < rt->nsegments; i++)
        if (!rt->segments[i]) nparams++;
    if (needs_id != (nparams == 1)) {
        yconf_error(y, at, err, "handler '%s' %s an {id} in its path",
                    router_handler_name(rt->handler), needs_id ? "needs" : "takes no");
        return -1;
    }
    for (size_t i = 0; i < sizeof handler_names / sizeof handler_names[0]; i++) {
        if (handler_names[i].kind != rt->handler) continue;
        rt->reads_body = handler_names[i].reads_body;
        if (handler_names[i].needs_rules && !rt->body) {
            yconf_error(y, at, err, "handler '%s' needs body: (its fields' rules)",
                        router_handler_name(rt->handler));
            return -1;
        }
    }
    if (rt->body && !rt->reads_body) {
        yconf_error(y, at, err,
                    "handler '%s' reads no body: remove body:", router_handler_name(rt->handler));
        return -1;
    }
    return 0;
}

static int expand_api_resource(struct yconf *y, yaml_node_t *item, const char *name,
                               const struct resource_set *resources, struct router *r, size_t *cap,
                               struct config_error *err)
{
    const struct resource *res = resource_find(resources, name);
    if (!res) {
        yconf_error(y, item, err, "api_resource: no resource named '%s' in resources.yaml", name);
        return -1;
    }
    const char *read = "read", *write = "write";
    yaml_node_t *ab = yconf_get(y, item, "abilities");
    if (ab) {
        if (yconf_get(y, ab, "read")) read = yconf_scalar(yconf_get(y, ab, "read"));
        if (yconf_get(y, ab, "write")) write = yconf_scalar(yconf_get(y, ab, "write"));
        if (!read || !write) {
            yconf_error(y, ab, err, "abilities: read and write must be strings");
            return -1;
        }
    }
    /* only: [index, show, ...] keeps some of the five actions (a read-only resource); the
     * others are not routes, so their methods answer 405 with the Allow list */
    bool keep[5] = {true, true, true, true, true};
    static const char *const actions[] = {"index", "store", "show", "update", "destroy"};
    yaml_node_t *only = yconf_get(y, item, "only");
    if (only) {
        if (only->type != YAML_SEQUENCE_NODE) {
            yconf_error(y, only, err,
                        "only: expected a list of index, store, show, update, destroy");
            return -1;
        }
        memset(keep, 0, sizeof keep);
        YCONF_SEQ_EACH(y, only, it)
        {
            yaml_node_t *v = YCONF_NODE(y, *it);
            const char *a = yconf_scalar(v);
            bool known = false;
            for (size_t k = 0; a && k < 5; k++)
                if (!strcmp(a, actions[k])) keep[k] = known = true;
            if (!known) {
                yconf_error(y, v, err,
                            "only: unknown action '%s' (index, store, show, update, "
                            "destroy)",
                            a ? a : "?");
                return -1;
            }
        }
    }
    YCONF_MAP_EACH(y, item, pair)
    {
        const char *k = yconf_scalar(YCONF_NODE(y, pair->key));
        if (!k || (strcmp(k, "api_resource") && strcmp(k, "abilities") && strcmp(k, "only"))) {
            yconf_error(y, YCONF_NODE(y, pair->key), err,
                        "api_resource: unknown key '%s' (abilities, only)", k ? k : "?");
            return -1;
        }
    }
    static const struct {
        const char *method;
        bool member;
        enum handler_kind h;
        bool write;
        size_t action;
    } five[] = {
        {"GET", false, HANDLER_INDEX, false, 0},  {"POST", false, HANDLER_STORE, true, 1},
        {"GET", true, HANDLER_SHOW, false, 2},    {"PUT", true, HANDLER_UPDATE, true, 3},
        {"PATCH", true, HANDLER_UPDATE, true, 3}, {"DELETE", true, HANDLER_DESTROY, true, 4},
    };
    for (size_t i = 0; i < sizeof five / sizeof five[0]; i++) {
        if (!keep[five[i].action]) continue;
        struct route *rt = add_route(r, cap);
        rt->method = mem_strdup(five[i].method);
        char path[160];
        snprintf(path, sizeof path, "/api/%s%s", name, five[i].member ? "/{id}" : "");
        rt->path = mem_strdup(path);
        rt->handler = five[i].h;
        rt->resource = res;
        rt->auth = true;
        rt->ability = mem_strdup(five[i].write ? write : read);
        rt->line = yconf_line(item);
        if (finish_route(y, item, r, rt, err)) return -1;
    }
    return 0;
}

struct router *router_load(const char *path, const struct resource_set *resources,
                           struct config_error *err)
{
    struct yconf y;
    struct router *r = mem_calloc(1, sizeof *r);
    size_t cap = 0;
    if (yconf_load(&y, path, err)) goto fail;
    yaml_node_t *list = yconf_get(&y, yconf_root(&y), "routes");
    if (!list || list->type != YAML_SEQUENCE_NODE) {
        yconf_error(&y, yconf_root(&y), err, "expected 'routes:' with a list of routes");
        goto fail;
    }
    YCONF_SEQ_EACH(&y, list, it)
    {
        yaml_node_t *item = YCONF_NODE(&y, *it);
        if (item->type != YAML_MAPPING_NODE) {
            yconf_error(&y, item, err, "a route must be a mapping");
            goto fail;
        }
        const char *ar = yconf_scalar(yconf_get(&y, item, "api_resource"));
        if (ar) {
            if (expand_api_resource(&y, item, ar, resources, r, &cap, err)) goto fail;
            continue;
        }
        struct route *rt = add_route(r, &cap);
        rt->line = yconf_line(item);
        rt->auth = true;
        YCONF_MAP_EACH(&y, item, pair)
        {
            yaml_node_t *k = YCONF_NODE(&y, pair->key);
            yaml_node_t *v = YCONF_NODE(&y, pair->value);
            const char *ks = yconf_scalar(k), *vs = yconf_scalar(v);
            if (!ks) continue;
            if (!strcmp(ks, "body")) {
                if (rt->body) {
                    yconf_error(&y, k, err, "'body' given twice");
                    goto fail;
                }
                if (load_body(&y, v, rt, err)) goto fail;
                continue;
            }
            if (!vs) {
                yconf_error(&y, v, err, "'%s' must be a scalar", ks);
                goto fail;
            }
            if (!strcmp(ks, "method")) {
                if (!valid_method(vs)) {
                    yconf_error(&y, v, err, "unknown method '%s'", vs);
                    goto fail;
                }
                rt->method = mem_strdup(vs);
            } else if (!strcmp(ks, "path")) {
                rt->path = mem_strdup(vs);
            } else if (!strcmp(ks, "handler")) {
                bool found = false;
                for (size_t i = 0; i < sizeof handler_names / sizeof handler_names[0]; i++)
                    if (!strcmp(vs, handler_names[i].name)) {
                        rt->handler = handler_names[i].kind;
                        found = true;
                    }
                if (!found) {
                    yconf_error(&y, v, err, "unknown handler '%s'", vs);
                    goto fail;
                }
            } else if (!strcmp(ks, "resource")) {
                rt->resource = resource_find(resources, vs);
                if (!rt->resource) {
                    yconf_error(&y, v, err, "no resource named '%s' in resources.yaml", vs);
                    goto fail;
                }
            } else if (!strcmp(ks, "relation")) {
                if (!rt->resource || !(rt->relation = resource_relation(rt->resource, vs)) ||
                    rt->relation->kind != REL_HAS_MANY) {
                    yconf_error(&y, v, err,
                                "relation '%s' is not a has_many relation of the "
                                "route's resource (write resource: before relation:)",
                                vs);
                    goto fail;
                }
            } else if (!strcmp(ks, "auth")) {
                if (yconf_bool(&y, v, &rt->auth, err)) goto fail;
            } else if (!strcmp(ks, "ability")) {
                rt->ability = mem_strdup(vs);
            } else {
                yconf_error(&y, k, err, "unknown key '%s'", ks);
                goto fail;
            }
        }
        if (!rt->method || !rt->path || !yconf_get(&y, item, "handler")) {
            yconf_error(&y, item, err, "a route needs method, path and handler");
            goto fail;
        }
        if (rt->handler == HANDLER_RELATION && !rt->relation) {
            yconf_error(&y, item, err, "handler 'relation' needs relation:");
            goto fail;
        }
        /* a route behind auth that names no ability needs the one its method implies, as
         * api_resource routes do: a read-only token must never reach a write route because
         * its author forgot a line */
        if (rt->auth && !rt->ability)
            rt->ability = mem_strdup(
                !strcmp(rt->method, "GET") || !strcmp(rt->method, "HEAD") ? "read" : "write");
        if (finish_route(&y, item, r, rt, err)) goto fail;
    }
    yconf_free(&y);
    return r;
fail:
    yconf_free(&y);
    router_free(r);
    return NULL;
}

static bool is_digits(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

/* Whether the path's segments fit the route's pattern; the {id} segments go to params. */
static bool route_fits(const struct route *rt, char *const *segs, size_t nsegs, const char **params,
                       size_t *np)
{
    *np = 0;
    if (rt->nsegments != nsegs) return false;
    for (size_t s = 0; s < nsegs; s++) {
        if (rt->segments[s]) {
            if (strcmp(rt->segments[s], segs[s])) return false;
        } else {
            if (!is_digits(segs[s])) return false;
            params[(*np)++] = segs[s];
        }
    }
    return true;
}

static void allow_add(struct route_match *m, const char *method)
{
    if (strstr(m->allow, method)) {
        /* "GET" is inside nothing else, but PUT/PATCH/POST differ: check whole words */
        const char *p = m->allow;
        size_t n = strlen(method);
        while ((p = strstr(p, method))) {
            if ((p == m->allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0')) return;
            p += n;
        }
    }
    size_t len = strlen(m->allow);
    snprintf(m->allow + len, sizeof m->allow - len, "%s%s", len ? ", " : "", method);
}

enum router_status router_match(const struct router *r, const char *method, char *path,
                                struct route_match *m)
{
    memset(m, 0, sizeof *m);
    char *segs[ROUTE_MAX_SEGMENTS + 1];
    size_t nsegs = 0;
    if (path[0] != '/') return ROUTER_NOT_FOUND;
    size_t plen = strlen(path);
    if (plen > 1 && path[plen - 1] == '/') path[--plen] = '\0';
    char *p = path + 1;
    while (*p) {
        if (nsegs > ROUTE_MAX_SEGMENTS) return ROUTER_NOT_FOUND;
        segs[nsegs++] = p;
        char *slash = strchr(p, '/');
        if (!slash) break;
        *slash = '\0';
        p = slash + 1;
        if (!*p) return ROUTER_NOT_FOUND; /* "//" or a second trailing slash */
    }
    if (nsegs > ROUTE_MAX_SEGMENTS) return ROUTER_NOT_FOUND;
    const char *want = !strcmp(method, "HEAD") ? "GET" : method;
    bool path_found = false;
    for (size_t i = 0; i < r->n; i++) {
        const struct route *rt = &r->routes[i];
        const char *params[ROUTE_MAX_PARAMS];
        size_t np;
        if (!route_fits(rt, segs, nsegs, params, &np)) continue;
        path_found = true;
        if (!rt->auth) m->path_public = true;
        if (!strcmp(rt->method, want)) {
            m->route = rt;
            memcpy(m->params, params, np * sizeof params[0]);
            m->nparams = np;
            return ROUTER_FOUND;
        }
    }
    if (!path_found) return ROUTER_NOT_FOUND;
    /* second pass for the Allow list, in a stable order */
    static const char *order[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t o = 0; o < sizeof order / sizeof order[0]; o++)
        for (size_t i = 0; i < r->n; i++) {
            const struct route *rt = &r->routes[i];
            const char *params[ROUTE_MAX_PARAMS];
            size_t np;
            const char *meth = !strcmp(order[o], "HEAD") ? "GET" : order[o];
            if (route_fits(rt, segs, nsegs, params, &np) && !strcmp(rt->method, meth))
                allow_add(m, order[o]);
        }
    return ROUTER_METHOD_NOT_ALLOWED;
}
