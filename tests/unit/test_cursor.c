/* test_cursor.c — signed keyset cursors: a round trip, and every way a client can tamper
 * with one (payload, MAC, context, key, shape) is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cursor.h"

#include <stdlib.h>
#include <string.h>

#define KEY "0123456789abcdef0123456789abcdef"

static struct arena a;

static int decode(const char *key, const char *ctx, const char *text, size_t nvals,
                  const char **vals, size_t *lens, bool *next)
{
    return cursor_decode(&a, key, ctx, strlen(ctx), text, strlen(text), nvals, vals, lens, next);
}

static void test_round_trip(void **state)
{
    (void)state;
    arena_init(&a, 4096);
    const char *in[] = {"2026-01-01 00:00:00", "42", "a \"quoted\" \\ value/\xc3\xa9"};
    size_t lens[] = {strlen(in[0]), strlen(in[1]), strlen(in[2])};
    for (int next = 0; next < 2; next++) {
        char *cur = cursor_encode(&a, KEY, "ctx", 3, next, in, lens, 3);
        for (const char *p = cur; *p; p++)
            assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-_.",
                                   *p));
        const char *out[3];
        size_t olens[3];
        bool got = !next;
        assert_int_equal(decode(KEY, "ctx", cur, 3, out, olens, &got), 0);
        assert_int_equal(got, next);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(olens[i], lens[i]);
            assert_memory_equal(out[i], in[i], lens[i]);
        }
    }
    arena_free(&a);
}

static void test_tampering_is_refused(void **state)
{
    (void)state;
    arena_init(&a, 4096);
    const char *in[] = {"7"};
    size_t lens[] = {1};
    char *cur = cursor_encode(&a, KEY, "ctx", 3, true, in, lens, 1);
    const char *out[2];
    size_t olens[2];
    bool next;
    assert_int_equal(decode(KEY, "ctx", cur, 1, out, olens, &next), 0);
    /* another key, another context, another count of values */
    assert_int_equal(decode(KEY "x", "ctx", cur, 1, out, olens, &next), -1);
    assert_int_equal(decode(KEY, "ctx2", cur, 1, out, olens, &next), -1);
    assert_int_equal(decode(KEY, "ctx", cur, 2, out, olens, &next), -1);
    /* every single-character change */
    size_t n = strlen(cur);
    char *t = strdup(cur);
    for (size_t i = 0; i < n; i++) {
        char saved = t[i];
        t[i] = saved == 'A' ? 'B' : 'A';
        assert_int_equal(decode(KEY, "ctx", t, 1, out, olens, &next), -1);
        t[i] = saved;
    }
    /* truncations and extensions */
    for (size_t i = 0; i < n; i++) {
        t[i] = '\0';
        assert_int_equal(decode(KEY, "ctx", t, 1, out, olens, &next), -1);
        t[i] = cur[i];
    }
    free(t);
    char *longer = malloc(n + 2);
    memcpy(longer, cur, n);
    memcpy(longer + n, "A", 2);
    assert_int_equal(decode(KEY, "ctx", longer, 1, out, olens, &next), -1);
    free(longer);
    static const char *const junk[] = {"", ".", "abc", "abc.", ".abc", "!!!.AAAA", "%%%"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_equal(decode(KEY, "ctx", junk[i], 1, out, olens, &next), -1);
    arena_free(&a);
}

static void test_null_values_do_not_decode(void **state)
{
    (void)state;
    arena_init(&a, 4096);
    /* a NULL sort value is encoded, but keyset pagination cannot continue from it */
    const char *in[] = {NULL, "3"};
    size_t lens[] = {0, 1};
    char *cur = cursor_encode(&a, KEY, "c", 1, true, in, lens, 2);
    const char *out[2];
    size_t olens[2];
    bool next;
    assert_int_equal(decode(KEY, "c", cur, 2, out, olens, &next), -1);
    arena_free(&a);
}

static void test_context_is_unambiguous(void **state)
{
    (void)state;
    struct buf x, y;
    buf_init(&x, 0);
    buf_init(&y, 0);
    /* one value holding a separator must not encode like two values */
    cursor_context_add(&x, "a|status=b", 10);
    cursor_context_add(&y, "a", 1);
    cursor_context_add(&y, "status=b", 8);
    assert_false(x.len == y.len && !memcmp(x.data, y.data, x.len));
    buf_free(&x);
    buf_free(&y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tampering_is_refused),
        cmocka_unit_test(test_null_values_do_not_decode),
        cmocka_unit_test(test_context_is_unambiguous),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
