/* crud.c — the handlers of the generic engine: index, show, store, update, destroy and
 * nested relation lists. They parse the path id, choose a success status, and delegate:
 * listings to list.c, includes to eager.c, validated writes to write.c. Each write commits
 * whole or rolls back (app_handle rolls back on any error left open). */
#include "crud.h"
#include "auth.h"
#include "config.h"
#include "repr.h"
#include "db.h"
#include "eager.h"
#include "etag.h"
#include "list.h"
#include "query.h"
#include "record.h"
#include "rules.h"
#include "sqlb.h"
#include "value.h"
#include "write.h"

#include <stdlib.h>

/* The path's {id}, or a not-found error (ids that cannot exist are simply not there). */
static int path_id(struct ctx *c, const struct resource *r, unsigned long long *id)
{
    if (value_parse_id(c->match.params[0], id)) return record_not_found(c, r, c->match.params[0]);
    return 0;
}

int crud_index(struct ctx *c)
{
    const struct resource *r = c->match.route->resource;
    if (list_write(c, r, r->pagination, r->default_sort, r->ndefault_sort, NULL, 0)) return -1;
    c->status = 200;
    return 0;
}

int crud_relation(struct ctx *c)
{
    const struct route *rt = c->match.route;
    const struct resource *parent = rt->resource;
    const struct relation *rel = rt->relation;
    unsigned long long id;
    if (path_id(c, parent, &id)) return -1;
    struct db_param p = db_uint(id);
    struct db_result res;
    int s = db_query(c->db, c->arena, parent->exists_by_id, &p, 1, &res);
    if (s != DB_OK) return req_db_fail(c, s);
    if (res.nrows == 0) return record_not_found(c, parent, c->match.params[0]);
    const struct resource *t = rel->target;
    if (list_write(c, t, rel->pagination, rel->norder ? rel->order : t->default_sort,
                   rel->norder ? rel->norder : t->ndefault_sort, rel->foreign_key, id))
        return -1;
    c->status = 200;
    return 0;
}

int crud_show(struct ctx *c)
{
    const struct resource *r = c->match.route->resource;
    unsigned long long id;
    if (path_id(c, r, &id)) return -1;
    struct query *q = arena_alloc(c->arena, sizeof *q);
    if (query_parse(c->arena, c->req->query, q))
        return req_fail(c, REQ_E_BAD_REQUEST, "The query string is malformed.");
    struct eager_includes inc;
    if (eager_parse(c, r, q, &inc)) return -1;
    struct db_result res;
    if (record_fetch(c, r, id, false, &res)) return -1;
    if (res.nrows == 0) return record_not_found(c, r, c->match.params[0]);
    c->status = 200;
    return eager_write_single(c, r, &res, &inc);
}

int crud_store(struct ctx *c)
{
    const struct resource *r = c->match.route->resource;
    unsigned long long id;
    struct db_result row;
    if (write_store(c, r, &id, &row)) return -1;
    c->status = 201;
    buf_printf(c->headers, "Location: %s%s/%llu\r\n", req_base_url(c), c->req->raw_path, id);
    return eager_write_single(c, r, &row, NULL);
}

/* Whether the token may read r: the ability of r's show route. */
static bool may_read(const struct ctx *c, const struct resource *r)
{
    const struct router *rt = c->cfg->router;
    for (size_t i = 0; i < rt->n; i++)
        if (rt->routes[i].handler == HANDLER_SHOW && rt->routes[i].resource == r)
            return !rt->routes[i].auth || auth_can(c->token, rt->routes[i].ability);
    return false;
}

/* What an update answers a token that cannot read: the id and the fields it sent, as now
 * stored — nothing it did not write itself (docs/decisions.md). */
static void write_sent_fields(struct ctx *c, const struct resource *r, const struct db_result *row)
{
    const struct db_cell *cells = db_cell(row, 0, 0);
    buf_puts(c->out, "{\"data\":{");
    bool first = true;
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if (f != r->id && !(f->fillable && json_object_object_get_ex(c->body_json, f->name, NULL)))
            continue;
        repr_key(c->out, f, first);
        first = false;
        repr_value(c->out, f, &cells[i]);
    }
    buf_puts(c->out, "}}");
}

int crud_update(struct ctx *c)
{
    const struct resource *r = c->match.route->resource;
    unsigned long long id;
    if (path_id(c, r, &id)) return -1;
    struct db_result row;
    if (write_update(c, r, id, c->match.params[0], &row)) return -1;
    c->status = 200;
    if (!may_read(c, r)) {
        c->no_etag = true; /* not the representation, so no tag of it */
        write_sent_fields(c, r, &row);
        return 0;
    }
    return eager_write_single(c, r, &row, NULL);
}

/* A restrict relation that still has rows refuses the delete with a message naming them. */
static int check_restrict(struct ctx *c, const struct resource *r, unsigned long long id)
{
    for (size_t i = 0; i < r->nrestrict_delete; i++) {
        const struct relation *rel = r->restrict_delete[i];
        struct sqlb q;
        sqlb_init(&q, c->arena);
        sqlb_printf(&q, "SELECT COUNT(*) FROM `%s` WHERE `%s` = ?", rel->target->table,
                    rel->foreign_key->name);
        sqlb_param(&q, db_uint(id));
        struct db_result res;
        int s = sqlb_run(&q, c->db, &res);
        if (s != DB_OK) return req_db_fail(c, s);
        long long n = strtoll(db_cell(&res, 0, 0)->s, NULL, 10);
        if (n > 0 && !may_read(c, rel->target))
            return req_failf(c, REQ_E_CONFLICT,
                             "This %s is still in use; delete or reassign what refers to it "
                             "first.",
                             r->singular_label);
        if (n > 0) {
            char plural[128];
            rules_label(rel->target->table, plural, sizeof plural);
            return req_failf(c, REQ_E_CONFLICT,
                             "This %s is still used by %lld %s; delete or reassign %s first.",
                             r->singular_label, n, n == 1 ? rel->target->singular_label : plural,
                             n == 1 ? "it" : "them");
        }
    }
    return 0;
}

int crud_destroy(struct ctx *c)
{
    const struct resource *r = c->match.route->resource;
    unsigned long long id;
    if (path_id(c, r, &id)) return -1;
    int s = db_begin(c->db);
    if (s != DB_OK) return req_db_fail(c, s);
    struct db_param p = db_uint(id);
    struct db_result res;
    /* the whole row only when If-Match names tags: they are compared with its rendering */
    if (etag_needs_row(c)) {
        if (record_fetch(c, r, id, true, &res)) return -1;
    } else {
        s = db_query(c->db, c->arena, r->lock_by_id, &p, 1, &res);
        if (s != DB_OK) return req_db_fail(c, s);
    }
    if (res.nrows == 0) return record_not_found(c, r, c->match.params[0]);
    if (etag_check_locked(c, r, etag_needs_row(c) ? &res : NULL)) return -1;
    if (check_restrict(c, r, id)) return -1;
    s = db_query(c->db, c->arena, r->delete_by_id, &p, 1, NULL);
    if (s == DB_HAS_CHILDREN)
        return req_failf(c, REQ_E_CONFLICT, "This %s is still in use and cannot be deleted.",
                         r->singular_label);
    if (s != DB_OK) return req_db_fail(c, s);
    s = db_commit(c->db);
    if (s != DB_OK) return req_db_fail(c, s);
    c->status = 204;
    return 0;
}
