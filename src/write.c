/* write.c — validation, conversion and the INSERT/UPDATE of one record, inside one
 * transaction with one retry helper, or as one statement in autocommit when validation
 * reads nothing (see write.h). SQL text is assembled only from the resource's identifiers;
 * every value is a bound parameter. */
#include "write.h"
#include "config.h"
#include "etag.h"
#include "jsonbody.h"
#include "record.h"
#include "rules.h"
#include "sqlb.h"
#include "value.h"

#include <stdlib.h>
#include <string.h>

struct write_value {
    bool present;
    bool use_default; /* null on a null_means_default field */
    struct db_param p;
};

/* ---- exists: the rules' window onto the database ---- */

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
        if (rules_json_integer(value, &v)) return 0; /* no such integer, so no such row */
        p = db_int(v);
    } else if (json_object_is_type(value, json_type_string)) {
        p = db_str(json_object_get_string(value), (size_t)json_object_get_string_len(value));
    } else {
        const char *s = json_object_get_string(value);
        p = db_str(s, strlen(s));
    }
    struct sqlb q;
    sqlb_init(&q, c->arena);
    /* LOCK IN SHARE MODE: the parent cannot be deleted between this check and our write */
    sqlb_printf(&q, "SELECT 1 FROM `%s` WHERE `%s` = ? LIMIT 1 LOCK IN SHARE MODE", t->table,
                col->name);
    sqlb_param(&q, p);
    struct db_result res;
    int s = sqlb_run(&q, c->db, &res);
    if (s != DB_OK) return s < 0 ? s : -1;
    return res.nrows > 0;
}

static void fail_cb(void *ud, const char *message)
{
    struct check_env *e = ud;
    req_invalid(e->c, e->f->name, message);
}

/* ---- conversion: a JSON value to a column value that fits the column ---- */

static int invalid(struct ctx *c, const struct field *f, const char *tmpl, const char *arg)
{
    req_invalid(c, f->name, rules_message(c->arena, tmpl, f->label, arg));
    return -1;
}

static int convert_text(struct ctx *c, const struct field *f, json_object *v, struct write_value *w)
{
    if (!json_object_is_type(v, json_type_string)) return invalid(c, f, RULES_MSG_STRING, NULL);
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (f->type == FIELD_STRING && value_utf8_len(s, n) > 255)
        return invalid(c, f, RULES_MSG_MAX_STRING, "255");
    if (f->type == FIELD_TEXT && n > 65535)
        return invalid(c, f, "The :attribute field must not be greater than 65535 bytes.", NULL);
    w->p = db_str(s, n);
    return 0;
}

static int convert_int(struct ctx *c, const struct field *f, json_object *v, struct write_value *w)
{
    long long iv;
    if (rules_json_integer(v, &iv)) return invalid(c, f, RULES_MSG_INTEGER, NULL);
    if (iv > 2147483647LL) return invalid(c, f, RULES_MSG_MAX_NUMERIC, "2147483647");
    if (iv < -2147483648LL) return invalid(c, f, RULES_MSG_MIN_NUMERIC, "-2147483648");
    w->p = db_int(iv);
    return 0;
}

static int convert_fk(struct ctx *c, const struct field *f, json_object *v, struct write_value *w)
{
    long long iv;
    if (rules_json_integer(v, &iv) || iv < 1) return invalid(c, f, RULES_MSG_SELECTED, NULL);
    w->p = db_int(iv);
    return 0;
}

static int convert_bool(struct ctx *c, const struct field *f, json_object *v, struct write_value *w)
{
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
    return invalid(c, f, RULES_MSG_BOOLEAN, NULL);
}

static int convert_json(struct ctx *c, const struct field *f, json_object *v, struct write_value *w)
{
    if (!json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array))
        return invalid(c, f, RULES_MSG_ARRAY, NULL);
    /* the client's own text (json-c would clamp integers past 64 bits) */
    const char *raw;
    size_t rawlen;
    if (jsonbody_member(c->req->body, c->req->body_len, f->name, &raw, &rawlen) == 0) {
        char *copy = arena_alloc(c->arena, rawlen + 1);
        size_t n = jsonbody_minify(raw, rawlen, copy);
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

static int convert_decimal(struct ctx *c, const struct field *f, json_object *v,
                           struct write_value *w)
{
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double) &&
        !json_object_is_type(v, json_type_string))
        return invalid(c, f, RULES_MSG_NUMERIC, NULL);
    const char *s = json_object_get_string(v);
    size_t n = json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v)
                                                        : strlen(s);
    char *out = arena_alloc(c->arena, (size_t)f->precision + 8);
    int rc = value_decimal(s, n, f->precision, f->scale, out, (size_t)f->precision + 8);
    if (rc == -1) return invalid(c, f, RULES_MSG_NUMERIC, NULL);
    if (rc == -2) {
        /* the largest value the column holds, "9999.99" for decimal(6,2) */
        char max[80];
        int ip = f->precision - f->scale;
        size_t k = 0;
        for (int i = 0; i < ip && k < 70; i++) max[k++] = '9';
        if (ip == 0) max[k++] = '0';
        if (f->scale) max[k++] = '.';
        for (int i = 0; i < f->scale && k < 78; i++) max[k++] = '9';
        max[k] = '\0';
        return invalid(c, f, RULES_MSG_MAX_NUMERIC, max);
    }
    w->p = db_str(out, strlen(out));
    return 0;
}

static int convert_timestamp(struct ctx *c, const struct field *f, json_object *v,
                             struct write_value *w)
{
    char utc[27];
    if (!json_object_is_type(v, json_type_string) ||
        value_parse_date(json_object_get_string(v), (size_t)json_object_get_string_len(v), utc))
        return invalid(c, f, RULES_MSG_DATE, NULL);
    if (!value_timestamp_fits(utc))
        return invalid(c, f,
                       "The :attribute field must be a date between 1970-01-01T00:00:01Z and "
                       "2038-01-19T03:14:07Z.",
                       NULL);
    char *t = arena_strdup(c->arena, utc);
    w->p = db_str(t, strlen(t));
    return 0;
}

/* JSON value (NULL for JSON null) → column value. Adds a message and returns -1 when it
 * does not fit the column. */
static int convert(struct ctx *c, const struct field *f, json_object *v, struct write_value *w)
{
    if (!v) {
        if (f->null_means_default)
            w->use_default = true;
        else
            w->p = db_null();
        return 0;
    }
    switch (f->type) {
    case FIELD_ID: return 0;
    case FIELD_STRING:
    case FIELD_TEXT: return convert_text(c, f, v, w);
    case FIELD_INT: return convert_int(c, f, v, w);
    case FIELD_FK: return convert_fk(c, f, v, w);
    case FIELD_BOOL: return convert_bool(c, f, v, w);
    case FIELD_JSON: return convert_json(c, f, v, w);
    case FIELD_DECIMAL: return convert_decimal(c, f, v, w);
    case FIELD_TIMESTAMP: return convert_timestamp(c, f, v, w);
    }
    return 0;
}

/* ---- uniqueness and validation ---- */

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
        struct sqlb q;
        sqlb_init(&q, c->arena);
        sqlb_printf(&q, "SELECT 1 FROM `%s` WHERE ", r->table);
        size_t ncols = u->nargs > 1 ? u->nargs - 1 : 1;
        for (size_t k = 0; k < ncols && !skip; k++) {
            const struct field *col = resource_field(r, u->nargs > 1 ? u->args[1 + k] : f->name);
            size_t ci = resource_field_index(r, col);
            if (req_field_has_errors(c, col->name)) skip = true;
            struct db_param p;
            if (w[ci].present) {
                touched = true;
                p = w[ci].p;
            } else if (existing) {
                const struct db_cell *cell = db_cell(existing, 0, ci);
                p = sqlb_bind_text(c->arena, col, cell->s, cell->len);
            } else if (col->default_value) {
                p = sqlb_bind_text(c->arena, col, col->default_value, strlen(col->default_value));
            } else {
                skip = true;
                break;
            }
            if (p.type == DBP_NULL) skip = true; /* NULLs never collide */
            sqlb_printf(&q, "%s`%s` = ?", k ? " AND " : "", col->name);
            sqlb_param(&q, p);
        }
        if (skip || !touched) continue;
        if (existing) {
            sqlb_printf(&q, " AND `%s` <> ?", r->id->name);
            sqlb_param(&q, db_uint(self_id));
        }
        sqlb_puts(&q, " LIMIT 1");
        struct db_result res;
        int s = sqlb_run(&q, c->db, &res);
        if (s != DB_OK) return req_db_fail(c, s);
        if (res.nrows)
            req_invalid(c, f->name, rules_message(c->arena, RULES_MSG_UNIQUE, f->label, NULL));
    }
    return 0;
}

/* unique is checked last (it needs the whole record) but reported in field order, as
 * Laravel reports it: a stable sort of the error list by field position */
static void sort_errors_by_field(struct ctx *c, const struct resource *r)
{
    for (size_t i = 1; i < c->err.nfields; i++) {
        struct req_field_errors fe = c->err.fields[i];
        const struct field *f = resource_field(r, fe.field);
        size_t pos = f ? resource_field_index(r, f) : r->nfields;
        size_t j = i;
        while (j > 0) {
            const struct field *g = resource_field(r, c->err.fields[j - 1].field);
            if ((g ? resource_field_index(r, g) : r->nfields) <= pos) break;
            c->err.fields[j] = c->err.fields[j - 1];
            j--;
        }
        c->err.fields[j] = fe;
    }
}

/* A field's value as the record will hold it: sent, else the stored one (update). */
static bool value_after(struct ctx *c, const struct resource *r, const struct field *f,
                        const struct write_value *w, const struct db_result *existing,
                        struct db_param *out)
{
    size_t i = resource_field_index(r, f);
    if (w[i].present) {
        if (w[i].use_default) return false;
        *out = w[i].p;
        return true;
    }
    if (!existing) return false;
    const struct db_cell *cell = db_cell(existing, 0, i);
    *out = sqlb_bind_text(c->arena, f, cell->s, cell->len);
    return true;
}

/* The declared consistency of belongs_to relations: `same` (the referenced record shares a
 * field with this one: a log's step is a step of the log's workflow) and `not_self`. Checked
 * when either side is written, on fields that are otherwise valid. */
static int check_relations(struct ctx *c, const struct resource *r, const struct write_value *w,
                           const struct db_result *existing, unsigned long long self_id)
{
    for (size_t k = 0; k < r->nrelations; k++) {
        const struct relation *rel = &r->relations[k];
        if (rel->kind != REL_BELONGS_TO || (!rel->not_self && !rel->same_local)) continue;
        const struct field *fk = rel->foreign_key;
        size_t fi = resource_field_index(r, fk);
        if (req_field_has_errors(c, fk->name)) continue;
        struct db_param ref;
        if (!value_after(c, r, fk, w, existing, &ref) || ref.type == DBP_NULL) continue;
        /* self_id is 0 on a create: only an update can refer to itself */
        if (rel->not_self && self_id && w[fi].present &&
            ((ref.type == DBP_INT && ref.i >= 0 && (unsigned long long)ref.i == self_id) ||
             (ref.type == DBP_UINT && ref.u == self_id))) {
            req_invalid(c, fk->name,
                        rules_message(c->arena,
                                      "The :attribute field must not refer to the record itself.",
                                      fk->label, NULL));
            continue;
        }
        if (!rel->same_local) continue;
        size_t si = resource_field_index(r, rel->same_local);
        if (!w[fi].present && !w[si].present) continue;
        if (req_field_has_errors(c, rel->same_local->name)) continue;
        struct db_param same;
        if (!value_after(c, r, rel->same_local, w, existing, &same) || same.type == DBP_NULL)
            continue;
        struct sqlb q;
        sqlb_init(&q, c->arena);
        sqlb_printf(&q, "SELECT 1 FROM `%s` WHERE `%s` = ? AND `%s` = ? LIMIT 1 LOCK IN SHARE MODE",
                    rel->target->table, rel->target->id->name, rel->same_target->name);
        sqlb_param(&q, ref);
        sqlb_param(&q, same);
        struct db_result res;
        int s = sqlb_run(&q, c->db, &res);
        if (s != DB_OK) return req_db_fail(c, s);
        if (res.nrows == 0)
            req_invalid(c, fk->name, rules_message(c->arena, RULES_MSG_SELECTED, fk->label, NULL));
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
        if (convert(c, f, v, &w[i])) w[i].present = false;
    }
    if (check_relations(c, r, w, existing, self_id)) return -1;
    if (check_unique(c, r, w, existing, self_id)) return -1;
    if (c->err.kind != REQ_E_INVALID) return 0;
    sort_errors_by_field(c, r);
    return -1;
}

/* Whether a validated value equals what the row already holds, so an update that changes
 * nothing writes nothing (and leaves updated_at alone), as Eloquent's dirty check does. */
static bool unchanged(const struct field *f, const struct write_value *w,
                      const struct db_cell *cell)
{
    if (w->use_default) return false;
    const struct db_param *p = &w->p;
    if (p->type == DBP_NULL || !cell->s) return p->type == DBP_NULL && !cell->s;
    switch (p->type) {
    case DBP_INT: return strtoll(cell->s, NULL, 10) == p->i;
    case DBP_UINT: return strtoull(cell->s, NULL, 10) == p->u;
    case DBP_STR:
        if (f->type == FIELD_TIMESTAMP) /* the column keeps whole seconds */
            return p->len >= 19 && cell->len >= 19 && !memcmp(p->s, cell->s, 19) &&
                   (cell->len == 19 || !memcmp(p->s + 19, cell->s + 19, cell->len - 19));
        return p->len == cell->len && !memcmp(p->s, cell->s, p->len);
    default: return false;
    }
}

/* Turn a constraint error of the write itself into the 422 a client can act on. */
static int write_failed(struct ctx *c, const struct resource *r, int s)
{
    if (s == DB_DUPLICATE) {
        for (size_t i = 0; i < r->nfields; i++)
            if (r->fields[i].unique) {
                req_invalid(c, r->fields[i].name,
                            rules_message(c->arena, RULES_MSG_UNIQUE, r->fields[i].label, NULL));
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
                            rules_message(c->arena, RULES_MSG_SELECTED, r->fields[i].label, NULL));
                return -1;
            }
        }
        return req_fail(c, REQ_E_INVALID, "A referenced record does not exist.");
    }
    return req_db_fail(c, s);
}

/* ---- the statements ---- */

/* With `returning` the statement is INSERT ... RETURNING <select_list> and the row written
 * comes back in it (MariaDB 10.5+), the representation without a SELECT. */
static int insert_row(struct ctx *c, const struct resource *r, const struct write_value *w,
                      unsigned long long *new_id, struct db_result *returning)
{
    struct sqlb q;
    sqlb_init(&q, c->arena);
    sqlb_printf(&q, "INSERT INTO `%s` (", r->table);
    size_t ncols = 0;
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if ((w[i].present && !w[i].use_default) || f->autoset != AUTO_NONE)
            sqlb_printf(&q, "%s`%s`", ncols++ ? "," : "", f->name);
    }
    sqlb_puts(&q, ") VALUES (");
    ncols = 0;
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if (f->autoset != AUTO_NONE) {
            sqlb_puts(&q, ncols++ ? ",CURRENT_TIMESTAMP" : "CURRENT_TIMESTAMP");
        } else if (w[i].present && !w[i].use_default) {
            sqlb_puts(&q, ncols++ ? ",?" : "?");
            sqlb_param(&q, w[i].p);
        }
    }
    sqlb_puts(&q, ")");
    if (returning) sqlb_printf(&q, " RETURNING %s", r->select_list);
    struct db_result res;
    /* in autocommit a lost connection may have lost only the answer: never run it twice */
    int s = returning ? sqlb_run_once(&q, c->db, returning) : sqlb_run(&q, c->db, &res);
    if (s != DB_OK) return write_failed(c, r, s);
    if (!returning) {
        *new_id = res.insert_id;
        return 0;
    }
    const struct db_cell *id =
        returning->nrows ? db_cell(returning, 0, resource_field_index(r, r->id)) : NULL;
    if (!id || !id->s) return req_fail(c, REQ_E_INTERNAL, NULL);
    *new_id = strtoull(id->s, NULL, 10);
    return 0;
}

static int update_row(struct ctx *c, const struct resource *r, const struct write_value *w,
                      const struct db_result *cur, unsigned long long id)
{
    struct sqlb q;
    sqlb_init(&q, c->arena);
    sqlb_printf(&q, "UPDATE `%s` SET ", r->table);
    size_t n = 0;
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if (!w[i].present || unchanged(f, &w[i], db_cell(cur, 0, i))) continue;
        if (w[i].use_default) {
            sqlb_printf(&q, "%s`%s` = DEFAULT", n++ ? ", " : "", f->name);
        } else {
            sqlb_printf(&q, "%s`%s` = ?", n++ ? ", " : "", f->name);
            sqlb_param(&q, w[i].p);
        }
    }
    if (n == 0) return 0; /* nothing changes, so not even updated_at does */
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].autoset == AUTO_UPDATED)
            sqlb_printf(&q, ", `%s` = CURRENT_TIMESTAMP", r->fields[i].name);
    sqlb_printf(&q, " WHERE `%s` = ?", r->id->name);
    sqlb_param(&q, db_uint(id));
    int s = sqlb_run(&q, c->db, NULL);
    return s == DB_OK ? 0 : write_failed(c, r, s);
}

/* ---- one transaction, retried on deadlock ---- */

struct write_job {
    const struct resource *r;
    bool update;
    unsigned long long id;
    const char *id_text;
    struct db_result *row;
};

/* One attempt: everything up to (not including) the commit. */
static int attempt(struct ctx *c, struct write_job *j)
{
    const struct resource *r = j->r;
    int s = db_begin(c->db);
    if (s != DB_OK) return req_db_fail(c, s);
    struct write_value *w = arena_calloc(c->arena, r->nfields * sizeof *w);
    if (j->update) {
        struct db_result cur;
        if (record_fetch(c, r, j->id, true, &cur)) return -1;
        if (cur.nrows == 0) return record_not_found(c, r, j->id_text);
        if (etag_check_locked(c, r, &cur)) return -1; /* If-Match, under the row lock */
        if (validate(c, r, true, &cur, j->id, w) || update_row(c, r, w, &cur, j->id)) return -1;
    } else {
        if (validate(c, r, false, NULL, 0, w) || insert_row(c, r, w, &j->id, NULL)) return -1;
    }
    return record_fetch(c, r, j->id, false, j->row);
}

static int run_in_transaction(struct ctx *c, struct write_job *j)
{
    for (int n = 0; n < WRITE_TX_ATTEMPTS; n++) {
        req_clear_error(c);
        if (attempt(c, j) == 0) {
            int s = db_commit(c->db);
            if (s == DB_OK) return 0;
            req_db_fail(c, s);
        }
        db_rollback(c->db);
        /* a deadlock between concurrent writers is retried; anything else is final */
        if (c->err.db_status != DB_DEADLOCK) break;
    }
    return -1;
}

/* Whether a create can be one INSERT ... RETURNING in autocommit: nothing in its validation
 * reads the database (no exists, unique or `same` check, whose reads the transaction's
 * locks keep true until the write), and the server returns the row it wrote. One round trip
 * instead of BEGIN, INSERT, SELECT, COMMIT; the row is as atomic either way. */
static bool create_in_one_statement(struct ctx *c, const struct resource *r)
{
    return !r->validation_reads && db_has_returning(c->db);
}

static int store_in_one_statement(struct ctx *c, const struct resource *r, unsigned long long *id,
                                  struct db_result *row)
{
    struct write_value *w = arena_calloc(c->arena, r->nfields * sizeof *w);
    if (validate(c, r, false, NULL, 0, w)) return -1;
    for (int n = 0; n < WRITE_TX_ATTEMPTS; n++) {
        req_clear_error(c);
        if (insert_row(c, r, w, id, row) == 0) return 0;
        if (c->err.db_status != DB_DEADLOCK) break;
    }
    return -1;
}

int write_store(struct ctx *c, const struct resource *r, unsigned long long *id,
                struct db_result *row)
{
    if (create_in_one_statement(c, r)) return store_in_one_statement(c, r, id, row);
    struct write_job j = {.r = r, .update = false, .row = row};
    if (run_in_transaction(c, &j)) return -1;
    *id = j.id;
    return 0;
}

/* ---- an update whose validation reads nothing: UPDATE, then SELECT, in autocommit ---- */

/* Whether this update can skip the transaction: no If-Match (and none required), whose
 * check needs the row under its lock, and nothing sent whose validation reads. Without
 * reads the UPDATE is the only statement that must be atomic, and one statement is. */
static bool update_in_two_statements(struct ctx *c, const struct resource *r)
{
    if (c->req->if_match || c->cfg->require_if_match) return false;
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if (f->validation_reads && f->fillable &&
            json_object_object_get_ex(c->body_json, f->name, NULL))
            return false;
    }
    return true;
}

/* A condition true when the row already holds w's value of f: unchanged() in SQL, on the
 * row the UPDATE sees. Strings and JSON byte for byte (the tables' collation calls 'Foo' and
 * 'foo' equal, and a PAD SPACE one 'a' and 'a '; binary strings do neither), numbers as
 * numbers, timestamps to the whole second the column keeps. A DEFAULT never gets here: it
 * is always a change. */
static void sqlb_unchanged(struct sqlb *q, const struct field *f, const struct write_value *w)
{
    if (w->p.type == DBP_NULL) {
        sqlb_printf(q, "`%s` IS NULL", f->name);
        return;
    }
    switch (f->type) {
    case FIELD_STRING:
    case FIELD_TEXT:
    case FIELD_JSON: sqlb_printf(q, "CAST(`%s` AS BINARY) <=> CAST(? AS BINARY)", f->name); break;
    case FIELD_DECIMAL:
        sqlb_printf(q, "`%s` <=> CAST(? AS DECIMAL(%d,%d))", f->name, f->precision, f->scale);
        break;
    case FIELD_TIMESTAMP: sqlb_printf(q, "`%s` <=> CAST(LEFT(?, 19) AS DATETIME)", f->name); break;
    default: sqlb_printf(q, "`%s` <=> ?", f->name); break;
    }
    sqlb_param(q, w->p);
}

/* UPDATE t SET updated_at = IF(<nothing sent differs>, updated_at, CURRENT_TIMESTAMP),
 * a = ?, ... WHERE id = ?: the dirty check of update_row without having read the row.
 * updated_at is assigned first so that it compares the old values both where SET runs
 * left to right (MariaDB, MySQL) and under SIMULTANEOUS_ASSIGNMENT. A missing row
 * updates nothing and is no error here; the SELECT after it says 404. */
static int update_unread(struct ctx *c, const struct resource *r, const struct write_value *w,
                         unsigned long long id)
{
    bool to_default = false;
    for (size_t i = 0; i < r->nfields; i++) to_default |= w[i].present && w[i].use_default;
    struct sqlb q;
    sqlb_init(&q, c->arena);
    sqlb_printf(&q, "UPDATE `%s` SET ", r->table);
    size_t n = 0;
    for (size_t a = 0; a < r->nfields; a++) {
        if (r->fields[a].autoset != AUTO_UPDATED) continue;
        const char *at = r->fields[a].name;
        if (to_default) {
            sqlb_printf(&q, "%s`%s` = CURRENT_TIMESTAMP", n++ ? ", " : "", at);
            continue;
        }
        sqlb_printf(&q, "%s`%s` = IF(", n++ ? ", " : "", at);
        size_t k = 0;
        for (size_t i = 0; i < r->nfields; i++) {
            if (!w[i].present) continue;
            if (k++) sqlb_puts(&q, " AND ");
            sqlb_unchanged(&q, &r->fields[i], &w[i]);
        }
        sqlb_printf(&q, ", `%s`, CURRENT_TIMESTAMP)", at);
    }
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if (!w[i].present) continue;
        if (w[i].use_default) {
            sqlb_printf(&q, "%s`%s` = DEFAULT", n++ ? ", " : "", f->name);
        } else {
            sqlb_printf(&q, "%s`%s` = ?", n++ ? ", " : "", f->name);
            sqlb_param(&q, w[i].p);
        }
    }
    sqlb_printf(&q, " WHERE `%s` = ?", r->id->name);
    sqlb_param(&q, db_uint(id));
    /* in autocommit a lost connection may have lost only the answer: never run it twice */
    int s = sqlb_run_once(&q, c->db, NULL);
    return s == DB_OK ? 0 : write_failed(c, r, s);
}

static int update_two_statements(struct ctx *c, const struct resource *r, unsigned long long id,
                                 const char *id_text, struct db_result *row)
{
    struct write_value *w = arena_calloc(c->arena, r->nfields * sizeof *w);
    if (validate(c, r, true, NULL, id, w)) {
        if (c->err.kind != REQ_E_INVALID) return -1;
        /* a missing record answers 404 before its body is judged, as on the locked path */
        struct req_error invalid = c->err;
        struct db_result cur;
        if (record_fetch(c, r, id, false, &cur)) return -1;
        if (cur.nrows == 0) {
            req_clear_error(c);
            return record_not_found(c, r, id_text);
        }
        c->err = invalid;
        return -1;
    }
    bool any = false;
    for (size_t i = 0; i < r->nfields; i++) any |= w[i].present;
    if (any) { /* nothing sent is nothing to write (not even updated_at): only the SELECT */
        int n = 0;
        while (update_unread(c, r, w, id)) {
            /* a deadlock (foreign key checks of concurrent writers) is retried */
            if (c->err.db_status != DB_DEADLOCK || ++n == WRITE_TX_ATTEMPTS) return -1;
            req_clear_error(c);
        }
    }
    if (record_fetch(c, r, id, false, row)) return -1;
    if (row->nrows == 0) return record_not_found(c, r, id_text); /* deleted, or never was */
    return 0;
}

int write_update(struct ctx *c, const struct resource *r, unsigned long long id,
                 const char *id_text, struct db_result *row)
{
    if (update_in_two_statements(c, r)) return update_two_statements(c, r, id, id_text, row);
    struct write_job j = {.r = r, .update = true, .id = id, .id_text = id_text, .row = row};
    return run_in_transaction(c, &j);
}
