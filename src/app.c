/* app.c — per-request dispatch (route → auth → ability → body → handler) and the one
 * table that turns an error kind into an HTTP status and a JSON body. The only place that
 * maps errors to HTTP; handlers and everything below report kinds (req.h). */
#include "app.h"
#include "auth.h"
#include "config.h"
#include "crud.h"
#include "db.h"
#include "etag.h"
#include "idem.h"
#include "jsonbody.h"
#include "log.h"
#include "metrics.h"
#include "query.h"
#include "openapi.h"
#include "login.h"
#include "rules.h"
#include "runs_api.h"
#include "stats.h"
#include "throttle.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    enum req_error_kind kind;
    int status;
    const char *message;
} error_table[] = {
    {REQ_E_BAD_REQUEST, 400, "Bad request."},
    {REQ_E_UNAUTHENTICATED, 401, "Unauthenticated."},
    {REQ_E_FORBIDDEN, 403, "This action is unauthorized."},
    {REQ_E_NOT_FOUND, 404, "Not found."},
    {REQ_E_METHOD_NOT_ALLOWED, 405, "Method not allowed."},
    {REQ_E_CONFLICT, 409, "Conflict."},
    {REQ_E_TOO_LARGE, 413, "The request body is too large."},
    {REQ_E_UNSUPPORTED_MEDIA, 415, "Request bodies must be JSON (Content-Type: application/json)."},
    {REQ_E_INVALID, 422, "The given data was invalid."},
    {REQ_E_PRECONDITION_FAILED, 412, "Precondition failed."},
    {REQ_E_PRECONDITION_REQUIRED, 428, "Precondition required."},
    {REQ_E_INTERNAL, 500, "Server error."},
    {REQ_E_UNAVAILABLE, 503, "The service is temporarily unavailable. Please retry."},
    {REQ_E_TOO_MANY, 429, "Too Many Attempts."},
};

static int error_status(enum req_error_kind kind)
{
    for (size_t i = 0; i < sizeof error_table / sizeof error_table[0]; i++)
        if (error_table[i].kind == kind) return error_table[i].status;
    return 500;
}

static const char *default_message(enum req_error_kind kind)
{
    for (size_t i = 0; i < sizeof error_table / sizeof error_table[0]; i++)
        if (error_table[i].kind == kind) return error_table[i].message;
    return "Server error.";
}

const char *app_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

void app_write_error(struct ctx *c)
{
    struct req_error *e = &c->err;
    c->status = error_status(e->kind);
    buf_reset(c->out);
    if (e->kind == REQ_E_UNAVAILABLE)
        buf_printf(c->headers, "Retry-After: %u\r\n", c->cfg->db.retry_after);
    if (e->kind == REQ_E_INVALID && e->nfields) {
        const char *first = e->fields[0].messages[0];
        buf_puts(c->out, "{\"message\":");
        if (e->nmessages > 1) {
            char msg[1200];
            size_t more = e->nmessages - 1;
            snprintf(msg, sizeof msg, "%s (and %zu more error%s)", first, more,
                     more == 1 ? "" : "s");
            buf_json_cstr(c->out, msg);
        } else {
            buf_json_cstr(c->out, first);
        }
        buf_puts(c->out, ",\"errors\":{");
        for (size_t i = 0; i < e->nfields; i++) {
            if (i) buf_putc(c->out, ',');
            buf_json_cstr(c->out, e->fields[i].field);
            buf_puts(c->out, ":[");
            for (size_t j = 0; j < e->fields[i].n; j++) {
                if (j) buf_putc(c->out, ',');
                buf_json_cstr(c->out, e->fields[i].messages[j]);
            }
            buf_putc(c->out, ']');
        }
        buf_puts(c->out, "}}");
        return;
    }
    buf_puts(c->out, "{\"message\":");
    buf_json_cstr(c->out, e->message ? e->message : default_message(e->kind));
    buf_putc(c->out, '}');
}

static bool is_json_type(const char *ct)
{
    if (!ct) return false;
    while (*ct == ' ') ct++;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) n--;
    if (n == 16 && !strncasecmp(ct, "application/json", 16)) return true;
    /* application/vnd.something+json, as Laravel's isJson() accepts */
    return n > 5 && !strncasecmp(ct + n - 5, "+json", 5) && !strncasecmp(ct, "application/", 12);
}

static void json_put(void *obj)
{
    json_object_put(obj);
}

static int parse_body(struct ctx *c)
{
    const struct http_request *r = c->req;
    if (!is_json_type(r->content_type)) return req_fail(c, REQ_E_UNSUPPORTED_MEDIA, NULL);
    json_object *obj;
    const char *why;
    if (jsonbody_parse(r->body, r->body_len, c->cfg->max_json_depth, c->arena, &obj, &why))
        return req_fail(c, REQ_E_BAD_REQUEST, why);
    arena_on_reset(c->arena, json_put, obj);
    c->body_json = obj;
    return 0;
}

struct field_check {
    struct ctx *c;
    const char *field;
};

static void field_fail(void *ud, const char *message)
{
    struct field_check *fc = ud;
    req_invalid(fc->c, fc->field, message);
}

/* The route's `body:` rules (routes.yaml, compiled at start-up): every field checked, one 422
 * naming each that fails, before the handler sees the body. */
static int check_body(struct ctx *c)
{
    const struct route *rt = c->match.route;
    for (size_t i = 0; i < rt->nbody; i++) {
        const struct route_body_rule *b = &rt->body[i];
        json_object *v = NULL;
        bool present = json_object_object_get_ex(c->body_json, b->field, &v);
        struct field_check fc = {c, b->field};
        struct rules_env env = {NULL, field_fail, &fc, false};
        char label[64];
        rules_label(b->field, label, sizeof label);
        rules_check(&b->rules, label, present, v, &env);
    }
    return c->err.kind == REQ_E_NONE ? 0 : -1;
}

static int handle_health(struct ctx *c)
{
    struct db_result res;
    int s = db_query(c->db, c->arena, "SELECT 1", NULL, 0, &res);
    if (s != DB_OK) {
        c->status = 503;
        buf_printf(c->headers, "Retry-After: %u\r\n", c->cfg->db.retry_after);
        buf_puts(c->out, "{\"status\":\"degraded\",\"database\":\"unavailable\"}");
        return 0;
    }
    c->status = 200;
    buf_puts(c->out, "{\"status\":\"ok\",\"database\":\"ok\"}");
    return 0;
}

static int handle_openapi(struct ctx *c)
{
    /* generated on the worker's first request for it, then served from the worker's copy */
    if (c->openapi->len == 0) openapi_write(c->cfg, c->openapi);
    c->status = 200;
    buf_append(c->out, c->openapi->data, c->openapi->len);
    return 0;
}

static int handle(struct ctx *c)
{
    switch (c->match.route->handler) {
    case HANDLER_HEALTH: return handle_health(c);
    case HANDLER_INDEX: return crud_index(c);
    case HANDLER_SHOW: return crud_show(c);
    case HANDLER_STORE: return crud_store(c);
    case HANDLER_UPDATE: return crud_update(c);
    case HANDLER_DESTROY: return crud_destroy(c);
    case HANDLER_RELATION: return crud_relation(c);
    case HANDLER_OPENAPI: return handle_openapi(c);
    case HANDLER_TRIGGER_EVENT: return runs_api_trigger_event(c);
    case HANDLER_START_RUN: return runs_api_start_run(c);
    case HANDLER_CANCEL_RUN: return runs_api_cancel(c);
    case HANDLER_RETRY_RUN: return runs_api_retry(c);
    case HANDLER_METRICS: return metrics_handle(c);
    case HANDLER_LOGIN: return login_handle_login(c);
    case HANDLER_LOGOUT: return login_handle_logout(c);
    }
    return req_fail(c, REQ_E_INTERNAL, NULL);
}

static int dispatch(struct ctx *c, struct idem_claim *claim)
{
    struct http_request *r = c->req;
    enum router_status rs = router_match(c->cfg->router, r->method, r->path, &c->match);
    const struct route *rt = c->match.route;
    bool public = (rs == ROUTER_FOUND && !rt->auth) || (rs != ROUTER_FOUND && c->match.path_public);
    /* authentication first: an anonymous caller learns nothing about which ids exist */
    if (!public && throttle_before_auth(c)) return -1;
    if (!public && auth_authenticate(c)) {
        if (c->err.kind == REQ_E_UNAUTHENTICATED) throttle_auth_failed(c);
        return -1;
    }
    if (rs == ROUTER_NOT_FOUND)
        return req_failf(c, REQ_E_NOT_FOUND, "The route %s could not be found.", r->raw_path);
    if (rs == ROUTER_METHOD_NOT_ALLOWED) {
        buf_printf(c->headers, "Allow: %s\r\n", c->match.allow);
        return req_failf(c, REQ_E_METHOD_NOT_ALLOWED,
                         "The %s method is not supported for route %s. Supported methods: %s.",
                         r->method, r->raw_path, c->match.allow);
    }
    if (rt->auth && !auth_can(c->token, rt->ability))
        return req_failf(c, REQ_E_FORBIDDEN, "This token does not have the '%s' ability.",
                         rt->ability);
    if (rt->auth && throttle_check(c)) return -1;
    if (rt->reads_body && (parse_body(c) || check_body(c))) return -1;
    int replayed = idem_begin(c, claim);
    if (replayed) return replayed < 0 ? -1 : 0;
    if (handle(c)) return -1;
    return etag_respond(c);
}

void app_handle(struct ctx *c)
{
    c->status = 200;
    memset(&c->err, 0, sizeof c->err);
    struct idem_claim claim = {0};
    if (dispatch(c, &claim)) {
        if (c->err.kind == REQ_E_NONE) c->err.kind = REQ_E_INTERNAL;
        if (db_in_transaction(c->db)) db_rollback(c->db);
        app_write_error(c);
    }
    if (c->out->overflow) {
        log_error("response for %s %s exceeded max_response_bytes", c->req->method,
                  c->req->raw_path);
        buf_reset(c->out);
        memset(&c->err, 0, sizeof c->err);
        req_fail(c, REQ_E_INTERNAL, "The response is too large; ask for a smaller page.");
        app_write_error(c);
    }
    idem_finish(c, &claim);
    /* every write is committed or rolled back by now and nothing is sent yet: a list that
     * follows this response must not be answered from a count taken before it */
    stats_request_done(c->stats, c->req->method);
}
