/* test_origin.c — unit tests for origin.c: which Host names are accepted for links, and the
 * base URL built from nginx's FastCGI params (accepted host, else the listen address, never
 * an unknown host; default ports dropped; IPv6 bracketed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "origin.h"

static struct arena arena;

static int setup(void **state)
{
    (void)state;
    arena_init(&arena, 4096);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(&arena);
    return 0;
}

static void test_patterns(void **state)
{
    (void)state;
    assert_true(origin_pattern_valid("api.example.com"));
    assert_true(origin_pattern_valid("*.example.com"));
    assert_true(origin_pattern_valid("localhost"));
    assert_false(origin_pattern_valid(""));
    assert_false(origin_pattern_valid(NULL));
    assert_false(origin_pattern_valid("api.example.com:443"));
    assert_false(origin_pattern_valid("https://api.example.com"));
    assert_false(origin_pattern_valid("*"));
    assert_false(origin_pattern_valid("*example.com"));
    assert_false(origin_pattern_valid("a..b"));
    assert_false(origin_pattern_valid(".example.com"));
    assert_false(origin_pattern_valid("a b"));
}

static void test_accepted(void **state)
{
    (void)state;
    const char *const hosts[] = {"api.example.com", "*.tenants.example.com"};
    assert_true(origin_host_accepted(hosts, 2, "api.example.com"));
    assert_true(origin_host_accepted(hosts, 2, "API.Example.COM"));
    assert_true(origin_host_accepted(hosts, 2, "a.tenants.example.com"));
    assert_true(origin_host_accepted(hosts, 2, "a.b.tenants.example.com"));
    assert_false(origin_host_accepted(hosts, 2, "tenants.example.com"));
    assert_false(origin_host_accepted(hosts, 2, "evil.com"));
    assert_false(origin_host_accepted(hosts, 2, "api.example.com.evil.com"));
    assert_false(origin_host_accepted(hosts, 2, "xapi.example.com"));
    assert_false(origin_host_accepted(hosts, 2, "evil-tenants.example.com"));
    assert_false(origin_host_accepted(hosts, 2, "api.example.com:80"));
    assert_false(origin_host_accepted(hosts, 2, NULL));
    assert_false(origin_host_accepted(hosts, 2, ""));
    assert_false(origin_host_accepted(NULL, 0, "api.example.com"));
}

static const char *base(const char *const *hosts, size_t n, const char *https, const char *host,
                        const char *addr, const char *port)
{
    struct origin_params p = {
        .https = https, .host = host, .server_addr = addr, .server_port = port};
    return origin_base_url(&arena, hosts, n, &p);
}

static void test_base_url(void **state)
{
    (void)state;
    const char *const hosts[] = {"api.example.com"};
    /* an accepted host keeps its name; the port comes from nginx, not from the client */
    assert_string_equal(base(hosts, 1, NULL, "api.example.com", "10.0.0.5", "80"),
                        "http://api.example.com");
    assert_string_equal(base(hosts, 1, "on", "api.example.com", "10.0.0.5", "443"),
                        "https://api.example.com");
    assert_string_equal(base(hosts, 1, "on", "api.example.com", "10.0.0.5", "8443"),
                        "https://api.example.com:8443");
    /* an unknown host is never echoed: the listen address instead */
    assert_string_equal(base(hosts, 1, NULL, "evil.com", "127.0.0.1", "8080"),
                        "http://127.0.0.1:8080");
    assert_string_equal(base(NULL, 0, NULL, "evil.com", "127.0.0.1", "8080"),
                        "http://127.0.0.1:8080");
    assert_string_equal(base(NULL, 0, NULL, "evil.com", "::1", "8080"), "http://[::1]:8080");
    assert_string_equal(base(NULL, 0, "off", "evil.com", "192.0.2.1", "80"), "http://192.0.2.1");
    /* nothing usable from nginx */
    assert_string_equal(base(NULL, 0, NULL, "evil.com", NULL, NULL), "http://localhost");
    assert_string_equal(base(NULL, 0, NULL, NULL, "1.2.3.4\r\nX: y", "80\r\n"), "http://localhost");
    assert_string_equal(base(NULL, 0, NULL, NULL, "127.0.0.1", "8x"), "http://127.0.0.1");
    /* REQUEST_SCHEME wins over HTTPS */
    struct origin_params p = {.scheme = "https", .host = "api.example.com", .server_port = "443"};
    assert_string_equal(origin_base_url(&arena, hosts, 1, &p), "https://api.example.com");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_accepted),
        cmocka_unit_test_setup_teardown(test_base_url, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
