/* admin.h — the user and token commands of the CLI (artisan-style). Tokens are created the
 * way Laravel Sanctum creates them (40 random characters plus their CRC32, stored as the
 * SHA-256 hex), so tokens move freely between this service and a Laravel install. */
#ifndef AIENGINE_ADMIN_H
#define AIENGINE_ADMIN_H

#include "cli.h"
#include "config.h"

#include <stddef.h>

/* The commands' options and help (cli.h); main.c parses argv with them before any
 * configuration is read. A new option is a row in the command's table in admin.c. */
extern const struct cli_command admin_cmd_user_create, admin_cmd_token_create, admin_cmd_token_list,
    admin_cmd_token_revoke;

/* Each returns the process exit code; args is what cli_parse found with the command above. */
int admin_user_create(const struct config *cfg, const struct cli_args *args);
int admin_token_create(const struct config *cfg, const struct cli_args *args);
int admin_token_list(const struct config *cfg, const struct cli_args *args);
int admin_token_revoke(const struct config *cfg, const struct cli_args *args);

/* Shared by the CLI's commands (engine_cli.c too): a connected database handle (the caller
 * frees it with db_free) or NULL after a message on stderr. */
struct db *admin_open_db(const struct config *cfg);

/* "30d", "12h", "15m", "90s" → seconds; -1 when malformed or over ten years. */
long long admin_parse_duration(const char *s);
/* "read,write" → validated JSON list '["read","write"]' into out. -1 on a bad name. */
int admin_abilities_json(const char *csv, char *out, size_t outlen);

#endif
