/* hook.h — the `http` step handler: webhooks and CRM actions (ENGINE.md "http").
 *
 * POST (or step_config.method) of {"run_id","workflow_id","step_id","step_order",
 * "step_type","object_id","config","context"} to the type's url or step_config.url, only to
 * a host in allowed_hosts (checked before any connection), with Idempotency-Key,
 * X-Aiengine-Timestamp and, when webhook_secret is set, X-Aiengine-Signature. Redirects are
 * never followed. The pure parts are exported for the unit tests. */
#ifndef AIENGINE_HOOK_H
#define AIENGINE_HOOK_H

#include "handler.h"

#include <stddef.h>

/* Largest response body kept; the rest is dropped (and the body is then text). */
#define HOOK_MAX_RESPONSE (1024 * 1024)

extern const struct step_handler hook_handler;

/* The outcome of an HTTP status: 2xx success; 408, 425, 429 and 5xx retryable; anything
 * else (3xx — redirects are not followed —, other 4xx, 1xx) permanent. */
enum step_outcome hook_classify(long status);

/* The outcome of a transfer that got no HTTP answer: timeouts and connection errors are
 * retryable, a URL libcurl cannot use is permanent. */
enum step_outcome hook_classify_transport(CURLcode rc);

/* "sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>" into out (72 bytes). */
void hook_signature(const char *secret, const char *timestamp, const char *body, size_t n,
                    char out[72]);

/* A Retry-After header value in seconds from `now`: delta-seconds or an HTTP-date; -1 if
 * it is neither. */
long long hook_retry_after(const char *value, size_t n, long long now);

#endif
