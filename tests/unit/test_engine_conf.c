/* test_engine_conf.c — unit tests for engine_conf.c: the shipped etc/engine.yaml, defaults,
 * AIENGINE_* overrides, ${ENV} expansion, file:line errors, provider selection and keys,
 * exact prices and costs, URL parsing, the allowed_hosts check, retry policy and backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_conf.h"
#include "fixture.h"

static char dir[] = "/tmp/aiengine-test-engine-XXXXXX";

static const char *const env_vars[] = {
    "AIENGINE_ENGINE_WORKERS", "AIENGINE_ENGINE_CONCURRENCY", "AIENGINE_ENGINE_POLL_INTERVAL_MS",
    "AIENGINE_ENGINE_LEASE_SECONDS", "AIENGINE_ENGINE_STEP_TIMEOUT_SECONDS",
    "AIENGINE_ENGINE_SHUTDOWN_TIMEOUT", "AIENGINE_ENGINE_RETRY_ATTEMPTS",
    "AIENGINE_ENGINE_RETRY_BACKOFF_SECONDS", "AIENGINE_ENGINE_RETRY_MAX_BACKOFF_SECONDS",
    "AIENGINE_ENGINE_WEBHOOK_SECRET", "AIENGINE_WEBHOOK_SECRET", "AIENGINE_ALLOWED_HOSTS",
    "AIENGINE_ENGINE_ALLOWED_HOSTS", "AIENGINE_PROVIDER_LOCAL_URL", "AIENGINE_PROVIDER_GEMINI_URL",
    "AIENGINE_PROVIDER_MY_LLM_URL", "CRM_URL", "TEST_ENGINE_HOST", "TEST_ENGINE_KEY", "GEMINI_API_KEY",
    "OPENAI_API_KEY", NULL};

static void clear_env(void)
{
    for (size_t i = 0; env_vars[i]; i++)
        unsetenv(env_vars[i]);
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    clear_env();
    return system(cmd) == 0 ? 0 : -1;
}

static struct engine_conf *load_text(const char *text, struct config_error *err)
{
    return engine_conf_load(fixture_write(dir, "engine.yaml", text), err);
}

/* Expect a load error whose message ends with "engine.yaml:<line>: <reason>" or, for
 * environment errors, equals `reason` after the path prefix check is skipped (line 0). */
static void load_fails(const char *text, int line, const char *reason)
{
    struct config_error err;
    struct engine_conf *c = load_text(text, &err);
    if (c) fail_msg("loaded, expected: %s", reason);
    char want[600];
    if (line)
        snprintf(want, sizeof want, "%s/engine.yaml:%d: %s", dir, line, reason);
    else
        snprintf(want, sizeof want, "%s", reason);
    assert_string_equal(err.msg, want);
}

static void test_shipped_file(void **state)
{
    (void)state;
    struct config_error err;
    struct engine_conf *c = engine_conf_load("etc/engine.yaml", &err);
    if (!c) fail_msg("%s", err.msg);
    assert_int_equal(c->workers, 2);
    assert_int_equal(c->concurrency, 256);
    assert_int_equal(c->poll_interval_ms, 200);
    assert_int_equal(c->lease_seconds, 30);
    assert_int_equal(c->step_timeout_seconds, 60);
    assert_int_equal(c->shutdown_timeout, 30);
    assert_int_equal(c->retry.attempts, 3);
    assert_int_equal(c->retry.backoff_seconds, 5);
    assert_int_equal(c->retry.max_backoff_seconds, 300);
    assert_string_equal(c->webhook_secret, "");
    assert_int_equal(c->n_allowed_hosts, 0);

    const struct engine_step_type *t = engine_step_type(c, "AI_PROMPT");
    assert_non_null(t);
    assert_int_equal(t->handler, ENGINE_HANDLER_AI);
    assert_null(t->url);
    t = engine_step_type(c, "UPDATE_CRM_FIELD");
    assert_int_equal(t->handler, ENGINE_HANDLER_HTTP);
    assert_string_equal(t->url, "http://127.0.0.1:8089/actions/update-field");
    t = engine_step_type(c, "WEBHOOK");
    assert_int_equal(t->handler, ENGINE_HANDLER_HTTP);
    assert_null(t->url);
    assert_null(engine_step_type(c, "webhook")); /* byte for byte */
    assert_null(engine_step_type(c, "X"));

    const struct engine_provider *p = engine_provider_for(c, "gemini-2.5-flash");
    assert_string_equal(p->name, "gemini");
    assert_int_equal(p->api, ENGINE_API_GEMINI);
    assert_string_equal(p->base_url, "https://generativelanguage.googleapis.com/v1beta");
    assert_string_equal(p->api_key_env, "GEMINI_API_KEY");
    assert_string_equal(engine_provider_for(c, "gpt-4o-mini")->name, "openai");
    p = engine_provider_for(c, "llama3.1:8b");
    assert_string_equal(p->name, "local");
    assert_int_equal(p->api, ENGINE_API_OPENAI);
    assert_null(p->api_key_env);

    const struct engine_price *pr = engine_price_for(c, "gemini-2.5-flash-preview-05-20");
    assert_non_null(pr);
    assert_int_equal(pr->input, 150000000);
    assert_int_equal(pr->output, 600000000);
    assert_null(engine_price_for(c, "gemini-2.5-flash"));
    engine_conf_free(c);
}

static void test_defaults(void **state)
{
    (void)state;
    struct config_error err;
    struct engine_conf *c = load_text("step_types: {}\n", &err);
    if (!c) fail_msg("%s", err.msg);
    assert_int_equal(c->workers, 2);
    assert_int_equal(c->concurrency, 256);
    assert_int_equal(c->retry.attempts, 3);
    assert_int_equal(c->retry.max_backoff_seconds, 300);
    assert_int_equal(c->n_step_types + c->n_providers + c->n_prices, 0);
    assert_null(engine_provider_for(c, "gpt-4"));
    assert_false(engine_host_allowed(c, "127.0.0.1", 80));
    engine_conf_free(c);
    /* sections with nothing under them (everything commented out) are absent, not errors */
    c = load_text("engine:\n  # workers: 4\n  retry:\nstep_types:\nproviders:\nprices:\n", &err);
    if (!c) fail_msg("%s", err.msg);
    assert_int_equal(c->workers, 2);
    assert_int_equal(c->retry.attempts, 3);
    engine_conf_free(c);
    load_fails("step_types: \"\"\n", 1, "step_types must be a mapping");
}

static void test_env_overrides(void **state)
{
    (void)state;
    const char *text = "engine:\n  workers: 3\n  lease_seconds: 20\n"
                       "  retry: { attempts: 4, backoff_seconds: 5 }\n"
                       "  webhook_secret: from-file\n  allowed_hosts: [a.example]\n";
    setenv("AIENGINE_ENGINE_WORKERS", "5", 1);
    setenv("AIENGINE_ENGINE_CONCURRENCY", "1000", 1);
    setenv("AIENGINE_ENGINE_POLL_INTERVAL_MS", "10", 1);
    setenv("AIENGINE_ENGINE_LEASE_SECONDS", "10", 1);
    setenv("AIENGINE_ENGINE_STEP_TIMEOUT_SECONDS", "5", 1);
    setenv("AIENGINE_ENGINE_SHUTDOWN_TIMEOUT", "0", 1);
    setenv("AIENGINE_ENGINE_RETRY_BACKOFF_SECONDS", "1", 1);
    setenv("AIENGINE_ENGINE_RETRY_MAX_BACKOFF_SECONDS", "2", 1);
    setenv("AIENGINE_WEBHOOK_SECRET", "s3cret", 1);
    setenv("AIENGINE_ALLOWED_HOSTS", " 127.0.0.1:8080 , crm.example,,[::1]:9", 1);
    struct config_error err;
    struct engine_conf *c = load_text(text, &err);
    if (!c) fail_msg("%s", err.msg);
    assert_int_equal(c->workers, 5);
    assert_int_equal(c->concurrency, 1000);
    assert_int_equal(c->poll_interval_ms, 10);
    assert_int_equal(c->lease_seconds, 10);
    assert_int_equal(c->step_timeout_seconds, 5);
    assert_int_equal(c->shutdown_timeout, 0);
    assert_int_equal(c->retry.attempts, 4); /* from the file */
    assert_int_equal(c->retry.backoff_seconds, 1);
    assert_int_equal(c->retry.max_backoff_seconds, 2);
    assert_string_equal(c->webhook_secret, "s3cret");
    /* the environment's list replaces the file's */
    assert_int_equal(c->n_allowed_hosts, 3);
    assert_false(engine_host_allowed(c, "a.example", 80));
    assert_true(engine_host_allowed(c, "127.0.0.1", 8080));
    assert_false(engine_host_allowed(c, "127.0.0.1", 8081));
    assert_true(engine_host_allowed(c, "CRM.example", 1234));
    assert_true(engine_host_allowed(c, "::1", 9));
    engine_conf_free(c);

    /* the long names work too; the ENGINE.md names win when both are set */
    unsetenv("AIENGINE_ALLOWED_HOSTS");
    setenv("AIENGINE_ENGINE_ALLOWED_HOSTS", "b.example:1", 1);
    setenv("AIENGINE_ENGINE_WEBHOOK_SECRET", "long", 1);
    c = load_text(text, &err);
    assert_non_null(c);
    assert_string_equal(c->webhook_secret, "s3cret");
    assert_true(engine_host_allowed(c, "b.example", 1));
    engine_conf_free(c);
    unsetenv("AIENGINE_WEBHOOK_SECRET");
    c = load_text(text, &err);
    assert_string_equal(c->webhook_secret, "long");
    engine_conf_free(c);

    setenv("AIENGINE_ENGINE_LEASE_SECONDS", "0", 1);
    load_fails(text, 0, "AIENGINE_ENGINE_LEASE_SECONDS: expected an integer between 1 and 86400");
    setenv("AIENGINE_ENGINE_LEASE_SECONDS", "", 1);
    load_fails(text, 0, "AIENGINE_ENGINE_LEASE_SECONDS: expected an integer between 1 and 86400");
    setenv("AIENGINE_ENGINE_LEASE_SECONDS", "10", 1);
    setenv("AIENGINE_ENGINE_ALLOWED_HOSTS", "ok.example,bad host", 1);
    load_fails(text, 0, "AIENGINE_ENGINE_ALLOWED_HOSTS: invalid host or host:port \"bad host\"");
    setenv("AIENGINE_ENGINE_ALLOWED_HOSTS", "h:0", 1);
    load_fails(text, 0, "AIENGINE_ENGINE_ALLOWED_HOSTS: invalid host or host:port \"h:0\"");
    clear_env();
}

static void test_env_expansion(void **state)
{
    (void)state;
    setenv("CRM_URL", "http://crm.test:9000", 1);
    setenv("TEST_ENGINE_HOST", "hooks.test", 1);
    struct config_error err;
    struct engine_conf *c = load_text(
        "engine:\n  workers: \"${TEST_ENGINE_WORKERS:-7}\"\n"
        "  allowed_hosts: \"${TEST_ENGINE_HOST},x.test:1\"\n"
        "  webhook_secret: \"pre-${TEST_ENGINE_KEY:-}-$HOME-$-{x}$\"\n"
        "step_types:\n  CRM: { handler: http, url: \"${CRM_URL}/a\" }\n"
        "  LOCAL: { handler: http, url: \"${NOT_SET_ANYWHERE:-http://127.0.0.1:1}/b\" }\n",
        &err);
    if (!c) fail_msg("%s", err.msg);
    assert_int_equal(c->workers, 7);
    assert_string_equal(c->webhook_secret, "pre--$HOME-$-{x}$"); /* only ${ is special */
    assert_true(engine_host_allowed(c, "hooks.test", 443));
    assert_true(engine_host_allowed(c, "x.test", 1));
    assert_string_equal(engine_step_type(c, "CRM")->url, "http://crm.test:9000/a");
    /* a type's url allows exactly its own host:port */
    assert_true(engine_host_allowed(c, "crm.test", 9000));
    assert_false(engine_host_allowed(c, "crm.test", 80));
    assert_true(engine_host_allowed(c, "127.0.0.1", 1));
    assert_false(engine_host_allowed(c, "127.0.0.1", 2));
    engine_conf_free(c);
    /* set but empty: the default applies to ${X:-d}, ${X} gives "" */
    setenv("TEST_ENGINE_KEY", "", 1);
    c = load_text("engine:\n  webhook_secret: \"${TEST_ENGINE_KEY}|${TEST_ENGINE_KEY:-d}\"\n", &err);
    assert_non_null(c);
    assert_string_equal(c->webhook_secret, "|d");
    engine_conf_free(c);

    load_fails("step_types:\n  CRM: { handler: http, url: \"${NOT_SET_ANYWHERE}/a\" }\n", 2,
               "url: environment variable NOT_SET_ANYWHERE is not set (use "
               "${NOT_SET_ANYWHERE:-default})");
    load_fails("engine:\n  webhook_secret: \"${OOPS\"\n", 2, "webhook_secret: unclosed \"${\"");
    load_fails("engine:\n  webhook_secret: \"${1X}\"\n", 2,
               "webhook_secret: invalid variable \"${1X}\"");
    load_fails("engine:\n  webhook_secret: \"${A B}\"\n", 2,
               "webhook_secret: invalid variable \"${A B}\"");
    load_fails("engine:\n  webhook_secret: \"${}\"\n", 2, "webhook_secret: invalid variable \"${}\"");
    load_fails("engine:\n  workers: \"${TEST_ENGINE_HOST}\"\n", 2,
               "workers: expected an integer between 1 and 256");
    clear_env();
}

static void test_provider_override_and_keys(void **state)
{
    (void)state;
    const char *text = "providers:\n"
                       "  gemini: { api: gemini, base_url: \"https://g.test/v1beta/\", "
                       "api_key_env: TEST_ENGINE_KEY, models: [\"gemini-*\"] }\n"
                       "  my-llm: { api: openai, base_url: \"http://10.0.0.1:8000/v1\", "
                       "models: [\"llama*\", \"qwen?-*\"] }\n"
                       "  local: { api: openai, base_url: \"http://127.0.0.1:11434/v1\", "
                       "models: [\"*\"] }\n";
    setenv("AIENGINE_PROVIDER_MY_LLM_URL", "http://127.0.0.1:5000/v1///", 1);
    struct config_error err;
    struct engine_conf *c = load_text(text, &err);
    if (!c) fail_msg("%s", err.msg);
    const struct engine_provider *p = engine_provider_for(c, "gemini-2.0");
    assert_string_equal(p->base_url, "https://g.test/v1beta");
    p = engine_provider_for(c, "qwen2-7b");
    assert_string_equal(p->name, "my-llm");
    assert_string_equal(p->base_url, "http://127.0.0.1:5000/v1");
    assert_string_equal(engine_provider_for(c, "llama3")->name, "my-llm");
    assert_string_equal(engine_provider_for(c, "qwen10-7b")->name, "local");
    assert_string_equal(engine_provider_for(c, "gemini")->name, "local");
    /* provider base URLs are the operator's: they do not widen allowed_hosts */
    assert_false(engine_host_allowed(c, "g.test", 443));

    const char *key = "x";
    p = engine_provider_for(c, "gemini-2.0");
    assert_int_equal(engine_provider_key(p, &key), -1);
    assert_null(key);
    setenv("TEST_ENGINE_KEY", "", 1);
    assert_int_equal(engine_provider_key(p, &key), -1);
    setenv("TEST_ENGINE_KEY", "k-123", 1);
    assert_int_equal(engine_provider_key(p, &key), 0);
    assert_string_equal(key, "k-123");
    key = "x";
    assert_int_equal(engine_provider_key(engine_provider_for(c, "llama3"), &key), 0);
    assert_null(key);
    engine_conf_free(c);

    setenv("AIENGINE_PROVIDER_LOCAL_URL", "ftp://x", 1);
    load_fails(text, 0, "AIENGINE_PROVIDER_LOCAL_URL: \"ftp://x\" must start with http:// or "
                        "https://");
    clear_env();
}

static void test_file_errors(void **state)
{
    (void)state;
    load_fails("- a\n", 1, "expected a mapping at the top");
    load_fails("engine: {}\nextra: 1\n", 2, "unknown key 'extra' in engine.yaml");
    load_fails("engine:\n  workers: 2\n  concurency: 3\n", 3, "unknown key 'concurency' in engine");
    load_fails("engine:\n  retry: { attempts: 0 }\n", 2,
               "attempts: expected an integer between 1 and 100");
    load_fails("engine:\n  retry: { tries: 2 }\n", 2, "unknown key 'tries' in engine.retry");
    load_fails("engine:\n  retry: 3\n", 2, "engine.retry must be a mapping");
    load_fails("engine: [1]\n", 1, "engine must be a mapping");
    load_fails("engine:\n  workers: 2\n  workers: 3\n", 3, "duplicate key 'workers'");
    load_fails("engine:\n  allowed_hosts: [\"ok\", \"no/pe\"]\n", 2,
               "invalid host or host:port \"no/pe\"");
    load_fails("engine:\n  allowed_hosts: {a: 1}\n", 2,
               "allowed_hosts must be a list of host or host:port");
    load_fails("engine:\n  webhook_secret: [1]\n", 2, "webhook_secret must be a string");
    load_fails("step_types:\n  X: { handler: lambda }\n", 2,
               "step type 'X': handler must be ai or http");
    load_fails("step_types:\n  X: { url: \"http://a\" }\n", 2,
               "step type 'X': handler must be ai or http");
    load_fails("step_types:\n  X: ai\n", 2, "step type 'X' must be a mapping with a handler");
    load_fails("step_types:\n  X: { handler: ai, url: \"http://a\" }\n", 2,
               "step type 'X': only http steps have a url");
    load_fails("step_types:\n  X: { handler: http, method: GET }\n", 2,
               "unknown key 'method' in a step type");
    load_fails("step_types:\n  X: { handler: http, url: \"http://u@a/\" }\n", 2,
               "step type 'X': url \"http://u@a/\" must not contain user information");
    load_fails("providers:\n  p: { api: anthropic, base_url: \"http://a\", models: [\"*\"] }\n", 2,
               "provider 'p': api must be gemini or openai");
    load_fails("providers:\n  p: { api: openai, models: [\"*\"] }\n", 2,
               "provider 'p' needs a base_url");
    load_fails("providers:\n  p: { api: openai, base_url: \"a.test\", models: [\"*\"] }\n", 2,
               "provider 'p': base_url \"a.test\" must start with http:// or https://");
    load_fails("providers:\n  p: { api: openai, base_url: \"http://a\" }\n", 2,
               "provider 'p' needs models: a list of globs such as [\"gpt-*\"]");
    load_fails("providers:\n  p: { api: openai, base_url: \"http://a\", models: [] }\n", 2,
               "provider 'p' needs models: a list of globs such as [\"gpt-*\"]");
    load_fails("providers:\n  p: { api: openai, base_url: \"http://a\", models: [\"*\"], "
               "api_key_env: \"MY KEY\" }\n",
               2, "provider 'p': api_key_env must name an environment variable");
    load_fails("prices:\n  m: { input: 0.1 }\n", 2, "price of 'm' needs output");
    load_fails("prices:\n  m: { input: 0.1, output: 1e-3 }\n", 2,
               "price of 'm': output \"1e-3\" must be a decimal number of USD per 1,000,000 "
               "tokens, at most 9 decimals");
    load_fails("prices:\n  m: { input: -1, output: 1 }\n", 2,
               "price of 'm': input \"-1\" must be a decimal number of USD per 1,000,000 "
               "tokens, at most 9 decimals");
    load_fails("prices:\n  m: { input: 0.1234567891, output: 1 }\n", 2,
               "price of 'm': input \"0.1234567891\" must be a decimal number of USD per "
               "1,000,000 tokens, at most 9 decimals");
    load_fails("prices:\n  m: { input: \".5\", output: 1 }\n", 2,
               "price of 'm': input \".5\" must be a decimal number of USD per 1,000,000 "
               "tokens, at most 9 decimals");
    load_fails("prices:\n  m: { input: 1, output: 2, cached: 1 }\n", 2,
               "unknown key 'cached' in a price");
    struct config_error err;
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope.yaml", dir);
    assert_null(engine_conf_load(missing, &err));
    assert_non_null(strstr(err.msg, "nope.yaml: No such file"));
}

static void test_prices_and_cost(void **state)
{
    (void)state;
    struct config_error err;
    struct engine_conf *c = load_text("prices:\n"
                                      "  a: { input: 0.15, output: 0.60 }\n"
                                      "  b: { input: \"0.5\", output: 0 }\n"
                                      "  c: { input: 0.000000001, output: 999999.999999999 }\n"
                                      "  d: { input: 3, output: 15.000 }\n",
                                      &err);
    if (!c) fail_msg("%s", err.msg);
    uint64_t m;
    char s[32];
    const struct engine_price *a = engine_price_for(c, "a");
    /* 31 × 0.15 + 174 × 0.60 = 109.05 µUSD → 0.000109 */
    assert_int_equal(engine_cost_micros(a, 31, 174, &m), 0);
    assert_string_equal(engine_micros_format(m, s), "0.000109");
    /* 1,000,000 × 0.15 + 1,000,000 × 0.60 = 0.75 USD exactly */
    assert_int_equal(engine_cost_micros(a, 1000000, 1000000, &m), 0);
    assert_string_equal(engine_micros_format(m, s), "0.750000");
    assert_int_equal(engine_cost_micros(a, 0, 0, &m), 0);
    assert_string_equal(engine_micros_format(m, s), "0.000000");
    /* half up: 0.5 µUSD → 0.000001, just below → 0 */
    const struct engine_price *b = engine_price_for(c, "b");
    assert_int_equal(engine_cost_micros(b, 1, 99, &m), 0);
    assert_int_equal(m, 1);
    assert_int_equal(engine_cost_micros(b, 3, 0, &m), 0); /* 1.5 → 2 */
    assert_int_equal(m, 2);
    const struct engine_price *cc = engine_price_for(c, "c");
    assert_int_equal(cc->input, 1);
    assert_int_equal(cc->output, 999999999999999ULL);
    assert_int_equal(engine_cost_micros(cc, 499999999, 0, &m), 0); /* 0.499999999 µUSD */
    assert_int_equal(m, 0);
    assert_int_equal(engine_cost_micros(cc, 500000000, 0, &m), 0);
    assert_int_equal(m, 1);
    /* 2^32 output tokens at the top price is still exact */
    assert_int_equal(engine_cost_micros(cc, 0, 4294967296ULL, &m), 0);
    assert_int_equal(m, 4294967295999996ULL); /* 4294967295.9999957… USD */
    assert_int_equal(engine_cost_micros(cc, 0, UINT64_MAX, &m), -1);
    const struct engine_price *d = engine_price_for(c, "d");
    assert_int_equal(engine_cost_micros(d, 1234, 5678, &m), 0); /* 3702 + 85170 = 88872 */
    assert_string_equal(engine_micros_format(m, s), "0.088872");
    assert_string_equal(engine_micros_format(12345678901ULL, s), "12345.678901");
    engine_conf_free(c);
}

static void test_urls(void **state)
{
    (void)state;
    char host[256];
    unsigned port;
    const char *why;
#define OK(url, h, p)                                                                              \
    assert_int_equal(engine_url_endpoint(url, host, sizeof host, &port, &why), 0);                \
    assert_string_equal(host, h);                                                                  \
    assert_int_equal(port, p);
    OK("http://example.com", "example.com", 80);
    OK("https://Example.COM/path?q=1#f", "example.com", 443);
    OK("HTTP://127.0.0.1:8080/hook", "127.0.0.1", 8080);
    OK("http://[::1]:9000/x", "::1", 9000);
    OK("https://[2001:DB8::1]", "2001:db8::1", 443);
    OK("http://a.test?x=@evil", "a.test", 80);
    OK("http://a.test#@evil", "a.test", 80);
    OK("http://my_host:65535", "my_host", 65535);
#undef OK
#define BAD(url, reason)                                                                           \
    assert_int_equal(engine_url_endpoint(url, host, sizeof host, &port, &why), -1);               \
    assert_string_equal(why, reason);
    BAD("ftp://a", "must start with http:// or https://");
    BAD("//a.test/x", "must start with http:// or https://");
    BAD("http:/a.test", "must start with http:// or https://");
    BAD("http://user:pw@a.test/", "must not contain user information");
    BAD("http://allowed.test@evil.test/", "must not contain user information");
    BAD("http://a.test\\@evil/", "must not contain user information");
    BAD("http://a.test\\x/", "has no valid host[:port]");
    BAD("http://a b/", "contains whitespace or control characters");
    BAD("http://a.test/\n", "contains whitespace or control characters");
    BAD("http://", "has no valid host[:port]");
    BAD("http:///x", "has no valid host[:port]");
    BAD("http://a.test:0/", "has no valid host[:port]");
    BAD("http://a.test:65536/", "has no valid host[:port]");
    BAD("http://a.test:/", "has no valid host[:port]");
    BAD("http://a.test:80x/", "has no valid host[:port]");
    BAD("http://%61.test/", "has no valid host[:port]");
    BAD("http://[::1/", "has no valid host[:port]");
    BAD("http://[::g]/", "has no valid host[:port]");
    BAD("http://[::1]x/", "has no valid host[:port]");
    BAD("http://ex\xc3\xa4mple.test/", "has no valid host[:port]");
#undef BAD
}

static void test_allowed_hosts_file(void **state)
{
    (void)state;
    struct config_error err;
    struct engine_conf *c = load_text("engine:\n  allowed_hosts: [\"Hooks.Example\", "
                                      "\"127.0.0.1:8080\", \"[::1]\", \"[fe80::1]:81\", \"::2\"]\n"
                                      "step_types:\n"
                                      "  CRM: { handler: http, url: \"https://crm.test/x\" }\n",
                                      &err);
    if (!c) fail_msg("%s", err.msg);
    assert_true(engine_host_allowed(c, "hooks.example", 1));
    assert_true(engine_host_allowed(c, "HOOKS.EXAMPLE", 65535));
    assert_false(engine_host_allowed(c, "evil.hooks.example", 443));
    assert_false(engine_host_allowed(c, "hooks.example.evil", 443));
    assert_true(engine_host_allowed(c, "127.0.0.1", 8080));
    assert_false(engine_host_allowed(c, "127.0.0.1", 80));
    assert_false(engine_host_allowed(c, "localhost", 8080));
    assert_true(engine_host_allowed(c, "::1", 22));
    assert_true(engine_host_allowed(c, "fe80::1", 81));
    assert_false(engine_host_allowed(c, "fe80::1", 80));
    assert_true(engine_host_allowed(c, "::2", 5));
    assert_true(engine_host_allowed(c, "crm.test", 443));
    assert_false(engine_host_allowed(c, "crm.test", 80));
    engine_conf_free(c);
}

static void test_retry_policy(void **state)
{
    (void)state;
    struct engine_retry def = {3, 5, 300}, r;
    char err[200];
    assert_int_equal(engine_retry_from_json(&def, NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.attempts, 3);
    struct json_object *j =
        json_tokener_parse("{\"attempts\": 5, \"max_backoff_seconds\": 60}");
    assert_int_equal(engine_retry_from_json(&def, j, &r, err, sizeof err), 0);
    assert_int_equal(r.attempts, 5);
    assert_int_equal(r.backoff_seconds, 5);
    assert_int_equal(r.max_backoff_seconds, 60);
    json_object_put(j);
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"attempts\": 0}", "step_config.retry.attempts must be an integer between 1 and 100"},
        {"{\"attempts\": \"3\"}",
         "step_config.retry.attempts must be an integer between 1 and 100"},
        {"{\"backoff_seconds\": 1.5}",
         "step_config.retry.backoff_seconds must be an integer between 0 and 86400"},
        {"{\"max_backoff_seconds\": -1}",
         "step_config.retry.max_backoff_seconds must be an integer between 0 and 604800"},
        {"{\"tries\": 1}", "step_config.retry: unknown key \"tries\""},
        {"[1]", "step_config.retry must be an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = json_tokener_parse(bad[i].json);
        assert_int_equal(engine_retry_from_json(&def, j, &r, err, sizeof err), -1);
        assert_string_equal(err, bad[i].msg);
        json_object_put(j);
    }

    /* backoff × 2^(n-1), jitter 0.8..1.2, Retry-After if larger, capped */
    assert_int_equal(engine_retry_delay_ms(&def, 1, -1, 0.5), 5000);
    assert_int_equal(engine_retry_delay_ms(&def, 1, -1, 0.0), 4000);
    assert_true(engine_retry_delay_ms(&def, 1, -1, 0.999999) <= 6000);
    assert_true(engine_retry_delay_ms(&def, 1, -1, 0.999999) >= 5999);
    assert_int_equal(engine_retry_delay_ms(&def, 2, -1, 0.5), 10000);
    assert_int_equal(engine_retry_delay_ms(&def, 3, -1, 0.5), 20000);
    assert_int_equal(engine_retry_delay_ms(&def, 7, -1, 0.5), 300000); /* 320 s capped */
    assert_int_equal(engine_retry_delay_ms(&def, 99, -1, 0.5), 300000);
    assert_int_equal(engine_retry_delay_ms(&def, 1, 30, 0.5), 30000);
    assert_int_equal(engine_retry_delay_ms(&def, 1, 2, 0.5), 5000);
    assert_int_equal(engine_retry_delay_ms(&def, 1, 0, 0.5), 5000);
    assert_int_equal(engine_retry_delay_ms(&def, 1, 86400, 0.5), 300000);
    assert_int_equal(engine_retry_delay_ms(&def, 1, 9223372036854775807LL, 0.5), 300000);
    struct engine_retry zero = {3, 0, 0};
    assert_int_equal(engine_retry_delay_ms(&zero, 2, 5, 0.5), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_file),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_env_overrides),
        cmocka_unit_test(test_env_expansion),
        cmocka_unit_test(test_provider_override_and_keys),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_prices_and_cost),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_allowed_hosts_file),
        cmocka_unit_test(test_retry_policy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
