/* tmpl.h — `{{ path }}` templates over a run's context (ENGINE.md "Templates").
 *
 * A tag is "{{", optional ASCII whitespace, a ctxpath (ctxpath.h), optional whitespace, "}}".
 * A string value is inserted as is; a number, boolean or null as its JSON text; an object or
 * array as compact JSON. Inserted text is never scanned again, so a value holding "{{x}}"
 * stays literal. Every "{{" opens a tag: one with no "}}" after it, an empty tag and a tag
 * whose content is not a path are syntax errors, not literal text (docs/decisions.md). There
 * is no escape for a literal "{{". A lone "}}" is ordinary text. */
#ifndef AIENGINE_TMPL_H
#define AIENGINE_TMPL_H

#include "buf.h"

#include <json-c/json.h>
#include <stddef.h>

enum tmpl_status {
    TMPL_OK = 0,
    TMPL_ESYNTAX = -1,  /* unclosed "{{", empty tag, invalid variable */
    TMPL_EMISSING = -2, /* `template variable "company" is missing` */
    TMPL_ETOOBIG = -3,  /* output past its cap */
};

/* Syntax only, no context: TMPL_OK or TMPL_ESYNTAX with a reason in err. */
int tmpl_check(const char *tpl, size_t n, char *err, size_t errlen);

/* Called once per tag, in order, repeats included; `path` points into the template. */
typedef void tmpl_var_fn(const char *path, size_t len, void *ud);

/* List the variables `tpl` uses. Stops at the first syntax error (TMPL_ESYNTAX, err set),
 * after reporting the tags before it. */
int tmpl_vars(const char *tpl, size_t n, tmpl_var_fn *fn, void *ud, char *err, size_t errlen);

/* Append `tpl` rendered against ctx to out, whose limit caps the output. On failure returns
 * a tmpl_status with err set; out then holds a partial rendering the caller discards. */
int tmpl_render(const char *tpl, size_t n, const struct json_object *ctx, struct buf *out,
                char *err, size_t errlen);

/* Render every string value of `v` (recursively; object keys are not rendered), for a
 * step's step_config. The rendered strings together may hold at most `limit` bytes (0: no
 * cap). On success *out is a new value the caller releases with json_object_put (it may
 * share unchanged scalars with v by reference count); NULL v gives NULL. */
int tmpl_render_json(const struct json_object *v, const struct json_object *ctx, size_t limit,
                     struct json_object **out, char *err, size_t errlen);

/* tmpl_check / tmpl_vars over every string value of `v`, as tmpl_render_json sees them. */
int tmpl_check_json(const struct json_object *v, char *err, size_t errlen);
int tmpl_vars_json(const struct json_object *v, tmpl_var_fn *fn, void *ud, char *err,
                   size_t errlen);

/* A prompt's template_variables: NULL, null or an empty array/object pass; otherwise every
 * entry must be a string naming a path present in ctx (a present null counts). Returns
 * TMPL_OK, TMPL_EMISSING (`template variable "company" is missing`) or TMPL_ESYNTAX when
 * the value is not an array of strings. */
int tmpl_check_names(const struct json_object *names, const struct json_object *ctx, char *err,
                     size_t errlen);

/* A JSON value as compact JSON text, as a template inserts it (strings quoted here). */
void tmpl_json(struct buf *b, const struct json_object *v);

#endif
