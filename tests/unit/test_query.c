/* test_query.c — unit tests for query.c: query_parse (splitting, percent-decoding of keys
 * and values, '+' as space, malformed escapes → -1, duplicates: the last one wins, at most
 * QUERY_MAX_PARAMS parameters), query_get and value_utf8_valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "query.h"
#include "value.h"

static struct arena arena;

static int setup(void **state)
{
    (void)state;
    arena_init(&arena, 4096);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(&arena);
    return 0;
}

static void expect_param(const struct query *q, const char *key, const char *value, size_t len)
{
    const struct query_param *p = query_get(q, key);
    if (!p) fail_msg("no parameter '%s'", key);
    if (p->len != len || memcmp(p->value, value, len))
        fail_msg("'%s': got '%.*s' (%zu bytes), want %zu bytes", key, (int)p->len, p->value, p->len,
                 len);
    assert_int_equal(p->value[p->len], '\0');
    assert_int_equal(p->key_len, strlen(key));
}

#define EXPECT(q, k, v) expect_param((q), (k), (v), sizeof(v) - 1)

static void test_basic_split(void **state)
{
    (void)state;
    struct query q;
    assert_int_equal(query_parse(&arena, "page=2&per_page=10&sort=-name", &q), 0);
    assert_int_equal(q.n, 3);
    assert_string_equal(q.items[0].key, "page");
    assert_string_equal(q.items[1].key, "per_page");
    assert_string_equal(q.items[2].key, "sort");
    EXPECT(&q, "page", "2");
    EXPECT(&q, "per_page", "10");
    EXPECT(&q, "sort", "-name");
    assert_null(query_get(&q, "cursor"));
    assert_null(query_get(&q, "pag"));
    assert_null(query_get(&q, "page2"));
}

static void test_empty_and_odd_shapes(void **state)
{
    (void)state;
    struct query q;
    assert_int_equal(query_parse(&arena, "", &q), 0);
    assert_int_equal(q.n, 0);
    assert_int_equal(query_parse(&arena, NULL, &q), 0);
    assert_int_equal(q.n, 0);
    assert_int_equal(query_parse(&arena, "&&&", &q), 0);
    assert_int_equal(q.n, 0);
    assert_int_equal(query_parse(&arena, "&a=1&&b=&c&", &q), 0);
    assert_int_equal(q.n, 3);
    EXPECT(&q, "a", "1");
    EXPECT(&q, "b", "");
    EXPECT(&q, "c", ""); /* a key without '=' has an empty value */
    assert_int_equal(query_parse(&arena, "a=1=2", &q), 0);
    EXPECT(&q, "a", "1=2");
}

static void test_percent_decoding(void **state)
{
    (void)state;
    struct query q;
    assert_int_equal(
        query_parse(&arena, "filter%5Btrigger_event%5D=lead%2Ecreated&x=%41%62%7e", &q), 0);
    EXPECT(&q, "filter[trigger_event]", "lead.created");
    EXPECT(&q, "x", "Ab~");
    /* upper and lower case hex */
    assert_int_equal(query_parse(&arena, "a=%c3%A9", &q), 0);
    EXPECT(&q, "a", "\xc3\xa9");
    /* escapes decode to the byte, even '&', '=' and '%' */
    assert_int_equal(query_parse(&arena, "k%3Dx=v%26w%3D%25", &q), 0);
    assert_int_equal(q.n, 1);
    EXPECT(&q, "k=x", "v&w=%");
    /* a decoded NUL is kept, with its length */
    assert_int_equal(query_parse(&arena, "a=x%00y", &q), 0);
    expect_param(&q, "a", "x\0y", 3);
    /* high bytes pass through undecoded and unvalidated (validation is the caller's) */
    assert_int_equal(query_parse(&arena, "a=%FF", &q), 0);
    expect_param(&q, "a", "\xff", 1);
}

static void test_plus_is_space(void **state)
{
    (void)state;
    struct query q;
    assert_int_equal(query_parse(&arena, "filter%5Bname%5D=a+b++c&x+y=1&p=%2B1", &q), 0);
    EXPECT(&q, "filter[name]", "a b  c");
    EXPECT(&q, "x y", "1");
    EXPECT(&q, "p", "+1");
}

static void test_bad_escapes(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "a=%",  "a=%4",   "a=%zz", "a=%G1", "a=%1G",        "a=1&b=%", "%=1",
        "a%=1", "a=%%41", "a=%-1", "a=% 1", "x=1&y=2&z=%0", "%5=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct query q;
        if (query_parse(&arena, bad[i], &q) != -1) fail_msg("accepted '%s'", bad[i]);
    }
    /* the escape at the very end of the value is complete: fine */
    struct query q;
    assert_int_equal(query_parse(&arena, "a=%41", &q), 0);
    EXPECT(&q, "a", "A");
    assert_int_equal(query_parse(&arena, "a=1%20", &q), 0);
    EXPECT(&q, "a", "1 ");
}

static void test_duplicates_last_wins(void **state)
{
    (void)state;
    struct query q;
    assert_int_equal(query_parse(&arena, "page=1&sort=name&page=3", &q), 0);
    assert_int_equal(q.n, 2);
    EXPECT(&q, "page", "3");
    EXPECT(&q, "sort", "name");
    /* the same key spelled with an escape is the same key */
    assert_int_equal(query_parse(&arena, "filter[status]=a&filter%5Bstatus%5D=b", &q), 0);
    assert_int_equal(q.n, 1);
    EXPECT(&q, "filter[status]", "b");
    /* a later empty value still replaces */
    assert_int_equal(query_parse(&arena, "a=1&a=", &q), 0);
    EXPECT(&q, "a", "");
    /* keys are case-sensitive */
    assert_int_equal(query_parse(&arena, "a=1&A=2", &q), 0);
    assert_int_equal(q.n, 2);
}

static void test_parameter_limit(void **state)
{
    (void)state;
    char qs[4096];
    size_t len = 0;
    for (int i = 0; i < QUERY_MAX_PARAMS; i++)
        len += (size_t)snprintf(qs + len, sizeof qs - len, "%sp%d=%d", i ? "&" : "", i, i);
    struct query q;
    assert_int_equal(query_parse(&arena, qs, &q), 0);
    assert_int_equal(q.n, QUERY_MAX_PARAMS);
    EXPECT(&q, "p63", "63");

    /* duplicates do not count twice */
    char more[4200];
    snprintf(more, sizeof more, "%s&p0=again&p63=again", qs);
    assert_int_equal(query_parse(&arena, more, &q), 0);
    assert_int_equal(q.n, QUERY_MAX_PARAMS);
    EXPECT(&q, "p0", "again");

    /* nor do empty pieces */
    snprintf(more, sizeof more, "%s&&&", qs);
    assert_int_equal(query_parse(&arena, more, &q), 0);

    /* the 65th distinct parameter is too many */
    snprintf(more, sizeof more, "%s&p64=64", qs);
    assert_int_equal(query_parse(&arena, more, &q), -1);
    snprintf(more, sizeof more, "%s&x", qs);
    assert_int_equal(query_parse(&arena, more, &q), -1);
}

static void test_arena_reset_between_requests(void **state)
{
    (void)state;
    struct query q;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(query_parse(&arena, "filter%5Bname%5D=some+value&page=2", &q), 0);
        EXPECT(&q, "filter[name]", "some value");
        arena_reset(&arena);
    }
}

static void test_utf8_valid(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "",
        "plain ascii",
        "caf\xc3\xa9",
        "\xe2\x82\xac",     /* U+20AC */
        "\xf0\x9f\x98\x80", /* U+1F600 */
        "\xef\xbb\xbf",     /* BOM */
        "\xe2\x80\xa8",     /* U+2028 */
        "\xc2\x80",         /* U+0080, smallest 2-byte */
        "\xe0\xa0\x80",     /* U+0800, smallest 3-byte */
        "\xed\x9f\xbf",     /* U+D7FF */
        "\xee\x80\x80",     /* U+E000 */
        "\xf0\x90\x80\x80", /* U+10000 */
        "\xf4\x8f\xbf\xbf", /* U+10FFFF */
        "\x7f",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!value_utf8_valid(ok[i], strlen(ok[i]))) fail_msg("rejected valid #%zu", i);
    static const char *const bad[] = {
        "\x80", /* lone continuation */
        "\xbf",
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\x80",     /* overlong 3-byte */
        "\xe0\x9f\xbf",     /* overlong 3-byte */
        "\xf0\x80\x80\x80", /* overlong 4-byte */
        "\xf0\x8f\xbf\xbf", /* overlong 4-byte */
        "\xed\xa0\x80",     /* U+D800 surrogate */
        "\xed\xbf\xbf",     /* U+DFFF surrogate */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80",
        "\xfe",
        "\xff",
        "\xc3",         /* truncated */
        "\xe2\x82",     /* truncated */
        "\xf0\x9f\x98", /* truncated */
        "\xc3\x28",     /* bad continuation */
        "\xe2\x28\xa1",
        "a\xe9"
        "b", /* Latin-1 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (value_utf8_valid(bad[i], strlen(bad[i]))) fail_msg("accepted invalid #%zu", i);
    /* NUL bytes are refused wherever they are */
    assert_false(value_utf8_valid("a\0b", 3));
    assert_false(value_utf8_valid("\0", 1));
    /* only the first n bytes count */
    assert_true(value_utf8_valid("ab\xff", 2));
    assert_false(value_utf8_valid("\xe2\x82\xac", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basic_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_odd_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_percent_decoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plus_is_space, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_last_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parameter_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arena_reset_between_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_valid, setup, teardown),
    };
    return cmocka_run_group_tests_name("query", tests, NULL, NULL);
}
