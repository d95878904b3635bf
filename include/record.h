/* record.h — one record by id: the fetch every handler and write shares, and the message
 * for an id that is not there. Uses the statements each resource prepared at start-up. */
#ifndef AIENGINE_RECORD_H
#define AIENGINE_RECORD_H

#include "db.h"
#include "req.h"
#include "resource.h"

/* SELECT the row (FOR UPDATE when lock) into *res (0 or 1 rows). Returns 0, or -1 with the
 * database error set. */
int record_fetch(struct ctx *c, const struct resource *r, unsigned long long id, bool lock,
                 struct db_result *res);
/* Sets "No <resource> with id <id>." as a not-found error; returns -1. */
int record_not_found(struct ctx *c, const struct resource *r, const char *id);

#endif
