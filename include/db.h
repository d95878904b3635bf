/* db.h — one MariaDB connection per worker, prepared statements only.
 *
 * db_query() prepares a statement on first use and keeps it in a small per-connection
 * cache keyed by its SQL text (the text is built only from whitelisted identifiers, never
 * from request data; values always travel as bound parameters). A lost connection is
 * reopened transparently for statements outside a transaction; inside one the error is
 * returned and the caller rolls back. Errors are values (enum db_status), mapped to HTTP by
 * the caller; this module knows nothing about HTTP. */
#ifndef AIENGINE_DB_H
#define AIENGINE_DB_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>

enum db_status {
    DB_OK = 0,
    DB_UNAVAILABLE = -1,  /* cannot connect, or the connection died mid-transaction */
    DB_DUPLICATE = -2,    /* unique key violated (1062) */
    DB_NO_PARENT = -3,    /* foreign key: referenced row missing (1452) */
    DB_HAS_CHILDREN = -4, /* foreign key: restrict violated on delete (1451) */
    DB_ERROR = -5,        /* anything else: a bug or a schema mismatch, logged */
    DB_DEADLOCK = -6,     /* 1213: this transaction was chosen as the victim; retry it */
    DB_LOCK_TIMEOUT = -7, /* 1205: a lock was held too long; retrying would wait as long again */
    DB_TOO_LARGE = -8,    /* db_query_capped: the rows passed the caller's byte bound */
};

/* Connection settings (the `database:` block of aiengine.yaml). */
struct config_db {
    char *host, *socket, *user, *password, *name;
    unsigned port;
    unsigned connect_timeout, read_timeout, write_timeout;
    unsigned lock_wait_timeout; /* the session's innodb_lock_wait_timeout, < read_timeout */
    unsigned retry_after;
    unsigned statement_cache; /* prepared statements kept per worker */
};

enum db_param_type { DBP_NULL, DBP_INT, DBP_UINT, DBP_STR };

struct db_param {
    enum db_param_type type;
    long long i;
    unsigned long long u;
    const char *s;
    size_t len;
};

struct db_cell {
    const char *s; /* NUL-terminated, in the request arena; NULL for SQL NULL */
    size_t len;
};

struct db_result {
    size_t ncols, nrows;
    struct db_cell *cells; /* nrows * ncols, row-major */
    unsigned long long affected;
    unsigned long long insert_id;
};

static inline const struct db_cell *db_cell(const struct db_result *r, size_t row, size_t col)
{
    return &r->cells[row * r->ncols + col];
}

struct db;

/* Create a handle; does not connect yet (first use does). Caller frees with db_free. */
struct db *db_new(const struct config_db *cfg);
void db_free(struct db *db);
/* Connect now if not connected. Returns DB_OK or DB_UNAVAILABLE. */
int db_connect(struct db *db);
void db_disconnect(struct db *db);

/* Run one statement. Result cells are allocated in `a`; `res` may be NULL when the caller
 * needs no rows. Returns DB_OK or a negative enum db_status. */
int db_query(struct db *db, struct arena *a, const char *sql, const struct db_param *params,
             size_t nparams, struct db_result *res);

/* db_query, but the rows are read as they arrive and reading stops at DB_TOO_LARGE as soon as
 * their cells (a NULL counted as 4 bytes) pass max_bytes: the worker never holds a result
 * larger than that. max_bytes 0 means no bound (db_query). */
int db_query_capped(struct db *db, struct arena *a, const char *sql, const struct db_param *params,
                    size_t nparams, struct db_result *res, size_t max_bytes);

/* db_query without the transparent retry on a fresh connection: for a write in autocommit,
 * which the server may have applied before the connection was lost (DB_UNAVAILABLE then). */
int db_query_once(struct db *db, struct arena *a, const char *sql, const struct db_param *params,
                  size_t nparams, struct db_result *res);

int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);
bool db_in_transaction(const struct db *db);
/* Whether the server runs INSERT ... RETURNING (MariaDB 10.5+), as found at connect time
 * (connects first if needed; false when it cannot). MySQL takes the portable path. */
bool db_has_returning(struct db *db);

/* Non-prepared execution of trusted text (migration files only). */
int db_exec_script(struct db *db, const char *sql, size_t len);

const char *db_error_message(const struct db *db);
unsigned db_error_code(const struct db *db);
/* Round trips to the server since db_new (statements, transaction control); for the
 * debug counter the N+1 tests read. */
unsigned long db_round_trips(const struct db *db);
/* Microseconds spent in db_query and transaction control since db_new (the slow-request
 * log's and the metrics' database time). */
unsigned long long db_busy_us(const struct db *db);

static inline struct db_param db_int(long long v)
{
    return (struct db_param){.type = DBP_INT, .i = v};
}
static inline struct db_param db_uint(unsigned long long v)
{
    return (struct db_param){.type = DBP_UINT, .u = v};
}
static inline struct db_param db_str(const char *s, size_t n)
{
    return (struct db_param){.type = DBP_STR, .s = s, .len = n};
}
static inline struct db_param db_null(void)
{
    return (struct db_param){.type = DBP_NULL};
}

#endif
