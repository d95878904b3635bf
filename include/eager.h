/* eager.h — ?include= eager loading and row output with included relations.
 *
 * An include costs one query per relation for a whole page of rows (WHERE key IN (...)),
 * never one per row. Relations come from the resource's compiled, includable ones only.
 * Errors go to ctx->err (req.h); this module knows no HTTP. */
#ifndef AIENGINE_EAGER_H
#define AIENGINE_EAGER_H

#include "db.h"
#include "query.h"
#include "req.h"
#include "resource.h"

#define EAGER_MAX_INCLUDES 8

struct eager_includes {
    const struct relation *rel[EAGER_MAX_INCLUDES];
    size_t n;
};

/* Parse ?include=a,b against r's includable relations (duplicates folded). Returns 0, or
 * -1 with a bad-request error naming the allowed relations. */
int eager_parse(struct ctx *c, const struct resource *r, const struct query *q,
                struct eager_includes *out);

/* Load the includes for `rows` (a SELECT of r->select_list) and write the rows as a JSON
 * array into c->out, each with its included relations. Returns 0 or -1 (error set). */
int eager_write_rows(struct ctx *c, const struct resource *r, const struct db_result *rows,
                     const struct eager_includes *inc);
/* The same for the first row alone, as {"data":{...}}. */
int eager_write_single(struct ctx *c, const struct resource *r, const struct db_result *res,
                       const struct eager_includes *inc);

#endif
