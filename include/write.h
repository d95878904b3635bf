/* write.h — creating and updating a record from a validated JSON body.
 *
 * A write whose validation reads the database runs in one transaction: the fillable fields
 * of c->body_json are checked with their compiled rules, converted to column values that
 * must fit the column (Laravel's messages when they do not), `unique` is checked against the
 * record as it will be, the INSERT or UPDATE runs, and the row is read back before the
 * commit. A deadlock retries the whole transaction (decided on enum db_status alone); any
 * other failure rolls back. A write whose validation reads nothing (and, for an update, has
 * no If-Match to check under the row lock) is one statement in autocommit instead: INSERT
 * ... RETURNING, or UPDATE (its dirty check in SQL) then SELECT.
 * Errors go to ctx->err (req.h); this module knows no HTTP. */
#ifndef AIENGINE_WRITE_H
#define AIENGINE_WRITE_H

#include "db.h"
#include "req.h"
#include "resource.h"

/* How many times a write transaction runs when it keeps losing deadlocks. */
#define WRITE_TX_ATTEMPTS 3

/* Insert c->body_json as a new r. On success returns 0 with *id and the committed row in
 * *row; -1 with the error set otherwise (nothing written). */
int write_store(struct ctx *c, const struct resource *r, unsigned long long *id,
                struct db_result *row);
/* Update record `id` of r from c->body_json (only the fields sent). On success returns 0
 * with the committed row in *row; -1 with the error set (not found, invalid, ...). A missing
 * record is not found whatever the body. */
int write_update(struct ctx *c, const struct resource *r, unsigned long long id,
                 const char *id_text, struct db_result *row);

#endif
