/* test_auth.c — unit tests for auth.c (bearer parsing, SHA-256 hex, constant-time equality,
 * abilities) and for the pure helpers of admin.c (durations, Sanctum token secrets, the
 * abilities JSON written by token:create). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "auth.h"

/* ---- helpers ---- */

struct parsed {
    int rc;
    bool has_id;
    unsigned long long id;
    const char *secret;
    size_t secret_len;
};

static struct parsed parse(const char *header)
{
    struct parsed p = {0};
    p.has_id = true; /* the function must reset these */
    p.id = 777;
    p.rc = auth_parse_bearer(header, &p.has_id, &p.id, &p.secret, &p.secret_len);
    return p;
}

static void expect_reject(const char *header)
{
    struct parsed p = parse(header);
    if (p.rc != -1)
        fail_msg("expected -1 for header \"%s\", got %d", header ? header : "(null)", p.rc);
}

static void expect_secret(const struct parsed *p, const char *want)
{
    assert_int_equal(p->rc, 0);
    assert_non_null(p->secret);
    assert_int_equal(p->secret_len, strlen(want));
    assert_memory_equal(p->secret, want, strlen(want));
}

/* independent CRC-32 (IEEE 802.3, reflected, table-driven) — PHP's crc32b */
static uint32_t ref_crc32(const unsigned char *s, size_t n)
{
    static uint32_t table[256];
    static bool ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = true;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ s[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

/* ---- auth_parse_bearer ---- */

static void test_bearer_rejects_empty_and_null(void **state)
{
    (void)state;
    expect_reject(NULL);
    expect_reject("");
    expect_reject(" ");
}

static void test_bearer_rejects_scheme_alone(void **state)
{
    (void)state;
    expect_reject("Bearer");
    expect_reject("Bearer ");
    expect_reject("Bearer   ");
    expect_reject("Bearer\t");
    expect_reject("bearer");
}

static void test_bearer_rejects_other_schemes(void **state)
{
    (void)state;
    expect_reject("Basic x");
    expect_reject("Basic YWRtaW46c2VjcmV0");
    expect_reject("Token 1|abc");
    expect_reject("Digest 1|abc");
    expect_reject("Bearerx 1|abc"); /* scheme must be followed by whitespace */
    expect_reject("Bearer:1|abc");
    expect_reject("Bear 1|abc");
    expect_reject("1|abc");         /* no scheme */
    expect_reject(" Bearer 1|abc"); /* leading space before the scheme */
}

static void test_bearer_scheme_case_insensitive(void **state)
{
    (void)state;
    static const char *const forms[] = {"Bearer x", "bearer x", "BEARER x", "bEaReR x"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct parsed p = parse(forms[i]);
        if (p.rc != 0) fail_msg("expected \"%s\" to parse", forms[i]);
        assert_false(p.has_id);
        expect_secret(&p, "x");
    }
}

static void test_bearer_whitespace(void **state)
{
    (void)state;
    struct parsed p = parse("Bearer\tabc");
    expect_secret(&p, "abc");
    p = parse("Bearer    abc");
    expect_secret(&p, "abc");
    p = parse("Bearer \t \t1|abc");
    expect_secret(&p, "abc");
    assert_true(p.has_id);
    assert_int_equal(p.id, 1);
    /* trailing spaces and tabs are not part of the token */
    p = parse("Bearer 1|abc   ");
    expect_secret(&p, "abc");
    assert_int_equal(p.id, 1);
    p = parse("Bearer abc \t ");
    expect_secret(&p, "abc");
    assert_false(p.has_id);
    /* whitespace inside the token is not allowed */
    expect_reject("Bearer ab c");
    expect_reject("Bearer 1 |abc");
    expect_reject("Bearer 1| abc");
    expect_reject("Bearer 1|ab\tc");
}

static void test_bearer_id_and_secret(void **state)
{
    (void)state;
    struct parsed p = parse("Bearer 1|abc");
    assert_int_equal(p.rc, 0);
    assert_true(p.has_id);
    assert_int_equal(p.id, 1);
    expect_secret(&p, "abc");

    p = parse("Bearer 42|xYUeiYVfv7cwAvX8TFfsoUrnG3qyXTOgpSt9viVjbc4b8602");
    assert_true(p.has_id);
    assert_int_equal(p.id, 42);
    expect_secret(&p, "xYUeiYVfv7cwAvX8TFfsoUrnG3qyXTOgpSt9viVjbc4b8602");

    /* the secret points into the header (no copy) */
    const char *h = "Bearer 7|secret";
    p = parse(h);
    assert_ptr_equal(p.secret, h + 9);

    /* only the first bar separates: Sanctum's explode('|', $token, 2) */
    p = parse("Bearer 5|a|b");
    assert_true(p.has_id);
    assert_int_equal(p.id, 5);
    expect_secret(&p, "a|b");

    /* leading zeros are still a decimal id */
    p = parse("Bearer 007|abc");
    assert_true(p.has_id);
    assert_int_equal(p.id, 7);
}

static void test_bearer_legacy_secret(void **state)
{
    (void)state;
    struct parsed p = parse("Bearer xYUeiYVfv7cwAvX8TFfsoUrnG3qyXTOgpSt9viVjbc4b8602");
    assert_int_equal(p.rc, 0);
    assert_false(p.has_id);
    assert_int_equal(p.id, 0);
    expect_secret(&p, "xYUeiYVfv7cwAvX8TFfsoUrnG3qyXTOgpSt9viVjbc4b8602");
    p = parse("Bearer 12345"); /* digits only, no bar: still a legacy secret */
    assert_false(p.has_id);
    expect_secret(&p, "12345");
}

static void test_bearer_bad_ids(void **state)
{
    (void)state;
    expect_reject("Bearer a|x");
    expect_reject("Bearer abc|def");
    expect_reject("Bearer 1a|x");
    expect_reject("Bearer -1|x");
    expect_reject("Bearer +1|x");
    expect_reject("Bearer 0x1|x");
    expect_reject("Bearer |x");  /* empty id */
    expect_reject("Bearer 0|x"); /* id 0 never exists */
    expect_reject("Bearer 000|x");
    /* 20 digits: more than any bigint unsigned id could need, and the overflow case */
    expect_reject("Bearer 12345678901234567890|x");
    expect_reject("Bearer 99999999999999999999|x");
    expect_reject("Bearer 000000000000000000001|x");
    /* 19 digits is accepted and exact */
    struct parsed p = parse("Bearer 9999999999999999999|x");
    assert_int_equal(p.rc, 0);
    assert_true(p.has_id);
    assert_true(p.id == 9999999999999999999ULL);
}

static void test_bearer_empty_secret(void **state)
{
    (void)state;
    expect_reject("Bearer 1|");
    expect_reject("Bearer 1|   ");
    expect_reject("Bearer |");
}

static void test_bearer_length_limit(void **state)
{
    (void)state;
    char h[600];
    /* exactly 512 characters of token: accepted */
    memcpy(h, "Bearer ", 7);
    memset(h + 7, 'a', 512);
    h[7 + 512] = '\0';
    struct parsed p = parse(h);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.secret_len, 512);
    /* 513: over-long */
    memset(h + 7, 'a', 513);
    h[7 + 513] = '\0';
    expect_reject(h);
    /* with an id prefix the whole token counts */
    memcpy(h + 7, "1|", 2);
    memset(h + 9, 'b', 550);
    h[9 + 550] = '\0';
    expect_reject(h);
    /* trailing spaces do not count toward the limit */
    memset(h + 7, 'c', 512);
    memset(h + 7 + 512, ' ', 20);
    h[7 + 512 + 20] = '\0';
    p = parse(h);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.secret_len, 512);
}

static void test_bearer_control_characters(void **state)
{
    (void)state;
    expect_reject("Bearer 1|ab\x01"
                  "cd");
    expect_reject("Bearer 1|abc\r");
    expect_reject("Bearer 1|abc\r\nX-Injected: 1");
    expect_reject("Bearer 1|ab\ncd");
    expect_reject("Bearer 1|ab\x7f"
                  "cd"); /* DEL */
    expect_reject("Bearer 1|ab\x1b"
                  "cd"); /* ESC */
    expect_reject("Bearer 1|ab\xc3\xa9"
                  "cd"); /* non-ASCII (UTF-8 é) */
    expect_reject("Bearer 1|ab\xff");
    expect_reject("Bearer \x01");
}

static void test_bearer_embedded_nul(void **state)
{
    (void)state;
    /* a C string ends at the NUL: the function sees "Bearer 1|ab" */
    static const char buf[] = "Bearer 1|ab\0cd";
    struct parsed p = parse(buf);
    assert_int_equal(p.rc, 0);
    assert_true(p.has_id);
    assert_int_equal(p.id, 1);
    expect_secret(&p, "ab");
    /* and a NUL right after the bar leaves an empty secret */
    static const char buf2[] = "Bearer 1|\0abc";
    expect_reject(buf2);
    static const char buf3[] = "Bearer\0 1|abc";
    expect_reject(buf3);
}

static void test_bearer_failure_resets_id(void **state)
{
    (void)state;
    struct parsed p = parse("Basic x");
    assert_int_equal(p.rc, -1);
    assert_false(p.has_id);
    assert_int_equal(p.id, 0);
}

/* ---- auth_sha256_hex ---- */

static void check_sha(const char *s, size_t n, const char *want)
{
    char out[65];
    memset(out, 'Z', sizeof out);
    auth_sha256_hex(s, n, out);
    assert_int_equal(out[64], '\0');
    assert_string_equal(out, want);
}

static void test_sha256_vectors(void **state)
{
    (void)state;
    check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    check_sha("The quick brown fox jumps over the lazy dog", 43,
              "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
    /* the Sanctum vector (reference/sanctum-token-vector.json) */
    check_sha("xYUeiYVfv7cwAvX8TFfsoUrnG3qyXTOgpSt9viVjbc4b8602", 48,
              "cc34c980605871c742cc272dd3bf9c1aabae01a3cf6a771d8b82fb9c04f6e8fe");
}

static void test_sha256_uses_length_not_nul(void **state)
{
    (void)state;
    /* only n bytes are hashed */
    check_sha("abcdef", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* an embedded NUL is hashed as data: sha256("a\0b") */
    check_sha("a\0b", 3, "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138");
}

/* hashing "a\0b" differs from "a" and "ab", is stable, and is lowercase hex */
static void test_sha256_nul_is_data(void **state)
{
    (void)state;
    char h1[65], h2[65], h3[65], h4[65];
    auth_sha256_hex("a\0b", 3, h1);
    auth_sha256_hex("a\0b", 3, h2);
    auth_sha256_hex("a", 1, h3);
    auth_sha256_hex("ab", 2, h4);
    assert_string_equal(h1, h2);
    assert_string_not_equal(h1, h3);
    assert_string_not_equal(h1, h4);
    for (size_t i = 0; i < 64; i++) {
        char c = h1[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            fail_msg("non lowercase-hex '%c'", c);
    }
}

/* ---- auth_equal ---- */

static void test_equal(void **state)
{
    (void)state;
    const char *a = "cc34c980605871c742cc272dd3bf9c1aabae01a3cf6a771d8b82fb9c04f6e8fe";
    char b[65];
    memcpy(b, a, 65);
    assert_true(auth_equal(a, b, 64));
    b[63] ^= 1; /* last byte */
    assert_false(auth_equal(a, b, 64));
    memcpy(b, a, 65);
    b[0] = 'd'; /* first byte */
    assert_false(auth_equal(a, b, 64));
    /* only n bytes are compared */
    assert_true(auth_equal("abcX", "abcY", 3));
    assert_false(auth_equal("abcX", "abcY", 4));
    assert_true(auth_equal("x", "y", 0));
    /* bytes after a NUL still count */
    assert_false(auth_equal("a\0b", "a\0c", 3));
    /* case matters: hex digests are lowercase */
    assert_false(auth_equal("ABCDEF", "abcdef", 6));
}

/* ---- auth_can ---- */

static void test_can(void **state)
{
    (void)state;
    char *ab_rw[] = {"read", "write"};
    char *ab_r[] = {"read"};
    char *ab_star[] = {"*"};
    struct auth_token all = {
        .id = 1, .user_id = 1, .all = true, .abilities = ab_star, .nabilities = 1};
    struct auth_token rw = {
        .id = 2, .user_id = 1, .all = false, .abilities = ab_rw, .nabilities = 2};
    struct auth_token r = {.id = 3, .user_id = 1, .all = false, .abilities = ab_r, .nabilities = 1};
    struct auth_token none = {
        .id = 4, .user_id = 1, .all = false, .abilities = NULL, .nabilities = 0};

    assert_true(auth_can(&all, "read"));
    assert_true(auth_can(&all, "write"));
    assert_true(auth_can(&all, "anything:else"));
    assert_true(auth_can(&all, NULL));

    assert_true(auth_can(&rw, "read"));
    assert_true(auth_can(&rw, "write"));
    assert_false(auth_can(&rw, "admin"));
    assert_false(auth_can(&rw, "*")); /* "*" is granted by the token, not asked for */

    assert_true(auth_can(&r, "read"));
    assert_false(auth_can(&r, "write"));
    assert_false(auth_can(&r, "Read")); /* ability names are case-sensitive (Sanctum) */
    assert_false(auth_can(&r, "rea"));
    assert_false(auth_can(&r, "reader"));
    assert_false(auth_can(&r, ""));

    /* NULL ability: any valid token, even one with no abilities */
    assert_true(auth_can(&r, NULL));
    assert_true(auth_can(&none, NULL));
    assert_false(auth_can(&none, "read"));

    /* NULL token: never */
    assert_false(auth_can(NULL, NULL));
    assert_false(auth_can(NULL, "read"));
    assert_false(auth_can(NULL, "*"));
}

/* ---- auth_parse_abilities ---- */

static void free_list(char **list, int n)
{
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
}

static void test_abilities_star(void **state)
{
    (void)state;
    char **list = (char **)1;
    int n = auth_parse_abilities("[\"*\"]", &list);
    assert_int_equal(n, 1);
    assert_non_null(list);
    assert_string_equal(list[0], "*");
    free_list(list, n);
}

static void test_abilities_named(void **state)
{
    (void)state;
    char **list = NULL;
    int n = auth_parse_abilities("[\"read\",\"write\"]", &list);
    assert_int_equal(n, 2);
    assert_string_equal(list[0], "read");
    assert_string_equal(list[1], "write");
    free_list(list, n);

    n = auth_parse_abilities("  [ \"a:b\" , \"c.d\" ]  ", &list);
    assert_int_equal(n, 2);
    assert_string_equal(list[0], "a:b");
    assert_string_equal(list[1], "c.d");
    free_list(list, n);

    /* JSON escapes are decoded */
    n = auth_parse_abilities("[\"w\\u0072ite\"]", &list);
    assert_int_equal(n, 1);
    assert_string_equal(list[0], "write");
    free_list(list, n);
}

static void test_abilities_empty_and_null(void **state)
{
    (void)state;
    char **list = (char **)1;
    int n = auth_parse_abilities("[]", &list);
    assert_int_equal(n, 0);
    free_list(list, 0); /* may be an empty allocation or NULL; free() handles both */

    list = (char **)1;
    n = auth_parse_abilities(NULL, &list);
    assert_int_equal(n, 0);
    assert_null(list);
}

static void test_abilities_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {"garbage", "",     "{\"read\":true}", "\"*\"",
                                      "42",      "null", "[\"read\"",       "true"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char **list = (char **)1;
        int n = auth_parse_abilities(bad[i], &list);
        if (n != -1) fail_msg("expected -1 for '%s', got %d", bad[i], n);
        assert_null(list);
    }
}

static void test_abilities_skip_non_strings(void **state)
{
    (void)state;
    char **list = NULL;
    int n = auth_parse_abilities(
        "[1,\"read\",null,true,{\"x\":\"write\"},[\"write\"],\"write\",2.5]", &list);
    assert_int_equal(n, 2);
    assert_string_equal(list[0], "read");
    assert_string_equal(list[1], "write");
    free_list(list, n);

    n = auth_parse_abilities("[1,2,3]", &list);
    assert_int_equal(n, 0);
    free_list(list, 0);
}

/* ---- admin_parse_duration ---- */

static void test_duration_valid(void **state)
{
    (void)state;
    assert_int_equal(admin_parse_duration("30d"), 30LL * 86400);
    assert_int_equal(admin_parse_duration("12h"), 12LL * 3600);
    assert_int_equal(admin_parse_duration("15m"), 15LL * 60);
    assert_int_equal(admin_parse_duration("90s"), 90);
    assert_int_equal(admin_parse_duration("1s"), 1);
    assert_int_equal(admin_parse_duration("90"), 90); /* bare number: seconds */
    assert_int_equal(admin_parse_duration("1d"), 86400);
    /* ten years is the ceiling */
    assert_int_equal(admin_parse_duration("3650d"), 3650LL * 86400);
}

static void test_duration_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "0",
        "0s",
        "0d",
        "-1",
        "-5m",
        "d",
        "s",
        "5x",
        "5dd",
        "5 d",
        "1.5h",
        "1e3s",
        "abc",
        "5w",
        "5y",
        "5D",
        "5H",
        "h5",
        "5ms",
        "99999999999999999999s",
        "9223372036854775807s",
        "100000d",
        "1000000h",
        "40000000000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long v = admin_parse_duration(bad[i]);
        if (v != -1) fail_msg("expected -1 for '%s', got %lld", bad[i], v);
    }
    assert_int_equal(admin_parse_duration(NULL), -1);
    /* just over ten years (the limit allows leap days) */
    assert_int_equal(admin_parse_duration("3661d"), -1);
}

/* ---- auth_token_secret ---- */

static void check_secret(const char s[49])
{
    assert_int_equal(strlen(s), 48);
    for (size_t i = 0; i < 40; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            fail_msg("non-alphanumeric character 0x%02x at %zu in %s", (unsigned char)c, i, s);
    }
    for (size_t i = 40; i < 48; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            fail_msg("non lowercase-hex character '%c' at %zu in %s", c, i, s);
    }
    char want[9];
    snprintf(want, sizeof want, "%08x", (unsigned)ref_crc32((const unsigned char *)s, 40));
    assert_memory_equal(s + 40, want, 8);
}

static void test_reference_crc32(void **state)
{
    (void)state;
    /* sanity-check the test's own CRC against the standard check value and the Sanctum
     * vector, whose last 8 characters are the crc32b of its first 40 */
    assert_int_equal(ref_crc32((const unsigned char *)"123456789", 9), 0xCBF43926u);
    const char *v = "xYUeiYVfv7cwAvX8TFfsoUrnG3qyXTOgpSt9viVjbc4b8602";
    char want[9];
    snprintf(want, sizeof want, "%08x", (unsigned)ref_crc32((const unsigned char *)v, 40));
    assert_string_equal(want, v + 40);
}

static void test_token_secret(void **state)
{
    (void)state;
    char a[49], b[49];
    memset(a, 'Z', sizeof a);
    memset(b, 'Z', sizeof b);
    assert_int_equal(auth_token_secret(a), 0);
    assert_int_equal(auth_token_secret(b), 0);
    assert_int_equal(a[48], '\0');
    check_secret(a);
    check_secret(b);
    assert_string_not_equal(a, b);
    /* many draws: always well-formed, and the whole alphabet is reachable (no bias to a
     * subset); 200*40 draws leave ~0 chance that a class is missing */
    bool upper = false, lower = false, digit = false;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(auth_token_secret(a), 0);
        check_secret(a);
        for (size_t k = 0; k < 40; k++) {
            if (a[k] >= 'A' && a[k] <= 'Z') upper = true;
            if (a[k] >= 'a' && a[k] <= 'z') lower = true;
            if (a[k] >= '0' && a[k] <= '9') digit = true;
        }
    }
    assert_true(upper && lower && digit);
}

/* ---- admin_abilities_json ---- */

static void test_abilities_json_valid(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(admin_abilities_json("read,write", out, sizeof out), 0);
    assert_string_equal(out, "[\"read\",\"write\"]");
    assert_int_equal(admin_abilities_json("*", out, sizeof out), 0);
    assert_string_equal(out, "[\"*\"]");
    assert_int_equal(admin_abilities_json("read", out, sizeof out), 0);
    assert_string_equal(out, "[\"read\"]");
    assert_int_equal(admin_abilities_json("workflows:read,a.b,x_y,x-y", out, sizeof out), 0);
    assert_string_equal(out, "[\"workflows:read\",\"a.b\",\"x_y\",\"x-y\"]");

    /* the output is a JSON list auth_parse_abilities reads back */
    char **list = NULL;
    assert_int_equal(admin_abilities_json("read,write", out, sizeof out), 0);
    int n = auth_parse_abilities(out, &list);
    assert_int_equal(n, 2);
    assert_string_equal(list[0], "read");
    assert_string_equal(list[1], "write");
    free_list(list, n);
}

static void test_abilities_json_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "a b",
        "",
        "x,,y",
        ",read",
        "read,",
        ",",
        "read, write",
        "re\"ad",
        "re\\ad",
        "read\n",
        "r\xc3\xa9"
        "ad",
        "[\"x\"]",
        "a;b",
        "a/b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[256];
        if (admin_abilities_json(bad[i], out, sizeof out) != -1)
            fail_msg("expected -1 for '%s'", bad[i]);
    }
}

static void test_abilities_json_limits(void **state)
{
    (void)state;
    char out[256], name[80];
    /* 64-character names are fine, 65 are not */
    memset(name, 'a', 64);
    name[64] = '\0';
    assert_int_equal(admin_abilities_json(name, out, sizeof out), 0);
    assert_int_equal(strlen(out), 64 + 4);
    memset(name, 'a', 65);
    name[65] = '\0';
    assert_int_equal(admin_abilities_json(name, out, sizeof out), -1);
    /* never overruns a small output buffer */
    char small[8];
    memset(small, 0, sizeof small);
    assert_int_equal(admin_abilities_json("read,write", small, sizeof small), -1);
    assert_int_equal(admin_abilities_json("read", small, 2), -1);
    /* whatever the size, nothing is written past outlen: canary bytes after the buffer
     * stay intact, and a success is always a complete, NUL-terminated list */
    for (size_t len = 0; len <= 24; len++) {
        char buf[40];
        memset(buf, '#', sizeof buf);
        int rc = admin_abilities_json("read,write", buf, len);
        for (size_t i = len; i < sizeof buf; i++)
            if (buf[i] != '#') fail_msg("outlen %zu: byte %zu overwritten", len, i);
        if (rc == 0)
            assert_string_equal(buf, "[\"read\",\"write\"]");
        else
            assert_int_equal(rc, -1);
        if (len >= 17 + 2) assert_int_equal(rc, 0); /* 16 chars + NUL, with slack */
        if (len < 17) assert_int_equal(rc, -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer_rejects_empty_and_null),
        cmocka_unit_test(test_bearer_rejects_scheme_alone),
        cmocka_unit_test(test_bearer_rejects_other_schemes),
        cmocka_unit_test(test_bearer_scheme_case_insensitive),
        cmocka_unit_test(test_bearer_whitespace),
        cmocka_unit_test(test_bearer_id_and_secret),
        cmocka_unit_test(test_bearer_legacy_secret),
        cmocka_unit_test(test_bearer_bad_ids),
        cmocka_unit_test(test_bearer_empty_secret),
        cmocka_unit_test(test_bearer_length_limit),
        cmocka_unit_test(test_bearer_control_characters),
        cmocka_unit_test(test_bearer_embedded_nul),
        cmocka_unit_test(test_bearer_failure_resets_id),
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_sha256_uses_length_not_nul),
        cmocka_unit_test(test_sha256_nul_is_data),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_can),
        cmocka_unit_test(test_abilities_star),
        cmocka_unit_test(test_abilities_named),
        cmocka_unit_test(test_abilities_empty_and_null),
        cmocka_unit_test(test_abilities_garbage),
        cmocka_unit_test(test_abilities_skip_non_strings),
        cmocka_unit_test(test_duration_valid),
        cmocka_unit_test(test_duration_invalid),
        cmocka_unit_test(test_reference_crc32),
        cmocka_unit_test(test_token_secret),
        cmocka_unit_test(test_abilities_json_valid),
        cmocka_unit_test(test_abilities_json_invalid),
        cmocka_unit_test(test_abilities_json_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
