/* test_jsonraw.c — finding a member's value in the client's JSON text, and minifying it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "jsonraw.h"

#include <string.h>

static void expect_member(const char *body, const char *key, const char *want)
{
    const char *start;
    size_t len;
    int rc = jsonraw_member(body, strlen(body), key, &start, &len);
    if (!want) {
        assert_int_equal(rc, -1);
        return;
    }
    assert_int_equal(rc, 0);
    char out[256];
    size_t n = jsonraw_minify(start, len, out);
    assert_int_equal(n, strlen(want));
    assert_string_equal(out, want);
}

static void test_member(void **state)
{
    (void)state;
    expect_member("{\"a\":1,\"g\":{\"n\":123456789012345678901234567890}}", "g",
                  "{\"n\":123456789012345678901234567890}");
    expect_member(" { \"g\" : [ 1 , \"x y\" , { } ] , \"h\":2 } ", "g", "[1,\"x y\",{}]");
    expect_member("{\"g\":1,\"g\":[2]}", "g", "[2]");               /* last wins */
    expect_member("{\"\\u0067\":{\"k\":\"}\"}}", "g", "{\"k\":\"}\"}"); /* escaped key */
    expect_member("{\"s\":\"a\\\"g\",\"g\":null}", "g", "null");
    expect_member("{\"a\":{\"g\":1}}", "g", NULL);                   /* not top-level */
    expect_member("{}", "g", NULL);
    expect_member("[1]", "g", NULL);
    expect_member("{\"\\ud83d\\ude00\":[1e5]}", "\xf0\x9f\x98\x80", "[1e5]");
}

static void test_minify_keeps_strings(void **state)
{
    (void)state;
    char out[64];
    const char *in = "{ \"a b\" : \" x\\\" \\n \" }";
    jsonraw_minify(in, strlen(in), out);
    assert_string_equal(out, "{\"a b\":\" x\\\" \\n \"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member),
        cmocka_unit_test(test_minify_keeps_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
