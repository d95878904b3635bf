/* fuzz_query.c — libFuzzer: the query-string parser and what the list engine does with it
 * (filters, sort, include, page, cursor text), against the real resources. */
#include "arena.h"
#include "config.h"
#include "query.h"
#include "value.h"
#include "value.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct config *cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cfg) {
        struct config_error err;
        cfg = config_load(getenv("AIENGINE_ETC") ? getenv("AIENGINE_ETC") : "etc", &err);
        if (!cfg) abort();
    }
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    struct arena a;
    arena_init(&a, 4096);
    struct query q;
    if (query_parse(&a, s, &q) == 0) {
        for (size_t r = 0; r < cfg->resources->n; r++) {
            const struct resource *res = &cfg->resources->items[r];
            const struct query_param *sp = query_get(&q, "sort");
            struct sort_key keys[8];
            if (sp && value_utf8_valid(sp->value, sp->len))
                resource_parse_sort(res, sp->value, true, keys, 8);
            for (size_t i = 0; i < q.n; i++) {
                long long v;
                char date[27];
                value_parse_int(q.items[i].value, q.items[i].len, &v);
                value_parse_date(q.items[i].value, q.items[i].len, date);
                value_utf8_valid(q.items[i].key, q.items[i].key_len);
            }
        }
    }
    arena_free(&a);
    free(s);
    return 0;
}
