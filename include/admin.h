/* admin.h — the user and token commands of the CLI (artisan-style). Tokens are created the
 * way Laravel Sanctum creates them (40 random characters plus their CRC32, stored as the
 * SHA-256 hex), so tokens move freely between this service and a Laravel install. */
#ifndef AIENGINE_ADMIN_H
#define AIENGINE_ADMIN_H

#include "config.h"

#include <stddef.h>

/* Each returns the process exit code; argv are the options after the command name. */
int admin_user_create(const struct config *cfg, int argc, char **argv);
int admin_token_create(const struct config *cfg, int argc, char **argv);
int admin_token_list(const struct config *cfg, int argc, char **argv);
int admin_token_revoke(const struct config *cfg, int argc, char **argv);

/* Shared by the CLI's commands (engine_cli.c too): the value of option `name` given as
 * "--name value" or "--name=value" (a pointer into argv, or NULL), and a connected
 * database handle (the caller frees it with db_free) or NULL after a message on stderr. */
const char *admin_opt(int argc, char **argv, const char *name);
struct db *admin_open_db(const struct config *cfg);

/* "30d", "12h", "15m", "90s" → seconds; -1 when malformed or over ten years. */
long long admin_parse_duration(const char *s);
/* Sanctum's plain-text secret: 40 random [A-Za-z0-9] + crc32b hex. out needs 49 bytes. */
int admin_token_secret(char out[49]);
/* "read,write" → validated JSON list '["read","write"]' into out. -1 on a bad name. */
int admin_abilities_json(const char *csv, char *out, size_t outlen);

#endif
