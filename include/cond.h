/* cond.h — a workflow step's condition_rules (ENGINE.md "Conditions").
 *
 *   {"all": [c, …]}  {"any": [c, …]}  {"not": c}
 *   {"<path>": {"<op>": value, …}, …}   ops: == != > >= < <= in contains exists
 *
 * Every key of one object must hold (combinators and paths may share an object). NULL, JSON
 * null, {} and [] (PHP's empty array, as Laravel stores it) are "always run". Validation is
 * separate from evaluation so `aiengine workflows:check` and the runner give the same
 * message; evaluation validates the whole expression first, so an invalid branch fails the
 * step even when another branch would have decided the result. Pure: nothing is allocated
 * here (json-c caches a double's text on its object the first time it is compared). */
#ifndef AIENGINE_COND_H
#define AIENGINE_COND_H

#include <json-c/json.h>
#include <stddef.h>

/* Containers deeper than this (all/any/not and operator objects count) are invalid. */
#define COND_MAX_DEPTH 32

/* Returns 0 when `rules` is a valid expression; otherwise -1 and a reason in err (at most
 * errlen bytes, NUL-terminated), e.g. `unknown operator "=>"`, `"in" needs an array`,
 * `"exists" needs true or false`. The runner prefixes "invalid condition_rules: ". */
int cond_validate(const struct json_object *rules, char *err, size_t errlen);

/* Evaluate `rules` against the run's context `ctx`. Returns 1 (run the step), 0 (skip it),
 * or -1 with err set as cond_validate does. */
int cond_eval(const struct json_object *rules, const struct json_object *ctx, char *err,
              size_t errlen);

#endif
