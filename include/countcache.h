/* countcache.h — the worker's cache of page-list counts (meta.total), so that a page list
 * does not run a COUNT(*) on every request.
 *
 * A key is the exact count query: the table, the WHERE text and every bound value, each
 * part length-prefixed and typed, so no two filters can produce the same key. An entry
 * holds the count, the pool's write generation read before the count ran (stats.h) and the
 * monotonic time it ran. A lookup hits only with the same generation and an age under the
 * TTL: any write through the pool (which bumps the generation) invalidates every entry of
 * every worker at once; a write from elsewhere shows within the TTL.
 *
 * One per worker, owned by the worker (countcache_new/countcache_free) and lent to each
 * request in ctx->counts. Fixed slots allocated once, least recently used replaced; a
 * lookup or a store never allocates. Not shared between processes, never locked. */
#ifndef AIENGINE_COUNTCACHE_H
#define AIENGINE_COUNTCACHE_H

#include "db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COUNTCACHE_SLOTS 64
#define COUNTCACHE_KEY_MAX 480 /* longer keys (long filter values) are never cached */

/* A key being built on the caller's stack. `too_long` once a part did not fit: such a key
 * never hits and is never stored. */
struct countcache_key {
    char data[COUNTCACHE_KEY_MAX];
    size_t len;
    bool too_long;
};

struct countcache;

/* An empty cache of `nslots` entries (0: COUNTCACHE_SLOTS); the caller owns it. */
struct countcache *countcache_new(size_t nslots);
void countcache_free(struct countcache *cc);

/* Start a key, then add its parts in a fixed order: text (the table, the WHERE clause) and
 * bound values. */
void countcache_key_init(struct countcache_key *k);
void countcache_key_text(struct countcache_key *k, const char *s, size_t len);
void countcache_key_param(struct countcache_key *k, const struct db_param *p);

/* The count stored for `k` with generation `gen` less than `ttl_ms` before `now_ms`: true
 * and *count set, or false (a miss). */
bool countcache_get(struct countcache *cc, const struct countcache_key *k, uint64_t gen,
                    uint64_t now_ms, uint64_t ttl_ms, long long *count);
/* Remember `count` for `k`, counted after generation `gen` was read and no earlier than
 * `now_ms`. Replaces the entry of the same key, else a free or the least recently used
 * slot. */
void countcache_put(struct countcache *cc, const struct countcache_key *k, uint64_t gen,
                    uint64_t now_ms, long long count);

#endif
