/* hash.h — FNV-1a (64 bit): the one non-cryptographic hash for in-memory tables (the
 * page-count cache, the rate-limit slots). Fast on short keys and needs no state; never use
 * it where a client could choose keys to collide on purpose and gain by it (every table
 * using it compares the whole key, or tolerates a collision as a shared slot). */
#ifndef AIENGINE_HASH_H
#define AIENGINE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A_INIT 1469598103934665603ULL

/* Continue hash h over n bytes at p (start with HASH_FNV1A_INIT). */
static inline uint64_t hash_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

#endif
