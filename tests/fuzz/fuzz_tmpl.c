/* fuzz_tmpl.c — libFuzzer: templates. Any bytes must render, or fail with a status and a
 * message, within the output cap; check, vars and render must agree on syntax; and a JSON
 * input is also rendered as a step_config (every string value) against itself as context. */
#include "buf.h"
#include "tmpl.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char ctx_text[] =
    "{\"event\":\"lead.created\",\"object_id\":null,\"input\":{\"lead_name\":\"Ana\","
    "\"company\":\"Acme\",\"score\":71,\"ratio\":1.50,\"vip\":true,\"note\":null,"
    "\"tags\":[\"b2b\",3],\"addr\":{\"city\":\"Porto\"},\"inject\":\"{{company}}\"},"
    "\"steps\":{\"1\":{\"text\":\"Hi Ana\"}},\"email\":{\"text\":\"Hi\"}}";

static void count(const char *path, size_t len, void *ud)
{
    (void)path;
    (void)len;
    (*(size_t *)ud)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct json_object *ctx;
    if (!ctx) ctx = json_tokener_parse(ctx_text);
    if (size > 65536) return 0;
    const char *tpl = (const char *)data;
    char err[256] = "", err2[256] = "";
    struct buf b;
    buf_init(&b, 4096);
    int rc = tmpl_render(tpl, size, ctx, &b, err, sizeof err);
    if (rc != TMPL_OK && !err[0]) abort();
    if (b.len > 4096) abort();
    size_t nvars = 0;
    int syntax = tmpl_vars(tpl, size, count, &nvars, err2, sizeof err2);
    if (syntax != TMPL_OK && syntax != TMPL_ESYNTAX) abort();
    if (rc == TMPL_OK && syntax != TMPL_OK) abort();
    if (rc == TMPL_ESYNTAX && (syntax != TMPL_ESYNTAX || strcmp(err, err2))) abort();
    if (tmpl_check(tpl, size, err2, sizeof err2) != syntax) abort();
    buf_free(&b);

    struct json_tokener *tok = json_tokener_new_ex(64);
    struct json_object *v = json_tokener_parse_ex(tok, tpl, (int)size);
    json_tokener_free(tok);
    if (v) {
        struct json_object *out = NULL;
        rc = tmpl_render_json(v, v, 8192, &out, err, sizeof err);
        if ((rc == TMPL_OK) != (out != NULL || json_object_is_type(v, json_type_null))) abort();
        json_object_put(out);
        if (tmpl_check_json(v, err, sizeof err) == TMPL_OK) {
            rc = tmpl_render_json(v, ctx, 0, &out, err, sizeof err);
            if (rc == TMPL_ESYNTAX) abort();
            json_object_put(out);
        }
        tmpl_check_names(v, ctx, err, sizeof err);
        json_object_put(v);
    }
    return 0;
}
