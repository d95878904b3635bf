/* cond.c — validate and evaluate condition_rules against a run's context.
 *
 * Semantics are ENGINE.md's: numbers compare as numbers and exactly (1 == 1.0, and two
 * integers or two decimal texts are compared digit by digit, never through a double),
 * strings bytewise, booleans and null only with their own kind; a comparison across kinds is
 * false, so != across kinds is true; a missing path is null. It must never allocate, modify
 * the context, or recurse deeper than COND_MAX_DEPTH. Doubles are compared on the text json-c
 * parsed them from; a double built in C (json_object_new_double) would compare on its
 * 17-digit rendering, so contexts must come from parsed JSON. */
#include "cond.h"
#include "ctxpath.h"
#include "value.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum op { OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE, OP_IN, OP_CONTAINS, OP_EXISTS, OP_UNKNOWN };

static const struct {
    const char *name;
    enum op op;
} ops[] = {
    {"==", OP_EQ},     {"!=", OP_NE}, {">", OP_GT},
    {">=", OP_GE},     {"<", OP_LT},  {"<=", OP_LE},
    {"in", OP_IN},     {"contains", OP_CONTAINS}, {"exists", OP_EXISTS},
};

static enum op op_of(const char *name)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(ops[i].name, name)) return ops[i].op;
    return OP_UNKNOWN;
}

/* err = fmt with one quoted, shortened copy of `word` in place of %s: client-supplied keys
 * can be long or contain anything, a message must stay one readable line. */
static int fail(char *err, size_t errlen, const char *fmt, const char *word)
{
    char q[72];
    size_t j = 0;
    for (const unsigned char *p = (const unsigned char *)word; *p && j < 64; p++)
        q[j++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
    if (word[j] && j == 64) {
        memcpy(q + j, "...", 3);
        j += 3;
    }
    q[j] = '\0';
    if (errlen) snprintf(err, errlen, fmt, q);
    return -1;
}

static int fail0(char *err, size_t errlen, const char *msg)
{
    if (errlen) snprintf(err, errlen, "%s", msg);
    return -1;
}

/* An empty object, or an empty array (PHP cannot tell them apart, Laravel stores []). */
static bool is_empty_rule(const struct json_object *c)
{
    return (json_object_is_type(c, json_type_object) && json_object_object_length(c) == 0) ||
           (json_object_is_type(c, json_type_array) && json_object_array_length(c) == 0);
}

/* Depth of a JSON value counted in containers, capped just past the limit. */
static bool value_too_deep(const struct json_object *v, int depth)
{
    if (depth > COND_MAX_DEPTH) return true;
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++)
            if (value_too_deep(json_object_array_get_idx(v, i), depth + 1)) return true;
    } else if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach((struct json_object *)v, k, m) {
            (void)k;
            if (value_too_deep(m, depth + 1)) return true;
        }
    }
    return false;
}

static int validate_node(const struct json_object *c, int depth, char *err, size_t errlen);

static int validate_ops(const char *path, const struct json_object *o, int depth, char *err,
                        size_t errlen)
{
    if (!json_object_is_type(o, json_type_object))
        return fail(err, errlen, "path \"%s\" needs an object of operators", path);
    if (json_object_object_length(o) == 0)
        return fail(err, errlen, "path \"%s\" has no operator", path);
    json_object_object_foreach((struct json_object *)o, name, v) {
        enum op op = op_of(name);
        switch (op) {
        case OP_UNKNOWN:
            return fail(err, errlen, "unknown operator \"%s\"", name);
        case OP_IN:
            if (!json_object_is_type(v, json_type_array))
                return fail0(err, errlen, "\"in\" needs an array");
            break;
        case OP_EXISTS:
            if (!json_object_is_type(v, json_type_boolean))
                return fail0(err, errlen, "\"exists\" needs true or false");
            break;
        case OP_GT:
        case OP_GE:
        case OP_LT:
        case OP_LE:
            if (!json_object_is_type(v, json_type_int) &&
                !json_object_is_type(v, json_type_double) &&
                !json_object_is_type(v, json_type_string))
                return fail(err, errlen, "\"%s\" needs a number or a string", name);
            break;
        default:
            break;
        }
        if (value_too_deep(v, depth + 1))
            return fail0(err, errlen, "condition nested too deeply");
    }
    return 0;
}

static int validate_list(const char *name, const struct json_object *v, int depth, char *err,
                         size_t errlen)
{
    if (!json_object_is_type(v, json_type_array))
        return fail(err, errlen, "\"%s\" needs an array", name);
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++)
        if (validate_node(json_object_array_get_idx(v, i), depth + 1, err, errlen)) return -1;
    return 0;
}

static int validate_node(const struct json_object *c, int depth, char *err, size_t errlen)
{
    if (depth > COND_MAX_DEPTH) return fail0(err, errlen, "condition nested too deeply");
    if (is_empty_rule(c)) return 0;
    if (!json_object_is_type(c, json_type_object))
        return fail0(err, errlen, "a condition must be an object");
    json_object_object_foreach((struct json_object *)c, key, v) {
        if (!strcmp(key, "all") || !strcmp(key, "any")) {
            if (validate_list(key, v, depth, err, errlen)) return -1;
        } else if (!strcmp(key, "not")) {
            if (!json_object_is_type(v, json_type_object) && !is_empty_rule(v))
                return fail0(err, errlen, "\"not\" needs a condition object");
            if (validate_node(v, depth + 1, err, errlen)) return -1;
        } else {
            if (!ctxpath_valid(key, strlen(key)))
                return fail(err, errlen, "invalid path \"%s\"", key);
            if (validate_ops(key, v, depth + 1, err, errlen)) return -1;
        }
    }
    return 0;
}

int cond_validate(const struct json_object *rules, char *err, size_t errlen)
{
    if (!rules) return 0;
    return validate_node(rules, 1, err, errlen);
}

/* ---- comparison ---- */

/* A number's exact decimal text: integers printed from their 64-bit value, doubles as
 * json-c keeps them (the text they were parsed from). *finite is false for NaN/Infinity,
 * which only json-c's lenient parser produces; those compare as doubles. */
static void num_text(const struct json_object *v, char *tmp, size_t tmplen, const char **s,
                     bool *finite)
{
    *finite = true;
    if (json_object_is_type(v, json_type_int)) {
        int64_t i = json_object_get_int64(v);
        if (i == INT64_MAX)
            snprintf(tmp, tmplen, "%" PRIu64, json_object_get_uint64(v));
        else
            snprintf(tmp, tmplen, "%" PRId64, i);
        *s = tmp;
        return;
    }
    double d = json_object_get_double(v);
    if (!isfinite(d)) {
        *finite = false;
        *s = "";
        return;
    }
    *s = json_object_to_json_string_ext((struct json_object *)v, JSON_C_TO_STRING_PLAIN);
}

static int num_cmp(const struct json_object *a, const struct json_object *b, bool *nan)
{
    char ta[32], tb[32];
    const char *sa, *sb;
    bool fa, fb;
    *nan = false;
    num_text(a, ta, sizeof ta, &sa, &fa);
    num_text(b, tb, sizeof tb, &sb, &fb);
    if (fa && fb) return value_numeric_cmp(sa, strlen(sa), sb);
    double da = json_object_get_double(a), db = json_object_get_double(b);
    if (isnan(da) || isnan(db)) {
        *nan = true;
        return 0;
    }
    return da < db ? -1 : da > db ? 1 : 0;
}

static bool is_num(const struct json_object *v)
{
    return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static int str_cmp(const struct json_object *a, const struct json_object *b)
{
    size_t la = (size_t)json_object_get_string_len(a), lb = (size_t)json_object_get_string_len(b);
    int c = memcmp(json_object_get_string((struct json_object *)a),
                   json_object_get_string((struct json_object *)b), la < lb ? la : lb);
    if (c) return c;
    return la < lb ? -1 : la > lb ? 1 : 0;
}

/* Deep equality with the kind rules above; NULL is JSON null (or a missing path). */
static bool equal(const struct json_object *a, const struct json_object *b)
{
    if (!a || !b) return !a && !b;
    if (is_num(a) && is_num(b)) {
        bool nan;
        return num_cmp(a, b, &nan) == 0 && !nan;
    }
    enum json_type ta = json_object_get_type(a);
    if (ta != json_object_get_type(b)) return false;
    switch (ta) {
    case json_type_boolean:
        return json_object_get_boolean(a) == json_object_get_boolean(b);
    case json_type_string:
        return str_cmp(a, b) == 0;
    case json_type_array: {
        size_t n = json_object_array_length(a);
        if (n != json_object_array_length(b)) return false;
        for (size_t i = 0; i < n; i++)
            if (!equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
                return false;
        return true;
    }
    case json_type_object: {
        if (json_object_object_length(a) != json_object_object_length(b)) return false;
        json_object_object_foreach((struct json_object *)a, k, va) {
            struct json_object *vb;
            if (!json_object_object_get_ex(b, k, &vb) || !equal(va, vb)) return false;
        }
        return true;
    }
    default:
        return false;
    }
}

/* <0, 0, >0, or 2 when the two do not order (different kinds, null, NaN, containers). */
static int order(const struct json_object *a, const struct json_object *b)
{
    if (!a || !b) return 2;
    if (is_num(a) && is_num(b)) {
        bool nan;
        int c = num_cmp(a, b, &nan);
        return nan ? 2 : c;
    }
    if (json_object_is_type(a, json_type_string) && json_object_is_type(b, json_type_string)) {
        int c = str_cmp(a, b);
        return c < 0 ? -1 : c > 0;
    }
    return 2;
}

static bool array_has(const struct json_object *arr, const struct json_object *v)
{
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++)
        if (equal(json_object_array_get_idx(arr, i), v)) return true;
    return false;
}

static bool contains(const struct json_object *hay, const struct json_object *needle)
{
    if (json_object_is_type(hay, json_type_array)) return array_has(hay, needle);
    if (json_object_is_type(hay, json_type_string) &&
        json_object_is_type(needle, json_type_string)) {
        size_t nn = (size_t)json_object_get_string_len(needle);
        if (nn == 0) return true;
        return memmem(json_object_get_string((struct json_object *)hay),
                      (size_t)json_object_get_string_len(hay),
                      json_object_get_string((struct json_object *)needle), nn) != NULL;
    }
    return false;
}

static bool apply(enum op op, const struct json_object *v, const struct json_object *arg)
{
    int c;
    switch (op) {
    case OP_EQ:
        return equal(v, arg);
    case OP_NE:
        return !equal(v, arg);
    case OP_GT:
        c = order(v, arg);
        return c != 2 && c > 0;
    case OP_GE:
        c = order(v, arg);
        return c != 2 && c >= 0;
    case OP_LT:
        c = order(v, arg);
        return c < 0;
    case OP_LE:
        c = order(v, arg);
        return c <= 0;
    case OP_IN:
        return array_has(arg, v);
    case OP_CONTAINS:
        return v && contains(v, arg);
    case OP_EXISTS:
        return (v != NULL) == (bool)json_object_get_boolean(arg);
    default:
        return false;
    }
}

/* Only called on validated expressions. */
static bool eval_node(const struct json_object *c, const struct json_object *ctx)
{
    if (is_empty_rule(c)) return true;
    json_object_object_foreach((struct json_object *)c, key, v) {
        bool ok;
        if (!strcmp(key, "all") || !strcmp(key, "any")) {
            bool any = key[1] == 'n';
            size_t n = json_object_array_length(v);
            ok = !any;
            for (size_t i = 0; i < n; i++) {
                if (eval_node(json_object_array_get_idx(v, i), ctx) == any) {
                    ok = any;
                    break;
                }
            }
        } else if (!strcmp(key, "not")) {
            ok = !eval_node(v, ctx);
        } else {
            struct json_object *val;
            ctxpath_get(ctx, key, strlen(key), &val); /* missing is null */
            ok = true;
            json_object_object_foreach(v, name, arg) {
                if (!apply(op_of(name), val, arg)) {
                    ok = false;
                    break;
                }
            }
        }
        if (!ok) return false;
    }
    return true;
}

int cond_eval(const struct json_object *rules, const struct json_object *ctx, char *err,
              size_t errlen)
{
    if (cond_validate(rules, err, errlen)) return -1;
    if (!rules) return 1;
    return eval_node(rules, ctx) ? 1 : 0;
}
