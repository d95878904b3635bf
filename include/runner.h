/* runner.h — `aiengine work`: the engine's runners (ENGINE.md "Lifecycle", "Runner").
 *
 * A master supervises engine.workers runner processes through supervise.h (respawn,
 * SIGHUP reload of aiengine.yaml and engine.yaml, SIGTERM drain). Each runner holds one
 * MariaDB connection and one libcurl multi handle, claims due runs with FOR UPDATE SKIP
 * LOCKED under a lease it keeps alive, keeps up to engine.concurrency steps in flight, and
 * writes each step's result in one transaction fenced by its lease. The pure decisions are
 * exported for the unit tests. */
#ifndef AIENGINE_RUNNER_H
#define AIENGINE_RUNNER_H

#include "config.h"
#include "engine_conf.h"
#include "handler.h"

#include <stdbool.h>
#include <stddef.h>

/* Takes ownership of cfg and ec. Runs until SIGTERM/SIGINT; returns the exit code. */
int runner_work(const char *etc_dir, struct config *cfg, struct engine_conf *ec);

/* A step's place in its workflow. */
struct runner_step_key {
    int order;
    unsigned long long id;
};

/* The index of the first step after the progress cursor in (step_order, id) order — the
 * first of all when has_cursor is false — or -1 when there is none (the run is done).
 * `steps` need not be sorted. */
long runner_next_step(const struct runner_step_key *steps, size_t n, bool has_cursor,
                      struct runner_step_key cursor);

/* What a step's result does to its run. */
enum runner_move {
    RUNNER_CONTINUE, /* stay running (keep the lease) and go on with the next step */
    RUNNER_WAIT,     /* waiting until run_at (a delay, or a retry's backoff); lease released */
    RUNNER_HANDBACK, /* queued again at once (the runner is stopping); lease released */
    RUNNER_SUCCEED,  /* no step left */
    RUNNER_FAIL,     /* a permanent failure, or the last try failed */
};

/* The log status of an outcome given the tries so far (`attempt` failed tries before this
 * one) and the policy: "SUCCESS", "RETRY" (tries left) or "FAILURE". */
const char *runner_log_status(enum step_outcome o, int attempt, const struct engine_retry *policy);

/* The move after a step whose log status is `status` ("SUCCESS", "SKIPPED", "RETRY",
 * "FAILURE"); for SUCCESS/SKIPPED, has_next and next_delay_minutes describe the step after
 * it; stopping turns a CONTINUE into a HANDBACK. */
/* The number of `?` markers a statement over n ids uses: n rounded up to a power of two (the
 * list is padded with its last id), so that few statement texts reach the statement cache. */
size_t runner_in_width(size_t n);

enum runner_move runner_move_after(const char *status, bool has_next, int next_delay_minutes,
                                   bool stopping);

#endif
