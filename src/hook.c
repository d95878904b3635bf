/* hook.c — the `http` step handler (hook.h). Builds the request entirely before the
 * transfer starts (templates were applied by the runner), refuses a host outside
 * allowed_hosts before any connection, and never follows a redirect. The signature covers
 * exactly the bytes sent. */
#include "hook.h"
#include "buf.h"
#include "digest.h"
#include "jsonbody.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hook_state {
    struct handler_answer answer; /* the body (capped) and Retry-After */
    struct curl_slist *headers;
    char *body;
    int timeout_seconds;
};

enum step_outcome hook_classify(long status)
{
    if (status >= 200 && status <= 299) return STEP_SUCCESS;
    if (status == 408 || status == 425 || status == 429 || (status >= 500 && status <= 599))
        return STEP_RETRY;
    return STEP_FAILURE;
}

enum step_outcome hook_classify_transport(CURLcode rc)
{
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_TOO_MANY_REDIRECTS: return STEP_FAILURE;
    default: return STEP_RETRY;
    }
}

void hook_signature(const char *secret, const char *timestamp, const char *body, size_t n,
                    char out[72])
{
    const struct digest_part parts[] = {{timestamp, strlen(timestamp)}, {".", 1}, {body, n}};
    static const char hex[] = "0123456789abcdef";
    unsigned char mac[DIGEST_SHA256_LEN];
    digest_hmac_sha256(secret, strlen(secret), parts, 3, mac);
    memcpy(out, "sha256=", 7);
    for (size_t i = 0; i < DIGEST_SHA256_LEN; i++) {
        out[7 + 2 * i] = hex[mac[i] >> 4];
        out[8 + 2 * i] = hex[mac[i] & 15];
    }
    out[7 + 64] = '\0';
}

long long hook_retry_after(const char *value, size_t n, long long now)
{
    while (n && isspace((unsigned char)*value)) value++, n--;
    while (n && isspace((unsigned char)value[n - 1])) n--;
    if (n == 0 || n > 64) return -1;
    char tmp[65];
    memcpy(tmp, value, n);
    tmp[n] = '\0';
    bool digits = true;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)tmp[i])) digits = false;
    if (digits) return n > 9 ? 999999999 : atoll(tmp);
    time_t t = curl_getdate(tmp, NULL);
    if (t < 0) return -1;
    return t > now ? (long long)t - now : 0;
}

static const char *config_string(const struct json_object *config, const char *key)
{
    struct json_object *v = NULL;
    if (!config || !json_object_object_get_ex(config, key, &v)) return NULL;
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* The JSON value of a body: parsed strictly when the whole text is one JSON value, else
 * NULL with *is_json false. */
static struct json_object *parse_body(const char *s, size_t n, bool *is_json)
{
    struct json_object *v;
    *is_json = jsonbody_value(s, n, &v);
    return v;
}

static struct json_object *new_u64(unsigned long long v)
{
    return json_object_new_uint64(v);
}

static int hook_start(struct step_call *call)
{
    const char *url = call->type->url ? call->type->url : config_string(call->config, "url");
    if (!url || !*url) {
        step_call_fail(call, STEP_FAILURE, "step_config.url is missing");
        return 0;
    }
    char method[16] = "POST";
    const char *m = config_string(call->config, "method");
    if (m) {
        size_t n = strlen(m);
        bool ok = n > 0 && n < sizeof method;
        for (size_t i = 0; ok && i < n; i++) {
            if (!isalpha((unsigned char)m[i])) ok = false;
            method[i] = (char)toupper((unsigned char)m[i]);
        }
        if (!ok) {
            step_call_fail(call, STEP_FAILURE, "step_config.method is not an HTTP method");
            return 0;
        }
        method[n] = '\0';
    }

    struct json_object *body = json_object_new_object();
    json_object_object_add(body, "run_id", new_u64(call->run_id));
    json_object_object_add(body, "workflow_id", new_u64(call->workflow_id));
    json_object_object_add(body, "step_id", new_u64(call->step_id));
    json_object_object_add(body, "step_order", json_object_new_int(call->step_order));
    json_object_object_add(body, "step_type", json_object_new_string(call->step_type));
    json_object_object_add(body, "object_id",
                           call->object_id ? json_object_new_string(call->object_id) : NULL);
    json_object_object_add(body, "config", json_object_get((struct json_object *)call->config));
    json_object_object_add(body, "context", json_object_get((struct json_object *)call->context));
    const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE);
    char *body_text = mem_strdup(text);
    json_object_put(body);

    /* input_context holds its own copy of the body: the run's context changes after this */
    struct json_object *ic = json_object_new_object();
    json_object_object_add(ic, "method", json_object_new_string(method));
    json_object_object_add(ic, "url", json_object_new_string(url));
    json_object_object_add(ic, "body", json_tokener_parse(body_text));
    call->input_context = ic;

    char host[256];
    unsigned port = 0;
    const char *why = NULL;
    if (engine_url_endpoint(url, host, sizeof host, &port, &why) < 0) {
        free(body_text);
        step_call_fail(call, STEP_FAILURE, "invalid url: %s", why ? why : "cannot parse it");
        return 0;
    }
    if (!engine_host_allowed(call->conf, host, port)) {
        free(body_text);
        step_call_fail(call, STEP_FAILURE, "host \"%s\" is not in allowed_hosts", host);
        return 0;
    }

    struct hook_state *st = mem_calloc(1, sizeof *st);
    handler_answer_init(&st->answer, HOOK_MAX_RESPONSE);
    st->body = body_text;
    st->timeout_seconds = call->conf->step_timeout_seconds;

    char line[512], ts[32];
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    st->headers = curl_slist_append(st->headers, "Content-Type: application/json");
    st->headers = curl_slist_append(st->headers, "Accept: application/json");
    st->headers = curl_slist_append(st->headers, "Expect:");
    snprintf(line, sizeof line, "Idempotency-Key: run-%llu-step-%llu", call->run_id, call->step_id);
    st->headers = curl_slist_append(st->headers, line);
    snprintf(line, sizeof line, "X-Aiengine-Timestamp: %s", ts);
    st->headers = curl_slist_append(st->headers, line);
    if (call->conf->webhook_secret && *call->conf->webhook_secret) {
        char sig[72];
        hook_signature(call->conf->webhook_secret, ts, body_text, strlen(body_text), sig);
        snprintf(line, sizeof line, "X-Aiengine-Signature: %s", sig);
        st->headers = curl_slist_append(st->headers, line);
    }
    if (!st->headers) mem_oom_abort();

    CURL *e =
        handler_easy(url, method, st->body, st->headers, (long)st->timeout_seconds, &st->answer);
    call->easy = e;
    call->state = st;
    return 1;
}

static void hook_finish(struct step_call *call, CURLcode rc)
{
    struct hook_state *st = call->state;
    if (rc != CURLE_OK) {
        handler_transport_failed(call, rc, st->timeout_seconds);
        return;
    }
    long status = 0;
    curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
    bool is_json = false;
    const char *data = st->answer.body.data ? st->answer.body.data : "";
    size_t len = st->answer.body.len;
    struct json_object *parsed = st->answer.body.overflow ? NULL : parse_body(data, len, &is_json);
    struct json_object *text = is_json ? NULL : json_object_new_string_len(data, (int)len);

    struct json_object *raw = json_object_new_object();
    json_object_object_add(raw, "status", json_object_new_int((int)status));
    json_object_object_add(raw, "body", is_json ? json_object_get(parsed) : json_object_get(text));
    call->raw_output = raw;
    call->retry_after = st->answer.retry_after;
    call->outcome = hook_classify(status);
    if (call->outcome == STEP_SUCCESS) {
        if (is_json) {
            call->parsed_output = json_object_get(parsed);
        } else {
            struct json_object *o = json_object_new_object();
            json_object_object_add(o, "status", json_object_new_int((int)status));
            json_object_object_add(o, "body", json_object_get(text));
            call->parsed_output = o;
        }
    } else if (status >= 300 && status <= 399) {
        step_call_fail(call, STEP_FAILURE, "redirect (HTTP %ld) not followed", status);
    } else {
        step_call_fail(call, call->outcome, "HTTP %ld from the receiver", status);
    }
    json_object_put(parsed);
    json_object_put(text);
}

static void hook_release(struct step_call *call)
{
    struct hook_state *st = call->state;
    if (call->easy) curl_easy_cleanup(call->easy);
    if (!st) return;
    buf_free(&st->answer.body);
    curl_slist_free_all(st->headers);
    free(st->body);
    free(st);
}

const struct step_handler hook_handler = {
    .name = "http",
    .start = hook_start,
    .finish = hook_finish,
    .release = hook_release,
};
