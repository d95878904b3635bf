/* etag.h — conditional requests (RFC 9110 §8.8.3, §13): the strong ETag of a single-record
 * answer, If-None-Match on GET (a 304), If-Match on PUT/PATCH/DELETE checked under the row
 * lock inside the write's transaction (a 412), and http.require_if_match (a 428).
 *
 * The tag is computed from the representation's bytes alone: the first 128 bits of the
 * SHA-256 of the response body, as 32 lowercase hex digits in double quotes. The same record
 * with the same ?include= always gives the same tag, on every worker and host. Nothing here
 * is per resource; errors are kinds (req.h), never statuses. */
#ifndef AIENGINE_ETAG_H
#define AIENGINE_ETAG_H

#include "db.h"
#include "req.h"
#include "resource.h"

#include <stdbool.h>
#include <stddef.h>

/* Bytes of a tag as etag_of writes it: '"' + 32 hex digits + '"'. */
#define ETAG_LEN 34

/* The strong tag of `body` into out (NUL-terminated). */
void etag_of(const char *body, size_t n, char out[ETAG_LEN + 1]);

enum etag_match {
    ETAG_NO_MATCH,
    ETAG_MATCH,
    ETAG_MALFORMED, /* neither "*" nor a comma-separated list of entity tags */
};

/* Whether an If-Match / If-None-Match field value matches `etag` (a strong tag such as
 * etag_of writes). "*" matches any tag. `weak` selects the weak comparison (If-None-Match:
 * W/"x" matches "x"); otherwise the strong one (If-Match: a weak tag never matches). */
enum etag_match etag_header_matches(const char *header, const char *etag, bool weak);

/* After a handler succeeded: give a single-record answer (GET 200, POST 201, PUT/PATCH 200,
 * a run's cancel/retry 200) its ETag header, and turn a GET whose If-None-Match matches into
 * a 304 with no body. Returns 0, or -1 with a bad-request error for a malformed
 * If-None-Match. */
int etag_respond(struct ctx *c);

/* Whether etag_check_locked needs the locked row (If-Match names tags, not just "*"). */
bool etag_needs_row(const struct ctx *c);

/* Inside the write's transaction, after the row was locked and found: a 428 when
 * http.require_if_match is on and the request has no If-Match, a 412 unless If-Match
 * matches the ETag of the record as GET without ?include= would answer it now (rendered from
 * `row`, a SELECT of r->select_list; NULL when only "*" or no If-Match was sent). Returns 0,
 * or -1 with the error set. */
int etag_check_locked(struct ctx *c, const struct resource *r, const struct db_result *row);

#endif
