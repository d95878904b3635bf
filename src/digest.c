/* digest.c — SHA-256 through an implementation fetched once per process (digest.h). The
 * one piece of state is set at process set-up, before any worker is forked, and only read
 * afterwards. */
#include "digest.h"
#include "mem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

static EVP_MD *sha256_fetched; /* set once by digest_init, read-only afterwards */

void digest_init(void)
{
    if (!sha256_fetched) sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256(void)
{
    return sha256_fetched ? sha256_fetched : EVP_sha256();
}

void digest_sha256_parts(const struct digest_part *parts, size_t n,
                         unsigned char out[DIGEST_SHA256_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    if (!ctx || !EVP_DigestInit_ex(ctx, sha256(), NULL)) mem_oom_abort();
    for (size_t i = 0; i < n; i++)
        if (parts[i].len) EVP_DigestUpdate(ctx, parts[i].data, parts[i].len);
    EVP_DigestFinal_ex(ctx, out, &len);
    EVP_MD_CTX_free(ctx);
}

void digest_sha256(const void *data, size_t n, unsigned char out[DIGEST_SHA256_LEN])
{
    unsigned int len = 0;
    if (!EVP_Digest(data, n, out, &len, sha256(), NULL)) mem_oom_abort();
}

#define HMAC_BLOCK 64 /* SHA-256's block size */

void digest_hmac_sha256(const void *key, size_t keylen, const struct digest_part *parts, size_t n,
                        unsigned char out[DIGEST_SHA256_LEN])
{
    /* K0: the key padded with zeros to a block, or its digest if longer than a block */
    unsigned char k0[HMAC_BLOCK] = {0};
    if (keylen > HMAC_BLOCK)
        digest_sha256(key, keylen, k0);
    else if (keylen)
        memcpy(k0, key, keylen);
    unsigned char pad[HMAC_BLOCK], inner[DIGEST_SHA256_LEN];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    if (!ctx || !EVP_DigestInit_ex(ctx, sha256(), NULL)) mem_oom_abort();
    for (size_t i = 0; i < HMAC_BLOCK; i++) pad[i] = k0[i] ^ 0x36;
    EVP_DigestUpdate(ctx, pad, HMAC_BLOCK);
    for (size_t i = 0; i < n; i++)
        if (parts[i].len) EVP_DigestUpdate(ctx, parts[i].data, parts[i].len);
    EVP_DigestFinal_ex(ctx, inner, &len);
    if (!EVP_DigestInit_ex(ctx, sha256(), NULL)) mem_oom_abort();
    for (size_t i = 0; i < HMAC_BLOCK; i++) pad[i] = k0[i] ^ 0x5c;
    EVP_DigestUpdate(ctx, pad, HMAC_BLOCK);
    EVP_DigestUpdate(ctx, inner, DIGEST_SHA256_LEN);
    EVP_DigestFinal_ex(ctx, out, &len);
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(k0, sizeof k0);
    OPENSSL_cleanse(pad, sizeof pad);
}

void digest_sha256_hex(const void *data, size_t n, char out[2 * DIGEST_SHA256_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[DIGEST_SHA256_LEN];
    digest_sha256(data, n, md);
    for (size_t i = 0; i < DIGEST_SHA256_LEN; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * DIGEST_SHA256_LEN] = '\0';
}
