/* envfile.h — KEY=VALUE files of AIENGINE_* defaults (the shape of systemd's
 * EnvironmentFile and Laravel's .env). `make run` writes var/aiengine.env with its private
 * database's socket and password; the CLI started in that checkout reads it, so the
 * README's commands reach that database with no exports. The environment always wins. */
#ifndef AIENGINE_ENVFILE_H
#define AIENGINE_ENVFILE_H

#include <stddef.h>

/* Called for each KEY=VALUE line; key and value are NUL-terminated copies the callee may
 * not keep. */
typedef void (*envfile_fn)(const char *key, const char *value, void *ctx);

/* Parses text[0..len): blank lines, lines starting with '#', and AIENGINE_NAME=value (the
 * value is everything after '=', taken literally, without quotes or escapes). Returns 0, or
 * the 1-based number of the first malformed line (nothing is reported for any line then). */
int envfile_parse(const char *text, size_t len, envfile_fn fn, void *ctx);

/* setenv() every variable of the file at path that is not set already. Returns 1 when
 * applied, 0 when there is no such file, -1 after a "path:line: ..." message on stderr. */
int envfile_apply(const char *path);

#endif
