/* test_fuzz_regressions.c — inputs that libFuzzer once broke, kept as unit tests
 * (tests/fuzz/regressions/). Run under `make test SANITIZE=1` they also prove the leaks
 * and crashes stay fixed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "resource.h"
#include "router.h"

#include <string.h>

/* A route mapping with `method` twice leaked the first value; duplicate keys are now a
 * config error for every YAML file. */
static void test_duplicate_key_in_routes_is_refused(void **state)
{
    (void)state;
    struct config_error err;
    struct resource_set *set = resource_set_load("etc/resources.yaml", &err);
    assert_non_null(set);
    struct router *r =
        router_load("tests/fuzz/regressions/config-duplicate-key-leak.yaml", set, &err);
    assert_null(r);
    assert_non_null(strstr(err.msg, "config-duplicate-key-leak.yaml:"));
    resource_set_free(set);
}

static void test_duplicate_key_in_resources_is_refused(void **state)
{
    (void)state;
    struct config_error err;
    struct resource_set *set =
        resource_set_load("tests/fuzz/regressions/config-duplicate-key-leak.yaml", &err);
    assert_null(set);
    assert_non_null(strstr(err.msg, "duplicate key"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicate_key_in_routes_is_refused),
        cmocka_unit_test(test_duplicate_key_in_resources_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
