/* runs_api.h — the engine's HTTP handlers that are not plain CRUD (ENGINE.md "API"):
 * starting runs from an event or by hand, and a run's cancel and retry.
 *
 * Each takes the request context (route matched, token checked, body parsed for the two
 * starting POSTs) and either fills c->out/c->status (and Location, Idempotent-Replayed) or
 * sets c->err. They validate the body, call down into runs.h for the state change, and
 * serialise the runs through the route's resource declaration (eager.c/repr.c), so the
 * representation is the same as GET /api/workflow-runs/{id}. enum runs_status becomes a
 * REQ_E_* kind here; nothing in here knows an HTTP status but the success codes. Reading,
 * listing and the logs route are the generic CRUD handlers. */
#ifndef AIENGINE_RUNS_API_H
#define AIENGINE_RUNS_API_H

#include "req.h"

/* POST /api/events: 202 {"data":[run, ...]} (one per active workflow with that trigger). */
int runs_api_trigger_event(struct ctx *c);
/* POST /api/workflows/{id}/runs: 201 one run with Location. */
int runs_api_start_run(struct ctx *c);
/* POST /api/workflow-runs/{id}/cancel and /retry: 200 the run as it is now. */
int runs_api_cancel(struct ctx *c);
int runs_api_retry(struct ctx *c);

#endif
