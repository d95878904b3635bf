/* test_ctxpath.c — unit tests for ctxpath.c: the path grammar, lookups through objects and
 * arrays, the bare-name fallback to input, present null versus missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <string.h>

#include "ctxpath.h"

static const char *ctx_text =
    "{\"event\":\"lead.created\",\"object_id\":null,"
    "\"input\":{\"lead_name\":\"Ana\",\"score\":71,\"note\":null,\"event\":\"shadowed\","
    "\"addr\":{\"city\":\"Porto\"},\"k-1\":1,\"pa\u00eds\":{\"x\":2}},"
    "\"steps\":{\"1\":{\"text\":\"Hi Ana\",\"n\":[10,20]}},"
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

static void test_path_grammar(void **state)
{
    (void)state;
    static const char *const ok[] = {"a", "input.score", "steps.1.text", "a-b_c", "país.x", "0"};
    static const char *const bad[] = {"",   ".",  "a.", ".a",  "a..b", "a b",
                                      "a{", "a}", "$x", "a/b", "a\"",  "\t"};
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

static void test_odd_contexts(void **state)
{
    (void)state;
    struct json_object *v = (struct json_object *)1;
    /* keys with '-' and UTF-8 bytes */
    assert_true(ctxpath_get(ctx, "k-1", 3, &v));
    assert_int_equal(json_object_get_int(v), 1);
    assert_true(ctxpath_get(ctx, "input.pa\xc3\xads.x", 13, &v));
    assert_int_equal(json_object_get_int(v), 2);
    /* a length shorter than the string: only those bytes are the path */
    assert_true(ctxpath_get(ctx, "input.scoreXYZ", 11, &v));
    assert_int_equal(json_object_get_int(v), 71);
    /* a context that is an array, or has no object input */
    struct json_object *arr = json_tokener_parse("[{\"a\":1}]");
    assert_true(ctxpath_get(arr, "0.a", 3, &v));
    assert_false(ctxpath_get(arr, "a", 1, &v));
    json_object_put(arr);
    struct json_object *o = json_tokener_parse("{\"input\":null,\"x\":{}}");
    assert_false(ctxpath_get(o, "a", 1, &v));
    assert_null(v);
    assert_false(ctxpath_get(o, "x.a", 3, &v));
    json_object_put(o);
    o = json_tokener_parse("{\"input\":[5]}");
    assert_true(ctxpath_get(o, "0", 1, &v)); /* a bare index reads input too */
    assert_int_equal(json_object_get_int(v), 5);
    json_object_put(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_grammar),
        cmocka_unit_test(test_path_lookup),
        cmocka_unit_test(test_odd_contexts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
