/* eager.c — ?include= eager loading: one query per requested relation for a whole set of
 * rows, matched back to each row in memory, written after the row's own fields. Must
 * never issue a query per row. */
#include "eager.h"
#include "config.h"
#include "repr.h"
#include "rules.h"
#include "sqlb.h"

#include <stdlib.h>
#include <string.h>

struct loaded {
    const struct relation *rel;
    struct db_result res;
    size_t key_col; /* column in res to match against */
};

int eager_parse(struct ctx *c, const struct resource *r, const struct query *q,
                struct eager_includes *out)
{
    const struct query_param *inc = query_get(q, "include");
    out->n = 0;
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
        for (size_t i = 0; i < out->n; i++) dup |= out->rel[i] == rel;
        if (!dup) {
            if (out->n == EAGER_MAX_INCLUDES)
                return req_fail(c, REQ_E_BAD_REQUEST, "Too many includes.");
            out->rel[out->n++] = rel;
        }
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

/* The column of `r` whose value identifies a row's related records. */
static size_t own_column(const struct resource *r, const struct relation *rel)
{
    return rel->kind == REL_BELONGS_TO ? resource_field_index(r, rel->foreign_key)
                                       : resource_field_index(r, r->id);
}

/* The budget for all rows of one has-many include, counted as their cells arrive: half the
 * response cap leaves room for JSON keys, escaping and the rows of the page itself. */
static long long include_budget(const struct ctx *c)
{
    return (long long)(c->cfg->max_response_bytes / 2);
}

/* A has-many include that cannot grow without bound: at most include_limit children per
 * parent, and in all at most include_budget() bytes as the rows arrive. The query asks for
 * one row more than the parents could have between them (n × include_limit + 1), so getting
 * that row back proves some parent is over; otherwise the children, grouped by parent, are
 * counted as they are matched. The byte bound is checked while the rows are read off the
 * wire (sqlb_run_capped), so a worker never holds more than the budget. No subquery
 * measures the whole relation on the server: that tripled MariaDB's time per include (see
 * docs/benchmarks.md), and window functions over the blob-carrying rows crashed MariaDB
 * 10.11 once, so neither is used. */
static void write_bounded_children(struct sqlb *q, const struct relation *rel,
                                   const struct db_param *vals, size_t n)
{
    const struct resource *t = rel->target;
    const char *fk = rel->foreign_key->name;
    const struct sort_key *order = rel->norder ? rel->order : t->default_sort;
    size_t norder = rel->norder ? rel->norder : t->ndefault_sort;
    sqlb_printf(q, "SELECT %s FROM `%s` WHERE `%s`", t->select_list, t->table, fk);
    sqlb_in_list(q, vals, n);
    /* by parent first, so check_bounds counts runs; each parent's children keep the
     * relation's order, which is all write_row sees */
    sqlb_printf(q, " ORDER BY `%s`", fk);
    for (size_t i = 0; i < norder; i++)
        sqlb_printf(q, ", `%s` %s", order[i].field->name, order[i].desc ? "DESC" : "ASC");
    /* a unique tie-breaker keeps the children's order stable */
    if (order[norder - 1].field != t->id) sqlb_printf(q, ", `%s`", t->id->name);
    sqlb_puts(q, " LIMIT ?");
    sqlb_param(q, db_int((long long)n * rel->include_limit + 1));
}

static int over_limit(struct ctx *c, const struct resource *r, const struct relation *rel)
{
    char plural[128];
    rules_label(rel->target->table, plural, sizeof plural);
    return req_failf(c, REQ_E_BAD_REQUEST,
                     "The include '%s' is limited to %ld %s per %s; list them page by page "
                     "instead.",
                     rel->name, rel->include_limit, plural, r->singular_label);
}

/* The per-parent bound over rows ordered by parent (key_col). */
static int check_bounds(struct ctx *c, const struct resource *r, const struct relation *rel,
                        const struct db_result *res, size_t key_col, size_t nparents)
{
    if (res->nrows > (size_t)nparents * (size_t)rel->include_limit) return over_limit(c, r, rel);
    long run = 0;
    for (size_t j = 0; j < res->nrows; j++) {
        const struct db_cell *k = db_cell(res, j, key_col);
        const struct db_cell *p = j ? db_cell(res, j - 1, key_col) : NULL;
        bool same = p && p->s && k->s && p->len == k->len && !memcmp(p->s, k->s, k->len);
        run = same ? run + 1 : 1;
        if (run > rel->include_limit) return over_limit(c, r, rel);
    }
    return 0;
}

static int load_relation(struct ctx *c, const struct resource *r, const struct db_result *rows,
                         const struct relation *rel, struct loaded *out)
{
    out->rel = rel;
    memset(&out->res, 0, sizeof out->res);
    const struct resource *t = rel->target;
    size_t own_col = own_column(r, rel);
    const struct field *own = rel->kind == REL_BELONGS_TO ? rel->foreign_key : r->id;
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
        if (!dup) vals[n++] = sqlb_bind_text(c->arena, own, cell->s, cell->len);
    }
    if (n == 0) return 0;
    const struct field *match = rel->kind == REL_BELONGS_TO ? t->id : rel->foreign_key;
    out->key_col = resource_field_index(t, match);
    struct sqlb q;
    sqlb_init(&q, c->arena);
    if (rel->kind == REL_BELONGS_TO) {
        /* at most one row per parent row: bounded by the page */
        sqlb_printf(&q, "SELECT %s FROM `%s` WHERE `%s`", t->select_list, t->table, match->name);
        sqlb_in_list(&q, vals, n);
    } else {
        write_bounded_children(&q, rel, vals, n);
    }
    if (rel->kind == REL_BELONGS_TO) {
        int s = sqlb_run(&q, c->db, &out->res);
        return s == DB_OK ? 0 : req_db_fail(c, s);
    }
    int s = sqlb_run_capped(&q, c->db, &out->res, (size_t)include_budget(c));
    if (s == DB_TOO_LARGE) {
        char plural[128];
        rules_label(t->table, plural, sizeof plural);
        return req_failf(c, REQ_E_BAD_REQUEST,
                         "The include '%s' is too large for one response (over %lld bytes); "
                         "list the %s page by page instead.",
                         rel->name, include_budget(c), plural);
    }
    if (s != DB_OK) return req_db_fail(c, s);
    return check_bounds(c, r, rel, &out->res, out->key_col, n);
}

static void write_row(struct ctx *c, const struct resource *r, const struct db_result *rows,
                      size_t i, const struct loaded *inc, size_t ninc)
{
    struct buf *out = c->out;
    const struct db_cell *row = db_cell(rows, i, 0);
    buf_putc(out, '{');
    repr_fields(out, r, row);
    for (size_t k = 0; k < ninc; k++) {
        const struct relation *rel = inc[k].rel;
        const struct resource *t = rel->target;
        const struct db_cell *key = &row[own_column(r, rel)];
        buf_append(out, rel->json_key, rel->json_key_len);
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
        if (rel->kind == REL_HAS_MANY)
            buf_putc(out, ']');
        else if (!any)
            buf_puts(out, "null");
    }
    buf_putc(out, '}');
}

/* Every requested relation for `rows`: one query each. NULL on error. */
static struct loaded *load_all(struct ctx *c, const struct resource *r,
                               const struct db_result *rows, const struct eager_includes *inc)
{
    size_t n = inc ? inc->n : 0;
    struct loaded *l = arena_calloc(c->arena, (n ? n : 1) * sizeof *l);
    for (size_t k = 0; k < n; k++)
        if (load_relation(c, r, rows, inc->rel[k], &l[k])) return NULL;
    return l;
}

int eager_write_rows(struct ctx *c, const struct resource *r, const struct db_result *rows,
                     const struct eager_includes *inc)
{
    struct loaded *l = load_all(c, r, rows, inc);
    if (!l) return -1;
    buf_putc(c->out, '[');
    for (size_t i = 0; i < rows->nrows; i++) {
        if (i) buf_putc(c->out, ',');
        write_row(c, r, rows, i, l, inc ? inc->n : 0);
    }
    buf_putc(c->out, ']');
    return 0;
}

int eager_write_single(struct ctx *c, const struct resource *r, const struct db_result *res,
                       const struct eager_includes *inc)
{
    struct loaded *l = load_all(c, r, res, inc);
    if (!l) return -1;
    buf_puts(c->out, "{\"data\":");
    write_row(c, r, res, 0, l, inc ? inc->n : 0);
    buf_putc(c->out, '}');
    return 0;
}
