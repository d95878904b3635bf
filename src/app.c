/* app.c — per-request dispatch (route → auth → ability → body → handler) and the one
 * table that turns an error kind into an HTTP status and a JSON body. The only place that
 * maps errors to HTTP; handlers and everything below report kinds (req.h). */
#include "app.h"
#include "auth.h"
#include "config.h"
#include "crud.h"
#include "db.h"
#include "log.h"
#include "query.h"
#include "openapi.h"

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
    {REQ_E_INTERNAL, 500, "Server error."},
    {REQ_E_UNAVAILABLE, 503, "The service is temporarily unavailable. Please retry."},
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
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
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
            snprintf(msg, sizeof msg, "%s (and %zu more error%s)", first, more, more == 1 ? "" : "s");
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

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9') v |= ch - '0';
        else if (ch >= 'a' && ch <= 'f') v |= ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F') v |= ch - 'A' + 10;
        else return -1;
    }
    return v;
}

/* RFC 8259's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return false;
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    else return false;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return false;
    }
    return i == n;
}

/* What json-c lets through but RFC 8259 and MariaDB do not: raw control characters in
 * strings, unpaired \uD800-\uDFFF escapes (json-c would store U+FFFD, not what the
 * client sent), number literals outside the grammar (1., .5, 01, +1), bare words other
 * than true/false/null (NaN, Infinity), and \u0000 inside a member name (json-c keys are
 * C strings: "name\u0000x" would silently become "name"). Returns a message or NULL.
 * Runs only on bodies json-c accepted, so the overall structure is sound. */
static const char *strict_scan(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"') {
            bool nul = false;
            for (i++; i < n && s[i] != '"'; i++) {
                ch = (unsigned char)s[i];
                if (ch < 0x20)
                    return "The request body is not valid JSON: a control character in a string "
                           "must be escaped.";
                if (ch != '\\' || i + 1 >= n) continue;
                if (s[i + 1] != 'u' || i + 5 >= n) {
                    i++;
                    continue;
                }
                int u = hex4(s + i + 2);
                nul |= u == 0;
                bool lone = u >= 0xdc00 && u <= 0xdfff;
                if (u >= 0xd800 && u <= 0xdbff) {
                    int lo = i + 11 < n && s[i + 6] == '\\' && s[i + 7] == 'u' ? hex4(s + i + 8) : -1;
                    lone = lo < 0xdc00 || lo > 0xdfff;
                    if (!lone) i += 6;
                }
                if (lone)
                    return "The request body is not valid UTF-8: it has an unpaired \\u surrogate "
                           "escape.";
                i += 5;
            }
            if (nul) {
                size_t k = i + 1;
                while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r')) k++;
                if (k < n && s[k] == ':')
                    return "The request body has a member name containing \\u0000.";
            }
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            size_t k = i;
            while (k < n && strchr("+-.eE0123456789", s[k]) && s[k]) k++;
            if (!json_number_ok(s + i, k - i))
                return "The request body is not valid JSON: a malformed number.";
            i = k - 1;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
            size_t k = i;
            while (k < n && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z'))) k++;
            size_t len = k - i;
            if (!((len == 4 && !memcmp(s + i, "true", 4)) || (len == 5 && !memcmp(s + i, "false", 5)) ||
                  (len == 4 && !memcmp(s + i, "null", 4))))
                return "The request body is not valid JSON: only true, false and null are bare "
                       "words (no NaN or Infinity).";
            i = k - 1;
        }
    }
    return NULL;
}

/* What json-c's tree still hides: containers nested deeper than max_depth (json-c counts a scalar inside the innermost container as a
 * level too, so its own limit is set one higher and containers are counted here, the way
 * MariaDB's json_valid counts them). Returns a message or NULL. */
static const char *check_tree(json_object *o, int level, int max_depth)
{
    switch (json_object_get_type(o)) {
    case json_type_array:
        if (level > max_depth) return "";
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            const char *why = check_tree(json_object_array_get_idx(o, i), level + 1, max_depth);
            if (why) return why;
        }
        return NULL;
    case json_type_object: {
        if (level > max_depth) return "";
        json_object_object_foreach(o, key, val) {
            (void)key;
            const char *why = check_tree(val, level + 1, max_depth);
            if (why) return why;
        }
        return NULL;
    }
    default:
        return NULL;
    }
}

static void json_put(void *obj)
{
    json_object_put(obj);
}

static int parse_body(struct ctx *c)
{
    const struct http_request *r = c->req;
    if (!is_json_type(r->content_type)) return req_fail(c, REQ_E_UNSUPPORTED_MEDIA, NULL);
    /* json-c's UTF-8 check lets overlong forms, surrogates and code points past U+10FFFF
     * through, which MariaDB would then refuse: validate strictly first */
    if (memchr(r->body, '\0', r->body_len))
        return req_fail(c, REQ_E_BAD_REQUEST, "The request body is not valid JSON: it has a NUL byte.");
    if (!query_utf8_valid(r->body, r->body_len))
        return req_fail(c, REQ_E_BAD_REQUEST, "The request body is not valid UTF-8.");
    /* json-c's depth also counts a scalar inside the innermost container; containers are
     * counted exactly by check_tree below */
    struct json_tokener *tok = json_tokener_new_ex(c->cfg->max_json_depth + 1);
    if (!tok) mem_oom_abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *obj = NULL;
    enum json_tokener_error jerr = json_tokener_error_parse_eof;
    if (r->body_len > 0) {
        obj = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
        jerr = json_tokener_get_error(tok);
        if (jerr == json_tokener_continue) jerr = json_tokener_error_parse_eof;
    }
    size_t used = obj ? json_tokener_get_parse_end(tok) : 0;
    json_tokener_free(tok);
    if (!obj || jerr != json_tokener_success) {
        if (obj) json_object_put(obj);
        if (jerr == json_tokener_error_depth)
            return req_failf(c, REQ_E_BAD_REQUEST, "The request body nests deeper than %d levels.",
                             c->cfg->max_json_depth);
        if (jerr == json_tokener_error_parse_utf8_string)
            return req_fail(c, REQ_E_BAD_REQUEST, "The request body is not valid UTF-8.");
        return req_failf(c, REQ_E_BAD_REQUEST, "The request body is not valid JSON: %s.",
                         r->body_len ? json_tokener_error_desc(jerr) : "it is empty");
    }
    for (size_t i = used; i < r->body_len; i++) {
        char ch = r->body[i];
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
            json_object_put(obj);
            return req_fail(c, REQ_E_BAD_REQUEST,
                            "The request body is not valid JSON: unexpected data after the value.");
        }
    }
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return req_fail(c, REQ_E_BAD_REQUEST, "The request body must be a JSON object.");
    }
    const char *why = strict_scan(r->body, r->body_len);
    if (!why) why = check_tree(obj, 1, c->cfg->max_json_depth);
    if (why && !*why)
        why = arena_printf(c->arena, "The request body nests deeper than %d levels.",
                           c->cfg->max_json_depth);
    if (why) {
        json_object_put(obj);
        return req_fail(c, REQ_E_BAD_REQUEST, why);
    }
    arena_on_reset(c->arena, json_put, obj);
    c->body_json = obj;
    return 0;
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

static int dispatch(struct ctx *c)
{
    struct http_request *r = c->req;
    enum router_status rs = router_match(c->cfg->router, r->method, r->path, &c->match);
    const struct route *rt = c->match.route;
    bool public = (rs == ROUTER_FOUND && !rt->auth) || (rs != ROUTER_FOUND && c->match.path_public);
    /* authentication first: an anonymous caller learns nothing about which ids exist */
    if (!public && auth_authenticate(c)) return -1;
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
    bool write = rt->handler == HANDLER_STORE || rt->handler == HANDLER_UPDATE;
    if (write && parse_body(c)) return -1;
    switch (rt->handler) {
    case HANDLER_HEALTH: return handle_health(c);
    case HANDLER_INDEX: return crud_index(c);
    case HANDLER_SHOW: return crud_show(c);
    case HANDLER_STORE: return crud_store(c);
    case HANDLER_UPDATE: return crud_update(c);
    case HANDLER_DESTROY: return crud_destroy(c);
    case HANDLER_RELATION: return crud_relation(c);
    case HANDLER_OPENAPI: return handle_openapi(c);
    }
    return req_fail(c, REQ_E_INTERNAL, NULL);
}

void app_handle(struct ctx *c)
{
    c->status = 200;
    memset(&c->err, 0, sizeof c->err);
    if (dispatch(c)) {
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
}
