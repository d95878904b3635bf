/* runs.c — a run's birth and its manual state changes (runs.h). Never runs a step and never
 * touches a run's lease except to clear it; the runner owns the rest of the lifecycle. */
#include "runs.h"
#include "log.h"
#include "value.h"

#include <stdlib.h>
#include <string.h>

#define TX_TRIES 4

const char *runs_strerror(int status)
{
    switch (status) {
    case RUNS_OK: return "ok";
    case RUNS_E_NOT_FOUND: return "not found";
    case RUNS_E_KEY_REUSED: return "the Idempotency-Key was already used with another request";
    case RUNS_E_CONFLICT: return "the run's status does not allow this";
    case RUNS_E_INVALID: return "invalid request";
    case RUNS_E_UNAVAILABLE: return "the database is unavailable";
    case RUNS_E_BUSY: return "the database was busy with a conflicting change";
    default: return "database error";
    }
}

int runs_of_db(int db_status)
{
    switch (db_status) {
    case DB_OK: return RUNS_OK;
    case DB_UNAVAILABLE: return RUNS_E_UNAVAILABLE;
    case DB_DEADLOCK:
    case DB_LOCK_TIMEOUT:
        /* contention, not a fault: the client may retry, as after a CRUD write that met it
         * (req_db_fail). Logged (db.c logs a lock wait), since only the log says how often
         * the retries ran out. */
        if (db_status == DB_DEADLOCK) log_warn("a run's transaction deadlocked on every try");
        return RUNS_E_BUSY;
    case DB_ERROR: return RUNS_E_DB; /* db.c logged the server's error */
    default:
        log_error("a run's transaction failed (database status %d)", db_status);
        return RUNS_E_DB;
    }
}

static unsigned long long cell_ull(const struct db_result *r, size_t row, size_t col)
{
    const struct db_cell *c = db_cell(r, row, col);
    return c->s ? strtoull(c->s, NULL, 10) : 0;
}

static bool same_str(const struct db_cell *c, const char *s, size_t n)
{
    if (!s) return c->s == NULL;
    return c->s && c->len == n && memcmp(c->s, s, n) == 0;
}

/* varchar(255) holds 255 characters (Laravel's max:255 counts them too), not bytes */
static bool fits_varchar(const char *s, size_t n)
{
    return n <= RUNS_MAX_KEY || (value_utf8_valid(s, n) && value_utf8_len(s, n) <= RUNS_MAX_KEY);
}

static int check_request(const struct runs_request *req, bool event)
{
    if (event && (!req->event || !fits_varchar(req->event, req->event_len))) return RUNS_E_INVALID;
    if (req->object_id && !fits_varchar(req->object_id, req->object_id_len)) return RUNS_E_INVALID;
    if (req->idempotency_key && req->key_len > RUNS_MAX_KEY) return RUNS_E_INVALID;
    if (req->input && !json_object_is_type(req->input, json_type_object)) return RUNS_E_INVALID;
    return RUNS_OK;
}

#define KEY_SAME 1
#define KEY_REUSED 2

/* The existing run of workflow `wf` named by the key, if any: KEY_SAME (its id in *id),
 * KEY_REUSED (started by another request), 0 none, or a negative enum db_status.
 * A plain consistent read, not a locking one: the unique key (workflow_id,
 * idempotency_key) is what keeps a key to one run. Concurrent requests with the same new
 * key that each read "none" under FOR UPDATE all held the same gap lock and then
 * deadlocked on their INSERTs, every round, until the retries ran out (a 500 for most of
 * six simultaneous requests). Without it, the first INSERT wins, the others wait on its
 * row and get a duplicate when it commits, and their retry (a new transaction, so a new
 * snapshot) reads the committed run and replays it. */
static int find_keyed(struct db *db, struct arena *a, unsigned long long wf, const char *event,
                      size_t event_len, const struct runs_request *req, unsigned long long *id)
{
    struct db_param p[] = {db_uint(wf), db_str(req->idempotency_key, req->key_len)};
    struct db_result r;
    int s = db_query(db, a,
                     "SELECT id, event, triggering_object_id, context FROM workflow_runs "
                     "WHERE workflow_id = ? AND idempotency_key = ?",
                     p, 2, &r);
    if (s != DB_OK) return s;
    if (r.nrows == 0) return 0;
    if (!same_str(db_cell(&r, 0, 1), event, event_len) ||
        !same_str(db_cell(&r, 0, 2), req->object_id, req->object_id_len))
        return KEY_REUSED;
    const struct db_cell *ctx = db_cell(&r, 0, 3);
    struct json_object *stored = json_tokener_parse(ctx->s ? ctx->s : "null");
    struct json_object *input = NULL;
    json_object_object_get_ex(stored, "input", &input);
    struct json_object *empty = json_object_new_object();
    const struct json_object *want = req->input ? req->input : empty;
    bool same = input && json_object_equal(input, (struct json_object *)want);
    json_object_put(empty);
    json_object_put(stored);
    if (!same) return KEY_REUSED;
    *id = cell_ull(&r, 0, 0);
    return KEY_SAME;
}

static int insert_run(struct db *db, struct arena *a, unsigned long long wf, const char *event,
                      size_t event_len, const struct runs_request *req, unsigned long long *id)
{
    struct db_param dp[] = {db_uint(wf)};
    struct db_result r;
    int s = db_query(db, a,
                     "SELECT delay_minutes FROM workflow_steps WHERE workflow_id = ? "
                     "ORDER BY step_order, id LIMIT 1",
                     dp, 1, &r);
    if (s != DB_OK) return s;
    long long delay = r.nrows ? atoll(db_cell(&r, 0, 0)->s) : 0;
    if (delay < 0) delay = 0;

    /* {"event","object_id","input","steps":{}} */
    struct buf ctx;
    buf_init(&ctx, 0);
    buf_puts(&ctx, "{\"event\":");
    if (event)
        buf_json_str(&ctx, event, event_len);
    else
        buf_puts(&ctx, "null");
    buf_puts(&ctx, ",\"object_id\":");
    if (req->object_id)
        buf_json_str(&ctx, req->object_id, req->object_id_len);
    else
        buf_puts(&ctx, "null");
    buf_puts(&ctx, ",\"input\":");
    buf_puts(&ctx, req->input ? json_object_to_json_string_ext((struct json_object *)req->input,
                                                               JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE)
                              : "{}");
    buf_puts(&ctx, ",\"steps\":{}}");

    struct db_param p[] = {
        db_uint(wf),
        event ? db_str(event, event_len) : db_null(),
        req->object_id ? db_str(req->object_id, req->object_id_len) : db_null(),
        req->idempotency_key ? db_str(req->idempotency_key, req->key_len) : db_null(),
        db_str(delay > 0 ? "waiting" : "queued", delay > 0 ? 7 : 6),
        db_str(ctx.data, ctx.len),
        db_int(delay),
    };
    s = db_query(db, a,
                 "INSERT INTO workflow_runs (workflow_id, event, triggering_object_id, "
                 "idempotency_key, status, context, run_at, created_at, updated_at) VALUES "
                 "(?, ?, ?, ?, ?, ?, NOW(6) + INTERVAL ? MINUTE, NOW(), NOW())",
                 p, 7, &r);
    buf_free(&ctx);
    if (s == DB_OK) *id = r.insert_id;
    return s;
}

/* Create (or replay) runs of workflows wfs[0..n) in one transaction. */
static int create_runs(struct db *db, struct arena *a, const unsigned long long *wfs, size_t n,
                       const char *event, size_t event_len, const struct runs_request *req,
                       struct runs_created *out)
{
    out->ids = arena_calloc(a, (n ? n : 1) * sizeof *out->ids);
    if (!req->idempotency_key && n <= 1) {
        /* the common event: at most one run and no key to look up. Its INSERT is atomic on
         * its own and the delay read before it is a plain consistent read either way, so no
         * transaction: two round trips less per event */
        out->n = 0;
        out->replayed = false;
        for (int tries = 0; n == 1; tries++) {
            int s = insert_run(db, a, wfs[0], event, event_len, req, &out->ids[0]);
            if (s == DB_OK) {
                out->n = 1;
                break;
            }
            if (s != DB_DEADLOCK || tries + 1 >= TX_TRIES) return runs_of_db(s);
        }
        return RUNS_OK;
    }
    for (int tries = 0;; tries++) {
        out->n = 0;
        out->replayed = false;
        int s = db_begin(db);
        if (s != DB_OK) return runs_of_db(s);
        bool found = false, reused = false;
        if (req->idempotency_key)
            for (size_t i = 0; i < n; i++) {
                unsigned long long id = 0;
                s = find_keyed(db, a, wfs[i], event, event_len, req, &id);
                if (s < 0) break;
                if (s == KEY_SAME) out->ids[out->n++] = id;
                if (s == KEY_REUSED) reused = true;
                if (s) found = true;
                s = DB_OK;
            }
        if (s == DB_OK && reused) {
            db_rollback(db);
            out->n = 0;
            return RUNS_E_KEY_REUSED;
        }
        if (s == DB_OK && !found)
            for (size_t i = 0; i < n && s == DB_OK; i++) {
                s = insert_run(db, a, wfs[i], event, event_len, req, &out->ids[out->n]);
                if (s == DB_OK) out->n++;
            }
        if (s == DB_OK) s = db_commit(db);
        if (s == DB_OK) {
            out->replayed = found;
            return RUNS_OK;
        }
        db_rollback(db);
        /* a duplicate key means a concurrent request with the same key won: read again */
        if ((s == DB_DEADLOCK || s == DB_DUPLICATE) && tries + 1 < TX_TRIES) continue;
        return runs_of_db(s);
    }
}

int runs_create_for_event(struct db *db, struct arena *a, const struct runs_request *req,
                          struct runs_created *out)
{
    memset(out, 0, sizeof *out);
    int s = check_request(req, true);
    if (s) return s;
    struct db_param p[] = {db_str(req->event, req->event_len)};
    struct db_result r;
    s = db_query(db, a,
                 "SELECT id, trigger_event FROM workflows WHERE trigger_event = ? AND "
                 "is_active = 1 ORDER BY id",
                 p, 1, &r);
    if (s != DB_OK) return runs_of_db(s);
    unsigned long long *wfs = arena_calloc(a, (r.nrows ? r.nrows : 1) * sizeof *wfs);
    size_t n = 0;
    for (size_t i = 0; i < r.nrows; i++) /* the collation folds case; the contract does not */
        if (same_str(db_cell(&r, i, 1), req->event, req->event_len)) wfs[n++] = cell_ull(&r, i, 0);
    return create_runs(db, a, wfs, n, req->event, req->event_len, req, out);
}

int runs_create_for_workflow(struct db *db, struct arena *a, unsigned long long workflow_id,
                             const struct runs_request *req, struct runs_created *out)
{
    memset(out, 0, sizeof *out);
    int s = check_request(req, false);
    if (s) return s;
    struct db_param p[] = {db_uint(workflow_id)};
    struct db_result r;
    s = db_query(db, a, "SELECT id FROM workflows WHERE id = ?", p, 1, &r);
    if (s != DB_OK) return runs_of_db(s);
    if (r.nrows == 0) return RUNS_E_NOT_FOUND;
    return create_runs(db, a, &workflow_id, 1, NULL, 0, req, out);
}

/* Lock the run, check its status against `allowed` (a NULL-terminated list), apply `sql`. */
static int change(struct db *db, struct arena *a, unsigned long long run_id,
                  const char *const *allowed, const char *sql)
{
    for (int tries = 0;; tries++) {
        int s = db_begin(db);
        if (s != DB_OK) return runs_of_db(s);
        struct db_param p[] = {db_uint(run_id)};
        struct db_result r;
        s = db_query(db, a, "SELECT status FROM workflow_runs WHERE id = ? FOR UPDATE", p, 1, &r);
        if (s == DB_OK && r.nrows == 0) {
            db_rollback(db);
            return RUNS_E_NOT_FOUND;
        }
        if (s == DB_OK) {
            bool ok = false;
            for (const char *const *st = allowed; *st; st++)
                if (!strcmp(db_cell(&r, 0, 0)->s, *st)) ok = true;
            if (!ok) {
                db_rollback(db);
                return RUNS_E_CONFLICT;
            }
            s = db_query(db, a, sql, p, 1, NULL);
        }
        if (s == DB_OK) s = db_commit(db);
        if (s == DB_OK) return RUNS_OK;
        db_rollback(db);
        if (s == DB_DEADLOCK && tries + 1 < TX_TRIES) continue;
        return runs_of_db(s);
    }
}

int runs_cancel(struct db *db, struct arena *a, unsigned long long run_id)
{
    static const char *const allowed[] = {"queued", "waiting", "running", NULL};
    return change(db, a, run_id, allowed,
                  "UPDATE workflow_runs SET status = 'cancelled', finished_at = NOW(), "
                  "locked_by = NULL, locked_until = NULL, updated_at = NOW() WHERE id = ?");
}

int runs_retry(struct db *db, struct arena *a, unsigned long long run_id)
{
    static const char *const allowed[] = {"failed", "cancelled", NULL};
    return change(db, a, run_id, allowed,
                  "UPDATE workflow_runs SET status = 'queued', run_at = NOW(6), attempt = 0, "
                  "finished_at = NULL, error_message = NULL, locked_by = NULL, "
                  "locked_until = NULL, updated_at = NOW() WHERE id = ?");
}
