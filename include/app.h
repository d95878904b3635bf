/* app.h — one request's context and the dispatcher.
 *
 * struct ctx carries everything a handler touches: the parsed request, the arena, the
 * worker's database handle, the matched route, the authenticated token, the response
 * buffers, and the one error struct. Handlers return 0, or -1 after setting ctx->err with
 * app_fail()/app_invalid(); app_handle() turns that error into the HTTP answer in one
 * place (app_error_status). Nothing below this layer knows HTTP status codes. */
#ifndef AIENGINE_APP_H
#define AIENGINE_APP_H

#include "arena.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "router.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

enum app_error_kind {
    AE_NONE,
    AE_BAD_REQUEST,       /* 400 */
    AE_UNAUTHENTICATED,   /* 401 */
    AE_FORBIDDEN,         /* 403 */
    AE_NOT_FOUND,         /* 404 */
    AE_METHOD_NOT_ALLOWED,/* 405 */
    AE_CONFLICT,          /* 409 */
    AE_TOO_LARGE,         /* 413 */
    AE_UNSUPPORTED_MEDIA, /* 415 */
    AE_VALIDATION,        /* 422 */
    AE_INTERNAL,          /* 500 */
    AE_UNAVAILABLE,       /* 503 */
};

struct field_errors {
    const char *field;
    const char **messages;
    size_t n, cap;
};

struct app_error {
    enum app_error_kind kind;
    const char *message;         /* NULL: the kind's default message */
    struct field_errors *fields; /* 422 only, in the order first reported */
    size_t nfields, capfields;
    size_t nmessages;
};

struct http_request {
    const char *method;
    char *path;        /* decoded path, a copy the router may split */
    const char *raw_path;
    const char *query; /* raw QUERY_STRING, never NULL */
    const char *content_type;
    const char *authorization;
    const char *base_url; /* "http://host:port", for links and Location */
    const char *body;
    size_t body_len;
};

struct auth_token;
struct worker_state;

struct ctx {
    struct arena *arena;
    const struct config *cfg;
    struct db *db;
    struct worker_state *ws;
    struct http_request *req;
    struct route_match match;
    const struct auth_token *token;
    json_object *body_json; /* parsed body of writes, released by app_handle */
    struct app_error err;
    int status;
    struct buf *out;     /* response body */
    struct buf *headers; /* extra header lines, each ending "\r\n" */
};

/* Dispatch one request: route, authenticate, authorize, parse body, run the handler, and
 * on failure write the error response. Always leaves a complete response in ctx. */
void app_handle(struct ctx *c);
/* Write ctx->err as the response (status, JSON body). */
void app_write_error(struct ctx *c);

/* Set the request's error (returns -1 for `return app_fail(...)`). `message` may be a
 * literal or arena text; NULL means the kind's default. */
int app_fail(struct ctx *c, enum app_error_kind kind, const char *message);
int app_failf(struct ctx *c, enum app_error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Add one validation message for `field` (copied into the arena); the kind becomes 422. */
void app_invalid(struct ctx *c, const char *field, const char *message);
/* 503 from a database status; DB_DUPLICATE etc. are mapped by the caller first. */
int app_db_fail(struct ctx *c, int db_status);

int app_error_status(enum app_error_kind kind);
const char *app_status_text(int status);

/* The worker's long-lived state: caches that survive requests (tokens). */
struct worker_state *worker_state_new(void);
void worker_state_free(struct worker_state *ws);
struct auth_cache *app_auth_cache(struct worker_state *ws);

#endif
