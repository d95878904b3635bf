/* test_jsonbody.c — the strict body parser (what json-c lets through and we refuse, depth
 * counted by containers), finding a member's value in the client's JSON text, minifying it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "jsonbody.h"

#include <string.h>

static void expect_member(const char *body, const char *key, const char *want)
{
    const char *start;
    size_t len;
    int rc = jsonbody_member(body, strlen(body), key, &start, &len);
    if (!want) {
        assert_int_equal(rc, -1);
        return;
    }
    assert_int_equal(rc, 0);
    char out[256];
    size_t n = jsonbody_minify(start, len, out);
    assert_int_equal(n, strlen(want));
    assert_string_equal(out, want);
}

static void test_member(void **state)
{
    (void)state;
    expect_member("{\"a\":1,\"g\":{\"n\":123456789012345678901234567890}}", "g",
                  "{\"n\":123456789012345678901234567890}");
    expect_member(" { \"g\" : [ 1 , \"x y\" , { } ] , \"h\":2 } ", "g", "[1,\"x y\",{}]");
    expect_member("{\"g\":1,\"g\":[2]}", "g", "[2]");                   /* last wins */
    expect_member("{\"\\u0067\":{\"k\":\"}\"}}", "g", "{\"k\":\"}\"}"); /* escaped key */
    expect_member("{\"s\":\"a\\\"g\",\"g\":null}", "g", "null");
    expect_member("{\"a\":{\"g\":1}}", "g", NULL); /* not top-level */
    expect_member("{}", "g", NULL);
    expect_member("[1]", "g", NULL);
    expect_member("{\"\\ud83d\\ude00\":[1e5]}", "\xf0\x9f\x98\x80", "[1e5]");
}

static void test_minify_keeps_strings(void **state)
{
    (void)state;
    char out[64];
    const char *in = "{ \"a b\" : \" x\\\" \\n \" }";
    jsonbody_minify(in, strlen(in), out);
    assert_string_equal(out, "{\"a b\":\" x\\\" \\n \"}");
}

static const char *parse_error(const char *body, int depth)
{
    static struct arena a;
    if (!a.chunk_size) arena_init(&a, 4096);
    json_object *o = NULL;
    const char *why = NULL;
    int rc = jsonbody_parse(body, strlen(body), depth, &a, &o, &why);
    if (rc == 0) {
        assert_non_null(o);
        json_object_put(o);
        return NULL;
    }
    assert_null(o);
    assert_non_null(why);
    return why;
}

static void test_parse_accepts(void **state)
{
    (void)state;
    assert_null(parse_error("{}", 32));
    assert_null(parse_error(" {\"a\":[1,-0.5e3,true,false,null,\"\\ud83d\\ude00\"]} \n", 32));
    assert_null(parse_error("{\"a\":{\"b\":[]}}", 3)); /* three containers deep */
}

static void test_parse_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "[]",
        "1",
        "\"s\"",
        "{\"a\":1} x",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":+1}",
        "{\"a\":NaN}",
        "{\"a\":Infinity}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\udc00x\"}",
        "{\"a\\u0000b\":1}",
        "{\"a\":\"\x01\"}",
        "{\"a\":\"\xc0\xaf\"}",
        "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":1,}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!parse_error(bad[i], 32)) fail_msg("accepted #%zu: %s", i, bad[i]);
    assert_non_null(strstr(parse_error("{\"a\":{\"b\":[[]]}}", 3), "deeper than 3"));
    assert_non_null(strstr(parse_error("{\"a\":\"\x01\"}", 32), "control character"));
    assert_non_null(strstr(parse_error("{\"a\":NaN}", 32), "bare words"));
    assert_non_null(strstr(parse_error("{\"a\":\"\xc0\xaf\"}", 32), "UTF-8"));
    /* a NUL byte inside the body */
    static struct arena a;
    arena_init(&a, 4096);
    json_object *o;
    const char *why;
    assert_int_equal(jsonbody_parse("{\"a\":\"\0\"}", 8, 32, &a, &o, &why), -1);
    assert_non_null(strstr(why, "NUL"));
    arena_free(&a);
}

/* jsonbody_value: any one JSON value. A bare number, true, false or null that ends the text
 * used to be refused (json-c waits for what follows), so a model's JSON answer `42` or a
 * webhook's `true` was taken for text. */
static void test_value_of_any_kind(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum json_type type;
    } good[] = {
        {"42", json_type_int},       {"42\n", json_type_int},        {"-0.5", json_type_double},
        {"true", json_type_boolean}, {" false ", json_type_boolean}, {"null", json_type_null},
        {"null\n", json_type_null},  {"\"x\"", json_type_string},    {"[1]", json_type_array},
        {"{}", json_type_object},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        json_object *v = (json_object *)1;
        if (!jsonbody_value(good[i].text, strlen(good[i].text), &v))
            fail_msg("refused #%zu: %s", i, good[i].text);
        if (json_object_get_type(v) != good[i].type) fail_msg("#%zu: wrong type", i);
        json_object_put(v);
    }
    static const char *const bad[] = {"", "nul", "tru", "12a", "1 2", "{} x", "{", "\"x", "-"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_object *v = (json_object *)1;
        if (jsonbody_value(bad[i], strlen(bad[i]), &v)) fail_msg("accepted #%zu: %s", i, bad[i]);
        assert_null(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_member),
        cmocka_unit_test(test_minify_keeps_strings),
        cmocka_unit_test(test_value_of_any_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
