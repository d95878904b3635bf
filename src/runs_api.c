/* runs_api.c — the handlers that start runs and change their state (runs_api.h). They read
 * the path id, the Idempotency-Key header and the body, validate with Laravel's rules, call
 * runs.h, and write the runs through the route's resource (workflow-runs in resources.yaml),
 * so a run looks the same here as in GET /api/workflow-runs/{id}. They never write a run's
 * row themselves: runs.c owns birth, cancel and retry; the runner owns everything else. */
#include "runs_api.h"
#include "config.h"
#include "db.h"
#include "eager.h"
#include "record.h"
#include "rules.h"
#include "runs.h"
#include "sqlb.h"
#include "value.h"

#include <string.h>

/* The Idempotency-Key header: NULL when absent; 1 to RUNS_MAX_KEY visible ASCII bytes (and
 * spaces) otherwise, or a bad-request error. */
static int read_key(struct ctx *c, struct runs_request *rq)
{
    const char *k = c->req->idempotency_key;
    if (!k) return 0;
    size_t n = strlen(k);
    if (n == 0 || n > RUNS_MAX_KEY)
        return req_failf(c, REQ_E_BAD_REQUEST,
                         "The Idempotency-Key header must be 1 to %d bytes long.", RUNS_MAX_KEY);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x20 || (unsigned char)k[i] > 0x7e)
            return req_fail(c, REQ_E_BAD_REQUEST,
                            "The Idempotency-Key header must be printable ASCII.");
    rq->idempotency_key = k;
    rq->key_len = n;
    return 0;
}

/* The validated body into *rq (event only when `with_event`). */
static int read_body(struct ctx *c, bool with_event, struct runs_request *rq)
{
    /* the route's body: rules were checked by the dispatcher (app.c, routes.yaml) */
    json_object *v = NULL;
    if (with_event && json_object_object_get_ex(c->body_json, "event", &v)) {
        rq->event = json_object_get_string(v);
        rq->event_len = (size_t)json_object_get_string_len(v);
    }
    if (json_object_object_get_ex(c->body_json, "object_id", &v) && v) {
        rq->object_id = json_object_get_string(v);
        rq->object_id_len = (size_t)json_object_get_string_len(v);
    }
    json_object *ctxv = NULL;
    if (json_object_object_get_ex(c->body_json, "context", &ctxv)) rq->input = ctxv;
    return 0;
}

/* enum runs_status → the request's error. `id` names the record for a not-found. */
static int runs_fail(struct ctx *c, int s, const char *what, const char *id)
{
    switch (s) {
    case RUNS_E_NOT_FOUND: return req_failf(c, REQ_E_NOT_FOUND, "No %s with id %s.", what, id);
    case RUNS_E_KEY_REUSED:
        req_invalid(c, "Idempotency-Key",
                    "The Idempotency-Key was already used with another request.");
        return -1;
    case RUNS_E_CONFLICT: return req_fail(c, REQ_E_CONFLICT, NULL);
    case RUNS_E_INVALID: req_invalid(c, "body", runs_strerror(s)); return -1;
    /* the answers (and messages) a CRUD request gets for the same database state */
    case RUNS_E_UNAVAILABLE: return req_db_fail(c, DB_UNAVAILABLE);
    case RUNS_E_BUSY: return req_db_fail(c, DB_LOCK_TIMEOUT);
    default: return req_fail(c, REQ_E_INTERNAL, NULL);
    }
}

/* The runs `ids` (created in workflow id order, so ascending) as rows of r. */
static int fetch_runs(struct ctx *c, const struct resource *r, const struct runs_created *rc,
                      struct db_result *rows)
{
    memset(rows, 0, sizeof *rows);
    if (rc->n == 0) return 0;
    struct sqlb q;
    sqlb_init(&q, c->arena);
    sqlb_printf(&q, "SELECT %s FROM `%s` WHERE `%s`", r->select_list, r->table, r->id->name);
    struct db_param *p = arena_calloc(c->arena, rc->n * sizeof *p);
    for (size_t i = 0; i < rc->n; i++) p[i] = db_uint(rc->ids[i]);
    sqlb_in_list(&q, p, rc->n);
    sqlb_printf(&q, " ORDER BY `%s`", r->id->name);
    int s = sqlb_run(&q, c->db, rows);
    return s == DB_OK ? 0 : req_db_fail(c, s);
}

static void replayed_header(struct ctx *c, const struct runs_created *rc)
{
    if (rc->replayed) buf_puts(c->headers, "Idempotent-Replayed: true\r\n");
}

int runs_api_trigger_event(struct ctx *c)
{
    const struct resource *r = c->match.route->resource;
    struct runs_request rq = {0};
    if (read_key(c, &rq) || read_body(c, true, &rq)) return -1;
    struct runs_created rc;
    int s = runs_create_for_event(c->db, c->arena, &rq, &rc);
    if (s != RUNS_OK) return runs_fail(c, s, "workflow", "");
    struct db_result rows;
    if (fetch_runs(c, r, &rc, &rows)) return -1;
    c->status = 202;
    replayed_header(c, &rc);
    buf_puts(c->out, "{\"data\":");
    if (eager_write_rows(c, r, &rows, NULL)) return -1;
    buf_putc(c->out, '}');
    return 0;
}

int runs_api_start_run(struct ctx *c)
{
    const struct resource *r = c->match.route->resource;
    const char *idtext = c->match.params[0];
    unsigned long long wf;
    if (value_parse_id(idtext, &wf))
        return req_failf(c, REQ_E_NOT_FOUND, "No workflow with id %s.", idtext);
    struct runs_request rq = {0};
    if (read_key(c, &rq) || read_body(c, false, &rq)) return -1;
    struct runs_created rc;
    int s = runs_create_for_workflow(c->db, c->arena, wf, &rq, &rc);
    if (s != RUNS_OK) return runs_fail(c, s, "workflow", idtext);
    if (rc.n != 1) return req_fail(c, REQ_E_INTERNAL, NULL);
    struct db_result row;
    if (record_fetch(c, r, rc.ids[0], false, &row)) return -1;
    if (row.nrows == 0) /* deleted with its workflow in between */
        return req_failf(c, REQ_E_NOT_FOUND, "No workflow with id %s.", idtext);
    c->status = 201;
    buf_printf(c->headers, "Location: %s/api/%s/%llu\r\n", req_base_url(c), r->name, rc.ids[0]);
    replayed_header(c, &rc);
    return eager_write_single(c, r, &row, NULL);
}

/* cancel/retry: the change, then the run as it is now. A conflict names the run's status. */
static int change(struct ctx *c, int (*fn)(struct db *, struct arena *, unsigned long long),
                  const char *refusal)
{
    const struct resource *r = c->match.route->resource;
    const char *idtext = c->match.params[0];
    unsigned long long id;
    if (value_parse_id(idtext, &id)) return record_not_found(c, r, idtext);
    int s = fn(c->db, c->arena, id);
    struct db_result row;
    if (s == RUNS_E_NOT_FOUND) return record_not_found(c, r, idtext);
    if (s != RUNS_OK && s != RUNS_E_CONFLICT) return runs_fail(c, s, r->singular_label, idtext);
    if (record_fetch(c, r, id, false, &row)) return -1;
    if (row.nrows == 0) return record_not_found(c, r, idtext);
    if (s == RUNS_E_CONFLICT) {
        const struct field *st = resource_field(r, "status");
        const struct db_cell *cell = st ? db_cell(&row, 0, resource_field_index(r, st)) : NULL;
        return req_failf(c, REQ_E_CONFLICT, "This %s is %s; %s", r->singular_label,
                         cell && cell->s ? cell->s : "finished", refusal);
    }
    c->status = 200;
    return eager_write_single(c, r, &row, NULL);
}

int runs_api_cancel(struct ctx *c)
{
    return change(c, runs_cancel, "only a queued, waiting or running run can be cancelled.");
}

int runs_api_retry(struct ctx *c)
{
    return change(c, runs_retry, "only a failed or cancelled run can be retried.");
}
