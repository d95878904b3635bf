/* query.h — the raw query string, split and percent-decoded.
 *
 * Interpreting the parameters (page, per_page, cursor, sort, include, filter[...]) is the
 * resource engine's job; this module only turns "a=1&filter%5Bx%5D=y" into decoded pairs,
 * allocated in the request arena. Never fails on odd input: undecodable escapes are 400. */
#ifndef AIENGINE_QUERY_H
#define AIENGINE_QUERY_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>

#define QUERY_MAX_PARAMS 64

struct query_param {
    const char *key; /* decoded, NUL-terminated */
    size_t key_len;
    const char *value; /* decoded, NUL-terminated; may contain NUL bytes */
    size_t len;
};

struct query {
    struct query_param items[QUERY_MAX_PARAMS];
    size_t n;
};

/* Returns 0, or -1 for a malformed escape or more than QUERY_MAX_PARAMS parameters.
 * Later duplicates of a key replace earlier ones (PHP's behaviour). */
int query_parse(struct arena *a, const char *qs, struct query *out);
/* The parameter `key`, or NULL. */
const struct query_param *query_get(const struct query *q, const char *key);

#endif
