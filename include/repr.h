/* repr.h — a database row as Laravel serialises the model: every column in table order,
 * ids and ints as numbers, booleans as true/false, JSON columns as JSON values, decimals
 * as strings with their scale, timestamps as "YYYY-MM-DDTHH:MM:SS.ffffffZ". */
#ifndef AIENGINE_REPR_H
#define AIENGINE_REPR_H

#include "buf.h"
#include "db.h"
#include "resource.h"

#include <stdbool.h>

/* Write one member's key, `"name":`, preceded by a comma unless it is the object's first
 * (the key is built once at load: field.json_key). */
void repr_key(struct buf *out, const struct field *f, bool first);
/* Write one field's value. The cell comes from a SELECT of r->select_list. */
void repr_value(struct buf *out, const struct field *f, const struct db_cell *cell);
/* Write the row's fields as JSON object members without the braces ("\"id\":1,..."), so
 * callers can append included relations before closing the object. */
void repr_fields(struct buf *out, const struct resource *r, const struct db_cell *row);

#endif
