/* sqlb.c — the capped SQL builder (see sqlb.h). It must never run a statement whose text
 * was cut: overflow is latched and reported, not truncated. */
#include "sqlb.h"
#include "log.h"
#include "value.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sqlb_init(struct sqlb *q, struct arena *a)
{
    memset(q, 0, sizeof *q);
    q->a = a;
    q->cap = 512;
    q->s = arena_alloc(a, q->cap);
    q->s[0] = '\0';
}

/* Make room for n more bytes plus the NUL; false (and overflow latched) past the cap. */
static bool reserve(struct sqlb *q, size_t n)
{
    if (q->overflow) return false;
    if (n > SQLB_MAX_BYTES - q->len) {
        q->overflow = true;
        return false;
    }
    if (q->len + n + 1 <= q->cap) return true;
    size_t cap = q->cap * 2;
    while (q->len + n + 1 > cap) cap *= 2;
    char *ns = arena_alloc(q->a, cap);
    memcpy(ns, q->s, q->len + 1);
    q->s = ns;
    q->cap = cap;
    return true;
}

void sqlb_puts(struct sqlb *q, const char *s)
{
    size_t n = strlen(s);
    if (!reserve(q, n)) return;
    memcpy(q->s + q->len, s, n + 1);
    q->len += n;
}

void sqlb_printf(struct sqlb *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(q, (size_t)n)) {
        q->overflow = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(q->s + q->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    q->len += (size_t)n;
}

void sqlb_param(struct sqlb *q, struct db_param p)
{
    if (q->np == q->capp) {
        size_t cap = q->capp ? q->capp * 2 : 16;
        struct db_param *np = arena_alloc(q->a, cap * sizeof *np);
        if (q->np) memcpy(np, q->params, q->np * sizeof *np);
        q->params = np;
        q->capp = cap;
    }
    q->params[q->np++] = p;
}

void sqlb_order(struct sqlb *q, const struct sort_key *keys, size_t n, bool reverse)
{
    sqlb_puts(q, " ORDER BY ");
    for (size_t i = 0; i < n; i++)
        sqlb_printf(q, "%s`%s` %s", i ? ", " : "", keys[i].field->name,
                    keys[i].desc != reverse ? "DESC" : "ASC");
}

void sqlb_in_list(struct sqlb *q, const struct db_param *vals, size_t n)
{
    size_t slots = 1;
    while (slots < n) slots *= 2;
    sqlb_puts(q, " IN (");
    for (size_t i = 0; i < slots; i++) {
        sqlb_puts(q, i ? ",?" : "?");
        sqlb_param(q, vals[i < n ? i : n - 1]);
    }
    sqlb_puts(q, ")");
}

static bool refused(const struct sqlb *q)
{
    if (q->overflow)
        log_error("SQL statement longer than %d bytes refused: %.120s...", SQLB_MAX_BYTES, q->s);
    return q->overflow;
}

int sqlb_run_capped(struct sqlb *q, struct db *db, struct db_result *res, size_t max_bytes)
{
    if (refused(q)) return DB_ERROR;
    return db_query_capped(db, q->a, q->s, q->params, q->np, res, max_bytes);
}

int sqlb_run_once(struct sqlb *q, struct db *db, struct db_result *res)
{
    if (refused(q)) return DB_ERROR;
    return db_query_once(db, q->a, q->s, q->params, q->np, res);
}

int sqlb_run(struct sqlb *q, struct db *db, struct db_result *res)
{
    return sqlb_run_capped(q, db, res, 0);
}

struct db_param sqlb_bind_text(struct arena *a, const struct field *f, const char *s, size_t n)
{
    if (!s) return db_null();
    switch (f->type) {
    case FIELD_ID:
    case FIELD_FK: {
        unsigned long long u;
        if (value_parse_id(s, &u) == 0) return db_uint(u);
        return db_str(arena_strndup(a, s, n), n);
    }
    case FIELD_INT:
    case FIELD_BOOL: {
        long long v;
        if (value_parse_int(s, n, &v) == 0) return db_int(v);
        return db_str(arena_strndup(a, s, n), n);
    }
    default: return db_str(s, n);
    }
}
