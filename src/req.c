/* req.c — recording a request's error in its context (see req.h). Knows no HTTP: the kinds
 * become statuses and bodies in app.c only. */
#include "req.h"
#include "config.h"
#include "db.h"
#include "origin.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int req_fail(struct ctx *c, enum req_error_kind kind, const char *message)
{
    c->err.kind = kind;
    c->err.message = message;
    return -1;
}

int req_failf(struct ctx *c, enum req_error_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[1024];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return req_fail(c, kind, arena_strdup(c->arena, tmp));
}

void req_invalid(struct ctx *c, const char *field, const char *message)
{
    struct req_error *e = &c->err;
    e->kind = REQ_E_INVALID;
    struct req_field_errors *fe = NULL;
    for (size_t i = 0; i < e->nfields; i++)
        if (!strcmp(e->fields[i].field, field)) fe = &e->fields[i];
    if (!fe) {
        if (e->nfields == e->capfields) {
            size_t cap = e->capfields ? e->capfields * 2 : 8;
            struct req_field_errors *nf = arena_alloc(c->arena, cap * sizeof *nf);
            if (e->nfields) memcpy(nf, e->fields, e->nfields * sizeof *nf);
            e->fields = nf;
            e->capfields = cap;
        }
        fe = &e->fields[e->nfields++];
        memset(fe, 0, sizeof *fe);
        fe->field = arena_strdup(c->arena, field);
    }
    if (fe->n == fe->cap) {
        size_t cap = fe->cap ? fe->cap * 2 : 4;
        const char **nm = arena_alloc(c->arena, cap * sizeof *nm);
        if (fe->n) memcpy(nm, fe->messages, fe->n * sizeof *nm);
        fe->messages = nm;
        fe->cap = cap;
    }
    fe->messages[fe->n++] = arena_strdup(c->arena, message);
    e->nmessages++;
}

bool req_field_has_errors(const struct ctx *c, const char *field)
{
    for (size_t i = 0; i < c->err.nfields; i++)
        if (!strcmp(c->err.fields[i].field, field)) return true;
    return false;
}

int req_db_fail(struct ctx *c, int db_status)
{
    c->err.db_status = db_status;
    if (db_status == DB_UNAVAILABLE || db_status == DB_DEADLOCK || db_status == DB_LOCK_TIMEOUT)
        return req_fail(c, REQ_E_UNAVAILABLE,
                        db_status == DB_UNAVAILABLE
                            ? "The database is unavailable. Please retry."
                            : "The database was busy with a conflicting change. Please retry.");
    return req_fail(c, REQ_E_INTERNAL, NULL);
}

void req_clear_error(struct ctx *c)
{
    memset(&c->err, 0, sizeof c->err);
}

const char *req_base_url(struct ctx *c)
{
    struct http_request *hr = c->req;
    if (hr->base_url) return hr->base_url;
    if (c->cfg->app_url && *c->cfg->app_url)
        hr->base_url = c->cfg->app_url;
    else
        hr->base_url = origin_base_url(c->arena, (const char *const *)c->cfg->app_hosts,
                                       c->cfg->napp_hosts, &hr->origin);
    return hr->base_url;
}
