/* crud.h — the generic resource handlers behind every api_resource route.
 *
 * Each takes the request context (route and resource already matched, token checked, body
 * parsed for writes) and either fills c->out/c->status (and Location) or sets c->err. The
 * handlers are the top of the engine: they read the path, pick the status of a success, and
 * call down into list.c (listings), eager.c (includes), write.c (validated writes) and
 * record.c (one row). */
#ifndef AIENGINE_CRUD_H
#define AIENGINE_CRUD_H

#include "req.h"

int crud_index(struct ctx *c);
int crud_show(struct ctx *c);
int crud_store(struct ctx *c);
int crud_update(struct ctx *c);
int crud_destroy(struct ctx *c);
int crud_relation(struct ctx *c);

#endif
