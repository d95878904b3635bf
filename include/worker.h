/* worker.h — one pre-forked FastCGI worker: accept, handle one request at a time, repeat.
 * A worker owns its database connection and caches; it exits cleanly after
 * config->max_requests requests (the master replaces it) or on SIGTERM/SIGINT after the
 * request in flight is answered. */
#ifndef AIENGINE_WORKER_H
#define AIENGINE_WORKER_H

#include "config.h"

/* Serve on listen_fd until told to stop. Returns the process exit code. Never returns
 * while a request is half answered. */
int worker_run(const struct config *cfg, int listen_fd);

#endif
