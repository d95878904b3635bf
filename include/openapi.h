/* openapi.h — the OpenAPI 3.1 document, generated from the compiled routes and resources,
 * so the published contract cannot drift from what the engine serves. */
#ifndef AIENGINE_OPENAPI_H
#define AIENGINE_OPENAPI_H

#include "buf.h"
#include "config.h"

/* Write the whole document as JSON into out (caller owns out). */
void openapi_write(const struct config *cfg, struct buf *out);

#endif
