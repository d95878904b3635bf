/* provider.c — Gemini and OpenAI-compatible request bodies and answers (provider.h).
 * Pure and total: any bytes from a provider give an outcome and a message, never a crash.
 * The answer is classified here and nowhere else, so the e2e tests, the unit fixtures and
 * the fuzzers all exercise the same decisions. Never sees an API key. */
#include "provider.h"
#include "jsonbody.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Longest text kept from a provider's answer (the response itself is capped by the
 * handler); longest error message quoted from a provider. */
#define PROVIDER_TEXT_MAX (8u * 1024 * 1024)
#define PROVIDER_MESSAGE_MAX 600

static struct json_object *get(const struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_is_type(o, json_type_object)) return NULL;
    if (!json_object_object_get_ex(o, key, &v)) return NULL;
    return v;
}

static const char *get_str(const struct json_object *o, const char *key)
{
    struct json_object *v = get(o, key);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool is_number(const struct json_object *v)
{
    return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

/* A token count: a non-negative integer, else -1. */
static long long get_count(const struct json_object *o, const char *key)
{
    struct json_object *v = get(o, key);
    if (!json_object_is_type(v, json_type_int)) return -1;
    int64_t n = json_object_get_int64(v);
    return n < 0 ? -1 : (long long)n;
}

/* ---------------------------------------------------------------- requests */

static struct json_object *text_parts(const char *text)
{
    struct json_object *part = json_object_new_object();
    json_object_object_add(part, "text", json_object_new_string(text));
    struct json_object *parts = json_object_new_array();
    json_object_array_add(parts, part);
    return parts;
}

static struct json_object *gemini_body(const struct provider_request *rq)
{
    struct json_object *body = json_object_new_object();
    if (rq->system && *rq->system) {
        struct json_object *si = json_object_new_object();
        json_object_object_add(si, "parts", text_parts(rq->system));
        json_object_object_add(body, "systemInstruction", si);
    }
    struct json_object *turn = json_object_new_object();
    json_object_object_add(turn, "role", json_object_new_string("user"));
    json_object_object_add(turn, "parts", text_parts(rq->user ? rq->user : ""));
    struct json_object *contents = json_object_new_array();
    json_object_array_add(contents, turn);
    json_object_object_add(body, "contents", contents);

    struct json_object *gc = NULL;
    if (json_object_is_type(rq->generation_config, json_type_object))
        json_object_deep_copy((struct json_object *)rq->generation_config, &gc, NULL);
    if (rq->json_output) {
        if (!gc) gc = json_object_new_object();
        /* one spelling only: the API refuses a field given twice */
        json_object_object_del(gc, "response_mime_type");
        json_object_object_add(gc, "responseMimeType", json_object_new_string("application/json"));
    }
    if (gc) json_object_object_add(body, "generationConfig", gc);
    return body;
}

static void copy_number(struct json_object *to, const char *to_key, const struct json_object *gc,
                        const char *const *names)
{
    for (; *names; names++) {
        struct json_object *v = get(gc, *names);
        if (is_number(v)) {
            json_object_object_add(to, to_key, json_object_get(v));
            return;
        }
    }
}

static struct json_object *openai_body(const struct provider_request *rq)
{
    struct json_object *body = json_object_new_object();
    json_object_object_add(body, "model", json_object_new_string(rq->model ? rq->model : ""));
    struct json_object *messages = json_object_new_array();
    if (rq->system && *rq->system) {
        struct json_object *m = json_object_new_object();
        json_object_object_add(m, "role", json_object_new_string("system"));
        json_object_object_add(m, "content", json_object_new_string(rq->system));
        json_object_array_add(messages, m);
    }
    struct json_object *m = json_object_new_object();
    json_object_object_add(m, "role", json_object_new_string("user"));
    json_object_object_add(m, "content", json_object_new_string(rq->user ? rq->user : ""));
    json_object_array_add(messages, m);
    json_object_object_add(body, "messages", messages);

    const struct json_object *gc = rq->generation_config;
    static const char *const temperature[] = {"temperature", NULL};
    static const char *const top_p[] = {"top_p", "topP", NULL};
    static const char *const max_tokens[] = {"max_tokens", "max_output_tokens", "maxOutputTokens",
                                             NULL};
    copy_number(body, "temperature", gc, temperature);
    copy_number(body, "top_p", gc, top_p);
    copy_number(body, "max_tokens", gc, max_tokens);
    if (rq->json_output) {
        struct json_object *rf = json_object_new_object();
        json_object_object_add(rf, "type", json_object_new_string("json_object"));
        json_object_object_add(body, "response_format", rf);
    }
    return body;
}

struct json_object *provider_request_body(enum engine_api api, const struct provider_request *rq)
{
    return api == ENGINE_API_GEMINI ? gemini_body(rq) : openai_body(rq);
}

void provider_url(enum engine_api api, const char *base_url, const char *model, struct buf *out)
{
    buf_puts(out, base_url);
    if (api == ENGINE_API_GEMINI) {
        buf_puts(out, "/models/");
        buf_url_encode(out, model, strlen(model));
        buf_puts(out, ":generateContent");
    } else {
        buf_puts(out, "/chat/completions");
    }
}

/* ---------------------------------------------------------------- answers */

static void set_error(struct provider_answer *a, enum step_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct provider_answer *a, enum step_outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->error, sizeof a->error, fmt, ap);
    va_end(ap);
    a->outcome = o;
}

/* The provider's own error message: {"error": {"message": …}} (Gemini, OpenAI) or
 * {"error": "…"} (Ollama), else NULL. */
static const char *error_message(const struct json_object *body)
{
    struct json_object *e = get(body, "error");
    if (json_object_is_type(e, json_type_string)) return json_object_get_string(e);
    const char *m = get_str(e, "message");
    return m ? m : get_str(body, "message");
}

/* The sum of two counts (each >= 0), saturating: json-c reads any larger integer as
 * INT64_MAX, and a provider's nonsense must not overflow (found by fuzz_gemini_answer). */
static long long add_counts(long long a, long long b)
{
    return a > LLONG_MAX - b ? LLONG_MAX : a + b;
}

static void read_usage(enum engine_api api, const struct json_object *body,
                       struct provider_answer *a)
{
    if (api == ENGINE_API_GEMINI) {
        struct json_object *u = get(body, "usageMetadata");
        if (!json_object_is_type(u, json_type_object)) return;
        long long in = get_count(u, "promptTokenCount");
        long long cand = get_count(u, "candidatesTokenCount");
        long long thoughts = get_count(u, "thoughtsTokenCount");
        long long total = get_count(u, "totalTokenCount");
        if (in < 0 && cand < 0 && thoughts < 0 && total < 0) return;
        a->input_tokens = in < 0 ? 0 : in;
        a->output_tokens = add_counts(cand < 0 ? 0 : cand, thoughts < 0 ? 0 : thoughts);
        a->total_tokens = total >= 0 ? total : add_counts(a->input_tokens, a->output_tokens);
    } else {
        struct json_object *u = get(body, "usage");
        if (!json_object_is_type(u, json_type_object)) return;
        long long in = get_count(u, "prompt_tokens");
        long long out = get_count(u, "completion_tokens");
        long long total = get_count(u, "total_tokens");
        if (in < 0 && out < 0 && total < 0) return;
        a->input_tokens = in < 0 ? 0 : in;
        a->output_tokens = out < 0 ? 0 : out;
        a->total_tokens = total >= 0 ? total : add_counts(a->input_tokens, a->output_tokens);
    }
}

/* Gemini finish reasons that mean the answer was withheld. */
static bool gemini_blocking(const char *reason)
{
    static const char *const blocked[] = {
        "SAFETY",       "RECITATION", "PROHIBITED_CONTENT",       "BLOCKLIST",       "SPII",
        "IMAGE_SAFETY", "LANGUAGE",   "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"};
    if (!reason) return false;
    for (size_t i = 0; i < sizeof blocked / sizeof *blocked; i++)
        if (!strcmp(reason, blocked[i])) return true;
    return false;
}

/* The answer's text into *text (NULL: none). Returns 0, or 1 when the answer was blocked
 * (a->error set). */
static int gemini_text(const struct json_object *body, struct buf *text, struct provider_answer *a)
{
    const char *block = get_str(get(body, "promptFeedback"), "blockReason");
    if (block) {
        set_error(a, STEP_FAILURE, "blocked by the provider: %s", block);
        return 1;
    }
    struct json_object *cands = get(body, "candidates");
    if (!json_object_is_type(cands, json_type_array) || json_object_array_length(cands) == 0)
        return 0;
    struct json_object *cand = json_object_array_get_idx(cands, 0);
    const char *finish = get_str(cand, "finishReason");
    if (gemini_blocking(finish)) {
        set_error(a, STEP_FAILURE, "blocked by the provider: %s", finish);
        return 1;
    }
    struct json_object *parts = get(get(cand, "content"), "parts");
    if (!json_object_is_type(parts, json_type_array)) return 0;
    size_t np = json_object_array_length(parts);
    for (size_t i = 0; i < np; i++) {
        struct json_object *p = json_object_array_get_idx(parts, i);
        struct json_object *thought = get(p, "thought");
        if (json_object_is_type(thought, json_type_boolean) && json_object_get_boolean(thought))
            continue;
        struct json_object *t = get(p, "text");
        if (json_object_is_type(t, json_type_string))
            buf_append(text, json_object_get_string(t), (size_t)json_object_get_string_len(t));
    }
    return 0;
}

static int openai_text(const struct json_object *body, struct buf *text, struct provider_answer *a)
{
    struct json_object *choices = get(body, "choices");
    if (!json_object_is_type(choices, json_type_array) || json_object_array_length(choices) == 0)
        return 0;
    struct json_object *choice = json_object_array_get_idx(choices, 0);
    struct json_object *msg = get(choice, "message");
    struct json_object *content = get(msg, "content");
    if (json_object_is_type(content, json_type_string) && json_object_get_string_len(content)) {
        buf_append(text, json_object_get_string(content),
                   (size_t)json_object_get_string_len(content));
        return 0;
    }
    /* content is null or empty: a filter, a refusal, or nothing at all */
    const char *finish = get_str(choice, "finish_reason");
    if (finish && !strcmp(finish, "content_filter")) {
        set_error(a, STEP_FAILURE, "blocked by the provider: SAFETY");
        return 1;
    }
    const char *refusal = get_str(msg, "refusal");
    if (refusal) {
        set_error(a, STEP_FAILURE, "blocked by the provider: refusal: %.*s", PROVIDER_MESSAGE_MAX,
                  refusal);
        return 1;
    }
    return 0;
}

void provider_parse(enum engine_api api, long status, const char *body, size_t n, bool json_output,
                    struct provider_answer *a)
{
    memset(a, 0, sizeof *a);
    a->input_tokens = a->output_tokens = a->total_tokens = -1;
    if (!body) n = 0;

    struct json_object *doc = NULL;
    bool is_json = jsonbody_value(body, n, &doc);
    /* a body of JSON null parses to no object: keep its text, so the log shows what came back */
    if (doc)
        a->raw = doc;
    else if (n > 0)
        a->raw = json_object_new_string_len(body, n > INT32_MAX ? INT32_MAX : (int)n);
    if (is_json) read_usage(api, doc, a);

    if (status < 200 || status > 299) {
        bool retry = status == 408 || status == 429 || (status >= 500 && status <= 599);
        a->outcome = retry ? STEP_RETRY : STEP_FAILURE;
        const char *m = is_json ? error_message(doc) : NULL;
        if (m)
            snprintf(a->error, sizeof a->error, "HTTP %ld from the provider: %.*s", status,
                     PROVIDER_MESSAGE_MAX, m);
        else
            snprintf(a->error, sizeof a->error, "HTTP %ld from the provider", status);
        return;
    }
    if (!is_json || !json_object_is_type(doc, json_type_object)) {
        set_error(a, STEP_RETRY, "the provider's answer is not a JSON object");
        return;
    }

    struct buf text;
    buf_init(&text, PROVIDER_TEXT_MAX);
    int blocked =
        api == ENGINE_API_GEMINI ? gemini_text(doc, &text, a) : openai_text(doc, &text, a);
    if (blocked) {
        buf_free(&text);
        return;
    }
    if (text.len == 0 || text.overflow) {
        if (text.overflow)
            set_error(a, STEP_RETRY, "the provider's answer is too long");
        else
            set_error(a, STEP_RETRY, "the provider's answer has no text");
        buf_free(&text);
        return;
    }
    if (json_output) {
        struct json_object *v = NULL;
        if (!jsonbody_value(text.data, text.len, &v)) {
            set_error(a, STEP_RETRY, "the model's answer is not valid JSON");
            buf_free(&text);
            return;
        }
        a->parsed = v; /* NULL for a JSON null: the log's parsed_output is then null */
    } else {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "text", json_object_new_string_len(text.data, (int)text.len));
        a->parsed = o;
    }
    a->outcome = STEP_SUCCESS;
    buf_free(&text);
}

void provider_answer_free(struct provider_answer *a)
{
    json_object_put(a->raw);
    json_object_put(a->parsed);
    a->raw = a->parsed = NULL;
}
