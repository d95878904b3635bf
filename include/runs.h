/* runs.h — creating and changing workflow runs (ENGINE.md "Lifecycle" 1, "API").
 *
 * The one place that writes a run's birth and its two manual state changes (cancel,
 * retry); the runner (runner.c) owns every other change of a run. Both the CLI
 * (`aiengine event:fire`) and the HTTP API call these functions. Errors are values
 * (enum runs_status); the caller maps them to HTTP (suggested: RUNS_E_NOT_FOUND 404,
 * RUNS_E_KEY_REUSED 422, RUNS_E_CONFLICT 409, RUNS_E_INVALID 400/422, RUNS_E_UNAVAILABLE
 * and RUNS_E_BUSY 503, RUNS_E_DB 500). Each function runs its own transaction (retried on deadlock)
 * and must be called outside one. Everything returned is allocated in the caller's arena. */
#ifndef AIENGINE_RUNS_H
#define AIENGINE_RUNS_H

#include "arena.h"
#include "buf.h"
#include "db.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

enum runs_status {
    RUNS_OK = 0,
    RUNS_E_NOT_FOUND = -1,   /* no such workflow (manual run) or run (cancel/retry) */
    RUNS_E_KEY_REUSED = -2,  /* the Idempotency-Key already names runs of another request */
    RUNS_E_CONFLICT = -3,    /* cancel of a finished run, retry of one not failed/cancelled */
    RUNS_E_INVALID = -4,     /* an argument breaks the rules below (see runs_request) */
    RUNS_E_UNAVAILABLE = -5, /* the database is unreachable; try again later */
    RUNS_E_DB = -6,          /* anything else the database refused (logged) */
    RUNS_E_BUSY = -7,        /* a deadlock on every try, or a lock wait that timed out */
};

/* Longest Idempotency-Key in bytes; event and object_id may have this many characters (the
 * columns' varchar(255)). */
#define RUNS_MAX_KEY 255

/* What starts runs: the body of POST /api/events or POST /api/workflows/{id}/runs. */
struct runs_request {
    const char *event; /* required for events; ignored (stored as NULL) for a manual run */
    size_t event_len;
    const char *object_id; /* NULL: none */
    size_t object_id_len;
    const struct json_object *input; /* the request's `context`: an object, or NULL for {} */
    const char *idempotency_key;     /* NULL: none */
    size_t key_len;
};

/* The runs a request started, or — replayed — the ones its Idempotency-Key already named
 * (then nothing was created). ids are in workflow id order, in the caller's arena. */
struct runs_created {
    unsigned long long *ids;
    size_t n;
    bool replayed;
};

/* One run per active workflow whose trigger_event equals req->event byte for byte (the
 * column's collation is case-insensitive; the comparison here is not), by workflow id;
 * none is fine (n = 0). Each run is `queued` with run_at now, or `waiting` with run_at now +
 * the first step's delay_minutes, and its context is {"event","object_id","input","steps":{}}.
 *
 * Idempotency-Key: one namespace per workflow (unique (workflow_id, idempotency_key)). If
 * any matching workflow already has a run with the key, nothing is created: when every such
 * run was started by the same request (same event, object_id and input — compared with the
 * stored columns and the context's "input", which no step changes) the answer is those runs
 * with replayed = true, otherwise RUNS_E_KEY_REUSED. Concurrent requests with one key are
 * serialised by the unique key: the loser re-reads and replays. */
int runs_create_for_event(struct db *db, struct arena *a, const struct runs_request *req,
                          struct runs_created *out);

/* One run of workflow `workflow_id`, active or not (a test run); event is NULL. The same
 * Idempotency-Key rules, in the same namespace (a key used by an event run of this workflow
 * is RUNS_E_KEY_REUSED here, since the event differs). RUNS_E_NOT_FOUND: no such workflow. */
int runs_create_for_workflow(struct db *db, struct arena *a, unsigned long long workflow_id,
                             const struct runs_request *req, struct runs_created *out);

/* `cancelled`, finished_at now, lease cleared. RUNS_E_CONFLICT if it is already succeeded,
 * failed or cancelled. A step in flight is then discarded by the runner's fenced commit. */
int runs_cancel(struct db *db, struct arena *a, unsigned long long run_id);

/* Back to `queued` at the step after its progress cursor: run_at now (no delay re-applied),
 * attempt 0, finished_at and error_message cleared. RUNS_E_CONFLICT unless failed or
 * cancelled. */
int runs_retry(struct db *db, struct arena *a, unsigned long long run_id);

/* A message for a status, for logs and the CLI ("the Idempotency-Key …"). Static. */
const char *runs_strerror(int status);

/* The runs status for an enum db_status a transaction ended with once its retries were
 * spent: DB_OK → RUNS_OK; unreachable → RUNS_E_UNAVAILABLE; a deadlock or a lock wait
 * timeout → RUNS_E_BUSY (a spent deadlock is logged here); anything else → RUNS_E_DB. */
int runs_of_db(int db_status);

#endif
