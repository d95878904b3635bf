/* test_req.c — a request's error: validation messages grouped by field in first-reported
 * order, database statuses kept for the retry decision, clearing before a retry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "db.h"
#include "req.h"

#include <stdio.h>
#include <string.h>

static void test_invalid_groups_by_field(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    struct ctx c;
    memset(&c, 0, sizeof c);
    c.arena = &a;
    for (int i = 0; i < 20; i++) {
        char f[8], m[16];
        snprintf(f, sizeof f, "f%d", i % 10);
        snprintf(m, sizeof m, "m%d", i);
        req_invalid(&c, f, m);
    }
    assert_int_equal(c.err.kind, REQ_E_INVALID);
    assert_int_equal(c.err.nfields, 10);
    assert_int_equal(c.err.nmessages, 20);
    assert_string_equal(c.err.fields[3].field, "f3");
    assert_int_equal(c.err.fields[3].n, 2);
    assert_string_equal(c.err.fields[3].messages[1], "m13");
    assert_true(req_field_has_errors(&c, "f9"));
    assert_false(req_field_has_errors(&c, "f10"));
    req_clear_error(&c);
    assert_int_equal(c.err.kind, REQ_E_NONE);
    assert_int_equal(c.err.nfields, 0);
    arena_free(&a);
}

static void test_db_fail_keeps_status(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    struct ctx c;
    memset(&c, 0, sizeof c);
    c.arena = &a;
    assert_int_equal(req_db_fail(&c, DB_DEADLOCK), -1);
    assert_int_equal(c.err.kind, REQ_E_UNAVAILABLE);
    assert_int_equal(c.err.db_status, DB_DEADLOCK);
    req_clear_error(&c);
    req_db_fail(&c, DB_LOCK_TIMEOUT);
    assert_int_equal(c.err.kind, REQ_E_UNAVAILABLE);
    req_clear_error(&c);
    req_db_fail(&c, DB_ERROR);
    assert_int_equal(c.err.kind, REQ_E_INTERNAL);
    assert_null(c.err.message);
    req_failf(&c, REQ_E_NOT_FOUND, "No %s with id %d.", "thing", 7);
    assert_string_equal(c.err.message, "No thing with id 7.");
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_groups_by_field),
        cmocka_unit_test(test_db_fail_keeps_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
