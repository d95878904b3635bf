/* rules.c — Laravel validation rule strings: compiled once at start-up, checked per request.
 *
 * rules_check() follows Laravel 10's Validator::passes() for one attribute: implicit
 * `required`, `sometimes`, `nullable`, size by type for min/max, every failing rule reported
 * with Laravel's English message. It must never know about HTTP or SQL: `exists` goes through
 * a callback and `unique` is only parsed here. Compile-time errors are for the operator who
 * wrote the YAML, so they are strict; rules_check allocates nothing of its own except a
 * message too long for the stack. */
#include "rules.h"
#include "arena.h"
#include "value.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MariaDB's limit on identifier length. */
#define IDENT_MAX 64

/* ---- compile -------------------------------------------------------------------------- */

static const struct {
    const char *name;
    enum rule_kind kind;
} rule_names[] = {
    {"required", RULE_REQUIRED},
    {"sometimes", RULE_SOMETIMES},
    {"nullable", RULE_NULLABLE},
    {"string", RULE_STRING},
    {"integer", RULE_INTEGER},
    {"numeric", RULE_NUMERIC},
    {"boolean", RULE_BOOLEAN},
    {"array", RULE_ARRAY},
    {"object", RULE_OBJECT},
    {"date", RULE_DATE},
    {"min", RULE_MIN},
    {"max", RULE_MAX},
    {"in", RULE_IN},
    {"exists", RULE_EXISTS},
    {"unique", RULE_UNIQUE},
};

const char *rules_kind_name(enum rule_kind kind)
{
    for (size_t i = 0; i < sizeof rule_names / sizeof rule_names[0]; i++)
        if (rule_names[i].kind == kind) return rule_names[i].name;
    return "?";
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void add_arg(struct rule *r, const char *s, size_t n)
{
    char *a = mem_alloc(n + 1);
    memcpy(a, s, n);
    a[n] = '\0';
    r->args = mem_realloc(r->args, (r->nargs + 1) * sizeof *r->args);
    r->args[r->nargs++] = a;
}

/* Parameters are split on ',' and kept as written (Laravel does not trim them either).
 * CSV quoting, which Laravel's str_getcsv would honour, is not supported. */
static void split_args(struct rule *r, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == ',') {
            add_arg(r, s + start, i - start);
            start = i + 1;
        }
    }
}

static void free_rule(struct rule *r)
{
    for (size_t i = 0; i < r->nargs; i++) free(r->args[i]);
    free(r->args);
    r->args = NULL;
    r->nargs = 0;
}

/* Checks the parameters of one rule; returns 0 or -1 with err set. */
static int check_args(struct rule *r, const char *name, bool has_colon, const char *attribute,
                      char *err, size_t errlen)
{
    switch (r->kind) {
    case RULE_MIN:
    case RULE_MAX:
        if (r->nargs != 1 || !value_is_numeric(r->args[0], strlen(r->args[0]))) {
            set_err(err, errlen, "%s needs a number", name);
            return -1;
        }
        /* Only compiled at start-up, in the C locale; checks compare exactly against
         * args[0] anyway, so this double is informational. */
        r->number = strtod(r->args[0], NULL);
        return 0;
    case RULE_IN:
        if (r->nargs == 0 || (r->nargs == 1 && r->args[0][0] == '\0')) {
            set_err(err, errlen, "%s needs at least one value", name);
            return -1;
        }
        return 0;
    case RULE_EXISTS:
    case RULE_UNIQUE:
        if (r->nargs == 0 || r->args[0][0] == '\0') {
            set_err(err, errlen, "%s needs a table", name);
            return -1;
        }
        if (r->kind == RULE_EXISTS && r->nargs > 2) {
            set_err(err, errlen, "%s takes a table and one column", name);
            return -1;
        }
        /* The column defaults to the attribute's own name, as in Laravel. */
        if (r->nargs == 1) {
            if (!attribute) {
                set_err(err, errlen, "%s needs a column", name);
                return -1;
            }
            add_arg(r, attribute, strlen(attribute));
        }
        /* These become SQL identifiers: refuse anything that is not plainly one. */
        for (size_t i = 0; i < r->nargs; i++) {
            if (!value_is_identifier(r->args[i])) {
                set_err(err, errlen, "'%s' is not a valid table or column name", r->args[i]);
                return -1;
            }
        }
        return 0;
    default:
        if (has_colon) {
            set_err(err, errlen, "%s takes no arguments", name);
            return -1;
        }
        return 0;
    }
}

static bool is_blank_char(char c)
{
    return c == ' ' || c == '\t';
}

int rules_compile(const char *spec, const char *attribute, struct rule_set *out, char *err,
                  size_t errlen)
{
    const char *p = spec ? spec : "";

    memset(out, 0, sizeof *out);
    for (;;) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        const char *name = p;
        size_t nlen = colon ? (size_t)(colon - p) : len;
        struct rule r = {0};
        bool known = false;
        char namebuf[32];

        /* Laravel trims rule names and skips empty rules ("required||string"). */
        while (nlen && is_blank_char(*name)) {
            name++;
            nlen--;
        }
        while (nlen && is_blank_char(name[nlen - 1])) nlen--;
        if (nlen == 0 && !colon) goto next;
        for (size_t i = 0; i < sizeof rule_names / sizeof rule_names[0]; i++) {
            if (strlen(rule_names[i].name) == nlen && memcmp(rule_names[i].name, name, nlen) == 0) {
                r.kind = rule_names[i].kind;
                known = true;
                break;
            }
        }
        if (!known) {
            set_err(err, errlen, "unknown rule '%.*s'", (int)nlen, name);
            goto fail;
        }
        snprintf(namebuf, sizeof namebuf, "%.*s", (int)nlen, name);
        if (colon) split_args(&r, colon + 1, len - (size_t)(colon + 1 - p));
        if (check_args(&r, namebuf, colon != NULL, attribute, err, errlen)) {
            free_rule(&r);
            goto fail;
        }
        out->rules = mem_realloc(out->rules, (out->nrules + 1) * sizeof *out->rules);
        out->rules[out->nrules++] = r;
        switch (r.kind) {
        case RULE_REQUIRED: out->required = true; break;
        case RULE_SOMETIMES: out->sometimes = true; break;
        case RULE_NULLABLE: out->nullable = true; break;
        case RULE_INTEGER:
        case RULE_NUMERIC: out->numeric = true; break;
        case RULE_ARRAY:
        case RULE_OBJECT: out->array = true; break;
        default: break;
        }
    next:
        if (!end) break;
        p = end + 1;
    }
    return 0;

fail:
    rules_free(out);
    return -1;
}

void rules_free(struct rule_set *rs)
{
    if (!rs) return;
    for (size_t i = 0; i < rs->nrules; i++) free_rule(&rs->rules[i]);
    free(rs->rules);
    memset(rs, 0, sizeof *rs);
}

const struct rule *rules_find(const struct rule_set *rs, enum rule_kind kind)
{
    for (size_t i = 0; rs && i < rs->nrules; i++)
        if (rs->rules[i].kind == kind) return &rs->rules[i];
    return NULL;
}

/* ---- messages ------------------------------------------------------------------------- */

const char RULES_MSG_REQUIRED[] = "The :attribute field is required.";
const char RULES_MSG_STRING[] = "The :attribute field must be a string.";
const char RULES_MSG_INTEGER[] = "The :attribute field must be an integer.";
const char RULES_MSG_NUMERIC[] = "The :attribute field must be a number.";
const char RULES_MSG_BOOLEAN[] = "The :attribute field must be true or false.";
const char RULES_MSG_ARRAY[] = "The :attribute field must be an array.";
const char RULES_MSG_OBJECT[] = "The :attribute field must be an object.";
const char RULES_MSG_DATE[] = "The :attribute field must be a valid date.";
const char RULES_MSG_SELECTED[] = "The selected :attribute is invalid.";
const char RULES_MSG_UNIQUE[] = "The :attribute has already been taken.";
const char RULES_MSG_MIN_NUMERIC[] = "The :attribute field must be at least :min.";
const char RULES_MSG_MAX_NUMERIC[] = "The :attribute field must not be greater than :max.";
const char RULES_MSG_MAX_STRING[] =
    "The :attribute field must not be greater than :max characters.";

/* Expands Laravel's placeholders (":attribute", ":min", ":max") into out when it is not
 * NULL; returns the length of the expansion. */
static size_t expand(char *out, const char *tmpl, const char *label, const char *arg)
{
    static const char *const names[] = {":attribute", ":min", ":max"};
    size_t o = 0;
    const char *t = tmpl;
    while (*t) {
        const char *sub = NULL;
        size_t skip = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            size_t nl = strlen(names[i]);
            if (strncmp(t, names[i], nl) == 0) {
                sub = i == 0 ? label : arg;
                skip = nl;
                break;
            }
        }
        if (skip) {
            size_t sl = sub ? strlen(sub) : 0;
            if (out) memcpy(out + o, sub, sl);
            o += sl;
            t += skip;
        } else {
            if (out) out[o] = *t;
            o++;
            t++;
        }
    }
    if (out) out[o] = '\0';
    return o;
}

char *rules_message(struct arena *a, const char *tmpl, const char *label, const char *arg)
{
    char *msg = arena_alloc(a, expand(NULL, tmpl, label, arg) + 1);
    expand(msg, tmpl, label, arg);
    return msg;
}

/* Hands the finished message to env->fail. Measured first, so a long label never
 * truncates the message. */
static void report(const struct rules_env *env, const char *tmpl, const char *label,
                   const char *arg)
{
    char stackbuf[512];
    if (!env || !env->fail) return;
    size_t need = expand(NULL, tmpl, label, arg) + 1;
    char *msg = need > sizeof stackbuf ? mem_alloc(need) : stackbuf;
    expand(msg, tmpl, label, arg);
    env->fail(env->ud, msg);
    if (msg != stackbuf) free(msg);
}

/* ---- value predicates ----------------------------------------------------------------- */

static bool is_string(json_object *v)
{
    return v && json_object_is_type(v, json_type_string);
}

static bool is_container(json_object *v)
{
    return v &&
           (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array));
}

int rules_json_integer(json_object *v, long long *out)
{
    if (!v) return -1;
    switch (json_object_get_type(v)) {
    case json_type_int:
        /* json-c also holds uint64 above INT64_MAX here; PHP would decode those as floats,
         * which FILTER_VALIDATE_INT refuses. */
        if (json_object_get_int64(v) == INT64_MAX && json_object_get_uint64(v) != INT64_MAX)
            return -1;
        *out = json_object_get_int64(v);
        return 0;
    case json_type_double: {
        double d = json_object_get_double(v);
        /* Range first (NaN fails it too), so the cast below is defined; no libm needed. */
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return -1;
        if (d != (double)(long long)d) return -1;
        *out = (long long)d;
        return 0;
    }
    case json_type_string:
        return value_parse_int(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                               out);
    default: return -1;
    }
}

static bool is_integer(json_object *v)
{
    long long dummy;
    return rules_json_integer(v, &dummy) == 0;
}

static bool is_numeric(json_object *v)
{
    if (!v) return false;
    switch (json_object_get_type(v)) {
    case json_type_int:
    case json_type_double: return true;
    case json_type_string:
        return value_is_numeric(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    default: return false;
    }
}

static bool is_boolean(json_object *v)
{
    if (!v) return false;
    switch (json_object_get_type(v)) {
    case json_type_boolean: return true;
    case json_type_int: {
        int64_t i = json_object_get_int64(v);
        return i == 0 || i == 1;
    }
    case json_type_string: {
        const char *s = json_object_get_string(v);
        return json_object_get_string_len(v) == 1 && (s[0] == '0' || s[0] == '1');
    }
    default: return false;
    }
}

/* Laravel's `required`: null, blank strings and empty arrays/objects are missing. */
static bool is_missing(json_object *v)
{
    if (!v) return true;
    switch (json_object_get_type(v)) {
    case json_type_string:
        return value_is_blank(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    case json_type_array: return json_object_array_length(v) == 0;
    case json_type_object: return json_object_object_length(v) == 0;
    default: return false;
    }
}

/* PHP's (string) of a float: precision 14, "%G"-like, but exponents as "1.0E+25". */
static void php_float_string(double d, char *out, size_t outlen)
{
    char tmp[64];
    char *e;

    if (isnan(d)) {
        snprintf(out, outlen, "NAN");
        return;
    }
    if (isinf(d)) {
        snprintf(out, outlen, "%sINF", d < 0 ? "-" : "");
        return;
    }
    snprintf(tmp, sizeof tmp, "%.14G", d);
    e = strchr(tmp, 'E');
    if (!e) {
        snprintf(out, outlen, "%s", tmp);
        return;
    }
    {
        char mant[40];
        int exp = atoi(e + 1);
        size_t ml = (size_t)(e - tmp);
        snprintf(mant, sizeof mant, "%.*s", (int)ml, tmp);
        snprintf(out, outlen, "%s%sE%c%d", mant, strchr(mant, '.') ? "" : ".0", exp < 0 ? '-' : '+',
                 exp < 0 ? -exp : exp);
    }
}

/* The scalar's string form as PHP's (string) cast gives it, for `in` and for sizes.
 * Returns a pointer to the text (either the JSON string itself or `tmp`). */
static const char *scalar_string(json_object *v, char *tmp, size_t tmplen, size_t *len)
{
    const char *s = tmp;

    tmp[0] = '\0';
    if (v) {
        switch (json_object_get_type(v)) {
        case json_type_string:
            *len = (size_t)json_object_get_string_len(v);
            return json_object_get_string(v);
        case json_type_boolean:
            snprintf(tmp, tmplen, "%s", json_object_get_boolean(v) ? "1" : "");
            break;
        case json_type_int: {
            int64_t i = json_object_get_int64(v);
            if (i == INT64_MAX)
                snprintf(tmp, tmplen, "%" PRIu64, json_object_get_uint64(v));
            else
                snprintf(tmp, tmplen, "%" PRId64, i);
            break;
        }
        case json_type_double: php_float_string(json_object_get_double(v), tmp, tmplen); break;
        default: break;
        }
    }
    *len = strlen(s);
    return s;
}

/* ---- checks ------------------------------------------------------------------------- */

enum size_kind { SIZE_NUMERIC, SIZE_ARRAY, SIZE_STRING };

/* Laravel's getSize() compared with the bound: returns <0, 0, >0 for size vs args[0], and
 * which kind of size it was (it picks the message). */
static int size_cmp(const struct rule_set *rs, const struct rule *r, json_object *v,
                    enum size_kind *kind)
{
    char tmp[64];
    size_t len;
    const char *s;
    double size;

    if (rs->numeric && is_numeric(v)) {
        *kind = SIZE_NUMERIC;
        /* Exact decimal comparison on the number as written (json-c keeps a parsed
         * double's original text), so 9999.9999995 is not mistaken for 9999.999999. */
        if (json_object_is_type(v, json_type_int)) {
            s = scalar_string(v, tmp, sizeof tmp, &len);
        } else {
            s = json_object_get_string(v);
            len = json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v)
                                                           : strlen(s);
        }
        if (value_is_numeric(s, len)) return value_numeric_cmp(s, len, r->args[0]);
        /* Only non-finite doubles get here. */
        size = json_object_get_double(v);
        return size < r->number ? -1 : size > r->number ? 1 : 0;
    }
    if (is_container(v)) {
        *kind = SIZE_ARRAY;
        size = json_object_is_type(v, json_type_array) ? (double)json_object_array_length(v)
                                                       : (double)json_object_object_length(v);
    } else {
        *kind = SIZE_STRING;
        s = scalar_string(v, tmp, sizeof tmp, &len);
        size = (double)value_utf8_len(s, len);
    }
    return size < r->number ? -1 : size > r->number ? 1 : 0;
}

/* Laravel measures the size by the value (getSize) but words the message by the rules
 * (getAttributeType): `integer|min:1` given null says "must be at least 1.", not
 * "1 characters". */
static enum size_kind message_kind(const struct rule_set *rs)
{
    return rs->numeric ? SIZE_NUMERIC : rs->array ? SIZE_ARRAY : SIZE_STRING;
}

static bool passes_in(const struct rule *r, json_object *v)
{
    char tmp[64];
    size_t len;
    const char *s;

    if (!v || is_container(v)) return false;
    s = scalar_string(v, tmp, sizeof tmp, &len);
    for (size_t i = 0; i < r->nargs; i++)
        if (strlen(r->args[i]) == len && memcmp(r->args[i], s, len) == 0) return true;
    return false;
}

int rules_check(const struct rule_set *rs, const char *label, bool present, json_object *value,
                const struct rules_env *env)
{
    static const char *const min_msg[] = {
        [SIZE_NUMERIC] = RULES_MSG_MIN_NUMERIC,
        [SIZE_ARRAY] = "The :attribute field must have at least :min items.",
        [SIZE_STRING] = "The :attribute field must be at least :min characters.",
    };
    static const char *const max_msg[] = {
        [SIZE_NUMERIC] = RULES_MSG_MAX_NUMERIC,
        [SIZE_ARRAY] = "The :attribute field must not have more than :max items.",
        [SIZE_STRING] = RULES_MSG_MAX_STRING,
    };
    int failures = 0;

    if (!label) label = "";
    if (!present) {
        if ((env && env->partial) || rs->sometimes) return 0;
        if (rs->required) {
            report(env, RULES_MSG_REQUIRED, label, NULL);
            return 1;
        }
        return 0;
    }
    /* `required` is implicit: when it fails, Laravel stops validating the attribute. */
    if (rs->required && is_missing(value)) {
        report(env, RULES_MSG_REQUIRED, label, NULL);
        return 1;
    }
    if (!value && rs->nullable) return 0;

    for (size_t i = 0; i < rs->nrules; i++) {
        const struct rule *r = &rs->rules[i];
        const char *msg = NULL;
        const char *arg = NULL;
        enum size_kind kind = SIZE_STRING;

        switch (r->kind) {
        case RULE_REQUIRED:
        case RULE_SOMETIMES:
        case RULE_NULLABLE:
        case RULE_UNIQUE: break;
        case RULE_STRING:
            if (!is_string(value)) msg = RULES_MSG_STRING;
            break;
        case RULE_INTEGER:
            if (!is_integer(value)) msg = RULES_MSG_INTEGER;
            break;
        case RULE_NUMERIC:
            if (!is_numeric(value)) msg = RULES_MSG_NUMERIC;
            break;
        case RULE_BOOLEAN:
            if (!is_boolean(value)) msg = RULES_MSG_BOOLEAN;
            break;
        case RULE_ARRAY:
            if (!is_container(value)) msg = RULES_MSG_ARRAY;
            break;
        case RULE_OBJECT:
            if (!value || !json_object_is_type(value, json_type_object)) msg = RULES_MSG_OBJECT;
            break;
        case RULE_DATE: {
            char utc[27];
            if (!is_string(value) ||
                value_parse_date(json_object_get_string(value),
                                 (size_t)json_object_get_string_len(value), utc) != 0)
                msg = RULES_MSG_DATE;
            break;
        }
        case RULE_MIN:
            if (size_cmp(rs, r, value, &kind) < 0) {
                msg = min_msg[message_kind(rs)];
                arg = r->args[0];
            }
            break;
        case RULE_MAX:
            if (size_cmp(rs, r, value, &kind) > 0) {
                msg = max_msg[message_kind(rs)];
                arg = r->args[0];
            }
            break;
        case RULE_IN:
            if (!passes_in(r, value)) msg = RULES_MSG_SELECTED;
            break;
        case RULE_EXISTS: {
            int found;
            /* Laravel skips presence queries once the attribute has failed another rule:
             * no database round trip for a value already known to be wrong. */
            if (failures) break;
            if (!value || is_container(value) || !env || !env->exists) {
                found = 0;
            } else {
                found = env->exists(env->ud, r->args[0], r->args[1], value);
                if (found < 0) return found;
            }
            if (!found) msg = RULES_MSG_SELECTED;
            break;
        }
        }
        if (msg) {
            report(env, msg, label, arg);
            failures++;
        }
    }
    return failures;
}

/* ---- labels --------------------------------------------------------------------------- */

/* Laravel's getDisplayableAttribute: Str::snake() then '_' -> ' ', so "is_active" and
 * "isActive" both read "is active". Truncation never splits a UTF-8 sequence. */
void rules_label(const char *attribute, char *out, size_t outlen)
{
    size_t o = 0;

    if (!out || outlen == 0) return;
    out[0] = '\0';
    if (!attribute) return;
    for (size_t i = 0; attribute[i]; i++) {
        unsigned char c = (unsigned char)attribute[i];
        char piece[2];
        size_t plen = 0;

        if (c >= 'A' && c <= 'Z') {
            if (i > 0) piece[plen++] = ' ';
            piece[plen++] = (char)(c - 'A' + 'a');
        } else {
            piece[plen++] = c == '_' ? ' ' : (char)c;
        }
        if (o + plen > outlen - 1) break;
        memcpy(out + o, piece, plen);
        o += plen;
    }
    /* Back off to a code point boundary if the cut landed inside one. */
    if (o > 0) {
        size_t start = o;
        while (start > 0 && ((unsigned char)out[start - 1] & 0xC0) == 0x80) start--;
        if (start > 0) {
            unsigned char lead = (unsigned char)out[start - 1];
            size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            if (o - (start - 1) < want) o = start - 1;
        }
    }
    out[o] = '\0';
}
