/* idem.h — Idempotency-Key on POST (SPEC.md "Beyond the peers"; the IETF httpapi draft, as
 * Stripe does it): the first response to a key is stored, per token, for 24 hours, with a
 * hash of the request; the same request again gets it back with `Idempotent-Replayed: true`
 * and runs nothing, another request with the key is refused (422), and so is the same key
 * while the first is still being handled (409). 5xx and 429 answers are not stored, so they
 * stay retryable. Keys live in the `idempotency_keys` table, shared by every pool.
 *
 * The two POSTs that start runs (POST /api/events, POST /api/workflows/{id}/runs) are left
 * to runs.c: there the key names the runs themselves (ENGINE.md "API"), across tokens and
 * without expiry, which is stronger than this and answers the runs as they are now.
 * Errors are kinds (req.h); this module knows no HTTP status but the ones it stores. */
#ifndef AIENGINE_IDEM_H
#define AIENGINE_IDEM_H

#include "req.h"

#include <stddef.h>

#define IDEM_MAX_KEY 255
#define IDEM_TTL_SECONDS 86400
/* Every IDEM_SWEEP_EVERY-th key row inserted (by id) deletes up to IDEM_SWEEP_LIMIT
 * expired ones: no cron, and no request pays more than one bounded DELETE. */
#define IDEM_SWEEP_EVERY 64
#define IDEM_SWEEP_LIMIT 500

/* The key row a request holds while its handler runs (id 0: none). Lives on the
 * dispatcher's stack from idem_begin to idem_finish. */
struct idem_claim {
    unsigned long long id;
};

/* Before a POST's handler, outside any transaction. Returns 0: run the handler (claim->id
 * is set when a key row was inserted for it); 1: a stored answer was replayed into c
 * (status, headers, body); -1: error set (bad key 400, another request 422, in flight 409,
 * database 503). Requests without the header, without a token, or to the run-starting
 * routes return 0 and claim nothing. */
int idem_begin(struct ctx *c, struct idem_claim *claim);
/* After the response is final (errors and the size check included): store it under the
 * claim, or delete the claim for a 5xx or 429 so the key can be retried. A failure is
 * logged and leaves the row in flight until it counts as abandoned (idem.c). */
void idem_finish(struct ctx *c, const struct idem_claim *claim);

/* 0 when `key` is 1 to IDEM_MAX_KEY bytes of printable ASCII (spaces included); -1 when
 * its length is out of range; -2 for any other byte. */
int idem_key_check(const char *key);
/* SHA-256 of method "\n" path "?" query "\n" body: what "the same request" means. */
void idem_request_hash(const char *method, const char *path, const char *query, const char *body,
                       size_t body_len, unsigned char out[32]);

#endif
