/* provider.h — the two model wire formats (ENGINE.md "ai", reference/providers.md): Gemini
 * `generateContent` and OpenAI-compatible `chat/completions` (OpenAI, Ollama, llama.cpp,
 * vLLM). Pure: builds request bodies and URLs, reads answers into an outcome, text, tokens
 * and a message. No network, no database, no environment, and never sees an API key (the
 * handler adds the key's header). */
#ifndef AIENGINE_PROVIDER_H
#define AIENGINE_PROVIDER_H

#include "buf.h"
#include "engine_conf.h"
#include "handler.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* What one call asks the model. */
struct provider_request {
    const char *model;
    const char *system; /* rendered system_prompt_text */
    const char *user;   /* rendered step_config.input, or the context's input as JSON */
    const struct json_object *generation_config; /* the prompt's, as stored; NULL: none */
    bool json_output;                            /* step_config.output == "json" */
};

/* A provider's answer, read. The json values are owned by the answer (provider_answer_free). */
struct provider_answer {
    enum step_outcome outcome;
    struct json_object *raw;    /* the response body as JSON; a JSON string of its text when
                                 * it is not JSON or is JSON null; NULL when there was no body */
    struct json_object *parsed; /* success only: {"text": …} or the JSON-mode value */
    long long input_tokens, output_tokens, total_tokens; /* -1 each: no usage reported */
    char error[STEP_ERROR_MAX];                          /* RETRY/FAILURE message */
};

/* The request body (a new object the caller puts). Gemini: systemInstruction, contents
 * (one user turn), generationConfig = the stored object (copied) plus responseMimeType
 * "application/json" in JSON mode. OpenAI: model, messages (system, user), temperature,
 * top_p and max_tokens (from max_tokens, max_output_tokens or maxOutputTokens; topP is
 * read too) from generation_config, response_format {"type":"json_object"} in JSON mode. */
struct json_object *provider_request_body(enum engine_api api, const struct provider_request *rq);

/* Append the call's URL to out: {base}/models/{model}:generateContent (the model
 * percent-encoded) or {base}/chat/completions. */
void provider_url(enum engine_api api, const char *base_url, const char *model, struct buf *out);

/* Read an HTTP answer: status and body (n bytes, need not be NUL-terminated). Sets every
 * field of *a (which the caller zeroes or frees first). 2xx: text → SUCCESS; a body that
 * is not JSON, has no text, or (JSON mode) text that does not parse → RETRY; a safety
 * block → FAILURE "blocked by the provider: <reason>". 408, 429, 5xx → RETRY; other
 * statuses → FAILURE; both with the provider's error message when it sent one. Tokens are
 * read whatever the outcome (Gemini output = candidates + thoughts). */
void provider_parse(enum engine_api api, long status, const char *body, size_t n, bool json_output,
                    struct provider_answer *a);

void provider_answer_free(struct provider_answer *a);

#endif
