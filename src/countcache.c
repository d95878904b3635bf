/* countcache.c — the worker's page-count cache (countcache.h): fixed slots, compared by
 * hash first and then by the full key, least recently used replaced. Never allocates after
 * countcache_new; never talks to the database (list.c does). */
#include "countcache.h"
#include "hash.h"
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct countcache_slot {
    uint64_t hash; /* 0: empty */
    uint64_t gen, at_ms, used;
    long long count;
    size_t len;
    char key[COUNTCACHE_KEY_MAX];
};

struct countcache {
    struct countcache_slot *slots;
    size_t n;
    uint64_t clock; /* recency ticks for LRU; not time */
};

struct countcache *countcache_new(size_t nslots)
{
    struct countcache *cc = mem_calloc(1, sizeof *cc);
    cc->n = nslots ? nslots : COUNTCACHE_SLOTS;
    cc->slots = mem_calloc(cc->n, sizeof *cc->slots);
    return cc;
}

void countcache_free(struct countcache *cc)
{
    if (!cc) return;
    free(cc->slots);
    free(cc);
}

void countcache_key_init(struct countcache_key *k)
{
    k->len = 0;
    k->too_long = false;
}

/* tag, decimal length, ':', bytes — "t5:books" — so a part can never run into the next */
static void key_part(struct countcache_key *k, char tag, const char *s, size_t len)
{
    char head[24];
    int h = snprintf(head, sizeof head, "%c%zu:", tag, len);
    if (k->too_long || (size_t)h + len > sizeof k->data - k->len) {
        k->too_long = true;
        return;
    }
    memcpy(k->data + k->len, head, (size_t)h);
    if (len) memcpy(k->data + k->len + h, s, len);
    k->len += (size_t)h + len;
}

void countcache_key_text(struct countcache_key *k, const char *s, size_t len)
{
    key_part(k, 't', s, len);
}

void countcache_key_param(struct countcache_key *k, const struct db_param *p)
{
    char num[24];
    int n;
    switch (p->type) {
    case DBP_NULL: key_part(k, 'n', "", 0); return;
    case DBP_INT:
        n = snprintf(num, sizeof num, "%lld", p->i);
        key_part(k, 'i', num, (size_t)n);
        return;
    case DBP_UINT:
        n = snprintf(num, sizeof num, "%llu", p->u);
        key_part(k, 'u', num, (size_t)n);
        return;
    case DBP_STR: key_part(k, 's', p->s, p->len); return;
    }
    k->too_long = true; /* an unknown type: never cache what cannot be told apart */
}

/* never 0, which marks an empty slot */
static uint64_t key_hash(const struct countcache_key *k)
{
    uint64_t h = hash_fnv1a(HASH_FNV1A_INIT, k->data, k->len);
    return h ? h : 1;
}

static struct countcache_slot *find(struct countcache *cc, const struct countcache_key *k,
                                    uint64_t h)
{
    for (size_t i = 0; i < cc->n; i++) {
        struct countcache_slot *s = &cc->slots[i];
        if (s->hash == h && s->len == k->len && !memcmp(s->key, k->data, k->len)) return s;
    }
    return NULL;
}

bool countcache_get(struct countcache *cc, const struct countcache_key *k, uint64_t gen,
                    uint64_t now_ms, uint64_t ttl_ms, long long *count)
{
    if (!cc || k->too_long || !ttl_ms) return false;
    struct countcache_slot *s = find(cc, k, key_hash(k));
    /* a clock that went backwards (it should not: CLOCK_MONOTONIC) counts as expired */
    if (!s || s->gen != gen || now_ms < s->at_ms || now_ms - s->at_ms >= ttl_ms) return false;
    s->used = ++cc->clock;
    *count = s->count;
    return true;
}

void countcache_put(struct countcache *cc, const struct countcache_key *k, uint64_t gen,
                    uint64_t now_ms, long long count)
{
    if (!cc || k->too_long) return;
    uint64_t h = key_hash(k);
    struct countcache_slot *s = find(cc, k, h);
    if (!s) {
        s = &cc->slots[0];
        for (size_t i = 0; i < cc->n && s->hash; i++)
            if (!cc->slots[i].hash || cc->slots[i].used < s->used) s = &cc->slots[i];
        s->hash = h;
        s->len = k->len;
        memcpy(s->key, k->data, k->len);
    }
    s->gen = gen;
    s->at_ms = now_ms;
    s->count = count;
    s->used = ++cc->clock;
}
