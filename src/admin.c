/* admin.c — user:create, token:create, token:list, token:revoke. The plain-text token is
 * printed once, alone on stdout, so scripts can capture it; it is never stored or logged. */
#include "admin.h"
#include "arena.h"
#include "auth.h"
#include "cli.h"
#include "db.h"

#include <crypt.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

enum { UC_NAME, UC_EMAIL, UC_PASSWORD };
static const struct cli_opt user_create_opts[] = {
    [UC_NAME] = {"name", "NAME", true, "the user's name"},
    [UC_EMAIL] = {"email", "EMAIL", true, "the user's e-mail address (unique)"},
    [UC_PASSWORD] = {"password", "PASSWORD", false,
                     "a Studio sign-in password, 8-72 bytes; - reads one line from stdin "
                     "(default: random and unknown, tokens only)"},
    {NULL, NULL, false, NULL},
};
const struct cli_command admin_cmd_user_create = {
    "user:create",
    NULL,
    0,
    0,
    user_create_opts,
    "Create a user (the owner of tokens). Prints the new user's id."};

int admin_user_create(const struct config *cfg, const struct cli_args *args)
{
    const char *name = args->opt[UC_NAME], *email = args->opt[UC_EMAIL];
    if (!name || !email || !*name || !*email) {
        fprintf(stderr, "usage: aiengine user:create --name NAME --email EMAIL [--password -]\n");
        return 2;
    }
    /* "--password -" reads one line from stdin, so the password stays out of ps and shell
     * history; a literal value is accepted for scripts that already hold it */
    const char *pwopt = args->opt[UC_PASSWORD];
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
    if (auth_token_secret(secret) || !crypt_gensalt_rn("$2y$", 10, NULL, 0, salt, sizeof salt)) {
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

enum { TC_EMAIL, TC_NAME, TC_ABILITIES, TC_EXPIRES_IN };
static const struct cli_opt token_create_opts[] = {
    [TC_EMAIL] = {"email", "EMAIL", true, "the user the token belongs to"},
    [TC_NAME] = {"name", "NAME", true, "a name for the token (what it is for)"},
    [TC_ABILITIES] = {"abilities", "read,write,trigger", false,
                      "comma-separated abilities (default *: everything)"},
    [TC_EXPIRES_IN] = {"expires-in", "30d", false,
                       "lifetime: 30d, 12h, 15m or 90s (default: never expires)"},
    {NULL, NULL, false, NULL},
};
const struct cli_command admin_cmd_token_create = {
    "token:create",
    NULL,
    0,
    0,
    token_create_opts,
    "Create a personal access token (abilities: * by default, or read, write and trigger — "
    "trigger alone starts runs and can do nothing else); prints it once, alone on stdout."};

int admin_token_create(const struct config *cfg, const struct cli_args *args)
{
    const char *email = args->opt[TC_EMAIL], *name = args->opt[TC_NAME];
    const char *abil = args->opt[TC_ABILITIES], *exp = args->opt[TC_EXPIRES_IN];
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
    char token[AUTH_TOKEN_MAX];
    unsigned long long id;
    int s = auth_token_issue(db, &a, uid, name, abilities, seconds, token, &id);
    if (s == AUTH_NO_RANDOMNESS) {
        fprintf(stderr, "error: no randomness available\n");
        goto out;
    }
    if (s != DB_OK) {
        fprintf(stderr, "error: %s\n", db_error_message(db));
        goto out;
    }
    printf("%s\n", token);
    OPENSSL_cleanse(token, sizeof token);
    rc = 0;
out:
    arena_free(&a);
    db_free(db);
    return rc;
}

static const struct cli_opt token_list_opts[] = {
    {"email", "EMAIL", false, "only the tokens of this user"},
    {NULL, NULL, false, NULL},
};
const struct cli_command admin_cmd_token_list = {
    "token:list", NULL, 0, 0, token_list_opts, "List tokens (never their secrets)."};

int admin_token_list(const struct config *cfg, const struct cli_args *args)
{
    const char *email = args->opt[0];
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

const struct cli_command admin_cmd_token_revoke = {
    "token:revoke",
    "ID",
    1,
    1,
    NULL,
    "Delete a token; it stops working within auth.token_cache_seconds."};

int admin_token_revoke(const struct config *cfg, const struct cli_args *args)
{
    char *end = NULL;
    unsigned long long id = strtoull(args->arg[0], &end, 10);
    if (!id || *end || args->arg[0][0] == '-') {
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
