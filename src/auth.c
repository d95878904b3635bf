/* auth.c — bearer-token authentication compatible with Laravel Sanctum's
 * personal_access_tokens. Secrets are never stored or logged; only SHA-256 hashes are
 * compared, in constant time, and an unknown id costs the same hash and compare as a wrong
 * secret so the two cannot be told apart. */
#include "auth.h"
#include "config.h"
#include "db.h"
#include "digest.h"
#include "log.h"
#include "mono.h"
#include "req.h"
#include "value.h"

#include <json-c/json.h>
#include <limits.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define AUTH_CACHE_SLOTS 64
#define AUTH_FAILED_SLOTS 256
#define AUTH_MAX_TOKEN 512
#define NEVER LLONG_MIN

/* Cache ages are measured on the monotonic clock (mono_seconds): a wall clock stepped back
 * must not keep a revoked token alive. Only expires_at, a wall time from the database, is
 * compared with time(). */
struct cached_token {
    struct auth_token tok;
    char hash[65];               /* sha256 hex of the secret, as stored */
    bool by_hash;                /* looked up without an id (legacy form) */
    long long checked_at;        /* when the row was last read (monotonic s) */
    time_t expires_at;           /* wall clock; 0: never */
    long long last_used_written; /* monotonic s; NEVER */
    bool used;
};

/* A token that failed to authenticate (no such row, wrong secret, owner gone), so that
 * the same bad token again costs no query for token_cache_seconds. Direct-mapped by its
 * hash: a fixed 256 entries per worker, whatever a flood of distinct tokens does. */
struct failed_token {
    bool used, has_id;
    unsigned long long id;
    char hash[65];
    long long at; /* monotonic s */
};

struct auth_cache {
    struct cached_token slots[AUTH_CACHE_SLOTS];
    struct failed_token failed[AUTH_FAILED_SLOTS];
};

static struct failed_token *failed_slot(struct auth_cache *ac, bool has_id, unsigned long long id,
                                        const char *hash)
{
    unsigned long h = 0; /* the first 32 bits of the (lowercase hex) hash */
    for (int i = 0; i < 8; i++)
        h = h << 4 | (unsigned long)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    if (has_id) h ^= (unsigned long)(id * 0x9E3779B97F4A7C15ULL >> 32);
    return &ac->failed[h % AUTH_FAILED_SLOTS];
}

/* Whether this exact token failed less than `ttl` seconds ago. */
static bool failed_recently(struct auth_cache *ac, bool has_id, unsigned long long id,
                            const char *hash, long long now, int ttl)
{
    const struct failed_token *f = failed_slot(ac, has_id, id, hash);
    return f->used && now - f->at < ttl && f->has_id == has_id && (!has_id || f->id == id) &&
           auth_equal(f->hash, hash, 64);
}

static void remember_failure(struct auth_cache *ac, bool has_id, unsigned long long id,
                             const char *hash, long long now)
{
    struct failed_token *f = failed_slot(ac, has_id, id, hash);
    f->used = true;
    f->has_id = has_id;
    f->id = has_id ? id : 0;
    memcpy(f->hash, hash, 65);
    f->at = now;
}

struct auth_cache *auth_cache_new(void)
{
    return mem_calloc(1, sizeof(struct auth_cache));
}

static void slot_clear(struct cached_token *t)
{
    for (size_t i = 0; i < t->tok.nabilities; i++) free(t->tok.abilities[i]);
    free(t->tok.abilities);
    memset(t, 0, sizeof *t);
}

void auth_cache_free(struct auth_cache *ac)
{
    if (!ac) return;
    for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++) slot_clear(&ac->slots[i]);
    free(ac);
}

int auth_parse_bearer(const char *header, bool *has_id, unsigned long long *id, const char **secret,
                      size_t *secret_len)
{
    *has_id = false;
    *id = 0;
    if (!header || strncasecmp(header, "bearer", 6) || (header[6] != ' ' && header[6] != '\t'))
        return -1;
    const char *t = header + 6;
    while (*t == ' ' || *t == '\t') t++;
    size_t n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\t')) n--;
    if (n == 0 || n > AUTH_MAX_TOKEN) return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f) return -1;
    const char *bar = memchr(t, '|', n);
    if (bar) {
        size_t idlen = (size_t)(bar - t);
        if (idlen == 0 || idlen > 19) return -1;
        unsigned long long v = 0;
        for (size_t i = 0; i < idlen; i++) {
            if (t[i] < '0' || t[i] > '9') return -1;
            v = v * 10 + (unsigned long long)(t[i] - '0');
        }
        if (v == 0) return -1;
        *has_id = true;
        *id = v;
        *secret = bar + 1;
        *secret_len = n - idlen - 1;
        if (*secret_len == 0) return -1;
    } else {
        *secret = t;
        *secret_len = n;
    }
    return 0;
}

void auth_sha256_hex(const char *s, size_t n, char out[65])
{
    digest_sha256_hex(s, n, out);
}

bool auth_equal(const char *a, const char *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

bool auth_can(const struct auth_token *t, const char *ability)
{
    if (!t) return false;
    if (!ability || t->all) return true;
    for (size_t i = 0; i < t->nabilities; i++)
        if (!strcmp(t->abilities[i], ability)) return true;
    return false;
}

int auth_parse_abilities(const char *json, char ***out)
{
    *out = NULL;
    if (!json) return 0;
    json_object *o = json_tokener_parse(json);
    if (!o || !json_object_is_type(o, json_type_array)) {
        if (o) json_object_put(o);
        return -1;
    }
    size_t n = json_object_array_length(o);
    char **list = mem_calloc(n ? n : 1, sizeof *list);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(o, i);
        if (json_object_is_type(it, json_type_string))
            list[k++] = mem_strdup(json_object_get_string(it));
    }
    json_object_put(o);
    *out = list;
    return (int)k;
}

/* "2026-11-26 15:40:44" (UTC, as the session reads it) → epoch */
static time_t parse_utc(const char *s)
{
    long long t;
    return s && value_date_epoch(s, strlen(s), &t) == 0 ? (time_t)t : 0;
}

static int unauthenticated(struct ctx *c)
{
    return req_fail(c, REQ_E_UNAUTHENTICATED, NULL);
}

/* Read the token row and fill the slot. Returns 1 found and valid, 0 not (401), <0 db. */
static int load_row(struct ctx *c, struct cached_token *slot, bool has_id, unsigned long long id,
                    const char *hash)
{
    struct db_result res;
    struct db_param p = has_id ? db_uint(id) : db_str(hash, 64);
    const char *sql =
        has_id ? "SELECT t.`id`, t.`token`, t.`abilities`, t.`expires_at`, t.`tokenable_id`, "
                 "u.`id` FROM `personal_access_tokens` t LEFT JOIN `users` u ON "
                 "t.`tokenable_type` = 'App\\\\Models\\\\User' AND u.`id` = t.`tokenable_id` "
                 "WHERE t.`id` = ?"
               : "SELECT t.`id`, t.`token`, t.`abilities`, t.`expires_at`, t.`tokenable_id`, "
                 "u.`id` FROM `personal_access_tokens` t LEFT JOIN `users` u ON "
                 "t.`tokenable_type` = 'App\\\\Models\\\\User' AND u.`id` = t.`tokenable_id` "
                 "WHERE t.`token` = ?";
    int s = db_query(c->db, c->arena, sql, &p, 1, &res);
    if (s != DB_OK) return s;
    /* compare against a dummy when the row is missing, so both cases cost the same */
    const char *stored = "0000000000000000000000000000000000000000000000000000000000000000";
    bool found = res.nrows == 1 && db_cell(&res, 0, 1)->s && db_cell(&res, 0, 1)->len == 64;
    if (found) stored = db_cell(&res, 0, 1)->s;
    bool match = auth_equal(stored, hash, 64);
    if (!found || !match) return 0;
    if (!db_cell(&res, 0, 5)->s) return 0; /* the owner is gone: Sanctum answers 401 too */
    unsigned long long row_id = strtoull(db_cell(&res, 0, 0)->s, NULL, 10);
    /* refreshing the same token keeps when last_used_at was last written, so the write
     * stays at most once per last_used_interval, not once per cache refresh */
    long long written = slot->used && slot->tok.id == row_id ? slot->last_used_written : NEVER;
    slot_clear(slot);
    slot->used = true;
    slot->last_used_written = written;
    slot->tok.id = row_id;
    slot->tok.user_id = strtoull(db_cell(&res, 0, 4)->s, NULL, 10);
    memcpy(slot->hash, hash, 65);
    slot->by_hash = !has_id;
    int na = auth_parse_abilities(db_cell(&res, 0, 2)->s, &slot->tok.abilities);
    if (na < 0) {
        log_warn("token %llu has unreadable abilities; treating as none", slot->tok.id);
        na = 0;
    }
    slot->tok.nabilities = (size_t)na;
    for (size_t i = 0; i < slot->tok.nabilities; i++)
        if (!strcmp(slot->tok.abilities[i], "*")) slot->tok.all = true;
    slot->expires_at = parse_utc(db_cell(&res, 0, 3)->s);
    slot->checked_at = mono_seconds();
    return 1;
}

int auth_authenticate(struct ctx *c)
{
    bool has_id;
    unsigned long long id;
    const char *secret;
    size_t secret_len;
    if (auth_parse_bearer(c->req->authorization, &has_id, &id, &secret, &secret_len))
        return unauthenticated(c);
    char hash[65];
    auth_sha256_hex(secret, secret_len, hash);

    struct auth_cache *ac = c->tokens;
    long long now = mono_seconds();
    int ttl = c->cfg->token_cache_seconds;
    struct cached_token *slot = NULL, *victim = &ac->slots[0];
    for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++) {
        struct cached_token *t = &ac->slots[i];
        if (!t->used) {
            if (victim->used) victim = t;
            continue;
        }
        bool same = has_id ? (!t->by_hash && t->tok.id == id) : t->by_hash;
        if (same && auth_equal(t->hash, hash, 64)) {
            slot = t;
            break;
        }
        if (victim->used && t->checked_at < victim->checked_at) victim = t;
    }
    /* a cached verdict is trusted for token_cache_seconds, then the row is read again, so
     * revocation and expiry changes take effect within that bound */
    if (!slot && failed_recently(ac, has_id, id, hash, now, ttl)) return unauthenticated(c);
    if (!slot || now - slot->checked_at >= ttl) {
        struct cached_token *target = slot ? slot : victim;
        int r = load_row(c, target, has_id, id, hash);
        if (r < 0) return req_db_fail(c, r);
        if (r == 0) {
            if (slot) slot_clear(slot);
            if (ttl > 0) remember_failure(ac, has_id, id, hash, now);
            return unauthenticated(c);
        }
        slot = target;
    }
    if (!slot || (slot->expires_at && slot->expires_at <= time(NULL))) return unauthenticated(c);
    if (c->cfg->last_used_interval >= 0 &&
        (slot->last_used_written == NEVER ||
         now - slot->last_used_written >= c->cfg->last_used_interval)) {
        struct db_param p = db_uint(slot->tok.id);
        int s = db_query(c->db, c->arena,
                         "UPDATE `personal_access_tokens` SET `last_used_at` = CURRENT_TIMESTAMP "
                         "WHERE `id` = ?",
                         &p, 1, NULL);
        if (s == DB_OK) slot->last_used_written = now;
    }
    c->token = &slot->tok;
    return 0;
}

static unsigned long crc32b(const unsigned char *s, size_t n)
{
    unsigned long crc = 0xffffffffUL;
    for (size_t i = 0; i < n; i++) {
        crc ^= s[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320UL & (0UL - (crc & 1)));
    }
    return crc ^ 0xffffffffUL;
}

int auth_token_secret(char out[49])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[64];
    size_t k = 0;
    while (k < 40) {
        if (RAND_bytes(rnd, sizeof rnd) != 1) return -1;
        for (size_t i = 0; i < sizeof rnd && k < 40; i++)
            if (rnd[i] < 248) out[k++] = alphabet[rnd[i] % 62]; /* 248 = 4*62: no bias */
    }
    uint32_t crc = (uint32_t)crc32b((const unsigned char *)out, 40);
    snprintf(out + 40, 9, "%08" PRIx32, crc);
    return 0;
}

int auth_token_issue(struct db *db, struct arena *a, unsigned long long uid, const char *name,
                     const char *abilities, long long seconds, char token[AUTH_TOKEN_MAX],
                     unsigned long long *id)
{
    char secret[49], hash[65];
    if (auth_token_secret(secret)) return AUTH_NO_RANDOMNESS;
    auth_sha256_hex(secret, 48, hash);
    struct db_param p[5] = {db_uint(uid), db_str(name, strlen(name)), db_str(hash, 64),
                            db_str(abilities, strlen(abilities)),
                            seconds > 0 ? db_int(seconds) : db_null()};
    struct db_result res;
    int s = db_query(db, a,
                     "INSERT INTO `personal_access_tokens` (`tokenable_type`, `tokenable_id`, "
                     "`name`, `token`, `abilities`, `expires_at`, `created_at`, `updated_at`) "
                     "VALUES ('App\\\\Models\\\\User', ?, ?, ?, ?, "
                     "CURRENT_TIMESTAMP + INTERVAL ? SECOND, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                     p, 5, &res);
    if (s == DB_OK) {
        snprintf(token, AUTH_TOKEN_MAX, "%llu|%s", res.insert_id, secret);
        *id = res.insert_id;
    }
    OPENSSL_cleanse(secret, sizeof secret);
    return s;
}
