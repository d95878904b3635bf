/* test_ratelimit.c — unit tests for ratelimit.c: rate strings, fixed-window arithmetic, the
 * slot table (count to the limit, refuse without counting, a new window starts from zero,
 * peeking counts nothing, expired slots are taken over, a full table fails open), the
 * yaml/env loading, and the counting of several processes over one shared table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ratelimit.h"

static void test_parse_rate(void **state)
{
    (void)state;
    unsigned l, w;
    assert_int_equal(ratelimit_parse_rate("1200/min", &l, &w), 0);
    assert_int_equal(l, 1200);
    assert_int_equal(w, 60);
    assert_int_equal(ratelimit_parse_rate("5/s", &l, &w), 0);
    assert_int_equal(w, 1);
    assert_int_equal(ratelimit_parse_rate("300/hour", &l, &w), 0);
    assert_int_equal(w, 3600);
    assert_int_equal(ratelimit_parse_rate("10/day", &l, &w), 0);
    assert_int_equal(w, 86400);
    assert_int_equal(ratelimit_parse_rate("100/10s", &l, &w), 0);
    assert_int_equal(l, 100);
    assert_int_equal(w, 10);
    assert_int_equal(ratelimit_parse_rate("100/15min", &l, &w), 0);
    assert_int_equal(w, 900);
    const char *bad[] = {
        "",      "min",     "0/min",   "-1/min",          "10",       "10/", "10/fortnight",
        "10/0s", "10 /min", "10/min ", "99999999999/min", "1/400day", NULL};
    for (int i = 0; bad[i]; i++) assert_int_equal(ratelimit_parse_rate(bad[i], &l, &w), -1);
    assert_int_equal(ratelimit_parse_rate(NULL, &l, &w), -1);
}

static void test_window_end(void **state)
{
    (void)state;
    assert_int_equal(ratelimit_window_end(0, 60), 60);
    assert_int_equal(ratelimit_window_end(59, 60), 60);
    assert_int_equal(ratelimit_window_end(60, 60), 120);
    assert_int_equal(ratelimit_window_end(1000, 1), 1001);
    assert_int_equal(ratelimit_window_end(86399, 86400), 86400);
}

static void test_key(void **state)
{
    (void)state;
    assert_int_not_equal(ratelimit_key("token:read", "1"), ratelimit_key("token:read", "2"));
    assert_int_not_equal(ratelimit_key("token:read", "1"), ratelimit_key("token:write", "1"));
    /* kinds and ids never meet by concatenation */
    assert_int_not_equal(ratelimit_key("ab", "c"), ratelimit_key("a", "bc"));
    assert_int_equal(ratelimit_key("addr", "10.0.0.1"), ratelimit_key("addr", "10.0.0.1"));
    assert_int_not_equal(ratelimit_key("addr", ""), 0);
}

static void test_counts_to_the_limit_then_refuses(void **state)
{
    (void)state;
    struct ratelimit_slot slots[64];
    memset(slots, 0, sizeof slots);
    struct ratelimit_rule r = {"read", 3, 60};
    struct ratelimit_verdict v;
    uint64_t k = ratelimit_key("token:read", "7");
    for (unsigned i = 0; i < 3; i++) {
        assert_true(ratelimit_hit(slots, 64, k, 130, &r, true, &v));
        assert_true(v.counted);
        assert_int_equal(v.limit, 3);
        assert_int_equal(v.remaining, 2 - i);
        assert_int_equal(v.reset, 50); /* window [120, 180) */
    }
    assert_false(ratelimit_hit(slots, 64, k, 170, &r, true, &v));
    assert_int_equal(v.remaining, 0);
    assert_int_equal(v.reset, 10);
    /* refused requests are not counted: the count stays at the limit */
    assert_false(ratelimit_hit(slots, 64, k, 171, &r, true, &v));
    /* another key is counted apart */
    assert_true(ratelimit_hit(slots, 64, ratelimit_key("token:read", "8"), 171, &r, true, &v));
    assert_int_equal(v.remaining, 2);
    /* the next window starts from zero */
    assert_true(ratelimit_hit(slots, 64, k, 180, &r, true, &v));
    assert_int_equal(v.remaining, 2);
    assert_int_equal(v.reset, 60);
}

static void test_peek_counts_nothing(void **state)
{
    (void)state;
    struct ratelimit_slot slots[8];
    memset(slots, 0, sizeof slots);
    struct ratelimit_rule r = {"failed_auth", 2, 60};
    struct ratelimit_verdict v;
    uint64_t k = ratelimit_key("addr", "192.0.2.1");
    for (int i = 0; i < 5; i++) assert_true(ratelimit_hit(slots, 8, k, 10, &r, false, &v));
    assert_int_equal(v.remaining, 2);
    /* looking took no room */
    for (int i = 0; i < 8; i++) assert_int_equal(atomic_load(&slots[i].key), 0);
    assert_true(ratelimit_hit(slots, 8, k, 10, &r, true, &v));
    assert_true(ratelimit_hit(slots, 8, k, 10, &r, true, &v));
    assert_false(ratelimit_hit(slots, 8, k, 10, &r, false, &v));
    assert_int_equal(v.reset, 50);
}

static void test_expired_slots_are_reused_and_a_full_table_fails_open(void **state)
{
    (void)state;
    struct ratelimit_slot slots[4];
    memset(slots, 0, sizeof slots);
    struct ratelimit_rule r = {"read", 5, 10};
    struct ratelimit_verdict v;
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i);
        assert_true(ratelimit_hit(slots, 4, ratelimit_key("t", id), 100, &r, true, &v));
        assert_true(v.counted);
    }
    /* every slot is live in this window: a fifth key is let through uncounted */
    assert_true(ratelimit_hit(slots, 4, ratelimit_key("t", "new"), 105, &r, true, &v));
    assert_false(v.counted);
    assert_int_equal(v.remaining, 5);
    /* next window: the old keys' slots expired and are taken over, from zero */
    assert_true(ratelimit_hit(slots, 4, ratelimit_key("t", "new"), 110, &r, true, &v));
    assert_true(v.counted);
    assert_int_equal(v.remaining, 4);
    assert_true(ratelimit_hit(slots, 4, ratelimit_key("t", "new"), 111, &r, true, &v));
    assert_int_equal(v.remaining, 3);
}

/* Four processes hammer one key in a MAP_SHARED table: exactly `limit` requests pass. */
static void test_processes_count_together(void **state)
{
    (void)state;
    size_t n = 256;
    struct ratelimit_slot *slots =
        mmap(NULL, n * sizeof *slots, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(slots != MAP_FAILED);
    _Atomic unsigned *passed =
        mmap(NULL, sizeof *passed, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(passed != MAP_FAILED);
    struct ratelimit_rule r = {"read", 1000, 86400};
    uint64_t k = ratelimit_key("token:read", "1");
    for (int p = 0; p < 4; p++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct ratelimit_verdict v;
            for (int i = 0; i < 600; i++)
                if (ratelimit_hit(slots, n, k, 5, &r, true, &v)) atomic_fetch_add(passed, 1);
            _exit(0);
        }
    }
    for (int p = 0; p < 4; p++) wait(NULL);
    assert_int_equal(atomic_load(passed), 1000);
    munmap(slots, n * sizeof *slots);
    munmap((void *)passed, sizeof *passed);
}

static void test_load(void **state)
{
    (void)state;
    struct ratelimit_conf rc;
    struct config_error err = {{0}};
    setenv("TEST_RL", "read=10/min, write=2/s,failed_auth=30/hour", 1);
    assert_int_equal(ratelimit_load(NULL, NULL, "TEST_RL", &rc, &err), 0);
    assert_int_equal(rc.n, 3);
    const struct ratelimit_rule *w = ratelimit_find(&rc, "write");
    assert_non_null(w);
    assert_int_equal(w->limit, 2);
    assert_int_equal(w->window, 1);
    assert_non_null(ratelimit_find(&rc, RATELIMIT_FAILED_AUTH));
    assert_null(ratelimit_find(&rc, "trigger"));
    assert_null(ratelimit_find(&rc, NULL));
    setenv("TEST_RL", "", 1);
    assert_int_equal(ratelimit_load(NULL, NULL, "TEST_RL", &rc, &err), 0);
    assert_int_equal(rc.n, 0);
    setenv("TEST_RL", "read=10/min,read=5/s", 1);
    assert_int_equal(ratelimit_load(NULL, NULL, "TEST_RL", &rc, &err), -1);
    assert_non_null(strstr(err.msg, "limited twice"));
    setenv("TEST_RL", "read:10/min", 1);
    assert_int_equal(ratelimit_load(NULL, NULL, "TEST_RL", &rc, &err), -1);
    assert_non_null(strstr(err.msg, "ability=rate"));
    setenv("TEST_RL", "read=10 per minute", 1);
    assert_int_equal(ratelimit_load(NULL, NULL, "TEST_RL", &rc, &err), -1);
    assert_non_null(strstr(err.msg, "1200/min"));
    unsetenv("TEST_RL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rate),
        cmocka_unit_test(test_window_end),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_counts_to_the_limit_then_refuses),
        cmocka_unit_test(test_peek_counts_nothing),
        cmocka_unit_test(test_expired_slots_are_reused_and_a_full_table_fails_open),
        cmocka_unit_test(test_processes_count_together),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
