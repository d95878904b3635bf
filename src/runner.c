/* runner.c — `aiengine work` (runner.h). The master is supervise.c with runner-specific
 * hooks; a runner process is one loop over one libcurl multi handle: claim due runs, start
 * their next steps, wait for transfers, write each result in one transaction fenced by the
 * lease (… WHERE id = ? AND locked_by = ? AND status = 'running' FOR UPDATE), and keep the
 * leases alive. Database work happens between transfers, never during a callback.
 *
 * Must never: write a step's result without holding the run's lease in the same
 * transaction; follow a workflow's steps as they were at the claim (the next step is always
 * read again); apply a delay on a retry; coordinate with another runner outside the
 * database. */
#include "runner.h"
#include "ai.h"
#include "cond.h"
#include "db.h"
#include "estats.h"
#include "log.h"
#include "mono.h"
#include "supervise.h"
#include "tmpl.h"

#include <curl/curl.h>
#include <errno.h>
#include <malloc.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLAIM_BATCH 32                /* runs claimed per transaction at most */
#define COMMIT_BATCH 128              /* step results written per transaction at most */
#define CONFIG_RENDER_LIMIT (1 << 20) /* bytes of rendered step_config strings */
#define DB_RETRY_MS 500               /* a job whose database work failed tries again */

/* ---------------------------------------------------------------- pure decisions */

static int key_cmp(struct runner_step_key a, struct runner_step_key b)
{
    if (a.order != b.order) return a.order < b.order ? -1 : 1;
    if (a.id != b.id) return a.id < b.id ? -1 : 1;
    return 0;
}

long runner_next_step(const struct runner_step_key *steps, size_t n, bool has_cursor,
                      struct runner_step_key cursor)
{
    long best = -1;
    for (size_t i = 0; i < n; i++) {
        if (has_cursor && key_cmp(steps[i], cursor) <= 0) continue;
        if (best < 0 || key_cmp(steps[i], steps[best]) < 0) best = (long)i;
    }
    return best;
}

const char *runner_log_status(enum step_outcome o, int attempt, const struct engine_retry *policy)
{
    if (o == STEP_SUCCESS) return "SUCCESS";
    if (o == STEP_RETRY && attempt + 1 < policy->attempts) return "RETRY";
    return "FAILURE";
}

enum runner_move runner_move_after(const char *status, bool has_next, int next_delay_minutes,
                                   bool stopping)
{
    if (!strcmp(status, "FAILURE")) return RUNNER_FAIL;
    if (!strcmp(status, "RETRY")) return RUNNER_WAIT;
    if (!has_next) return RUNNER_SUCCEED;
    if (next_delay_minutes > 0) return RUNNER_WAIT;
    return stopping ? RUNNER_HANDBACK : RUNNER_CONTINUE;
}

size_t runner_in_width(size_t n)
{
    size_t w = 1;
    while (w < n) w *= 2;
    return w;
}

/* ---------------------------------------------------------------- runner state */

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Uniform in [0, 1), for jitter. */
static double unit_random(void)
{
    return (double)(random() & 0xffffff) / (double)0x1000000;
}

enum job_state {
    JOB_READY,    /* choose and start the next step (at retry_ms) */
    JOB_INFLIGHT, /* a transfer is running */
    JOB_COMMIT,   /* a result waits to be written (at retry_ms) */
};

/* How often the loop hands the heap's free pages back to the kernel (malloc_trim): a turn
 * frees and allocates thousands of small blocks (jobs, curl's transfers, result sets),
 * and the free pages left between live ones otherwise count in the runner's RSS — several
 * MiB at 1,000 in flight (issue 11). Once a quarter second costs well under 1% CPU. */
#define TRIM_EVERY_MS 250

struct step_row {
    bool present;
    struct runner_step_key key;
    char *type;
    unsigned long long prompt_id;
    struct json_object *config; /* as stored; NULL when SQL NULL */
    struct json_object *rules;
};

struct job {
    enum job_state state;
    long long retry_ms;
    unsigned long long run_id, workflow_id;
    char *object_id;
    struct json_object *context; /* NULL while parked */
    char *context_text;          /* the context as JSON text while the step is in flight */
    bool has_cursor;
    struct runner_step_key cursor;
    int attempt;
    /* the current step and its call */
    struct step_row step;
    struct engine_retry policy;
    struct step_call call;
    const struct step_handler *handler;
    bool skipped;
    struct json_object *rendered; /* step_config after templates */
    long long started_ms, duration_ms;
    unsigned commit_failures;       /* logged on the first only */
    unsigned long long last_log_id; /* the run's latest execution_logs row; 0: none */
    bool nothing_left;              /* COMMIT with no step left: the run succeeds, no row */
    bool gone;                      /* the run left this runner: freed at the end of the turn */
    struct arena arena;
};

/* What this turn of the loop read: each workflow's steps and each prompt at most once per
 * turn, so that the runs of one workflow committed or started together share one look-up.
 * Dropped at the start of every turn, so a step still starts from the workflow (and its
 * prompt) as read in the turn that starts it — never from an older copy. */
struct wf_steps {
    unsigned long long workflow_id;
    struct runner_step_key *keys;
    struct db_result res; /* STEPS_SQL's rows */
    struct wf_steps *next;
};

struct prompt_read {
    unsigned long long id;
    struct db_result res; /* AI_PROMPT_COLUMNS */
    struct prompt_read *next;
};

struct runner {
    const struct config *cfg;
    const struct engine_conf *ec;
    struct db *db;
    struct arena tmp;  /* reset after every database exchange */
    struct arena turn; /* reset at the start of every turn of the loop */
    struct wf_steps *turn_steps;
    struct prompt_read *turn_prompts;
    CURLM *multi;
    char id[64];
    struct job **jobs;
    size_t njobs, cap;
    bool stopping;
    long long stop_deadline_ms, next_claim_ms, next_heartbeat_ms;
    unsigned claim_failures;       /* consecutive claims that failed (not 1213): logged once */
    long long next_expired_ms;     /* next look for expired leases */
    long long next_trim_ms;        /* next malloc_trim */
    bool claim_turn;               /* waiting runs first, or queued ones */
    struct estats_segment *estats; /* the engine's counters (estats.h), shared by fork */
};

static void step_row_clear(struct step_row *s)
{
    free(s->type);
    json_object_put(s->config);
    json_object_put(s->rules);
    memset(s, 0, sizeof *s);
}

static void job_clear_step(struct runner *r, struct job *j)
{
    if (j->call.easy && j->state == JOB_INFLIGHT) curl_multi_remove_handle(r->multi, j->call.easy);
    step_call_release(&j->call, j->handler);
    step_call_init(&j->call);
    j->handler = NULL;
    json_object_put(j->rendered);
    j->rendered = NULL;
    j->skipped = false;
    step_row_clear(&j->step);
    arena_reset(&j->arena);
}

static void job_free(struct runner *r, struct job *j)
{
    job_clear_step(r, j);
    json_object_put(j->context);
    free(j->context_text);
    free(j->object_id);
    arena_free(&j->arena);
    free(j);
}

static void job_remove(struct runner *r, size_t i)
{
    job_free(r, r->jobs[i]);
    r->jobs[i] = r->jobs[--r->njobs];
}

static struct job *job_find(struct runner *r, unsigned long long run_id)
{
    for (size_t i = 0; i < r->njobs; i++)
        if (r->jobs[i]->run_id == run_id) return r->jobs[i];
    return NULL;
}

/* A JSON value as a statement parameter, its text copied into `a`; NULL is SQL NULL. */
static struct db_param json_param(struct arena *a, struct json_object *v)
{
    if (!v) return db_null();
    const char *t =
        json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t n = strlen(t);
    return db_str(arena_strndup(a, t, n), n);
}

static struct json_object *parse_cell(const struct db_cell *c)
{
    return c->s ? json_tokener_parse(c->s) : NULL;
}

/* While its step is in flight (a second or more) a run's context is not read: keep it as
 * text then, which is a tenth of what json-c's parsed objects cost (a 16-entry hash table
 * per object) — most of the runner's memory per call at 1,000 in flight (issue 11). The
 * text is json-c's own output, so parsing it gives the same context back (keys in order,
 * numbers as written); the depth allows for what a step adds to a context parsed at 32. */
#define CONTEXT_DEPTH 128

static void context_park(struct job *j)
{
    const char *t = json_object_to_json_string_ext(j->context, JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
    j->context_text = mem_strdup(t);
    json_object_put(j->context);
    j->context = NULL;
    j->call.context = NULL;
}

static void context_unpark(struct job *j)
{
    if (!j->context_text) return;
    struct json_tokener *tok = json_tokener_new_ex(CONTEXT_DEPTH);
    if (!tok) mem_oom_abort();
    j->context = json_tokener_parse_ex(tok, j->context_text, (int)strlen(j->context_text));
    bool ok = j->context && json_tokener_get_error(tok) == json_tokener_success;
    json_tokener_free(tok);
    /* json-c parses what it printed unless memory ran out */
    if (!ok) mem_oom_abort();
    free(j->context_text);
    j->context_text = NULL;
    j->call.context = j->context;
}

/* ---------------------------------------------------------------- database work */

static const char STEPS_SQL[] =
    "SELECT id, step_order, step_type, prompt_id, step_config, condition_rules, delay_minutes "
    "FROM workflow_steps WHERE workflow_id = ? ORDER BY step_order, id";

static void turn_reset(struct runner *r)
{
    arena_reset(&r->turn);
    r->turn_steps = NULL;
    r->turn_prompts = NULL;
}

/* The workflow's steps as this turn read them (read now on the turn's first use). */
static int steps_get(struct runner *r, unsigned long long workflow_id, const struct wf_steps **out)
{
    for (struct wf_steps *w = r->turn_steps; w; w = w->next)
        if (w->workflow_id == workflow_id) {
            *out = w;
            return DB_OK;
        }
    struct wf_steps *w = arena_alloc(&r->turn, sizeof *w);
    struct db_param p[] = {db_uint(workflow_id)};
    int s = db_query(r->db, &r->turn, STEPS_SQL, p, 1, &w->res);
    if (s != DB_OK) return s;
    w->workflow_id = workflow_id;
    w->keys = arena_alloc(&r->turn, (w->res.nrows + 1) * sizeof *w->keys);
    for (size_t i = 0; i < w->res.nrows; i++) {
        w->keys[i].id = strtoull(db_cell(&w->res, i, 0)->s, NULL, 10);
        w->keys[i].order = atoi(db_cell(&w->res, i, 1)->s);
    }
    w->next = r->turn_steps;
    r->turn_steps = w;
    *out = w;
    return DB_OK;
}

/* The prompt's row as this turn read it; NULL when the look-up failed (the ai handler then
 * reads it itself and reports the error as it always does). */
static const struct db_result *prompt_get(struct runner *r, unsigned long long id)
{
    for (struct prompt_read *p = r->turn_prompts; p; p = p->next)
        if (p->id == id) return &p->res;
    struct prompt_read *p = arena_alloc(&r->turn, sizeof *p);
    struct db_param prm[] = {db_uint(id)};
    if (db_query(r->db, &r->turn, "SELECT " AI_PROMPT_COLUMNS " FROM prompts WHERE id = ?", prm, 1,
                 &p->res) != DB_OK)
        return NULL;
    p->id = id;
    p->next = r->turn_prompts;
    r->turn_prompts = p;
    return &p->res;
}

static void heartbeat(struct runner *r)
{
    struct db_param p[] = {db_int(r->ec->lease_seconds), db_str(r->id, strlen(r->id))};
    int s = db_query(r->db, &r->tmp,
                     "UPDATE workflow_runs SET locked_until = NOW(6) + INTERVAL ? SECOND "
                     "WHERE locked_by = ? AND status = 'running'",
                     p, 2, NULL);
    arena_reset(&r->tmp);
    if (s != DB_OK) log_warn("lease heartbeat failed: %s", db_error_message(r->db));
}

/* Queue the run again at once, lease cleared (a runner that stops, or cannot go on). */
static void hand_back(struct runner *r, unsigned long long run_id)
{
    struct db_param p[] = {db_uint(run_id), db_str(r->id, strlen(r->id))};
    int s = db_query(r->db, &r->tmp,
                     "UPDATE workflow_runs SET status = 'queued', run_at = NOW(6), "
                     "locked_by = NULL, locked_until = NULL, updated_at = NOW() "
                     "WHERE id = ? AND locked_by = ? AND status = 'running'",
                     p, 2, NULL);
    arena_reset(&r->tmp);
    if (s != DB_OK) log_warn("run %llu: hand-back failed (its lease will expire)", run_id);
}

/* "prefix ?, ?, … suffix" with runner_in_width(n) markers into out, so that a claim of any
 * size uses one of six statement texts (the statement cache is keyed by text). */
static const char *in_sql(char *out, size_t cap, const char *prefix, size_t n, const char *suffix)
{
    size_t w = runner_in_width(n), len = (size_t)snprintf(out, cap, "%s", prefix);
    for (size_t i = 0; i < w && len + 8 < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, i ? ", ?" : "?");
    snprintf(out + len, cap - len, "%s", suffix);
    return out;
}

/* Make a job of every claimed run this runner does not hold yet. */
static void claim_jobs(struct runner *r, const struct db_result *rs)
{
    const struct db_result res = *rs;
    for (size_t i = 0; i < res.nrows; i++) {
        unsigned long long id = strtoull(db_cell(&res, i, 0)->s, NULL, 10);
        if (job_find(r, id)) continue; /* our own lease had lapsed: it is still ours */
        struct job *j = mem_calloc(1, sizeof *j);
        /* holds the call's copy of its prompt row: small chunks, since 1,000 jobs each
         * keep one (a larger prompt gets a chunk of its own size) */
        arena_init(&j->arena, 1024);
        step_call_init(&j->call);
        j->state = JOB_READY;
        j->run_id = id;
        j->workflow_id = strtoull(db_cell(&res, i, 1)->s, NULL, 10);
        if (db_cell(&res, i, 2)->s) j->object_id = mem_strdup(db_cell(&res, i, 2)->s);
        j->context = parse_cell(db_cell(&res, i, 3));
        if (!json_object_is_type(j->context, json_type_object)) {
            json_object_put(j->context);
            j->context = json_object_new_object();
        }
        j->has_cursor = db_cell(&res, i, 4)->s && db_cell(&res, i, 5)->s;
        if (j->has_cursor) {
            j->cursor.order = atoi(db_cell(&res, i, 4)->s);
            j->cursor.id = strtoull(db_cell(&res, i, 5)->s, NULL, 10);
        }
        j->attempt = atoi(db_cell(&res, i, 6)->s);
        if (r->njobs == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 16;
            r->jobs = mem_realloc(r->jobs, r->cap * sizeof(struct job *));
        }
        r->jobs[r->njobs++] = j;
    }
}

/* Each claimed run's latest log row (the parent of its next one), from one statement. */
static int claim_parents(struct runner *r, struct db_result *parts, size_t nparts)
{
    struct db_param p[CLAIM_BATCH];
    size_t n = 0;
    for (size_t pi = 0; pi < nparts; pi++)
        for (size_t i = 0; i < parts[pi].nrows && n < CLAIM_BATCH; i++)
            p[n++] = db_str(db_cell(&parts[pi], i, 0)->s, db_cell(&parts[pi], i, 0)->len);
    if (n == 0) return DB_OK;
    for (size_t w = runner_in_width(n); n < w; n++) p[n] = p[n - 1];
    char sql[512];
    struct db_result res;
    int s = db_query(r->db, &r->tmp,
                     in_sql(sql, sizeof sql,
                            "SELECT workflow_run_id, MAX(id) FROM execution_logs WHERE "
                            "workflow_run_id IN (",
                            n, ") GROUP BY workflow_run_id"),
                     p, n, &res);
    for (size_t i = 0; s == DB_OK && i < res.nrows; i++) {
        struct job *j = job_find(r, strtoull(db_cell(&res, i, 0)->s, NULL, 10));
        if (j && !j->last_log_id) j->last_log_id = strtoull(db_cell(&res, i, 1)->s, NULL, 10);
    }
    return s;
}

/* Claim up to `limit` due runs. Returns how many were claimed; any error (1213 on a
 * Galera cluster among them) is "claimed nothing". A failing database is logged once per
 * streak, and claims then back off up to 5 s. */
static size_t claim(struct runner *r, size_t limit)
{
    /* One status per statement, so each reads the (status, run_at) index in run_at order
     * and stops after `limit` rows: an OR or IN over statuses would sort — and lock — every
     * due row. Waiting and queued runs take turns going first; expired leases (a dead
     * runner's runs) are looked for at most once a second. */
    static const char *const sql[] = {
        "SELECT id, workflow_id, triggering_object_id, context, last_step_order, "
        "last_step_id, attempt FROM workflow_runs WHERE status = 'running' AND "
        "locked_until < NOW(6) ORDER BY run_at LIMIT ? FOR UPDATE SKIP LOCKED",
        "SELECT id, workflow_id, triggering_object_id, context, last_step_order, "
        "last_step_id, attempt FROM workflow_runs WHERE status = 'waiting' AND "
        "run_at <= NOW(6) ORDER BY run_at LIMIT ? FOR UPDATE SKIP LOCKED",
        "SELECT id, workflow_id, triggering_object_id, context, last_step_order, "
        "last_step_id, attempt FROM workflow_runs WHERE status = 'queued' AND "
        "run_at <= NOW(6) ORDER BY run_at LIMIT ? FOR UPDATE SKIP LOCKED",
    };
    if (limit > CLAIM_BATCH) limit = CLAIM_BATCH;
    struct db *db = r->db;
    struct db_result parts[3];
    size_t nparts = 0, got = 0;
    long long now = mono_ms();
    bool expired = now >= r->next_expired_ms;
    if (expired) r->next_expired_ms = now + 1000;
    r->claim_turn = !r->claim_turn;
    int order[3] = {0, r->claim_turn ? 1 : 2, r->claim_turn ? 2 : 1};
    int s = db_begin(db);
    for (int k = expired ? 0 : 1; s == DB_OK && k < 3 && got < limit; k++) {
        struct db_result *res = &parts[nparts];
        s = db_query(db, &r->tmp, sql[order[k]],
                     (struct db_param[]){db_int((long long)(limit - got))}, 1, res);
        if (s != DB_OK) break;
        nparts++;
        got += res->nrows;
    }
    if (s == DB_OK && got > 0) {
        /* one UPDATE for the whole claim: ids padded to a power of two with the last one */
        struct db_param p[2 + CLAIM_BATCH];
        size_t n = 2;
        p[0] = db_str(r->id, strlen(r->id));
        p[1] = db_int(r->ec->lease_seconds);
        for (size_t pi = 0; pi < nparts; pi++)
            for (size_t i = 0; i < parts[pi].nrows; i++)
                p[n++] = db_str(db_cell(&parts[pi], i, 0)->s, db_cell(&parts[pi], i, 0)->len);
        for (size_t w = 2 + runner_in_width(got); n < w; n++) p[n] = p[n - 1];
        char text[512];
        s = db_query(db, &r->tmp,
                     in_sql(text, sizeof text,
                            "UPDATE workflow_runs SET status = 'running', locked_by = ?, "
                            "locked_until = NOW(6) + INTERVAL ? SECOND, "
                            "started_at = COALESCE(started_at, NOW()), updated_at = NOW() "
                            "WHERE id IN (",
                            got, ")"),
                     p, n, NULL);
    }
    if (s == DB_OK) s = db_commit(db);
    if (s != DB_OK) {
        db_rollback(db);
        if (s != DB_DEADLOCK) {
            if (r->claim_failures++ == 0)
                log_warn("claim failed: %s (retrying quietly until it works)",
                         db_error_message(db));
            long long pause = 500LL * r->claim_failures;
            r->next_claim_ms = mono_ms() + (pause > 5000 ? 5000 : pause);
        }
        arena_reset(&r->tmp);
        return 0;
    }
    if (r->claim_failures) {
        log_info("claims work again after %u failures", r->claim_failures);
        r->claim_failures = 0;
    }
    for (size_t pi = 0; pi < nparts; pi++) claim_jobs(r, &parts[pi]);
    /* outside the claim's transaction: only this runner writes its runs' rows now. A
     * failure leaves a parent unknown (NULL) rather than the run unclaimed. */
    if (claim_parents(r, parts, nparts) != DB_OK)
        log_warn("cannot read the claimed runs' latest log rows: %s", db_error_message(db));
    arena_reset(&r->tmp);
    return got;
}

/* A written step result, in the engine's counters: steps by type and status, and for a call
 * that named a provider (the ai handler) the call's outcome, tokens and cost. */
static void count_step(struct estats_segment *es, const struct job *j, const char *status)
{
    char type[64], name[ESTATS_NAME];
    estats_label(type, sizeof type, j->step.type ? j->step.type : "");
    snprintf(name, sizeof name, "aiengine_engine_steps_total{type=\"%s\",status=\"%s\"}", type,
             status);
    estats_add(es, name, false, 1);
    struct json_object *p = NULL;
    if (j->skipped || !j->call.input_context ||
        !json_object_object_get_ex(j->call.input_context, "provider", &p) ||
        !json_object_is_type(p, json_type_string))
        return;
    char prov[64];
    estats_label(prov, sizeof prov, json_object_get_string(p));
    const char *outcome = j->call.outcome == STEP_SUCCESS ? "success"
                          : j->call.outcome == STEP_RETRY ? "retry"
                                                          : "failure";
    snprintf(name, sizeof name,
             "aiengine_engine_provider_calls_total{provider=\"%s\",outcome=\"%s\"}", prov, outcome);
    estats_add(es, name, false, 1);
    if (j->call.token_usage > 0) {
        snprintf(name, sizeof name, "aiengine_engine_tokens_total{provider=\"%s\"}", prov);
        estats_add(es, name, false, (uint64_t)j->call.token_usage);
    }
    if (j->call.cost_micros > 0) {
        snprintf(name, sizeof name, "aiengine_engine_cost_total{provider=\"%s\"}", prov);
        estats_add(es, name, true, (uint64_t)j->call.cost_micros);
    }
}

/* One step result inside the batch's open transaction: the move, the fenced run UPDATE
 * (context, sums, cursor, the move — 0 rows: the run was cancelled or another runner owns
 * it, and the result is discarded), then the log row. Returns 1 written, 0 discarded, or a
 * negative db status (the whole batch is rolled back and tried again). */
static int commit_one(struct runner *r, struct job *j, const char *log_status,
                      enum runner_move *move, unsigned long long *log_id)
{
    struct db *db = r->db;
    struct step_call *c = &j->call;
    bool advances =
        log_status && (!strcmp(log_status, "SUCCESS") || !strcmp(log_status, "SKIPPED"));
    struct runner_step_key cursor = advances ? j->step.key : j->cursor;
    bool has_cursor = advances || j->has_cursor;
    *log_id = 0;

    /* the context a SUCCESS leaves: steps."<order>" and save_as (idempotent: a batch that is
     * tried again sets the same keys) */
    if (log_status && !strcmp(log_status, "SUCCESS")) {
        struct json_object *steps = NULL;
        if (!json_object_object_get_ex(j->context, "steps", &steps) ||
            !json_object_is_type(steps, json_type_object)) {
            steps = json_object_new_object();
            json_object_object_add(j->context, "steps", steps);
        }
        char order[16];
        snprintf(order, sizeof order, "%d", j->step.key.order);
        json_object_object_add(steps, order, json_object_get(c->parsed_output));
        struct json_object *save_as = NULL;
        if (j->rendered && json_object_object_get_ex(j->rendered, "save_as", &save_as) &&
            json_object_is_type(save_as, json_type_string))
            json_object_object_add(j->context, json_object_get_string(save_as),
                                   json_object_get(c->parsed_output));
    }

    /* where the run goes: the step after the new cursor, as the workflow is now */
    enum runner_move mv = RUNNER_SUCCEED;
    int next_delay = 0;
    int s = DB_OK;
    if (!log_status) {
        mv = RUNNER_SUCCEED;
    } else if (advances) {
        const struct wf_steps *w;
        s = steps_get(r, j->workflow_id, &w);
        if (s != DB_OK) return s;
        long next = runner_next_step(w->keys, w->res.nrows, has_cursor, cursor);
        if (next >= 0) next_delay = atoi(db_cell(&w->res, (size_t)next, 6)->s);
        mv = runner_move_after(log_status, next >= 0, next_delay, r->stopping);
    } else {
        mv = runner_move_after(log_status, false, 0, r->stopping);
    }

    long long wait_us = 0;
    if (mv == RUNNER_WAIT && !strcmp(log_status, "RETRY"))
        wait_us =
            1000 * engine_retry_delay_ms(&j->policy, j->attempt + 1, c->retry_after, unit_random());
    else if (mv == RUNNER_WAIT)
        wait_us = (long long)next_delay * 60 * 1000000;
    const char *status = mv == RUNNER_CONTINUE   ? "running"
                         : mv == RUNNER_WAIT     ? "waiting"
                         : mv == RUNNER_HANDBACK ? "queued"
                         : mv == RUNNER_SUCCEED  ? "succeeded"
                                                 : "failed";
    bool keep_lease = mv == RUNNER_CONTINUE;
    bool set_run_at = mv == RUNNER_WAIT || mv == RUNNER_HANDBACK;
    bool finished = mv == RUNNER_SUCCEED || mv == RUNNER_FAIL;
    bool failed_try =
        log_status && (!strcmp(log_status, "RETRY") || !strcmp(log_status, "FAILURE"));
    int attempt = log_status && !strcmp(log_status, "RETRY") ? j->attempt + 1
                  : advances                                 ? 0
                                                             : j->attempt;
    char cost[32] = "0", cost_max[32];
    if (c->cost_micros > 0) engine_micros_format((uint64_t)c->cost_micros, cost);
    engine_micros_format((uint64_t)STEP_COST_MICROS_MAX, cost_max);
    struct db_param p[] = {
        db_str(status, strlen(status)),
        json_param(&r->tmp, j->context),
        has_cursor ? db_int(cursor.order) : db_null(),
        has_cursor ? db_uint(cursor.id) : db_null(),
        db_int(attempt),
        db_int(set_run_at),
        db_int(wait_us),
        db_int(keep_lease),
        db_int(keep_lease),
        db_int(failed_try || advances),
        failed_try ? db_str(c->error, strlen(c->error)) : db_null(),
        db_int(c->token_usage > 0 ? c->token_usage : 0),
        db_int(STEP_TOKENS_MAX),
        db_str(cost, strlen(cost)),
        db_str(cost_max, strlen(cost_max)),
        db_int(finished),
        db_uint(j->run_id),
        db_str(r->id, strlen(r->id)),
    };
    struct db_result res;
    /* the run's totals stop at their columns' largest values (handler.h; ai_account bounds
     * each step's): a sum past them would fail the commit and leave the run claimed */
    s = db_query(db, &r->tmp,
                 "UPDATE workflow_runs SET status = ?, context = ?, last_step_order = ?, "
                 "last_step_id = ?, attempt = ?, "
                 "run_at = IF(?, NOW(6) + INTERVAL ? MICROSECOND, run_at), "
                 "locked_by = IF(?, locked_by, NULL), "
                 "locked_until = IF(?, locked_until, NULL), "
                 "error_message = IF(?, ?, error_message), "
                 "token_usage = LEAST(token_usage + ?, ?), cost = LEAST(cost + ?, ?), "
                 "finished_at = IF(?, NOW(), finished_at), updated_at = NOW() "
                 "WHERE id = ? AND locked_by = ? AND status = 'running'",
                 p, sizeof p / sizeof *p, &res);
    if (s != DB_OK) return s;
    if (res.affected == 0) return 0; /* nothing changed: nothing to undo */
    *move = mv;
    if (!log_status) return 1;

    char lcost[32];
    if (c->cost_micros >= 0) engine_micros_format((uint64_t)c->cost_micros, lcost);
    bool is_success = !strcmp(log_status, "SUCCESS");
    struct db_param lp[] = {
        db_uint(j->workflow_id),
        db_uint(j->step.key.id),
        j->object_id ? db_str(j->object_id, strlen(j->object_id)) : db_null(),
        j->last_log_id ? db_uint(j->last_log_id) : db_null(),
        db_str(log_status, strlen(log_status)),
        json_param(&r->tmp, c->input_context),
        json_param(&r->tmp, c->raw_output),
        is_success ? json_param(&r->tmp, c->parsed_output) : db_null(),
        is_success || j->skipped ? db_null() : db_str(c->error, strlen(c->error)),
        db_int(j->duration_ms),
        c->token_usage >= 0 ? db_int(c->token_usage) : db_null(),
        c->cost_micros >= 0 ? db_str(lcost, strlen(lcost)) : db_null(),
        db_uint(j->run_id),
    };
    s = db_query(db, &r->tmp,
                 "INSERT INTO execution_logs (workflow_id, step_id, "
                 "triggering_object_id, parent_execution_log_id, status, input_context, "
                 "raw_output, parsed_output, error_message, duration_ms, token_usage, "
                 "cost, executed_at, workflow_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                 "?, ?, ?, NOW(), ?)",
                 lp, 13, &res);
    /* the step was deleted while it ran (or its parent row): InnoDB undid this statement
     * only, and the run goes on without its row */
    if (s == DB_NO_PARENT) return 1;
    if (s != DB_OK) return s;
    *log_id = res.insert_id;
    return 1;
}

/* Write the results of every job waiting to commit (up to COMMIT_BATCH) in one
 * transaction and move each on: gone when its run left this runner, READY when it goes on.
 * When the database fails, all of them are tried again after DB_RETRY_MS. */
static void commit_batch(struct runner *r)
{
    struct job *batch[COMMIT_BATCH];
    const char *status[COMMIT_BATCH];
    enum runner_move moves[COMMIT_BATCH];
    int written[COMMIT_BATCH];
    unsigned long long log_ids[COMMIT_BATCH];
    size_t n = 0;
    long long now = mono_ms();
    for (size_t i = 0; i < r->njobs && n < COMMIT_BATCH; i++) {
        struct job *j = r->jobs[i];
        if (j->gone || j->state != JOB_COMMIT || j->retry_ms > now) continue;
        status[n] = j->nothing_left ? NULL
                    : j->skipped    ? "SKIPPED"
                                    : runner_log_status(j->call.outcome, j->attempt, &j->policy);
        if (!j->nothing_left && j->duration_ms == 0) j->duration_ms = now - j->started_ms;
        batch[n++] = j;
    }
    if (n == 0) return;
    int s = db_begin(r->db);
    for (size_t k = 0; k < n && s == DB_OK; k++) {
        int w = commit_one(r, batch[k], status[k], &moves[k], &log_ids[k]);
        if (w < 0)
            s = w;
        else
            written[k] = w;
    }
    if (s == DB_OK) s = db_commit(r->db);
    arena_reset(&r->tmp);
    if (s != DB_OK) {
        db_rollback(r->db);
        for (size_t k = 0; k < n; k++) {
            struct job *j = batch[k];
            if (j->commit_failures++ == 0)
                log_warn("run %llu: cannot write its step (%s); trying again every %d ms",
                         j->run_id, db_error_message(r->db), DB_RETRY_MS);
            j->retry_ms = mono_ms() + DB_RETRY_MS;
        }
        return;
    }
    for (size_t k = 0; k < n; k++) {
        struct job *j = batch[k];
        if (written[k] == 1 && status[k]) count_step(r->estats, j, status[k]);
        if (written[k] == 0 || moves[k] != RUNNER_CONTINUE) {
            if (written[k] == 0)
                log_info("run %llu: result discarded (cancelled or taken over)", j->run_id);
            j->gone = true;
            continue;
        }
        j->has_cursor = true;
        j->cursor = j->step.key; /* CONTINUE only follows SUCCESS or SKIPPED */
        j->attempt = 0;
        if (log_ids[k]) j->last_log_id = log_ids[k];
        job_clear_step(r, j);
        j->state = JOB_READY;
        j->retry_ms = 0;
        j->commit_failures = 0;
    }
}

/* Drop the jobs whose runs left this runner. */
static void jobs_sweep(struct runner *r)
{
    for (size_t i = 0; i < r->njobs;)
        if (r->jobs[i]->gone)
            job_remove(r, i);
        else
            i++;
}

/* ---------------------------------------------------------------- steps */

/* Decide the current step without a transfer when we can: unknown type, condition,
 * retry policy, templates. Returns 1 when a transfer was started, 0 when the result is
 * already in j->call (or j->skipped), 2 when no step is left, or a negative db status. */
static int job_start(struct runner *r, struct job *j)
{
    const struct wf_steps *w;
    int s = steps_get(r, j->workflow_id, &w);
    if (s != DB_OK) return s;
    long next = runner_next_step(w->keys, w->res.nrows, j->has_cursor, j->cursor);
    if (next < 0) return 2; /* nothing left */
    const struct db_result *res = &w->res;
    size_t i = (size_t)next;
    struct step_row *st = &j->step;
    st->present = true;
    st->key = w->keys[i];
    st->type = mem_strdup(db_cell(res, i, 2)->s);
    st->prompt_id = db_cell(res, i, 3)->s ? strtoull(db_cell(res, i, 3)->s, NULL, 10) : 0;
    st->config = parse_cell(db_cell(res, i, 4));
    st->rules = parse_cell(db_cell(res, i, 5));
    struct step_call *c = &j->call;
    step_call_init(c);
    c->conf = r->ec;
    c->db = r->db;
    c->arena = &j->arena;
    c->run_id = j->run_id;
    c->workflow_id = j->workflow_id;
    c->step_id = st->key.id;
    c->prompt_id = st->prompt_id;
    c->step_order = st->key.order;
    c->step_type = st->type;
    c->object_id = j->object_id;
    c->context = j->context;
    j->policy = r->ec->retry;
    j->started_ms = mono_ms();
    j->duration_ms = 0;

    char err[512];
    c->type = engine_step_type(r->ec, st->type);
    if (!c->type) {
        step_call_fail(c, STEP_FAILURE, "unknown step type \"%s\"", st->type);
        return 0;
    }
    int ce = cond_eval(st->rules, j->context, err, sizeof err);
    if (ce < 0) {
        step_call_fail(c, STEP_FAILURE, "invalid condition_rules: %s", err);
        return 0;
    }
    if (ce == 0) {
        j->skipped = true;
        return 0;
    }
    struct json_object *retry = NULL;
    if (json_object_is_type(st->config, json_type_object))
        json_object_object_get_ex(st->config, "retry", &retry);
    if (engine_retry_from_json(&r->ec->retry, retry, &j->policy, err, sizeof err) < 0) {
        j->policy = r->ec->retry;
        step_call_fail(c, STEP_FAILURE, "invalid step_config.retry: %s", err);
        return 0;
    }
    if (tmpl_render_json(st->config, j->context, CONFIG_RENDER_LIMIT, &j->rendered, err,
                         sizeof err) != TMPL_OK) {
        step_call_fail(c, STEP_FAILURE, "%s", err);
        return 0;
    }
    struct json_object *save_as = NULL;
    if (json_object_is_type(j->rendered, json_type_object) &&
        json_object_object_get_ex(j->rendered, "save_as", &save_as)) {
        const char *name = json_object_get_string(save_as);
        static const char *const reserved[] = {"event", "object_id", "input", "steps"};
        bool bad = !json_object_is_type(save_as, json_type_string) || !*name;
        for (size_t k = 0; !bad && k < sizeof reserved / sizeof reserved[0]; k++)
            if (!strcmp(name, reserved[k])) bad = true;
        if (bad) {
            step_call_fail(c, STEP_FAILURE,
                           "step_config.save_as must be a name other than event, object_id, "
                           "input and steps");
            return 0;
        }
    }
    c->config = j->rendered;
    if (c->type->handler == ENGINE_HANDLER_AI && st->prompt_id)
        c->prompt = prompt_get(r, st->prompt_id);
    j->handler = handler_for(c->type->handler);
    int started = j->handler->start(c);
    c->prompt = NULL; /* this turn's copy */
    if (started == 0) return 0;
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, (void *)j);
    if (curl_multi_add_handle(r->multi, c->easy) != CURLM_OK) {
        step_call_fail(c, STEP_RETRY, "cannot start the transfer");
        return 0;
    }
    return 1;
}

/* Start the next step of a READY job; a result that needs no transfer is written by the
 * next commit batch. */
static void job_step(struct runner *r, struct job *j)
{
    if (r->stopping) {
        hand_back(r, j->run_id);
        j->gone = true;
        return;
    }
    int s = job_start(r, j);
    if (s == 1) {
        j->state = JOB_INFLIGHT;
        context_park(j);
        return;
    }
    if (s < 0) {
        job_clear_step(r, j);
        j->retry_ms = mono_ms() + DB_RETRY_MS;
        return;
    }
    j->nothing_left = s == 2;
    j->state = JOB_COMMIT;
    j->retry_ms = 0;
}

static void transfers_done(struct runner *r)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(r->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        struct job *j = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
        CURLcode rc = m->data.result;
        curl_multi_remove_handle(r->multi, m->easy_handle);
        if (!j) continue;
        context_unpark(j);
        j->duration_ms = mono_ms() - j->started_ms;
        if (j->duration_ms <= 0) j->duration_ms = 1;
        j->handler->finish(&j->call, rc);
        j->state = JOB_COMMIT;
        j->retry_ms = 0;
    }
}

/* ---------------------------------------------------------------- the runner process */

static void make_id(char out[64])
{
    char host[40] = "localhost";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    unsigned char rnd[4] = {0};
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        long long t = mono_ms();
        memcpy(rnd, &t, sizeof rnd);
    }
    /* the random part keeps a reused pid from inheriting a dead runner's leases */
    snprintf(out, 64, "%s:%d:%02x%02x%02x%02x", host, (int)getpid(), rnd[0], rnd[1], rnd[2],
             rnd[3]);
}

static int runner_loop(const struct config *cfg, const struct engine_conf *ec,
                       struct estats_segment *es)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    /* the supervisor forks with its stop signals blocked; a runner takes them any time (the
     * handler only sets a flag the loop reads) */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_UNBLOCK, &set, NULL);

    struct runner r = {.cfg = cfg, .ec = ec, .estats = es};
    estats_add(es, "aiengine_engine_runner_starts_total", false, 1);
    make_id(r.id);
    srandom((unsigned)(getpid() ^ mono_ms()));
    r.db = db_new(&cfg->db);
    arena_init(&r.tmp, 64 * 1024);
    arena_init(&r.turn, 64 * 1024);
    r.multi = curl_multi_init();
    if (!r.multi) mem_oom_abort();
    curl_multi_setopt(r.multi, CURLMOPT_MAXCONNECTS, (long)ec->concurrency);
    log_info("runner %s: up to %d steps in flight", r.id, ec->concurrency);

    long long hb_every = (long long)ec->lease_seconds * 1000 / 3;
    if (hb_every < 200) hb_every = 200;
    r.next_heartbeat_ms = mono_ms() + hb_every;
    for (;;) {
        long long now = mono_ms();
        if (stop_requested && !r.stopping) {
            r.stopping = true;
            r.stop_deadline_ms = now + (long long)ec->shutdown_timeout * 1000;
            log_info("runner %s: stopping, %zu runs in hand", r.id, r.njobs);
        }
        if (r.stopping && (r.njobs == 0 || now >= r.stop_deadline_ms)) break;

        /* results first (one transaction for all of them), then new steps, then new
         * claims; this turn reads each workflow's steps and each prompt once */
        turn_reset(&r);
        commit_batch(&r);
        for (size_t i = 0; i < r.njobs; i++) {
            struct job *j = r.jobs[i];
            if (!j->gone && j->state == JOB_READY && j->retry_ms <= now) job_step(&r, j);
        }
        jobs_sweep(&r);
        now = mono_ms();
        size_t limit = (size_t)ec->concurrency > r.njobs ? (size_t)ec->concurrency - r.njobs : 0;
        if (limit > CLAIM_BATCH) limit = CLAIM_BATCH;
        bool busy = false;
        if (!r.stopping && limit > 0 && now >= r.next_claim_ms) {
            size_t got = claim(&r, limit);
            if (r.claim_failures) /* claim() set the pause */
                ;
            else if (got < limit) /* nothing more is due: poll again later, with jitter */
                r.next_claim_ms = now + (long long)(ec->poll_interval_ms * (0.5 + unit_random()));
            else
                busy = true;
        }
        if (r.njobs > 0 && now >= r.next_heartbeat_ms) {
            heartbeat(&r);
            r.next_heartbeat_ms = now + hb_every;
        }

        int running = 0;
        curl_multi_perform(r.multi, &running);
        transfers_done(&r);
        if (mono_ms() >= r.next_trim_ms) {
            malloc_trim(0);
            r.next_trim_ms = mono_ms() + TRIM_EVERY_MS;
        }

        bool ready = false;
        for (size_t i = 0; i < r.njobs; i++)
            if (r.jobs[i]->state != JOB_INFLIGHT && r.jobs[i]->retry_ms <= mono_ms()) ready = true;
        if (busy || ready) continue;
        long long wait = 1000;
        now = mono_ms();
        if (!r.stopping && r.next_claim_ms - now < wait) wait = r.next_claim_ms - now;
        if (r.njobs > 0 && r.next_heartbeat_ms - now < wait) wait = r.next_heartbeat_ms - now;
        for (size_t i = 0; i < r.njobs; i++)
            if (r.jobs[i]->state != JOB_INFLIGHT && r.jobs[i]->retry_ms - now < wait)
                wait = r.jobs[i]->retry_ms - now;
        if (r.stopping && wait > 100) wait = 100;
        if (wait < 0) wait = 0;
        if (wait > 0) curl_multi_poll(r.multi, NULL, 0, (int)wait, NULL);
    }

    /* whatever is still in hand goes back to the queue (a step still in flight is
     * abandoned: its outside call may have happened, which Idempotency-Key covers) */
    size_t abandoned = r.njobs;
    while (r.njobs) {
        hand_back(&r, r.jobs[0]->run_id);
        job_remove(&r, 0);
    }
    if (abandoned) log_info("runner %s: handed back %zu runs", r.id, abandoned);
    free(r.jobs);
    curl_multi_cleanup(r.multi);
    arena_free(&r.tmp);
    arena_free(&r.turn);
    db_free(r.db);
    log_info("runner %s: stopped", r.id);
    return 0;
}

/* ---------------------------------------------------------------- the master */

struct work {
    const char *etc_dir;
    struct config *cfg;
    struct engine_conf *ec;
    struct estats_segment *estats;
};

static int work_child(void *ctx)
{
    const struct work *w = ctx;
    return runner_loop(w->cfg, w->ec, w->estats);
}

static void work_spec(const void *ctx, struct supervise_spec *out)
{
    const struct work *w = ctx;
    out->children = w->ec->workers;
    /* the runner itself gives up on steps after shutdown_timeout; the margin is for the
     * hand-back that follows */
    out->drain_seconds = w->ec->shutdown_timeout + 5;
}

static int work_reload(void *ctx)
{
    struct work *w = ctx;
    struct config_error err = {{0}};
    struct config *cfg = config_load_base(w->etc_dir, &err);
    if (!cfg) {
        log_error("reload refused, keeping the running config: %s", err.msg);
        return -1;
    }
    char ypath[4096];
    if (w->etc_dir) snprintf(ypath, sizeof ypath, "%s/engine.yaml", w->etc_dir);
    struct engine_conf *ec = engine_conf_load(w->etc_dir ? ypath : NULL, &err);
    if (!ec) {
        log_error("reload refused, keeping the running config: %s", err.msg);
        config_free(cfg);
        return -1;
    }
    config_free(w->cfg);
    engine_conf_free(w->ec);
    w->cfg = cfg;
    w->ec = ec;
    return 0;
}

int runner_work(const char *etc_dir, struct config *cfg, struct engine_conf *ec)
{
    log_set_role("master");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("libcurl failed to initialise");
        config_free(cfg);
        engine_conf_free(ec);
        return 1;
    }
    struct work w = {.etc_dir = etc_dir, .cfg = cfg, .ec = ec};
    /* mapped before the first fork: every runner, and every later one, counts into it; the
     * file outlives this process, so `serve` reads it and a restart does not reset it */
    const char *why;
    w.estats = estats_open(cfg->engine_metrics, &why);
    if (why) log_warn("%s (%s): the engine's counters are not exported", why, cfg->engine_metrics);
    if (!w.estats) mem_oom_abort();
    static const struct supervise_ops ops = {
        .child_role = "runner",
        .child_main = work_child,
        .spec = work_spec,
        .reload = work_reload,
        .stopping = NULL,
    };
    log_info("work: %d runners, %d steps in flight each", ec->workers, ec->concurrency);
    int rc = supervise_run(&ops, &w);
    log_info("stopped");
    config_free(w.cfg);
    engine_conf_free(w.ec);
    curl_global_cleanup();
    return rc;
}
