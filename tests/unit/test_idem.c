/* test_idem.c — unit tests for idem.c's pure half: which Idempotency-Key values are
 * accepted, and that "the same request" hashes every part (method, path, query, exact body
 * bytes) without letting one part slide into the next. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "idem.h"

static void test_idem_key(void **state)
{
    (void)state;
    char k[300];
    memset(k, 'a', sizeof k);
    k[IDEM_MAX_KEY] = '\0';
    assert_int_equal(idem_key_check(k), 0);
    k[IDEM_MAX_KEY] = 'a';
    k[IDEM_MAX_KEY + 1] = '\0';
    assert_int_equal(idem_key_check(k), -1);
    assert_int_equal(idem_key_check(""), -1);
    assert_int_equal(idem_key_check("order 42 / retry"), 0);
    assert_int_equal(idem_key_check("tab\there"), -2);
    assert_int_equal(idem_key_check("caf\xc3\xa9"), -2);
}

static void test_idem_hash(void **state)
{
    (void)state;
    unsigned char a[32], b[32];
    idem_request_hash("POST", "/api/workflows", "", "{\"a\":1}", 7, a);
    idem_request_hash("POST", "/api/workflows", "", "{\"a\":1}", 7, b);
    assert_memory_equal(a, b, 32);
    /* every part counts: the body's exact bytes, the query, the path, the method */
    idem_request_hash("POST", "/api/workflows", "", "{\"a\": 1}", 8, b);
    assert_memory_not_equal(a, b, 32);
    idem_request_hash("POST", "/api/workflows", "x=1", "{\"a\":1}", 7, b);
    assert_memory_not_equal(a, b, 32);
    idem_request_hash("POST", "/api/prompts", "", "{\"a\":1}", 7, b);
    assert_memory_not_equal(a, b, 32);
    idem_request_hash("PUT", "/api/workflows", "", "{\"a\":1}", 7, b);
    assert_memory_not_equal(a, b, 32);
    /* the separators keep parts from sliding into each other */
    idem_request_hash("POST", "/a", "b", "", 0, a);
    idem_request_hash("POST", "/a?b", "", "", 0, b);
    assert_memory_not_equal(a, b, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idem_key),
        cmocka_unit_test(test_idem_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
