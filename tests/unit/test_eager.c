/* test_eager.c — ?include= parsing against the compiled resources: only includable
 * relations, duplicates folded, unknown names refused with the allowed list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "eager.h"
#include "resource.h"

#include <string.h>

static struct resource_set *set;

static int parse(const char *resource, const char *include, struct ctx *c,
                 struct eager_includes *inc)
{
    struct query q;
    memset(&q, 0, sizeof q);
    if (include) {
        q.items[0] = (struct query_param){"include", 7, include, strlen(include)};
        q.n = 1;
    }
    return eager_parse(c, resource_find(set, resource), &q, inc);
}

static void test_includes(void **state)
{
    (void)state;
    struct config_error err;
    set = resource_set_load("etc/resources.yaml", &err);
    assert_non_null(set);
    struct arena a;
    arena_init(&a, 4096);
    struct ctx c;
    memset(&c, 0, sizeof c);
    c.arena = &a;
    struct eager_includes inc;

    assert_int_equal(parse("workflows", NULL, &c, &inc), 0);
    assert_int_equal(inc.n, 0);
    assert_int_equal(parse("workflows", "steps,steps", &c, &inc), 0);
    assert_int_equal(inc.n, 1);
    assert_string_equal(inc.rel[0]->name, "steps");
    assert_int_equal(parse("execution-logs", "child_logs,workflow,step,parent_log", &c, &inc), 0);
    assert_int_equal(inc.n, 4);
    assert_string_equal(inc.rel[0]->name, "child_logs");

    static const char *const bad[] = {
        "logs",  "steps,",  ",steps",
        "Steps", "steps;x", "a_name_that_is_much_longer_than_any_relation_could_be_at_all_x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        req_clear_error(&c);
        if (parse("workflows", bad[i], &c, &inc) != -1) fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(c.err.kind, REQ_E_BAD_REQUEST);
        assert_non_null(strstr(c.err.message, "Allowed: steps."));
    }
    /* a relation list without includable relations says so */
    req_clear_error(&c);
    assert_int_equal(parse("prompts", "workflow", &c, &inc), -1);
    assert_non_null(strstr(c.err.message, "Unknown include 'workflow'"));
    arena_free(&a);
    resource_set_free(set);
}

static void test_declared_bounds_and_consistency(void **state)
{
    (void)state;
    struct config_error err;
    set = resource_set_load("etc/resources.yaml", &err);
    assert_non_null(set);
    const struct resource *logs = resource_find(set, "execution-logs");
    const struct relation *step = resource_relation(logs, "step");
    const struct relation *parent = resource_relation(logs, "parent_log");
    const struct relation *children = resource_relation(logs, "child_logs");
    assert_string_equal(step->same_local->name, "workflow_id");
    assert_true(step->same_target ==
                resource_field(resource_find(set, "workflow-steps"), "workflow_id"));
    assert_true(parent->not_self);
    assert_false(step->not_self);
    assert_int_equal(children->include_limit, RESOURCE_INCLUDE_LIMIT);
    resource_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_includes),
        cmocka_unit_test(test_declared_bounds_and_consistency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
