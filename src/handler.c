/* handler.c — the step handler table and what every call shares: `http` (hook.c) and `ai`
 * (ai.c). */
#include "handler.h"
#include "ai.h"
#include "hook.h"
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <strings.h>

const struct step_handler *handler_for(enum engine_handler h)
{
    return h == ENGINE_HANDLER_HTTP ? &hook_handler : &ai_handler;
}

void step_call_init(struct step_call *call)
{
    memset(call, 0, sizeof *call);
    call->retry_after = -1;
    call->token_usage = -1;
    call->cost_micros = -1;
}

void step_call_fail(struct step_call *call, enum step_outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->error, sizeof call->error, fmt, ap);
    va_end(ap);
    call->outcome = o;
}

void step_call_release(struct step_call *call, const struct step_handler *h)
{
    if (h) h->release(call);
    call->easy = NULL;
    call->state = NULL;
    json_object_put(call->input_context);
    json_object_put(call->raw_output);
    json_object_put(call->parsed_output);
    call->input_context = call->raw_output = call->parsed_output = NULL;
}

void handler_answer_init(struct handler_answer *ans, size_t cap)
{
    buf_init(&ans->body, cap);
    ans->retry_after = -1;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct handler_answer *ans = ud;
    size_t n = size * nmemb;
    buf_append(&ans->body, ptr, n); /* capped: the overflow latches and the rest is dropped */
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct handler_answer *ans = ud;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && !strncasecmp(ptr, name, sizeof name - 1))
        ans->retry_after =
            hook_retry_after(ptr + sizeof name - 1, n - (sizeof name - 1), (long long)time(NULL));
    /* a new response (after a 1xx) starts its headers again */
    if (n >= 5 && !strncmp(ptr, "HTTP/", 5)) ans->retry_after = -1;
    return n;
}

CURL *handler_easy(const char *url, const char *method, const char *body,
                   struct curl_slist *headers, long timeout_seconds, struct handler_answer *ans)
{
    CURL *e = curl_easy_init();
    if (!e) mem_oom_abort();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout_seconds);
    if (method)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    else
        curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "aiengine");
    /* a runner holds up to engine.concurrency transfers at once: curl's receive buffer
     * (16 KiB by default) is allocated per transfer and counts in a runner's RSS at 1,000
     * in flight (issue 11: 4 KiB -> 1 KiB saved ~3 MiB); answers are small, and 1 KiB reads
     * cost a few more callbacks on a large one, nothing else (curl's minimum is 1 KiB) */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 1024L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, ans);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, ans);
    return e;
}

void handler_transport_failed(struct step_call *call, CURLcode rc, int timeout_seconds)
{
    if (rc == CURLE_OPERATION_TIMEDOUT)
        step_call_fail(call, STEP_RETRY, "timed out after %d s", timeout_seconds);
    else
        step_call_fail(call, hook_classify_transport(rc), "connection failed: %s",
                       curl_easy_strerror(rc));
}
