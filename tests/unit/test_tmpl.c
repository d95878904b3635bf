/* test_tmpl.c — unit tests for tmpl.c: rendering each kind of value, missing and null
 * paths, syntax errors, the output cap, step_config rendering, variable lists and a prompt's
 * template_variables check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <string.h>

#include "buf.h"
#include "tmpl.h"

static const char *ctx_text =
    "{\"event\":\"lead.created\",\"object_id\":null,"
    "\"input\":{\"lead_name\":\"Ana\",\"company\":\"Acme\",\"score\":71,\"ratio\":1.50,"
    "\"vip\":true,\"note\":null,\"tags\":[\"b2b\",\"eu\"],\"addr\":{\"city\":\"Porto\",\"zip\":null},"
    "\"quote\":\"say \\\"hi\\\"/</\",\"inject\":\"{{company}}\",\"big\":18446744073709551615,"
    "\"exp\":1e3,\"nul\":\"a\\u0000b\"},"
    "\"steps\":{\"1\":{\"text\":\"Hi Ana\"}},\"email\":{\"text\":\"Hello\"}}";

static struct json_object *ctx;

static int setup(void **state)
{
    (void)state;
    ctx = json_tokener_parse(ctx_text);
    return ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_object_put(ctx);
    return 0;
}

/* Render and compare; want NULL means "expect failure with rc and message msg". */
static void R(const char *tpl, const char *want)
{
    struct buf b;
    char err[200] = "";
    buf_init(&b, 1 << 20);
    int rc = tmpl_render(tpl, strlen(tpl), ctx, &b, err, sizeof err);
    if (rc) fail_msg("render %s failed: %s", tpl, err);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    buf_free(&b);
}

static void RFAIL(const char *tpl, int want_rc, const char *msg)
{
    struct buf b;
    char err[200] = "";
    buf_init(&b, 1 << 20);
    assert_int_equal(tmpl_render(tpl, strlen(tpl), ctx, &b, err, sizeof err), want_rc);
    assert_string_equal(err, msg);
    buf_free(&b);
    if (want_rc == TMPL_ESYNTAX) {
        err[0] = '\0';
        assert_int_equal(tmpl_check(tpl, strlen(tpl), err, sizeof err), TMPL_ESYNTAX);
        assert_string_equal(err, msg);
    }
}

static void test_kinds(void **state)
{
    (void)state;
    R("Hi {{lead_name}} at {{ company }}!", "Hi Ana at Acme!");
    R("{{input.score}}", "71");
    R("{{ input.ratio }}", "1.50"); /* a number's own text */
    R("{{exp}}", "1e3");
    R("{{big}}", "18446744073709551615");
    R("{{vip}}", "true");
    R("{{ note }}", "null");
    R("{{object_id}}", "null");
    R("{{tags}}", "[\"b2b\",\"eu\"]");
    R("{{addr}}", "{\"city\":\"Porto\",\"zip\":null}");
    R("{{steps.1}}", "{\"text\":\"Hi Ana\"}");
    R("{{steps}}", "{\"1\":{\"text\":\"Hi Ana\"}}");
    R("{{ steps.1.text }} / {{email.text}}", "Hi Ana / Hello");
    /* a string goes in as is, no quoting or escaping */
    R("<{{quote}}>", "<say \"hi\"/</>");
    /* inserted text is never rendered again */
    R("{{inject}}", "{{company}}");
    /* strings may hold NUL bytes */
    struct buf b;
    char err[100];
    buf_init(&b, 100);
    assert_int_equal(tmpl_render("{{nul}}", 7, ctx, &b, err, sizeof err), TMPL_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 3);
    buf_free(&b);
}

static void test_whitespace_and_literals(void **state)
{
    (void)state;
    R("", "");
    R("no tags at all", "no tags at all");
    R("{{\tlead_name\n}}", "Ana");
    R("{{lead_name}}{{company}}", "AnaAcme");
    R("a }} b } { c", "a }} b } { c");
    R("{ {lead_name} }", "{ {lead_name} }");
    /* the first "}}" closes: "{{lead_name}}}" leaves one brace */
    R("{{lead_name}}}", "Ana}");
    /* JSON in a prompt is fine as long as it has no "{{" */
    R("Answer {\"name\": {\"first\": \"{{lead_name}}\"}}", "Answer {\"name\": {\"first\": \"Ana\"}}");
}

static void test_missing_and_null(void **state)
{
    (void)state;
    RFAIL("Hi {{ nobody }}", TMPL_EMISSING, "template variable \"nobody\" is missing");
    RFAIL("{{input.addr.street}}", TMPL_EMISSING, "template variable \"input.addr.street\" is missing");
    RFAIL("{{steps.2.text}}", TMPL_EMISSING, "template variable \"steps.2.text\" is missing");
    RFAIL("{{input.note.x}}", TMPL_EMISSING, "template variable \"input.note.x\" is missing");
    /* a dotted path does not fall back to input */
    RFAIL("{{addr.city}}", TMPL_EMISSING, "template variable \"addr.city\" is missing");
    R("{{input.addr.zip}}", "null");
    R("{{input.addr.city}}", "Porto");
}

static void test_syntax(void **state)
{
    (void)state;
    RFAIL("Hi {{ lead_name", TMPL_ESYNTAX, "unclosed \"{{\" in template at \"{{ lead_name\"");
    RFAIL("{{lead_name}} and {{", TMPL_ESYNTAX, "unclosed \"{{\" in template at \"{{\"");
    RFAIL("a {{}} b", TMPL_ESYNTAX, "empty \"{{}}\" in template");
    RFAIL("a {{  }} b", TMPL_ESYNTAX, "empty \"{{  }}\" in template");
    RFAIL("{{ lead name }}", TMPL_ESYNTAX, "invalid template variable \"lead name\"");
    RFAIL("{{a..b}}", TMPL_ESYNTAX, "invalid template variable \"a..b\"");
    RFAIL("{{ .a }}", TMPL_ESYNTAX, "invalid template variable \".a\"");
    RFAIL("{{{lead_name}}}", TMPL_ESYNTAX, "invalid template variable \"{lead_name\"");
    RFAIL("{{\"x\"}}", TMPL_ESYNTAX, "invalid template variable \"\"x\"\"");
    RFAIL("{{a\x01}}", TMPL_ESYNTAX, "invalid template variable \"a?\"");
    /* errors are reported left to right: a missing variable before a syntax error */
    RFAIL("{{nobody}} {{", TMPL_EMISSING, "template variable \"nobody\" is missing");
    char err[100];
    assert_int_equal(tmpl_check("{{a}} {{b.c}}", 13, err, sizeof err), TMPL_OK);
}

static void test_cap(void **state)
{
    (void)state;
    struct buf b;
    char err[100] = "";
    buf_init(&b, 8);
    assert_int_equal(tmpl_render("{{lead_name}}+{{company}}", 25, ctx, &b, err, sizeof err),
                     TMPL_OK);
    assert_string_equal(b.data, "Ana+Acme");
    buf_reset(&b);
    assert_int_equal(tmpl_render("{{lead_name}}+{{company}}!", 26, ctx, &b, err, sizeof err),
                     TMPL_ETOOBIG);
    assert_string_equal(err, "rendered template is larger than 8 bytes");
    buf_reset(&b);
    assert_int_equal(tmpl_render("{{addr}}", 8, ctx, &b, err, sizeof err), TMPL_ETOOBIG);
    buf_free(&b);
}

static void collect(const char *path, size_t len, void *ud)
{
    struct buf *b = ud;
    buf_append(b, path, len);
    buf_putc(b, ';');
}

static void test_vars(void **state)
{
    (void)state;
    struct buf b;
    char err[100] = "";
    buf_init(&b, 0);
    const char *t = "Hi {{lead_name}}, {{ steps.1.text }} {{lead_name}} }}";
    assert_int_equal(tmpl_vars(t, strlen(t), collect, &b, err, sizeof err), TMPL_OK);
    assert_string_equal(b.data, "lead_name;steps.1.text;lead_name;");
    buf_reset(&b);
    t = "{{a}} {{b c}} {{d}}";
    assert_int_equal(tmpl_vars(t, strlen(t), collect, &b, err, sizeof err), TMPL_ESYNTAX);
    assert_string_equal(b.data, "a;");
    assert_string_equal(err, "invalid template variable \"b c\"");
    buf_reset(&b);
    struct json_object *cfg = json_tokener_parse(
        "{\"url\":\"{{crm}}/x\",\"n\":1,\"{{key}}\":[\"{{a}}\",{\"b\":\"{{b.c}}\"},null]}");
    assert_int_equal(tmpl_vars_json(cfg, collect, &b, err, sizeof err), TMPL_OK);
    assert_string_equal(b.data, "crm;a;b.c;");
    assert_int_equal(tmpl_check_json(cfg, err, sizeof err), TMPL_OK);
    json_object_put(cfg);
    cfg = json_tokener_parse("[\"ok\", {\"x\": \"{{ }}\"}]");
    assert_int_equal(tmpl_check_json(cfg, err, sizeof err), TMPL_ESYNTAX);
    assert_string_equal(err, "empty \"{{ }}\" in template");
    json_object_put(cfg);
    buf_free(&b);
}

static void test_render_json(void **state)
{
    (void)state;
    char err[100] = "";
    struct json_object *cfg = json_tokener_parse(
        "{\"url\":\"https://crm/{{object_id}}/{{lead_name}}\",\"n\":1.50,\"flag\":false,"
        "\"nothing\":null,\"{{key}}\":[\"{{score}}\",{\"b\":\"{{addr}}\"},[]],\"e\":{}}");
    struct json_object *out;
    assert_int_equal(tmpl_render_json(cfg, ctx, 0, &out, err, sizeof err), TMPL_OK);
    assert_string_equal(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
                        "{\"url\":\"https:\\/\\/crm\\/null\\/Ana\",\"n\":1.50,\"flag\":false,"
                        "\"nothing\":null,\"{{key}}\":[\"71\",{\"b\":\"{\\\"city\\\":"
                        "\\\"Porto\\\",\\\"zip\\\":null}\"},[]],\"e\":{}}");
    json_object_put(out);
    /* the cap counts every rendered string together: "https://crm/null/Ana" is 20 bytes,
     * "71" 2, the address 27 */
    assert_int_equal(tmpl_render_json(cfg, ctx, 49, &out, err, sizeof err), TMPL_OK);
    json_object_put(out);
    out = (struct json_object *)1;
    assert_int_equal(tmpl_render_json(cfg, ctx, 48, &out, err, sizeof err), TMPL_ETOOBIG);
    assert_null(out);
    assert_string_equal(err, "rendered step_config is larger than its limit");
    json_object_put(cfg);
    /* a failure anywhere gives no value */
    cfg = json_tokener_parse("{\"a\":[\"{{lead_name}}\",\"{{company2}}\"]}");
    out = (struct json_object *)1;
    assert_int_equal(tmpl_render_json(cfg, ctx, 0, &out, err, sizeof err), TMPL_EMISSING);
    assert_null(out);
    assert_string_equal(err, "template variable \"company2\" is missing");
    json_object_put(cfg);
    /* a bare string, NULL */
    cfg = json_object_new_string("{{company}}");
    assert_int_equal(tmpl_render_json(cfg, ctx, 0, &out, err, sizeof err), TMPL_OK);
    assert_string_equal(json_object_get_string(out), "Acme");
    json_object_put(out);
    json_object_put(cfg);
    assert_int_equal(tmpl_render_json(NULL, ctx, 0, &out, err, sizeof err), TMPL_OK);
    assert_null(out);
    /* a zero-byte budget left: an empty string still fits, one more byte does not */
    cfg = json_tokener_parse("[\"{{company}}\", \"\", \"x\"]");
    assert_int_equal(tmpl_render_json(cfg, ctx, 4, &out, err, sizeof err), TMPL_ETOOBIG);
    json_object_put(cfg);
    cfg = json_tokener_parse("[\"{{company}}\", \"\"]");
    assert_int_equal(tmpl_render_json(cfg, ctx, 4, &out, err, sizeof err), TMPL_OK);
    json_object_put(out);
    json_object_put(cfg);
}

static void test_check_names(void **state)
{
    (void)state;
    char err[100] = "";
    struct json_object *n = json_tokener_parse("[\"lead_name\", \"company\", \"input.score\", "
                                               "\"note\", \"steps.1.text\"]");
    assert_int_equal(tmpl_check_names(n, ctx, err, sizeof err), TMPL_OK);
    json_object_put(n);
    n = json_tokener_parse("[\"lead_name\", \"company\", \"region\"]");
    assert_int_equal(tmpl_check_names(n, ctx, err, sizeof err), TMPL_EMISSING);
    assert_string_equal(err, "template variable \"region\" is missing");
    json_object_put(n);
    n = json_tokener_parse("[\"lead_name\", 3]");
    assert_int_equal(tmpl_check_names(n, ctx, err, sizeof err), TMPL_ESYNTAX);
    assert_string_equal(err, "template_variables must be an array of names");
    json_object_put(n);
    n = json_tokener_parse("{\"a\": 1}");
    assert_int_equal(tmpl_check_names(n, ctx, err, sizeof err), TMPL_ESYNTAX);
    json_object_put(n);
    n = json_tokener_parse("{}");
    assert_int_equal(tmpl_check_names(n, ctx, err, sizeof err), TMPL_OK);
    json_object_put(n);
    n = json_tokener_parse("[]");
    assert_int_equal(tmpl_check_names(n, ctx, err, sizeof err), TMPL_OK);
    json_object_put(n);
    assert_int_equal(tmpl_check_names(NULL, ctx, err, sizeof err), TMPL_OK);
}

static void test_json_text(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    struct json_object *v = json_tokener_parse(
        "{\"s\":\"\\u2028\\ud83d\\ude00\\n/\",\"a\":[1,-2,0.5,true,null,{}],\"o\":{}}");
    tmpl_json(&b, v);
    assert_string_equal(b.data, "{\"s\":\"\\u2028\xf0\x9f\x98\x80\\n/\",\"a\":[1,-2,0.5,true,"
                                "null,{}],\"o\":{}}");
    json_object_put(v);
    buf_reset(&b);
    tmpl_json(&b, NULL);
    assert_string_equal(b.data, "null");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),          cmocka_unit_test(test_whitespace_and_literals),
        cmocka_unit_test(test_missing_and_null), cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_cap),            cmocka_unit_test(test_vars),
        cmocka_unit_test(test_render_json),    cmocka_unit_test(test_check_names),
        cmocka_unit_test(test_json_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
