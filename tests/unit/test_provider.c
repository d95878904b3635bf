/* test_provider.c — unit tests for provider.c (the Gemini and OpenAI wire formats) and the
 * ai handler's accounting (ai.c): request bodies and URLs, answers read from recorded
 * fixtures in tests/fixtures/providers/ (multi-part candidates, thought parts, safety blocks
 * with no text, OpenAI's null content, missing usage, provider errors), the classification
 * of every status, and tokens and exact cost with etc/engine.yaml's prices. Run from the
 * repository root (make unit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ai.h"
#include "provider.h"

static char *slurp(const char *name, size_t *n)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/providers/%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    assert_int_equal(fread(s, 1, (size_t)len, f), (size_t)len);
    s[len] = '\0';
    fclose(f);
    *n = (size_t)len;
    return s;
}

/* Parse fixture `name` answered with `status`. */
static void parse_fixture(enum engine_api api, long status, const char *name, bool json_output,
                          struct provider_answer *a)
{
    size_t n;
    char *s = slurp(name, &n);
    provider_parse(api, status, s, n, json_output, a);
    free(s);
}

static const char *text_of(const struct provider_answer *a)
{
    struct json_object *t = NULL;
    assert_true(json_object_object_get_ex(a->parsed, "text", &t));
    return json_object_get_string(t);
}

static void assert_json(const struct json_object *v, const char *want)
{
    struct json_object *w = json_tokener_parse(want);
    assert_non_null(w);
    if (!json_object_equal((struct json_object *)v, w)) {
        fprintf(stderr, "got  %s\nwant %s\n",
                json_object_to_json_string_ext((struct json_object *)v, JSON_C_TO_STRING_PLAIN),
                want);
        fail();
    }
    json_object_put(w);
}

/* ---------------------------------------------------------------- requests */

static void test_gemini_request_body(void **state)
{
    (void)state;
    struct json_object *gc = json_tokener_parse("{\"temperature\":0.2,\"maxOutputTokens\":512}");
    struct provider_request rq = {.model = "gemini-2.5-flash",
                                  .system = "You are a CRM assistant.",
                                  .user = "Write to Ana at Acme.",
                                  .generation_config = gc,
                                  .json_output = true};
    struct json_object *b = provider_request_body(ENGINE_API_GEMINI, &rq);
    assert_json(b, "{\"systemInstruction\":{\"parts\":[{\"text\":\"You are a CRM assistant.\"}]},"
                   "\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Write to Ana at "
                   "Acme.\"}]}],\"generationConfig\":{\"temperature\":0.2,\"maxOutputTokens\":"
                   "512,\"responseMimeType\":\"application/json\"}}");
    json_object_put(b);
    /* the stored config is not changed by JSON mode */
    assert_json(gc, "{\"temperature\":0.2,\"maxOutputTokens\":512}");

    /* text mode keeps the config as stored, snake_case included */
    json_object_put(gc);
    gc = json_tokener_parse("{\"max_output_tokens\":5,\"response_mime_type\":\"text/plain\"}");
    rq.generation_config = gc;
    rq.json_output = false;
    b = provider_request_body(ENGINE_API_GEMINI, &rq);
    struct json_object *g = NULL;
    assert_true(json_object_object_get_ex(b, "generationConfig", &g));
    assert_json(g, "{\"max_output_tokens\":5,\"response_mime_type\":\"text/plain\"}");
    json_object_put(b);
    /* JSON mode: one spelling of the mime type */
    rq.json_output = true;
    b = provider_request_body(ENGINE_API_GEMINI, &rq);
    assert_true(json_object_object_get_ex(b, "generationConfig", &g));
    assert_json(g, "{\"max_output_tokens\":5,\"responseMimeType\":\"application/json\"}");
    json_object_put(b);

    /* no config, no system: neither is sent */
    rq.generation_config = NULL;
    rq.system = "";
    rq.json_output = false;
    b = provider_request_body(ENGINE_API_GEMINI, &rq);
    assert_json(b, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Write to Ana at "
                   "Acme.\"}]}]}");
    json_object_put(b);
    json_object_put(gc);
}

static void test_openai_request_body(void **state)
{
    (void)state;
    struct json_object *gc = json_tokener_parse(
        "{\"temperature\":0.2,\"topP\":0.5,\"maxOutputTokens\":512,\"topK\":3,\"stop\":\"x\"}");
    struct provider_request rq = {.model = "llama3.1:8b",
                                  .system = "sys",
                                  .user = "usr",
                                  .generation_config = gc,
                                  .json_output = true};
    struct json_object *b = provider_request_body(ENGINE_API_OPENAI, &rq);
    assert_json(b, "{\"model\":\"llama3.1:8b\",\"messages\":[{\"role\":\"system\",\"content\":"
                   "\"sys\"},{\"role\":\"user\",\"content\":\"usr\"}],\"temperature\":0.2,"
                   "\"top_p\":0.5,\"max_tokens\":512,\"response_format\":{\"type\":"
                   "\"json_object\"}}");
    json_object_put(b);
    json_object_put(gc);

    /* snake_case and max_tokens spellings; non-numbers are not sent */
    gc = json_tokener_parse("{\"top_p\":1,\"max_output_tokens\":64,\"temperature\":\"hot\"}");
    rq.generation_config = gc;
    rq.json_output = false;
    rq.system = NULL;
    b = provider_request_body(ENGINE_API_OPENAI, &rq);
    assert_json(b, "{\"model\":\"llama3.1:8b\",\"messages\":[{\"role\":\"user\",\"content\":"
                   "\"usr\"}],\"top_p\":1,\"max_tokens\":64}");
    json_object_put(b);
    json_object_put(gc);
}

static void test_urls(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    provider_url(ENGINE_API_GEMINI, "https://generativelanguage.googleapis.com/v1beta",
                 "gemini-2.5-flash", &b);
    assert_string_equal(
        b.data,
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent");
    buf_reset(&b);
    provider_url(ENGINE_API_GEMINI, "http://h/v1beta", "a/b?c d", &b);
    assert_string_equal(b.data, "http://h/v1beta/models/a%2Fb%3Fc%20d:generateContent");
    buf_reset(&b);
    provider_url(ENGINE_API_OPENAI, "http://127.0.0.1:11434/v1", "llama3.1:8b", &b);
    assert_string_equal(b.data, "http://127.0.0.1:11434/v1/chat/completions");
    buf_free(&b);
}

/* ---------------------------------------------------------------- answers */

static void test_gemini_multipart_candidate(void **state)
{
    (void)state;
    struct provider_answer a;
    parse_fixture(ENGINE_API_GEMINI, 200, "gemini_multipart.json", false, &a);
    assert_int_equal(a.outcome, STEP_SUCCESS);
    assert_string_equal(text_of(&a), "Hi Ana, thanks for your interest in Acme.");
    assert_int_equal(a.input_tokens, 31);
    assert_int_equal(a.output_tokens, 54 + 120); /* thinking is billed as output */
    assert_int_equal(a.total_tokens, 205);
    struct json_object *v = NULL;
    assert_true(json_object_object_get_ex(a.raw, "responseId", &v)); /* as received */
    provider_answer_free(&a);
}

static void test_gemini_thought_parts_are_skipped(void **state)
{
    (void)state;
    struct provider_answer a;
    parse_fixture(ENGINE_API_GEMINI, 200, "gemini_thought.json", false, &a);
    assert_int_equal(a.outcome, STEP_SUCCESS);
    assert_string_equal(text_of(&a), "Hello Ana");
    assert_int_equal(a.input_tokens, 12);
    assert_int_equal(a.output_tokens, 40);
    assert_int_equal(a.total_tokens, 52);
    provider_answer_free(&a);
}

static void test_gemini_safety_blocks(void **state)
{
    (void)state;
    struct provider_answer a;
    parse_fixture(ENGINE_API_GEMINI, 200, "gemini_safety_candidate.json", false, &a);
    assert_int_equal(a.outcome, STEP_FAILURE);
    assert_string_equal(a.error, "blocked by the provider: SAFETY");
    assert_null(a.parsed);
    assert_int_equal(a.input_tokens, 9);
    assert_int_equal(a.output_tokens, 0);
    assert_int_equal(a.total_tokens, 9);
    provider_answer_free(&a);

    parse_fixture(ENGINE_API_GEMINI, 200, "gemini_safety_prompt.json", true, &a);
    assert_int_equal(a.outcome, STEP_FAILURE);
    assert_string_equal(a.error, "blocked by the provider: SAFETY");
    assert_int_equal(a.total_tokens, 14);
    provider_answer_free(&a);

    parse_fixture(ENGINE_API_GEMINI, 200, "gemini_recitation.json", false, &a);
    assert_int_equal(a.outcome, STEP_FAILURE);
    assert_string_equal(a.error, "blocked by the provider: RECITATION");
    provider_answer_free(&a);
}

static void test_gemini_no_text_and_no_usage(void **state)
{
    (void)state;
    struct provider_answer a;
    /* all the budget went on thinking: no text, retryable, but the tokens were spent */
    parse_fixture(ENGINE_API_GEMINI, 200, "gemini_max_tokens_empty.json", false, &a);
    assert_int_equal(a.outcome, STEP_RETRY);
    assert_string_equal(a.error, "the provider's answer has no text");
    assert_int_equal(a.output_tokens, 512);
    assert_int_equal(a.total_tokens, 552);
    provider_answer_free(&a);

    parse_fixture(ENGINE_API_GEMINI, 200, "gemini_no_usage.json", false, &a);
    assert_int_equal(a.outcome, STEP_SUCCESS);
    assert_string_equal(text_of(&a), "ok");
    assert_int_equal(a.input_tokens, -1);
    assert_int_equal(a.output_tokens, -1);
    assert_int_equal(a.total_tokens, -1);
    provider_answer_free(&a);

    static const char *const empty[] = {
        "{}",
        "{\"candidates\":[]}",
        "{\"candidates\":[{\"content\":{\"parts\":[]}}]}",
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\"}]}}]}",
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\","
        "\"thought\":true}]}}]}",
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":7}]}}]}",
        "{\"candidates\":{}}"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
        provider_parse(ENGINE_API_GEMINI, 200, empty[i], strlen(empty[i]), false, &a);
        assert_int_equal(a.outcome, STEP_RETRY);
        assert_string_equal(a.error, "the provider's answer has no text");
        provider_answer_free(&a);
    }
}

static void test_gemini_json_mode(void **state)
{
    (void)state;
    struct provider_answer a;
    parse_fixture(ENGINE_API_GEMINI, 200, "gemini_json_mode.json", true, &a);
    assert_int_equal(a.outcome, STEP_SUCCESS);
    assert_json(a.parsed, "{\"sentiment\":\"positive\",\"score\":0.91}");
    provider_answer_free(&a);
    /* the same answer in text mode is text */
    parse_fixture(ENGINE_API_GEMINI, 200, "gemini_json_mode.json", false, &a);
    assert_string_equal(text_of(&a), "{\"sentiment\": \"positive\",\n \"score\": 0.91}");
    provider_answer_free(&a);
    /* text that is not JSON in JSON mode: retryable, tokens kept */
    parse_fixture(ENGINE_API_GEMINI, 200, "gemini_multipart.json", true, &a);
    assert_int_equal(a.outcome, STEP_RETRY);
    assert_string_equal(a.error, "the model's answer is not valid JSON");
    assert_null(a.parsed);
    assert_int_equal(a.total_tokens, 205);
    provider_answer_free(&a);
    /* any JSON value is a JSON answer; trailing text is not */
    const char *arr = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"[1,\"},{\"text\":"
                      "\"2] \"}]}}]}";
    provider_parse(ENGINE_API_GEMINI, 200, arr, strlen(arr), true, &a);
    assert_int_equal(a.outcome, STEP_SUCCESS);
    assert_json(a.parsed, "[1,2]");
    provider_answer_free(&a);
    /* a bare scalar is a JSON answer too (a yes/no question answered `true`) */
    const char *yes = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"true\"}]}}]}";
    provider_parse(ENGINE_API_GEMINI, 200, yes, strlen(yes), true, &a);
    assert_int_equal(a.outcome, STEP_SUCCESS);
    assert_json(a.parsed, "true");
    provider_answer_free(&a);
    const char *two = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"{} {}\"}]}}]}";
    provider_parse(ENGINE_API_GEMINI, 200, two, strlen(two), true, &a);
    assert_int_equal(a.outcome, STEP_RETRY);
    provider_answer_free(&a);
}

static void test_openai_answers(void **state)
{
    (void)state;
    struct provider_answer a;
    parse_fixture(ENGINE_API_OPENAI, 200, "openai_text.json", false, &a);
    assert_int_equal(a.outcome, STEP_SUCCESS);
    assert_string_equal(text_of(&a), "Hi Ana, thanks for reaching out.");
    assert_int_equal(a.input_tokens, 19);
    assert_int_equal(a.output_tokens, 10);
    assert_int_equal(a.total_tokens, 29);
    provider_answer_free(&a);

    /* null content (tool calls): no text, retryable, tokens counted */
    parse_fixture(ENGINE_API_OPENAI, 200, "openai_null_content.json", false, &a);
    assert_int_equal(a.outcome, STEP_RETRY);
    assert_string_equal(a.error, "the provider's answer has no text");
    assert_int_equal(a.total_tokens, 57);
    provider_answer_free(&a);

    parse_fixture(ENGINE_API_OPENAI, 200, "openai_content_filter.json", false, &a);
    assert_int_equal(a.outcome, STEP_FAILURE);
    assert_string_equal(a.error, "blocked by the provider: SAFETY");
    assert_int_equal(a.total_tokens, 22);
    provider_answer_free(&a);

    parse_fixture(ENGINE_API_OPENAI, 200, "openai_refusal.json", false, &a);
    assert_int_equal(a.outcome, STEP_FAILURE);
    assert_string_equal(a.error,
                        "blocked by the provider: refusal: I'm sorry, I can't help with that.");
    provider_answer_free(&a);

    parse_fixture(ENGINE_API_OPENAI, 200, "ollama_json_no_usage.json", true, &a);
    assert_int_equal(a.outcome, STEP_SUCCESS);
    assert_json(a.parsed, "{\"field\":\"status\",\"value\":\"hot\"}");
    assert_int_equal(a.total_tokens, -1);
    provider_answer_free(&a);

    const char *none = "{\"choices\":[]}";
    provider_parse(ENGINE_API_OPENAI, 200, none, strlen(none), false, &a);
    assert_int_equal(a.outcome, STEP_RETRY);
    provider_answer_free(&a);
    /* partial usage: the missing side counts as 0, total from the parts */
    const char *part = "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{"
                       "\"prompt_tokens\":4,\"completion_tokens\":6}}";
    provider_parse(ENGINE_API_OPENAI, 200, part, strlen(part), false, &a);
    assert_int_equal(a.total_tokens, 10);
    provider_answer_free(&a);
    /* counts past INT64_MAX (json-c clamps them) saturate instead of overflowing: the
     * input fuzz_gemini_answer found, under make test SANITIZE=1's UBSan */
    const char *huge = "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{"
                       "\"prompt_tokens\":99999999999999999999,\"completion_tokens\":6}}";
    provider_parse(ENGINE_API_OPENAI, 200, huge, strlen(huge), false, &a);
    assert_true(a.total_tokens == LLONG_MAX);
    provider_answer_free(&a);
    const char *thoughts = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}}],"
                           "\"usageMetadata\":{\"promptTokenCount\":12,\"candidatesTokenCount\":2,"
                           "\"thoughtsTokenCount\":9223372036854775807}}";
    provider_parse(ENGINE_API_GEMINI, 200, thoughts, strlen(thoughts), false, &a);
    assert_true(a.output_tokens == LLONG_MAX && a.total_tokens == LLONG_MAX);
    provider_answer_free(&a);
}

static void test_statuses_and_error_messages(void **state)
{
    (void)state;
    struct provider_answer a;
    parse_fixture(ENGINE_API_GEMINI, 429, "gemini_error_429.json", false, &a);
    assert_int_equal(a.outcome, STEP_RETRY);
    assert_string_equal(a.error, "HTTP 429 from the provider: Resource has been exhausted (e.g. "
                                 "check quota).");
    assert_int_equal(a.total_tokens, -1);
    assert_non_null(a.raw);
    provider_answer_free(&a);

    parse_fixture(ENGINE_API_GEMINI, 400, "gemini_error_400.json", false, &a);
    assert_int_equal(a.outcome, STEP_FAILURE);
    assert_non_null(strstr(a.error, "HTTP 400 from the provider: * GenerateContentRequest"));
    provider_answer_free(&a);

    parse_fixture(ENGINE_API_OPENAI, 401, "openai_error_401.json", false, &a);
    assert_int_equal(a.outcome, STEP_FAILURE);
    assert_non_null(strstr(a.error, "HTTP 401 from the provider: Incorrect API key provided"));
    provider_answer_free(&a);

    parse_fixture(ENGINE_API_OPENAI, 404, "ollama_error.json", false, &a);
    assert_int_equal(a.outcome, STEP_FAILURE);
    assert_string_equal(a.error, "HTTP 404 from the provider: model \"llama9\" not found, try "
                                 "pulling it first");
    provider_answer_free(&a);

    long retry[] = {408, 429, 500, 502, 503, 504, 599};
    for (size_t i = 0; i < sizeof retry / sizeof *retry; i++) {
        provider_parse(ENGINE_API_OPENAI, retry[i], "<html>busy</html>", 17, false, &a);
        assert_int_equal(a.outcome, STEP_RETRY);
        assert_json(a.raw, "\"<html>busy</html>\""); /* kept as text */
        provider_answer_free(&a);
    }
    long perm[] = {301, 302, 400, 401, 403, 404, 409, 413, 422, 425, 100, 0};
    for (size_t i = 0; i < sizeof perm / sizeof *perm; i++) {
        provider_parse(ENGINE_API_GEMINI, perm[i], "", 0, false, &a);
        assert_int_equal(a.outcome, STEP_FAILURE);
        assert_null(a.raw);
        provider_answer_free(&a);
    }
    provider_parse(ENGINE_API_GEMINI, 503, "", 0, false, &a);
    assert_string_equal(a.error, "HTTP 503 from the provider");
    provider_answer_free(&a);

    /* a 200 that is not a JSON object */
    static const char *const bad[] = {"",         "<<garbage>>", "[]",   "null",
                                      "\"text\"", "{\"a\":1",    "{} x", "\xff\xfe{}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        provider_parse(ENGINE_API_GEMINI, 200, bad[i], strlen(bad[i]), false, &a);
        assert_int_equal(a.outcome, STEP_RETRY);
        assert_string_equal(a.error, "the provider's answer is not a JSON object");
        if (bad[i][0]) assert_non_null(a.raw); /* the log always shows a non-empty body */
        provider_answer_free(&a);
    }
    /* JSON null (found by fuzz_openai_answer): kept as its text, not lost as SQL NULL */
    provider_parse(ENGINE_API_OPENAI, 201, "null\n", 5, false, &a);
    assert_int_equal(a.outcome, STEP_RETRY);
    assert_json(a.raw, "\"null\\n\"");
    provider_answer_free(&a);
    /* a huge provider message is cut, not overflowed */
    char big[4000];
    memcpy(big, "{\"error\":{\"message\":\"", 21);
    memset(big + 21, 'm', 3000);
    memcpy(big + 3021, "\"}}", 4);
    provider_parse(ENGINE_API_GEMINI, 400, big, strlen(big), false, &a);
    assert_true(strlen(a.error) < 700);
    provider_answer_free(&a);
}

/* ---------------------------------------------------------------- accounting */

static void test_tokens_and_exact_cost(void **state)
{
    (void)state;
    struct config_error err = {0};
    struct engine_conf *c = engine_conf_load("etc/engine.yaml", &err);
    assert_non_null(c);
    struct step_call call;
    step_call_init(&call);
    call.conf = c;
    const char *m = "gemini-2.5-flash-preview-05-20"; /* 0.15 in, 0.60 out */
    ai_account(&call, m, 31, 54 + 120, 205);
    assert_int_equal(call.token_usage, 205);
    /* 31 × 0.15 + 174 × 0.60 = 4.65 + 104.4 = 109.05 µ$ → 109 */
    assert_int_equal(call.cost_micros, 109);
    ai_account(&call, m, 10, 50, 60); /* 31.5 µ$ → half up → 32 */
    assert_int_equal(call.cost_micros, 32);
    ai_account(&call, m, 1000000, 1000000, 2000000);
    assert_int_equal(call.cost_micros, 750000);
    ai_account(&call, m, 1, 0, 1); /* 0.15 µ$ → 0 */
    assert_int_equal(call.cost_micros, 0);
    assert_int_equal(call.token_usage, 1);
    ai_account(&call, "gemini-2.5-flash", 10, 10, 20); /* no price */
    assert_int_equal(call.token_usage, 20);
    assert_int_equal(call.cost_micros, -1);
    ai_account(&call, m, -1, -1, -1); /* no usage */
    assert_int_equal(call.token_usage, -1);
    assert_int_equal(call.cost_micros, -1);
    /* past the log's columns (int, decimal(10,6)): unknown, never a failing commit */
    ai_account(&call, m, 2147483647, 0, 2147483647); /* the largest count; 322 $ */
    assert_int_equal(call.token_usage, 2147483647);
    assert_int_equal(call.cost_micros, 322122547);
    ai_account(&call, m, 3000000000, 5, 3000000005);
    assert_int_equal(call.token_usage, -1);
    assert_int_equal(call.cost_micros, -1);
    ai_account(&call, m, 0, 2000000000, 2000000000); /* 1,200 $: fits */
    assert_int_equal(call.cost_micros, 1200000000);
    engine_conf_free(c);

    /* a dear model: 2,000,000,000 output tokens at 20 $ per million is 40,000 $, past
     * decimal(10,6); the tokens are kept, the cost is unknown */
    FILE *in = fopen("etc/engine.yaml", "r");
    assert_non_null(in);
    char dir[] = "/tmp/aiengine-test-price-XXXXXX", path[64], line[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/engine.yaml", dir);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    while (fgets(line, sizeof line, in)) {
        fputs(line, out);
        if (!strncmp(line, "prices:", 7))
            fputs("  \"dear-model\": { input: 5, output: 20 }\n", out);
    }
    fclose(in);
    fclose(out);
    c = engine_conf_load(path, &err);
    assert_non_null(c);
    call.conf = c;
    ai_account(&call, "dear-model", 0, 2000000000, 2000000000);
    assert_int_equal(call.token_usage, 2000000000);
    assert_int_equal(call.cost_micros, -1);
    ai_account(&call, "dear-model", 0, 400000000, 400000000); /* 8,000 $: fits */
    assert_int_equal(call.cost_micros, 8000000000LL);
    engine_conf_free(c);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemini_request_body),
        cmocka_unit_test(test_openai_request_body),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_gemini_multipart_candidate),
        cmocka_unit_test(test_gemini_thought_parts_are_skipped),
        cmocka_unit_test(test_gemini_safety_blocks),
        cmocka_unit_test(test_gemini_no_text_and_no_usage),
        cmocka_unit_test(test_gemini_json_mode),
        cmocka_unit_test(test_openai_answers),
        cmocka_unit_test(test_statuses_and_error_messages),
        cmocka_unit_test(test_tokens_and_exact_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
