/* router.h — etc/routes.yaml compiled into a matcher.
 *
 * A route is method + path pattern ("/api/workflows/{id}/steps") → handler, with the
 * resource/relation it serves and the auth it needs. Matching splits the path into
 * segments and compares against each compiled pattern; {id} matches decimal digits only.
 * The table is built once and read-only; requests never allocate in here. */
#ifndef AIENGINE_ROUTER_H
#define AIENGINE_ROUTER_H

#include "resource.h"
#include "yconf.h"

#include <stdbool.h>
#include <stddef.h>

enum handler_kind {
    HANDLER_HEALTH,
    HANDLER_INDEX,
    HANDLER_STORE,
    HANDLER_SHOW,
    HANDLER_UPDATE,
    HANDLER_DESTROY,
    HANDLER_RELATION,
    HANDLER_OPENAPI,
    HANDLER_TRIGGER_EVENT, /* POST /api/events: runs of every matching workflow (runs_api.c) */
    HANDLER_START_RUN,     /* POST /api/workflows/{id}/runs: one run of a workflow */
    HANDLER_CANCEL_RUN,    /* POST /api/workflow-runs/{id}/cancel */
    HANDLER_RETRY_RUN,     /* POST /api/workflow-runs/{id}/retry */
    HANDLER_METRICS,       /* GET /api/metrics: Prometheus text (metrics.c) */
    HANDLER_LOGIN,         /* POST /api/auth/login: password → token (login.c) */
    HANDLER_LOGOUT,        /* POST /api/auth/logout: revoke the caller's token */
};

#define ROUTE_MAX_SEGMENTS 8
#define ROUTE_MAX_PARAMS 4

struct route {
    char *method; /* "GET", ... */
    char *path;   /* as written */
    enum handler_kind handler;
    const struct resource *resource; /* NULL for health */
    const struct relation *relation; /* HANDLER_RELATION */
    bool auth;
    char *ability; /* NULL only when !auth; an explicit route without ability: gets "read"
                    * for GET/HEAD and "write" otherwise */
    /* compiled pattern: literal segments, or NULL for a parameter */
    char *segments[ROUTE_MAX_SEGMENTS];
    size_t nsegments;
    int line;        /* in routes.yaml, for `aiengine routes` */
    bool reads_body; /* the dispatcher parses the JSON body first (store, update, intake, login) */
    /* `body:` field → Laravel rules, compiled with routes.yaml: the body contract of a
     * handler that reads JSON outside the CRUD engine (the engine's intake, sign-in); the
     * dispatcher checks it before the handler runs (one 422 for every field) */
    struct route_body_rule {
        char *field;
        struct rule_set rules;
    } * body;
    size_t nbody;
};

struct router {
    struct route *routes;
    size_t n;
};

enum router_status { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_METHOD_NOT_ALLOWED };

struct route_match {
    const struct route *route;
    const char *params[ROUTE_MAX_PARAMS]; /* point into the caller's path copy */
    size_t nparams;
    char allow[64];   /* "GET, HEAD, POST" when ROUTER_METHOD_NOT_ALLOWED */
    bool path_public; /* some route on this path needs no auth */
};

/* Compile routes.yaml against an already compiled resource set. Returns a router the
 * caller owns (router_free) or NULL with err = "file:line: reason". */
struct router *router_load(const char *path, const struct resource_set *resources,
                           struct config_error *err);
void router_free(struct router *r);

/* Match `method` and `path`. `path` is modified (segments are NUL-split) and must outlive
 * the match. HEAD matches GET routes. A single trailing slash is ignored. */
enum router_status router_match(const struct router *r, const char *method, char *path,
                                struct route_match *m);

const char *router_handler_name(enum handler_kind h);

#endif
