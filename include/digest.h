/* digest.h — SHA-256 for the whole program, through an implementation fetched from OpenSSL
 * once per process.
 *
 * OpenSSL 3's one-shot SHA256() (and EVP_sha256() in an EVP call) looks the algorithm up in
 * the provider tables on every call: about 8,000 instructions, several times the cost of
 * hashing a 48-byte token, and every API request hashes at least twice (the token, the
 * ETag); a cursor page makes three HMACs. digest_init() fetches it once at process set-up; without
 * it every function here still works, through the slow lookup (unit tests, fuzzers).
 *
 * Nothing here allocates memory the caller owns; out is always the caller's. */
#ifndef AIENGINE_DIGEST_H
#define AIENGINE_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_LEN 32

/* Fetch the implementation. Call once, before forking workers; never fails (on an OpenSSL
 * error the slow path stays in use). */
void digest_init(void);

/* SHA-256 of n bytes at data. */
void digest_sha256(const void *data, size_t n, unsigned char out[DIGEST_SHA256_LEN]);

/* One piece of a message hashed in parts. */
struct digest_part {
    const void *data;
    size_t len;
};

/* SHA-256 of the concatenation of n parts (no copy of them is made). */
void digest_sha256_parts(const struct digest_part *parts, size_t n,
                         unsigned char out[DIGEST_SHA256_LEN]);

/* HMAC-SHA256 (RFC 2104) of the concatenation of n parts under key. Built here from the
 * fetched SHA-256 rather than with OpenSSL's HMAC(), which in OpenSSL 3 looks up both the
 * MAC and the digest by name on every call (about 22,000 instructions, a sixth of a cursor
 * page's work); reusing a keyed OpenSSL context instead would need state per key. */
void digest_hmac_sha256(const void *key, size_t keylen, const struct digest_part *parts, size_t n,
                        unsigned char out[DIGEST_SHA256_LEN]);

/* The lowercase hex of the SHA-256 of n bytes at data, NUL-terminated. */
void digest_sha256_hex(const void *data, size_t n, char out[2 * DIGEST_SHA256_LEN + 1]);

#endif
