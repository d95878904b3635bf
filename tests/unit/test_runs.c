/* test_runs.c — unit tests for runs.c's mapping of a spent transaction's database status to
 * the runs API's: contention (a deadlock on every try, a lock wait timeout) is a 503 to
 * retry, as for a CRUD write, and not a 500 (it was, for a deadlock, until 2026-12-02). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db.h"
#include "runs.h"

static void test_contention_is_busy_and_outage_unavailable(void **state)
{
    (void)state;
    assert_int_equal(runs_of_db(DB_DEADLOCK), RUNS_E_BUSY);
    assert_int_equal(runs_of_db(DB_LOCK_TIMEOUT), RUNS_E_BUSY);
    assert_int_equal(runs_of_db(DB_UNAVAILABLE), RUNS_E_UNAVAILABLE);
}

static void test_faults_are_database_errors(void **state)
{
    (void)state;
    assert_int_equal(runs_of_db(DB_OK), RUNS_OK);
    assert_int_equal(runs_of_db(DB_ERROR), RUNS_E_DB);
    /* a duplicate left after every retry, or a missing parent: not the client's to retry */
    assert_int_equal(runs_of_db(DB_DUPLICATE), RUNS_E_DB);
    assert_int_equal(runs_of_db(DB_NO_PARENT), RUNS_E_DB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contention_is_busy_and_outage_unavailable),
        cmocka_unit_test(test_faults_are_database_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
