/* ai.c — the `ai` step handler (ai.h). Everything that can fail without the provider —
 * a missing or archived prompt, template variables, no provider for the model, a missing
 * key — fails the step before any connection. One transfer per step on the runner's multi
 * handle; the answer is classified by provider.c. The key lives only in the curl header
 * list, which is wiped before it is freed. */
#include "ai.h"
#include "buf.h"
#include "hook.h"
#include "log.h"
#include "mem.h"
#include "provider.h"
#include "tmpl.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct ai_state {
    struct handler_answer answer; /* the body (capped) and Retry-After */
    struct curl_slist *headers;
    char *body, *url;
    const char *model;
    enum engine_api api;
    bool json_output;
    int timeout_seconds;
};

void ai_account(struct step_call *call, const char *model, long long input_tokens,
                long long output_tokens, long long total_tokens)
{
    call->token_usage = -1;
    call->cost_micros = -1;
    if (total_tokens < 0) return;
    /* a provider may report anything: past the log's columns (handler.h) the step's commit
     * would fail and the run stay claimed, so the figure is unknown, as with no usage */
    if (total_tokens > STEP_TOKENS_MAX) {
        log_warn("model %s reported %lld tokens, more than a log can hold; recorded as unknown",
                 model, total_tokens);
        return;
    }
    call->token_usage = total_tokens;
    const struct engine_price *price = engine_price_for(call->conf, model);
    uint64_t micros = 0;
    if (!price || input_tokens < 0 || output_tokens < 0 ||
        engine_cost_micros(price, (uint64_t)input_tokens, (uint64_t)output_tokens, &micros))
        return;
    if (micros > (uint64_t)STEP_COST_MICROS_MAX) {
        log_warn("model %s: %lld + %lld tokens cost more than a log can hold; recorded as "
                 "unknown",
                 model, input_tokens, output_tokens);
        return;
    }
    call->cost_micros = (long long)micros;
}

/* A JSON column's value, or NULL for SQL NULL / an unparsable cell. */
static struct json_object *parse_column(const struct db_cell *c)
{
    return c->s ? json_tokener_parse(c->s) : NULL;
}

/* Add a header line, wiping the temporary copy (it may hold the key). */
static struct curl_slist *add_header(struct curl_slist *h, char *line)
{
    struct curl_slist *n = curl_slist_append(h, line);
    OPENSSL_cleanse(line, strlen(line));
    if (!n) mem_oom_abort();
    return n;
}

static int ai_start(struct step_call *call)
{
    if (call->prompt_id == 0) {
        step_call_fail(call, STEP_FAILURE, "no prompt (prompt_id is null)");
        return 0;
    }
    struct db_result res;
    int s = DB_OK;
    if (call->prompt) {
        /* the runner's copy lives for this turn only; what the call keeps (the model)
         * must live until release */
        res = *call->prompt;
        size_t n = res.nrows * res.ncols;
        res.cells = arena_alloc(call->arena, (n ? n : 1) * sizeof *res.cells);
        for (size_t i = 0; i < n; i++) {
            const struct db_cell *c = &call->prompt->cells[i];
            res.cells[i].s = c->s ? arena_strndup(call->arena, c->s, c->len) : NULL;
            res.cells[i].len = c->len;
        }
    } else {
        struct db_param p[] = {db_uint(call->prompt_id)};
        s = db_query(call->db, call->arena,
                     "SELECT " AI_PROMPT_COLUMNS " FROM prompts WHERE id = ?", p, 1, &res);
    }
    if (s != DB_OK) {
        step_call_fail(call, STEP_RETRY, "cannot read prompt %llu: %s", call->prompt_id,
                       db_error_message(call->db));
        return 0;
    }
    if (res.nrows == 0) {
        step_call_fail(call, STEP_FAILURE, "prompt %llu is missing", call->prompt_id);
        return 0;
    }
    const char *system_tpl = db_cell(&res, 0, 0)->s ? db_cell(&res, 0, 0)->s : "";
    const char *model = db_cell(&res, 0, 1)->s ? db_cell(&res, 0, 1)->s : "";
    const char *status = db_cell(&res, 0, 4)->s;
    if (status && !strcmp(status, "archived")) {
        step_call_fail(call, STEP_FAILURE, "prompt %llu is archived", call->prompt_id);
        return 0;
    }

    char err[512] = "";
    struct json_object *names = parse_column(db_cell(&res, 0, 3));
    int t = tmpl_check_names(names, call->context, err, sizeof err);
    json_object_put(names);
    if (t == TMPL_EMISSING) {
        step_call_fail(call, STEP_FAILURE, "%s", err);
        return 0;
    }
    if (t != TMPL_OK) {
        step_call_fail(call, STEP_FAILURE, "invalid template_variables of prompt %llu: %s",
                       call->prompt_id, err);
        return 0;
    }
    struct buf system;
    buf_init(&system, AI_MAX_PROMPT);
    t = tmpl_render(system_tpl, strlen(system_tpl), call->context, &system, err, sizeof err);
    if (t != TMPL_OK) {
        buf_free(&system);
        if (t == TMPL_ESYNTAX)
            step_call_fail(call, STEP_FAILURE, "template error in prompt %llu: %s", call->prompt_id,
                           err);
        else
            step_call_fail(call, STEP_FAILURE, "%s", err);
        return 0;
    }

    /* the user turn: step_config.input (already rendered by the runner), else the input */
    struct buf user;
    buf_init(&user, AI_MAX_PROMPT);
    struct json_object *input = NULL;
    if (!json_object_is_type(call->config, json_type_object) ||
        !json_object_object_get_ex(call->config, "input", &input)) {
        input = NULL;
        struct json_object *ctx = (struct json_object *)call->context;
        if (!json_object_object_get_ex(ctx, "input", &input)) input = NULL;
    }
    if (json_object_is_type(input, json_type_string))
        buf_append(&user, json_object_get_string(input), (size_t)json_object_get_string_len(input));
    else
        tmpl_json(&user, input);
    if (user.overflow) {
        buf_free(&system);
        buf_free(&user);
        step_call_fail(call, STEP_FAILURE, "the user text is longer than %d bytes", AI_MAX_PROMPT);
        return 0;
    }

    struct json_object *gc = parse_column(db_cell(&res, 0, 2));
    bool json_output = false;
    struct json_object *out = NULL;
    if (json_object_is_type(call->config, json_type_object) &&
        json_object_object_get_ex(call->config, "output", &out) &&
        json_object_is_type(out, json_type_string) && !strcmp(json_object_get_string(out), "json"))
        json_output = true;

    const struct engine_provider *prov = engine_provider_for(call->conf, model);
    struct json_object *ic = json_object_new_object();
    json_object_object_add(ic, "provider", prov ? json_object_new_string(prov->name) : NULL);
    json_object_object_add(ic, "model", json_object_new_string(model));
    json_object_object_add(
        ic, "system", json_object_new_string_len(system.data ? system.data : "", (int)system.len));
    json_object_object_add(ic, "user",
                           json_object_new_string_len(user.data ? user.data : "", (int)user.len));
    json_object_object_add(ic, "generation_config", json_object_get(gc));
    call->input_context = ic;

    struct provider_request rq = {
        .model = model,
        .system = system.data ? system.data : "",
        .user = user.data ? user.data : "",
        .generation_config = gc,
        .json_output = json_output,
    };
    const char *key = NULL;
    bool fail = true;
    if (!prov)
        step_call_fail(call, STEP_FAILURE, "no provider serves model \"%s\"", model);
    else if (gc && !json_object_is_type(gc, json_type_object))
        step_call_fail(call, STEP_FAILURE, "generation_config of prompt %llu is not an object",
                       call->prompt_id);
    else if (engine_provider_key(prov, &key) < 0)
        step_call_fail(call, STEP_FAILURE, "no API key for provider \"%s\": %s is not set",
                       prov->name, prov->api_key_env);
    else
        fail = false;
    if (fail) {
        json_object_put(gc);
        buf_free(&system);
        buf_free(&user);
        return 0;
    }

    struct json_object *body = provider_request_body(prov->api, &rq);
    struct ai_state *st = mem_calloc(1, sizeof *st);
    st->body = mem_strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(body);
    json_object_put(gc);
    buf_free(&system);
    buf_free(&user);
    struct buf url;
    buf_init(&url, 0);
    provider_url(prov->api, prov->base_url, model, &url);
    st->url = mem_strdup(url.data);
    buf_free(&url);
    handler_answer_init(&st->answer, AI_MAX_RESPONSE);
    st->model = model; /* in call->arena, alive until release */
    st->api = prov->api;
    st->json_output = json_output;
    st->timeout_seconds = call->conf->step_timeout_seconds;

    char line[1024];
    st->headers = curl_slist_append(st->headers, "Content-Type: application/json");
    st->headers = curl_slist_append(st->headers, "Accept: application/json");
    st->headers = curl_slist_append(st->headers, "Expect:");
    snprintf(line, sizeof line, "Idempotency-Key: run-%llu-step-%llu", call->run_id, call->step_id);
    st->headers = add_header(st->headers, line);
    if (key) {
        size_t kl = strlen(key);
        char *kline = mem_alloc(kl + 32);
        if (prov->api == ENGINE_API_GEMINI)
            snprintf(kline, kl + 32, "x-goog-api-key: %s", key);
        else
            snprintf(kline, kl + 32, "Authorization: Bearer %s", key);
        st->headers = add_header(st->headers, kline);
        free(kline);
    }

    CURL *e =
        handler_easy(st->url, NULL, st->body, st->headers, (long)st->timeout_seconds, &st->answer);
    call->easy = e;
    call->state = st;
    return 1;
}

static void ai_finish(struct step_call *call, CURLcode rc)
{
    struct ai_state *st = call->state;
    if (rc != CURLE_OK) {
        handler_transport_failed(call, rc, st->timeout_seconds);
        return;
    }
    long status = 0;
    curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
    call->retry_after = st->answer.retry_after;
    if (st->answer.body.overflow) {
        step_call_fail(call, STEP_FAILURE, "the provider's answer is larger than %d bytes",
                       AI_MAX_RESPONSE);
        return;
    }
    struct provider_answer a;
    provider_parse(st->api, status, st->answer.body.data, st->answer.body.len, st->json_output, &a);
    call->raw_output = a.raw;
    call->outcome = a.outcome;
    if (a.outcome == STEP_SUCCESS) {
        call->parsed_output = a.parsed;
    } else {
        json_object_put(a.parsed);
        snprintf(call->error, sizeof call->error, "%s", a.error);
    }
    ai_account(call, st->model, a.input_tokens, a.output_tokens, a.total_tokens);
}

static void wipe_headers(struct curl_slist *h)
{
    for (; h; h = h->next)
        if (h->data) OPENSSL_cleanse(h->data, strlen(h->data));
}

static void ai_release(struct step_call *call)
{
    struct ai_state *st = call->state;
    if (call->easy) curl_easy_cleanup(call->easy);
    if (!st) return;
    buf_free(&st->answer.body);
    wipe_headers(st->headers);
    curl_slist_free_all(st->headers);
    free(st->body);
    free(st->url);
    free(st);
}

const struct step_handler ai_handler = {
    .name = "ai",
    .start = ai_start,
    .finish = ai_finish,
    .release = ai_release,
};
