/* jsonbody.h — request bodies as JSON: strict parsing, and a member's text as sent.
 *
 * jsonbody_parse is the one entry point for a body (the dispatcher and the body fuzzer both
 * call it): json-c's strict tokener plus what json-c lets through but RFC 8259 and MariaDB
 * do not — raw control characters in strings, unpaired \uD800-\uDFFF escapes, numbers
 * outside the grammar (1., .5, 01, +1), bare words other than true/false/null, \u0000 in a
 * member name, invalid UTF-8, and nesting deeper than max_depth containers.
 *
 * json-c clamps integers beyond 64 bits (123456789012345678901234567890 would come back as
 * 18446744073709551615), so JSON columns are stored from the request's own text instead of
 * json-c's re-serialisation: jsonbody_member finds it, jsonbody_minify drops insignificant
 * whitespace; numbers, escapes and key order stay exactly as sent. Both work on bodies
 * jsonbody_parse has accepted. */
#ifndef AIENGINE_JSONBODY_H
#define AIENGINE_JSONBODY_H

#include "arena.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Parse body[0..n) as one JSON object. Returns 0 and *out (the caller owns it: free with
 * json_object_put, or hand it to an arena cleanup), or -1 with *why set to a client-facing
 * reason (a literal or text in `a`). */
int jsonbody_parse(const char *body, size_t n, int max_depth, struct arena *a, json_object **out,
                   const char **why);

/* Find the value of top-level member `key` (the last one, if repeated, as json-c keeps
 * the last) in the object `body`. Member names are compared after decoding escapes.
 * Returns 0 and sets *start and *len to the value's bytes, or -1 when absent or malformed. */
int jsonbody_member(const char *body, size_t n, const char *key, const char **start, size_t *len);

/* Copy JSON text without whitespace outside strings into out (needs n + 1 bytes); returns
 * the length written. */
size_t jsonbody_minify(const char *s, size_t n, char *out);

/* One JSON value of any kind and nothing but whitespace after it, by json-c's strict
 * tokener with UTF-8 checked: for answers from other servers (webhook receivers, model
 * providers), which are read, never stored verbatim. Returns true with *out set (the
 * caller's to json_object_put; NULL for a JSON null), or false with *out NULL. */
bool jsonbody_value(const char *s, size_t n, json_object **out);

#endif
