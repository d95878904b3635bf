/* test_repr.c — unit tests for repr.c: one cell as Laravel serialises it, per field type
 * (ids/ints as numbers, bool "0"/"1" as false/true, decimals as strings, JSON verbatim,
 * timestamps as "YYYY-MM-DDTHH:MM:SS.ffffffZ", NULL as null), string escaping (quotes,
 * backslash, control characters, U+2028/U+2029) and repr_fields over a whole row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "repr.h"

static struct field field_of(enum field_type t)
{
    struct field f;
    memset(&f, 0, sizeof f);
    f.name = "x";
    f.type = t;
    if (t == FIELD_DECIMAL) {
        f.precision = 10;
        f.scale = 6;
    }
    return f;
}

/* repr_value of (type, bytes) must produce exactly `want`. */
static void check_n(enum field_type t, const char *s, size_t len, const char *want)
{
    struct field f = field_of(t);
    struct db_cell cell = {s, len};
    struct buf b;
    buf_init(&b, 0);
    repr_value(&b, &f, &cell);
    if (b.len != strlen(want) || memcmp(b.data, want, b.len))
        fail_msg("type %d, input '%.*s': got '%.*s', want '%s'", (int)t, (int)len, s ? s : "",
                 (int)b.len, b.data, want);
    buf_free(&b);
}

static void check(enum field_type t, const char *s, const char *want)
{
    check_n(t, s, s ? strlen(s) : 0, want);
}

static void test_null_is_null_for_every_type(void **state)
{
    (void)state;
    static const enum field_type all[] = {FIELD_ID,   FIELD_FK,      FIELD_STRING,
                                          FIELD_TEXT, FIELD_INT,     FIELD_BOOL,
                                          FIELD_JSON, FIELD_DECIMAL, FIELD_TIMESTAMP};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) check(all[i], NULL, "null");
}

static void test_numbers(void **state)
{
    (void)state;
    check(FIELD_ID, "1", "1");
    check(FIELD_ID, "18446744073709551615", "18446744073709551615");
    check(FIELD_FK, "42", "42");
    check(FIELD_INT, "0", "0");
    check(FIELD_INT, "-2147483648", "-2147483648");
    check(FIELD_INT, "2147483647", "2147483647");
}

static void test_bool(void **state)
{
    (void)state;
    check(FIELD_BOOL, "0", "false");
    check(FIELD_BOOL, "1", "true");
    /* tinyint(1) can hold other values; PHP's (bool) cast makes them true */
    check(FIELD_BOOL, "2", "true");
    check(FIELD_BOOL, "-1", "true");
}

static void test_decimal_is_a_string(void **state)
{
    (void)state;
    check(FIELD_DECIMAL, "0.001250", "\"0.001250\"");
    check(FIELD_DECIMAL, "9999.999999", "\"9999.999999\"");
    check(FIELD_DECIMAL, "0.000000", "\"0.000000\"");
    check(FIELD_DECIMAL, "12.500000", "\"12.500000\"");
}

static void test_json_is_raw(void **state)
{
    (void)state;
    check(FIELD_JSON, "{\"a\": [1, 2, {\"b\": null}]}", "{\"a\": [1, 2, {\"b\": null}]}");
    check(FIELD_JSON, "{}", "{}");
    check(FIELD_JSON, "[]", "[]");
    check(FIELD_JSON, "\"text\"", "\"text\"");
    check(FIELD_JSON, "3.25", "3.25");
    check(FIELD_JSON, "null", "null"); /* a stored JSON null, as the column holds it */
    check(FIELD_JSON, "{\"s\":\"\\u2028 \\\"q\\\" \xc3\xa9\"}",
          "{\"s\":\"\\u2028 \\\"q\\\" \xc3\xa9\"}");
}

static void test_timestamps(void **state)
{
    (void)state;
    check(FIELD_TIMESTAMP, "2026-11-26 15:40:44", "\"2026-11-26T15:40:44.000000Z\"");
    check(FIELD_TIMESTAMP, "2026-11-26 15:40:44.123456", "\"2026-11-26T15:40:44.123456Z\"");
    check(FIELD_TIMESTAMP, "2026-11-26 15:40:44.5", "\"2026-11-26T15:40:44.500000Z\"");
    check(FIELD_TIMESTAMP, "1970-01-01 00:00:01", "\"1970-01-01T00:00:01.000000Z\"");
    check(FIELD_TIMESTAMP, "2038-01-19 03:14:07", "\"2038-01-19T03:14:07.000000Z\"");
}

static void test_strings_plain(void **state)
{
    (void)state;
    check(FIELD_STRING, "", "\"\"");
    check(FIELD_STRING, "lead.created", "\"lead.created\"");
    check(FIELD_TEXT, "  spaced  ", "\"  spaced  \"");
    /* non-ASCII UTF-8 is written as is */
    check(FIELD_STRING, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
          "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* a BOM stays */
    check(FIELD_TEXT, "\xef\xbb\xbfx", "\"\xef\xbb\xbfx\"");
    /* '/' needs no escape; "</script>" stays readable */
    check(FIELD_STRING, "a/b</script>", "\"a/b</script>\"");
}

static void test_string_escapes(void **state)
{
    (void)state;
    check(FIELD_STRING, "say \"hi\"", "\"say \\\"hi\\\"\"");
    check(FIELD_STRING, "back\\slash", "\"back\\\\slash\"");
    check(FIELD_TEXT, "a\nb\rc\td", "\"a\\nb\\rc\\td\"");
    check(FIELD_TEXT, "\b\f", "\"\\b\\f\"");
    check(FIELD_TEXT, "\x01\x1f", "\"\\u0001\\u001f\"");
    check(FIELD_TEXT, "del\x7f", "\"del\\u007f\"");
    check_n(FIELD_TEXT, "a\0b", 3, "\"a\\u0000b\"");
}

static void test_line_separators_escaped(void **state)
{
    (void)state;
    check(FIELD_STRING, "a\xe2\x80\xa8z", "\"a\\u2028z\"");
    check(FIELD_STRING, "a\xe2\x80\xa9z", "\"a\\u2029z\"");
    check(FIELD_TEXT, "\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"");
    /* neighbours of U+2028 are left alone */
    check(FIELD_STRING, "\xe2\x80\xa7\xe2\x80\xaa", "\"\xe2\x80\xa7\xe2\x80\xaa\"");
    /* at the very end, and a truncated prefix */
    check(FIELD_STRING, "x\xe2\x80\xa8", "\"x\\u2028\"");
}

static void test_repr_fields_row(void **state)
{
    (void)state;
    struct field fields[6];
    const char *names[] = {"id", "name", "is_active", "config", "cost", "created_at"};
    enum field_type types[] = {FIELD_ID,   FIELD_STRING,  FIELD_BOOL,
                               FIELD_JSON, FIELD_DECIMAL, FIELD_TIMESTAMP};
    char keys[6][32]; /* what resource.c builds at load */
    for (int i = 0; i < 6; i++) {
        fields[i] = field_of(types[i]);
        fields[i].name = (char *)names[i];
        snprintf(keys[i], sizeof keys[i], ",\"%s\":", names[i]);
        fields[i].json_key = keys[i];
        fields[i].json_key_len = strlen(keys[i]);
    }
    struct resource r;
    memset(&r, 0, sizeof r);
    r.name = "things";
    r.table = "things";
    r.fields = fields;
    r.nfields = 6;
    struct db_cell row[6] = {
        {"7", 1}, {"A \"b\"", 5}, {"0", 1}, {"{\"k\": 1}", 8}, {"0.500000", 8}, {NULL, 0},
    };
    struct buf b;
    buf_init(&b, 0);
    repr_fields(&b, &r, row);
    assert_string_equal(b.data, "\"id\":7,\"name\":\"A \\\"b\\\"\",\"is_active\":false,"
                                "\"config\":{\"k\": 1},\"cost\":\"0.500000\",\"created_at\":null");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_is_null_for_every_type),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_decimal_is_a_string),
        cmocka_unit_test(test_json_is_raw),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_strings_plain),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_line_separators_escaped),
        cmocka_unit_test(test_repr_fields_row),
    };
    return cmocka_run_group_tests_name("repr", tests, NULL, NULL);
}
