/* req.h — one request's context and its error: the low layer every handler calls down into.
 *
 * struct ctx carries everything a handler touches: the parsed request, the arena, the
 * worker's database handle and token cache, the matched route, the authenticated token, the
 * response buffers, and the one error struct. A function that fails sets ctx->err with
 * req_fail()/req_invalid() and returns -1; the dispatcher (app.c) alone turns the error kind
 * into an HTTP status and body. The kinds name what went wrong, not a status code, and
 * nothing in here or below knows HTTP. Everything allocated here lives in the arena. */
#ifndef AIENGINE_REQ_H
#define AIENGINE_REQ_H

#include "arena.h"
#include "buf.h"
#include "origin.h"
#include "router.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

enum req_error_kind {
    REQ_E_NONE,
    REQ_E_BAD_REQUEST,        /* the request itself is malformed (query, body, header) */
    REQ_E_UNAUTHENTICATED,    /* no valid token */
    REQ_E_FORBIDDEN,          /* valid token without the ability */
    REQ_E_NOT_FOUND,          /* no such route or record */
    REQ_E_METHOD_NOT_ALLOWED, /* the path exists, not with this method */
    REQ_E_CONFLICT,           /* the record is in a state that refuses the change */
    REQ_E_TOO_LARGE,          /* body or requested content over a configured limit */
    REQ_E_UNSUPPORTED_MEDIA,  /* body is not JSON */
    REQ_E_INVALID,            /* field validation failed: see fields */
    REQ_E_INTERNAL,           /* a bug or a schema mismatch, logged */
    REQ_E_UNAVAILABLE,        /* the database is unreachable or busy: retry later */
    /* If-Match does not match the record's current ETag (etag.h) */
    REQ_E_PRECONDITION_FAILED,
    /* a write without If-Match while http.require_if_match is on */
    REQ_E_PRECONDITION_REQUIRED,
    REQ_E_TOO_MANY, /* over a rate limit (throttle.c set Retry-After): nothing done */
};

struct req_field_errors {
    const char *field;
    const char **messages;
    size_t n, cap;
};

struct req_error {
    enum req_error_kind kind;
    const char *message;             /* NULL: the kind's default message */
    struct req_field_errors *fields; /* REQ_E_INVALID only, in the order first reported */
    size_t nfields, capfields;
    size_t nmessages;
    int db_status; /* the enum db_status behind the error, DB_OK when there was none */
};

struct http_request {
    const char *method;
    char *path; /* decoded path, a copy the router may split */
    const char *raw_path;
    const char *query; /* raw QUERY_STRING, never NULL */
    const char *content_type;
    const char *authorization;
    const char *idempotency_key; /* the Idempotency-Key header, NULL when absent */
    const char *remote_addr;     /* REMOTE_ADDR as nginx passes it, NULL when absent */
    /* what the base URL is made of; req_base_url() builds it when a handler needs it */
    struct origin_params origin;
    const char *base_url; /* NULL until req_base_url() */
    /* If-Match / If-None-Match, NULL when absent (etag.h) */
    const char *if_match;
    const char *if_none_match;
    const char *body;
    size_t body_len;
};

struct auth_token;
struct auth_cache;
struct countcache;
struct config;
struct db;
struct stats;

struct ctx {
    struct arena *arena;
    const struct config *cfg;
    struct db *db;
    struct auth_cache *tokens; /* the worker's verified-token cache, owned by the worker */
    struct countcache *counts; /* the worker's page-count cache (countcache.h); may be NULL */
    struct buf *openapi;       /* the worker's cached OpenAPI document (empty until asked) */
    struct http_request *req;
    struct route_match match;
    const struct auth_token *token;
    json_object *body_json; /* parsed body of writes; freed by an arena cleanup */
    bool no_etag;           /* the answer is not the record's representation (etag.h) */
    struct req_error err;
    int status;
    struct buf *out;          /* response body */
    struct buf *headers;      /* extra header lines, each ending "\r\n" */
    const char *content_type; /* NULL: application/json */
    struct stats *stats;      /* the pool's shared counters (stats.h); NULL in tools/tests */
};

/* Set the request's error (returns -1 for `return req_fail(...)`). `message` may be a
 * literal or arena text; NULL means the kind's default. */
int req_fail(struct ctx *c, enum req_error_kind kind, const char *message);
int req_failf(struct ctx *c, enum req_error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Add one validation message for `field` (both copied into the arena); the kind becomes
 * REQ_E_INVALID. */
void req_invalid(struct ctx *c, const char *field, const char *message);
/* Whether `field` already has a validation message. */
bool req_field_has_errors(const struct ctx *c, const char *field);
/* The error for a failed database call: unavailable (retry later) for DB_UNAVAILABLE and
 * DB_DEADLOCK, internal for anything else. Callers map DB_DUPLICATE etc. first. Keeps the
 * status in err.db_status, which is what a transaction retry decides on. */
int req_db_fail(struct ctx *c, int db_status);
/* Forget the error (before retrying a transaction). */
void req_clear_error(struct ctx *c);

/* "http://host:port" for links and Location (origin.h: app.url, else an accepted Host,
 * else the listen address), built on first use: most answers need none. Lives in the
 * request's arena. */
const char *req_base_url(struct ctx *c);

#endif
