/* test_runner.c — unit tests for the runner's pure decisions (runner.c): the next step
 * after a progress cursor in (step_order, id) order, how an outcome becomes a log status
 * given the tries so far, where a run goes after a step, and the retry backoff with its
 * ±20% jitter, Retry-After and cap (engine_conf.c) as the runner calls it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine_conf.h"
#include "runner.h"

static struct runner_step_key k(int order, unsigned long long id)
{
    return (struct runner_step_key){.order = order, .id = id};
}

static void test_next_step_orders_by_step_order_then_id(void **state)
{
    (void)state;
    /* unsorted on purpose, two steps share order 2 */
    struct runner_step_key steps[] = {k(3, 1), k(2, 9), k(1, 5), k(2, 4)};
    assert_int_equal(runner_next_step(steps, 4, false, k(0, 0)), 2);
    assert_int_equal(runner_next_step(steps, 4, true, k(1, 5)), 3);  /* (2,4) */
    assert_int_equal(runner_next_step(steps, 4, true, k(2, 4)), 1);  /* (2,9) */
    assert_int_equal(runner_next_step(steps, 4, true, k(2, 9)), 0);  /* (3,1) */
    assert_int_equal(runner_next_step(steps, 4, true, k(3, 1)), -1); /* done */
}

static void test_next_step_after_an_edited_workflow(void **state)
{
    (void)state;
    /* the cursor's step was deleted: the first step after its place still comes next */
    struct runner_step_key steps[] = {k(1, 10), k(3, 30)};
    assert_int_equal(runner_next_step(steps, 2, true, k(2, 20)), 1);
    /* a step inserted before the cursor is never run */
    struct runner_step_key more[] = {k(1, 10), k(1, 99), k(2, 20), k(5, 2)};
    assert_int_equal(runner_next_step(more, 4, true, k(2, 20)), 3);
    assert_int_equal(runner_next_step(more, 4, true, k(1, 10)), 1);
    assert_int_equal(runner_next_step(NULL, 0, false, k(0, 0)), -1);
    /* negative orders sort first */
    struct runner_step_key neg[] = {k(0, 1), k(-3, 7)};
    assert_int_equal(runner_next_step(neg, 2, false, k(0, 0)), 1);
}

static void test_log_status_counts_tries(void **state)
{
    (void)state;
    struct engine_retry p = {.attempts = 3, .backoff_seconds = 5, .max_backoff_seconds = 300};
    assert_string_equal(runner_log_status(STEP_SUCCESS, 0, &p), "SUCCESS");
    assert_string_equal(runner_log_status(STEP_SUCCESS, 2, &p), "SUCCESS");
    assert_string_equal(runner_log_status(STEP_RETRY, 0, &p), "RETRY");
    assert_string_equal(runner_log_status(STEP_RETRY, 1, &p), "RETRY");
    assert_string_equal(runner_log_status(STEP_RETRY, 2, &p), "FAILURE"); /* the last try */
    assert_string_equal(runner_log_status(STEP_FAILURE, 0, &p), "FAILURE");
    struct engine_retry once = {.attempts = 1};
    assert_string_equal(runner_log_status(STEP_RETRY, 0, &once), "FAILURE");
}

static void test_move_after_a_step(void **state)
{
    (void)state;
    assert_int_equal(runner_move_after("SUCCESS", true, 0, false), RUNNER_CONTINUE);
    assert_int_equal(runner_move_after("SKIPPED", true, 0, false), RUNNER_CONTINUE);
    assert_int_equal(runner_move_after("SUCCESS", true, 0, true), RUNNER_HANDBACK);
    assert_int_equal(runner_move_after("SUCCESS", true, 5, false), RUNNER_WAIT);
    assert_int_equal(runner_move_after("SUCCESS", true, 5, true), RUNNER_WAIT);
    assert_int_equal(runner_move_after("SUCCESS", false, 0, false), RUNNER_SUCCEED);
    assert_int_equal(runner_move_after("SKIPPED", false, 0, true), RUNNER_SUCCEED);
    assert_int_equal(runner_move_after("RETRY", false, 0, false), RUNNER_WAIT);
    assert_int_equal(runner_move_after("RETRY", false, 0, true), RUNNER_WAIT);
    assert_int_equal(runner_move_after("FAILURE", true, 0, false), RUNNER_FAIL);
}

/* Claims pad their id lists to a power of two so that six statement texts cover 1..32. */
static void test_in_width_rounds_up_to_a_power_of_two(void **state)
{
    (void)state;
    assert_int_equal(runner_in_width(0), 1);
    assert_int_equal(runner_in_width(1), 1);
    assert_int_equal(runner_in_width(2), 2);
    assert_int_equal(runner_in_width(3), 4);
    assert_int_equal(runner_in_width(17), 32);
    assert_int_equal(runner_in_width(32), 32);
}

static void test_backoff_jitter_bounds(void **state)
{
    (void)state;
    struct engine_retry p = {.attempts = 10, .backoff_seconds = 5, .max_backoff_seconds = 300};
    srand(7);
    for (int n = 1; n <= 5; n++) {
        long long base = 5000LL << (n - 1);
        long long lo = base, hi = base;
        for (int i = 0; i < 2000; i++) {
            double u = (double)rand() / ((double)RAND_MAX + 1.0);
            long long ms = engine_retry_delay_ms(&p, n, -1, u);
            assert_true(ms >= base * 8 / 10 && ms <= base * 12 / 10);
            if (ms < lo) lo = ms;
            if (ms > hi) hi = ms;
        }
        /* the jitter really spreads: both ends of ±20% are approached */
        assert_true(lo < base * 85 / 100);
        assert_true(hi > base * 115 / 100);
    }
    assert_int_equal(engine_retry_delay_ms(&p, 1, -1, 0.0), 4000);
    /* capped, however many retries */
    assert_true(engine_retry_delay_ms(&p, 9, -1, 0.99) <= 300000);
    assert_true(engine_retry_delay_ms(&p, 60, -1, 0.5) <= 300000);
}

static void test_retry_after_wins_when_larger_and_is_capped(void **state)
{
    (void)state;
    struct engine_retry p = {.attempts = 3, .backoff_seconds = 1, .max_backoff_seconds = 60};
    assert_int_equal(engine_retry_delay_ms(&p, 1, 2, 0.5), 2000);
    long long small = engine_retry_delay_ms(&p, 1, 0, 0.5);
    assert_true(small >= 800 && small <= 1200);
    assert_int_equal(engine_retry_delay_ms(&p, 1, 3600, 0.5), 60000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_step_orders_by_step_order_then_id),
        cmocka_unit_test(test_next_step_after_an_edited_workflow),
        cmocka_unit_test(test_log_status_counts_tries),
        cmocka_unit_test(test_move_after_a_step),
        cmocka_unit_test(test_in_width_rounds_up_to_a_power_of_two),
        cmocka_unit_test(test_backoff_jitter_bounds),
        cmocka_unit_test(test_retry_after_wins_when_larger_and_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
