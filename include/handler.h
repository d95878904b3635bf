/* handler.h — the interface between the runner and a step handler (ENGINE.md "Step
 * handlers"). The runner decides *whether* a step runs (type lookup, condition, templates)
 * and writes its result; a handler decides *how*: it turns one step into at most one
 * libcurl transfer on the runner's multi handle and its answer into an outcome. A new
 * handler (the `ai` one) is a struct step_handler and one line in handler_for; the
 * runner's core does not change. Handlers never touch the run's row, its lease or the
 * multi handle, and never block. */
#ifndef AIENGINE_HANDLER_H
#define AIENGINE_HANDLER_H

#include "arena.h"
#include "buf.h"
#include "db.h"
#include "engine_conf.h"

#include <curl/curl.h>
#include <json-c/json.h>

enum step_outcome {
    STEP_SUCCESS, /* output in parsed_output */
    STEP_RETRY,   /* retryable: tried again after the backoff while tries are left */
    STEP_FAILURE, /* permanent: the run fails now */
};

#define STEP_ERROR_MAX 1024

struct step_call {
    /* in — set by the runner before start, read-only for the handler */
    const struct engine_conf *conf;
    const struct engine_step_type *type;
    struct db *db;       /* the runner's connection, for look-ups before the transfer only */
    struct arena *arena; /* lives until the call is released */
    unsigned long long run_id, workflow_id, step_id, prompt_id; /* prompt_id 0: none */
    int step_order;
    const char *step_type;
    const char *object_id;             /* NULL: none */
    const struct json_object *context; /* the run's context as it was at the claim */
    const struct json_object *config;  /* step_config after templates; NULL when none */
    /* the prompt's row as the runner read it for this step (AI_PROMPT_COLUMNS; 0 rows: no
     * such prompt), so that runs sharing a prompt share one look-up; NULL: the handler
     * reads it itself. Valid during start only. */
    const struct db_result *prompt;

    /* the transfer, when start returns 1 */
    CURL *easy;
    void *state; /* the handler's own */

    /* out — owned by the call; NULL json means SQL NULL in the log row */
    enum step_outcome outcome;
    struct json_object *input_context, *raw_output, *parsed_output;
    char error[STEP_ERROR_MAX]; /* error_message of a RETRY or FAILURE row */
    long long retry_after;      /* seconds the remote side asked for; -1 none */
    long long token_usage;      /* -1: null; at most STEP_TOKENS_MAX */
    long long cost_micros;      /* -1: null; at most STEP_COST_MICROS_MAX */
};

/* The largest token count and cost a log row and a run's totals hold: token_usage is an
 * int and cost a decimal(10,6) in execution_logs and workflow_runs (db/migrations). A figure
 * past them fails the commit under strict SQL mode; ai_account records a step's as unknown,
 * and the runner's sums stop at them. */
#define STEP_TOKENS_MAX 2147483647LL
#define STEP_COST_MICROS_MAX 9999999999LL /* 9,999.999999 $ */

struct step_handler {
    const char *name;
    /* Returns 0 when the outcome is already set (nothing to send, e.g. a host refused
     * before any connection), or 1 with call->easy ready to be added to the multi handle. */
    int (*start)(struct step_call *call);
    /* The transfer ended with curl's result `rc`: set the outcome. */
    void (*finish)(struct step_call *call, CURLcode rc);
    /* Free call->state and call->easy (already removed from the multi handle). */
    void (*release)(struct step_call *call);
};

/* What a transfer brought back: the body in a capped buffer (overflow latches, the rest is
 * dropped) and the answer's Retry-After in seconds (-1: none; a 1xx's headers do not count).
 * Embedded in a handler's state; the handler frees `body` with buf_free. */
struct handler_answer {
    struct buf body;
    long long retry_after;
};
void handler_answer_init(struct handler_answer *ans, size_t cap);

/* The transfer every handler makes: `method` (NULL: POST) with `body` and `headers` to `url`,
 * http(s) only, redirects never followed, no signals, `timeout_seconds` for all of it, the
 * answer into `ans`. Returns a new easy handle for call->easy (aborts on out of memory);
 * body, headers and ans must outlive it. */
CURL *handler_easy(const char *url, const char *method, const char *body,
                   struct curl_slist *headers, long timeout_seconds, struct handler_answer *ans);

/* A transfer that ended with rc != CURLE_OK: a timeout or a connection error, retryable or
 * not as hook_classify_transport says, with the message every handler uses. */
void handler_transport_failed(struct step_call *call, CURLcode rc, int timeout_seconds);

/* The handler of a step type's `handler:`; never NULL. */
const struct step_handler *handler_for(enum engine_handler h);

/* Prepare `call` (zeroed, retry_after/token_usage/cost_micros -1); in-fields are then set
 * by the caller. */
void step_call_init(struct step_call *call);
/* Set a final outcome with a message (printf-style). */
void step_call_fail(struct step_call *call, enum step_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Release the handler's resources and the outputs. */
void step_call_release(struct step_call *call, const struct step_handler *h);

#endif
