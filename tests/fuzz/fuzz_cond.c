/* fuzz_cond.c — libFuzzer: condition_rules. Any JSON must validate or fail with a message,
 * evaluate to 0/1 exactly when it validates, and never crash, leak or recurse unbounded.
 * The input is evaluated against a fixed context and against itself as the context, and
 * the combinators must keep their algebra: not(c) = !c, all[c] = any[c] = c. */
#include "cond.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char ctx_text[] =
    "{\"event\":\"lead.created\",\"object_id\":null,\"input\":{\"lead_name\":\"Ana\","
    "\"score\":71,\"ratio\":0.5,\"vip\":true,\"note\":null,\"tags\":[\"b2b\",3,null],"
    "\"big\":18446744073709551615,\"addr\":{\"city\":\"Porto\"}},"
    "\"steps\":{\"1\":{\"text\":\"Hi Ana\"}},\"email\":{\"text\":\"Hi\"}}";

/* {"<key>": c} or {"<key>": [c]} around rules (which gains a reference). */
static struct json_object *wrap(const char *key, struct json_object *rules, int in_array)
{
    struct json_object *o = json_object_new_object(), *v = json_object_get(rules);
    if (in_array) {
        struct json_object *a = json_object_new_array();
        json_object_array_add(a, v);
        v = a;
    }
    json_object_object_add(o, key, v);
    return o;
}

static void check_algebra(struct json_object *rules, const struct json_object *ctx, int rc)
{
    char err[256];
    struct json_object *w[3] = {wrap("not", rules, 0), wrap("all", rules, 1),
                                wrap("any", rules, 1)};
    for (int i = 0; i < 3; i++) {
        int wr = cond_eval(w[i], ctx, err, sizeof err);
        /* wrapping adds a level: at the depth limit it may become invalid, nothing else */
        if (wr != -1 && wr != (i == 0 ? !rc : rc)) abort();
        json_object_put(w[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct json_object *ctx;
    if (!ctx) ctx = json_tokener_parse(ctx_text);
    if (size > 65536) return 0;
    struct json_tokener *tok = json_tokener_new_ex(128);
    struct json_object *rules = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (jerr != json_tokener_success) {
        json_object_put(rules);
        return 0;
    }
    char err[256] = "";
    int valid = cond_validate(rules, err, sizeof err);
    if (valid != 0 && (valid != -1 || !err[0])) abort();
    const struct json_object *ctxs[2] = {ctx, rules};
    for (int i = 0; i < 2; i++) {
        char err2[256] = "";
        int rc = cond_eval(rules, ctxs[i], err2, sizeof err2);
        if (valid == 0 && rc != 0 && rc != 1) abort();
        if (valid == 0 && rules && !json_object_is_type(rules, json_type_array))
            check_algebra(rules, ctxs[i], rc);
        if (valid == -1 && (rc != -1 || strcmp(err, err2))) abort();
    }
    json_object_put(rules);
    return 0;
}
