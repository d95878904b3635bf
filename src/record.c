/* record.c — fetch one record by id (see record.h). */
#include "record.h"

int record_fetch(struct ctx *c, const struct resource *r, unsigned long long id, bool lock,
                 struct db_result *res)
{
    struct db_param p = db_uint(id);
    int s =
        db_query(c->db, c->arena, lock ? r->select_by_id_for_update : r->select_by_id, &p, 1, res);
    return s == DB_OK ? 0 : req_db_fail(c, s);
}

int record_not_found(struct ctx *c, const struct resource *r, const char *id)
{
    return req_failf(c, REQ_E_NOT_FOUND, "No %s with id %s.", r->singular_label, id);
}
