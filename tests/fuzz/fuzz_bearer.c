/* fuzz_bearer.c — libFuzzer: an Authorization header through auth_parse_bearer, the first
 * parser every authenticated request meets. What it accepts must be a token inside the
 * header, without control characters or spaces, and an id only in the "<id>|" form. */
#include "auth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *h = malloc(size + 1);
    memcpy(h, data, size);
    h[size] = '\0';
    bool has_id;
    unsigned long long id;
    const char *secret;
    size_t n;
    if (auth_parse_bearer(h, &has_id, &id, &secret, &n) == 0) {
        if (secret < h || secret + n > h + strlen(h) || n == 0) abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)secret[i] <= 0x20 || (unsigned char)secret[i] >= 0x7f) abort();
        if (has_id && (id == 0 || secret[-1] != '|')) abort();
        char hex[65];
        auth_sha256_hex(secret, n, hex);
    }
    free(h);
    return 0;
}
