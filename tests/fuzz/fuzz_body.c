/* fuzz_body.c — libFuzzer: a request body through the real parse path (jsonbody_parse, as
 * the dispatcher calls it with the configured depth) and then every field rule of every
 * resource, as create and as partial update, plus the scalar conversions behind them. */
#include "config.h"
#include "jsonbody.h"
#include "rules.h"
#include "value.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct config *cfg;

static int no_exists(void *ud, const char *t, const char *c, json_object *v)
{
    (void)ud;
    (void)t;
    (void)c;
    return json_object_get_type(v) == json_type_int ? 1 : 0;
}

static void count_fail(void *ud, const char *msg)
{
    size_t *n = ud;
    *n += strlen(msg) > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cfg) {
        struct config_error err;
        cfg = config_load(getenv("AIENGINE_ETC") ? getenv("AIENGINE_ETC") : "etc", &err);
        if (!cfg) abort();
    }
    if (size > 1 << 20) return 0;
    static struct arena arena;
    if (!arena.chunk_size) arena_init(&arena, 64 * 1024);
    json_object *body = NULL;
    const char *why = NULL;
    int rc = jsonbody_parse((const char *)data, size, cfg->max_json_depth, &arena, &body, &why);
    /* exactly one of: an object, or a reason a client can read */
    if ((rc == 0) != (body != NULL) || (rc != 0 && (!why || !*why))) abort();
    if (rc == 0 && !json_object_is_type(body, json_type_object)) abort();
    if (body) {
        for (size_t r = 0; r < cfg->resources->n; r++) {
            const struct resource *res = &cfg->resources->items[r];
            for (size_t f = 0; f < res->nfields; f++) {
                const struct field *fd = &res->fields[f];
                json_object *v = NULL;
                bool present = json_object_object_get_ex(body, fd->name, &v);
                /* the raw text of a member must exist exactly when json-c sees the key,
                 * and re-parse to a value of the same type */
                const char *raw;
                size_t rawlen;
                int found = jsonbody_member((const char *)data, size, fd->name, &raw, &rawlen);
                if ((found == 0) != present) abort();
                if (found == 0) {
                    char *min = malloc(rawlen + 1);
                    size_t mlen = jsonbody_minify(raw, rawlen, min);
                    json_object *again = json_tokener_parse(min);
                    if (json_object_get_type(again) != json_object_get_type(v) &&
                        !(json_object_get_type(v) == json_type_double))
                        abort();
                    (void)mlen;
                    json_object_put(again);
                    free(min);
                }
                size_t fails = 0;
                struct rules_env env = {no_exists, count_fail, &fails, false};
                rules_check(&fd->rules, fd->label, present, v, &env);
                env.partial = true;
                rules_check(&fd->rules, fd->label, present, v, &env);
                if (v && json_object_is_type(v, json_type_string)) {
                    const char *s = json_object_get_string(v);
                    size_t n = (size_t)json_object_get_string_len(v);
                    char out[80], date[27];
                    value_decimal(s, n, 10, 6, out, sizeof out);
                    if (value_parse_date(s, n, date) == 0) value_timestamp_fits(date);
                    value_utf8_len(s, n);
                    value_is_blank(s, n);
                }
                if (v && !json_object_is_type(v, json_type_string) &&
                    !json_object_is_type(v, json_type_null)) {
                    size_t n;
                    json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &n);
                }
            }
        }
    }
    if (body) json_object_put(body);
    arena_reset(&arena);
    return 0;
}
