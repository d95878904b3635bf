/* list.h — listings of a resource: the options a client may send (page, per_page, cursor,
 * sort, filter[...], include), the WHERE and ORDER BY they become, page or keyset
 * pagination, and the links/meta blocks Laravel's paginators write.
 *
 * Filters and sorts are checked against the resource's whitelists; values are bound
 * parameters. Errors go to ctx->err (req.h); this module knows no HTTP. */
#ifndef AIENGINE_LIST_H
#define AIENGINE_LIST_H

#include "req.h"
#include "resource.h"

/* Write one listing of r into c->out: every row, or with scope_fk the rows whose scope_fk
 * equals scope_id (a relation route). `pg_kind` is how it pages (the resource's own, or a
 * relation's `pagination:`); `order` is the sort used when ?sort= is absent.
 * Returns 0, or -1 with the error set. */
int list_write(struct ctx *c, const struct resource *r, enum pagination pg_kind,
               const struct sort_key *order, size_t norder, const struct field *scope_fk,
               unsigned long long scope_id);

#endif
