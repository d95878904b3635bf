/* engine_cli.c — event:fire and workflows:check (engine_cli.h). workflows:check applies the
 * same checks, with the same messages, as the runner does when a run reaches a step; what
 * depends on a run's context (a missing template variable, a templated url's host) can
 * only be found then. */
#include "engine_cli.h"
#include "admin.h"
#include "arena.h"
#include "buf.h"
#include "cond.h"
#include "db.h"
#include "repr.h"
#include "resource.h"
#include "runs.h"
#include "tmpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EF_OBJECT, EF_CONTEXT, EF_KEY };
static const struct cli_opt fire_opts[] = {
    [EF_OBJECT] = {"object", "ID", false, "the object the event is about (object_id)"},
    [EF_CONTEXT] = {"context", "JSON", false, "the run's input: a JSON object"},
    [EF_KEY] = {"idempotency-key", "KEY", false,
                "firing again with the same key replays the first answer"},
    {NULL, NULL, false, NULL},
};
const struct cli_command engine_cli_cmd_fire = {
    "event:fire",
    "EVENT",
    1,
    1,
    fire_opts,
    "Start a run of every active workflow whose trigger_event is EVENT; prints the runs as "
    "JSON."};
const struct cli_command engine_cli_cmd_cancel = {
    "run:cancel",
    "ID",
    1,
    1,
    NULL,
    "Cancel a run (not once it succeeded, failed or was cancelled); prints it as JSON."};
const struct cli_command engine_cli_cmd_retry = {
    "run:retry", "ID",
    1,           1,
    NULL,        "Queue a failed or cancelled run again at the step after its progress cursor."};
const struct cli_command engine_cli_cmd_check = {
    "workflows:check",
    NULL,
    0,
    0,
    NULL,
    "List every workflow step that cannot run (unknown type, invalid condition_rules, "
    "template errors, missing or archived prompt, url host not allowed); exits 1 if any."};

/* The runs `ids` as a JSON array, each exactly as the API shows it: a SELECT of the
 * workflow-runs resource's columns written by repr (one representation, in resources.yaml,
 * for the CLI and the API). */
static int write_runs(const struct config *cfg, struct db *db, struct arena *a,
                      const unsigned long long *ids, size_t n, struct buf *out)
{
    const struct resource *r = resource_find(cfg->resources, "workflow-runs");
    if (!r) return RUNS_E_DB;
    struct buf sql;
    buf_init(&sql, 0);
    /* identifiers only from resources.yaml; the id travels as a parameter */
    buf_printf(&sql, "SELECT %s FROM `%s` WHERE `%s` = ?", r->select_list, r->table, r->id->name);
    int rc = RUNS_OK;
    buf_putc(out, '[');
    bool first = true;
    for (size_t i = 0; i < n && rc == RUNS_OK; i++) {
        struct db_param p[] = {db_uint(ids[i])};
        struct db_result row;
        int s = db_query(db, a, sql.data, p, 1, &row);
        if (s != DB_OK) {
            rc = runs_of_db(s);
            break;
        }
        if (row.nrows == 0) continue; /* deleted with its workflow in between */
        if (!first) buf_putc(out, ',');
        first = false;
        buf_putc(out, '{');
        repr_fields(out, r, db_cell(&row, 0, 0));
        buf_putc(out, '}');
    }
    buf_putc(out, ']');
    buf_free(&sql);
    return rc;
}

int engine_cli_fire(const struct config *cfg, const struct cli_args *args)
{
    const char *event = args->arg[0];
    if (!event || !*event) {
        cli_usage(&engine_cli_cmd_fire, stderr);
        return 2;
    }
    const char *object = args->opt[EF_OBJECT];
    const char *context = args->opt[EF_CONTEXT];
    const char *key = args->opt[EF_KEY];
    struct json_object *input = NULL;
    if (context) {
        struct json_tokener *tok = json_tokener_new();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        input = json_tokener_parse_ex(tok, context, (int)strlen(context));
        bool ok = json_tokener_get_error(tok) == json_tokener_success &&
                  json_tokener_get_parse_end(tok) == strlen(context);
        json_tokener_free(tok);
        if (!ok || !json_object_is_type(input, json_type_object)) {
            fprintf(stderr, "error: --context must be a JSON object\n");
            json_object_put(input);
            return 2;
        }
    }
    struct db *db = admin_open_db(cfg);
    if (!db) {
        json_object_put(input);
        return 1;
    }
    struct arena a;
    arena_init(&a, 16 * 1024);
    struct runs_request req = {
        .event = event,
        .event_len = strlen(event),
        .object_id = object,
        .object_id_len = object ? strlen(object) : 0,
        .input = input,
        .idempotency_key = key,
        .key_len = key ? strlen(key) : 0,
    };
    struct runs_created made;
    int s = runs_create_for_event(db, &a, &req, &made);
    int rc = 0;
    if (s != RUNS_OK) {
        fprintf(stderr, "error: %s\n", runs_strerror(s));
        rc = 1;
    } else {
        struct buf out;
        buf_init(&out, 0);
        buf_puts(&out, "{\"data\":");
        s = write_runs(cfg, db, &a, made.ids, made.n, &out);
        buf_printf(&out, ",\"replayed\":%s}", made.replayed ? "true" : "false");
        if (s == RUNS_OK) {
            printf("%s\n", out.data);
        } else {
            fprintf(stderr, "error: %s\n", runs_strerror(s));
            rc = 1;
        }
        buf_free(&out);
    }
    arena_free(&a);
    db_free(db);
    json_object_put(input);
    return rc;
}

int engine_cli_run_change(const struct config *cfg, bool retry, const struct cli_args *args)
{
    char *end = NULL;
    unsigned long long id = args->nargs ? strtoull(args->arg[0], &end, 10) : 0;
    if (!id || !end || *end || args->arg[0][0] == '-') {
        fprintf(stderr, "usage: aiengine run:%s ID\n", retry ? "retry" : "cancel");
        return 2;
    }
    struct db *db = admin_open_db(cfg);
    if (!db) return 1;
    struct arena a;
    arena_init(&a, 16 * 1024);
    int s = retry ? runs_retry(db, &a, id) : runs_cancel(db, &a, id);
    struct buf out;
    buf_init(&out, 0);
    if (s == RUNS_OK) s = write_runs(cfg, db, &a, &id, 1, &out);
    if (s == RUNS_OK)
        printf("%s\n", out.data);
    else if (s == RUNS_E_CONFLICT)
        fprintf(stderr, "error: run %llu cannot be %s from its status\n", id,
                retry ? "retried" : "cancelled");
    else
        fprintf(stderr, "error: %s\n", runs_strerror(s));
    buf_free(&out);
    arena_free(&a);
    db_free(db);
    return s == RUNS_OK ? 0 : 1;
}

struct check {
    int problems;
    const char *wf, *wf_name, *step, *order, *type;
};

static void problem(struct check *c, const char *fmt, const char *a1, const char *a2)
{
    printf("workflow %s \"%s\" step %s (order %s, %s): ", c->wf, c->wf_name, c->step, c->order,
           c->type);
    printf(fmt, a1, a2);
    putchar('\n');
    c->problems++;
}

static const char *config_string(const struct json_object *config, const char *key)
{
    struct json_object *v = NULL;
    if (!config || !json_object_object_get_ex(config, key, &v)) return NULL;
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static void check_step(struct check *c, const struct engine_conf *ec, const struct db_cell *row)
{
    /* row: s.id, w.id, w.name, s.step_order, s.step_type, s.prompt_id, s.step_config,
     * s.condition_rules, p.id, p.status, p.system_prompt_text */
    char err[512];
    const struct engine_step_type *t = engine_step_type(ec, row[4].s);
    if (!t) problem(c, "unknown step type \"%s\"%s", row[4].s, "");
    struct json_object *rules = row[7].s ? json_tokener_parse(row[7].s) : NULL;
    if (cond_validate(rules, err, sizeof err) < 0)
        problem(c, "invalid condition_rules: %s%s", err, "");
    json_object_put(rules);
    struct json_object *config = row[6].s ? json_tokener_parse(row[6].s) : NULL;
    if (tmpl_check_json(config, err, sizeof err) != TMPL_OK)
        problem(c, "template error in step_config: %s%s", err, "");
    struct json_object *retry = NULL;
    struct engine_retry policy;
    if (json_object_is_type(config, json_type_object))
        json_object_object_get_ex(config, "retry", &retry);
    if (engine_retry_from_json(&ec->retry, retry, &policy, err, sizeof err) < 0)
        problem(c, "invalid step_config.retry: %s%s", err, "");
    if (t && t->handler == ENGINE_HANDLER_AI) {
        if (!row[5].s)
            problem(c, "no prompt (prompt_id is null)%s%s", "", "");
        else if (!row[8].s)
            problem(c, "prompt %s is missing%s", row[5].s, "");
        else if (!strcmp(row[9].s, "archived"))
            problem(c, "prompt %s is archived%s", row[5].s, "");
        else if (tmpl_check(row[10].s, row[10].len, err, sizeof err) != TMPL_OK)
            problem(c, "template error in prompt %s: %s", row[5].s, err);
    }
    if (t && t->handler == ENGINE_HANDLER_HTTP && !t->url) {
        const char *url = config_string(config, "url");
        char host[256];
        unsigned port;
        const char *why = NULL;
        if (!url || !*url)
            problem(c, "step_config.url is missing%s%s", "", "");
        else if (strstr(url, "{{"))
            ; /* its host depends on the run's context: checked when a run reaches it */
        else if (engine_url_endpoint(url, host, sizeof host, &port, &why) < 0)
            problem(c, "invalid url: %s%s", why ? why : "cannot parse it", "");
        else if (!engine_host_allowed(ec, host, port))
            problem(c, "host \"%s\" is not in allowed_hosts%s", host, "");
    }
    json_object_put(config);
}

int engine_cli_check(const struct config *cfg, const struct engine_conf *ec)
{
    struct db *db = admin_open_db(cfg);
    if (!db) return 1;
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct db_result r;
    int s = db_query(db, &a,
                     "SELECT s.id, w.id, w.name, s.step_order, s.step_type, s.prompt_id, "
                     "s.step_config, s.condition_rules, p.id, p.status, p.system_prompt_text "
                     "FROM workflow_steps s JOIN workflows w ON w.id = s.workflow_id "
                     "LEFT JOIN prompts p ON p.id = s.prompt_id "
                     "ORDER BY s.workflow_id, s.step_order, s.id",
                     NULL, 0, &r);
    if (s != DB_OK) {
        fprintf(stderr, "error: %s\n", db_error_message(db));
        arena_free(&a);
        db_free(db);
        return 1;
    }
    struct check c = {0};
    for (size_t i = 0; i < r.nrows; i++) {
        const struct db_cell *row = db_cell(&r, i, 0);
        c.step = row[0].s;
        c.wf = row[1].s;
        c.wf_name = row[2].s;
        c.order = row[3].s;
        c.type = row[4].s;
        check_step(&c, ec, row);
    }
    if (c.problems)
        printf("%d problem%s in %zu steps\n", c.problems, c.problems == 1 ? "" : "s", r.nrows);
    else
        printf("all %zu steps can run\n", r.nrows);
    arena_free(&a);
    db_free(db);
    return c.problems ? 1 : 0;
}
