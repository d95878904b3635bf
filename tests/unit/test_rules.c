/* test_rules.c — unit tests for rules.c: compiling rule strings, Laravel's check flow
 * (required/nullable/sometimes/partial), every type rule, sizes, in, exists, labels and the
 * exact English messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

/* ---- harness ---- */

#define MAX_MSGS 8

struct collected {
    char msgs[MAX_MSGS][1024];
    size_t nmsgs;
    /* exists callback */
    int exists_result;
    int exists_calls;
    char table[64], column[64], value[64];
};

static void collect_fail(void *ud, const char *message)
{
    struct collected *c = ud;
    assert_true(c->nmsgs < MAX_MSGS);
    snprintf(c->msgs[c->nmsgs++], sizeof c->msgs[0], "%s", message);
}

static int collect_exists(void *ud, const char *table, const char *column, json_object *value)
{
    struct collected *c = ud;
    c->exists_calls++;
    snprintf(c->table, sizeof c->table, "%s", table);
    snprintf(c->column, sizeof c->column, "%s", column);
    snprintf(c->value, sizeof c->value, "%s", json_object_to_json_string(value));
    return c->exists_result;
}

/* Runs `spec` on the JSON text `json` (NULL = attribute absent) for attribute `attr`. */
static int run(const char *spec, const char *attr, const char *json, bool partial,
               struct collected *c)
{
    struct rule_set rs;
    char err[128];
    char label[128];
    struct rules_env env = {
        .exists = collect_exists, .fail = collect_fail, .ud = c, .partial = partial};
    json_object *v = NULL;
    int rc;

    if (rules_compile(spec, attr, &rs, err, sizeof err) != 0)
        fail_msg("compile '%s': %s", spec, err);
    if (json) {
        v = json_tokener_parse(json);
        if (!v && strcmp(json, "null") != 0) fail_msg("bad test JSON: %s", json);
    }
    rules_label(attr, label, sizeof label);
    rc = rules_check(&rs, label, json != NULL, v, &env);
    json_object_put(v);
    rules_free(&rs);
    return rc;
}

/* Expects exactly the given messages (NULL-terminated list). */
static void expect(const char *spec, const char *attr, const char *json, ...)
{
    struct collected c = {0};
    const char *want[MAX_MSGS];
    size_t nwant = 0;
    va_list ap;
    int rc;

    va_start(ap, json);
    for (const char *m; (m = va_arg(ap, const char *)) != NULL;) want[nwant++] = m;
    va_end(ap);
    c.exists_result = 1;
    rc = run(spec, attr, json, false, &c);
    if (rc != (int)nwant || c.nmsgs != nwant) {
        fail_msg("'%s' on %s: rc %d, %zu messages (first: '%s'), want %zu", spec,
                 json ? json : "<absent>", rc, c.nmsgs, c.nmsgs ? c.msgs[0] : "", nwant);
    }
    for (size_t i = 0; i < nwant; i++) {
        if (strcmp(c.msgs[i], want[i]) != 0)
            fail_msg("'%s' on %s: message %zu is '%s', want '%s'", spec, json ? json : "<absent>",
                     i, c.msgs[i], want[i]);
    }
}

#define PASS(spec, json) expect((spec), "field", (json), (const char *)NULL)
#define FAILS(spec, json, ...) expect((spec), "field", (json), __VA_ARGS__, (const char *)NULL)

#define REQUIRED "The field field is required."
#define STRING "The field field must be a string."
#define INTEGER "The field field must be an integer."
#define NUMERIC "The field field must be a number."
#define BOOLEAN "The field field must be true or false."
#define ARRAY "The field field must be an array."
#define DATE "The field field must be a valid date."
#define INVALID "The selected field is invalid."

static char *repeat(const char *unit, size_t times)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * times + 3);
    assert_non_null(s);
    s[0] = '"';
    for (size_t i = 0; i < times; i++) memcpy(s + 1 + i * ul, unit, ul);
    s[1 + ul * times] = '"';
    s[2 + ul * times] = '\0';
    return s;
}

/* ---- compile ---- */

static void test_compile_basic(void **state)
{
    (void)state;
    struct rule_set rs;
    char err[128] = "";
    const struct rule *r;

    assert_int_equal(rules_compile("required|string|max:255", "name", &rs, err, sizeof err), 0);
    assert_int_equal(rs.nrules, 3);
    assert_int_equal(rs.rules[0].kind, RULE_REQUIRED);
    assert_int_equal(rs.rules[1].kind, RULE_STRING);
    assert_int_equal(rs.rules[2].kind, RULE_MAX);
    assert_true(rs.required);
    assert_false(rs.sometimes || rs.nullable || rs.numeric || rs.array);
    r = rules_find(&rs, RULE_MAX);
    assert_non_null(r);
    assert_true(r->number == 255.0);
    assert_int_equal(r->nargs, 1);
    assert_string_equal(r->args[0], "255");
    assert_null(rules_find(&rs, RULE_MIN));
    rules_free(&rs);
    assert_int_equal(rs.nrules, 0);
    assert_null(rs.rules);
    rules_free(&rs); /* idempotent */

    assert_int_equal(rules_compile("sometimes|nullable|integer|min:0.5", "x", &rs, err, sizeof err),
                     0);
    assert_true(rs.sometimes && rs.nullable && rs.numeric);
    assert_false(rs.required || rs.array);
    assert_true(rules_find(&rs, RULE_MIN)->number == 0.5);
    assert_string_equal(rules_find(&rs, RULE_MIN)->args[0], "0.5");
    rules_free(&rs);

    assert_int_equal(rules_compile("numeric", "x", &rs, err, sizeof err), 0);
    assert_true(rs.numeric);
    rules_free(&rs);
    assert_int_equal(rules_compile("nullable|array", "x", &rs, err, sizeof err), 0);
    assert_true(rs.array && rs.nullable);
    rules_free(&rs);

    assert_int_equal(rules_compile("boolean|date", "x", &rs, err, sizeof err), 0);
    assert_int_equal(rs.nrules, 2);
    assert_int_equal(rs.rules[0].kind, RULE_BOOLEAN);
    assert_int_equal(rs.rules[1].kind, RULE_DATE);
    rules_free(&rs);
}

static void test_compile_args(void **state)
{
    (void)state;
    struct rule_set rs;
    char err[128] = "";
    const struct rule *r;

    assert_int_equal(rules_compile("in:draft,active,archived", "status", &rs, err, sizeof err), 0);
    r = rules_find(&rs, RULE_IN);
    assert_int_equal(r->nargs, 3);
    assert_string_equal(r->args[0], "draft");
    assert_string_equal(r->args[1], "active");
    assert_string_equal(r->args[2], "archived");
    rules_free(&rs);

    /* exists: the column defaults to the attribute's name */
    assert_int_equal(
        rules_compile("required|exists:workflows", "workflow_id", &rs, err, sizeof err), 0);
    r = rules_find(&rs, RULE_EXISTS);
    assert_int_equal(r->nargs, 2);
    assert_string_equal(r->args[0], "workflows");
    assert_string_equal(r->args[1], "workflow_id");
    rules_free(&rs);

    assert_int_equal(rules_compile("exists:workflows,id", "workflow_id", &rs, err, sizeof err), 0);
    r = rules_find(&rs, RULE_EXISTS);
    assert_int_equal(r->nargs, 2);
    assert_string_equal(r->args[1], "id");
    rules_free(&rs);

    assert_int_equal(rules_compile("unique:prompts,name,version", "name", &rs, err, sizeof err), 0);
    r = rules_find(&rs, RULE_UNIQUE);
    assert_int_equal(r->nargs, 3);
    assert_string_equal(r->args[0], "prompts");
    assert_string_equal(r->args[1], "name");
    assert_string_equal(r->args[2], "version");
    rules_free(&rs);

    assert_int_equal(rules_compile("unique:prompts", "name", &rs, err, sizeof err), 0);
    r = rules_find(&rs, RULE_UNIQUE);
    assert_int_equal(r->nargs, 2);
    assert_string_equal(r->args[1], "name");
    rules_free(&rs);

    /* Laravel skips empty rules and trims rule names. */
    assert_int_equal(rules_compile(" required || string |", "x", &rs, err, sizeof err), 0);
    assert_int_equal(rs.nrules, 2);
    assert_int_equal(rs.rules[1].kind, RULE_STRING);
    rules_free(&rs);
    assert_int_equal(rules_compile("", "x", &rs, err, sizeof err), 0);
    assert_int_equal(rs.nrules, 0);
    rules_free(&rs);

    /* 64-character identifiers are MariaDB's limit. */
    assert_int_equal(
        rules_compile("exists:t,"
                      "a234567890123456789012345678901234567890123456789012345678901234",
                      "x", &rs, err, sizeof err),
        0);
    rules_free(&rs);
    assert_int_equal(rules_compile("exists:_T1,_c_9", "x", &rs, err, sizeof err), 0);
    rules_free(&rs);
}

static void expect_compile_error(const char *spec, const char *attr, const char *want_substr)
{
    struct rule_set rs;
    char err[128] = "";

    memset(&rs, 0x5A, sizeof rs);
    if (rules_compile(spec, attr, &rs, err, sizeof err) != -1)
        fail_msg("'%s' compiled, expected an error", spec);
    if (!strstr(err, want_substr))
        fail_msg("'%s': error '%s' does not mention '%s'", spec, err, want_substr);
    /* *out is left empty */
    assert_int_equal(rs.nrules, 0);
    assert_null(rs.rules);
    assert_false(rs.required || rs.sometimes || rs.nullable || rs.numeric || rs.array);
    rules_free(&rs);
}

static void test_compile_errors(void **state)
{
    (void)state;
    expect_compile_error("required|foo", "x", "unknown rule 'foo'");
    expect_compile_error("Required", "x", "unknown rule");
    expect_compile_error("email", "x", "unknown rule 'email'");
    expect_compile_error(":5", "x", "unknown rule");
    expect_compile_error("max:abc", "x", "max needs a number");
    expect_compile_error("max:", "x", "max needs a number");
    expect_compile_error("max", "x", "max needs a number");
    expect_compile_error("min:1,2", "x", "min needs a number");
    expect_compile_error("string|min:1x", "x", "min needs a number");
    expect_compile_error("in", "x", "in needs");
    expect_compile_error("in:", "x", "in needs");
    expect_compile_error("exists", "x", "exists needs a table");
    expect_compile_error("exists:", "x", "exists needs a table");
    expect_compile_error("exists:,id", "x", "exists needs a table");
    expect_compile_error("unique", "x", "unique needs a table");
    expect_compile_error("exists:bad-table,id", "x", "'bad-table'");
    expect_compile_error("exists:t,bad col", "x", "'bad col'");
    expect_compile_error("exists:t,id;drop", "x", "not a valid");
    expect_compile_error("exists:t,", "x", "not a valid");
    expect_compile_error("exists:1t", "x", "'1t'");
    expect_compile_error("unique:prompts,name,`version`", "x", "not a valid");
    expect_compile_error("exists:t,a,b", "x", "exists");
    /* the default column must be an identifier as well */
    expect_compile_error("exists:t", "steps.*.id", "not a valid");
    expect_compile_error("exists:t,"
                         "a2345678901234567890123456789012345678901234567890123456789012345",
                         "x", "not a valid");
    expect_compile_error("required:yes", "x", "takes no arguments");
    expect_compile_error("string|nullable:1", "x", "takes no arguments");

    /* err may be NULL or tiny */
    {
        struct rule_set rs;
        char tiny[4];
        assert_int_equal(rules_compile("bogus", "x", &rs, NULL, 0), -1);
        assert_int_equal(rules_compile("bogus", "x", &rs, tiny, sizeof tiny), -1);
        assert_string_equal(tiny, "unk");
    }
}

/* ---- presence: required, sometimes, partial, nullable ---- */

static void test_required(void **state)
{
    (void)state;
    FAILS("required|string|max:255", NULL, REQUIRED);
    FAILS("required|string|max:255", "null", REQUIRED);
    FAILS("required|string|max:255", "\"\"", REQUIRED);
    FAILS("required|string|max:255", "\"   \"", REQUIRED);
    FAILS("required|string", "\" \\t\\n\\r\\u000b\\u0000 \"", REQUIRED);
    FAILS("required|array", "[]", REQUIRED);
    FAILS("required|array", "{}", REQUIRED);
    /* required stops the attribute: no "must be a string" after it */
    FAILS("required|string|min:3", "[]", REQUIRED);
    FAILS("required|integer|min:1", "null", REQUIRED);
    PASS("required", "0");
    PASS("required", "false");
    PASS("required", "\"0\"");
    PASS("required", "\" a \"");
    PASS("required", "\"\\f\""); /* form feed is not trimmed by PHP's trim() */
    PASS("required", "[0]");
    PASS("required", "{\"a\":null}");
    PASS("required|array", "[null]");
    /* nullable does not excuse required */
    FAILS("required|nullable|string", "null", REQUIRED);
    FAILS("nullable|required|string", "null", REQUIRED);
}

static void test_absent(void **state)
{
    (void)state;
    struct collected c = {0};

    /* Not present and not required: nothing runs. */
    PASS("string|max:3", NULL);
    PASS("integer|min:5", NULL);
    PASS("exists:workflows,id", NULL);
    /* sometimes: only validated when present */
    PASS("sometimes|required|string", NULL);
    FAILS("sometimes|required|string", "null", REQUIRED);
    FAILS("sometimes|required|string", "\"\"", REQUIRED);
    FAILS("sometimes|string", "5", STRING);
    PASS("sometimes|string", "\"ok\"");

    /* partial (PATCH/PUT): absent attributes are not validated at all */
    assert_int_equal(run("required|string", "name", NULL, true, &c), 0);
    assert_int_equal(c.nmsgs, 0);
    assert_int_equal(run("required|string", "name", "\"\"", true, &c), 1);
    assert_string_equal(c.msgs[0], "The name field is required.");
    c.nmsgs = 0;
    assert_int_equal(run("required|string|max:3", "name", "12345", true, &c), 2);
    assert_string_equal(c.msgs[0], "The name field must be a string.");
    assert_string_equal(c.msgs[1], "The name field must not be greater than 3 characters.");
}

static void test_nullable(void **state)
{
    (void)state;
    PASS("nullable|string|max:3", "null");
    PASS("nullable|integer|min:1", "null");
    PASS("nullable|array", "null");
    PASS("nullable|date", "null");
    PASS("nullable|in:a,b", "null");
    PASS("string|nullable", "null"); /* order does not matter */
    FAILS("nullable|string|max:3", "\"abcd\"",
          "The field field must not be greater than 3 characters.");
    /* without nullable, null runs every rule: max sees the empty string */
    FAILS("string|max:255", "null", STRING);
    FAILS("string|min:1", "null", STRING, "The field field must be at least 1 characters.");
    FAILS("integer", "null", INTEGER);
    FAILS("boolean", "null", BOOLEAN);
    FAILS("array", "null", ARRAY);
    FAILS("in:a,b", "null", INVALID);
}

/* ---- type rules ---- */

static void test_string(void **state)
{
    (void)state;
    PASS("string", "\"\"");
    PASS("string", "\"abc\"");
    PASS("string", "\"12\"");
    FAILS("string", "12", STRING);
    FAILS("string", "1.5", STRING);
    FAILS("string", "true", STRING);
    FAILS("string", "[]", STRING);
    FAILS("string", "{}", STRING);
}

static void test_integer(void **state)
{
    (void)state;
    PASS("integer", "12");
    PASS("integer", "0");
    PASS("integer", "-12");
    PASS("integer", "\"12\"");
    PASS("integer", "\"-12\"");
    PASS("integer", "\" 12 \"");
    PASS("integer", "1.0");
    PASS("integer", "-0.0");
    PASS("integer", "1e3");
    PASS("integer", "9223372036854775807");
    PASS("integer", "-9223372036854775808");
    FAILS("integer", "\"012\"", INTEGER);
    FAILS("integer", "\"1.0\"", INTEGER);
    FAILS("integer", "\"1e3\"", INTEGER);
    FAILS("integer", "\"\"", INTEGER);
    FAILS("integer", "\"abc\"", INTEGER);
    FAILS("integer", "\"9223372036854775808\"", INTEGER);
    FAILS("integer", "1.5", INTEGER);
    FAILS("integer", "true", INTEGER);
    FAILS("integer", "false", INTEGER);
    FAILS("integer", "[]", INTEGER);
    FAILS("integer", "{}", INTEGER);
    FAILS("integer", "18446744073709551615", INTEGER); /* json-c's uint64, a float to PHP */
    FAILS("integer", "1e19", INTEGER);
    FAILS("integer", "9223372036854775808.0", INTEGER);
}

static void test_numeric(void **state)
{
    (void)state;
    PASS("numeric", "12");
    PASS("numeric", "-1.5");
    PASS("numeric", "1e3");
    PASS("numeric", "18446744073709551615");
    PASS("numeric", "\"12\"");
    PASS("numeric", "\"1e3\"");
    PASS("numeric", "\" 1.5 \"");
    PASS("numeric", "\".5\"");
    FAILS("numeric", "\"\"", NUMERIC);
    FAILS("numeric", "\"abc\"", NUMERIC);
    FAILS("numeric", "\"1,5\"", NUMERIC);
    FAILS("numeric", "\"0x1A\"", NUMERIC);
    FAILS("numeric", "true", NUMERIC);
    FAILS("numeric", "false", NUMERIC);
    FAILS("numeric", "[]", NUMERIC);
    FAILS("numeric", "null", NUMERIC);
}

static void test_boolean(void **state)
{
    (void)state;
    PASS("boolean", "true");
    PASS("boolean", "false");
    PASS("boolean", "0");
    PASS("boolean", "1");
    PASS("boolean", "\"0\"");
    PASS("boolean", "\"1\"");
    FAILS("boolean", "2", BOOLEAN);
    FAILS("boolean", "-1", BOOLEAN);
    FAILS("boolean", "1.0", BOOLEAN);
    FAILS("boolean", "0.0", BOOLEAN);
    FAILS("boolean", "\"true\"", BOOLEAN);
    FAILS("boolean", "\"false\"", BOOLEAN);
    FAILS("boolean", "\"\"", BOOLEAN);
    FAILS("boolean", "\"01\"", BOOLEAN);
    FAILS("boolean", "\" 1\"", BOOLEAN);
    FAILS("boolean", "\"yes\"", BOOLEAN);
    FAILS("boolean", "[]", BOOLEAN);
    FAILS("boolean", "18446744073709551615", BOOLEAN);
    expect("boolean", "is_active", "2", "The is active field must be true or false.",
           (const char *)NULL);
}

/* Every kind's name compiles back to that kind: the OpenAPI description names rules through
 * rules_kind_name, which once had a second table that fell behind the enum. */
static void test_kind_names_round_trip(void **state)
{
    (void)state;
    for (int k = RULE_REQUIRED; k <= RULE_UNIQUE; k++) {
        const char *name = rules_kind_name((enum rule_kind)k);
        char spec[64], err[128] = "";
        struct rule_set rs;
        if (k == RULE_MIN || k == RULE_MAX)
            snprintf(spec, sizeof spec, "%s:1", name);
        else if (k == RULE_IN)
            snprintf(spec, sizeof spec, "%s:a", name);
        else if (k == RULE_EXISTS || k == RULE_UNIQUE)
            snprintf(spec, sizeof spec, "%s:workflows,id", name);
        else
            snprintf(spec, sizeof spec, "%s", name);
        if (rules_compile(spec, "f", &rs, err, sizeof err)) fail_msg("%s: %s", spec, err);
        assert_int_equal(rs.rules[0].kind, k);
        rules_free(&rs);
    }
}

static void test_array_and_date(void **state)
{
    (void)state;
    PASS("array", "[]");
    PASS("array", "{}");
    PASS("array", "[1,2]");
    PASS("array", "{\"a\":{\"b\":[]}}");
    FAILS("array", "\"[]\"", ARRAY);
    FAILS("array", "1", ARRAY);
    FAILS("array", "false", ARRAY);
    /* object (ours: a route body's context): a JSON object only, never a list */
    PASS("object", "{}");
    PASS("nullable|object", "null");
    FAILS("object", "[1]", "The field field must be an object.");
    FAILS("object", "\"{}\"", "The field field must be an object.");

    PASS("date", "\"2024-02-29\"");
    PASS("date", "\"2024-02-29T23:59:59.123456789+14:00\"");
    PASS("date", "\"2024-03-15 10:20\"");
    FAILS("date", "\"2023-02-29\"", DATE);
    FAILS("date", "\"2024-01-01T24:00\"", DATE);
    FAILS("date", "\"yesterday\"", DATE);
    FAILS("date", "\"\"", DATE);
    FAILS("date", "1700000000", DATE);
    FAILS("date", "[]", DATE);
}

/* ---- sizes ---- */

static void test_string_sizes(void **state)
{
    (void)state;
    char *s;

    s = repeat("a", 255);
    PASS("required|string|max:255", s);
    free(s);
    s = repeat("a", 256);
    FAILS("required|string|max:255", s, "The field field must not be greater than 255 characters.");
    free(s);
    /* code points, not bytes: 255 × é is 510 bytes */
    s = repeat("\xC3\xA9", 255);
    PASS("string|max:255", s);
    free(s);
    s = repeat("\xC3\xA9", 256);
    FAILS("string|max:255", s, "The field field must not be greater than 255 characters.");
    free(s);
    s = repeat("\xF0\x9F\x98\x80", 255); /* 😀, four bytes each */
    PASS("string|max:255", s);
    free(s);
    s = repeat("\\ud83d\\ude00", 256); /* the same emoji as a JSON escape pair */
    FAILS("string|max:255", s, "The field field must not be greater than 255 characters.");
    free(s);

    PASS("string|min:3", "\"abc\"");
    PASS("string|min:3", "\"\xC3\xA9\xC3\xA9\xC3\xA9\"");
    FAILS("string|min:3", "\"\xC3\xA9\xC3\xA9\"", "The field field must be at least 3 characters.");
    FAILS("string|min:3", "\"ab\"", "The field field must be at least 3 characters.");
    /* the empty string is present and not required: min still applies */
    FAILS("string|min:1", "\"\"", "The field field must be at least 1 characters.");
    /* a numeric string without a numeric rule is measured as text */
    FAILS("string|max:2", "\"100\"", "The field field must not be greater than 2 characters.");
    PASS("string|max:3", "\"100\"");
}

static void test_numeric_sizes(void **state)
{
    (void)state;
    PASS("integer|min:1", "1");
    FAILS("integer|min:1", "0", "The field field must be at least 1.");
    FAILS("integer|min:1", "\"0\"", "The field field must be at least 1.");
    FAILS("integer|min:0", "-1", "The field field must be at least 0.");
    PASS("integer|min:0", "0");
    PASS("integer|max:100", "\"100\"");
    FAILS("integer|max:100", "101", "The field field must not be greater than 100.");
    PASS("integer|max:100", "100.0");
    /* the numeric value counts, not the digits */
    PASS("integer|max:5", "-1000000");
    FAILS("integer|max:5", "6", "The field field must not be greater than 5.");

    /* cost: numeric|min:0, exactly */
    PASS("nullable|numeric|min:0|max:9999.999999", "9999.999999");
    PASS("nullable|numeric|min:0|max:9999.999999", "\"9999.999999\"");
    PASS("nullable|numeric|min:0|max:9999.999999", "\"9999.9999990000\"");
    FAILS("nullable|numeric|min:0|max:9999.999999", "9999.9999995",
          "The field field must not be greater than 9999.999999.");
    FAILS("nullable|numeric|min:0|max:9999.999999", "\"9999.9999995\"",
          "The field field must not be greater than 9999.999999.");
    FAILS("nullable|numeric|min:0|max:9999.999999", "1e4",
          "The field field must not be greater than 9999.999999.");
    FAILS("nullable|numeric|min:0", "-0.0000001", "The field field must be at least 0.");
    PASS("nullable|numeric|min:0", "-0.0");
    PASS("nullable|numeric|min:0", "\"0.0000001\"");
    PASS("numeric|min:0.5", "0.5");
    FAILS("numeric|min:0.5", "0.49", "The field field must be at least 0.5.");
    PASS("numeric|max:1e3", "1000");
    FAILS("numeric|max:1e3", "1000.5", "The field field must not be greater than 1e3.");
    PASS("numeric|max:18446744073709551615", "18446744073709551615");
    FAILS("numeric|max:9223372036854775807", "9223372036854775808",
          "The field field must not be greater than 9223372036854775807.");
}

static void test_mismatched_sizes(void **state)
{
    (void)state;
    /* a non-numeric value under a numeric rule is measured as text (Laravel's getSize),
     * but the message is worded by the rules (getAttributeType): numeric */
    FAILS("integer|max:3", "\"abcd\"", INTEGER, "The field field must not be greater than 3.");
    FAILS("integer|max:3", "true", INTEGER);
    /* numbers and booleans without a numeric rule: length of their string form */
    PASS("max:3", "123");
    FAILS("max:3", "12345", "The field field must not be greater than 3 characters.");
    FAILS("max:3", "-1000", "The field field must not be greater than 3 characters.");
    FAILS("string|max:3", "12345", STRING,
          "The field field must not be greater than 3 characters.");
    FAILS("max:0", "true", "The field field must not be greater than 0 characters.");
    PASS("max:0", "false");
    FAILS("min:1", "false", "The field field must be at least 1 characters.");
    PASS("max:3", "1.0"); /* PHP prints the float 1.0 as "1" */
    FAILS("max:3", "1.25", "The field field must not be greater than 3 characters.");
    FAILS("max:6", "1e25", "The field field must not be greater than 6 characters."); /* 1.0E+25 */
    PASS("max:7", "1e25");
    /* arrays count items even without the array rule; the wording follows the rules */
    FAILS("max:2", "[1,2,3]", "The field field must not be greater than 2 characters.");
    FAILS("string|max:2", "[1,2,3]", STRING,
          "The field field must not be greater than 2 characters.");
}

static void test_array_sizes(void **state)
{
    (void)state;
    PASS("array|max:2", "[1,2]");
    FAILS("array|max:2", "[1,2,3]", "The field field must not have more than 2 items.");
    FAILS("array|max:2", "{\"a\":1,\"b\":2,\"c\":3}",
          "The field field must not have more than 2 items.");
    PASS("array|min:1", "[0]");
    FAILS("array|min:1", "[]", "The field field must have at least 1 items.");
    FAILS("array|min:1", "{}", "The field field must have at least 1 items.");
    /* nested items count once */
    PASS("array|max:1", "[[1,2,3]]");
    /* numeric rule and an array value: counted as items, worded as a number */
    FAILS("integer|max:1", "[1,2]", INTEGER, "The field field must not be greater than 1.");
    /* null under integer|min:1 (explicit null on `version`): size 0, numeric wording */
    FAILS("integer|min:1", "null", INTEGER, "The field field must be at least 1.");
}

/* ---- in ---- */

static void test_in(void **state)
{
    (void)state;
    PASS("in:draft,active,archived", "\"draft\"");
    PASS("in:draft,active,archived", "\"archived\"");
    FAILS("in:draft,active,archived", "\"Draft\"", INVALID);
    FAILS("in:draft,active,archived", "\"draft \"", INVALID);
    FAILS("in:draft,active,archived", "\"\"", INVALID);
    FAILS("in:draft,active,archived", "\"dra\"", INVALID);
    FAILS("in:draft,active,archived", "\"draft,active\"", INVALID);
    FAILS("in:draft,active,archived", "[\"draft\"]", INVALID);
    FAILS("in:draft,active,archived", "{}", INVALID);
    expect("in:draft,active,archived", "status", "\"x\"", "The selected status is invalid.",
           (const char *)NULL);
    /* ints compare by their decimal form */
    PASS("in:1,2,3", "2");
    PASS("in:1,2,3", "\"2\"");
    FAILS("in:1,2,3", "4", INVALID);
    FAILS("in:1,2,3", "\"02\"", INVALID);
    PASS("in:-5,5", "-5");
    /* booleans: true is "1", false is "" */
    PASS("in:0,1", "true");
    FAILS("in:0,1", "false", INVALID);
    PASS("in:a,,b", "false");
    PASS("in:a,,b", "\"\"");
    /* floats as PHP prints them */
    PASS("in:1", "1.0");
    PASS("in:1.5", "1.5");
    /* every failing rule is reported, in order */
    FAILS("string|max:3|in:a,b", "12345", STRING,
          "The field field must not be greater than 3 characters.", INVALID);
}

/* ---- exists / unique ---- */

static void test_exists(void **state)
{
    (void)state;
    struct collected c = {0};

    c.exists_result = 1;
    assert_int_equal(run("required|exists:workflows,id", "workflow_id", "7", false, &c), 0);
    assert_int_equal(c.exists_calls, 1);
    assert_string_equal(c.table, "workflows");
    assert_string_equal(c.column, "id");
    assert_string_equal(c.value, "7");

    memset(&c, 0, sizeof c);
    c.exists_result = 0;
    assert_int_equal(run("required|exists:workflows,id", "workflow_id", "7", false, &c), 1);
    assert_int_equal(c.exists_calls, 1);
    assert_string_equal(c.msgs[0], "The selected workflow id is invalid.");

    /* a database error stops validation and is passed through */
    memset(&c, 0, sizeof c);
    c.exists_result = -5;
    assert_int_equal(run("required|exists:workflows,id|in:1", "workflow_id", "7", false, &c), -5);
    assert_int_equal(c.exists_calls, 1);
    assert_int_equal(c.nmsgs, 0);

    /* the default column is the attribute */
    memset(&c, 0, sizeof c);
    c.exists_result = 1;
    assert_int_equal(run("exists:prompts", "prompt_id", "\"3\"", false, &c), 0);
    assert_string_equal(c.table, "prompts");
    assert_string_equal(c.column, "prompt_id");
    assert_string_equal(c.value, "\"3\"");

    /* null, arrays and objects fail without asking the database */
    memset(&c, 0, sizeof c);
    c.exists_result = 1;
    assert_int_equal(run("exists:workflows,id", "workflow_id", "null", false, &c), 1);
    assert_int_equal(run("exists:workflows,id", "workflow_id", "[1]", false, &c), 1);
    assert_int_equal(run("exists:workflows,id", "workflow_id", "{\"id\":1}", false, &c), 1);
    assert_int_equal(c.exists_calls, 0);
    assert_int_equal(c.nmsgs, 3);
    assert_string_equal(c.msgs[2], "The selected workflow id is invalid.");

    /* nullable null: nothing is asked */
    memset(&c, 0, sizeof c);
    assert_int_equal(run("nullable|exists:prompts,id", "prompt_id", "null", false, &c), 0);
    assert_int_equal(c.exists_calls, 0);

    /* absent and not required: nothing is asked */
    assert_int_equal(run("nullable|exists:prompts,id", "prompt_id", NULL, false, &c), 0);
    assert_int_equal(c.exists_calls, 0);

    /* Laravel does not run a presence query once the attribute has already failed */
    memset(&c, 0, sizeof c);
    c.exists_result = 1;
    assert_int_equal(run("integer|exists:workflows,id", "workflow_id", "\"abc\"", false, &c), 1);
    assert_int_equal(c.exists_calls, 0);
    assert_string_equal(c.msgs[0], "The workflow id field must be an integer.");
    /* written first, it does run */
    memset(&c, 0, sizeof c);
    c.exists_result = 0;
    assert_int_equal(run("exists:workflows,id|integer", "workflow_id", "\"abc\"", false, &c), 2);
    assert_int_equal(c.exists_calls, 1);

    /* no callback: exists fails */
    {
        struct rule_set rs;
        struct collected c2 = {0};
        struct rules_env env = {.fail = collect_fail, .ud = &c2};
        json_object *v = json_object_new_int(1);
        assert_int_equal(rules_compile("exists:workflows,id", "workflow_id", &rs, NULL, 0), 0);
        assert_int_equal(rules_check(&rs, "workflow id", true, v, &env), 1);
        assert_string_equal(c2.msgs[0], "The selected workflow id is invalid.");
        json_object_put(v);
        rules_free(&rs);
    }
}

static void test_unique_ignored(void **state)
{
    (void)state;
    struct collected c = {0};

    c.exists_result = 0;
    assert_int_equal(
        run("required|string|max:255|unique:prompts,name,version", "name", "\"x\"", false, &c), 0);
    assert_int_equal(c.exists_calls, 0);
    assert_int_equal(c.nmsgs, 0);
}

static void test_no_fail_callback(void **state)
{
    (void)state;
    struct rule_set rs;
    struct rules_env env = {0};
    json_object *v = json_object_new_string("abcd");

    /* failures are still counted when nobody listens */
    assert_int_equal(rules_compile("integer|max:3|in:a", "x", &rs, NULL, 0), 0);
    assert_int_equal(rules_check(&rs, "x", true, v, &env), 3);
    assert_int_equal(rules_check(&rs, "x", true, v, NULL), 3);
    json_object_put(v);
    rules_free(&rs);
}

/* ---- labels and messages ---- */

static void test_label(void **state)
{
    (void)state;
    char out[64];

    rules_label("is_active", out, sizeof out);
    assert_string_equal(out, "is active");
    rules_label("name", out, sizeof out);
    assert_string_equal(out, "name");
    rules_label("system_prompt_text", out, sizeof out);
    assert_string_equal(out, "system prompt text");
    rules_label("parent_execution_log_id", out, sizeof out);
    assert_string_equal(out, "parent execution log id");
    rules_label("isActive", out, sizeof out); /* Str::snake */
    assert_string_equal(out, "is active");
    rules_label("", out, sizeof out);
    assert_string_equal(out, "");

    /* truncation */
    rules_label("is_active", out, 3);
    assert_string_equal(out, "is");
    rules_label("is_active", out, 10);
    assert_string_equal(out, "is active");
    rules_label("is_active", out, 9);
    assert_string_equal(out, "is activ");
    rules_label("is_active", out, 1);
    assert_string_equal(out, "");
    out[0] = 'Z';
    rules_label("is_active", out, 0);
    assert_int_equal(out[0], 'Z');
    rules_label("isActive", out, 4); /* "is a" does not fit: the inserted space is not split */
    assert_string_equal(out, "is");
    /* never splits a UTF-8 sequence */
    rules_label("caf\xC3\xA9", out, 5);
    assert_string_equal(out, "caf");
    rules_label("caf\xC3\xA9", out, 6);
    assert_string_equal(out, "caf\xC3\xA9");
    rules_label("x\xF0\x9F\x98\x80", out, 5);
    assert_string_equal(out, "x");
}

static void test_long_label(void **state)
{
    (void)state;
    /* a message longer than report()'s stack buffer is built on the heap, whole */
    struct rule_set rs;
    struct collected c = {0};
    struct rules_env env = {.fail = collect_fail, .ud = &c};
    char label[700];

    memset(label, 'a', sizeof label - 1);
    label[sizeof label - 1] = '\0';
    assert_int_equal(rules_compile("required", "x", &rs, NULL, 0), 0);
    assert_int_equal(rules_check(&rs, label, false, NULL, &env), 1);
    assert_int_equal(strlen(c.msgs[0]), strlen("The  field is required.") + 699);
    assert_memory_equal(c.msgs[0], "The aaa", 7);
    assert_string_equal(c.msgs[0] + 4 + 699, " field is required.");
    rules_free(&rs);
}

static void test_json_integer(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        int rc;
        long long want;
    } cases[] = {
        {"[5]", 0, 5},
        {"[-9223372036854775808]", 0, INT64_MIN},
        {"[9223372036854775807]", 0, INT64_MAX},
        {"[9223372036854775808]", -1, 0}, /* json-c's uint64: above int64 */
        {"[1.0]", 0, 1},
        {"[-2.0e3]", 0, -2000},
        {"[1.5]", -1, 0},
        {"[1e300]", -1, 0}, /* out of range: refused before any cast */
        {"[-1e300]", -1, 0},
        {"[9.3e18]", -1, 0},
        {"[9223372036854775808.0]", -1, 0}, /* exactly 2^63 */
        {"[\"42\"]", 0, 42},
        {"[\" 42 \"]", 0, 42},
        {"[\"4.2\"]", -1, 0},
        {"[true]", -1, 0},
        {"[null]", -1, 0},
        {"[[1]]", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_object *arr = json_tokener_parse(cases[i].json);
        assert_non_null(arr);
        long long v = 0;
        int rc = rules_json_integer(json_object_array_get_idx(arr, 0), &v);
        if (rc != cases[i].rc) fail_msg("%s: rc %d", cases[i].json, rc);
        if (rc == 0 && v != cases[i].want) fail_msg("%s: %lld", cases[i].json, v);
        json_object_put(arr);
    }
}

static void test_messages(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 1024);
    assert_string_equal(rules_message(&a, RULES_MSG_MAX_STRING, "name", "255"),
                        "The name field must not be greater than 255 characters.");
    assert_string_equal(rules_message(&a, RULES_MSG_SELECTED, "step id", NULL),
                        "The selected step id is invalid.");
    assert_string_equal(rules_message(&a, RULES_MSG_UNIQUE, "name", NULL),
                        "The name has already been taken.");
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_integer),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_compile_basic),
        cmocka_unit_test(test_compile_args),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_absent),
        cmocka_unit_test(test_nullable),
        cmocka_unit_test(test_string),
        cmocka_unit_test(test_integer),
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_boolean),
        cmocka_unit_test(test_kind_names_round_trip),
        cmocka_unit_test(test_array_and_date),
        cmocka_unit_test(test_string_sizes),
        cmocka_unit_test(test_numeric_sizes),
        cmocka_unit_test(test_mismatched_sizes),
        cmocka_unit_test(test_array_sizes),
        cmocka_unit_test(test_in),
        cmocka_unit_test(test_exists),
        cmocka_unit_test(test_unique_ignored),
        cmocka_unit_test(test_no_fail_callback),
        cmocka_unit_test(test_label),
        cmocka_unit_test(test_long_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
