/* auth.h — Sanctum-compatible bearer tokens.
 *
 * "Authorization: Bearer <id>|<secret>": the row personal_access_tokens.id = <id> must hold
 * token = sha256_hex(<secret>), compared in constant time; a plain "<secret>" (Sanctum's
 * legacy form) is looked up by its hash. Abilities are the row's JSON list ("*" grants all).
 * A verified token is cached in the worker for at most auth.token_cache_seconds, which is
 * therefore the bound on how long a revoked token can still be used. */
#ifndef AIENGINE_AUTH_H
#define AIENGINE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct auth_token {
    unsigned long long id;
    unsigned long long user_id;
    bool all;         /* abilities contain "*" */
    char **abilities; /* owned by the cache */
    size_t nabilities;
};

/* Parse an Authorization header value. Scheme "Bearer" is case-insensitive, followed by
 * one or more spaces and the token. On success returns 0, sets *secret and *secret_len (into
 * `header`), and *has_id, *id when the token is "<id>|<secret>". Returns -1 when the header
 * is not a well-formed bearer token (empty, other scheme, bad id, control characters,
 * over-long). */
int auth_parse_bearer(const char *header, bool *has_id, unsigned long long *id, const char **secret,
                      size_t *secret_len);

/* Lowercase hex SHA-256 of s. */
void auth_sha256_hex(const char *s, size_t n, char out[65]);
/* Constant-time equality of two n-byte strings. */
bool auth_equal(const char *a, const char *b, size_t n);
/* Whether the token grants `ability` (NULL ability: any valid token). */
bool auth_can(const struct auth_token *t, const char *ability);
/* Parse a Sanctum abilities column ('["read","write"]'). Returns the count, or -1. Strings
 * are mem_strdup'ed into *out (caller frees each and the array). */
int auth_parse_abilities(const char *json, char ***out);

struct ctx;
struct db;
struct arena;

/* Sanctum's plain-text secret: 40 random [A-Za-z0-9] + crc32b hex. out needs 49 bytes.
 * Returns 0, or -1 when RAND_bytes fails. */
int auth_token_secret(char out[49]);

/* The longest "<id>|<secret>" auth_token_issue writes, with its NUL. */
#define AUTH_TOKEN_MAX 72
#define AUTH_NO_RANDOMNESS 1 /* auth_token_issue's status when RAND_bytes fails */

/* Issue a personal access token for user `uid` (the one INSERT that token:create and
 * POST /api/auth/login share): a fresh secret, only its SHA-256 stored; `abilities` is the
 * JSON column's text ('["*"]'); `seconds` > 0 sets expires_at that far ahead, 0 never
 * expires. On DB_OK writes "<id>|<secret>" into token (the caller's buffer, wiped by the
 * caller after use) and the row id into *id. Returns DB_OK, a negative enum db_status, or
 * AUTH_NO_RANDOMNESS. Queries run in `a`. */
int auth_token_issue(struct db *db, struct arena *a, unsigned long long uid, const char *name,
                     const char *abilities, long long seconds, char token[AUTH_TOKEN_MAX],
                     unsigned long long *id);

/* Authenticate ctx's request: on success sets c->token and returns 0; otherwise sets a
 * 401 (or 503 when the database is down) and returns -1. */
int auth_authenticate(struct ctx *c);

/* The verified-token cache: one per worker, owned by the worker and handed to requests in
 * ctx->tokens. */
struct auth_cache;
struct auth_cache *auth_cache_new(void);
void auth_cache_free(struct auth_cache *ac);

#endif
