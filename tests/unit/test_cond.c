/* test_cond.c — unit tests for cond.c and ctxpath.c: every operator, null and missing paths,
 * kinds that do not compare, empty all/any, nesting, exact numbers, invalid expressions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cond.h"
#include "ctxpath.h"

static const char *ctx_text =
    "{\"event\":\"lead.created\",\"object_id\":null,"
    "\"input\":{\"lead_name\":\"Ana\",\"company\":\"Acme\",\"score\":71,\"ratio\":0.5,"
    "\"vip\":true,\"note\":null,\"tags\":[\"b2b\",\"eu\",3,null],\"big\":9007199254740993,"
    "\"huge\":18446744073709551615,\"neg\":-9223372036854775808,\"dec\":0.1000000000000000001,"
    "\"addr\":{\"city\":\"Porto\"},\"event\":\"shadowed\"},"
    "\"steps\":{\"1\":{\"text\":\"Hi Ana\",\"n\":[10,20]},\"2\":{\"status\":\"ok\"}},"
    "\"email\":{\"text\":\"Hi Ana\"},\"items\":[{\"name\":\"x\"},{\"name\":\"y\"}]}";

static struct json_object *ctx;

static int setup(void **state)
{
    (void)state;
    ctx = json_tokener_parse(ctx_text);
    return ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_object_put(ctx);
    return 0;
}

/* Evaluate rules given as JSON text; -1 on an invalid expression, err receives the reason. */
static int ev(const char *rules, char *err, size_t errlen)
{
    struct json_object *r = json_tokener_parse(rules);
    if (!r && strcmp(rules, "null")) fail_msg("bad test JSON: %s", rules);
    int rc = cond_eval(r, ctx, err, errlen);
    json_object_put(r);
    return rc;
}

static int E(const char *rules)
{
    char err[200] = "";
    int rc = ev(rules, err, sizeof err);
    if (rc < 0) fail_msg("unexpected invalid %s: %s", rules, err);
    return rc;
}

/* Expect the expression to be invalid with exactly this reason. */
static void INVALID(const char *rules, const char *reason)
{
    char err[200] = "";
    struct json_object *r = json_tokener_parse(rules);
    assert_non_null(r);
    assert_int_equal(cond_validate(r, err, sizeof err), -1);
    assert_string_equal(err, reason);
    err[0] = '\0';
    assert_int_equal(cond_eval(r, ctx, err, sizeof err), -1);
    assert_string_equal(err, reason);
    json_object_put(r);
}

/* ---- ctxpath ---- */

static void test_path_grammar(void **state)
{
    (void)state;
    static const char *const ok[] = {"a", "input.score", "steps.1.text", "a-b_c", "país.x", "0"};
    static const char *const bad[] = {"", ".", "a.", ".a", "a..b", "a b", "a{", "a}", "$x",
                                      "a/b", "a\"", "\t"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(ctxpath_valid(ok[i], strlen(ok[i])));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(ctxpath_valid(bad[i], strlen(bad[i])));
    char longp[CTXPATH_MAX + 2];
    memset(longp, 'a', sizeof longp);
    assert_true(ctxpath_valid(longp, CTXPATH_MAX));
    assert_false(ctxpath_valid(longp, CTXPATH_MAX + 1));
}

static void test_path_lookup(void **state)
{
    (void)state;
    struct json_object *v;
#define GET(p) ctxpath_get(ctx, p, strlen(p), &v)
    assert_true(GET("input.score"));
    assert_int_equal(json_object_get_int(v), 71);
    assert_true(GET("steps.1.text"));
    assert_string_equal(json_object_get_string(v), "Hi Ana");
    assert_true(GET("email.text"));
    assert_string_equal(json_object_get_string(v), "Hi Ana");
    /* a bare name falls back to input only when the top level lacks it */
    assert_true(GET("lead_name"));
    assert_string_equal(json_object_get_string(v), "Ana");
    assert_true(GET("event"));
    assert_string_equal(json_object_get_string(v), "lead.created");
    /* present null at the top level is found, and does not fall back */
    assert_true(GET("object_id"));
    assert_null(v);
    assert_true(GET("note"));
    assert_null(v);
    /* dotted paths never fall back */
    assert_false(GET("addr.city"));
    assert_true(GET("input.addr.city"));
    /* arrays by canonical index */
    assert_true(GET("items.1.name"));
    assert_string_equal(json_object_get_string(v), "y");
    assert_false(GET("items.2.name"));
    assert_false(GET("items.01.name"));
    assert_false(GET("items.x"));
    assert_true(GET("steps.1.n.0"));
    assert_int_equal(json_object_get_int(v), 10);
    /* through a scalar or a null: missing */
    assert_false(GET("input.score.x"));
    assert_false(GET("input.note.x"));
    assert_false(GET("nothing"));
    assert_null(v);
    assert_false(GET("a..b"));
    assert_false(ctxpath_get(NULL, "a", 1, &v));
#undef GET
}

/* ---- operators ---- */

static void test_eq_ne(void **state)
{
    (void)state;
    assert_int_equal(E("{\"input.score\": {\"==\": 71}}"), 1);
    assert_int_equal(E("{\"input.score\": {\"==\": 71.0}}"), 1);
    assert_int_equal(E("{\"input.score\": {\"==\": 7.1e1}}"), 1);
    assert_int_equal(E("{\"input.score\": {\"==\": 72}}"), 0);
    assert_int_equal(E("{\"input.score\": {\"!=\": 72}}"), 1);
    assert_int_equal(E("{\"input.score\": {\"!=\": 71}}"), 0);
    assert_int_equal(E("{\"input.lead_name\": {\"==\": \"Ana\"}}"), 1);
    assert_int_equal(E("{\"input.lead_name\": {\"==\": \"ana\"}}"), 0);
    assert_int_equal(E("{\"input.vip\": {\"==\": true}}"), 1);
    assert_int_equal(E("{\"input.vip\": {\"==\": false}}"), 0);
    assert_int_equal(E("{\"input.vip\": {\"!=\": false}}"), 1);
    assert_int_equal(E("{\"input.addr\": {\"==\": {\"city\": \"Porto\"}}}"), 1);
    assert_int_equal(E("{\"input.addr\": {\"==\": {\"city\": \"Lisbon\"}}}"), 0);
    assert_int_equal(E("{\"input.addr\": {\"==\": {\"city\": \"Porto\", \"x\": 1}}}"), 0);
    assert_int_equal(E("{\"steps.1.n\": {\"==\": [10, 20.0]}}"), 1);
    assert_int_equal(E("{\"steps.1.n\": {\"==\": [20, 10]}}"), 0);
    assert_int_equal(E("{\"steps.1.n\": {\"==\": [10]}}"), 0);
}

static void test_numbers_exact(void **state)
{
    (void)state;
    /* 2^53 + 1 is not a double: integers compare digit by digit */
    assert_int_equal(E("{\"input.big\": {\"==\": 9007199254740993}}"), 1);
    assert_int_equal(E("{\"input.big\": {\"==\": 9007199254740992}}"), 0);
    assert_int_equal(E("{\"input.big\": {\">\": 9007199254740992}}"), 1);
    assert_int_equal(E("{\"input.huge\": {\"==\": 18446744073709551615}}"), 1);
    assert_int_equal(E("{\"input.huge\": {\">\": 9223372036854775807}}"), 1);
    assert_int_equal(E("{\"input.neg\": {\"<\": -9223372036854775807}}"), 1);
    /* decimals compare by their text, not through binary floating point */
    assert_int_equal(E("{\"input.dec\": {\">\": 0.1}}"), 1);
    assert_int_equal(E("{\"input.dec\": {\"==\": 0.1}}"), 0);
    assert_int_equal(E("{\"input.ratio\": {\"==\": 0.50}}"), 1);
    assert_int_equal(E("{\"input.ratio\": {\"==\": 5e-1}}"), 1);
    assert_int_equal(E("{\"input.ratio\": {\"<\": 1}}"), 1);
    assert_int_equal(E("{\"input.score\": {\">\": -1e3}}"), 1);
}

static void test_ordering(void **state)
{
    (void)state;
    assert_int_equal(E("{\"input.score\": {\">\": 70}}"), 1);
    assert_int_equal(E("{\"input.score\": {\">\": 71}}"), 0);
    assert_int_equal(E("{\"input.score\": {\">=\": 71}}"), 1);
    assert_int_equal(E("{\"input.score\": {\">=\": 72}}"), 0);
    assert_int_equal(E("{\"input.score\": {\"<\": 72}}"), 1);
    assert_int_equal(E("{\"input.score\": {\"<\": 71}}"), 0);
    assert_int_equal(E("{\"input.score\": {\"<=\": 71}}"), 1);
    assert_int_equal(E("{\"input.score\": {\"<=\": 70.999}}"), 0);
    /* strings bytewise: "B" < "a", "Ana" < "Anab", UTF-8 above ASCII */
    assert_int_equal(E("{\"input.lead_name\": {\">\": \"A\"}}"), 1);
    assert_int_equal(E("{\"input.lead_name\": {\"<\": \"Anab\"}}"), 1);
    assert_int_equal(E("{\"input.lead_name\": {\"<\": \"a\"}}"), 1);
    assert_int_equal(E("{\"input.lead_name\": {\"<\": \"B\"}}"), 1);
    assert_int_equal(E("{\"input.lead_name\": {\"<\": \"\\u00e9\"}}"), 1);
    assert_int_equal(E("{\"input.lead_name\": {\">=\": \"Ana\", \"<=\": \"Ana\"}}"), 1);
}

static void test_cross_kind(void **state)
{
    (void)state;
    /* a number and its text are different kinds */
    assert_int_equal(E("{\"input.score\": {\"==\": \"71\"}}"), 0);
    assert_int_equal(E("{\"input.score\": {\"!=\": \"71\"}}"), 1);
    assert_int_equal(E("{\"input.score\": {\">\": \"1\"}}"), 0);
    assert_int_equal(E("{\"input.score\": {\"<\": \"1\"}}"), 0);
    assert_int_equal(E("{\"input.score\": {\">=\": \"71\"}}"), 0);
    assert_int_equal(E("{\"input.score\": {\"<=\": \"71\"}}"), 0);
    /* booleans only with booleans */
    assert_int_equal(E("{\"input.vip\": {\"==\": 1}}"), 0);
    assert_int_equal(E("{\"input.vip\": {\"!=\": 1}}"), 1);
    assert_int_equal(E("{\"input.vip\": {\">\": 0}}"), 0);
    assert_int_equal(E("{\"input.vip\": {\"<\": 2}}"), 0);
    assert_int_equal(E("{\"input.vip\": {\"==\": \"true\"}}"), 0);
    /* strings against numbers: ordering false both ways */
    assert_int_equal(E("{\"input.lead_name\": {\"<\": 5}}"), 0);
    assert_int_equal(E("{\"input.lead_name\": {\">\": 5}}"), 0);
    /* containers do not order */
    assert_int_equal(E("{\"input.addr\": {\">\": 1}}"), 0);
    assert_int_equal(E("{\"input.tags\": {\"<\": \"z\"}}"), 0);
    assert_int_equal(E("{\"input.tags\": {\"==\": {}}}"), 0);
}

static void test_null_and_missing(void **state)
{
    (void)state;
    static const char *const paths[] = {"input.note", "input.nothing", "object_id",
                                        "steps.9.text", "input.score.deeper"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char r[160];
#define T(op_value, want)                                                                          \
    snprintf(r, sizeof r, "{\"%s\": %s}", paths[i], op_value);                                    \
    assert_int_equal(E(r), want);
        T("{\"==\": null}", 1);
        T("{\"!=\": null}", 0);
        T("{\"!=\": 5}", 1);
        T("{\"!=\": \"x\"}", 1);
        T("{\"!=\": false}", 1);
        T("{\"==\": 0}", 0);
        T("{\"==\": false}", 0);
        T("{\"==\": \"\"}", 0);
        T("{\">\": 0}", 0);
        T("{\">=\": 0}", 0);
        T("{\"<\": 0}", 0);
        T("{\"<=\": 0}", 0);
        T("{\"<\": \"a\"}", 0);
        T("{\"exists\": false}", 1);
        T("{\"exists\": true}", 0);
        T("{\"in\": [1, null]}", 1);
        T("{\"in\": [1, 2]}", 0);
        T("{\"contains\": \"a\"}", 0);
        T("{\"contains\": null}", 0);
#undef T
    }
    assert_int_equal(E("{\"input.score\": {\"exists\": true}}"), 1);
    assert_int_equal(E("{\"input.score\": {\"exists\": false}}"), 0);
    assert_int_equal(E("{\"input.vip\": {\"exists\": true}}"), 1);
    /* a bare name reads input when the top level lacks it */
    assert_int_equal(E("{\"score\": {\"==\": 71}}"), 1);
    assert_int_equal(E("{\"note\": {\"exists\": false}}"), 1);
}

static void test_in(void **state)
{
    (void)state;
    assert_int_equal(E("{\"input.company\": {\"in\": [\"Acme\", \"Initech\"]}}"), 1);
    assert_int_equal(E("{\"input.company\": {\"in\": [\"acme\"]}}"), 0);
    assert_int_equal(E("{\"input.company\": {\"in\": []}}"), 0);
    assert_int_equal(E("{\"input.score\": {\"in\": [1, 71.0]}}"), 1);
    assert_int_equal(E("{\"input.score\": {\"in\": [\"71\"]}}"), 0);
    assert_int_equal(E("{\"input.vip\": {\"in\": [1, true]}}"), 1);
    assert_int_equal(E("{\"input.addr\": {\"in\": [{\"city\": \"Porto\"}]}}"), 1);
}

static void test_contains(void **state)
{
    (void)state;
    assert_int_equal(E("{\"steps.1.text\": {\"contains\": \"Ana\"}}"), 1);
    assert_int_equal(E("{\"steps.1.text\": {\"contains\": \"ana\"}}"), 0);
    assert_int_equal(E("{\"steps.1.text\": {\"contains\": \"\"}}"), 1);
    assert_int_equal(E("{\"steps.1.text\": {\"contains\": \"Hi Ana!\"}}"), 0);
    assert_int_equal(E("{\"input.tags\": {\"contains\": \"eu\"}}"), 1);
    assert_int_equal(E("{\"input.tags\": {\"contains\": \"e\"}}"), 0);
    assert_int_equal(E("{\"input.tags\": {\"contains\": 3.0}}"), 1);
    assert_int_equal(E("{\"input.tags\": {\"contains\": null}}"), 1);
    assert_int_equal(E("{\"input.tags\": {\"contains\": \"3\"}}"), 0);
    /* a number does not contain digits, a string does not contain a number */
    assert_int_equal(E("{\"input.score\": {\"contains\": 7}}"), 0);
    assert_int_equal(E("{\"input.lead_name\": {\"contains\": 1}}"), 0);
    assert_int_equal(E("{\"input.addr\": {\"contains\": \"city\"}}"), 0);
}

static void test_several_ops_and_paths(void **state)
{
    (void)state;
    assert_int_equal(E("{\"input.score\": {\">\": 50, \"<\": 80}}"), 1);
    assert_int_equal(E("{\"input.score\": {\">\": 50, \"<\": 60}}"), 0);
    assert_int_equal(E("{\"input.score\": {\">\": 50}, \"input.company\": {\"==\": \"Acme\"}}"),
                     1);
    assert_int_equal(E("{\"input.score\": {\">\": 50}, \"input.company\": {\"==\": \"X\"}}"), 0);
    /* a combinator beside a path: both must hold */
    assert_int_equal(E("{\"any\": [{\"input.vip\": {\"==\": true}}], \"score\": {\"<\": 50}}"), 0);
}

static void test_combinators(void **state)
{
    (void)state;
    assert_int_equal(E("{\"all\": []}"), 1);
    assert_int_equal(E("{\"any\": []}"), 0);
    assert_int_equal(E("{\"not\": {\"any\": []}}"), 1);
    assert_int_equal(E("{\"not\": {}}"), 0);
    assert_int_equal(E("{\"all\": [{\"score\": {\">\": 1}}, {\"vip\": {\"==\": true}}]}"), 1);
    assert_int_equal(E("{\"all\": [{\"score\": {\">\": 1}}, {\"vip\": {\"==\": false}}]}"), 0);
    assert_int_equal(E("{\"any\": [{\"score\": {\">\": 100}}, {\"vip\": {\"==\": true}}]}"), 1);
    assert_int_equal(E("{\"any\": [{\"score\": {\">\": 100}}, {\"vip\": {\"==\": false}}]}"), 0);
    assert_int_equal(E("{\"not\": {\"score\": {\">\": 100}}}"), 1);
    assert_int_equal(E("{\"not\": {\"score\": {\">\": 1}}}"), 0);
    assert_int_equal(E("{\"all\": [{\"any\": [{\"not\": {\"company\": {\"==\": \"X\"}}}, "
                       "{\"score\": {\"<\": 0}}]}, {\"steps.2.status\": {\"==\": \"ok\"}}]}"),
                     1);
    assert_int_equal(E("{\"all\": [{}]}"), 1);
    assert_int_equal(E("{\"any\": [{}]}"), 1);
}

static void test_always_true(void **state)
{
    (void)state;
    char err[100];
    assert_int_equal(cond_eval(NULL, ctx, err, sizeof err), 1);
    assert_int_equal(cond_validate(NULL, err, sizeof err), 0);
    assert_int_equal(E("{}"), 1);
    assert_int_equal(E("[]"), 1);
    /* no context: every path is missing */
    struct json_object *r = json_tokener_parse("{\"x\": {\"exists\": false}}");
    assert_int_equal(cond_eval(r, NULL, err, sizeof err), 1);
    json_object_put(r);
}

static void test_invalid(void **state)
{
    (void)state;
    INVALID("{\"input.score\": {\"=>\": 1}}", "unknown operator \"=>\"");
    INVALID("{\"input.score\": {\"=\": 1}}", "unknown operator \"=\"");
    INVALID("{\"input.score\": {\"in\": \"Acme\"}}", "\"in\" needs an array");
    INVALID("{\"input.score\": {\"in\": {}}}", "\"in\" needs an array");
    INVALID("{\"input.score\": {\"exists\": 1}}", "\"exists\" needs true or false");
    INVALID("{\"input.score\": {\"exists\": null}}", "\"exists\" needs true or false");
    INVALID("{\"input.score\": {\">\": true}}", "\">\" needs a number or a string");
    INVALID("{\"input.score\": {\"<=\": [1]}}", "\"<=\" needs a number or a string");
    INVALID("{\"input.score\": {\">=\": null}}", "\">=\" needs a number or a string");
    INVALID("{\"input.score\": 71}", "path \"input.score\" needs an object of operators");
    INVALID("{\"input.score\": {}}", "path \"input.score\" has no operator");
    INVALID("{\"a..b\": {\"==\": 1}}", "invalid path \"a..b\"");
    INVALID("{\"lead name\": {\"==\": 1}}", "invalid path \"lead name\"");
    INVALID("{\"all\": {}}", "\"all\" needs an array");
    INVALID("{\"any\": null}", "\"any\" needs an array");
    INVALID("{\"not\": [1]}", "\"not\" needs a condition object");
    INVALID("{\"not\": true}", "\"not\" needs a condition object");
    INVALID("[{\"field\": \"country\", \"op\": \"=\", \"value\": \"DE\"}]",
            "a condition must be an object");
    INVALID("{\"all\": [1]}", "a condition must be an object");
    INVALID("{\"all\": [null]}", "a condition must be an object");
    INVALID("\"x\"", "a condition must be an object");
    INVALID("5", "a condition must be an object");
    /* an invalid branch fails even where short-circuiting would have decided */
    INVALID("{\"any\": [{}, {\"x\": {\"~\": 1}}]}", "unknown operator \"~\"");
    /* long or odd keys are shortened and made printable in the message */
    char big[300], want[120];
    snprintf(big, sizeof big, "{\"x\": {\"%0200d\\n\": 1}}", 0);
    snprintf(want, sizeof want, "unknown operator \"%064d...\"", 0);
    INVALID(big, want);
    INVALID("{\"x\": {\"a\\tb\": 1}}", "unknown operator \"a?b\"");
    /* a tiny or zero-sized error buffer is never overrun */
    char tiny[4];
    struct json_object *r = json_tokener_parse("{\"x\": {\"=>\": 1}}");
    assert_int_equal(cond_validate(r, tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "unk");
    assert_int_equal(cond_validate(r, NULL, 0), -1);
    json_object_put(r);
}

static void test_depth(void **state)
{
    (void)state;
    char buf[2048] = "", err[100];
    /* COND_MAX_DEPTH nested "not"s are fine, one more is not */
    for (int depth = COND_MAX_DEPTH - 1; depth <= COND_MAX_DEPTH; depth++) {
        buf[0] = '\0';
        for (int i = 0; i < depth; i++)
            strcat(buf, "{\"not\":");
        strcat(buf, "{}");
        for (int i = 0; i < depth; i++)
            strcat(buf, "}");
        struct json_tokener *tok = json_tokener_new_ex(200);
        struct json_object *r = json_tokener_parse_ex(tok, buf, (int)strlen(buf));
        json_tokener_free(tok);
        assert_non_null(r);
        int rc = cond_eval(r, ctx, err, sizeof err);
        if (depth < COND_MAX_DEPTH) {
            assert_int_equal(rc, depth % 2 ? 0 : 1);
        } else {
            assert_int_equal(rc, -1);
            assert_string_equal(err, "condition nested too deeply");
        }
        json_object_put(r);
    }
    /* a deep operand is refused too (equality recursion is bounded by it) */
    buf[0] = '\0';
    strcat(buf, "{\"x\": {\"==\": ");
    for (int i = 0; i < COND_MAX_DEPTH + 1; i++)
        strcat(buf, "[");
    for (int i = 0; i < COND_MAX_DEPTH + 1; i++)
        strcat(buf, "]");
    strcat(buf, "}}");
    struct json_tokener *tok = json_tokener_new_ex(200);
    struct json_object *r = json_tokener_parse_ex(tok, buf, (int)strlen(buf));
    json_tokener_free(tok);
    assert_non_null(r);
    assert_int_equal(cond_validate(r, err, sizeof err), -1);
    assert_string_equal(err, "condition nested too deeply");
    json_object_put(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_grammar),      cmocka_unit_test(test_path_lookup),
        cmocka_unit_test(test_eq_ne),             cmocka_unit_test(test_numbers_exact),
        cmocka_unit_test(test_ordering),          cmocka_unit_test(test_cross_kind),
        cmocka_unit_test(test_null_and_missing),  cmocka_unit_test(test_in),
        cmocka_unit_test(test_contains),          cmocka_unit_test(test_several_ops_and_paths),
        cmocka_unit_test(test_combinators),       cmocka_unit_test(test_always_true),
        cmocka_unit_test(test_invalid),           cmocka_unit_test(test_depth),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
