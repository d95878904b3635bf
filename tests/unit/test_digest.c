/* test_digest.c — unit tests for digest.c: FIPS 180-2 vectors through the slow path
 * (no digest_init) and the fetched one, and hashing in parts equal to hashing at once. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_before_init),
        cmocka_unit_test(test_vectors_after_init),
        cmocka_unit_test(test_parts_equal_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
