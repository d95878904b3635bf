/* sqlb.h — SQL text and its bound parameters, built in the request arena.
 *
 * The text is assembled only from identifiers of the compiled resource set (whitelisted at
 * start-up); every value a client sent travels as a bound parameter. The text is capped at
 * SQLB_MAX_BYTES: a statement that would grow past it latches `overflow`, and sqlb_run then
 * refuses to run it (DB_ERROR, logged) instead of running a truncated statement. Parameters
 * grow in the arena without a fixed ceiling. Nothing here needs freeing. */
#ifndef AIENGINE_SQLB_H
#define AIENGINE_SQLB_H

#include "arena.h"
#include "db.h"
#include "resource.h"

#include <stdbool.h>
#include <stddef.h>

#define SQLB_MAX_BYTES (1024 * 1024)

struct sqlb {
    struct arena *a;
    char *s; /* NUL-terminated */
    size_t len, cap;
    bool overflow;
    struct db_param *params;
    size_t np, capp;
};

void sqlb_init(struct sqlb *q, struct arena *a);
void sqlb_puts(struct sqlb *q, const char *s);
void sqlb_printf(struct sqlb *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sqlb_param(struct sqlb *q, struct db_param p);
/* " ORDER BY `a` ASC, `b` DESC" (directions flipped when reverse). */
void sqlb_order(struct sqlb *q, const struct sort_key *keys, size_t n, bool reverse);
/* " IN (?,?,...)" binding vals; padded to a power of two (repeating the last value) so the
 * statement cache sees a handful of shapes. n must be at least 1. */
void sqlb_in_list(struct sqlb *q, const struct db_param *vals, size_t n);
/* Run the statement (db_query). DB_ERROR without running it when the text overflowed. */
int sqlb_run(struct sqlb *q, struct db *db, struct db_result *res);
/* The same through db_query_capped: DB_TOO_LARGE once the rows pass max_bytes. */
int sqlb_run_capped(struct sqlb *q, struct db *db, struct db_result *res, size_t max_bytes);
/* The same through db_query_once: no retry after a lost connection (autocommit writes). */
int sqlb_run_once(struct sqlb *q, struct db *db, struct db_result *res);

/* A value read back from the database (or a cursor) bound with its column's type: ids and
 * integers as numbers when they parse, else as text (copied into `a`). NULL s is SQL NULL. */
struct db_param sqlb_bind_text(struct arena *a, const struct field *f, const char *s, size_t n);

#endif
