/* openapi.c — OpenAPI 3.1 from etc/routes.yaml and etc/resources.yaml: one schema for each
 * resource's representation (every column, typed as the serialiser writes it), one for its
 * request body (from the validation rules), the list envelopes, the error bodies, and every
 * route with its parameters, responses and required ability. Run once per worker. */
#include "openapi.h"
#include "idem.h"
#include "rules.h"
#include "runs.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* "workflow-steps" → "WorkflowStep" */
static void schema_name(const struct resource *r, char *out, size_t n)
{
    size_t k = 0;
    bool up = true;
    size_t len = strlen(r->name);
    if (len > 1 && r->name[len - 1] == 's') len--;
    for (size_t i = 0; i < len && k + 1 < n; i++) {
        char ch = r->name[i];
        if (ch == '-' || ch == '_') {
            up = true;
            continue;
        }
        out[k++] = up ? (char)toupper((unsigned char)ch) : ch;
        up = false;
    }
    out[k] = '\0';
}

static void type_list(struct buf *o, const char *t, bool nullable)
{
    if (nullable)
        buf_printf(o, "\"type\":[\"%s\",\"null\"]", t);
    else
        buf_printf(o, "\"type\":\"%s\"", t);
}

/* The representation of one field, as repr.c writes it. */
static void output_schema(struct buf *o, const struct field *f)
{
    bool nullable = f->rules.nullable && !f->null_means_default;
    if (f->autoset != AUTO_NONE) nullable = true; /* Laravel's timestamps() are nullable */
    buf_putc(o, '{');
    switch (f->type) {
    case FIELD_ID: buf_puts(o, "\"type\":\"integer\",\"minimum\":1"); break;
    case FIELD_FK: type_list(o, "integer", nullable); break;
    case FIELD_INT:
        type_list(o, "integer", nullable);
        buf_puts(o, ",\"format\":\"int32\"");
        break;
    case FIELD_BOOL: type_list(o, "boolean", nullable); break;
    case FIELD_STRING:
        type_list(o, "string", nullable);
        buf_puts(o, ",\"maxLength\":255");
        break;
    case FIELD_TEXT: type_list(o, "string", nullable); break;
    case FIELD_JSON:
        buf_printf(o, "\"type\":[\"object\",\"array\"%s]", nullable ? ",\"null\"" : "");
        break;
    case FIELD_DECIMAL:
        type_list(o, "string", nullable);
        buf_printf(o, ",\"pattern\":\"^-?[0-9]{1,%d}\\\\.[0-9]{%d}$\"", f->precision - f->scale,
                   f->scale);
        break;
    case FIELD_TIMESTAMP:
        type_list(o, "string", nullable);
        buf_puts(o, ",\"format\":\"date-time\",\"pattern\":\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
                    "[0-9]{2}:[0-9]{2}\\\\.[0-9]{6}Z$\"");
        break;
    }
    buf_putc(o, '}');
}

/* A request field, from its rules (what the validator accepts in canonical form). */
static void input_schema(struct buf *o, const struct field *f)
{
    const struct rule_set *rs = &f->rules;
    const char *type = NULL;
    for (size_t i = 0; i < rs->nrules; i++) {
        switch (rs->rules[i].kind) {
        case RULE_STRING: type = "string"; break;
        case RULE_INTEGER: type = "integer"; break;
        case RULE_NUMERIC: type = "number"; break;
        case RULE_BOOLEAN: type = "boolean"; break;
        case RULE_DATE: type = "string"; break;
        default: break;
        }
    }
    bool json = rules_find(rs, RULE_ARRAY) != NULL;
    bool nullable = rs->nullable;
    buf_putc(o, '{');
    if (rules_find(rs, RULE_OBJECT))
        buf_printf(o, "\"type\":[\"object\"%s]", nullable ? ",\"null\"" : "");
    else if (json)
        buf_printf(o, "\"type\":[\"object\",\"array\"%s]", nullable ? ",\"null\"" : "");
    else if (type)
        type_list(o, type, nullable);
    if (rules_find(rs, RULE_DATE)) buf_puts(o, ",\"format\":\"date-time\"");
    bool numeric = type && (!strcmp(type, "integer") || !strcmp(type, "number"));
    for (size_t i = 0; i < rs->nrules; i++) {
        const struct rule *r = &rs->rules[i];
        if (r->kind == RULE_MIN)
            buf_printf(o, ",\"%s\":%s",
                       numeric ? "minimum"
                       : json  ? "minItems"
                               : "minLength",
                       r->args[0]);
        if (r->kind == RULE_MAX)
            buf_printf(o, ",\"%s\":%s",
                       numeric ? "maximum"
                       : json  ? "maxItems"
                               : "maxLength",
                       r->args[0]);
        if (r->kind == RULE_IN) {
            buf_puts(o, ",\"enum\":[");
            for (size_t k = 0; k < r->nargs; k++) {
                if (k) buf_putc(o, ',');
                buf_json_cstr(o, r->args[k]);
            }
            buf_puts(o, "]");
        }
    }
    if (f->type == FIELD_INT && !rules_find(rs, RULE_MAX)) buf_puts(o, ",\"maximum\":2147483647");
    if (f->type == FIELD_DECIMAL) {
        buf_puts(o, ",\"maximum\":");
        for (int i = 0; i < f->precision - f->scale; i++) buf_putc(o, '9');
        if (f->scale) buf_putc(o, '.');
        for (int i = 0; i < f->scale; i++) buf_putc(o, '9');
    }
    buf_puts(o, ",\"description\":");
    char desc[400];
    char rules_text[300] = "";
    size_t k = 0;
    for (size_t i = 0; i < rs->nrules && k < sizeof rules_text - 40; i++) {
        const struct rule *r = &rs->rules[i];
        k += (size_t)snprintf(rules_text + k, sizeof rules_text - k, "%s%s", k ? "|" : "",
                              rules_kind_name(r->kind));
        for (size_t a = 0; a < r->nargs && k < sizeof rules_text - 40; a++)
            k += (size_t)snprintf(rules_text + k, sizeof rules_text - k, "%s%s", a ? "," : ":",
                                  r->args[a]);
    }
    snprintf(desc, sizeof desc, "Laravel rules: %s", rules_text);
    buf_json_cstr(o, desc);
    buf_putc(o, '}');
}

/* "<Name>List" (the resource's own paging) or "<Name>PageList"/"<Name>CursorList". */
static void list_schema(struct buf *o, const char *name, const char *suffix, enum pagination pg)
{
    buf_printf(o,
               "\"%s%sList\":{\"type\":\"object\",\"properties\":{\"data\":{\"type\":\"array\","
               "\"items\":{\"$ref\":\"#/components/schemas/%s\"}},\"links\":{\"$ref\":"
               "\"#/components/schemas/%sLinks\"},\"meta\":{\"$ref\":"
               "\"#/components/schemas/%sMeta\"}},\"required\":[\"data\",\"links\",\"meta\"]}",
               name, suffix, name, pg == PAGINATE_CURSOR ? "Cursor" : "Page",
               pg == PAGINATE_CURSOR ? "Cursor" : "Page");
}

static void resource_schemas(struct buf *o, const struct resource *r,
                             const struct resource_set *set)
{
    char name[96];
    schema_name(r, name, sizeof name);
    /* representation */
    buf_printf(o, "\"%s\":{\"type\":\"object\",\"properties\":{", name);
    for (size_t i = 0; i < r->nfields; i++) {
        if (i) buf_putc(o, ',');
        buf_printf(o, "\"%s\":", r->fields[i].name);
        output_schema(o, &r->fields[i]);
    }
    for (size_t i = 0; i < r->nrelations; i++) {
        const struct relation *rel = &r->relations[i];
        if (!rel->includable) continue;
        char tn[96];
        schema_name(rel->target, tn, sizeof tn);
        if (rel->kind == REL_HAS_MANY)
            buf_printf(
                o,
                ",\"%s\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/%s\"},"
                "\"description\":\"Present with ?include=%s\"}",
                rel->name, tn, rel->name);
        else
            buf_printf(
                o,
                ",\"%s\":{\"oneOf\":[{\"$ref\":\"#/components/schemas/%s\"},{\"type\":\"null\"}],"
                "\"description\":\"Present with ?include=%s\"}",
                rel->name, tn, rel->name);
    }
    buf_puts(o, "},\"required\":[");
    for (size_t i = 0; i < r->nfields; i++)
        buf_printf(o, "%s\"%s\"", i ? "," : "", r->fields[i].name);
    buf_puts(o, "],\"additionalProperties\":false},");
    /* request body */
    buf_printf(o, "\"%sInput\":{\"type\":\"object\",\"properties\":{", name);
    bool first = true;
    for (size_t i = 0; i < r->nfields; i++) {
        if (!r->fields[i].fillable) continue;
        buf_printf(o, "%s\"%s\":", first ? "" : ",", r->fields[i].name);
        input_schema(o, &r->fields[i]);
        first = false;
    }
    buf_puts(o, "},\"description\":\"Unknown and non-fillable fields are ignored. On PUT/PATCH "
                "every field is optional (only fields sent are validated and changed).\"},");
    buf_printf(o,
               "\"%sCreate\":{\"allOf\":[{\"$ref\":\"#/components/schemas/%sInput\"}],"
               "\"required\":[",
               name, name);
    first = true;
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].fillable && r->fields[i].rules.required) {
            buf_printf(o, "%s\"%s\"", first ? "" : ",", r->fields[i].name);
            first = false;
        }
    buf_puts(o, "]},");
    /* envelopes */
    buf_printf(o,
               "\"%sItem\":{\"type\":\"object\",\"properties\":{\"data\":{\"$ref\":"
               "\"#/components/schemas/%s\"}},\"required\":[\"data\"]},",
               name, name);
    list_schema(o, name, "", r->pagination);
    /* a has_many relation that lists r but pages otherwise (a run's logs by page) */
    bool other = false;
    for (size_t k = 0; k < set->n; k++)
        for (size_t i = 0; i < set->items[k].nrelations; i++) {
            const struct relation *rel = &set->items[k].relations[i];
            other |=
                rel->kind == REL_HAS_MANY && rel->target == r && rel->pagination != r->pagination;
        }
    if (other) {
        enum pagination pg = r->pagination == PAGINATE_CURSOR ? PAGINATE_PAGE : PAGINATE_CURSOR;
        buf_putc(o, ',');
        list_schema(o, name, pg == PAGINATE_CURSOR ? "Cursor" : "Page", pg);
    }
}

static const char *common_components =
    "\"Error\":{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\"}},"
    "\"required\":[\"message\"]},"
    "\"ValidationError\":{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\"},"
    "\"errors\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"array\",\"items\":"
    "{\"type\":\"string\"}}}},\"required\":[\"message\",\"errors\"]},"
    "\"Health\":{\"type\":\"object\",\"properties\":{\"status\":{\"type\":\"string\",\"enum\":"
    "[\"ok\",\"degraded\"]},\"database\":{\"type\":\"string\",\"enum\":[\"ok\",\"unavailable\"]}},"
    "\"required\":[\"status\",\"database\"]},"
    "\"PageLinks\":{\"type\":\"object\",\"properties\":{\"first\":{\"type\":\"string\"},\"last\":"
    "{\"type\":\"string\"},\"prev\":{\"type\":[\"string\",\"null\"]},\"next\":{\"type\":"
    "[\"string\",\"null\"]}},\"required\":[\"first\",\"last\",\"prev\",\"next\"]},"
    "\"PageMeta\":{\"type\":\"object\",\"properties\":{\"current_page\":{\"type\":\"integer\"},"
    "\"from\":{\"type\":[\"integer\",\"null\"]},\"last_page\":{\"type\":\"integer\"},\"path\":"
    "{\"type\":\"string\"},\"per_page\":{\"type\":\"integer\"},\"to\":{\"type\":[\"integer\","
    "\"null\"]},\"total\":{\"type\":\"integer\"}},\"required\":[\"current_page\",\"from\","
    "\"last_page\",\"path\",\"per_page\",\"to\",\"total\"]},"
    "\"CursorLinks\":{\"type\":\"object\",\"properties\":{\"first\":{\"type\":\"null\"},\"last\":"
    "{\"type\":\"null\"},\"prev\":{\"type\":[\"string\",\"null\"]},\"next\":{\"type\":[\"string\","
    "\"null\"]}},\"required\":[\"first\",\"last\",\"prev\",\"next\"]},"
    "\"EventInput\":{\"type\":\"object\",\"properties\":{\"event\":{\"type\":\"string\","
    "\"maxLength\":255,\"description\":\"Laravel rules: required|string|max:255\"},"
    "\"object_id\":{\"type\":[\"string\",\"null\"],\"maxLength\":255},\"context\":{\"type\":"
    "[\"object\",\"null\"],\"description\":\"The run's input (context.input); {} when absent\"}},"
    "\"required\":[\"event\"]},"
    "\"RunInput\":{\"type\":\"object\",\"properties\":{\"object_id\":{\"type\":[\"string\","
    "\"null\"],\"maxLength\":255},\"context\":{\"type\":[\"object\",\"null\"],\"description\":"
    "\"The run's input (context.input); {} when absent\"}}},"
    "\"LoginInput\":{\"type\":\"object\",\"properties\":{\"email\":{\"type\":\"string\","
    "\"maxLength\":255},\"password\":{\"type\":\"string\",\"maxLength\":1024},"
    "\"device_name\":{\"type\":\"string\",\"maxLength\":255,\"description\":\"The token's "
    "name (default studio)\"}},\"required\":[\"email\",\"password\"]},"
    "\"LoginToken\":{\"type\":\"object\",\"properties\":{\"token\":{\"type\":\"string\","
    "\"description\":\"<id>|<secret>, shown once\"},\"token_type\":{\"type\":\"string\"},"
    "\"expires_at\":{\"type\":[\"string\",\"null\"]},\"abilities\":{\"type\":\"array\","
    "\"items\":{\"type\":\"string\"}},\"user\":{\"type\":\"object\",\"properties\":{"
    "\"id\":{\"type\":\"integer\"},\"name\":{\"type\":\"string\"},\"email\":{\"type\":"
    "\"string\"}},\"required\":[\"id\",\"name\",\"email\"]}},\"required\":[\"token\","
    "\"token_type\",\"expires_at\",\"abilities\",\"user\"]},"
    "\"CursorMeta\":{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},"
    "\"per_page\":{\"type\":\"integer\"},\"next_cursor\":{\"type\":[\"string\",\"null\"]},"
    "\"prev_cursor\":{\"type\":[\"string\",\"null\"]}},\"required\":[\"path\",\"per_page\","
    "\"next_cursor\",\"prev_cursor\"]}";

static void error_response(struct buf *o, int status, const char *desc, const char *schema,
                           bool retry_after)
{
    buf_printf(o, ",\"%d\":{\"description\":\"%s\",", status, desc);
    if (retry_after)
        buf_puts(o, "\"headers\":{\"Retry-After\":{\"schema\":{\"type\":\"integer\"}}},");
    if (status == 405) buf_puts(o, "\"headers\":{\"Allow\":{\"schema\":{\"type\":\"string\"}}},");
    buf_printf(o,
               "\"content\":{\"application/json\":{\"schema\":{\"$ref\":"
               "\"#/components/schemas/%s\"}}}}",
               schema);
}

/* the strong ETag of a single-record answer (etag.h) */
#define ETAG_HEADER "\"headers\":{\"ETag\":{\"schema\":{\"type\":\"string\"}}},"

static void precondition_responses(struct buf *o)
{
    error_response(o, 412, "If-Match does not match the record's current ETag; nothing changed",
                   "Error", false);
    error_response(o, 428, "No If-Match while http.require_if_match is on", "Error", false);
}

static void list_params(struct buf *o, const struct config *cfg, const struct resource *r,
                        enum pagination pg)
{
    if (pg == PAGINATE_CURSOR)
        buf_puts(o, ",{\"name\":\"cursor\",\"in\":\"query\",\"schema\":{\"type\":\"string\"},"
                    "\"description\":\"Opaque cursor from links.next/prev or meta.next_cursor\"}");
    else
        buf_puts(o, ",{\"name\":\"page\",\"in\":\"query\",\"schema\":{\"type\":\"integer\","
                    "\"minimum\":1}}");
    /* the limits the listing enforces, from the compiled config */
    buf_printf(o,
               ",{\"name\":\"per_page\",\"in\":\"query\",\"schema\":{\"type\":\"integer\","
               "\"minimum\":1,\"maximum\":%d,\"default\":%d}}",
               cfg->max_per_page, cfg->default_per_page);
    buf_printf(o,
               ",{\"name\":\"sort\",\"in\":\"query\",\"schema\":{\"type\":\"string\"},"
               "\"description\":\"Comma-separated; prefix - for descending. Sortable: %s\"}",
               r->sort_names);
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if (!f->filterable) continue;
        const char *t = f->type == FIELD_BOOL ? "boolean"
                        : (f->type == FIELD_FK || f->type == FIELD_INT || f->type == FIELD_ID)
                            ? "integer"
                            : "string";
        buf_printf(o,
                   ",{\"name\":\"filter[%s]\",\"in\":\"query\",\"schema\":{\"type\":\"%s\"},"
                   "\"description\":\"Equality filter\"}",
                   f->name, t);
    }
}

static void include_param(struct buf *o, const struct resource *r)
{
    bool any = false;
    for (size_t i = 0; i < r->nrelations; i++) any |= r->relations[i].includable;
    if (!any) return;
    buf_printf(o,
               ",{\"name\":\"include\",\"in\":\"query\",\"schema\":{\"type\":\"string\"},"
               "\"description\":\"Comma-separated relations: %s\"}",
               r->include_names);
}

/* etag.h and idem.h: If-None-Match on a record, If-Match on its writes, Idempotency-Key on
 * the POSTs whose key is not the engine's own (those say so in their own parameter). */
static void conditional_params(struct buf *o, const struct route *rt)
{
    if (rt->handler == HANDLER_SHOW)
        buf_puts(o, ",{\"name\":\"If-None-Match\",\"in\":\"header\",\"schema\":{\"type\":"
                    "\"string\"},\"description\":\"* or a list of ETags (weak comparison): 304 "
                    "when one matches\"}");
    if (rt->handler == HANDLER_UPDATE || rt->handler == HANDLER_DESTROY)
        buf_puts(o, ",{\"name\":\"If-Match\",\"in\":\"header\",\"schema\":{\"type\":"
                    "\"string\"},\"description\":\"* or a list of ETags (strong comparison; a "
                    "weak tag never matches), checked under the row lock: 412 unless one "
                    "matches; required (428) when http.require_if_match is on\"}");
    if (rt->handler == HANDLER_STORE || rt->handler == HANDLER_CANCEL_RUN ||
        rt->handler == HANDLER_RETRY_RUN)
        buf_printf(o,
                   ",{\"name\":\"Idempotency-Key\",\"in\":\"header\",\"schema\":{\"type\":"
                   "\"string\",\"minLength\":1,\"maxLength\":%d},\"description\":\"The first "
                   "answer is kept 24 h per token and replayed to the same request with "
                   "Idempotent-Replayed: true; another request is a 422, the same one still in "
                   "flight a 409.\"}",
                   IDEM_MAX_KEY);
}

static void operation(struct buf *o, const struct config *cfg, const struct route *rt,
                      const char *op_id)
{
    const struct resource *r = rt->resource;
    bool needs_resource = rt->handler != HANDLER_HEALTH && rt->handler != HANDLER_OPENAPI &&
                          rt->handler != HANDLER_METRICS && rt->handler != HANDLER_LOGIN &&
                          rt->handler != HANDLER_LOGOUT;
    if ((needs_resource && !r) || (rt->handler == HANDLER_RELATION && !rt->relation))
        return; /* router_load never builds such a route */
    char name[96] = "";
    if (r)
        schema_name(rt->handler == HANDLER_RELATION ? rt->relation->target : r, name, sizeof name);
    buf_printf(o, "\"%s\":{\"operationId\":\"%s\",",
               rt->method[0] == 'G'   ? "get"
               : rt->method[1] == 'O' ? "post"
               : rt->method[1] == 'U' ? "put"
               : rt->method[1] == 'A' ? "patch"
                                      : "delete",
               op_id);
    if (r) buf_printf(o, "\"tags\":[\"%s\"],", r->name);
    if (rt->auth)
        buf_printf(o,
                   "\"security\":[{\"bearerAuth\":[]}],\"x-ability\":\"%s\",\"description\":"
                   "\"Needs a token with the '%s' ability (or *).\",",
                   rt->ability ? rt->ability : "*", rt->ability ? rt->ability : "*");
    else
        buf_puts(o, "\"security\":[],");
    /* every parameter is written with a leading comma; the first one is dropped */
    struct buf params;
    buf_init(&params, 0);
    bool has_id = rt->handler == HANDLER_SHOW || rt->handler == HANDLER_UPDATE ||
                  rt->handler == HANDLER_DESTROY || rt->handler == HANDLER_RELATION ||
                  rt->handler == HANDLER_START_RUN || rt->handler == HANDLER_CANCEL_RUN ||
                  rt->handler == HANDLER_RETRY_RUN;
    bool starts_runs = rt->handler == HANDLER_TRIGGER_EVENT || rt->handler == HANDLER_START_RUN;
    if (has_id)
        buf_puts(&params, ",{\"name\":\"id\",\"in\":\"path\",\"required\":true,\"schema\":"
                          "{\"type\":\"integer\",\"minimum\":1}}");
    if (rt->handler == HANDLER_INDEX) {
        list_params(&params, cfg, r, r->pagination);
        include_param(&params, r);
    } else if (rt->handler == HANDLER_RELATION) {
        list_params(&params, cfg, rt->relation->target, rt->relation->pagination);
        include_param(&params, rt->relation->target);
    } else if (rt->handler == HANDLER_SHOW) {
        include_param(&params, r);
    }
    if (starts_runs)
        buf_printf(&params,
                   ",{\"name\":\"Idempotency-Key\",\"in\":\"header\",\"schema\":{\"type\":"
                   "\"string\",\"minLength\":1,\"maxLength\":%d},\"description\":\"Names the runs: "
                   "the same key and body again answers the same runs as they are now, with "
                   "Idempotent-Replayed: true, and starts none; another body is a 422. One "
                   "namespace per workflow, across both routes and all tokens.\"}",
                   RUNS_MAX_KEY);
    conditional_params(&params, rt);
    buf_puts(o, "\"parameters\":[");
    if (params.len) buf_append(o, params.data + 1, params.len - 1);
    buf_puts(o, "],");
    buf_free(&params);
    if (rt->handler == HANDLER_STORE || rt->handler == HANDLER_UPDATE)
        buf_printf(o,
                   "\"requestBody\":{\"required\":true,\"content\":{\"application/json\":"
                   "{\"schema\":{\"$ref\":\"#/components/schemas/%s%s\"}}}},",
                   name, rt->handler == HANDLER_STORE ? "Create" : "Input");
    if (starts_runs)
        buf_printf(o,
                   "\"requestBody\":{\"required\":true,\"content\":{\"application/json\":"
                   "{\"schema\":{\"$ref\":\"#/components/schemas/%s\"}}}},",
                   rt->handler == HANDLER_TRIGGER_EVENT ? "EventInput" : "RunInput");
    if (rt->handler == HANDLER_LOGIN)
        buf_puts(o, "\"requestBody\":{\"required\":true,\"content\":{\"application/json\":"
                    "{\"schema\":{\"$ref\":\"#/components/schemas/LoginInput\"}}}},");
    buf_puts(o, "\"responses\":{");
    switch (rt->handler) {
    case HANDLER_LOGIN:
        buf_puts(o, "\"200\":{\"description\":\"Signed in: a bearer token for the user\","
                    "\"content\":{\"application/json\":{\"schema\":{\"$ref\":"
                    "\"#/components/schemas/LoginToken\"}}}},\"429\":{\"description\":\"Too "
                    "many failed sign-ins from this address or for this e-mail\",\"headers\":{"
                    "\"Retry-After\":{\"schema\":{\"type\":\"integer\"}}},\"content\":{"
                    "\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/"
                    "Error\"}}}}");
        error_response(o, 400, "Body is not a JSON object", "Error", false);
        error_response(o, 415, "Content-Type is not JSON", "Error", false);
        error_response(o, 422, "Missing fields, or the credentials do not match", "ValidationError",
                       false);
        break;
    case HANDLER_LOGOUT: buf_puts(o, "\"204\":{\"description\":\"The token is revoked\"}"); break;
    case HANDLER_HEALTH:
        buf_puts(o, "\"200\":{\"description\":\"Healthy\",\"content\":{\"application/json\":"
                    "{\"schema\":{\"$ref\":\"#/components/schemas/Health\"}}}},\"503\":{"
                    "\"description\":\"Database unreachable\",\"headers\":{\"Retry-After\":"
                    "{\"schema\":{\"type\":\"integer\"}}},\"content\":{\"application/json\":"
                    "{\"schema\":{\"$ref\":\"#/components/schemas/Health\"}}}}");
        break;
    case HANDLER_OPENAPI:
        buf_puts(o, "\"200\":{\"description\":\"This document\",\"content\":{\"application/json\":"
                    "{\"schema\":{\"type\":\"object\"}}}}");
        break;
    case HANDLER_METRICS:
        buf_puts(o, "\"200\":{\"description\":\"Prometheus text exposition format 0.0.4\","
                    "\"content\":{\"text/plain\":{\"schema\":{\"type\":\"string\"}}}}");
        break;
    case HANDLER_INDEX:
    case HANDLER_RELATION:
        buf_printf(o,
                   "\"200\":{\"description\":\"A page\",\"content\":{\"application/json\":"
                   "{\"schema\":{\"$ref\":\"#/components/schemas/%s%sList\"}}}}",
                   name,
                   rt->handler == HANDLER_RELATION &&
                           rt->relation->pagination != rt->relation->target->pagination
                       ? (rt->relation->pagination == PAGINATE_CURSOR ? "Cursor" : "Page")
                       : "");
        error_response(o, 400, "Unknown filter, sort or include; bad cursor", "Error", false);
        error_response(o, 422, "Bad page, per_page or filter value", "ValidationError", false);
        break;
    case HANDLER_SHOW:
        buf_printf(o,
                   "\"200\":{\"description\":\"The record\"," ETAG_HEADER "\"content\":{"
                   "\"application/json\":"
                   "{\"schema\":{\"$ref\":\"#/components/schemas/%sItem\"}}}}",
                   name);
        error_response(o, 400, "Unknown include; malformed If-None-Match", "Error", false);
        buf_puts(o, ",\"304\":{\"description\":\"If-None-Match matched: no body\","
                    "\"headers\":{\"ETag\":{\"schema\":{\"type\":\"string\"}}}}");
        break;
    case HANDLER_STORE:
    case HANDLER_UPDATE:
        buf_printf(o,
                   "\"%s\":{\"description\":\"%s\",%s\"content\":{\"application/json\":"
                   "{\"schema\":{\"$ref\":\"#/components/schemas/%sItem\"}}}}",
                   rt->handler == HANDLER_STORE ? "201" : "200",
                   rt->handler == HANDLER_STORE ? "Created" : "Updated",
                   rt->handler == HANDLER_STORE
                       ? "\"headers\":{\"Location\":{\"schema\":{\"type\":\"string\"}},"
                         "\"ETag\":{\"schema\":{\"type\":\"string\"}}},"
                       : ETAG_HEADER,
                   name);
        error_response(o, 400, "Body is not a JSON object, not UTF-8, or nested too deep", "Error",
                       false);
        error_response(o, 413, "Body over the size limit", "Error", false);
        error_response(o, 415, "Content-Type is not JSON", "Error", false);
        error_response(o, 422,
                       rt->handler == HANDLER_STORE
                           ? "Validation failed, or the Idempotency-Key names another request"
                           : "Validation failed",
                       "ValidationError", false);
        if (rt->handler == HANDLER_STORE)
            error_response(o, 409, "The same Idempotency-Key is still in flight", "Error", false);
        else
            precondition_responses(o);
        break;
    case HANDLER_TRIGGER_EVENT:
    case HANDLER_START_RUN:
        if (rt->handler == HANDLER_TRIGGER_EVENT)
            buf_printf(o,
                       "\"202\":{\"description\":\"One run per active workflow whose "
                       "trigger_event equals event (case-sensitive), by workflow id; a replay "
                       "carries Idempotent-Replayed: true\",\"content\":{\"application/json\":"
                       "{\"schema\":{\"type\":\"object\",\"properties\":{\"data\":{\"type\":"
                       "\"array\",\"items\":{\"$ref\":\"#/components/schemas/%s\"}}},"
                       "\"required\":[\"data\"]}}}}",
                       name);
        else
            buf_printf(o,
                       "\"201\":{\"description\":\"The run (of any workflow, active or not); a "
                       "replay carries Idempotent-Replayed: true\",\"headers\":{\"Location\":"
                       "{\"schema\":{\"type\":\"string\"}}},\"content\":{\"application/json\":"
                       "{\"schema\":{\"$ref\":\"#/components/schemas/%sItem\"}}}}",
                       name);
        error_response(o, 400,
                       "Body is not a JSON object, not UTF-8, or nested too deep; Idempotency-Key "
                       "over 255 bytes",
                       "Error", false);
        error_response(o, 413, "Body over the size limit", "Error", false);
        error_response(o, 415, "Content-Type is not JSON", "Error", false);
        error_response(o, 422, "Validation failed, or the Idempotency-Key names another request",
                       "ValidationError", false);
        break;
    case HANDLER_CANCEL_RUN:
    case HANDLER_RETRY_RUN:
        buf_printf(o,
                   "\"200\":{\"description\":\"The run as it is now\",\"content\":{"
                   "\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/%sItem\"}}}}",
                   name);
        error_response(o, 409,
                       rt->handler == HANDLER_CANCEL_RUN
                           ? "The run is already succeeded, failed or cancelled"
                           : "The run is neither failed nor cancelled",
                       "Error", false);
        break;
    case HANDLER_DESTROY:
        buf_puts(o, "\"204\":{\"description\":\"Deleted\"}");
        if (r->nrestrict_delete) error_response(o, 409, "Still in use", "Error", false);
        precondition_responses(o);
        break;
    }
    if (rt->auth) {
        error_response(o, 401, "Missing, malformed, expired or revoked token", "Error", false);
        error_response(o, 403, "The token lacks the route's ability", "Error", false);
        error_response(o, 429, "Over a rate limit of rate_limits (RateLimit-* headers)", "Error",
                       true);
    }
    if (has_id) error_response(o, 404, "No such record", "Error", false);
    if (rt->handler != HANDLER_HEALTH && rt->handler != HANDLER_OPENAPI &&
        rt->handler != HANDLER_METRICS)
        error_response(o, 503, "Database unreachable", "Error", true);
    buf_puts(o, "}}");
}

void openapi_write(const struct config *cfg, struct buf *o)
{
    buf_puts(o, "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"aiengine\",\"version\":\"1.0.0\","
                "\"description\":\"AI Automation Engine API: workflows, prompts, workflow steps, "
                "execution logs and workflow runs. Generated from etc/routes.yaml and "
                "etc/resources.yaml.\","
                "\"license\":{\"name\":\"Proprietary\",\"identifier\":\"LicenseRef-Proprietary\"}},"
                "\"servers\":[{\"url\":\"/\"}],");
    buf_puts(o, "\"tags\":[");
    for (size_t i = 0; i < cfg->resources->n; i++)
        buf_printf(o, "%s{\"name\":\"%s\"}", i ? "," : "", cfg->resources->items[i].name);
    buf_puts(o, "],\"paths\":{");
    const struct router *rt = cfg->router;
    bool first_path = true;
    for (size_t i = 0; i < rt->n; i++) {
        bool seen = false;
        for (size_t k = 0; k < i; k++) seen |= !strcmp(rt->routes[k].path, rt->routes[i].path);
        if (seen) continue;
        buf_printf(o, "%s\"%s\":{", first_path ? "" : ",", rt->routes[i].path);
        first_path = false;
        bool first_op = true;
        for (size_t k = i; k < rt->n; k++) {
            const struct route *r = &rt->routes[k];
            if (strcmp(r->path, rt->routes[i].path)) continue;
            char op_id[160];
            snprintf(op_id, sizeof op_id, "%s.%s%s%s", r->resource ? r->resource->name : "app",
                     r->relation ? r->relation->name : router_handler_name(r->handler),
                     r->handler == HANDLER_UPDATE ? "." : "",
                     r->handler == HANDLER_UPDATE ? r->method : "");
            if (!first_op) buf_putc(o, ',');
            operation(o, cfg, r, op_id);
            first_op = false;
        }
        buf_putc(o, '}');
    }
    buf_puts(o, "},\"components\":{\"securitySchemes\":{\"bearerAuth\":{\"type\":\"http\","
                "\"scheme\":\"bearer\",\"description\":\"Sanctum personal access token "
                "'<id>|<secret>' from `aiengine token:create`. Abilities: '*', or the names routes "
                "require (x-ability).\"}},\"schemas\":{");
    buf_puts(o, common_components);
    for (size_t i = 0; i < cfg->resources->n; i++) {
        buf_putc(o, ',');
        resource_schemas(o, &cfg->resources->items[i], cfg->resources);
    }
    buf_puts(o, "}}}");
}
