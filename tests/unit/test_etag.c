/* test_etag.c — unit tests for etag.c's pure half: the tag's format (SHA-256 of the body,
 * first 128 bits, quoted hex) and the If-Match / If-None-Match field grammar of RFC 9110
 * (lists, "*", weak tags, empty elements, whitespace), with strong and weak comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "etag.h"

#define TG "\"0123456789abcdef0123456789abcdef\""

static void test_format(void **state)
{
    (void)state;
    char tag[ETAG_LEN + 1];
    /* SHA-256("") = e3b0c44298fc1c149afbf4c8996fb924 27ae41e4... */
    etag_of("", 0, tag);
    assert_string_equal(tag, "\"e3b0c44298fc1c149afbf4c8996fb924\"");
    etag_of("abc", 3, tag);
    assert_string_equal(tag, "\"ba7816bf8f01cfea414140de5dae2223\"");
    assert_int_equal(strlen(tag), ETAG_LEN);
    char other[ETAG_LEN + 1];
    etag_of("abd", 3, other);
    assert_string_not_equal(tag, other);
}

static void test_strong_comparison(void **state)
{
    (void)state;
    assert_int_equal(etag_header_matches(TG, TG, false), ETAG_MATCH);
    assert_int_equal(etag_header_matches("*", TG, false), ETAG_MATCH);
    assert_int_equal(etag_header_matches("  *\t", TG, false), ETAG_MATCH);
    assert_int_equal(etag_header_matches("\"x\", " TG, TG, false), ETAG_MATCH);
    assert_int_equal(etag_header_matches(TG ",\"x\"", TG, false), ETAG_MATCH);
    assert_int_equal(etag_header_matches(" , ,\"x\" ,\t" TG " , ", TG, false), ETAG_MATCH);
    /* a weak tag never matches If-Match, even with the same opaque tag */
    assert_int_equal(etag_header_matches("W/" TG, TG, false), ETAG_NO_MATCH);
    assert_int_equal(etag_header_matches("\"x\", W/" TG, TG, false), ETAG_NO_MATCH);
    assert_int_equal(etag_header_matches("\"x\"", TG, false), ETAG_NO_MATCH);
    assert_int_equal(etag_header_matches("\"\"", TG, false), ETAG_NO_MATCH);
    /* a prefix or the tag without quotes is another tag */
    assert_int_equal(etag_header_matches("\"0123456789abcdef\"", TG, false), ETAG_NO_MATCH);
    /* case matters: opaque tags compare byte for byte, and W/ is case-sensitive */
    assert_int_equal(etag_header_matches("\"0123456789ABCDEF0123456789abcdef\"", TG, false),
                     ETAG_NO_MATCH);
    assert_int_equal(etag_header_matches("w/" TG, TG, true), ETAG_MALFORMED);
}

static void test_weak_comparison(void **state)
{
    (void)state;
    assert_int_equal(etag_header_matches(TG, TG, true), ETAG_MATCH);
    assert_int_equal(etag_header_matches("W/" TG, TG, true), ETAG_MATCH);
    assert_int_equal(etag_header_matches("W/\"a\", W/" TG, TG, true), ETAG_MATCH);
    assert_int_equal(etag_header_matches("*", TG, true), ETAG_MATCH);
    assert_int_equal(etag_header_matches("W/\"a\"", TG, true), ETAG_NO_MATCH);
}

static void test_malformed(void **state)
{
    (void)state;
    const char *bad[] = {
        "",            /* no element at all */
        " , ",         /* only empty elements */
        "abc",         /* unquoted */
        "\"abc",       /* unterminated */
        "\"a\" \"b\"", /* two tags without a comma */
        "*, \"a\"",    /* "*" is only valid alone */
        "\"a\",*",     /* the same */
        "W/ \"a\"",    /* space after W/ */
        "W\"a\"",      /* no slash */
        "\"a b\"",     /* space inside (etagc excludes it) */
        "\"a\x01\"",   /* control character */
        "\"a\x7f\"",   /* DEL */
        "\"a\"x",      /* trailing junk */
        "**",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(etag_header_matches(bad[i], TG, false), ETAG_MALFORMED);
        assert_int_equal(etag_header_matches(bad[i], TG, true), ETAG_MALFORMED);
    }
    /* a malformed element later in the list spoils the match before it */
    assert_int_equal(etag_header_matches(TG ", junk", TG, false), ETAG_MALFORMED);
    /* obs-text (bytes >= 0x80) is allowed inside a tag */
    assert_int_equal(etag_header_matches("\"\xc3\xa9\"", TG, false), ETAG_NO_MATCH);
    /* '!' (0x21) and '#'..'~' too */
    assert_int_equal(etag_header_matches("\"!#~\"", TG, false), ETAG_NO_MATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_strong_comparison),
        cmocka_unit_test(test_weak_comparison),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
