/* idem.c — Idempotency-Key on POST (idem.h). A key row is inserted in autocommit before the
 * handler runs: the unique (token_id, idempotency_key) makes exactly one of two concurrent
 * requests the owner, and the other finds the row in flight (409). The owner completes the
 * row with its response after the handler's own transaction ended. A worker that dies in
 * between leaves a row in flight; once it is older than request_timeout + the database's
 * read_timeout it counts as abandoned and the next request with the key takes it over,
 * so nothing blocks forever. A row older than 24 h counts as absent. */
#include "idem.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "digest.h"
#include "log.h"
#include "mem.h"

#include <stdlib.h>
#include <string.h>

static const char SQL_CLAIM[] = "INSERT INTO `idempotency_keys` (`token_id`, `idempotency_key`, "
                                "`request_hash`) VALUES (?, ?, ?)";
static const char SQL_FIND[] =
    "SELECT `id`, `request_hash`, `status`, `headers`, `body`, "
    "`created_at` < NOW(6) - INTERVAL ? SECOND, "
    "`status` IS NULL AND `created_at` < NOW(6) - INTERVAL ? SECOND "
    "FROM `idempotency_keys` WHERE `token_id` = ? AND `idempotency_key` = ?";
static const char SQL_FORGET[] = "DELETE FROM `idempotency_keys` WHERE `id` = ?";
static const char SQL_STORE[] = "UPDATE `idempotency_keys` SET `status` = ?, `headers` = ?, "
                                "`body` = ? WHERE `id` = ? AND `status` IS NULL";
static const char SQL_SWEEP[] =
    "DELETE FROM `idempotency_keys` WHERE `created_at` < NOW(6) - INTERVAL ? SECOND LIMIT ?";

/* How many times a claim is tried when the row it collided with vanished or was abandoned. */
#define CLAIM_TRIES 3

int idem_key_check(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > IDEM_MAX_KEY) return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] < 0x20 || (unsigned char)key[i] > 0x7e) return -2;
    return 0;
}

void idem_request_hash(const char *method, const char *path, const char *query, const char *body,
                       size_t body_len, unsigned char out[32])
{
    const struct digest_part parts[] = {
        {method, strlen(method)}, {"\n", 1}, {path, strlen(path)}, {"?", 1},
        {query, strlen(query)},   {"\n", 1}, {body, body_len},
    };
    digest_sha256_parts(parts, sizeof parts / sizeof parts[0], out);
}

/* Whether this request takes part: a POST with the header, from a token, to a route whose
 * key has no meaning of its own (idem.h). */
static bool applies(const struct ctx *c)
{
    if (!c->req->idempotency_key || !c->token || strcmp(c->req->method, "POST")) return false;
    enum handler_kind h = c->match.route->handler;
    return h != HANDLER_TRIGGER_EVENT && h != HANDLER_START_RUN;
}

/* The stored answer again, with Idempotent-Replayed. */
static void replay(struct ctx *c, const struct db_result *row)
{
    c->status = (int)strtol(db_cell(row, 0, 2)->s, NULL, 10);
    const struct db_cell *h = db_cell(row, 0, 3), *b = db_cell(row, 0, 4);
    if (h->s) buf_append(c->headers, h->s, h->len);
    buf_puts(c->headers, "Idempotent-Replayed: true\r\n");
    buf_reset(c->out);
    if (b->s) buf_append(c->out, b->s, b->len);
}

/* Now and then, a bounded delete of expired keys (idem.h). Failure only delays it. */
static void sweep(struct ctx *c)
{
    struct db_param p[] = {db_int(IDEM_TTL_SECONDS), db_int(IDEM_SWEEP_LIMIT)};
    struct db_result res;
    int s = db_query(c->db, c->arena, SQL_SWEEP, p, 2, &res);
    if (s != DB_OK)
        log_warn("sweeping expired idempotency keys failed: %s", db_error_message(c->db));
}

int idem_begin(struct ctx *c, struct idem_claim *claim)
{
    claim->id = 0;
    if (!applies(c)) return 0;
    const char *key = c->req->idempotency_key;
    switch (idem_key_check(key)) {
    case -1:
        return req_failf(c, REQ_E_BAD_REQUEST,
                         "The Idempotency-Key header must be 1 to %d bytes long.", IDEM_MAX_KEY);
    case -2:
        return req_fail(c, REQ_E_BAD_REQUEST,
                        "The Idempotency-Key header must be printable ASCII.");
    }
    unsigned char hash[32];
    idem_request_hash(c->req->method, c->req->raw_path, c->req->query, c->req->body,
                      c->req->body_len, hash);
    struct db_param tok = db_uint(c->token->id), k = db_str(key, strlen(key));
    long long abandon = (long long)c->cfg->request_timeout + c->cfg->db.read_timeout;
    for (int tries = 0; tries < CLAIM_TRIES; tries++) {
        struct db_param ins[] = {tok, k, db_str((const char *)hash, sizeof hash)};
        struct db_result res;
        int s = db_query(c->db, c->arena, SQL_CLAIM, ins, 3, &res);
        if (s == DB_OK) {
            claim->id = res.insert_id;
            if (claim->id % IDEM_SWEEP_EVERY == 0) sweep(c);
            return 0;
        }
        if (s != DB_DUPLICATE) return req_db_fail(c, s);
        struct db_param find[] = {db_int(IDEM_TTL_SECONDS), db_int(abandon), tok, k};
        s = db_query(c->db, c->arena, SQL_FIND, find, 4, &res);
        if (s != DB_OK) return req_db_fail(c, s);
        if (res.nrows == 0) continue; /* swept or released in between: claim again */
        bool expired = db_cell(&res, 0, 5)->s[0] == '1';
        bool abandoned = db_cell(&res, 0, 6)->s[0] == '1';
        if (expired || abandoned) {
            struct db_param id = db_uint(strtoull(db_cell(&res, 0, 0)->s, NULL, 10));
            s = db_query(c->db, c->arena, SQL_FORGET, &id, 1, NULL);
            if (s != DB_OK) return req_db_fail(c, s);
            continue;
        }
        const struct db_cell *h = db_cell(&res, 0, 1);
        if (h->len != sizeof hash || memcmp(h->s, hash, sizeof hash)) {
            req_invalid(c, "Idempotency-Key",
                        "The Idempotency-Key was already used with another request.");
            return -1;
        }
        if (!db_cell(&res, 0, 2)->s)
            return req_fail(c, REQ_E_CONFLICT,
                            "A request with this Idempotency-Key is still being processed; "
                            "retry once it has finished.");
        replay(c, &res);
        return 1;
    }
    return req_fail(c, REQ_E_CONFLICT,
                    "Other requests keep claiming this Idempotency-Key; retry later.");
}

void idem_finish(struct ctx *c, const struct idem_claim *claim)
{
    if (!claim->id) return;
    struct db_param id = db_uint(claim->id);
    int s;
    if (c->status >= 500 || c->status == 429) {
        s = db_query(c->db, c->arena, SQL_FORGET, &id, 1, NULL);
    } else {
        const struct buf *h = c->headers, *b = c->out;
        struct db_param p[] = {db_int(c->status), db_str(h->len ? h->data : "", h->len),
                               db_str(b->len ? b->data : "", b->len), id};
        s = db_query(c->db, c->arena, SQL_STORE, p, 4, NULL);
    }
    if (s != DB_OK)
        log_error("idempotency key row %llu: could not %s the response (%s); the key stays in "
                  "flight until it counts as abandoned",
                  claim->id, c->status >= 500 || c->status == 429 ? "release" : "store",
                  db_error_message(c->db));
}
