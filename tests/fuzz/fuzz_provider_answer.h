/* fuzz_provider_answer.h — the one harness behind fuzz_gemini_answer.c and
 * fuzz_openai_answer.c: provider_parse for one wire format. Byte 0 picks the HTTP status and
 * JSON mode, the rest is the answer body. Any bytes must give a valid outcome: SUCCESS with a
 * parsed value (text mode: {"text": non-empty string}), or RETRY / FAILURE with a message;
 * tokens are either all unknown or all non-negative. */
#ifndef AIENGINE_FUZZ_PROVIDER_ANSWER_H
#define AIENGINE_FUZZ_PROVIDER_ANSWER_H
#include "provider.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline int fuzz_provider_answer(enum engine_api api, const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 200, 200, 200, 201, 400, 429, 500};
    if (size == 0 || size > 1 << 20) return 0;
    long status = statuses[data[0] & 7];
    bool json_output = (data[0] & 8) != 0;
    struct provider_answer a;
    provider_parse(api, status, (const char *)data + 1, size - 1, json_output, &a);
    switch (a.outcome) {
    case STEP_SUCCESS: {
        if (status < 200 || status > 299 || a.error[0]) abort();
        if (!json_output) {
            struct json_object *t = NULL;
            if (!json_object_object_get_ex(a.parsed, "text", &t)) abort();
            if (!json_object_is_type(t, json_type_string) || !json_object_get_string_len(t))
                abort();
        }
        if (!a.raw) abort();
        break;
    }
    case STEP_RETRY:
    case STEP_FAILURE:
        if (!a.error[0] || a.parsed) abort();
        if (strlen(a.error) >= STEP_ERROR_MAX) abort();
        break;
    default: abort();
    }
    bool none = a.input_tokens < 0 && a.output_tokens < 0 && a.total_tokens < 0;
    bool all = a.input_tokens >= 0 && a.output_tokens >= 0 && a.total_tokens >= 0;
    if (!none && !all) abort();
    if (size > 1 && !a.raw) abort();
    /* the serialisation the log row gets must work */
    if (a.raw && !json_object_to_json_string_ext(a.raw, JSON_C_TO_STRING_PLAIN)) abort();
    provider_answer_free(&a);
    return 0;
}

#endif
