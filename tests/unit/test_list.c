/* test_list.c — what a listing refuses before it ever reaches the database: unknown or
 * ill-typed filters, bad page and per_page, unknown sorts and includes, malformed query
 * strings, and cursors that are not genuine. (The database handle is NULL: reaching it would
 * crash, so every case here must be decided by the option parser.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config.h"
#include "list.h"

#include <stdlib.h>
#include <string.h>

static struct config *cfg;

static int setup(void **state)
{
    (void)state;
    unsetenv("AIENGINE_ETC");
    unsetenv("AIENGINE_APP_KEY");
    struct config_error err;
    cfg = config_load("etc", &err);
    if (!cfg) fail_msg("%s", err.msg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    config_free(cfg);
    return 0;
}

/* Run a listing of `resource` with query string `qs`; expect it to fail with `kind`, and
 * with `needle` in the message (or in the first field message for REQ_E_INVALID). */
static void refused(const char *resource, const char *qs, enum req_error_kind kind,
                    const char *needle)
{
    struct arena a;
    arena_init(&a, 4096);
    struct buf out, headers;
    buf_init(&out, 0);
    buf_init(&headers, 0);
    struct http_request req = {
        .method = "GET", .raw_path = "/api/x", .query = qs, .base_url = "http://h"};
    struct ctx c;
    memset(&c, 0, sizeof c);
    c.arena = &a;
    c.cfg = cfg;
    c.req = &req;
    c.out = &out;
    c.headers = &headers;
    const struct resource *r = resource_find(cfg->resources, resource);
    assert_non_null(r);
    if (list_write(&c, r, r->pagination, r->default_sort, r->ndefault_sort, NULL, 0) != -1)
        fail_msg("%s?%s: accepted", resource, qs);
    if (c.err.kind != kind) fail_msg("%s?%s: kind %d, not %d", resource, qs, c.err.kind, kind);
    const char *msg = kind == REQ_E_INVALID ? c.err.fields[0].messages[0] : c.err.message;
    if (!msg || !strstr(msg, needle))
        fail_msg("%s?%s: '%s' lacks '%s'", resource, qs, msg ? msg : "(null)", needle);
    assert_int_equal(out.len, 0); /* nothing written before the refusal */
    buf_free(&out);
    buf_free(&headers);
    arena_free(&a);
}

static void test_refused_before_the_database(void **state)
{
    (void)state;
    refused("workflows", "filter[name]=x", REQ_E_BAD_REQUEST, "Unknown filter 'name'");
    refused("workflows", "filter[is_active]=maybe", REQ_E_INVALID, "true or false");
    refused("workflow-steps", "filter[workflow_id]=abc", REQ_E_INVALID, "must be an integer");
    refused("workflows", "filter[trigger_event]=%ff", REQ_E_BAD_REQUEST, "not valid UTF-8");
    refused("workflows", "per_page=0", REQ_E_INVALID, "between 1 and 100");
    refused("workflows", "per_page=x", REQ_E_INVALID, "must be an integer");
    refused("workflows", "page=0", REQ_E_INVALID, "between 1 and 1000000000");
    refused("workflows", "sort=description", REQ_E_BAD_REQUEST, "Invalid sort 'description'");
    refused("workflows", "sort=-", REQ_E_BAD_REQUEST, "Invalid sort");
    refused("workflows", "include=logs", REQ_E_BAD_REQUEST, "Unknown include 'logs'");
    refused("workflows", "a=%zz", REQ_E_BAD_REQUEST, "malformed");
    refused("execution-logs", "cursor=abc", REQ_E_BAD_REQUEST, "cursor is invalid");
    refused("execution-logs", "cursor=eyJuIjp0cnVlLCJrIjpbIjEiLCIyIl19.AAAAAAAAAAAAAAAAAAAAAA",
            REQ_E_BAD_REQUEST, "cursor is invalid");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_before_the_database),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
