/* ratelimit.c — the limiter arithmetic (ratelimit.h): rate strings, fixed windows and the
 * lock-free slot table. Knows nothing about HTTP or where the table lives; stats.c maps it
 * and app.c's hook (limit.c) turns a verdict into headers or a 429. Must never take a lock:
 * the table is shared by processes that can be SIGKILLed at any instruction. */
#include "ratelimit.h"
#include "hash.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned seconds;
} units[] = {
    {"s", 1},       {"sec", 1},  {"second", 1},  {"m", 60},    {"min", 60},
    {"minute", 60}, {"h", 3600}, {"hour", 3600}, {"d", 86400}, {"day", 86400},
};

int ratelimit_parse_rate(const char *s, unsigned *limit, unsigned *window)
{
    if (!s || !isdigit((unsigned char)*s)) return -1;
    char *end;
    unsigned long n = strtoul(s, &end, 10);
    if (*end != '/' || n < 1 || n > 1000000000UL) return -1;
    const char *p = end + 1;
    unsigned long mult = 1;
    if (isdigit((unsigned char)*p)) {
        mult = strtoul(p, &end, 10);
        if (mult < 1 || mult > 1000000UL) return -1;
        p = end;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(p, units[i].name)) {
            unsigned long long w = (unsigned long long)mult * units[i].seconds;
            if (w > 366ULL * 86400) return -1;
            *limit = (unsigned)n;
            *window = (unsigned)w;
            return 0;
        }
    return -1;
}

static int add_rule(struct ratelimit_conf *out, const char *name, size_t name_len, const char *rate,
                    char *why, size_t why_len)
{
    if (!name_len || name_len >= sizeof out->rules[0].ability) {
        snprintf(why, why_len, "'%.*s' is not an ability name", (int)name_len, name);
        return -1;
    }
    for (size_t i = 0; i < out->n; i++)
        if (strlen(out->rules[i].ability) == name_len &&
            !strncmp(out->rules[i].ability, name, name_len)) {
            snprintf(why, why_len, "'%.*s' is limited twice", (int)name_len, name);
            return -1;
        }
    if (out->n == RATELIMIT_MAX_RULES) {
        snprintf(why, why_len, "at most %d rate limits", RATELIMIT_MAX_RULES);
        return -1;
    }
    struct ratelimit_rule *r = &out->rules[out->n];
    if (ratelimit_parse_rate(rate, &r->limit, &r->window)) {
        snprintf(why, why_len,
                 "rate limit of '%.*s' must look like 1200/min (units s, min, hour, day)",
                 (int)name_len, name);
        return -1;
    }
    memcpy(r->ability, name, name_len);
    r->ability[name_len] = '\0';
    out->n++;
    return 0;
}

int ratelimit_load(struct yconf *y, yaml_node_t *node, const char *env, struct ratelimit_conf *out,
                   struct config_error *err)
{
    memset(out, 0, sizeof *out);
    char why[160];
    const char *e = env ? getenv(env) : NULL;
    if (e) {
        const char *p = e;
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            char item[128];
            if (n >= sizeof item) n = sizeof item - 1;
            memcpy(item, p, n);
            item[n] = '\0';
            char *eq = strchr(item, '=');
            char *name = item;
            while (*name == ' ') name++;
            if (!eq) {
                yconf_errorf(err, "%s: '%s' must be ability=rate, e.g. read=1200/min", env, item);
                return -1;
            }
            *eq = '\0';
            if (add_rule(out, name, strlen(name), eq + 1, why, sizeof why)) {
                yconf_errorf(err, "%s: %s", env, why);
                return -1;
            }
            if (!comma) break;
            p = comma + 1;
        }
        return 0;
    }
    if (!node) return 0;
    if (node->type != YAML_MAPPING_NODE) {
        yconf_error(y, node, err, "'rate_limits' must be a mapping of ability: rate");
        return -1;
    }
    for (yaml_node_pair_t *pr = node->data.mapping.pairs.start; pr < node->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(&y->doc, pr->value);
        const char *ks = yconf_scalar(k), *vs = yconf_scalar(v);
        if (!ks || !vs || add_rule(out, ks, strlen(ks), vs, why, sizeof why)) {
            yconf_error(y, v ? v : k, err, "%s", ks && vs ? why : "rate limits are ability: rate");
            return -1;
        }
    }
    return 0;
}

const struct ratelimit_rule *ratelimit_find(const struct ratelimit_conf *rc, const char *ability)
{
    if (!ability) return NULL;
    for (size_t i = 0; i < rc->n; i++)
        if (!strcmp(rc->rules[i].ability, ability)) return &rc->rules[i];
    return NULL;
}

uint64_t ratelimit_window_end(uint64_t now, unsigned window)
{
    return (now / window + 1) * window;
}

uint64_t ratelimit_key(const char *what, const char *id)
{
    /* over "what\0id": different kinds never share a key by concatenation */
    if (!id) id = "";
    uint64_t h = hash_fnv1a(HASH_FNV1A_INIT, what, strlen(what) + 1);
    h = hash_fnv1a(h, id, strlen(id));
    return h ? h : 1;
}

#define STATE(end, count) (((uint64_t)(end) << 32) | (uint32_t)(count))
#define STATE_END(s) ((s) >> 32)
#define STATE_COUNT(s) ((uint32_t)(s))

/* The slot holding `key`, claiming a free or expired one when it has none; NULL when all
 * probed slots are live for other keys. Two workers claiming for one key at the same
 * instant can end up with two slots; the second is then never found again and expires —
 * at most one request per worker goes uncounted, which the ± workers tolerance covers. */
static struct ratelimit_slot *find_slot(struct ratelimit_slot *slots, size_t n, uint64_t key,
                                        uint64_t now, bool claim)
{
    size_t probes = n < RATELIMIT_PROBES ? n : RATELIMIT_PROBES;
    for (int attempt = 0; attempt < 2; attempt++) {
        struct ratelimit_slot *free_slot = NULL;
        uint64_t free_key = 0;
        for (size_t i = 0; i < probes; i++) {
            struct ratelimit_slot *s = &slots[(key + i) % n];
            uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
            if (k == key) return s;
            if (k == 0) {
                if (!free_slot) free_slot = s, free_key = 0;
                break; /* keys are placed at the first room: none lies beyond an unused slot */
            }
            if (!free_slot &&
                STATE_END(atomic_load_explicit(&s->state, memory_order_relaxed)) <= now)
                free_slot = s, free_key = k;
        }
        if (!free_slot || !claim) return NULL;
        uint64_t old_state = atomic_load_explicit(&free_slot->state, memory_order_relaxed);
        if (free_key && STATE_END(old_state) > now) continue; /* revived meanwhile */
        if (atomic_compare_exchange_strong(&free_slot->key, &free_key, key)) {
            /* the old owner's window is over: start the new key from zero (a concurrent
             * count by the old owner may land here; it is one request) */
            atomic_compare_exchange_strong(&free_slot->state, &old_state, STATE(0, 0));
            return free_slot;
        }
        if (free_key == key) return free_slot; /* another worker claimed it for us */
    }
    return NULL;
}

bool ratelimit_hit(struct ratelimit_slot *slots, size_t n, uint64_t key, uint64_t now,
                   const struct ratelimit_rule *rule, bool count, struct ratelimit_verdict *v)
{
    uint64_t end = ratelimit_window_end(now, rule->window);
    v->limit = rule->limit;
    v->reset = (unsigned)(end - now);
    v->allowed = true;
    v->counted = false;
    v->remaining = rule->limit;
    /* a look never takes room: a key without a slot has used nothing yet */
    struct ratelimit_slot *s = n ? find_slot(slots, n, key, now, count) : NULL;
    if (!s) {
        v->counted = !count;
        return true;
    }
    v->counted = true;
    uint64_t old = atomic_load_explicit(&s->state, memory_order_relaxed);
    for (;;) {
        uint32_t used = STATE_END(old) == end ? STATE_COUNT(old) : 0;
        if (used >= rule->limit) {
            v->allowed = false;
            v->remaining = 0;
            return false;
        }
        if (!count) {
            v->remaining = rule->limit - used;
            return true;
        }
        uint64_t next = STATE(end, used + 1);
        if (atomic_compare_exchange_weak_explicit(&s->state, &old, next, memory_order_acq_rel,
                                                  memory_order_relaxed)) {
            v->remaining = rule->limit - used - 1;
            return true;
        }
    }
}
