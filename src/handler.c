/* handler.c — the step handler table and what every call shares: `http` (hook.c) and `ai`
 * (ai.c). */
#include "handler.h"
#include "ai.h"
#include "hook.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct step_handler *handler_for(enum engine_handler h)
{
    return h == ENGINE_HANDLER_HTTP ? &hook_handler : &ai_handler;
}

void step_call_init(struct step_call *call)
{
    memset(call, 0, sizeof *call);
    call->retry_after = -1;
    call->token_usage = -1;
    call->cost_micros = -1;
}

void step_call_fail(struct step_call *call, enum step_outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->error, sizeof call->error, fmt, ap);
    va_end(ap);
    call->outcome = o;
}

void step_call_release(struct step_call *call, const struct step_handler *h)
{
    if (h) h->release(call);
    call->easy = NULL;
    call->state = NULL;
    json_object_put(call->input_context);
    json_object_put(call->raw_output);
    json_object_put(call->parsed_output);
    call->input_context = call->raw_output = call->parsed_output = NULL;
}
