/* list.c — one listing: parse the options, build WHERE/ORDER BY from whitelisted
 * identifiers with bound values, fetch a page (LIMIT/OFFSET with a count) or a keyset
 * slice (signed cursor), and write data, links and meta as Laravel's paginators do.
 * Links keep the request's other parameters. A listing never costs more than a count, one
 * page and one query per include; a page list usually reuses its worker's cached count. */
#include "list.h"
#include "config.h"
#include "countcache.h"
#include "cursor.h"
#include "db.h"
#include "eager.h"
#include "mono.h"
#include "query.h"
#include "sqlb.h"
#include "stats.h"
#include "value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SORT 8
#define MAX_FILTERS 16

struct list_filter {
    const struct field *f;
    struct db_param p;
    const char *text;
};

struct list_opts {
    struct query q;
    long long page;
    long long per_page;
    const struct query_param *cursor;
    struct sort_key sort[MAX_SORT + 1];
    size_t nsort;
    struct eager_includes inc;
    struct list_filter filters[MAX_FILTERS];
    size_t nfilters;
};

/* ---- options ---- */

static int parse_filter_value(struct ctx *c, const struct field *f, const struct query_param *qp,
                              struct db_param *out)
{
    char key[96];
    snprintf(key, sizeof key, "filter[%s]", f->name);
    if (!value_utf8_valid(qp->value, qp->len))
        return req_failf(c, REQ_E_BAD_REQUEST,
                         "The value of %s is not valid UTF-8 or has a NUL byte.", key);
    long long v;
    switch (f->type) {
    case FIELD_BOOL:
        if (!strcmp(qp->value, "1") || !strcmp(qp->value, "true"))
            *out = db_int(1);
        else if (!strcmp(qp->value, "0") || !strcmp(qp->value, "false"))
            *out = db_int(0);
        else {
            req_invalid(c, key,
                        arena_printf(c->arena, "The %s filter must be true or false.", f->label));
            return -1;
        }
        return 0;
    case FIELD_ID:
    case FIELD_FK:
    case FIELD_INT:
        if (value_parse_int(qp->value, qp->len, &v)) {
            req_invalid(c, key,
                        arena_printf(c->arena, "The %s filter must be an integer.", f->label));
            return -1;
        }
        *out = db_int(v);
        return 0;
    case FIELD_TIMESTAMP: {
        char utc[27];
        if (value_parse_date(qp->value, qp->len, utc)) {
            req_invalid(c, key,
                        arena_printf(c->arena, "The %s filter must be a valid date.", f->label));
            return -1;
        }
        const char *t = arena_strdup(c->arena, utc);
        *out = db_str(t, strlen(t));
        return 0;
    }
    default: *out = db_str(qp->value, qp->len); return 0;
    }
}

static void parse_paging(struct ctx *c, enum pagination pg_kind, struct list_opts *o)
{
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
        else
            o->per_page = v;
    }
    if (pg_kind == PAGINATE_PAGE) {
        const struct query_param *pg = query_get(q, "page");
        if (pg) {
            long long v;
            if (value_parse_int(pg->value, pg->len, &v))
                req_invalid(c, "page", "The page field must be an integer.");
            else if (v < 1 || v > 1000000000LL)
                req_invalid(c, "page", "The page field must be between 1 and 1000000000.");
            else
                o->page = v;
        }
    } else {
        o->cursor = query_get(q, "cursor");
        if (o->cursor && o->cursor->len == 0) o->cursor = NULL;
    }
}

static int parse_filters(struct ctx *c, const struct resource *r, struct list_opts *o)
{
    const struct query *q = &o->q;
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
    return c->err.kind == REQ_E_INVALID ? -1 : 0;
}

static int parse_sort(struct ctx *c, const struct resource *r, const struct sort_key *order,
                      size_t norder, struct list_opts *o)
{
    const struct query_param *sp = query_get(&o->q, "sort");
    if (sp && sp->len) {
        int n = value_utf8_valid(sp->value, sp->len)
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
    return 0;
}

static int parse_opts(struct ctx *c, const struct resource *r, enum pagination pg_kind,
                      const struct sort_key *order, size_t norder, struct list_opts *o)
{
    memset(o, 0, sizeof *o);
    if (query_parse(c->arena, c->req->query, &o->q))
        return req_fail(c, REQ_E_BAD_REQUEST, "The query string is malformed.");
    parse_paging(c, pg_kind, o);
    if (c->err.kind == REQ_E_INVALID) return -1;
    if (parse_filters(c, r, o) || parse_sort(c, r, order, norder, o)) return -1;
    return eager_parse(c, r, &o->q, &o->inc);
}

/* ---- SQL ---- */

static void add_where(struct sqlb *q, const struct list_opts *o, const struct field *scope_fk,
                      unsigned long long scope_id, bool *first)
{
    if (scope_fk) {
        sqlb_printf(q, " WHERE `%s` = ?", scope_fk->name);
        sqlb_param(q, db_uint(scope_id));
        *first = false;
    }
    for (size_t i = 0; i < o->nfilters; i++) {
        sqlb_printf(q, "%s`%s` = ?", *first ? " WHERE " : " AND ", o->filters[i].f->name);
        sqlb_param(q, o->filters[i].p);
        *first = false;
    }
}

/* ---- links that keep the request's other parameters ---- */

/* The listing's own URL as a JSON string, with `key`=`value` replacing any earlier one. */
static void write_url(struct ctx *c, const struct list_opts *o, const char *key, const char *value)
{
    struct buf *out = c->out;
    buf_putc(out, '"');
    buf_json_chars(out, req_base_url(c), strlen(req_base_url(c)));
    buf_json_chars(out, c->req->raw_path, strlen(c->req->raw_path));
    /* percent-encoded text is plain ASCII: safe inside a JSON string as it is */
    char sep = '?';
    for (size_t i = 0; i < o->q.n; i++) {
        const struct query_param *qp = &o->q.items[i];
        if (!strcmp(qp->key, key)) continue;
        buf_putc(out, sep);
        sep = '&';
        buf_url_encode(out, qp->key, qp->key_len);
        buf_putc(out, '=');
        buf_url_encode(out, qp->value, qp->len);
    }
    buf_putc(out, sep);
    buf_puts(out, key);
    buf_putc(out, '=');
    buf_url_encode(out, value, strlen(value));
    buf_putc(out, '"');
}

static void write_path(struct ctx *c)
{
    buf_putc(c->out, '"');
    buf_json_chars(c->out, req_base_url(c), strlen(req_base_url(c)));
    buf_json_chars(c->out, c->req->raw_path, strlen(c->req->raw_path));
    buf_putc(c->out, '"');
}

static void write_page_link(struct ctx *c, const struct list_opts *o, bool present, long long page)
{
    if (!present) {
        buf_puts(c->out, "null");
        return;
    }
    char num[32];
    snprintf(num, sizeof num, "%lld", page);
    write_url(c, o, "page", num);
}

/* ---- page pagination ---- */

/* The count statement of a listing; its text and bound values are also the cache key. */
static void build_count(struct ctx *c, const struct resource *r, const struct list_opts *o,
                        const struct field *scope_fk, unsigned long long scope_id, struct sqlb *q,
                        struct countcache_key *key)
{
    bool first = true;
    sqlb_init(q, c->arena);
    sqlb_printf(q, "SELECT COUNT(*) FROM `%s`", r->table);
    add_where(q, o, scope_fk, scope_id, &first);
    countcache_key_init(key);
    countcache_key_text(key, q->s, q->len);
    for (size_t i = 0; i < q->np; i++) countcache_key_param(key, &q->params[i]);
}

static int run_count(struct ctx *c, struct sqlb *count_q, long long *total)
{
    struct db_result count;
    int s = sqlb_run(count_q, c->db, &count);
    if (s != DB_OK) return req_db_fail(c, s);
    *total = count.nrows ? strtoll(db_cell(&count, 0, 0)->s, NULL, 10) : 0;
    return 0;
}

/* What the page itself proves about the total, whatever a cached count says. */
enum page_proof {
    PROOF_NONE,     /* consistent with the cached count: keep it (and its age) */
    PROOF_EXACT,    /* rows, but fewer than per_page (the last page), or page 1 empty: exact */
    PROOF_AT_LEAST, /* a full page past the cached count: at least its last row */
    PROOF_RECOUNT,  /* an empty page before the cached end: rows went away elsewhere */
};

static enum page_proof page_proof(long long offset, long long per_page, size_t nrows,
                                  long long *total)
{
    long long n = (long long)nrows;
    if ((n > 0 && n < per_page) || (n == 0 && offset == 0)) {
        *total = offset + n;
        return PROOF_EXACT;
    }
    if (n == per_page && *total < offset + n) {
        *total = offset + n;
        return PROOF_AT_LEAST;
    }
    return n == 0 && *total > offset ? PROOF_RECOUNT : PROOF_NONE;
}

/* A page and meta.total. The count is two thirds of a page's database work, so a worker
 * reuses it (countcache.h) while the pool has answered no write and it is younger than
 * list.count_cache_ms; then the page is one plain statement. Otherwise one statement
 * carries both: the count rides along as an uncorrelated scalar subquery (evaluated once
 * per statement) in an extra last column of every row, and only a page past the end,
 * which has no row to carry it, costs a second statement for the count. */
static int list_pages(struct ctx *c, const struct resource *r, struct list_opts *o,
                      const struct field *scope_fk, unsigned long long scope_id)
{
    struct sqlb q, count_q;
    struct db_result rows;
    long long offset = (o->page - 1) * o->per_page;
    long long total = 0;
    struct countcache_key key;
    build_count(c, r, o, scope_fk, scope_id, &count_q, &key);
    bool use_cache = c->counts && c->stats && c->cfg->count_cache_ms > 0 && r->count_cache;
    /* the generation is read before anything is counted: a write answered after this
     * point bumps it, and the count stored below is never served for it */
    uint64_t gen = use_cache ? stats_write_generation(c->stats) : 0;
    uint64_t now = use_cache ? (uint64_t)mono_ms() : 0;
    bool hit = use_cache &&
               countcache_get(c->counts, &key, gen, now, (uint64_t)c->cfg->count_cache_ms, &total);
    if (use_cache) stats_count_cache(c->stats, hit);
    bool first = true;
    sqlb_init(&q, c->arena);
    if (hit) {
        sqlb_printf(&q, "SELECT %s FROM `%s`", r->select_list, r->table);
    } else {
        sqlb_printf(&q, "SELECT %s, (SELECT COUNT(*) FROM `%s`", r->select_list, r->table);
        add_where(&q, o, scope_fk, scope_id, &first);
        sqlb_printf(&q, ") FROM `%s`", r->table);
        first = true;
    }
    add_where(&q, o, scope_fk, scope_id, &first);
    sqlb_order(&q, o->sort, o->nsort, false);
    sqlb_puts(&q, " LIMIT ? OFFSET ?");
    sqlb_param(&q, db_int(o->per_page));
    sqlb_param(&q, db_int(offset));
    int s = sqlb_run(&q, c->db, &rows);
    if (s != DB_OK) return req_db_fail(c, s);
    if (hit) {
        /* a bound (not exact) total is answered but never stored: the entry keeps its age,
         * so the lag behind writes made elsewhere stays within the TTL */
        switch (page_proof(offset, o->per_page, rows.nrows, &total)) {
        case PROOF_RECOUNT:
            if (run_count(c, &count_q, &total)) return -1;
            countcache_put(c->counts, &key, gen, now, total);
            break;
        case PROOF_EXACT: countcache_put(c->counts, &key, gen, now, total); break;
        case PROOF_AT_LEAST:
        case PROOF_NONE: break;
        }
    } else {
        if (rows.nrows)
            total = strtoll(db_cell(&rows, 0, r->nfields)->s, NULL, 10);
        else if (offset > 0 && run_count(c, &count_q, &total))
            return -1;
        if (use_cache) countcache_put(c->counts, &key, gen, now, total);
    }
    long long last = total ? (total + o->per_page - 1) / o->per_page : 1;
    buf_puts(c->out, "{\"data\":");
    if (eager_write_rows(c, r, &rows, &o->inc)) return -1;
    buf_puts(c->out, ",\"links\":{\"first\":");
    write_page_link(c, o, true, 1);
    buf_puts(c->out, ",\"last\":");
    write_page_link(c, o, true, last);
    buf_puts(c->out, ",\"prev\":");
    write_page_link(c, o, o->page > 1 && o->page <= last + 1, o->page - 1);
    buf_puts(c->out, ",\"next\":");
    write_page_link(c, o, o->page < last, o->page + 1);
    buf_printf(c->out, "},\"meta\":{\"current_page\":%lld,\"from\":", o->page);
    if (rows.nrows)
        buf_printf(c->out, "%lld", offset + 1);
    else
        buf_puts(c->out, "null");
    buf_printf(c->out, ",\"last_page\":%lld,\"path\":", last);
    write_path(c);
    buf_printf(c->out, ",\"per_page\":%lld,\"to\":", o->per_page);
    if (rows.nrows)
        buf_printf(c->out, "%lld", offset + (long long)rows.nrows);
    else
        buf_puts(c->out, "null");
    buf_printf(c->out, ",\"total\":%lld}}", total);
    return 0;
}

/* ---- cursor pagination ---- */

/* What a cursor is bound to: the resource, the path, the sort and the filters (in field
 * order, so reordering query parameters keeps a cursor valid). Every part is length-prefixed,
 * so no filter value can pass for a separator and another listing's context. */
static void cursor_context(struct ctx *c, const struct resource *r, const struct list_opts *o,
                           struct buf *ctxb)
{
    cursor_context_add(ctxb, r->name, strlen(r->name));
    cursor_context_add(ctxb, c->req->raw_path, strlen(c->req->raw_path));
    buf_printf(ctxb, "s%zu", o->nsort);
    for (size_t i = 0; i < o->nsort; i++) {
        buf_putc(ctxb, o->sort[i].desc ? '-' : '+');
        cursor_context_add(ctxb, o->sort[i].field->name, strlen(o->sort[i].field->name));
    }
    buf_printf(ctxb, "f%zu", o->nfilters);
    for (size_t k = 0; k < r->nfields; k++)
        for (size_t i = 0; i < o->nfilters; i++)
            if (o->filters[i].f == &r->fields[k]) {
                cursor_context_add(ctxb, r->fields[k].name, strlen(r->fields[k].name));
                cursor_context_add(ctxb, o->filters[i].text, strlen(o->filters[i].text));
            }
}

static char *make_cursor(struct ctx *c, const struct resource *r, const struct list_opts *o,
                         const struct buf *ctxb, const struct db_result *rows, size_t row,
                         bool next)
{
    const char *vals[MAX_SORT + 1];
    size_t lens[MAX_SORT + 1];
    for (size_t i = 0; i < o->nsort; i++) {
        const struct db_cell *cell = db_cell(rows, row, resource_field_index(r, o->sort[i].field));
        vals[i] = cell->s;
        lens[i] = cell->len;
    }
    return cursor_encode(c->arena, c->cfg->app_key, ctxb->data, ctxb->len, next, vals, lens,
                         o->nsort);
}

/* keyset: (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ..., each key in its direction, flipped
 * when walking backwards */
static void add_keyset(struct ctx *c, struct sqlb *q, const struct list_opts *o, bool first,
                       const char *const *vals, const size_t *vlens, bool next)
{
    sqlb_puts(q, first ? " WHERE (" : " AND (");
    for (size_t i = 0; i < o->nsort; i++) {
        sqlb_puts(q, i ? " OR (" : "(");
        for (size_t j = 0; j < i; j++) {
            sqlb_printf(q, "`%s` = ? AND ", o->sort[j].field->name);
            sqlb_param(q, sqlb_bind_text(c->arena, o->sort[j].field, vals[j], vlens[j]));
        }
        bool greater = o->sort[i].desc ? !next : next;
        sqlb_printf(q, "`%s` %s ?)", o->sort[i].field->name, greater ? ">" : "<");
        sqlb_param(q, sqlb_bind_text(c->arena, o->sort[i].field, vals[i], vlens[i]));
    }
    sqlb_puts(q, ")");
}

static void reverse_rows(struct db_result *rows)
{
    for (size_t i = 0; i < rows->nrows / 2; i++)
        for (size_t k = 0; k < rows->ncols; k++) {
            struct db_cell *a = &rows->cells[i * rows->ncols + k];
            struct db_cell *b = &rows->cells[(rows->nrows - 1 - i) * rows->ncols + k];
            struct db_cell t = *a;
            *a = *b;
            *b = t;
        }
}

static void write_cursor_or_null(struct ctx *c, const char *cur, bool as_link,
                                 const struct list_opts *o)
{
    if (!cur)
        buf_puts(c->out, "null");
    else if (as_link)
        write_url(c, o, "cursor", cur);
    else
        buf_json_cstr(c->out, cur);
}

static int list_cursor(struct ctx *c, const struct resource *r, struct list_opts *o,
                       const struct field *scope_fk, unsigned long long scope_id)
{
    const char *vals[MAX_SORT + 1];
    size_t vlens[MAX_SORT + 1];
    bool next = true;
    struct buf *ctxb = buf_for_request(c->arena, 0);
    cursor_context(c, r, o, ctxb);
    if (o->cursor && cursor_decode(c->arena, c->cfg->app_key, ctxb->data, ctxb->len,
                                   o->cursor->value, o->cursor->len, o->nsort, vals, vlens, &next))
        return req_fail(c, REQ_E_BAD_REQUEST, "The cursor is invalid for this listing.");
    struct sqlb q;
    sqlb_init(&q, c->arena);
    sqlb_printf(&q, "SELECT %s FROM `%s`", r->select_list, r->table);
    bool first = true;
    add_where(&q, o, scope_fk, scope_id, &first);
    if (o->cursor) add_keyset(c, &q, o, first, vals, vlens, next);
    sqlb_order(&q, o->sort, o->nsort, !next);
    sqlb_puts(&q, " LIMIT ?");
    sqlb_param(&q, db_int(o->per_page + 1));
    struct db_result rows;
    int s = sqlb_run(&q, c->db, &rows);
    if (s != DB_OK) return req_db_fail(c, s);
    bool more = rows.nrows > (size_t)o->per_page;
    if (more) rows.nrows = (size_t)o->per_page;
    if (!next) reverse_rows(&rows); /* fetched backwards: restore the listing's order */
    bool has_next = next ? more : true;
    bool has_prev = next ? o->cursor != NULL : more;
    if (rows.nrows == 0) has_next = has_prev = false;
    const char *nc = has_next ? make_cursor(c, r, o, ctxb, &rows, rows.nrows - 1, true) : NULL;
    const char *pc = has_prev ? make_cursor(c, r, o, ctxb, &rows, 0, false) : NULL;
    buf_puts(c->out, "{\"data\":");
    if (eager_write_rows(c, r, &rows, &o->inc)) return -1;
    buf_puts(c->out, ",\"links\":{\"first\":null,\"last\":null,\"prev\":");
    write_cursor_or_null(c, pc, true, o);
    buf_puts(c->out, ",\"next\":");
    write_cursor_or_null(c, nc, true, o);
    buf_puts(c->out, "},\"meta\":{\"path\":");
    write_path(c);
    buf_printf(c->out, ",\"per_page\":%lld,\"next_cursor\":", o->per_page);
    write_cursor_or_null(c, nc, false, o);
    buf_puts(c->out, ",\"prev_cursor\":");
    write_cursor_or_null(c, pc, false, o);
    buf_puts(c->out, "}}");
    return 0;
}

int list_write(struct ctx *c, const struct resource *r, enum pagination pg_kind,
               const struct sort_key *order, size_t norder, const struct field *scope_fk,
               unsigned long long scope_id)
{
    struct list_opts *o = arena_alloc(c->arena, sizeof *o);
    if (parse_opts(c, r, pg_kind, order, norder, o)) return -1;
    if (pg_kind == PAGINATE_CURSOR) return list_cursor(c, r, o, scope_fk, scope_id);
    return list_pages(c, r, o, scope_fk, scope_id);
}
