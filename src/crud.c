/* crud.c — the one generic engine behind every resource: list (page or cursor), show,
 * create, update, delete, nested relation lists and ?include= eager loading.
 *
 * SQL text is assembled only from identifiers of the compiled resource set; every value
 * is a bound parameter. Each write runs in one transaction and either commits whole or
 * rolls back (app_handle rolls back on any error). Includes cost one query per relation,
 * never one per row. */
#include "crud.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "jsonraw.h"
#include "log.h"
#include "query.h"
#include "repr.h"
#include "rules.h"
#include "value.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SORT 8
#define MAX_FILTERS 16
#define MAX_INCLUDES 8
#define MAX_PARAMS 64
#define TX_ATTEMPTS 3

/* ---- small SQL text builder in the request arena ---- */

struct sql {
    struct arena *a;
    char *s;
    size_t len, cap;
    struct db_param params[MAX_PARAMS + 130];
    size_t np;
};

static void sql_init(struct sql *q, struct arena *a)
{
    q->a = a;
    q->cap = 512;
    q->s = arena_alloc(a, q->cap);
    q->s[0] = '\0';
    q->len = 0;
    q->np = 0;
}

static void sql_puts(struct sql *q, const char *s)
{
    size_t n = strlen(s);
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap * 2;
        while (q->len + n + 1 > cap) cap *= 2;
        char *ns = arena_alloc(q->a, cap);
        memcpy(ns, q->s, q->len + 1);
        q->s = ns;
        q->cap = cap;
    }
    memcpy(q->s + q->len, s, n + 1);
    q->len += n;
}

static void sql_printf(struct sql *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql_printf(struct sql *q, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sql_puts(q, tmp);
}

static void sql_param(struct sql *q, struct db_param p)
{
    if (q->np < sizeof q->params / sizeof q->params[0]) q->params[q->np++] = p;
}

static int sql_run(struct ctx *c, struct sql *q, struct db_result *res)
{
    return db_query(c->db, c->arena, q->s, q->params, q->np, res);
}

/* ---- ids and typed values ---- */

static size_t field_index(const struct resource *r, const struct field *f)
{
    return (size_t)(f - r->fields);
}

static int parse_id(const char *s, unsigned long long *out)
{
    if (!s || !*s || strlen(s) > 20) return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v == 0) return -1;
    *out = v;
    return 0;
}

/* A value read back from the database (or a cursor) bound with its column's type. */
static struct db_param bind_text(struct ctx *c, const struct field *f, const char *s, size_t n)
{
    if (!s) return db_null();
    switch (f->type) {
    case FIELD_ID:
    case FIELD_FK: {
        unsigned long long u;
        if (parse_id(s, &u) == 0) return db_uint(u);
        return db_str(arena_strndup(c->arena, s, n), n);
    }
    case FIELD_INT:
    case FIELD_BOOL: {
        long long v;
        if (value_parse_int(s, n, &v) == 0) return db_int(v);
        return db_str(arena_strndup(c->arena, s, n), n);
    }
    default:
        return db_str(s, n);
    }
}

static int not_found(struct ctx *c, const struct resource *r, const char *id)
{
    return req_failf(c, REQ_E_NOT_FOUND, "No %s with id %s.", r->singular_label, id);
}

/* ---- list options: page, per_page, cursor, sort, include, filter[...] ---- */

struct list_opts {
    struct query q;
    long long page;
    long long per_page;
    const struct query_param *cursor;
    struct sort_key sort[MAX_SORT + 1];
    size_t nsort;
    const struct relation *includes[MAX_INCLUDES];
    size_t ninc;
    struct {
        const struct field *f;
        struct db_param p;
        const char *text;
    } filters[MAX_FILTERS];
    size_t nfilters;
};

static int parse_includes(struct ctx *c, const struct resource *r, const struct query *q,
                          struct list_opts *o)
{
    const struct query_param *inc = query_get(q, "include");
    o->ninc = 0;
    if (!inc || inc->len == 0) return 0;
    const char *p = inc->value;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char name[72];
        const struct relation *rel = NULL;
        if (len && len < sizeof name) {
            memcpy(name, p, len);
            name[len] = '\0';
            rel = resource_relation(r, name);
        }
        if (!rel || !rel->includable)
            return req_failf(c, REQ_E_BAD_REQUEST, "Unknown include '%.*s'. Allowed: %s.",
                             (int)(len > 64 ? 64 : len), p, r->include_names);
        bool dup = false;
        for (size_t i = 0; i < o->ninc; i++) dup |= o->includes[i] == rel;
        if (!dup) {
            if (o->ninc == MAX_INCLUDES) return req_fail(c, REQ_E_BAD_REQUEST, "Too many includes.");
            o->includes[o->ninc++] = rel;
        }
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

static int parse_filter_value(struct ctx *c, const struct field *f, const struct query_param *qp,
                              struct db_param *out)
{
    char key[96];
    snprintf(key, sizeof key, "filter[%s]", f->name);
    if (!query_utf8_valid(qp->value, qp->len))
        return req_failf(c, REQ_E_BAD_REQUEST, "The value of %s is not valid UTF-8 or has a NUL byte.",
                         key);
    long long v;
    switch (f->type) {
    case FIELD_BOOL:
        if (!strcmp(qp->value, "1") || !strcmp(qp->value, "true")) *out = db_int(1);
        else if (!strcmp(qp->value, "0") || !strcmp(qp->value, "false")) *out = db_int(0);
        else {
            req_invalid(c, key, arena_printf(c->arena, "The %s filter must be true or false.", f->label));
            return -1;
        }
        return 0;
    case FIELD_ID:
    case FIELD_FK:
    case FIELD_INT:
        if (value_parse_int(qp->value, qp->len, &v)) {
            req_invalid(c, key, arena_printf(c->arena, "The %s filter must be an integer.", f->label));
            return -1;
        }
        *out = db_int(v);
        return 0;
    case FIELD_TIMESTAMP: {
        char utc[27];
        if (value_parse_date(qp->value, qp->len, utc)) {
            req_invalid(c, key, arena_printf(c->arena, "The %s filter must be a valid date.", f->label));
            return -1;
        }
        const char *t = arena_strdup(c->arena, utc);
        *out = db_str(t, strlen(t));
        return 0;
    }
    default:
        *out = db_str(qp->value, qp->len);
        return 0;
    }
}

static int parse_list_opts(struct ctx *c, const struct resource *r, const struct sort_key *order,
                           size_t norder, struct list_opts *o)
{
    memset(o, 0, sizeof *o);
    if (query_parse(c->arena, c->req->query, &o->q))
        return req_fail(c, REQ_E_BAD_REQUEST, "The query string is malformed.");
    const struct query *q = &o->q;
    o->page = 1;
    o->per_page = c->cfg->default_per_page;
    const struct query_param *pp = query_get(q, "per_page");
    if (pp) {
        long long v;
        if (value_parse_int(pp->value, pp->len, &v))
            req_invalid(c, "per_page", "The per page field must be an integer.");
        else if (v < 1 || v > c->cfg->max_per_page)
            req_invalid(c, "per_page",
                        arena_printf(c->arena, "The per page field must be between 1 and %d.",
                                     c->cfg->max_per_page));
        else o->per_page = v;
    }
    if (r->pagination == PAGINATE_PAGE) {
        const struct query_param *pg = query_get(q, "page");
        if (pg) {
            long long v;
            if (value_parse_int(pg->value, pg->len, &v))
                req_invalid(c, "page", "The page field must be an integer.");
            else if (v < 1 || v > 1000000000LL)
                req_invalid(c, "page", "The page field must be between 1 and 1000000000.");
            else o->page = v;
        }
    } else {
        o->cursor = query_get(q, "cursor");
        if (o->cursor && o->cursor->len == 0) o->cursor = NULL;
    }
    if (c->err.kind == REQ_E_INVALID) return -1;

    /* filters */
    for (size_t i = 0; i < q->n; i++) {
        const struct query_param *qp = &q->items[i];
        if (qp->key_len < 8 || strncmp(qp->key, "filter[", 7) || qp->key[qp->key_len - 1] != ']')
            continue;
        char name[72];
        size_t nlen = qp->key_len - 8;
        const struct field *f = NULL;
        if (nlen < sizeof name) {
            memcpy(name, qp->key + 7, nlen);
            name[nlen] = '\0';
            f = resource_field(r, name);
        }
        if (!f || !f->filterable)
            return req_failf(c, REQ_E_BAD_REQUEST, "Unknown filter '%.*s'. Allowed: %s.",
                             (int)(nlen > 64 ? 64 : nlen), qp->key + 7, r->filter_names);
        if (o->nfilters == MAX_FILTERS) return req_fail(c, REQ_E_BAD_REQUEST, "Too many filters.");
        o->filters[o->nfilters].f = f;
        o->filters[o->nfilters].text = qp->value;
        if (parse_filter_value(c, f, qp, &o->filters[o->nfilters].p)) {
            if (c->err.kind != REQ_E_INVALID) return -1;
            continue;
        }
        o->nfilters++;
    }
    if (c->err.kind == REQ_E_INVALID) return -1;

    /* sort */
    const struct query_param *sp = query_get(q, "sort");
    if (sp && sp->len) {
        int n = query_utf8_valid(sp->value, sp->len)
                    ? resource_parse_sort(r, sp->value, true, o->sort, MAX_SORT)
                    : -1;
        if (n < 0)
            return req_failf(c, REQ_E_BAD_REQUEST,
                             "Invalid sort '%.*s'. Sortable fields: %s (prefix - for descending).",
                             (int)(sp->len > 64 ? 64 : sp->len), sp->value, r->sort_names);
        o->nsort = (size_t)n;
    } else {
        memcpy(o->sort, order, norder * sizeof *order);
        o->nsort = norder;
    }
    /* a unique tie-breaker makes page boundaries (and keyset cursors) deterministic */
    bool has_id = false;
    for (size_t i = 0; i < o->nsort; i++) has_id |= o->sort[i].field == r->id;
    if (!has_id) {
        o->sort[o->nsort].field = r->id;
        o->sort[o->nsort].desc = o->nsort ? o->sort[o->nsort - 1].desc : false;
        o->nsort++;
    }
    return parse_includes(c, r, q, o);
}

static void add_where(struct sql *q, const struct list_opts *o, const struct field *scope_fk,
                      unsigned long long scope_id, bool *first)
{
    if (scope_fk) {
        sql_printf(q, " WHERE `%s` = ?", scope_fk->name);
        sql_param(q, db_uint(scope_id));
        *first = false;
    }
    for (size_t i = 0; i < o->nfilters; i++) {
        sql_printf(q, "%s`%s` = ?", *first ? " WHERE " : " AND ", o->filters[i].f->name);
        sql_param(q, o->filters[i].p);
        *first = false;
    }
}

static void add_order(struct sql *q, const struct sort_key *keys, size_t n, bool reverse)
{
    sql_puts(q, " ORDER BY ");
    for (size_t i = 0; i < n; i++)
        sql_printf(q, "%s`%s` %s", i ? ", " : "", keys[i].field->name,
                   keys[i].desc != reverse ? "DESC" : "ASC");
}

/* ---- eager loading ---- */

struct loaded {
    const struct relation *rel;
    struct db_result res;
    size_t key_col; /* column in res to match against */
};

/* Pad IN lists to a power of two so the statement cache sees a handful of shapes. */
static void add_in_list(struct sql *q, const struct db_param *vals, size_t n)
{
    size_t slots = 1;
    while (slots < n) slots *= 2;
    sql_puts(q, " IN (");
    for (size_t i = 0; i < slots; i++) {
        sql_puts(q, i ? ",?" : "?");
        sql_param(q, vals[i < n ? i : n - 1]);
    }
    sql_puts(q, ")");
}

static int load_relation(struct ctx *c, const struct resource *r, const struct db_result *rows,
                         const struct relation *rel, struct loaded *out)
{
    out->rel = rel;
    memset(&out->res, 0, sizeof out->res);
    const struct resource *t = rel->target;
    size_t own_col = rel->kind == REL_BELONGS_TO ? field_index(r, rel->foreign_key)
                                                 : field_index(r, r->id);
    struct db_param *vals = arena_alloc(c->arena, (rows->nrows ? rows->nrows : 1) * sizeof *vals);
    size_t n = 0;
    for (size_t i = 0; i < rows->nrows; i++) {
        const struct db_cell *cell = db_cell(rows, i, own_col);
        if (!cell->s) continue;
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++) {
            const struct db_cell *o = db_cell(rows, k, own_col);
            dup = o->s && o->len == cell->len && !memcmp(o->s, cell->s, cell->len);
        }
        if (!dup) vals[n++] = bind_text(c, rel->kind == REL_BELONGS_TO ? rel->foreign_key : r->id,
                                        cell->s, cell->len);
    }
    if (n == 0) return 0;
    const struct field *match = rel->kind == REL_BELONGS_TO ? t->id : rel->foreign_key;
    out->key_col = field_index(t, match);
    struct sql q;
    sql_init(&q, c->arena);
    sql_printf(&q, "SELECT %s FROM `%s` WHERE `%s`", t->select_list, t->table, match->name);
    add_in_list(&q, vals, n);
    if (rel->kind == REL_HAS_MANY) {
        if (rel->norder) add_order(&q, rel->order, rel->norder, false);
        else add_order(&q, t->default_sort, t->ndefault_sort, false);
        if (!(rel->norder ? rel->order[rel->norder - 1].field == t->id
                          : t->default_sort[t->ndefault_sort - 1].field == t->id))
            sql_printf(&q, ", `%s`", t->id->name);
    }
    int s = sql_run(c, &q, &out->res);
    return s == DB_OK ? 0 : req_db_fail(c, s);
}

static void emit_row(struct ctx *c, const struct resource *r, const struct db_result *rows,
                     size_t i, const struct loaded *inc, size_t ninc)
{
    struct buf *out = c->out;
    const struct db_cell *row = db_cell(rows, i, 0);
    buf_putc(out, '{');
    repr_fields(out, r, row);
    for (size_t k = 0; k < ninc; k++) {
        const struct relation *rel = inc[k].rel;
        const struct resource *t = rel->target;
        size_t own_col = rel->kind == REL_BELONGS_TO ? field_index(r, rel->foreign_key)
                                                     : field_index(r, r->id);
        const struct db_cell *key = &row[own_col];
        buf_printf(out, ",\"%s\":", rel->name);
        if (rel->kind == REL_HAS_MANY) buf_putc(out, '[');
        bool any = false;
        for (size_t j = 0; key->s && j < inc[k].res.nrows; j++) {
            const struct db_cell *m = db_cell(&inc[k].res, j, inc[k].key_col);
            if (!m->s || m->len != key->len || memcmp(m->s, key->s, key->len)) continue;
            if (any) buf_putc(out, ',');
            buf_putc(out, '{');
            repr_fields(out, t, db_cell(&inc[k].res, j, 0));
            buf_putc(out, '}');
            any = true;
            if (rel->kind == REL_BELONGS_TO) break;
        }
        if (rel->kind == REL_HAS_MANY) buf_putc(out, ']');
        else if (!any) buf_puts(out, "null");
    }
    buf_putc(out, '}');
}

/* Eager-load every requested relation for `rows`: one query each. NULL on error. */
static struct loaded *load_includes(struct ctx *c, const struct resource *r,
                                    const struct db_result *rows,
                                    const struct relation *const *includes, size_t ninc)
{
    struct loaded *inc = arena_calloc(c->arena, (ninc ? ninc : 1) * sizeof *inc);
    for (size_t k = 0; k < ninc; k++)
        if (load_relation(c, r, rows, includes[k], &inc[k])) return NULL;
    return inc;
}

static int emit_rows(struct ctx *c, const struct resource *r, const struct db_result *rows,
                     const struct relation *const *includes, size_t ninc)
{
    struct loaded *inc = load_includes(c, r, rows, includes, ninc);
    if (!inc) return -1;
    buf_putc(c->out, '[');
    for (size_t i = 0; i < rows->nrows; i++) {
        if (i) buf_putc(c->out, ',');
        emit_row(c, r, rows, i, inc, ninc);
    }
    buf_putc(c->out, ']');
    return 0;
}

/* ---- links that keep the request's other parameters ---- */

static void write_url(struct ctx *c, const struct list_opts *o, const char *skip, const char *key,
                      const char *value)
{
    struct buf *out = c->out;
    struct buf u;
    buf_init(&u, 0);
    buf_printf(&u, "%s%s", c->req->base_url, c->req->raw_path);
    char sep = '?';
    for (size_t i = 0; i < o->q.n; i++) {
        const struct query_param *qp = &o->q.items[i];
        if (!strcmp(qp->key, skip) || !strcmp(qp->key, key)) continue;
        buf_putc(&u, sep);
        sep = '&';
        buf_url_encode(&u, qp->key, qp->key_len);
        buf_putc(&u, '=');
        buf_url_encode(&u, qp->value, qp->len);
    }
    buf_putc(&u, sep);
    buf_puts(&u, key);
    buf_putc(&u, '=');
    buf_url_encode(&u, value, strlen(value));
    buf_json_str(out, u.data, u.len);
    buf_free(&u);
}

/* ---- page pagination ---- */

static int list_pages(struct ctx *c, const struct resource *r, struct list_opts *o,
                      const struct field *scope_fk, unsigned long long scope_id)
{
    struct sql q;
    struct db_result count, rows;
    sql_init(&q, c->arena);
    sql_printf(&q, "SELECT COUNT(*) FROM `%s`", r->table);
    bool first = true;
    add_where(&q, o, scope_fk, scope_id, &first);
    int s = sql_run(c, &q, &count);
    if (s != DB_OK) return req_db_fail(c, s);
    long long total = count.nrows ? strtoll(db_cell(&count, 0, 0)->s, NULL, 10) : 0;
    long long offset = (o->page - 1) * o->per_page;
    memset(&rows, 0, sizeof rows);
    if (offset < total) {
        sql_init(&q, c->arena);
        sql_printf(&q, "SELECT %s FROM `%s`", r->select_list, r->table);
        first = true;
        add_where(&q, o, scope_fk, scope_id, &first);
        add_order(&q, o->sort, o->nsort, false);
        sql_puts(&q, " LIMIT ? OFFSET ?");
        sql_param(&q, db_int(o->per_page));
        sql_param(&q, db_int(offset));
        s = sql_run(c, &q, &rows);
        if (s != DB_OK) return req_db_fail(c, s);
    }
    long long last = total ? (total + o->per_page - 1) / o->per_page : 1;
    buf_puts(c->out, "{\"data\":");
    if (emit_rows(c, r, &rows, o->includes, o->ninc)) return -1;
    char num[32];
    buf_puts(c->out, ",\"links\":{\"first\":");
    write_url(c, o, "page", "page", "1");
    buf_puts(c->out, ",\"last\":");
    snprintf(num, sizeof num, "%lld", last);
    write_url(c, o, "page", "page", num);
    buf_puts(c->out, ",\"prev\":");
    if (o->page > 1 && o->page <= last + 1) {
        snprintf(num, sizeof num, "%lld", o->page - 1);
        write_url(c, o, "page", "page", num);
    } else {
        buf_puts(c->out, "null");
    }
    buf_puts(c->out, ",\"next\":");
    if (o->page < last) {
        snprintf(num, sizeof num, "%lld", o->page + 1);
        write_url(c, o, "page", "page", num);
    } else {
        buf_puts(c->out, "null");
    }
    buf_printf(c->out, "},\"meta\":{\"current_page\":%lld,\"from\":", o->page);
    if (rows.nrows) buf_printf(c->out, "%lld", offset + 1);
    else buf_puts(c->out, "null");
    buf_printf(c->out, ",\"last_page\":%lld,\"path\":", last);
    struct buf path;
    buf_init(&path, 0);
    buf_printf(&path, "%s%s", c->req->base_url, c->req->raw_path);
    buf_json_str(c->out, path.data, path.len);
    buf_free(&path);
    buf_printf(c->out, ",\"per_page\":%lld,\"to\":", o->per_page);
    if (rows.nrows) buf_printf(c->out, "%lld", offset + (long long)rows.nrows);
    else buf_puts(c->out, "null");
    buf_printf(c->out, ",\"total\":%lld}}", total);
    c->status = 200;
    return 0;
}

/* ---- cursor pagination ----
 * A cursor is base64url(payload) "." base64url(mac). The payload holds the direction and
 * the sort-key values of the boundary row; the MAC (HMAC-SHA256 with app.key, truncated to
 * 128 bits) covers the payload and the listing's identity (path, sort, filters), so a
 * tampered cursor or one taken from another listing is refused with 400. */

static void b64url(struct buf *out, const unsigned char *in, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n) v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        buf_putc(out, tbl[(v >> 18) & 63]);
        buf_putc(out, tbl[(v >> 12) & 63]);
        if (i + 1 < n) buf_putc(out, tbl[(v >> 6) & 63]);
        if (i + 2 < n) buf_putc(out, tbl[v & 63]);
    }
}

static int b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
    unsigned v = 0;
    int bits = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int d;
        if (ch >= 'A' && ch <= 'Z') d = ch - 'A';
        else if (ch >= 'a' && ch <= 'z') d = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9') d = ch - '0' + 52;
        else if (ch == '-') d = 62;
        else if (ch == '_') d = 63;
        else return -1;
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k == cap) return -1;
            out[k++] = (unsigned char)(v >> bits);
        }
    }
    *outlen = k;
    return 0;
}

static void cursor_context(struct ctx *c, const struct resource *r, const struct list_opts *o,
                           struct buf *ctxb)
{
    buf_printf(ctxb, "%s|%s|", r->name, c->req->raw_path);
    for (size_t i = 0; i < o->nsort; i++)
        buf_printf(ctxb, "%s%s,", o->sort[i].desc ? "-" : "", o->sort[i].field->name);
    /* filters in field order, so reordering query parameters keeps the cursor valid */
    for (size_t k = 0; k < r->nfields; k++)
        for (size_t i = 0; i < o->nfilters; i++)
            if (o->filters[i].f == &r->fields[k]) {
                buf_printf(ctxb, "|%s=", r->fields[k].name);
                buf_append(ctxb, o->filters[i].text, strlen(o->filters[i].text));
            }
}

static void cursor_mac(struct ctx *c, const char *payload, size_t n, const struct buf *ctxb,
                       unsigned char mac[32])
{
    const char *key = c->cfg->app_key;
    unsigned int len = 32;
    HMAC_CTX *h = NULL;
    (void)h;
    struct buf all;
    buf_init(&all, 0);
    buf_append(&all, payload, n);
    buf_putc(&all, '\n');
    buf_append(&all, ctxb->data, ctxb->len);
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)all.data, all.len, mac, &len);
    buf_free(&all);
}

static void write_cursor(struct ctx *c, const struct resource *r, const struct list_opts *o,
                         const struct db_result *rows, size_t row, bool next, struct buf *out)
{
    json_object *p = json_object_new_object();
    json_object *vals = json_object_new_array();
    for (size_t i = 0; i < o->nsort; i++) {
        const struct db_cell *cell = db_cell(rows, row, field_index(r, o->sort[i].field));
        json_object_array_add(vals, cell->s ? json_object_new_string_len(cell->s, (int)cell->len)
                                            : json_object_new_null());
    }
    json_object_object_add(p, "n", json_object_new_boolean(next));
    json_object_object_add(p, "k", vals);
    size_t plen;
    const char *ps = json_object_to_json_string_length(p, JSON_C_TO_STRING_PLAIN, &plen);
    struct buf ctxb;
    buf_init(&ctxb, 0);
    cursor_context(c, r, o, &ctxb);
    unsigned char mac[32];
    cursor_mac(c, ps, plen, &ctxb, mac);
    b64url(out, (const unsigned char *)ps, plen);
    buf_putc(out, '.');
    b64url(out, mac, 16);
    buf_free(&ctxb);
    json_object_put(p);
}

/* Decode and verify; on success fills vals (texts, in sort order) and *next. */
static int read_cursor(struct ctx *c, const struct resource *r, const struct list_opts *o,
                       const char **vals, size_t *vlens, bool *next)
{
    const char *s = o->cursor->value;
    size_t n = o->cursor->len;
    const char *dot = memchr(s, '.', n);
    unsigned char payload[2048], mac[64], want[32];
    size_t plen, mlen;
    if (!dot || b64url_decode(s, (size_t)(dot - s), payload, sizeof payload - 1, &plen) ||
        b64url_decode(dot + 1, n - (size_t)(dot - s) - 1, mac, sizeof mac, &mlen) || mlen != 16)
        return -1;
    struct buf ctxb;
    buf_init(&ctxb, 0);
    cursor_context(c, r, o, &ctxb);
    cursor_mac(c, (const char *)payload, plen, &ctxb, want);
    buf_free(&ctxb);
    if (CRYPTO_memcmp(mac, want, 16)) return -1;
    payload[plen] = '\0';
    json_object *p = json_tokener_parse((const char *)payload);
    json_object *k, *nx;
    int rc = -1;
    if (p && json_object_object_get_ex(p, "k", &k) && json_object_object_get_ex(p, "n", &nx) &&
        json_object_is_type(k, json_type_array) && json_object_array_length(k) == o->nsort) {
        for (size_t i = 0; i < o->nsort; i++) {
            json_object *v = json_object_array_get_idx(k, i);
            if (!json_object_is_type(v, json_type_string)) goto out;
            vals[i] = arena_strndup(c->arena, json_object_get_string(v),
                                    (size_t)json_object_get_string_len(v));
            vlens[i] = (size_t)json_object_get_string_len(v);
        }
        *next = json_object_get_boolean(nx);
        rc = 0;
    }
out:
    if (p) json_object_put(p);
    return rc;
}

static int list_cursor(struct ctx *c, const struct resource *r, struct list_opts *o,
                       const struct field *scope_fk, unsigned long long scope_id)
{
    const char *vals[MAX_SORT + 1];
    size_t vlens[MAX_SORT + 1];
    bool next = true;
    if (o->cursor && read_cursor(c, r, o, vals, vlens, &next))
        return req_fail(c, REQ_E_BAD_REQUEST, "The cursor is invalid for this listing.");
    struct sql q;
    sql_init(&q, c->arena);
    sql_printf(&q, "SELECT %s FROM `%s`", r->select_list, r->table);
    bool first = true;
    add_where(&q, o, scope_fk, scope_id, &first);
    if (o->cursor) {
        /* keyset: (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ..., each key in its direction,
         * flipped when walking backwards */
        sql_puts(&q, first ? " WHERE (" : " AND (");
        for (size_t i = 0; i < o->nsort; i++) {
            sql_puts(&q, i ? " OR (" : "(");
            for (size_t j = 0; j < i; j++) {
                sql_printf(&q, "`%s` = ? AND ", o->sort[j].field->name);
                sql_param(&q, bind_text(c, o->sort[j].field, vals[j], vlens[j]));
            }
            bool greater = o->sort[i].desc ? !next : next;
            sql_printf(&q, "`%s` %s ?)", o->sort[i].field->name, greater ? ">" : "<");
            sql_param(&q, bind_text(c, o->sort[i].field, vals[i], vlens[i]));
        }
        sql_puts(&q, ")");
    }
    add_order(&q, o->sort, o->nsort, !next);
    sql_puts(&q, " LIMIT ?");
    sql_param(&q, db_int(o->per_page + 1));
    struct db_result rows;
    int s = sql_run(c, &q, &rows);
    if (s != DB_OK) return req_db_fail(c, s);
    bool more = rows.nrows > (size_t)o->per_page;
    if (more) rows.nrows = (size_t)o->per_page;
    if (!next) {
        /* fetched backwards: restore the listing's order */
        for (size_t i = 0; i < rows.nrows / 2; i++)
            for (size_t k = 0; k < rows.ncols; k++) {
                struct db_cell t = rows.cells[i * rows.ncols + k];
                rows.cells[i * rows.ncols + k] = rows.cells[(rows.nrows - 1 - i) * rows.ncols + k];
                rows.cells[(rows.nrows - 1 - i) * rows.ncols + k] = t;
            }
    }
    bool has_next = next ? more : true;
    bool has_prev = next ? o->cursor != NULL : more;
    if (rows.nrows == 0) has_next = has_prev = false;
    struct buf nc, pc;
    buf_init(&nc, 0);
    buf_init(&pc, 0);
    if (has_next) write_cursor(c, r, o, &rows, rows.nrows - 1, true, &nc);
    if (has_prev) write_cursor(c, r, o, &rows, 0, false, &pc);
    buf_puts(c->out, "{\"data\":");
    int rc = emit_rows(c, r, &rows, o->includes, o->ninc);
    if (rc == 0) {
        buf_puts(c->out, ",\"links\":{\"first\":null,\"last\":null,\"prev\":");
        if (has_prev) write_url(c, o, "cursor", "cursor", pc.data);
        else buf_puts(c->out, "null");
        buf_puts(c->out, ",\"next\":");
        if (has_next) write_url(c, o, "cursor", "cursor", nc.data);
        else buf_puts(c->out, "null");
        buf_puts(c->out, "},\"meta\":{\"path\":");
        struct buf path;
        buf_init(&path, 0);
        buf_printf(&path, "%s%s", c->req->base_url, c->req->raw_path);
        buf_json_str(c->out, path.data, path.len);
        buf_free(&path);
        buf_printf(c->out, ",\"per_page\":%lld,\"next_cursor\":", o->per_page);
        if (has_next) buf_json_str(c->out, nc.data, nc.len);
        else buf_puts(c->out, "null");
        buf_puts(c->out, ",\"prev_cursor\":");
        if (has_prev) buf_json_str(c->out, pc.data, pc.len);
        else buf_puts(c->out, "null");
        buf_puts(c->out, "}}");
        c->status = 200;
    }
    buf_free(&nc);
    buf_free(&pc);
    return rc;
}

static int list(struct ctx *c, const struct resource *r, const struct sort_key *order,
                size_t norder, const struct field *scope_fk, unsigned long long scope_id)
{
    struct list_opts *o = arena_alloc(c->arena, sizeof *o);
    if (parse_list_opts(c, r, order, norder, o)) return -1;
    if (r->pagination == PAGINATE_CURSOR) return list_cursor(c, r, o, scope_fk, scope_id);
    return list_pages(c, r, o, scope_fk, scope_id);
}

int crud_index(struct ctx *c)
{
    const struct resource *r = c->match.route->resource;
    return list(c, r, r->default_sort, r->ndefault_sort, NULL, 0);
}

int crud_relation(struct ctx *c)
{
    const struct route *rt = c->match.route;
    const struct resource *parent = rt->resource;
    const struct relation *rel = rt->relation;
    unsigned long long id;
    if (parse_id(c->match.params[0], &id)) return not_found(c, parent, c->match.params[0]);
    struct sql q;
    sql_init(&q, c->arena);
    sql_printf(&q, "SELECT 1 FROM `%s` WHERE `%s` = ?", parent->table, parent->id->name);
    sql_param(&q, db_uint(id));
    struct db_result res;
    int s = sql_run(c, &q, &res);
    if (s != DB_OK) return req_db_fail(c, s);
    if (res.nrows == 0) return not_found(c, parent, c->match.params[0]);
    const struct resource *t = rel->target;
    return list(c, t, rel->norder ? rel->order : t->default_sort,
                rel->norder ? rel->norder : t->ndefault_sort, rel->foreign_key, id);
}

/* ---- single records ---- */

static int fetch_one(struct ctx *c, const struct resource *r, unsigned long long id, bool lock,
                     struct db_result *res)
{
    struct db_param p = db_uint(id);
    int s = db_query(c->db, c->arena, lock ? r->select_by_id_for_update : r->select_by_id, &p, 1,
                     res);
    return s == DB_OK ? 0 : req_db_fail(c, s);
}

static int emit_single(struct ctx *c, const struct resource *r, const struct db_result *res,
                       const struct relation *const *includes, size_t ninc)
{
    struct loaded *inc = load_includes(c, r, res, includes, ninc);
    if (!inc) return -1;
    buf_puts(c->out, "{\"data\":");
    emit_row(c, r, res, 0, inc, ninc);
    buf_putc(c->out, '}');
    return 0;
}

int crud_show(struct ctx *c)
{
    const struct resource *r = c->match.route->resource;
    unsigned long long id;
    if (parse_id(c->match.params[0], &id)) return not_found(c, r, c->match.params[0]);
    struct list_opts *o = arena_calloc(c->arena, sizeof *o);
    if (query_parse(c->arena, c->req->query, &o->q))
        return req_fail(c, REQ_E_BAD_REQUEST, "The query string is malformed.");
    if (parse_includes(c, r, &o->q, o)) return -1;
    struct db_result res;
    if (fetch_one(c, r, id, false, &res)) return -1;
    if (res.nrows == 0) return not_found(c, r, c->match.params[0]);
    c->status = 200;
    return emit_single(c, r, &res, o->includes, o->ninc);
}

/* ---- validation and conversion of request bodies ---- */

struct write_value {
    bool present;
    bool use_default; /* null on a null_means_default field */
    json_object *json;
    struct db_param p;
};

struct check_env {
    struct ctx *c;
    const struct field *f;
};

static int exists_cb(void *ud, const char *table, const char *column, json_object *value)
{
    struct check_env *e = ud;
    struct ctx *c = e->c;
    const struct resource *t = resource_find_table(c->cfg->resources, table);
    const struct field *col = t ? resource_field(t, column) : NULL;
    if (!col) return 0; /* compile-time checked; defensive */
    struct db_param p;
    if (col->type == FIELD_ID || col->type == FIELD_FK || col->type == FIELD_INT ||
        col->type == FIELD_BOOL) {
        long long v;
        if (json_object_is_type(value, json_type_int)) {
            errno = 0;
            v = json_object_get_int64(value);
            if (errno || v < 0) return 0;
        } else if (json_object_is_type(value, json_type_string)) {
            if (value_parse_int(json_object_get_string(value),
                                (size_t)json_object_get_string_len(value), &v))
                return 0;
        } else if (json_object_is_type(value, json_type_double)) {
            double d = json_object_get_double(value);
            if (d != (double)(long long)d) return 0;
            v = (long long)d;
        } else {
            return 0;
        }
        p = db_int(v);
    } else if (json_object_is_type(value, json_type_string)) {
        p = db_str(json_object_get_string(value), (size_t)json_object_get_string_len(value));
    } else {
        const char *s = json_object_get_string(value);
        p = db_str(s, strlen(s));
    }
    struct sql q;
    sql_init(&q, c->arena);
    /* LOCK IN SHARE MODE: the parent cannot be deleted between this check and our write */
    sql_printf(&q, "SELECT 1 FROM `%s` WHERE `%s` = ? LIMIT 1 LOCK IN SHARE MODE", t->table,
               col->name);
    sql_param(&q, p);
    struct db_result res;
    int s = sql_run(c, &q, &res);
    if (s != DB_OK) return s < 0 ? s : -1;
    return res.nrows > 0;
}

static void fail_cb(void *ud, const char *message)
{
    struct check_env *e = ud;
    req_invalid(e->c, e->f->name, message);
}

static int get_integer(json_object *v, long long *out)
{
    if (json_object_is_type(v, json_type_int)) {
        errno = 0;
        *out = json_object_get_int64(v);
        if (errno) return -1;
        /* json-c keeps values above INT64_MAX as uint64; they never fit a column here */
        if (*out == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX) return -1;
        return 0;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!(d >= -9.2e18 && d <= 9.2e18) || d != (double)(long long)d) return -1;
        *out = (long long)d;
        return 0;
    }
    if (json_object_is_type(v, json_type_string))
        return value_parse_int(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                               out);
    return -1;
}

/* JSON value → column value, enforcing that it fits the column. Adds a message and
 * returns -1 when it does not. */
static int convert(struct ctx *c, const struct field *f, json_object *v, struct write_value *w)
{
    const char *name = f->name, *label = f->label;
    if (!v) {
        if (f->null_means_default) w->use_default = true;
        else w->p = db_null();
        return 0;
    }
    long long iv;
    switch (f->type) {
    case FIELD_ID:
        return 0;
    case FIELD_STRING:
    case FIELD_TEXT: {
        if (!json_object_is_type(v, json_type_string)) {
            req_invalid(c, name, arena_printf(c->arena, "The %s field must be a string.", label));
            return -1;
        }
        const char *s = json_object_get_string(v);
        size_t n = (size_t)json_object_get_string_len(v);
        if (f->type == FIELD_STRING && value_utf8_len(s, n) > 255) {
            req_invalid(c, name, arena_printf(c->arena,
                        "The %s field must not be greater than 255 characters.", label));
            return -1;
        }
        if (f->type == FIELD_TEXT && n > 65535) {
            req_invalid(c, name, arena_printf(c->arena,
                        "The %s field must not be greater than 65535 bytes.", label));
            return -1;
        }
        w->p = db_str(s, n);
        return 0;
    }
    case FIELD_INT:
        if (get_integer(v, &iv)) {
            req_invalid(c, name, arena_printf(c->arena, "The %s field must be an integer.", label));
            return -1;
        }
        if (iv > 2147483647LL) {
            req_invalid(c, name, arena_printf(c->arena,
                        "The %s field must not be greater than 2147483647.", label));
            return -1;
        }
        if (iv < -2147483648LL) {
            req_invalid(c, name, arena_printf(c->arena,
                        "The %s field must be at least -2147483648.", label));
            return -1;
        }
        w->p = db_int(iv);
        return 0;
    case FIELD_FK:
        if (get_integer(v, &iv) || iv < 1) {
            req_invalid(c, name, arena_printf(c->arena, "The selected %s is invalid.", label));
            return -1;
        }
        w->p = db_int(iv);
        return 0;
    case FIELD_BOOL:
        if (json_object_is_type(v, json_type_boolean)) {
            w->p = db_int(json_object_get_boolean(v) ? 1 : 0);
            return 0;
        }
        if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_string)) {
            const char *s = json_object_get_string(v);
            if (!strcmp(s, "0") || !strcmp(s, "1")) {
                w->p = db_int(s[0] == '1');
                return 0;
            }
        }
        req_invalid(c, name, arena_printf(c->arena, "The %s field must be true or false.", label));
        return -1;
    case FIELD_JSON: {
        if (!json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array)) {
            req_invalid(c, name, arena_printf(c->arena, "The %s field must be an array.", label));
            return -1;
        }
        /* the client's own text (json-c would clamp integers past 64 bits) */
        const char *raw;
        size_t rawlen;
        if (jsonraw_member(c->req->body, c->req->body_len, f->name, &raw, &rawlen) == 0) {
            char *copy = arena_alloc(c->arena, rawlen + 1);
            size_t n = jsonraw_minify(raw, rawlen, copy);
            w->p = db_str(copy, n);
            return 0;
        }
        size_t n;
        const char *s = json_object_to_json_string_length(
            v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
        char *copy = arena_strndup(c->arena, s, n);
        w->p = db_str(copy, n);
        return 0;
    }
    case FIELD_DECIMAL: {
        const char *s;
        size_t n;
        if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double) ||
            json_object_is_type(v, json_type_string)) {
            s = json_object_get_string(v);
            n = strlen(s);
            if (json_object_is_type(v, json_type_string)) n = (size_t)json_object_get_string_len(v);
        } else {
            req_invalid(c, name, arena_printf(c->arena, "The %s field must be a number.", label));
            return -1;
        }
        char *out = arena_alloc(c->arena, (size_t)f->precision + 8);
        int rc = value_decimal(s, n, f->precision, f->scale, out, (size_t)f->precision + 8);
        if (rc == -1) {
            req_invalid(c, name, arena_printf(c->arena, "The %s field must be a number.", label));
            return -1;
        }
        if (rc == -2) {
            char max[80];
            int ip = f->precision - f->scale;
            size_t k = 0;
            for (int i = 0; i < ip && k < 70; i++) max[k++] = '9';
            if (ip == 0) max[k++] = '0';
            if (f->scale) max[k++] = '.';
            for (int i = 0; i < f->scale && k < 78; i++) max[k++] = '9';
            max[k] = '\0';
            req_invalid(c, name, arena_printf(c->arena,
                        "The %s field must not be greater than %s.", label, max));
            return -1;
        }
        w->p = db_str(out, strlen(out));
        return 0;
    }
    case FIELD_TIMESTAMP: {
        char utc[27];
        if (!json_object_is_type(v, json_type_string) ||
            value_parse_date(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                             utc)) {
            req_invalid(c, name, arena_printf(c->arena, "The %s field must be a valid date.", label));
            return -1;
        }
        if (!value_timestamp_fits(utc)) {
            req_invalid(c, name, arena_printf(c->arena,
                        "The %s field must be a date between 1970-01-01T00:00:01Z and "
                        "2038-01-19T03:14:07Z.", label));
            return -1;
        }
        char *t = arena_strdup(c->arena, utc);
        w->p = db_str(t, strlen(t));
        return 0;
    }
    }
    return 0;
}

static bool field_has_errors(struct ctx *c, const struct field *f)
{
    for (size_t i = 0; i < c->err.nfields; i++)
        if (!strcmp(c->err.fields[i].field, f->name)) return true;
    return false;
}

/* unique:table,col1,col2 — checked against the record as it will be after the write:
 * sent values, else the existing row's (update), else the declared default (create). */
static int check_unique(struct ctx *c, const struct resource *r, const struct write_value *w,
                        const struct db_result *existing, unsigned long long self_id)
{
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if (!f->unique) continue;
        const struct rule *u = f->unique;
        bool touched = false, skip = false;
        struct sql q;
        sql_init(&q, c->arena);
        sql_printf(&q, "SELECT 1 FROM `%s` WHERE ", r->table);
        size_t ncols = u->nargs > 1 ? u->nargs - 1 : 1;
        for (size_t k = 0; k < ncols && !skip; k++) {
            const struct field *col = resource_field(r, u->nargs > 1 ? u->args[1 + k] : f->name);
            size_t ci = field_index(r, col);
            if (field_has_errors(c, col)) skip = true;
            struct db_param p;
            if (w[ci].present) {
                touched = true;
                p = w[ci].p;
            } else if (existing) {
                const struct db_cell *cell = db_cell(existing, 0, ci);
                p = bind_text(c, col, cell->s, cell->len);
            } else if (col->default_value) {
                p = bind_text(c, col, col->default_value, strlen(col->default_value));
            } else {
                skip = true;
                break;
            }
            if (p.type == DBP_NULL) skip = true; /* NULLs never collide */
            sql_printf(&q, "%s`%s` = ?", k ? " AND " : "", col->name);
            sql_param(&q, p);
        }
        if (skip || !touched) continue;
        if (existing) {
            sql_printf(&q, " AND `%s` <> ?", r->id->name);
            sql_param(&q, db_uint(self_id));
        }
        sql_puts(&q, " LIMIT 1");
        struct db_result res;
        int s = sql_run(c, &q, &res);
        if (s != DB_OK) return req_db_fail(c, s);
        if (res.nrows)
            req_invalid(c, f->name,
                        arena_printf(c->arena, "The %s has already been taken.", f->label));
    }
    return 0;
}

static int validate(struct ctx *c, const struct resource *r, bool partial,
                    const struct db_result *existing, unsigned long long self_id,
                    struct write_value *w)
{
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        memset(&w[i], 0, sizeof w[i]);
        if (!f->fillable) continue;
        json_object *v = NULL;
        bool present = json_object_object_get_ex(c->body_json, f->name, &v);
        struct check_env env = {c, f};
        struct rules_env re = {exists_cb, fail_cb, &env, partial};
        int nfail = rules_check(&f->rules, f->label, present, v, &re);
        if (nfail < 0) return req_db_fail(c, nfail);
        if (!present || nfail > 0) continue;
        w[i].present = true;
        w[i].json = v;
        if (convert(c, f, v, &w[i])) w[i].present = false;
    }
    if (check_unique(c, r, w, existing, self_id)) return -1;
    if (c->err.kind != REQ_E_INVALID) return 0;
    /* unique is checked last (it needs the whole record) but reported in field order,
     * as Laravel reports it: a stable sort of the error list by field position */
    for (size_t i = 1; i < c->err.nfields; i++) {
        struct req_field_errors fe = c->err.fields[i];
        const struct field *f = resource_field(r, fe.field);
        size_t pos = f ? field_index(r, f) : r->nfields;
        size_t j = i;
        while (j > 0) {
            const struct field *g = resource_field(r, c->err.fields[j - 1].field);
            if ((g ? field_index(r, g) : r->nfields) <= pos) break;
            c->err.fields[j] = c->err.fields[j - 1];
            j--;
        }
        c->err.fields[j] = fe;
    }
    return -1;
}

/* Whether a validated value equals what the row already holds, so an update that changes
 * nothing writes nothing (and leaves updated_at alone), as Eloquent's dirty check does. */
static bool unchanged(const struct field *f, const struct write_value *w, const struct db_cell *cell)
{
    if (w->use_default) return false;
    const struct db_param *p = &w->p;
    if (p->type == DBP_NULL || !cell->s) return p->type == DBP_NULL && !cell->s;
    switch (p->type) {
    case DBP_INT:
        return strtoll(cell->s, NULL, 10) == p->i;
    case DBP_UINT:
        return strtoull(cell->s, NULL, 10) == p->u;
    case DBP_STR:
        if (f->type == FIELD_TIMESTAMP) /* the column keeps whole seconds */
            return p->len >= 19 && cell->len >= 19 && !memcmp(p->s, cell->s, 19) &&
                   (cell->len == 19 || !memcmp(p->s + 19, cell->s + 19, cell->len - 19));
        return p->len == cell->len && !memcmp(p->s, cell->s, p->len);
    default:
        return false;
    }
}

/* Turn a constraint error of the write itself into the 422 a client can act on. */
static int write_failed(struct ctx *c, const struct resource *r, int s)
{
    if (s == DB_DUPLICATE) {
        for (size_t i = 0; i < r->nfields; i++)
            if (r->fields[i].unique) {
                req_invalid(c, r->fields[i].name,
                            arena_printf(c->arena, "The %s has already been taken.",
                                         r->fields[i].label));
                return -1;
            }
        return req_fail(c, REQ_E_CONFLICT, "The record conflicts with an existing one.");
    }
    if (s == DB_NO_PARENT) {
        /* "... FOREIGN KEY (`workflow_id`) REFERENCES ..." names the column */
        const char *m = strstr(db_error_message(c->db), "FOREIGN KEY (`");
        for (size_t i = 0; m && i < r->nfields; i++) {
            size_t n = strlen(r->fields[i].name);
            if (!strncmp(m + 14, r->fields[i].name, n) && m[14 + n] == '`') {
                req_invalid(c, r->fields[i].name,
                            arena_printf(c->arena, "The selected %s is invalid.", r->fields[i].label));
                return -1;
            }
        }
        return req_fail(c, REQ_E_INVALID, "A referenced record does not exist.");
    }
    return req_db_fail(c, s);
}

static void reset_error(struct ctx *c)
{
    memset(&c->err, 0, sizeof c->err);
    buf_reset(c->headers);
}

static int store_once(struct ctx *c, const struct resource *r, unsigned long long *new_id)
{
    int s = db_begin(c->db);
    if (s != DB_OK) return req_db_fail(c, s);
    struct write_value *w = arena_calloc(c->arena, r->nfields * sizeof *w);
    if (validate(c, r, false, NULL, 0, w)) return -1;
    struct sql q;
    sql_init(&q, c->arena);
    sql_printf(&q, "INSERT INTO `%s` (", r->table);
    size_t ncols = 0;
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if ((w[i].present && !w[i].use_default) || f->autoset != AUTO_NONE)
            sql_printf(&q, "%s`%s`", ncols++ ? "," : "", f->name);
    }
    sql_puts(&q, ") VALUES (");
    ncols = 0;
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if (f->autoset != AUTO_NONE) {
            sql_puts(&q, ncols++ ? ",CURRENT_TIMESTAMP" : "CURRENT_TIMESTAMP");
        } else if (w[i].present && !w[i].use_default) {
            sql_puts(&q, ncols++ ? ",?" : "?");
            sql_param(&q, w[i].p);
        }
    }
    sql_puts(&q, ")");
    struct db_result res;
    s = sql_run(c, &q, &res);
    if (s != DB_OK) return write_failed(c, r, s);
    *new_id = res.insert_id;
    return 0;
}

int crud_store(struct ctx *c)
{
    const struct resource *r = c->match.route->resource;
    unsigned long long id = 0;
    int rc = -1;
    for (int attempt = 0; attempt < TX_ATTEMPTS; attempt++) {
        reset_error(c);
        rc = store_once(c, r, &id);
        if (rc == 0) {
            struct db_result res;
            if (fetch_one(c, r, id, false, &res)) return -1;
            int s = db_commit(c->db);
            if (s != DB_OK) rc = req_db_fail(c, s);
            else {
                c->status = 201;
                buf_printf(c->headers, "Location: %s%s/%llu\r\n", c->req->base_url,
                           c->req->raw_path, id);
                return emit_single(c, r, &res, NULL, 0);
            }
        }
        db_rollback(c->db);
        /* a deadlock between concurrent writers is retried; anything else is final */
        if (!(c->err.kind == REQ_E_UNAVAILABLE && db_error_code(c->db) == 1213)) break;
    }
    return rc;
}

static int update_once(struct ctx *c, const struct resource *r, unsigned long long id)
{
    int s = db_begin(c->db);
    if (s != DB_OK) return req_db_fail(c, s);
    struct db_result cur;
    if (fetch_one(c, r, id, true, &cur)) return -1;
    if (cur.nrows == 0) return not_found(c, r, c->match.params[0]);
    struct write_value *w = arena_calloc(c->arena, r->nfields * sizeof *w);
    if (validate(c, r, true, &cur, id, w)) return -1;
    struct sql q;
    sql_init(&q, c->arena);
    sql_printf(&q, "UPDATE `%s` SET ", r->table);
    size_t n = 0;
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if (!w[i].present || unchanged(f, &w[i], db_cell(&cur, 0, i))) continue;
        if (w[i].use_default) {
            sql_printf(&q, "%s`%s` = DEFAULT", n++ ? ", " : "", f->name);
        } else {
            sql_printf(&q, "%s`%s` = ?", n++ ? ", " : "", f->name);
            sql_param(&q, w[i].p);
        }
    }
    if (n == 0) return 0; /* nothing changes, so not even updated_at does */
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].autoset == AUTO_UPDATED)
            sql_printf(&q, ", `%s` = CURRENT_TIMESTAMP", r->fields[i].name);
    sql_printf(&q, " WHERE `%s` = ?", r->id->name);
    sql_param(&q, db_uint(id));
    s = sql_run(c, &q, NULL);
    if (s != DB_OK) return write_failed(c, r, s);
    return 0;
}

int crud_update(struct ctx *c)
{
    const struct resource *r = c->match.route->resource;
    unsigned long long id;
    if (parse_id(c->match.params[0], &id)) return not_found(c, r, c->match.params[0]);
    int rc = -1;
    for (int attempt = 0; attempt < TX_ATTEMPTS; attempt++) {
        reset_error(c);
        rc = update_once(c, r, id);
        if (rc == 0) {
            struct db_result res;
            if (fetch_one(c, r, id, false, &res)) return -1;
            int s = db_commit(c->db);
            if (s != DB_OK) rc = req_db_fail(c, s);
            else {
                c->status = 200;
                return emit_single(c, r, &res, NULL, 0);
            }
        }
        db_rollback(c->db);
        if (!(c->err.kind == REQ_E_UNAVAILABLE && db_error_code(c->db) == 1213)) break;
    }
    return rc;
}

int crud_destroy(struct ctx *c)
{
    const struct resource *r = c->match.route->resource;
    unsigned long long id;
    if (parse_id(c->match.params[0], &id)) return not_found(c, r, c->match.params[0]);
    int s = db_begin(c->db);
    if (s != DB_OK) return req_db_fail(c, s);
    struct sql q;
    sql_init(&q, c->arena);
    sql_printf(&q, "SELECT 1 FROM `%s` WHERE `%s` = ? FOR UPDATE", r->table, r->id->name);
    sql_param(&q, db_uint(id));
    struct db_result res;
    s = sql_run(c, &q, &res);
    if (s != DB_OK) return req_db_fail(c, s);
    if (res.nrows == 0) return not_found(c, r, c->match.params[0]);
    for (size_t i = 0; i < r->nrestrict_delete; i++) {
        const struct relation *rel = r->restrict_delete[i];
        sql_init(&q, c->arena);
        sql_printf(&q, "SELECT COUNT(*) FROM `%s` WHERE `%s` = ?", rel->target->table,
                   rel->foreign_key->name);
        sql_param(&q, db_uint(id));
        s = sql_run(c, &q, &res);
        if (s != DB_OK) return req_db_fail(c, s);
        long long n = strtoll(db_cell(&res, 0, 0)->s, NULL, 10);
        if (n > 0) {
            char plural[128];
            rules_label(rel->target->table, plural, sizeof plural);
            return req_failf(c, REQ_E_CONFLICT,
                             "This %s is still used by %lld %s; delete or reassign %s first.",
                             r->singular_label, n, n == 1 ? rel->target->singular_label : plural,
                             n == 1 ? "it" : "them");
        }
    }
    sql_init(&q, c->arena);
    sql_printf(&q, "DELETE FROM `%s` WHERE `%s` = ?", r->table, r->id->name);
    sql_param(&q, db_uint(id));
    s = sql_run(c, &q, NULL);
    if (s == DB_HAS_CHILDREN)
        return req_failf(c, REQ_E_CONFLICT, "This %s is still in use and cannot be deleted.",
                         r->singular_label);
    if (s != DB_OK) return req_db_fail(c, s);
    s = db_commit(c->db);
    if (s != DB_OK) return req_db_fail(c, s);
    c->status = 204;
    return 0;
}
