/* login.c — POST /api/auth/login and /api/auth/logout (login.h). A person signs in with the
 * e-mail and password of their users row and gets a Sanctum token (the same kind
 * `aiengine token:create` makes, so auth.c needs nothing new); signing out deletes it.
 *
 * Brute force is bounded by counting failures in login_attempts, keyed by the SHA-256 of
 * "address:<ip>" and of "email:<lowercased e-mail>", so the table never holds an address
 * or e-mail in clear. The count lives in the database, not in a worker: every worker and
 * every host behind one database sees the same count. */
#include "login.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "mem.h"

#include <crypt.h>
#include <ctype.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* A bcrypt hash of a random string at Laravel's default cost: what an unknown e-mail is
 * checked against, so that it costs one bcrypt like a known one. */
static const char dummy_hash[] = "$2y$10$QY5WYBV2jeR/27zFGPZTOuzcQvdMrsWpuog/5GT0rHjd5R7DN7/R6";

static bool is_bcrypt(const char *h)
{
    return h && strlen(h) == 60 && h[0] == '$' && h[1] == '2' && strchr("aby", h[2]) && h[3] == '$';
}

bool login_password_ok(const char *password, const char *hash)
{
    bool real = is_bcrypt(hash);
    const char *setting = real ? hash : dummy_hash;
    /* struct crypt_data is ~32 KB: off the worker's stack */
    struct crypt_data *cd = mem_calloc(1, sizeof *cd);
    const char *out = crypt_r(password, setting, cd);
    bool ok = out && strlen(out) == 60 && CRYPTO_memcmp(out, setting, 60) == 0;
    free(cd);
    return real && ok;
}

/* A field of the body, already checked against the route's `body:` rules (routes.yaml) by
 * the dispatcher: a string, or NULL when absent, null or "" (Laravel's empty-to-null). */
static const char *field_string(struct ctx *c, const char *field)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(c->body_json, field, &v) ||
        !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
        return NULL;
    return json_object_get_string(v);
}

struct limit_key {
    char hash[65];
    int max;
};

static void make_key(struct limit_key *k, const char *kind, const char *value, int max)
{
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, kind);
    for (const char *p = value; *p; p++) buf_putc(&b, (char)tolower((unsigned char)*p));
    auth_sha256_hex(b.data, b.len, k->hash);
    buf_free(&b);
    k->max = max;
}

/* Seconds until the key may try again (0: not limited), or a negative db status. */
static long long limited_for(struct ctx *c, const struct limit_key *k)
{
    struct db_param p[2] = {db_int(c->cfg->login.window_seconds), db_str(k->hash, 64)};
    struct db_result res;
    int s = db_query(c->db, c->arena,
                     "SELECT `failures`, ? - TIMESTAMPDIFF(SECOND, `window_started_at`, "
                     "CURRENT_TIMESTAMP) FROM `login_attempts` WHERE `key_hash` = ?",
                     p, 2, &res);
    if (s != DB_OK) return s;
    if (res.nrows == 0) return 0;
    long long failures = strtoll(db_cell(&res, 0, 0)->s, NULL, 10);
    long long left = strtoll(db_cell(&res, 0, 1)->s, NULL, 10);
    return failures >= k->max && left > 0 ? left : 0;
}

/* One more failure for the key: a new window when the last one is over. */
static int count_failure(struct ctx *c, const struct limit_key *k)
{
    struct db_param p[3] = {db_str(k->hash, 64), db_int(c->cfg->login.window_seconds),
                            db_int(c->cfg->login.window_seconds)};
    return db_query(
        c->db, c->arena,
        "INSERT INTO `login_attempts` (`key_hash`, `failures`, `window_started_at`) VALUES (?, 1, "
        "CURRENT_TIMESTAMP) ON DUPLICATE KEY UPDATE `failures` = IF(TIMESTAMPDIFF(SECOND, "
        "`window_started_at`, CURRENT_TIMESTAMP) >= ?, 1, `failures` + 1), `window_started_at` = "
        "IF(TIMESTAMPDIFF(SECOND, `window_started_at`, CURRENT_TIMESTAMP) >= ?, CURRENT_TIMESTAMP, "
        "`window_started_at`)",
        p, 3, NULL);
}

static int too_many(struct ctx *c, long long seconds)
{
    buf_printf(c->headers, "Retry-After: %lld\r\n", seconds);
    return req_failf(c, REQ_E_TOO_MANY,
                     "Too many sign-in attempts. Please try again in %lld seconds.", seconds);
}

int login_handle_login(struct ctx *c)
{
    const char *email = field_string(c, "email"), *password = field_string(c, "password");
    const char *device = field_string(c, "device_name");
    if (!email || !password)
        return req_fail(c, REQ_E_INTERNAL, "routes.yaml: login without body rules");

    const char *addr = c->req->remote_addr ? c->req->remote_addr : "";
    struct limit_key keys[2];
    make_key(&keys[0], "address:", addr, c->cfg->login.failures_per_address);
    make_key(&keys[1], "email:", email, c->cfg->login.failures_per_email);
    long long wait = 0;
    for (int i = 0; i < 2; i++) {
        long long w = limited_for(c, &keys[i]);
        if (w < 0) return req_db_fail(c, (int)w);
        if (w > wait) wait = w;
    }
    if (wait > 0) return too_many(c, wait);

    struct db_param pe = db_str(email, strlen(email));
    struct db_result user;
    int s = db_query(c->db, c->arena,
                     "SELECT `id`, `name`, `email`, `password` FROM `users` WHERE `email` = ?", &pe,
                     1, &user);
    if (s != DB_OK) return req_db_fail(c, s);
    const char *hash = user.nrows == 1 ? db_cell(&user, 0, 3)->s : NULL;
    if (!login_password_ok(password, hash)) {
        for (int i = 0; i < 2; i++)
            if ((s = count_failure(c, &keys[i])) != DB_OK) return req_db_fail(c, s);
        req_invalid(c, "email", "These credentials do not match our records.");
        return -1;
    }
    /* a success forgets the e-mail's failures (as Laravel's RateLimiter::clear does), not
     * the address's: one good account must not reset an attacker's budget for others */
    struct db_param pk = db_str(keys[1].hash, 64);
    s = db_query(c->db, c->arena, "DELETE FROM `login_attempts` WHERE `key_hash` = ?", &pk, 1,
                 NULL);
    if (s != DB_OK) return req_db_fail(c, s);

    const char *name = device ? device : "studio";
    unsigned long long uid = strtoull(db_cell(&user, 0, 0)->s, NULL, 10), tid;
    char token[AUTH_TOKEN_MAX];
    s = auth_token_issue(c->db, c->arena, uid, name, "[\"*\"]", c->cfg->login.token_seconds, token,
                         &tid);
    if (s == AUTH_NO_RANDOMNESS) return req_fail(c, REQ_E_INTERNAL, NULL);
    if (s != DB_OK) return req_db_fail(c, s);
    struct db_result exp;
    struct db_param pid = db_uint(tid);
    s = db_query(c->db, c->arena,
                 "SELECT DATE_FORMAT(`expires_at`, '%Y-%m-%dT%H:%i:%s.000000Z') FROM "
                 "`personal_access_tokens` WHERE `id` = ?",
                 &pid, 1, &exp);
    if (s != DB_OK) return req_db_fail(c, s);
    c->status = 200;
    buf_puts(c->out, "{\"token\":");
    buf_json_cstr(c->out, token);
    buf_puts(c->out, ",\"token_type\":\"Bearer\",\"expires_at\":");
    if (exp.nrows == 1 && db_cell(&exp, 0, 0)->s)
        buf_json_cstr(c->out, db_cell(&exp, 0, 0)->s);
    else
        buf_puts(c->out, "null");
    buf_printf(c->out, ",\"abilities\":[\"*\"],\"user\":{\"id\":%llu,\"name\":", uid);
    buf_json_cstr(c->out, db_cell(&user, 0, 1)->s);
    buf_puts(c->out, ",\"email\":");
    buf_json_cstr(c->out, db_cell(&user, 0, 2)->s);
    buf_puts(c->out, "}}");
    OPENSSL_cleanse(token, sizeof token);
    return 0;
}

int login_handle_logout(struct ctx *c)
{
    struct db_param p = db_uint(c->token->id);
    int s = db_query(c->db, c->arena, "DELETE FROM `personal_access_tokens` WHERE `id` = ?", &p, 1,
                     NULL);
    if (s != DB_OK) return req_db_fail(c, s);
    c->status = 204;
    return 0;
}
