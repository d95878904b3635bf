/* rules.h — Laravel validation rule strings, compiled once at start-up, checked per request.
 *
 * "required|string|max:255" becomes a struct rule_set. rules_check() runs the set against one
 * attribute of a decoded JSON body the way Laravel's Validator does (implicit rules, nullable,
 * sometimes, size by type) and reports each failure with Laravel 10's English message.
 * This module knows nothing about HTTP, SQL or tables: `exists` is asked of a callback and
 * `unique` is only parsed (the resource engine checks it, since it needs the whole record). */
#ifndef AIENGINE_RULES_H
#define AIENGINE_RULES_H

#include "arena.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

enum rule_kind {
    RULE_REQUIRED,
    RULE_SOMETIMES,
    RULE_NULLABLE,
    RULE_STRING,
    RULE_INTEGER,
    RULE_NUMERIC,
    RULE_BOOLEAN,
    RULE_ARRAY,
    RULE_OBJECT, /* ours, not Laravel's: a JSON object (array minus lists), for route bodies */
    RULE_DATE,
    RULE_MIN, /* number = bound, args[0] = bound as written (for the message) */
    RULE_MAX,
    RULE_IN,     /* args = allowed values */
    RULE_EXISTS, /* args[0] = table, args[1] = column (default: the attribute's name) */
    RULE_UNIQUE, /* args[0] = table, args[1..] = columns that are unique together */
};

struct rule {
    enum rule_kind kind;
    double number;
    char **args; /* owned by the rule_set */
    size_t nargs;
};

struct rule_set {
    struct rule *rules; /* in the order written */
    size_t nrules;
    bool required, sometimes, nullable;
    bool numeric; /* has integer or numeric: min/max compare values */
    bool array;   /* has array: min/max count items */
};

/* Compile a rule string. `attribute` is the field's name, used as the default column of
 * exists/unique. Returns 0 and fills *out (free with rules_free), or -1 with a reason in
 * err ("unknown rule 'foo'", "max needs a number", ...); *out is then empty. */
int rules_compile(const char *spec, const char *attribute, struct rule_set *out, char *err,
                  size_t errlen);
void rules_free(struct rule_set *rs);
const struct rule *rules_find(const struct rule_set *rs, enum rule_kind kind);

/* How rules_check reaches the outside world. */
struct rules_env {
    /* exists:table,column — return 1 found, 0 not found, negative on a database error
     * (rules_check then stops and returns that value). May be NULL: exists then fails. */
    int (*exists)(void *ud, const char *table, const char *column, json_object *value);
    /* Called once per failed rule with the finished message; the message is only valid
     * during the call (copy it). */
    void (*fail)(void *ud, const char *message);
    void *ud;
    /* PATCH/PUT semantics: an attribute that is not present is not validated at all. */
    bool partial;
};

/* Validate one attribute. `label` is the attribute as Laravel prints it ("is active").
 * `present` says whether the key was in the body; `value` is its value (NULL for JSON
 * null). Failures go to env->fail. Returns the number of failures (0 = valid), or a
 * negative value passed through from env->exists. */
int rules_check(const struct rule_set *rs, const char *label, bool present, json_object *value,
                const struct rules_env *env);

/* The name a rule is written with in YAML ("required", "max", …): the one table, in rules.c. */
const char *rules_kind_name(enum rule_kind kind);

/* Laravel 10's English messages with their placeholders (:attribute, :min, :max): the one
 * copy, used by rules_check and by the conversions that enforce a column's limits. */
extern const char RULES_MSG_REQUIRED[], RULES_MSG_STRING[], RULES_MSG_INTEGER[],
    RULES_MSG_NUMERIC[], RULES_MSG_BOOLEAN[], RULES_MSG_ARRAY[], RULES_MSG_OBJECT[],
    RULES_MSG_DATE[], RULES_MSG_SELECTED[], RULES_MSG_UNIQUE[], RULES_MSG_MIN_NUMERIC[],
    RULES_MSG_MAX_NUMERIC[], RULES_MSG_MAX_STRING[];
/* One message with its placeholders filled (arg is :min/:max), in the arena. */
char *rules_message(struct arena *a, const char *tmpl, const char *label, const char *arg);

/* A JSON value as an integer the way Laravel's `integer` rule sees it (PHP's
 * FILTER_VALIDATE_INT): JSON integers within int64, doubles with no fraction inside
 * [-2^63, 2^63) (checked before any cast), integer strings. Returns 0 and *out, or -1. */
int rules_json_integer(json_object *v, long long *out);

/* "is_active" -> "is active" into out (Laravel's default attribute label). */
void rules_label(const char *attribute, char *out, size_t outlen);

#endif
