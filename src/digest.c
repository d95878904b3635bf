/* digest.c — SHA-256 through an implementation fetched once per process (digest.h). The
 * one piece of state is set at process set-up, before any worker is forked, and only read
 * afterwards. */
#include "digest.h"
#include "mem.h"

#include <openssl/evp.h>

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
