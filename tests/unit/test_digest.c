/* test_digest.c — unit tests for digest.c: FIPS 180-2 vectors through the slow path
 * (no digest_init) and the fetched one, hashing in parts equal to hashing at once, and
 * HMAC-SHA256 against RFC 4231. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "digest.h"

static const struct {
    const char *in;
    const char *hex;
} vectors[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
};

static void check_vectors(void)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        char hex[65];
        memset(hex, 'Z', sizeof hex);
        digest_sha256_hex(vectors[i].in, strlen(vectors[i].in), hex);
        assert_string_equal(hex, vectors[i].hex);
        unsigned char raw[DIGEST_SHA256_LEN];
        digest_sha256(vectors[i].in, strlen(vectors[i].in), raw);
        char again[65];
        for (size_t k = 0; k < DIGEST_SHA256_LEN; k++) snprintf(again + 2 * k, 3, "%02x", raw[k]);
        assert_string_equal(again, vectors[i].hex);
    }
}

/* must run first: the process has not fetched the implementation yet */
static void test_vectors_before_init(void **state)
{
    (void)state;
    check_vectors();
}

static void test_vectors_after_init(void **state)
{
    (void)state;
    digest_init();
    digest_init(); /* a second call changes nothing */
    check_vectors();
}

static void test_parts_equal_whole(void **state)
{
    (void)state;
    digest_init();
    const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    unsigned char whole[DIGEST_SHA256_LEN], parts[DIGEST_SHA256_LEN];
    digest_sha256(msg, strlen(msg), whole);
    /* every split into three, empty pieces included */
    size_t n = strlen(msg);
    for (size_t a = 0; a <= n; a += 7)
        for (size_t b = a; b <= n; b += 5) {
            const struct digest_part p[] = {{msg, a}, {msg + a, b - a}, {msg + b, n - b}};
            digest_sha256_parts(p, 3, parts);
            assert_memory_equal(parts, whole, DIGEST_SHA256_LEN);
        }
    digest_sha256_parts(NULL, 0, parts);
    unsigned char empty[DIGEST_SHA256_LEN];
    digest_sha256("", 0, empty);
    assert_memory_equal(parts, empty, DIGEST_SHA256_LEN);
}

/* RFC 4231 test cases 1, 2, 4, 6 and 7 (6 and 7: keys longer than a block) */
static void hex_to_bytes(const char *hex, unsigned char *out, size_t *n)
{
    *n = strlen(hex) / 2;
    for (size_t i = 0; i < *n; i++) sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

static void check_hmac(const char *key_hex, const char *data, size_t data_len, const char *want)
{
    unsigned char key[256];
    size_t keylen;
    hex_to_bytes(key_hex, key, &keylen);
    unsigned char mac[DIGEST_SHA256_LEN];
    /* whole, and split in two parts at every position */
    for (size_t cut = 0; cut <= data_len; cut++) {
        const struct digest_part p[] = {{data, cut}, {data + cut, data_len - cut}};
        digest_hmac_sha256(key, keylen, p, 2, mac);
        char hex[65];
        for (size_t k = 0; k < DIGEST_SHA256_LEN; k++) snprintf(hex + 2 * k, 3, "%02x", mac[k]);
        assert_string_equal(hex, want);
    }
}

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    check_hmac("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", 8,
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    check_hmac("4a656665", "what do ya want for nothing?", 28,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    unsigned char cd[50];
    memset(cd, 0xcd, sizeof cd);
    check_hmac("0102030405060708090a0b0c0d0e0f10111213141516171819", (const char *)cd, 50,
               "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    char k131[263];
    for (int i = 0; i < 131; i++) memcpy(k131 + 2 * i, "aa", 2);
    k131[262] = '\0';
    check_hmac(k131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    const char *t7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the "
                     "HMAC algorithm.";
    check_hmac(k131, t7, strlen(t7),
               "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

/* a key of exactly one block is used as it is, one byte more is hashed first */
static void test_hmac_block_sized_keys(void **state)
{
    (void)state;
    unsigned char k64[64], k65[65], a[DIGEST_SHA256_LEN], b[DIGEST_SHA256_LEN];
    memset(k64, 'k', sizeof k64);
    memset(k65, 'k', sizeof k65);
    const struct digest_part p[] = {{"msg", 3}};
    digest_hmac_sha256(k64, 64, p, 1, a);
    digest_hmac_sha256(k65, 65, p, 1, b);
    assert_memory_not_equal(a, b, DIGEST_SHA256_LEN);
    /* K > block: HMAC(K) == HMAC(SHA256(K)) */
    unsigned char hk[DIGEST_SHA256_LEN];
    digest_sha256(k65, 65, hk);
    digest_hmac_sha256(hk, sizeof hk, p, 1, a);
    assert_memory_equal(a, b, DIGEST_SHA256_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_before_init),   cmocka_unit_test(test_vectors_after_init),
        cmocka_unit_test(test_parts_equal_whole),     cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_hmac_block_sized_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
