/* master.h — `aiengine serve`: binds the FastCGI socket and supervises the workers with
 * supervise.h (restart with back-off, reload etc/ on SIGHUP — refusing a config that does
 * not compile — and drain on SIGTERM/SIGINT). */
#ifndef AIENGINE_MASTER_H
#define AIENGINE_MASTER_H

#include "config.h"

/* Takes ownership of cfg. Runs until SIGTERM/SIGINT; returns the exit code. */
int master_run(const char *etc_dir, struct config *cfg);

/* Open the listening socket for "host:port", ":port" or a unix path (given `mode`, e.g.
 * 0660), non-blocking. Returns the fd or -1 (errno set). A stale unix socket file is
 * removed first. */
int master_listen(const char *address, int backlog, unsigned mode);

#endif
