/* ctxpath.h — dot-separated paths into a run's context (ENGINE.md "The run's context").
 *
 * One grammar for templates and conditions: segments of ASCII letters, digits, '_' and '-'
 * or any byte >= 0x80 (UTF-8 letters), separated by single dots; no empty segment, at most
 * CTXPATH_MAX bytes. A segment walks into an object by key, or into an array by a decimal
 * index ("items.0.name"; no sign, no leading zero). A bare name (no dot) that is not a key of
 * the context is looked up under "input". Pure functions; nothing is allocated or copied. */
#ifndef AIENGINE_CTXPATH_H
#define AIENGINE_CTXPATH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define CTXPATH_MAX 255

/* Whether path[0..n) follows the grammar above. */
bool ctxpath_valid(const char *path, size_t n);

/* Resolve path[0..n) in ctx. Returns true when the path is present and sets *out to its
 * value, which is NULL for a present JSON null; returns false (and *out = NULL) when it is
 * missing, when it walks through a scalar, or when the path is not valid. *out points into
 * ctx and lives as long as ctx. */
bool ctxpath_get(const struct json_object *ctx, const char *path, size_t n,
                 struct json_object **out);

#endif
