/* fuzz_openai_answer.c — libFuzzer: provider_parse for the openai wire format (the
 * harness and what it checks: fuzz_provider_answer.h). */
#include "fuzz_provider_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_provider_answer(ENGINE_API_OPENAI, data, size);
}
