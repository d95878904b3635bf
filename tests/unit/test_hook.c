/* test_hook.c — unit tests for the http handler's pure parts (hook.c): the status and
 * transport classification, the signature (checked against an HMAC computed elsewhere),
 * Retry-After parsing, and the refusals that happen before any connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hook.h"

static void test_status_classification(void **state)
{
    (void)state;
    for (long s = 200; s <= 299; s++) assert_int_equal(hook_classify(s), STEP_SUCCESS);
    long retry[] = {408, 425, 429, 500, 502, 503, 504, 599};
    for (size_t i = 0; i < sizeof retry / sizeof *retry; i++)
        assert_int_equal(hook_classify(retry[i]), STEP_RETRY);
    long perm[] = {100, 199, 300, 301, 302, 303, 307, 308, 400,
                   401, 403, 404, 409, 410, 422, 499, 600, 0};
    for (size_t i = 0; i < sizeof perm / sizeof *perm; i++)
        assert_int_equal(hook_classify(perm[i]), STEP_FAILURE);
}

static void test_transport_classification(void **state)
{
    (void)state;
    assert_int_equal(hook_classify_transport(CURLE_OPERATION_TIMEDOUT), STEP_RETRY);
    assert_int_equal(hook_classify_transport(CURLE_COULDNT_CONNECT), STEP_RETRY);
    assert_int_equal(hook_classify_transport(CURLE_COULDNT_RESOLVE_HOST), STEP_RETRY);
    assert_int_equal(hook_classify_transport(CURLE_GOT_NOTHING), STEP_RETRY);
    assert_int_equal(hook_classify_transport(CURLE_RECV_ERROR), STEP_RETRY);
    assert_int_equal(hook_classify_transport(CURLE_URL_MALFORMAT), STEP_FAILURE);
    assert_int_equal(hook_classify_transport(CURLE_UNSUPPORTED_PROTOCOL), STEP_FAILURE);
}

static void test_signature_matches_an_independent_hmac(void **state)
{
    (void)state;
    char sig[72];
    const char body[] = "{\"a\":1}";
    /* python3: hmac.new(b"key", b'1700000000.{"a":1}', hashlib.sha256).hexdigest() */
    hook_signature("key", "1700000000", body, strlen(body), sig);
    assert_string_equal(sig,
                        "sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03");
    char other[72];
    hook_signature("key", "1700000001", body, strlen(body), other);
    assert_string_not_equal(sig, other);
    hook_signature("kez", "1700000000", body, strlen(body), other);
    assert_string_not_equal(sig, other);
    hook_signature("key", "1", "", 0, other);
    assert_int_equal(strlen(other), 71);
}

static void test_retry_after_values(void **state)
{
    (void)state;
    assert_int_equal(hook_retry_after(" 2\r\n", 4, 0), 2);
    assert_int_equal(hook_retry_after("0", 1, 0), 0);
    assert_int_equal(hook_retry_after("120", 3, 0), 120);
    assert_int_equal(hook_retry_after("", 0, 0), -1);
    assert_int_equal(hook_retry_after("soon", 4, 0), -1);
    assert_int_equal(hook_retry_after("-1", 2, 0), -1);
    const char *date = "Wed, 21 Oct 2015 07:28:00 GMT";
    long long t = 1445412480; /* that instant */
    assert_int_equal(hook_retry_after(date, strlen(date), t - 30), 30);
    assert_int_equal(hook_retry_after(date, strlen(date), t + 30), 0);
    assert_true(hook_retry_after("99999999999999", 14, 0) > 0);
}

static struct engine_conf *conf(const char *allowed_host, unsigned port)
{
    struct engine_conf *c = calloc(1, sizeof *c);
    c->step_timeout_seconds = 5;
    c->webhook_secret = "";
    c->allowed_hosts = calloc(1, sizeof *c->allowed_hosts);
    c->allowed_hosts[0].host = (char *)allowed_host;
    c->allowed_hosts[0].port = port;
    c->n_allowed_hosts = 1;
    return c;
}

static void test_refusals_before_any_connection(void **state)
{
    (void)state;
    struct engine_conf *c = conf("hooks.example", 0);
    struct engine_step_type type = {.name = "WEBHOOK", .handler = ENGINE_HANDLER_HTTP};
    struct json_object *ctx = json_object_new_object();
    const char *cases[][2] = {
        {"{\"url\":\"http://evil.example:81/x\"}", "host \"evil.example\" is not in allowed_hosts"},
        {"{\"url\":\"http://user@hooks.example/x\"}", "invalid url:"},
        {"{}", "step_config.url is missing"},
        {"{\"url\":\"http://hooks.example/\",\"method\":\"GE T\"}",
         "step_config.method is not an HTTP method"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct json_object *cfg = json_tokener_parse(cases[i][0]);
        struct step_call call;
        step_call_init(&call);
        call.conf = c;
        call.type = &type;
        call.run_id = 1;
        call.step_id = 2;
        call.step_type = "WEBHOOK";
        call.context = ctx;
        call.config = cfg;
        assert_int_equal(hook_handler.start(&call), 0);
        assert_int_equal(call.outcome, STEP_FAILURE);
        assert_null(call.easy);
        assert_true(strncmp(call.error, cases[i][1], strlen(cases[i][1])) == 0);
        step_call_release(&call, &hook_handler);
        json_object_put(cfg);
    }
    /* an allowed host gets a transfer ready (not started here) */
    struct json_object *cfg = json_tokener_parse("{\"url\":\"https://HOOKS.example:8443/a\"}");
    struct step_call call;
    step_call_init(&call);
    call.conf = c;
    call.type = &type;
    call.step_type = "WEBHOOK";
    call.context = ctx;
    call.config = cfg;
    assert_int_equal(hook_handler.start(&call), 1);
    assert_non_null(call.easy);
    struct json_object *m = NULL;
    assert_true(json_object_object_get_ex(call.input_context, "method", &m));
    assert_string_equal(json_object_get_string(m), "POST");
    step_call_release(&call, &hook_handler);
    json_object_put(cfg);
    json_object_put(ctx);
    free(c->allowed_hosts);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_classification),
        cmocka_unit_test(test_transport_classification),
        cmocka_unit_test(test_signature_matches_an_independent_hmac),
        cmocka_unit_test(test_retry_after_values),
        cmocka_unit_test(test_refusals_before_any_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
