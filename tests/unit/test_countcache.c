/* test_countcache.c — the page-count cache: keys that concatenate alike stay apart, a
 * write generation or an age past the TTL is a miss, and a full cache replaces its least
 * recently used entry. The clock is the caller's, so time is injected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "countcache.h"

#include <stdio.h>
#include <string.h>

/* a count key as list.c builds one: the statement text, then each bound value */
static void key_of(struct countcache_key *k, const char *sql, const char *const *vals, size_t n)
{
    countcache_key_init(k);
    countcache_key_text(k, sql, strlen(sql));
    for (size_t i = 0; i < n; i++) {
        struct db_param p = db_str(vals[i], strlen(vals[i]));
        countcache_key_param(k, &p);
    }
}

static void test_hit_after_put(void **state)
{
    (void)state;
    struct countcache *cc = countcache_new(4);
    struct countcache_key k;
    const char *v[] = {"order.created"};
    key_of(&k, "SELECT COUNT(*) FROM `workflows` WHERE `trigger_event` = ?", v, 1);
    long long n = -1;
    assert_false(countcache_get(cc, &k, 7, 1000, 1000, &n));
    countcache_put(cc, &k, 7, 1000, 42);
    assert_true(countcache_get(cc, &k, 7, 1999, 1000, &n));
    assert_int_equal(n, 42);
    countcache_put(cc, &k, 7, 1500, 43); /* same key: replaced in place */
    assert_true(countcache_get(cc, &k, 7, 2000, 1000, &n));
    assert_int_equal(n, 43);
    countcache_free(cc);
}

/* "a" + "b,c" and "a,b" + "c" (and a value that looks like a length prefix) must differ */
static void test_concatenations_do_not_collide(void **state)
{
    (void)state;
    struct countcache *cc = countcache_new(8);
    const char *sql = "SELECT COUNT(*) FROM `prompts` WHERE `name` = ? AND `category` = ?";
    const char *v1[] = {"a", "bc"}, *v2[] = {"ab", "c"}, *v3[] = {"a", "s2:bc"},
               *v4[] = {"as1:", "bc"};
    struct countcache_key k1, k2, k3, k4, k5, k6;
    key_of(&k1, sql, v1, 2);
    key_of(&k2, sql, v2, 2);
    key_of(&k3, sql, v3, 2);
    key_of(&k4, sql, v4, 2);
    /* the statement text against a bound value: "…= ?" + "x" vs "…= ?x" + "" */
    const char *v5[] = {"x"}, *v6[] = {""};
    key_of(&k5, "SELECT COUNT(*) FROM `t` WHERE `a` = ?", v5, 1);
    key_of(&k6, "SELECT COUNT(*) FROM `t` WHERE `a` = ?x", v6, 1);
    countcache_put(cc, &k1, 1, 0, 1);
    countcache_put(cc, &k2, 1, 0, 2);
    countcache_put(cc, &k3, 1, 0, 3);
    countcache_put(cc, &k4, 1, 0, 4);
    countcache_put(cc, &k5, 1, 0, 5);
    countcache_put(cc, &k6, 1, 0, 6);
    long long n;
    struct countcache_key *keys[] = {&k1, &k2, &k3, &k4, &k5, &k6};
    for (int i = 0; i < 6; i++) {
        assert_true(countcache_get(cc, keys[i], 1, 10, 1000, &n));
        assert_int_equal(n, i + 1);
    }
    countcache_free(cc);
}

/* an integer 5, an unsigned 5, the string "5" and NULL are four different filters */
static void test_param_types_do_not_collide(void **state)
{
    (void)state;
    struct countcache *cc = countcache_new(8);
    struct db_param ps[] = {db_int(5), db_uint(5), db_str("5", 1), {.type = DBP_NULL}};
    struct countcache_key k[4];
    for (int i = 0; i < 4; i++) {
        countcache_key_init(&k[i]);
        countcache_key_text(&k[i], "q", 1);
        countcache_key_param(&k[i], &ps[i]);
        countcache_put(cc, &k[i], 0, 0, 100 + i);
    }
    long long n;
    for (int i = 0; i < 4; i++) {
        assert_true(countcache_get(cc, &k[i], 0, 0, 1, &n));
        assert_int_equal(n, 100 + i);
    }
    countcache_free(cc);
}

static void test_generation_mismatch_is_a_miss(void **state)
{
    (void)state;
    struct countcache *cc = countcache_new(4);
    struct countcache_key k;
    key_of(&k, "SELECT COUNT(*) FROM `workflows`", NULL, 0);
    countcache_put(cc, &k, 3, 100, 9);
    long long n = -1;
    assert_false(countcache_get(cc, &k, 4, 100, 1000, &n)); /* a write was answered since */
    assert_false(countcache_get(cc, &k, 2, 100, 1000, &n));
    assert_int_equal(n, -1);
    assert_true(countcache_get(cc, &k, 3, 100, 1000, &n));
    countcache_free(cc);
}

static void test_ttl_expiry(void **state)
{
    (void)state;
    struct countcache *cc = countcache_new(4);
    struct countcache_key k;
    key_of(&k, "SELECT COUNT(*) FROM `workflows`", NULL, 0);
    countcache_put(cc, &k, 0, 5000, 9);
    long long n;
    assert_true(countcache_get(cc, &k, 0, 5000, 250, &n));
    assert_true(countcache_get(cc, &k, 0, 5249, 250, &n));
    assert_false(countcache_get(cc, &k, 0, 5250, 250, &n)); /* age == TTL: expired */
    assert_false(countcache_get(cc, &k, 0, 4999, 250, &n)); /* clock before the count */
    assert_false(countcache_get(cc, &k, 0, 5000, 0, &n));   /* TTL 0: the cache is off */
    /* a hit does not make an entry younger: it still expires 250 ms after its count */
    assert_true(countcache_get(cc, &k, 0, 5100, 250, &n));
    assert_false(countcache_get(cc, &k, 0, 5300, 250, &n));
    countcache_free(cc);
}

static void test_least_recently_used_is_replaced(void **state)
{
    (void)state;
    struct countcache *cc = countcache_new(3);
    struct countcache_key k[4];
    char sql[4][48];
    for (int i = 0; i < 4; i++) {
        snprintf(sql[i], sizeof sql[i], "SELECT COUNT(*) FROM `t%d`", i);
        key_of(&k[i], sql[i], NULL, 0);
    }
    long long n;
    countcache_put(cc, &k[0], 0, 0, 10);
    countcache_put(cc, &k[1], 0, 0, 11);
    countcache_put(cc, &k[2], 0, 0, 12);
    assert_true(countcache_get(cc, &k[0], 0, 1, 100, &n)); /* k[1] is now the oldest use */
    countcache_put(cc, &k[3], 0, 1, 13);
    assert_false(countcache_get(cc, &k[1], 0, 2, 100, &n));
    for (int i = 0; i < 4; i++) {
        if (i == 1) continue;
        assert_true(countcache_get(cc, &k[i], 0, 2, 100, &n));
        assert_int_equal(n, 10 + i);
    }
    countcache_free(cc);
}

static void test_too_long_key_is_never_cached(void **state)
{
    (void)state;
    struct countcache *cc = countcache_new(2);
    char big[COUNTCACHE_KEY_MAX];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *v[] = {big};
    struct countcache_key k;
    key_of(&k, "SELECT COUNT(*) FROM `prompts` WHERE `name` = ?", v, 1);
    assert_true(k.too_long);
    countcache_put(cc, &k, 0, 0, 1);
    long long n;
    assert_false(countcache_get(cc, &k, 0, 0, 100, &n));
    /* the longest key that fits is cached */
    struct countcache_key fit;
    countcache_key_init(&fit);
    countcache_key_text(&fit, big, COUNTCACHE_KEY_MAX - 6); /* "t474:" + text = KEY_MAX - 1 */
    assert_false(fit.too_long);
    countcache_put(cc, &fit, 0, 0, 2);
    assert_true(countcache_get(cc, &fit, 0, 0, 100, &n));
    assert_int_equal(n, 2);
    countcache_free(cc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_after_put),
        cmocka_unit_test(test_concatenations_do_not_collide),
        cmocka_unit_test(test_param_types_do_not_collide),
        cmocka_unit_test(test_generation_mismatch_is_a_miss),
        cmocka_unit_test(test_ttl_expiry),
        cmocka_unit_test(test_least_recently_used_is_replaced),
        cmocka_unit_test(test_too_long_key_is_never_cached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
