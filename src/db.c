/* db.c — libmariadb connection, statement cache, parameter binding, error mapping.
 *
 * Statements are prepared once per connection and reused; results are fetched as strings
 * (the serialiser formats them by declared field type) and copied into the request arena.
 * Must never interpolate a value into SQL text. */
#include "db.h"
#include "log.h"
#include "mono.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STMT_CACHE 128 /* the most database.statement_cache may ask for */
#define STMT_CACHE_MIN 4

struct stmt_entry {
    char *sql;
    unsigned long hash;
    MYSQL_STMT *stmt;
    unsigned long last_use;
};

struct db {
    struct config_db cfg; /* strings borrowed from the config, which outlives the handle */
    MYSQL *conn;
    bool in_tx;
    bool returning; /* INSERT/DELETE ... RETURNING: MariaDB 10.5 and later */
    /* options of the statement being run (db_query_capped, db_query_once), 0 otherwise */
    size_t max_bytes;
    bool no_retry;
    struct stmt_entry cache[STMT_CACHE];
    size_t cap; /* entries [0, cap) are used; shrinks when the server runs out */
    unsigned long clock;
    unsigned long round_trips;
    unsigned long long busy_us; /* time inside db_query and transaction control */
    unsigned err_code;
    char err_msg[512];
};

static unsigned long hash_str(const char *s)
{
    unsigned long h = 5381;
    for (; *s; s++) h = h * 33 ^ (unsigned char)*s;
    return h;
}

struct db *db_new(const struct config_db *cfg)
{
    struct db *db = mem_calloc(1, sizeof *db);
    db->cfg = *cfg;
    db->cap = cfg->statement_cache;
    if (db->cap < STMT_CACHE_MIN) db->cap = STMT_CACHE_MIN;
    if (db->cap > STMT_CACHE) db->cap = STMT_CACHE;
    return db;
}

static void set_err(struct db *db, unsigned code, const char *msg)
{
    db->err_code = code;
    snprintf(db->err_msg, sizeof db->err_msg, "%s", msg ? msg : "");
}

static void cache_clear(struct db *db)
{
    for (size_t i = 0; i < STMT_CACHE; i++) {
        if (db->cache[i].stmt) mysql_stmt_close(db->cache[i].stmt);
        free(db->cache[i].sql);
        memset(&db->cache[i], 0, sizeof db->cache[i]);
    }
}

void db_disconnect(struct db *db)
{
    cache_clear(db);
    if (db->conn) mysql_close(db->conn);
    db->conn = NULL;
    db->in_tx = false;
}

void db_free(struct db *db)
{
    if (!db) return;
    db_disconnect(db);
    free(db);
}

int db_connect(struct db *db)
{
    if (db->conn) return DB_OK;
    MYSQL *c = mysql_init(NULL);
    if (!c) mem_oom_abort();
    unsigned ct = db->cfg.connect_timeout, rt = db->cfg.read_timeout, wt = db->cfg.write_timeout;
    mysql_optionsv(c, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_optionsv(c, MYSQL_OPT_READ_TIMEOUT, &rt);
    mysql_optionsv(c, MYSQL_OPT_WRITE_TIMEOUT, &wt);
    mysql_optionsv(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* session state every statement relies on: UTC timestamps, strict types, utf8mb4, and
     * lock waits that end before the client's read timeout (config.c says why) */
    char init[512];
    snprintf(init, sizeof init,
             "SET time_zone='+00:00', sql_mode='STRICT_TRANS_TABLES,STRICT_ALL_TABLES,"
             "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_ZERO_DATE,"
             "NO_ZERO_IN_DATE', NAMES utf8mb4 COLLATE utf8mb4_unicode_ci, "
             "innodb_lock_wait_timeout=%u",
             db->cfg.lock_wait_timeout);
    mysql_optionsv(c, MYSQL_INIT_COMMAND, init);
    const char *sock = db->cfg.socket && *db->cfg.socket ? db->cfg.socket : NULL;
    if (!mysql_real_connect(c, sock ? NULL : db->cfg.host, db->cfg.user, db->cfg.password,
                            db->cfg.name, sock ? 0 : db->cfg.port, sock, CLIENT_FOUND_ROWS)) {
        set_err(db, mysql_errno(c), mysql_error(c));
        mysql_close(c);
        return DB_UNAVAILABLE;
    }
    db->round_trips++;
    db->conn = c;
    db->in_tx = false;
    /* MySQL has no RETURNING; its version numbers overlap MariaDB's, so check the name */
    const char *info = mysql_get_server_info(c);
    db->returning = info && strstr(info, "MariaDB") && mysql_get_server_version(c) >= 100500;
    return DB_OK;
}

static bool conn_lost(unsigned code)
{
    return code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST || code == CR_CONN_HOST_ERROR ||
           code == CR_CONNECTION_ERROR || code == CR_SERVER_LOST_EXTENDED ||
           code == ER_CONNECTION_KILLED || code == ER_SERVER_SHUTDOWN || code == 4031 /* idle
           timeout disconnect */
           || code == CR_COMMANDS_OUT_OF_SYNC;
}

static int map_error(struct db *db, unsigned code, const char *msg)
{
    set_err(db, code, msg);
    if (conn_lost(code)) return DB_UNAVAILABLE;
    switch (code) {
    case ER_DUP_ENTRY:
    case ER_DUP_ENTRY_WITH_KEY_NAME: return DB_DUPLICATE;
    case ER_NO_REFERENCED_ROW:
    case ER_NO_REFERENCED_ROW_2: return DB_NO_PARENT;
    case ER_ROW_IS_REFERENCED:
    case ER_ROW_IS_REFERENCED_2: return DB_HAS_CHILDREN;
    case ER_LOCK_DEADLOCK: return DB_DEADLOCK;
    case ER_LOCK_WAIT_TIMEOUT:
        /* not retried, and only the log says which statement waited and how often */
        log_warn("a statement gave up waiting %u s for a lock another transaction held",
                 db->cfg.lock_wait_timeout);
        return DB_LOCK_TIMEOUT;
    default: log_error("database error %u: %s", code, msg); return DB_ERROR;
    }
}

static void entry_close(struct stmt_entry *e)
{
    if (e->stmt) mysql_stmt_close(e->stmt);
    free(e->sql);
    memset(e, 0, sizeof *e);
}

/* Close least recently used statements until at most `keep` remain; returns how many. */
static size_t cache_trim(struct db *db, size_t keep)
{
    size_t held = 0, closed = 0;
    for (size_t i = 0; i < db->cap; i++) held += db->cache[i].stmt != NULL;
    while (held > keep) {
        struct stmt_entry *lru = NULL;
        for (size_t i = 0; i < db->cap; i++)
            if (db->cache[i].stmt && (!lru || db->cache[i].last_use < lru->last_use))
                lru = &db->cache[i];
        if (!lru) break;
        entry_close(lru);
        held--;
        closed++;
    }
    return closed;
}

/* The server refused a statement: max_prepared_stmt_count (server-wide, over every
 * worker's cache) is reached. Give half of ours back and keep at most that many from now
 * on, so that the workers sharing the server shrink until they fit. Returns whether
 * anything was freed (then the prepare is worth retrying). */
static bool cache_yield(struct db *db)
{
    size_t held = 0;
    for (size_t i = 0; i < db->cap; i++) held += db->cache[i].stmt != NULL;
    if (held == 0) return false;
    size_t keep = held / 2;
    size_t closed = cache_trim(db, keep);
    size_t newcap = keep < STMT_CACHE_MIN ? STMT_CACHE_MIN : keep;
    if (newcap < db->cap) {
        for (size_t i = newcap; i < db->cap; i++) entry_close(&db->cache[i]);
        db->cap = newcap;
    }
    log_warn("the server's max_prepared_stmt_count is reached: closed %zu cached statements, "
             "this worker now keeps at most %zu; retrying",
             closed, db->cap);
    return true;
}

static MYSQL_STMT *stmt_get(struct db *db, const char *sql, int *status)
{
    unsigned long h = hash_str(sql);
    struct stmt_entry *victim = &db->cache[0];
    for (size_t i = 0; i < db->cap; i++) {
        struct stmt_entry *e = &db->cache[i];
        if (e->stmt && e->hash == h && !strcmp(e->sql, sql)) {
            e->last_use = ++db->clock;
            return e->stmt;
        }
        if (!e->stmt || (victim->stmt && e->last_use < victim->last_use)) victim = e;
    }
    MYSQL_STMT *st = mysql_stmt_init(db->conn);
    if (!st) mem_oom_abort();
    db->round_trips++;
    int rc;
    while ((rc = mysql_stmt_prepare(st, sql, strlen(sql))) &&
           mysql_stmt_errno(st) == ER_MAX_PREPARED_STMT_COUNT_REACHED && cache_yield(db)) {
        db->round_trips++;
        /* the victim may have been closed: pick again among what is left */
        victim = &db->cache[0];
        for (size_t i = 0; i < db->cap; i++) {
            struct stmt_entry *e = &db->cache[i];
            if (!e->stmt || (victim->stmt && e->last_use < victim->last_use)) victim = e;
        }
    }
    if (rc) {
        if (mysql_stmt_errno(st) == ER_MAX_PREPARED_STMT_COUNT_REACHED) {
            /* nothing of ours left to give back: the others hold them all for now */
            set_err(db, ER_MAX_PREPARED_STMT_COUNT_REACHED, mysql_stmt_error(st));
            log_warn("the server's max_prepared_stmt_count is reached and this worker holds no "
                     "statement to give back; answering 503");
            mysql_stmt_close(st);
            *status = DB_UNAVAILABLE;
            return NULL;
        }
        *status = map_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
        if (*status == DB_ERROR) log_error("while preparing: %s", sql);
        mysql_stmt_close(st);
        return NULL;
    }
    my_bool on = 1;
    mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
    if (victim->stmt) {
        mysql_stmt_close(victim->stmt);
        free(victim->sql);
    }
    victim->sql = mem_strdup(sql);
    victim->hash = h;
    victim->stmt = st;
    victim->last_use = ++db->clock;
    return st;
}

static void stmt_forget(struct db *db, MYSQL_STMT *st)
{
    for (size_t i = 0; i < STMT_CACHE; i++)
        if (db->cache[i].stmt == st) {
            mysql_stmt_close(st);
            free(db->cache[i].sql);
            memset(&db->cache[i], 0, sizeof db->cache[i]);
            return;
        }
}

enum cell_kind { CELL_TEXT, CELL_INT, CELL_TIME };

static enum cell_kind cell_kind_of(enum enum_field_types t)
{
    switch (t) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG: return CELL_INT;
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_DATETIME: return CELL_TIME;
    default: return CELL_TEXT;
    }
}

/* Decimal text of a 64-bit value; returns its length (out needs 21 bytes). */
static size_t format_int(char *out, long long v, bool is_unsigned)
{
    char tmp[24];
    size_t n = 0;
    unsigned long long u;
    bool neg = !is_unsigned && v < 0;
    u = is_unsigned ? (unsigned long long)v
        : neg       ? 0ULL - (unsigned long long)v
                    : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t k = 0;
    if (neg) out[k++] = '-';
    while (n) out[k++] = tmp[--n];
    out[k] = '\0';
    return k;
}

static void put2(char *o, unsigned v)
{
    o[0] = (char)('0' + v / 10 % 10);
    o[1] = (char)('0' + v % 10);
}

/* "YYYY-MM-DD HH:MM:SS[.ffffff]", the text MariaDB would have sent; returns its length. */
static size_t format_time(char *o, const MYSQL_TIME *t)
{
    put2(o, t->year / 100);
    put2(o + 2, t->year % 100);
    o[4] = '-';
    put2(o + 5, t->month);
    o[7] = '-';
    put2(o + 8, t->day);
    o[10] = ' ';
    put2(o + 11, t->hour);
    o[13] = ':';
    put2(o + 14, t->minute);
    o[16] = ':';
    put2(o + 17, t->second);
    size_t n = 19;
    if (t->second_part) {
        unsigned long f = t->second_part;
        o[n++] = '.';
        for (int d = 5; d >= 0; d--) {
            o[n + (size_t)d] = (char)('0' + f % 10);
            f /= 10;
        }
        n += 6;
    }
    o[n] = '\0';
    return n;
}

/* Every row of the result into the arena. Without db->max_bytes the result is stored whole
 * first (exact buffer sizes, one read); with it rows are read one at a time off the wire and
 * reading stops with DB_TOO_LARGE once their cells pass max_bytes, so the worker never holds
 * more than that (the rest is discarded unread by mysql_stmt_free_result). */
static int fetch_all(struct db *db, MYSQL_STMT *st, struct arena *a, struct db_result *res)
{
    size_t max_bytes = db->max_bytes;
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    if (!meta) return DB_OK;
    bool streaming = max_bytes != 0;
    if (!streaming && mysql_stmt_store_result(st)) {
        mysql_free_result(meta);
        return map_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
    }
    size_t ncols = mysql_num_fields(meta);
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    size_t nrows = streaming ? 16 : (size_t)mysql_stmt_num_rows(st);
    size_t bytes = 0;
    MYSQL_BIND *bind = arena_calloc(a, ncols * sizeof *bind);
    unsigned long *lengths = arena_calloc(a, ncols * sizeof *lengths);
    my_bool *nulls = arena_calloc(a, ncols * sizeof *nulls);
    my_bool *errs = arena_calloc(a, ncols * sizeof *errs);
    /* Integers and timestamps arrive in binary and are formatted here: asking libmariadb
     * for text makes it sprintf every cell, the largest cost of a list page. Everything
     * else (strings, decimals, JSON) is fetched as text, which is what it is on the wire. */
    enum cell_kind *kinds = arena_alloc(a, ncols * sizeof *kinds);
    for (size_t c = 0; c < ncols; c++) {
        kinds[c] = cell_kind_of(fields[c].type);
        bind[c].length = &lengths[c];
        bind[c].is_null = &nulls[c];
        bind[c].error = &errs[c];
        if (kinds[c] == CELL_INT) {
            bind[c].buffer_type = MYSQL_TYPE_LONGLONG;
            bind[c].buffer = arena_alloc(a, sizeof(long long));
            bind[c].is_unsigned = (fields[c].flags & UNSIGNED_FLAG) != 0;
            continue;
        }
        if (kinds[c] == CELL_TIME) {
            bind[c].buffer_type = fields[c].type;
            bind[c].buffer = arena_alloc(a, sizeof(MYSQL_TIME));
            continue;
        }
        unsigned long cap = fields[c].max_length; /* 0 when streaming */
        if (cap < (streaming ? 256 : 64)) cap = streaming ? 256 : 64;
        bind[c].buffer_type = MYSQL_TYPE_STRING;
        bind[c].buffer = arena_alloc(a, cap + 1);
        bind[c].buffer_length = cap + 1;
    }
    if (mysql_stmt_bind_result(st, bind)) {
        mysql_free_result(meta);
        return map_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
    }
    res->ncols = ncols;
    res->nrows = 0;
    res->cells = arena_alloc(a, (nrows ? nrows : 1) * ncols * sizeof *res->cells);
    int rc;
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        if (res->nrows >= nrows) {
            if (!streaming) break;
            struct db_cell *more = arena_alloc(a, 2 * nrows * ncols * sizeof *more);
            memcpy(more, res->cells, nrows * ncols * sizeof *more);
            res->cells = more;
            nrows *= 2;
        }
        if (streaming) {
            for (size_t c = 0; c < ncols; c++) bytes += nulls[c] ? 4 : lengths[c];
            if (bytes > max_bytes) {
                mysql_free_result(meta);
                mysql_stmt_free_result(st);
                set_err(db, 0, "result larger than the bound");
                return DB_TOO_LARGE;
            }
        }
        struct db_cell *row = &res->cells[res->nrows * ncols];
        for (size_t c = 0; c < ncols; c++) {
            if (nulls[c]) {
                row[c].s = NULL;
                row[c].len = 0;
                continue;
            }
            if (kinds[c] != CELL_TEXT) {
                char tmp[40];
                size_t n = kinds[c] == CELL_INT
                               ? format_int(tmp, *(long long *)bind[c].buffer, bind[c].is_unsigned)
                               : format_time(tmp, bind[c].buffer);
                row[c].s = arena_strndup(a, tmp, n);
                row[c].len = n;
                continue;
            }
            if (lengths[c] < bind[c].buffer_length) {
                row[c].s = arena_strndup(a, bind[c].buffer, lengths[c]);
                row[c].len = lengths[c];
            } else {
                /* longer than max_length promised: fetch the column again, whole */
                char *big = arena_alloc(a, lengths[c] + 1);
                MYSQL_BIND one = {0};
                unsigned long len2 = 0;
                one.buffer_type = MYSQL_TYPE_STRING;
                one.buffer = big;
                one.buffer_length = lengths[c] + 1;
                one.length = &len2;
                if (mysql_stmt_fetch_column(st, &one, (unsigned)c, 0)) {
                    mysql_free_result(meta);
                    mysql_stmt_free_result(st);
                    return map_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
                }
                big[lengths[c]] = '\0';
                row[c].s = big;
                row[c].len = lengths[c];
            }
        }
        res->nrows++;
    }
    mysql_free_result(meta);
    if (rc == 1) {
        int s = map_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
        mysql_stmt_free_result(st);
        return s;
    }
    mysql_stmt_free_result(st);
    return DB_OK;
}

static int run_once(struct db *db, struct arena *a, const char *sql, const struct db_param *params,
                    size_t nparams, struct db_result *res)
{
    int status = DB_ERROR;
    if (!db->conn && db_connect(db) != DB_OK) return DB_UNAVAILABLE;
    MYSQL_STMT *st = stmt_get(db, sql, &status);
    if (!st) return status;
    if (mysql_stmt_param_count(st) != nparams) {
        log_error("statement expects %lu parameters, got %zu: %s", mysql_stmt_param_count(st),
                  nparams, sql);
        set_err(db, 0, "parameter count mismatch");
        return DB_ERROR;
    }
    MYSQL_BIND *bind = nparams ? arena_calloc(a, nparams * sizeof *bind) : NULL;
    unsigned long *lens = nparams ? arena_calloc(a, nparams * sizeof *lens) : NULL;
    for (size_t i = 0; i < nparams; i++) {
        const struct db_param *p = &params[i];
        switch (p->type) {
        case DBP_NULL: bind[i].buffer_type = MYSQL_TYPE_NULL; break;
        case DBP_INT:
            bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
            bind[i].buffer = (void *)&p->i;
            break;
        case DBP_UINT:
            bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
            bind[i].buffer = (void *)&p->u;
            bind[i].is_unsigned = 1;
            break;
        case DBP_STR:
            bind[i].buffer_type = MYSQL_TYPE_STRING;
            bind[i].buffer = (void *)(p->s ? p->s : "");
            bind[i].buffer_length = p->len;
            lens[i] = p->len;
            bind[i].length = &lens[i];
            break;
        }
    }
    if (nparams && mysql_stmt_bind_param(st, bind))
        return map_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
    db->round_trips++;
    if (mysql_stmt_execute(st)) {
        unsigned code = mysql_stmt_errno(st);
        int s = map_error(db, code, mysql_stmt_error(st));
        /* a statement the server no longer knows (after a reconnect elsewhere, or a
         * schema change) is re-prepared on the next use */
        if (code == ER_UNKNOWN_STMT_HANDLER || code == ER_NEED_REPREPARE) stmt_forget(db, st);
        return s;
    }
    struct db_result scratch;
    if (!res) res = &scratch;
    memset(res, 0, sizeof *res);
    res->affected = mysql_stmt_affected_rows(st);
    res->insert_id = mysql_stmt_insert_id(st);
    int s = fetch_all(db, st, a, res);
    if (res->affected == (unsigned long long)-1) res->affected = 0;
    return s;
}

static int query_retrying(struct db *db, struct arena *a, const char *sql,
                          const struct db_param *params, size_t nparams, struct db_result *res);

int db_query(struct db *db, struct arena *a, const char *sql, const struct db_param *params,
             size_t nparams, struct db_result *res)
{
    unsigned long long t0 = mono_us();
    int s = query_retrying(db, a, sql, params, nparams, res);
    db->busy_us += mono_us() - t0;
    return s;
}

static int query_retrying(struct db *db, struct arena *a, const char *sql,
                          const struct db_param *params, size_t nparams, struct db_result *res)
{
    int s = run_once(db, a, sql, params, nparams, res);
    if (s == DB_UNAVAILABLE && db->err_code != ER_MAX_PREPARED_STMT_COUNT_REACHED) {
        bool was_tx = db->in_tx;
        if (db->conn) {
            log_warn("database connection lost (%u: %s); reconnecting", db->err_code, db->err_msg);
            db_disconnect(db);
        }
        /* outside a transaction the statement is simply tried once more on a fresh
         * connection; inside one the transaction is gone and the caller must give up, and
         * so does db_query_once's caller (its write may have been applied) */
        if (!was_tx && !db->no_retry) s = run_once(db, a, sql, params, nparams, res);
    }
    return s;
}

int db_query_capped(struct db *db, struct arena *a, const char *sql, const struct db_param *params,
                    size_t nparams, struct db_result *res, size_t max_bytes)
{
    db->max_bytes = max_bytes;
    int s = db_query(db, a, sql, params, nparams, res);
    db->max_bytes = 0;
    return s;
}

int db_query_once(struct db *db, struct arena *a, const char *sql, const struct db_param *params,
                  size_t nparams, struct db_result *res)
{
    db->no_retry = true;
    int s = db_query(db, a, sql, params, nparams, res);
    db->no_retry = false;
    return s;
}

static int simple(struct db *db, const char *sql)
{
    if (!db->conn && db_connect(db) != DB_OK) return DB_UNAVAILABLE;
    db->round_trips++;
    unsigned long long t0 = mono_us();
    bool failed = mysql_real_query(db->conn, sql, strlen(sql)) != 0;
    db->busy_us += mono_us() - t0;
    if (failed) {
        int s = map_error(db, mysql_errno(db->conn), mysql_error(db->conn));
        if (s == DB_UNAVAILABLE) db_disconnect(db);
        return s;
    }
    return DB_OK;
}

int db_begin(struct db *db)
{
    int s = simple(db, "START TRANSACTION");
    if (s == DB_UNAVAILABLE) {
        db_disconnect(db);
        s = simple(db, "START TRANSACTION");
    }
    if (s == DB_OK) db->in_tx = true;
    return s;
}

int db_commit(struct db *db)
{
    int s = simple(db, "COMMIT");
    db->in_tx = false;
    return s;
}

void db_rollback(struct db *db)
{
    if (db->conn) (void)simple(db, "ROLLBACK");
    db->in_tx = false;
}

bool db_has_returning(struct db *db)
{
    if (!db->conn && db_connect(db) != DB_OK) return false;
    return db->returning;
}

bool db_in_transaction(const struct db *db)
{
    return db->in_tx;
}

int db_exec_script(struct db *db, const char *sql, size_t len)
{
    if (!db->conn && db_connect(db) != DB_OK) return DB_UNAVAILABLE;
    if (mysql_real_query(db->conn, sql, len))
        return map_error(db, mysql_errno(db->conn), mysql_error(db->conn));
    /* drain any result sets a script produced */
    do {
        MYSQL_RES *r = mysql_store_result(db->conn);
        if (r) mysql_free_result(r);
    } while (mysql_next_result(db->conn) == 0);
    if (mysql_errno(db->conn)) return map_error(db, mysql_errno(db->conn), mysql_error(db->conn));
    return DB_OK;
}

const char *db_error_message(const struct db *db)
{
    return db->err_msg;
}

unsigned db_error_code(const struct db *db)
{
    return db->err_code;
}

unsigned long db_round_trips(const struct db *db)
{
    return db->round_trips;
}

unsigned long long db_busy_us(const struct db *db)
{
    return db->busy_us;
}
