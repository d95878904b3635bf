/* ai.h — the `ai` step handler (ENGINE.md "Step handlers", ai): the step's prompt from the
 * database, rendered with the run's context, sent to the provider whose `models` glob
 * matches the prompt's model_name, the answer read by provider.c, tokens and cost
 * accounted. The API key is read from the environment at call time and goes only into the
 * request's header: never into a log row, a log line or an error message. */
#ifndef AIENGINE_AI_H
#define AIENGINE_AI_H

#include "handler.h"

/* Largest provider response kept; a larger one fails the step (it would again). */
#define AI_MAX_RESPONSE (4 * 1024 * 1024)
/* Largest rendered system prompt and user text. */
#define AI_MAX_PROMPT (1024 * 1024)

/* The prompt columns the handler reads, in this order (struct step_call's `prompt`). */
#define AI_PROMPT_COLUMNS                                                                          \
    "system_prompt_text, model_name, generation_config, template_variables, status"

extern const struct step_handler ai_handler;

/* The tokens and cost of an answer into call: token_usage = total, cost from the model's
 * price (-1 when it has none); both -1 when total < 0 (no usage reported) or when a figure
 * is past what the log's column holds (then with a warning). */
void ai_account(struct step_call *call, const char *model, long long input_tokens,
                long long output_tokens, long long total_tokens);

#endif
