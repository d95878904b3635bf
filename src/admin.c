/* admin.c — user:create, token:create, token:list, token:revoke. The plain-text token is
 * printed once, alone on stdout, so scripts can capture it; it is never stored or logged. */
#include "admin.h"
#include "arena.h"
#include "auth.h"
#include "db.h"

#include <crypt.h>
#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *admin_opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(name);
        if (!strncmp(argv[i], name, n)) {
            if (argv[i][n] == '=') return argv[i] + n + 1;
            if (argv[i][n] == '\0' && i + 1 < argc) return argv[i + 1];
        }
    }
    return NULL;
}

struct db *admin_open_db(const struct config *cfg)
{
    struct db *db = db_new(&cfg->db);
    if (db_connect(db) != DB_OK) {
        fprintf(stderr, "error: cannot connect to the database: %s\n", db_error_message(db));
        db_free(db);
        return NULL;
    }
    return db;
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

int admin_token_secret(char out[49])
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

long long admin_parse_duration(const char *s)
{
    if (!s || !*s) return -1;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v <= 0) return -1;
    long long mul;
    if (!strcmp(end, "d"))
        mul = 86400;
    else if (!strcmp(end, "h"))
        mul = 3600;
    else if (!strcmp(end, "m"))
        mul = 60;
    else if (!strcmp(end, "s") || !*end)
        mul = 1;
    else
        return -1;
    if (v > 10LL * 366 * 86400 / mul) return -1;
    return v * mul;
}

int admin_abilities_json(const char *csv, char *out, size_t outlen)
{
    size_t k = 0;
    if (outlen < 3) return -1;
    out[k++] = '[';
    const char *p = csv;
    int count = 0;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len > 64) return -1;
        for (size_t i = 0; i < len; i++) {
            char ch = p[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == ':' || ch == '.' ||
                  ch == '*'))
                return -1;
        }
        if (k + len + 4 >= outlen) return -1;
        if (count++) out[k++] = ',';
        out[k++] = '"';
        memcpy(out + k, p, len);
        k += len;
        out[k++] = '"';
        if (!comma) break;
        p = comma + 1;
    }
    out[k++] = ']';
    out[k] = '\0';
    return 0;
}

int admin_user_create(const struct config *cfg, int argc, char **argv)
{
    const char *name = admin_opt(argc, argv, "--name"), *email = admin_opt(argc, argv, "--email");
    if (!name || !email || !*name || !*email) {
        fprintf(stderr, "usage: aiengine user:create --name NAME --email EMAIL [--password -]\n");
        return 2;
    }
    /* "--password -" reads one line from stdin, so the password stays out of ps and shell
     * history; a literal value is accepted for scripts that already hold it */
    const char *pwopt = admin_opt(argc, argv, "--password");
    char pwline[1025];
    if (pwopt && !strcmp(pwopt, "-")) {
        if (!fgets(pwline, sizeof pwline, stdin)) pwline[0] = '\0';
        pwline[strcspn(pwline, "\r\n")] = '\0';
        pwopt = pwline;
    }
    if (pwopt && (strlen(pwopt) < 8 || strlen(pwopt) > 72)) {
        fprintf(stderr, "error: the password must be 8 to 72 bytes long (bcrypt's limit)\n");
        return 2;
    }
    const char *at = strchr(email, '@');
    if (!at || at == email || !at[1] || strchr(email, ' ') || strlen(email) > 255 ||
        strlen(name) > 255) {
        fprintf(stderr, "error: '%s' is not a valid e-mail address\n", email);
        return 2;
    }
    /* without --password the password is random and unknown (the user signs in with tokens
     * only); either way it is hashed with bcrypt ($2y$) as Laravel would store it */
    char secret[49], salt[64];
    if (admin_token_secret(secret) || !crypt_gensalt_rn("$2y$", 10, NULL, 0, salt, sizeof salt)) {
        fprintf(stderr, "error: no randomness available\n");
        return 1;
    }
    struct crypt_data cd;
    memset(&cd, 0, sizeof cd);
    const char *hash = crypt_r(pwopt ? pwopt : secret, salt, &cd);
    if (!hash || hash[0] == '*') {
        fprintf(stderr, "error: bcrypt is not available\n");
        return 1;
    }
    struct db *db = admin_open_db(cfg);
    if (!db) return 1;
    struct arena a;
    arena_init(&a, 0);
    struct db_param p[3] = {db_str(name, strlen(name)), db_str(email, strlen(email)),
                            db_str(hash, strlen(hash))};
    struct db_result res;
    int s =
        db_query(db, &a,
                 "INSERT INTO `users` (`name`, `email`, `password`, `created_at`, `updated_at`) "
                 "VALUES (?, ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                 p, 3, &res);
    int rc = 0;
    if (s == DB_DUPLICATE) {
        fprintf(stderr, "error: a user with e-mail %s already exists\n", email);
        rc = 1;
    } else if (s != DB_OK) {
        fprintf(stderr, "error: %s\n", db_error_message(db));
        rc = 1;
    } else {
        printf("%llu\n", res.insert_id);
    }
    arena_free(&a);
    db_free(db);
    return rc;
}

int admin_token_create(const struct config *cfg, int argc, char **argv)
{
    const char *email = admin_opt(argc, argv, "--email"), *name = admin_opt(argc, argv, "--name");
    const char *abil = admin_opt(argc, argv, "--abilities"),
               *exp = admin_opt(argc, argv, "--expires-in");
    if (!email || !name || !*name) {
        fprintf(stderr, "usage: aiengine token:create --email EMAIL --name NAME "
                        "[--abilities read,write,trigger] [--expires-in 30d]\n");
        return 2;
    }
    char abilities[1024];
    if (admin_abilities_json(abil ? abil : "*", abilities, sizeof abilities)) {
        fprintf(stderr, "error: abilities must be a comma-separated list of names "
                        "(letters, digits, _ - : . *)\n");
        return 2;
    }
    long long seconds = 0;
    if (exp && (seconds = admin_parse_duration(exp)) < 0) {
        fprintf(stderr, "error: --expires-in takes a duration like 30d, 12h, 15m or 90s\n");
        return 2;
    }
    struct db *db = admin_open_db(cfg);
    if (!db) return 1;
    struct arena a;
    arena_init(&a, 0);
    int rc = 1;
    struct db_result res;
    struct db_param pe = db_str(email, strlen(email));
    if (db_query(db, &a, "SELECT `id` FROM `users` WHERE `email` = ?", &pe, 1, &res) != DB_OK) {
        fprintf(stderr, "error: %s\n", db_error_message(db));
        goto out;
    }
    if (res.nrows == 0) {
        fprintf(stderr, "error: no user with e-mail %s (create one with user:create)\n", email);
        goto out;
    }
    unsigned long long uid = strtoull(db_cell(&res, 0, 0)->s, NULL, 10);
    char secret[49], hash[65];
    if (admin_token_secret(secret)) {
        fprintf(stderr, "error: no randomness available\n");
        goto out;
    }
    auth_sha256_hex(secret, 48, hash);
    struct db_param p[5] = {db_uint(uid), db_str(name, strlen(name)), db_str(hash, 64),
                            db_str(abilities, strlen(abilities)),
                            seconds ? db_int(seconds) : db_null()};
    int s = db_query(db, &a,
                     "INSERT INTO `personal_access_tokens` (`tokenable_type`, `tokenable_id`, "
                     "`name`, `token`, `abilities`, `expires_at`, `created_at`, `updated_at`) "
                     "VALUES ('App\\\\Models\\\\User', ?, ?, ?, ?, "
                     "CURRENT_TIMESTAMP + INTERVAL ? SECOND, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                     p, 5, &res);
    if (s != DB_OK) {
        fprintf(stderr, "error: %s\n", db_error_message(db));
        goto out;
    }
    printf("%llu|%s\n", res.insert_id, secret);
    rc = 0;
out:
    arena_free(&a);
    db_free(db);
    return rc;
}

int admin_token_list(const struct config *cfg, int argc, char **argv)
{
    const char *email = admin_opt(argc, argv, "--email");
    struct db *db = admin_open_db(cfg);
    if (!db) return 1;
    struct arena a;
    arena_init(&a, 0);
    struct db_result res;
    struct db_param p = email ? db_str(email, strlen(email)) : db_null();
    int s = db_query(db, &a,
                     "SELECT t.`id`, t.`name`, COALESCE(u.`email`, '-'), COALESCE(t.`abilities`, "
                     "'[]'), COALESCE(t.`last_used_at`, '-'), COALESCE(t.`expires_at`, '-'), "
                     "COALESCE(t.`created_at`, '-') FROM `personal_access_tokens` t LEFT JOIN "
                     "`users` u ON u.`id` = t.`tokenable_id` WHERE ? IS NULL OR u.`email` = ? "
                     "ORDER BY t.`id`",
                     (struct db_param[]){p, p}, 2, &res);
    int rc = 0;
    if (s != DB_OK) {
        fprintf(stderr, "error: %s\n", db_error_message(db));
        rc = 1;
    } else {
        printf("%-6s %-20s %-28s %-20s %-19s %-19s %s\n", "ID", "NAME", "USER", "ABILITIES",
               "LAST USED", "EXPIRES", "CREATED");
        for (size_t i = 0; i < res.nrows; i++)
            printf("%-6s %-20s %-28s %-20s %-19s %-19s %s\n", db_cell(&res, i, 0)->s,
                   db_cell(&res, i, 1)->s, db_cell(&res, i, 2)->s, db_cell(&res, i, 3)->s,
                   db_cell(&res, i, 4)->s, db_cell(&res, i, 5)->s, db_cell(&res, i, 6)->s);
    }
    arena_free(&a);
    db_free(db);
    return rc;
}

int admin_token_revoke(const struct config *cfg, int argc, char **argv)
{
    char *end = NULL;
    unsigned long long id = argc > 0 ? strtoull(argv[0], &end, 10) : 0;
    if (argc < 1 || !id || *end) {
        fprintf(stderr, "usage: aiengine token:revoke ID\n");
        return 2;
    }
    struct db *db = admin_open_db(cfg);
    if (!db) return 1;
    struct arena a;
    arena_init(&a, 0);
    struct db_result res;
    struct db_param p = db_uint(id);
    int s = db_query(db, &a, "DELETE FROM `personal_access_tokens` WHERE `id` = ?", &p, 1, &res);
    int rc = 0;
    if (s != DB_OK) {
        fprintf(stderr, "error: %s\n", db_error_message(db));
        rc = 1;
    } else if (res.affected == 0) {
        fprintf(stderr, "error: no token with id %llu\n", id);
        rc = 1;
    } else {
        printf("Token %llu revoked.\n", id);
    }
    arena_free(&a);
    db_free(db);
    return rc;
}
