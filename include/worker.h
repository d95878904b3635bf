/* worker.h — one pre-forked FastCGI worker: accept, handle one request at a time, repeat.
 * A worker owns its database connection and caches; it exits cleanly after
 * config->max_requests requests (the master replaces it) or on SIGTERM/SIGINT once the
 * request in flight is answered and the connections already queued are served. A client
 * gets config->request_timeout seconds to send its request, and as many to take the
 * response; then the connection is shut down. */
#ifndef AIENGINE_WORKER_H
#define AIENGINE_WORKER_H

#include "config.h"
#include "stats.h"

/* Serve on listen_fd (non-blocking, see master_listen) until told to stop. Returns the
 * process exit code. Never returns while a request is half answered; no signal interrupts
 * a request's reads or writes. Every answered request is counted in `stats` (the pool's
 * shared memory, NULL: not counted) and logged when slower than log.slow_ms. */
int worker_run(const struct config *cfg, int listen_fd, struct stats *stats);

#endif
