/* app.h — the dispatcher: route → authenticate → ability → body checks → handler, and the
 * one table that turns an error kind (req.h) into an HTTP status and a JSON body. This is
 * the only layer above the handlers; nothing below it knows HTTP status codes. */
#ifndef AIENGINE_APP_H
#define AIENGINE_APP_H

#include "req.h"

/* Dispatch one request: route, authenticate, authorize, parse body, run the handler, and
 * on failure write the error response. Always leaves a complete response in ctx. */
void app_handle(struct ctx *c);
/* Write ctx->err as the response (status, headers such as Retry-After, JSON body). */
void app_write_error(struct ctx *c);
/* "OK", "Not Found", ... for a status line. */
const char *app_status_text(int status);

#endif
