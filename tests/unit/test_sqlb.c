/* test_sqlb.c — the SQL builder: long statements are built whole (no silent truncation),
 * parameters have no fixed ceiling, an overflow past the cap refuses to run, IN lists pad
 * to a power of two, values read back bind with their column's type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sqlb.h"

#include <string.h>

static void test_long_text_is_whole(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    struct sqlb q;
    sqlb_init(&q, &a);
    char col[70];
    memset(col, 'c', 64);
    col[64] = '\0';
    /* 40 columns of 64 characters: far past any fixed stack buffer */
    for (int i = 0; i < 40; i++) sqlb_printf(&q, "%s`%s`", i ? "," : "SELECT ", col);
    sqlb_printf(&q, " FROM `t` WHERE `id` = ? FOR UPDATE");
    assert_false(q.overflow);
    assert_int_equal(q.len, strlen(q.s));
    assert_int_equal(q.len, 7 + 40 * 66 + 39 + strlen(" FROM `t` WHERE `id` = ? FOR UPDATE"));
    assert_string_equal(q.s + q.len - 11, " FOR UPDATE");
    arena_free(&a);
}

static void test_many_params(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    struct sqlb q;
    sqlb_init(&q, &a);
    struct db_param vals[1000];
    for (int i = 0; i < 1000; i++) vals[i] = db_int(i);
    sqlb_in_list(&q, vals, 1000);
    assert_int_equal(q.np, 1024); /* padded to the next power of two */
    assert_int_equal(q.params[999].i, 999);
    assert_int_equal(q.params[1023].i, 999); /* padding repeats the last value */
    assert_false(q.overflow);
    arena_free(&a);
}

static void test_overflow_refuses_to_run(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    struct sqlb q;
    sqlb_init(&q, &a);
    static char chunk[64 * 1024 + 1];
    memset(chunk, 'x', sizeof chunk - 1);
    for (int i = 0; i < 17; i++) sqlb_puts(&q, chunk);
    assert_true(q.overflow);
    assert_true(q.len <= SQLB_MAX_BYTES);
    /* never reaches the database: db may be NULL */
    assert_int_equal(sqlb_run(&q, NULL, NULL), DB_ERROR);
    arena_free(&a);
}

static void test_bind_text(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    struct field id = {.name = "id", .type = FIELD_ID};
    struct field n = {.name = "n", .type = FIELD_INT};
    struct field s = {.name = "s", .type = FIELD_STRING};
    struct db_param p = sqlb_bind_text(&a, &id, "18446744073709551615", 20);
    assert_int_equal(p.type, DBP_UINT);
    assert_true(p.u == 18446744073709551615ULL);
    p = sqlb_bind_text(&a, &n, "-5", 2);
    assert_int_equal(p.type, DBP_INT);
    assert_int_equal(p.i, -5);
    p = sqlb_bind_text(&a, &n, "x", 1);
    assert_int_equal(p.type, DBP_STR);
    p = sqlb_bind_text(&a, &s, "abc", 3);
    assert_int_equal(p.type, DBP_STR);
    assert_int_equal(p.len, 3);
    p = sqlb_bind_text(&a, &s, NULL, 0);
    assert_int_equal(p.type, DBP_NULL);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_text_is_whole),
        cmocka_unit_test(test_many_params),
        cmocka_unit_test(test_overflow_refuses_to_run),
        cmocka_unit_test(test_bind_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
