/* repr.c — row serialisation. Values arrive as the text MariaDB returns; this module only
 * formats them by declared field type and never re-parses JSON columns (they are valid
 * JSON by the column's CHECK constraint and are copied through verbatim). */
#include "repr.h"
#include "value.h"

#include <string.h>

void repr_value(struct buf *out, const struct field *f, const struct db_cell *cell)
{
    if (!cell->s) {
        buf_puts(out, "null");
        return;
    }
    switch (f->type) {
    case FIELD_ID:
    case FIELD_FK:
    case FIELD_INT: buf_append(out, cell->s, cell->len); break;
    case FIELD_BOOL: buf_puts(out, cell->len == 1 && cell->s[0] == '0' ? "false" : "true"); break;
    case FIELD_JSON: buf_append(out, cell->s, cell->len); break;
    case FIELD_TIMESTAMP: {
        char iso[28];
        if (value_format_timestamp(cell->s, cell->len, iso) == 0)
            buf_json_cstr(out, iso);
        else
            buf_json_str(out, cell->s, cell->len);
        break;
    }
    case FIELD_STRING:
    case FIELD_TEXT:
    case FIELD_DECIMAL: buf_json_str(out, cell->s, cell->len); break;
    }
}

void repr_key(struct buf *out, const struct field *f, bool first)
{
    size_t skip = first ? 1 : 0; /* json_key is `,"name":` */
    buf_append(out, f->json_key + skip, f->json_key_len - skip);
}

void repr_fields(struct buf *out, const struct resource *r, const struct db_cell *row)
{
    for (size_t i = 0; i < r->nfields; i++) {
        repr_key(out, &r->fields[i], i == 0);
        repr_value(out, &r->fields[i], &row[i]);
    }
}
