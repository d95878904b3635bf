/* tmpl.c — render `{{ path }}` templates into capped buffers. One pass, left to right: the
 * text a variable inserts is never rendered again, so context values (which come from
 * clients and models) cannot inject tags. It must never allocate without a cap. */
#include "tmpl.h"
#include "ctxpath.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* err = fmt with a printable copy of s[0..n) (at most 64 bytes) in place of %s. */
static int fail(char *err, size_t errlen, int rc, const char *fmt, const char *s, size_t n)
{
    char q[72];
    size_t j = 0;
    for (size_t i = 0; i < n && j < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        q[j++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (n > 64) {
        memcpy(q + j, "...", 3);
        j += 3;
    }
    q[j] = '\0';
    if (errlen) snprintf(err, errlen, fmt, q);
    return rc;
}

/* One tag: [open, close) is "{{ … }}"; [p, p+len) the trimmed path. */
struct tag {
    size_t open, close;
    const char *path;
    size_t len;
};

/* Find the next tag at or after *pos. Returns 1 with *t set, 0 when there is none, or
 * TMPL_ESYNTAX with err set. */
static int next_tag(const char *tpl, size_t n, size_t pos, struct tag *t, char *err,
                    size_t errlen)
{
    const char *open = pos < n ? memmem(tpl + pos, n - pos, "{{", 2) : NULL;
    if (!open) return 0;
    size_t o = (size_t)(open - tpl);
    const char *close = memmem(tpl + o + 2, n - o - 2, "}}", 2);
    if (!close)
        return fail(err, errlen, TMPL_ESYNTAX, "unclosed \"{{\" in template at \"%s\"", open,
                    n - o);
    const char *p = open + 2, *e = close;
    while (p < e && is_space(*p))
        p++;
    while (e > p && is_space(e[-1]))
        e--;
    if (p == e) return fail(err, errlen, TMPL_ESYNTAX, "empty \"%s\" in template", open,
                            (size_t)(close + 2 - open));
    if (!ctxpath_valid(p, (size_t)(e - p)))
        return fail(err, errlen, TMPL_ESYNTAX, "invalid template variable \"%s\"", p,
                    (size_t)(e - p));
    t->open = o;
    t->close = (size_t)(close - tpl) + 2;
    t->path = p;
    t->len = (size_t)(e - p);
    return 1;
}

int tmpl_vars(const char *tpl, size_t n, tmpl_var_fn *fn, void *ud, char *err, size_t errlen)
{
    struct tag t = {0};
    size_t pos = 0;
    int rc;
    while ((rc = next_tag(tpl, n, pos, &t, err, errlen)) == 1) {
        if (fn) fn(t.path, t.len, ud);
        pos = t.close;
    }
    return rc;
}

int tmpl_check(const char *tpl, size_t n, char *err, size_t errlen)
{
    return tmpl_vars(tpl, n, NULL, NULL, err, errlen);
}

void tmpl_json(struct buf *b, const struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        buf_puts(b, "null");
        break;
    case json_type_boolean:
        buf_puts(b, json_object_get_boolean(v) ? "true" : "false");
        break;
    case json_type_int: {
        int64_t i = json_object_get_int64(v);
        if (i == INT64_MAX)
            buf_printf(b, "%" PRIu64, json_object_get_uint64(v));
        else
            buf_printf(b, "%" PRId64, i);
        break;
    }
    case json_type_double:
        /* json-c keeps the text a parsed double came from ("1.50", "1e3") */
        buf_puts(b, json_object_to_json_string_ext((struct json_object *)v,
                                                   JSON_C_TO_STRING_PLAIN));
        break;
    case json_type_string:
        buf_json_str(b, json_object_get_string((struct json_object *)v),
                     (size_t)json_object_get_string_len(v));
        break;
    case json_type_array: {
        size_t n = json_object_array_length(v);
        buf_putc(b, '[');
        for (size_t i = 0; i < n && !b->overflow; i++) {
            if (i) buf_putc(b, ',');
            tmpl_json(b, json_object_array_get_idx(v, i));
        }
        buf_putc(b, ']');
        break;
    }
    case json_type_object: {
        bool first = true;
        buf_putc(b, '{');
        json_object_object_foreach((struct json_object *)v, k, m) {
            if (b->overflow) break;
            if (!first) buf_putc(b, ',');
            first = false;
            buf_json_cstr(b, k);
            buf_putc(b, ':');
            tmpl_json(b, m);
        }
        buf_putc(b, '}');
        break;
    }
    }
}

int tmpl_render(const char *tpl, size_t n, const struct json_object *ctx, struct buf *out,
                char *err, size_t errlen)
{
    struct tag t = {0};
    size_t pos = 0;
    int rc;
    while ((rc = next_tag(tpl, n, pos, &t, err, errlen)) == 1) {
        buf_append(out, tpl + pos, t.open - pos);
        struct json_object *v;
        if (!ctxpath_get(ctx, t.path, t.len, &v))
            return fail(err, errlen, TMPL_EMISSING, "template variable \"%s\" is missing", t.path,
                        t.len);
        if (json_object_is_type(v, json_type_string))
            buf_append(out, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        else
            tmpl_json(out, v);
        pos = t.close;
        if (out->overflow) break;
    }
    if (rc < 0) return rc;
    if (pos < n) buf_append(out, tpl + pos, n - pos);
    if (out->overflow) {
        if (errlen) snprintf(err, errlen, "rendered template is larger than %zu bytes", out->limit);
        return TMPL_ETOOBIG;
    }
    return TMPL_OK;
}

struct render_json {
    const struct json_object *ctx;
    size_t left;
    bool capped;
    struct buf b;
    char *err;
    size_t errlen;
};

static int render_value(struct render_json *r, const struct json_object *v,
                        struct json_object **out)
{
    *out = NULL;
    switch (json_object_get_type(v)) {
    case json_type_string: {
        const char *s = json_object_get_string((struct json_object *)v);
        size_t n = (size_t)json_object_get_string_len(v);
        buf_reset(&r->b);
        /* buf treats a limit of 0 as none: render at least one byte's room and check below */
        r->b.limit = r->capped ? (r->left ? r->left : 1) : SIZE_MAX - 1;
        int rc = tmpl_render(s, n, r->ctx, &r->b, r->err, r->errlen);
        if (rc == TMPL_OK && r->capped && r->b.len > r->left) rc = TMPL_ETOOBIG;
        if (rc == TMPL_ETOOBIG && r->errlen)
            snprintf(r->err, r->errlen, "rendered step_config is larger than its limit");
        if (rc) return rc;
        if (r->capped) r->left -= r->b.len;
        *out = json_object_new_string_len(r->b.data, (int)r->b.len);
        return TMPL_OK;
    }
    case json_type_array: {
        size_t n = json_object_array_length(v);
        struct json_object *a = json_object_new_array_ext((int)n);
        for (size_t i = 0; i < n; i++) {
            struct json_object *item;
            int rc = render_value(r, json_object_array_get_idx(v, i), &item);
            if (rc) {
                json_object_put(a);
                return rc;
            }
            json_object_array_add(a, item);
        }
        *out = a;
        return TMPL_OK;
    }
    case json_type_object: {
        struct json_object *o = json_object_new_object();
        json_object_object_foreach((struct json_object *)v, k, m) {
            struct json_object *item;
            int rc = render_value(r, m, &item);
            if (rc) {
                json_object_put(o);
                return rc;
            }
            json_object_object_add(o, k, item);
        }
        *out = o;
        return TMPL_OK;
    }
    default:
        *out = json_object_get((struct json_object *)v); /* NULL stays NULL */
        return TMPL_OK;
    }
}

int tmpl_render_json(const struct json_object *v, const struct json_object *ctx, size_t limit,
                     struct json_object **out, char *err, size_t errlen)
{
    struct render_json r = {.ctx = ctx, .left = limit, .capped = limit > 0, .err = err,
                            .errlen = errlen};
    buf_init(&r.b, 0);
    int rc = render_value(&r, v, out);
    buf_free(&r.b);
    return rc;
}

int tmpl_vars_json(const struct json_object *v, tmpl_var_fn *fn, void *ud, char *err,
                   size_t errlen)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        return tmpl_vars(json_object_get_string((struct json_object *)v),
                         (size_t)json_object_get_string_len(v), fn, ud, err, errlen);
    case json_type_array: {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            int rc = tmpl_vars_json(json_object_array_get_idx(v, i), fn, ud, err, errlen);
            if (rc) return rc;
        }
        return TMPL_OK;
    }
    case json_type_object: {
        json_object_object_foreach((struct json_object *)v, k, m) {
            (void)k;
            int rc = tmpl_vars_json(m, fn, ud, err, errlen);
            if (rc) return rc;
        }
        return TMPL_OK;
    }
    default:
        return TMPL_OK;
    }
}

int tmpl_check_json(const struct json_object *v, char *err, size_t errlen)
{
    return tmpl_vars_json(v, NULL, NULL, err, errlen);
}

int tmpl_check_names(const struct json_object *names, const struct json_object *ctx, char *err,
                     size_t errlen)
{
    if (!names) return TMPL_OK;
    if (json_object_is_type(names, json_type_object) && json_object_object_length(names) == 0)
        return TMPL_OK;
    if (!json_object_is_type(names, json_type_array)) {
        if (errlen) snprintf(err, errlen, "template_variables must be an array of names");
        return TMPL_ESYNTAX;
    }
    size_t n = json_object_array_length(names);
    for (size_t i = 0; i < n; i++) {
        struct json_object *name = json_object_array_get_idx(names, i), *v;
        if (!json_object_is_type(name, json_type_string)) {
            if (errlen) snprintf(err, errlen, "template_variables must be an array of names");
            return TMPL_ESYNTAX;
        }
        const char *s = json_object_get_string(name);
        size_t len = (size_t)json_object_get_string_len(name);
        if (!ctxpath_get(ctx, s, len, &v))
            return fail(err, errlen, TMPL_EMISSING, "template variable \"%s\" is missing", s, len);
    }
    return TMPL_OK;
}
