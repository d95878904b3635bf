/* test_value.c — unit tests for value.c: PHP numeric/int syntax, blank strings, UTF-8
 * length, ISO 8601 dates to UTC, TIMESTAMP range, timestamp formatting, exact decimals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "value.h"

#define S(lit) (lit), (sizeof(lit) - 1)

/* ---- value_is_numeric ---- */

static void test_numeric_accepts(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "0",
        "12",
        "-12",
        "+12",
        "1.5",
        ".5",
        "5.",
        "-.5",
        "1e3",
        "1E3",
        "1e+3",
        "1e-3",
        "1.5E-7",
        " 12",
        "12 ",
        "\t\n\r\v\f12\f",
        "00012",
        "0.0000",
        "-0",
        ".5e3",
        "5.e2",
        "1e999999",
        "123456789012345678901234567890",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!value_is_numeric(ok[i], strlen(ok[i]))) fail_msg("expected numeric: '%s'", ok[i]);
    }
}

static void test_numeric_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",      " ",   ".",   "-",   "+",   "e3",  "1e",  "1e+", "1.2.3", "0x1A", "1_000", "abc",
        "12abc", "1 2", "--1", "+-1", "inf", "NaN", ". 5", "1,5", "1e3.5", "\v",   "- 1",   "1e 3",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (value_is_numeric(bad[i], strlen(bad[i])))
            fail_msg("expected not numeric: '%s'", bad[i]);
    }
    /* An embedded NUL is not whitespace and ends nothing. */
    assert_false(value_is_numeric("12\0", 3));
    assert_false(value_is_numeric("1\0002", 3));
    /* Length is respected: only "12" of "123" is read. */
    assert_true(value_is_numeric("12x", 2));
}

/* ---- value_parse_int ---- */

static void test_parse_int_valid(void **state)
{
    (void)state;
    long long v = -1;
    assert_int_equal(value_parse_int(S("12"), &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(value_parse_int(S("0"), &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(value_parse_int(S("-0"), &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(value_parse_int(S("+0"), &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(value_parse_int(S("-17"), &v), 0);
    assert_int_equal(v, -17);
    assert_int_equal(value_parse_int(S("+17"), &v), 0);
    assert_int_equal(v, 17);
    assert_int_equal(value_parse_int(S(" \t\n\r\v42 \n"), &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(value_parse_int(S("9223372036854775807"), &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(value_parse_int(S("-9223372036854775808"), &v), 0);
    assert_true(v == INT64_MIN);
}

static void test_parse_int_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        " ",
        "012",
        "00",
        "-012",
        "1.0",
        "1e3",
        "12a",
        "0x1A",
        "+",
        "-",
        "- 1",
        "1 2",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999",
        "\f12",
        "1.",
        ".5",
        "++1",
    };
    long long v = 77;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (value_parse_int(bad[i], strlen(bad[i]), &v) != -1)
            fail_msg("expected invalid int: '%s'", bad[i]);
    }
    assert_int_equal(v, 77); /* untouched on failure */
    assert_int_equal(value_parse_int("1\0", 2, &v), -1);
}

/* ---- value_is_blank / value_utf8_len ---- */

static void test_blank(void **state)
{
    (void)state;
    assert_true(value_is_blank(S("")));
    assert_true(value_is_blank(S(" ")));
    assert_true(value_is_blank(S("  \t\n\r\x0B")));
    assert_true(value_is_blank("\0 \0", 3));
    assert_false(value_is_blank(S("a")));
    assert_false(value_is_blank(S("  a  ")));
    assert_false(value_is_blank(S("\f")));       /* PHP trim() keeps form feed */
    assert_false(value_is_blank(S("\xC2\xA0"))); /* nor NBSP */
    assert_false(value_is_blank(S("0")));
}

static void test_utf8_len(void **state)
{
    (void)state;
    assert_int_equal(value_utf8_len(S("")), 0);
    assert_int_equal(value_utf8_len(S("abc")), 3);
    assert_int_equal(value_utf8_len(S("\xC3\xA9")), 1);         /* é */
    assert_int_equal(value_utf8_len(S("caf\xC3\xA9")), 4);      /* café */
    assert_int_equal(value_utf8_len(S("\xE2\x82\xAC")), 1);     /* € */
    assert_int_equal(value_utf8_len(S("\xF0\x9F\x98\x80")), 1); /* 😀 */
    assert_int_equal(value_utf8_len(S("a\xF0\x9F\x98\x80"
                                      "b\xC3\xA9")),
                     4);
    assert_int_equal(value_utf8_len("a\0b", 3), 3);
}

/* ---- value_parse_date ---- */

static void expect_date(const char *in, const char *want)
{
    char out[27];
    memset(out, 'x', sizeof out);
    if (value_parse_date(in, strlen(in), out) != 0) fail_msg("expected valid date: '%s'", in);
    if (strcmp(out, want) != 0) fail_msg("'%s' -> '%s', want '%s'", in, out, want);
}

static void expect_bad_date(const char *in)
{
    char out[27];
    if (value_parse_date(in, strlen(in), out) != -1) fail_msg("expected invalid date: '%s'", in);
}

static void test_date_formats(void **state)
{
    (void)state;
    expect_date("2024-03-15", "2024-03-15 00:00:00.000000");
    expect_date("2024-03-15T10:20", "2024-03-15 10:20:00.000000");
    expect_date("2024-03-15 10:20", "2024-03-15 10:20:00.000000");
    expect_date("2024-03-15T10:20:30", "2024-03-15 10:20:30.000000");
    expect_date("2024-03-15T10:20:30Z", "2024-03-15 10:20:30.000000");
    expect_date("2024-03-15T10:20Z", "2024-03-15 10:20:00.000000");
    expect_date("2024-03-15T10:20:30.5", "2024-03-15 10:20:30.500000");
    expect_date("2024-03-15T10:20:30.123456Z", "2024-03-15 10:20:30.123456");
    expect_date("2024-03-15T10:20:30.000001", "2024-03-15 10:20:30.000001");
    expect_date("0001-01-01", "0001-01-01 00:00:00.000000");
    expect_date("9999-12-31T23:59:59.999999", "9999-12-31 23:59:59.999999");
}

static void test_date_fraction_truncated(void **state)
{
    (void)state;
    /* Beyond microseconds digits are dropped, never rounded up into the next second. */
    expect_date("2024-03-15T10:20:30.1234567", "2024-03-15 10:20:30.123456");
    expect_date("2024-03-15T10:20:30.999999999", "2024-03-15 10:20:30.999999");
    expect_date("2024-12-31T23:59:59.9999999Z", "2024-12-31 23:59:59.999999");
    expect_bad_date("2024-03-15T10:20:30.1234567890"); /* ten digits */
    expect_bad_date("2024-03-15T10:20:30.");
    expect_bad_date("2024-03-15T10:20.5"); /* fraction needs seconds */
}

static void test_date_offsets(void **state)
{
    (void)state;
    expect_date("2024-03-15T10:20:30+02:00", "2024-03-15 08:20:30.000000");
    expect_date("2024-03-15T10:20:30-02:00", "2024-03-15 12:20:30.000000");
    expect_date("2024-03-15T10:20:30+0530", "2024-03-15 04:50:30.000000");
    expect_date("2024-03-15T10:20:30+05", "2024-03-15 05:20:30.000000");
    expect_date("2024-03-15T10:20:30-00:00", "2024-03-15 10:20:30.000000");
    expect_date("2024-03-15T10:20:30+00:00", "2024-03-15 10:20:30.000000");
    expect_date("2024-03-15T10:20+01:00", "2024-03-15 09:20:00.000000");
    expect_date("2024-03-15T10:20:30.25+01:00", "2024-03-15 09:20:30.250000");
    /* Back across midnight, a month end and a year end. */
    expect_date("2024-01-01T01:00:00+02:00", "2023-12-31 23:00:00.000000");
    expect_date("2024-03-01T00:30:00+01:00", "2024-02-29 23:30:00.000000");
    expect_date("2023-03-01T00:30:00+01:00", "2023-02-28 23:30:00.000000");
    expect_date("2024-05-01T00:00:00.5+00:01", "2024-04-30 23:59:00.500000");
    /* Forward across midnight, a month end and a year end. */
    expect_date("2023-12-31T23:00:00-05:00", "2024-01-01 04:00:00.000000");
    expect_date("2024-02-28T22:00:00-03:00", "2024-02-29 01:00:00.000000");
    expect_date("2023-02-28T22:00:00-03:00", "2023-03-01 01:00:00.000000");
    expect_date("2000-02-28T23:59:59-00:01", "2000-02-29 00:00:59.000000");
    /* Extreme real offsets. */
    expect_date("2024-01-01T00:00:00+14:00", "2023-12-31 10:00:00.000000");
    expect_date("2024-12-31T23:00:00-12:00", "2025-01-01 11:00:00.000000");
    expect_date("2024-01-01T00:00:00+23:59", "2023-12-31 00:01:00.000000");
    /* The offset cannot move the instant out of four-digit years. */
    expect_bad_date("0001-01-01T00:00:00+01:00");
    expect_bad_date("9999-12-31T23:30:00-01:00");
    expect_date("9999-12-31T22:30:00-01:00", "9999-12-31 23:30:00.000000");
    expect_date("0001-01-01T02:00:00+01:00", "0001-01-01 01:00:00.000000");
    /* Malformed offsets. */
    expect_bad_date("2024-03-15T10:20:30+2");
    expect_bad_date("2024-03-15T10:20:30+02:0");
    expect_bad_date("2024-03-15T10:20:30+020");
    expect_bad_date("2024-03-15T10:20:30+24:00");
    expect_bad_date("2024-03-15T10:20:30+02:60");
    expect_bad_date("2024-03-15T10:20:30+");
    expect_bad_date("2024-03-15T10:20:30ZZ");
    expect_bad_date("2024-03-15T10:20:30 +02:00");
    expect_bad_date("2024-03-15T10:20:30z");
    expect_bad_date("2024-03-15Z"); /* no offset without a time */
}

static void test_date_calendar(void **state)
{
    (void)state;
    expect_date("2024-02-29", "2024-02-29 00:00:00.000000"); /* divisible by 4 */
    expect_date("2000-02-29", "2000-02-29 00:00:00.000000"); /* divisible by 400 */
    expect_bad_date("2023-02-29");
    expect_bad_date("1900-02-29"); /* divisible by 100, not 400 */
    expect_bad_date("2100-02-29");
    expect_bad_date("2024-02-30");
    expect_bad_date("2024-04-31");
    expect_bad_date("2024-06-31");
    expect_bad_date("2024-09-31");
    expect_bad_date("2024-11-31");
    expect_date("2024-01-31", "2024-01-31 00:00:00.000000");
    expect_date("2024-12-31", "2024-12-31 00:00:00.000000");
    expect_bad_date("2024-00-10");
    expect_bad_date("2024-13-10");
    expect_bad_date("2024-01-00");
    expect_bad_date("2024-01-32");
    expect_bad_date("0000-01-01");
    expect_date("2024-01-01T23:59:59", "2024-01-01 23:59:59.000000");
    expect_bad_date("2024-01-01T24:00:00");
    expect_bad_date("2024-01-01T23:60:00");
    expect_bad_date("2024-01-01T23:59:60"); /* no leap seconds */
}

static void test_date_syntax(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2024",
        "2024-03",
        "24-03-15",
        "2024-3-15",
        "2024-03-5",
        "20240315",
        "2024/03/15",
        "2024-03-15T",
        "2024-03-15 ",
        " 2024-03-15",
        "2024-03-15T10",
        "2024-03-15T1:20",
        "2024-03-15T10:2",
        "2024-03-15T10:20:3",
        "2024-03-15t10:20",
        "2024-03-15X10:20",
        "2024-03-15T10:20:30x",
        "+2024-03-15",
        "12024-03-15",
        "2024-03-15T10:20:30.12a",
        "next tuesday",
        "1710497430",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_bad_date(bad[i]);
    /* Only n bytes are read. */
    {
        char out[27];
        assert_int_equal(value_parse_date("2024-03-15garbage", 10, out), 0);
        assert_string_equal(out, "2024-03-15 00:00:00.000000");
        assert_int_equal(value_parse_date("2024-03-15\0", 11, out), -1);
    }
}

/* ---- value_timestamp_fits ---- */

static void test_timestamp_fits(void **state)
{
    (void)state;
    assert_false(value_timestamp_fits("1970-01-01 00:00:00.000000"));
    assert_false(value_timestamp_fits("1970-01-01 00:00:00.999999"));
    assert_true(value_timestamp_fits("1970-01-01 00:00:01.000000"));
    assert_true(value_timestamp_fits("2024-03-15 10:20:30.000000"));
    assert_true(value_timestamp_fits("2038-01-19 03:14:07.000000"));
    assert_true(value_timestamp_fits("2038-01-19 03:14:07.999999"));
    assert_false(value_timestamp_fits("2038-01-19 03:14:08.000000"));
    assert_false(value_timestamp_fits("1969-12-31 23:59:59.999999"));
    assert_false(value_timestamp_fits("9999-12-31 23:59:59.999999"));
    assert_false(value_timestamp_fits("0001-01-01 00:00:00.000000"));
    assert_false(value_timestamp_fits("2024-03-15T10:20:30.000000"));
    assert_false(value_timestamp_fits("garbage-that-is-26-bytes!!"));
    assert_false(value_timestamp_fits(NULL));
    /* Round trip with the parser. */
    {
        char out[27];
        assert_int_equal(value_parse_date(S("2038-01-19T04:14:07+01:00"), out), 0);
        assert_true(value_timestamp_fits(out));
        assert_int_equal(value_parse_date(S("1970-01-01T01:00:00+01:00"), out), 0);
        assert_false(value_timestamp_fits(out));
    }
}

/* ---- value_format_timestamp ---- */

static void expect_ts(const char *in, const char *want)
{
    char out[28];
    memset(out, 'x', sizeof out);
    if (value_format_timestamp(in, strlen(in), out) != 0)
        fail_msg("expected valid timestamp: '%s'", in);
    if (strcmp(out, want) != 0) fail_msg("'%s' -> '%s', want '%s'", in, out, want);
}

static void test_format_timestamp(void **state)
{
    (void)state;
    char out[28];
    expect_ts("2026-11-26 15:40:44", "2026-11-26T15:40:44.000000Z");
    expect_ts("2026-11-26 15:40:44.5", "2026-11-26T15:40:44.500000Z");
    expect_ts("2026-11-26 15:40:44.123", "2026-11-26T15:40:44.123000Z");
    expect_ts("2026-11-26 15:40:44.123456", "2026-11-26T15:40:44.123456Z");
    expect_ts("2026-11-26 15:40:44.1234567", "2026-11-26T15:40:44.123456Z");
    expect_ts("2026-11-26 15:40:44.000000", "2026-11-26T15:40:44.000000Z");
    assert_int_equal(value_format_timestamp(S("2026-11-26 15:40:44."), out), -1);
    assert_int_equal(value_format_timestamp(S("2026-11-26 15:40:4"), out), -1);
    assert_int_equal(value_format_timestamp(S("2026-11-26T15:40:44"), out), -1);
    assert_int_equal(value_format_timestamp(S("2026-11-26 15:40:44Z"), out), -1);
    assert_int_equal(value_format_timestamp(S("2026-11-26 15:40:44.12a"), out), -1);
    assert_int_equal(value_format_timestamp(S("2026-11-26"), out), -1);
    assert_int_equal(value_format_timestamp(S(""), out), -1);
    assert_int_equal(value_format_timestamp(S("2026/11/26 15:40:44"), out), -1);
    /* Only n bytes are read. */
    assert_int_equal(value_format_timestamp("2026-11-26 15:40:44.5xyz", 21, out), 0);
    assert_string_equal(out, "2026-11-26T15:40:44.500000Z");
}

/* ---- value_decimal ---- */

static void expect_dec(const char *in, int p, int s, const char *want)
{
    char out[80];
    int rc = value_decimal(in, strlen(in), p, s, out, sizeof out);
    if (rc != 0) fail_msg("decimal('%s', %d, %d) = %d, want '%s'", in, p, s, rc, want);
    if (strcmp(out, want) != 0)
        fail_msg("decimal('%s', %d, %d) = '%s', want '%s'", in, p, s, out, want);
}

static void expect_dec_rc(const char *in, int p, int s, int want)
{
    char out[80];
    int rc = value_decimal(in, strlen(in), p, s, out, sizeof out);
    if (rc != want) fail_msg("decimal('%s', %d, %d) = %d, want %d", in, p, s, rc, want);
}

static void test_decimal_basic(void **state)
{
    (void)state;
    expect_dec("0", 10, 6, "0.000000");
    expect_dec("0.00125", 10, 6, "0.001250");
    expect_dec("1", 10, 6, "1.000000");
    expect_dec("12.5", 10, 6, "12.500000");
    expect_dec(".5", 10, 6, "0.500000");
    expect_dec("5.", 10, 6, "5.000000");
    expect_dec("+7", 10, 6, "7.000000");
    expect_dec("-0.5", 10, 6, "-0.500000");
    expect_dec("-12.25", 10, 6, "-12.250000");
    expect_dec("  3.5 ", 10, 6, "3.500000");
    expect_dec("000123.4500", 10, 6, "123.450000");
    expect_dec("-0", 10, 6, "0.000000");
    expect_dec("-0.0000", 10, 6, "0.000000");
    expect_dec("9999.999999", 10, 6, "9999.999999");
    expect_dec("42", 5, 0, "42");
    expect_dec("0.123456", 6, 6, "0.123456");
    expect_dec("-0.123456", 6, 6, "-0.123456");
}

static void test_decimal_exponents(void **state)
{
    (void)state;
    expect_dec("1e3", 10, 6, "1000.000000");
    expect_dec("1E3", 10, 6, "1000.000000");
    expect_dec("1.5E-7", 10, 6, "0.000000"); /* 0.00000015 rounds down */
    expect_dec("5E-7", 10, 6, "0.000001");   /* exactly half: away from zero */
    expect_dec("-5E-7", 10, 6, "-0.000001");
    expect_dec("4.9e-7", 10, 6, "0.000000");
    expect_dec("1.25e2", 10, 6, "125.000000");
    expect_dec("12345e-4", 10, 6, "1.234500");
    expect_dec("0.001e+3", 10, 6, "1.000000");
    expect_dec("9.999999999e3", 10, 6, "9999.999999");
    expect_dec("1e-999999999999", 10, 6, "0.000000");
    expect_dec("0e999999999999", 10, 6, "0.000000");
    expect_dec_rc("1e999999999999", 10, 6, -2);
    expect_dec_rc("1e99999999999999999999999", 10, 6, -2);
    expect_dec("1e-99999999999999999999999", 10, 6, "0.000000");
    expect_dec_rc("1e4", 10, 6, -2);
    expect_dec("1e3", 4, 0, "1000");
    expect_dec_rc("1e4", 4, 0, -2);
}

static void test_decimal_rounding(void **state)
{
    (void)state;
    expect_dec("0.0000005", 10, 6, "0.000001");
    expect_dec("0.0000004999999", 10, 6, "0.000000");
    expect_dec("-0.0000005", 10, 6, "-0.000001");
    expect_dec("-0.0000004", 10, 6, "0.000000"); /* no negative zero */
    expect_dec("1.2345675", 10, 6, "1.234568");
    expect_dec("1.2345665", 10, 6, "1.234567"); /* half away from zero, not to even */
    expect_dec("-1.2345665", 10, 6, "-1.234567");
    expect_dec("0.9999995", 10, 6, "1.000000");
    expect_dec("99.9999995", 10, 6, "100.000000");
    expect_dec("2.5", 3, 0, "3");
    expect_dec("-2.5", 3, 0, "-3");
    expect_dec("-0.5", 3, 0, "-1");
    expect_dec("0.5", 3, 0, "1");
    expect_dec("0.4", 3, 0, "0");
    expect_dec("-0.4", 3, 0, "0");
    expect_dec("0.05", 3, 1, "0.1");
    expect_dec("0.049", 3, 1, "0.0");
    expect_dec("0.00000050000000000000000000000000000001", 10, 6, "0.000001");
}

static void test_decimal_overflow(void **state)
{
    (void)state;
    /* cost is decimal(10,6): 0 .. 9999.999999 */
    expect_dec("9999.999999", 10, 6, "9999.999999");
    expect_dec("9999.9999994", 10, 6, "9999.999999");
    expect_dec_rc("9999.9999995", 10, 6, -2); /* rounds up to 10000.000000 */
    expect_dec_rc("10000", 10, 6, -2);
    expect_dec_rc("-10000", 10, 6, -2);
    expect_dec_rc("12345678901", 10, 6, -2);
    expect_dec("-9999.999999", 10, 6, "-9999.999999");
    expect_dec_rc("-9999.9999995", 10, 6, -2);
    expect_dec("0.9999994", 6, 6, "0.999999");
    expect_dec_rc("0.9999995", 6, 6, -2);
    expect_dec_rc("1", 6, 6, -2);
    expect_dec("99999", 5, 0, "99999");
    expect_dec_rc("99999.5", 5, 0, -2);
    /* 65 digits, MariaDB's widest. */
    expect_dec("99999999999999999999999999999999999999999999999999999999999999999", 65, 0,
               "99999999999999999999999999999999999999999999999999999999999999999");
    expect_dec_rc("99999999999999999999999999999999999999999999999999999999999999999.5", 65, 0, -2);
}

static void test_decimal_errors(void **state)
{
    (void)state;
    char small[8];
    expect_dec_rc("", 10, 6, -1);
    expect_dec_rc("abc", 10, 6, -1);
    expect_dec_rc("1.2.3", 10, 6, -1);
    expect_dec_rc("1e", 10, 6, -1);
    expect_dec_rc("0x10", 10, 6, -1);
    expect_dec_rc(" ", 10, 6, -1);
    /* Impossible columns. */
    expect_dec_rc("1", 0, 0, -2);
    expect_dec_rc("1", 5, 6, -2);
    expect_dec_rc("1", 66, 0, -2);
    expect_dec_rc("1", 10, -1, -2);
    /* precision + 3 bytes is enough for (5,2): "-999.99" + NUL = 8. */
    assert_int_equal(value_decimal(S("-999.99"), 5, 2, small, sizeof small), 0);
    assert_string_equal(small, "-999.99");
    assert_int_equal(value_decimal(S("-999.99"), 5, 2, small, 7), -2);
}

/* ---- value_numeric_cmp ---- */

static void test_numeric_cmp(void **state)
{
    (void)state;
    assert_true(value_numeric_cmp(S("9999.9999995"), "9999.999999") > 0);
    assert_true(value_numeric_cmp(S("9999.9999990"), "9999.999999") == 0);
    assert_true(value_numeric_cmp(S("9999.999998"), "9999.999999") < 0);
    assert_true(value_numeric_cmp(S("0"), "0") == 0);
    assert_true(value_numeric_cmp(S("-0"), "0") == 0);
    assert_true(value_numeric_cmp(S("0.000"), "-0.0") == 0);
    assert_true(value_numeric_cmp(S("-0.0000001"), "0") < 0);
    assert_true(value_numeric_cmp(S("0.0000001"), "0") > 0);
    assert_true(value_numeric_cmp(S("1e3"), "1000") == 0);
    assert_true(value_numeric_cmp(S("1e3"), "999.9999") > 0);
    assert_true(value_numeric_cmp(S("1.5E-7"), "0.00000015") == 0);
    assert_true(value_numeric_cmp(S("10"), "9") > 0);
    assert_true(value_numeric_cmp(S("9"), "10") < 0);
    assert_true(value_numeric_cmp(S("-10"), "-9") < 0);
    assert_true(value_numeric_cmp(S("-9"), "-10") > 0);
    assert_true(value_numeric_cmp(S("-1"), "1") < 0);
    assert_true(value_numeric_cmp(S("1"), "-1") > 0);
    assert_true(value_numeric_cmp(S("0012.500"), "12.5") == 0);
    assert_true(value_numeric_cmp(S(" 255 "), "255") == 0);
    assert_true(value_numeric_cmp(S("255"), " 255") == 0);
    assert_true(value_numeric_cmp(S("256"), "255") > 0);
    assert_true(value_numeric_cmp(S(".5"), "0.5") == 0);
    assert_true(value_numeric_cmp(S("5."), "5") == 0);
    assert_true(value_numeric_cmp(S("0.1"), "0.10000000000000001") < 0);
    assert_true(value_numeric_cmp(S("123456789012345678901234567890"),
                                  "123456789012345678901234567891") < 0);
    assert_true(value_numeric_cmp(S("9223372036854775808"), "9223372036854775807") > 0);
    assert_true(value_numeric_cmp(S("1e999999999999"), "1e100") > 0);
    assert_true(value_numeric_cmp(S("1e-999999999999"), "0") > 0);
    assert_true(value_numeric_cmp(S("-1e-999999999999"), "0") < 0);
    assert_true(value_numeric_cmp(S("1"), "0") > 0);
    assert_true(value_numeric_cmp(S("0"), "1") < 0);
    /* Non-numeric input compares as zero. */
    assert_true(value_numeric_cmp(S("abc"), "0") == 0);
    assert_true(value_numeric_cmp(S("abc"), "1") < 0);
    assert_true(value_numeric_cmp(S("1"), "abc") > 0);
}

static void test_parse_id(void **state)
{
    (void)state;
    unsigned long long v;
    assert_int_equal(value_parse_id("1", &v), 0);
    assert_true(v == 1);
    assert_int_equal(value_parse_id("18446744073709551615", &v), 0);
    assert_true(v == 18446744073709551615ULL);
    static const char *const bad[] = {
        "",   "0",  "18446744073709551616", "99999999999999999999", "-1", "+1", " 1",
        "1 ", "1a", "000000000000000000001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (value_parse_id(bad[i], &v) == 0) fail_msg("accepted '%s'", bad[i]);
    assert_int_equal(value_parse_id(NULL, &v), -1);
}

static void test_hex_and_identifiers(void **state)
{
    (void)state;
    assert_int_equal(value_hex_digit('0'), 0);
    assert_int_equal(value_hex_digit('a'), 10);
    assert_int_equal(value_hex_digit('F'), 15);
    assert_int_equal(value_hex_digit('g'), -1);
    assert_int_equal(value_hex_digit('\0'), -1);
    assert_true(value_is_identifier("workflow_steps"));
    assert_true(value_is_identifier("_a1"));
    assert_false(value_is_identifier("1a"));
    assert_false(value_is_identifier("a-b"));
    assert_false(value_is_identifier("a`b"));
    assert_false(value_is_identifier(""));
    assert_false(value_is_identifier(NULL));
    char longname[66];
    memset(longname, 'a', 65);
    longname[65] = '\0';
    assert_false(value_is_identifier(longname));
    longname[64] = '\0';
    assert_true(value_is_identifier(longname));
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(value_utf8_valid("", 0));
    assert_true(value_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
    assert_false(value_utf8_valid("a\0b", 3));
    assert_false(value_utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(value_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(value_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(value_utf8_valid("\xe2\x82", 2));         /* cut short */
    assert_int_equal(value_utf8_seq_len("a", 1), 1);
    assert_int_equal(value_utf8_seq_len("\xe2\x82\xac", 3), 3);
    assert_int_equal(value_utf8_seq_len("\xe2\x82\xac", 2), 0);
}

static void test_date_epoch(void **state)
{
    (void)state;
    long long t;
    assert_int_equal(value_date_epoch("1970-01-01 00:00:00", 19, &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(value_date_epoch("2026-11-26 15:40:44", 19, &t), 0);
    assert_int_equal(t, 1795707644LL);
    assert_int_equal(value_date_epoch("2000-02-29T00:00:00+01:00", 25, &t), 0);
    assert_int_equal(t, 951778800LL);
    assert_int_equal(value_date_epoch("2026-02-30 00:00:00", 19, &t), -1);
    assert_int_equal(value_date_epoch("garbage", 7, &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_accepts),
        cmocka_unit_test(test_numeric_rejects),
        cmocka_unit_test(test_parse_int_valid),
        cmocka_unit_test(test_parse_int_invalid),
        cmocka_unit_test(test_blank),
        cmocka_unit_test(test_utf8_len),
        cmocka_unit_test(test_date_formats),
        cmocka_unit_test(test_date_fraction_truncated),
        cmocka_unit_test(test_date_offsets),
        cmocka_unit_test(test_date_calendar),
        cmocka_unit_test(test_date_syntax),
        cmocka_unit_test(test_timestamp_fits),
        cmocka_unit_test(test_format_timestamp),
        cmocka_unit_test(test_decimal_basic),
        cmocka_unit_test(test_decimal_exponents),
        cmocka_unit_test(test_decimal_rounding),
        cmocka_unit_test(test_decimal_overflow),
        cmocka_unit_test(test_decimal_errors),
        cmocka_unit_test(test_numeric_cmp),
        cmocka_unit_test(test_parse_id),
        cmocka_unit_test(test_hex_and_identifiers),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_date_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
