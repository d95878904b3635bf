/* migrate.h — db/migrations/NNNN_name.up.sql / .down.sql, applied in file-name order and
 * recorded in Laravel's `migrations` table (id, migration, batch). */
#ifndef AIENGINE_MIGRATE_H
#define AIENGINE_MIGRATE_H

#include "config.h"

#include <stddef.h>

struct migration_file {
    char *name; /* "0003_create_workflows_table" */
    char *up_path, *down_path;
};

/* List the migrations in `dir`, sorted by name. Every NNNN_*.up.sql needs its .down.sql and
 * a four-digit prefix; numbers must be unique. Returns the count and *out (free with
 * migrate_files_free), or -1 with a reason in err. */
int migrate_list(const char *dir, struct migration_file **out, char *err, size_t errlen);
void migrate_files_free(struct migration_file *files, int n);

/* Split a SQL script into statements at ';' ending a line. Returns the count; each
 * statement is written into *out (caller frees each and the array). Comment-only and
 * blank pieces are dropped. */
int migrate_split(const char *sql, char ***out);

/* CLI commands; return the process exit code. */
int migrate_up(const struct config *cfg);
int migrate_status(const struct config *cfg);
int migrate_rollback(const struct config *cfg);

#endif
