/* resource.c — compile etc/resources.yaml into struct resource: field types, compiled rules,
 * whitelists, relations. Every identifier that later reaches SQL is checked here to be a
 * plain identifier, and the SQL select list is built once. */
#include "resource.h"
#include "value.h"
#include "arena.h"
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_resource_name(const char *s)
{
    if (!s || !*s || strlen(s) > 64) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return false;
    return true;
}

const struct resource *resource_find(const struct resource_set *set, const char *name)
{
    for (size_t i = 0; set && i < set->n; i++)
        if (!strcmp(set->items[i].name, name)) return &set->items[i];
    return NULL;
}

const struct resource *resource_find_table(const struct resource_set *set, const char *table)
{
    for (size_t i = 0; set && i < set->n; i++)
        if (!strcmp(set->items[i].table, table)) return &set->items[i];
    return NULL;
}

const struct field *resource_field(const struct resource *r, const char *name)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (!strcmp(r->fields[i].name, name)) return &r->fields[i];
    return NULL;
}

const struct relation *resource_relation(const struct resource *r, const char *name)
{
    for (size_t i = 0; i < r->nrelations; i++)
        if (!strcmp(r->relations[i].name, name)) return &r->relations[i];
    return NULL;
}

int resource_parse_sort(const struct resource *r, const char *spec, bool allowed_only,
                        struct sort_key *out, size_t max)
{
    size_t n = 0;
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        bool desc = false;
        if (len && *p == '-') {
            desc = true;
            p++;
            len--;
        }
        char name[72];
        if (len == 0 || len >= sizeof name || n >= max) return -1;
        memcpy(name, p, len);
        name[len] = '\0';
        const struct field *f = resource_field(r, name);
        if (!f || (allowed_only && !f->sortable && f->type != FIELD_ID)) return -1;
        for (size_t i = 0; i < n; i++)
            if (out[i].field == f) return -1; /* the same column twice is a mistake */
        out[n].field = f;
        out[n].desc = desc;
        n++;
        if (!comma) break;
        p = comma + 1;
        if (!*p) return -1;
    }
    return (int)n;
}

static int parse_type(const char *s, struct field *f)
{
    static const struct {
        const char *name;
        enum field_type type;
    } types[] = {{"id", FIELD_ID},         {"fk", FIELD_FK},
                 {"string", FIELD_STRING}, {"text", FIELD_TEXT},
                 {"int", FIELD_INT},       {"bool", FIELD_BOOL},
                 {"json", FIELD_JSON},     {"timestamp", FIELD_TIMESTAMP}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(s, types[i].name)) {
            f->type = types[i].type;
            return 0;
        }
    int p, sc;
    char tail;
    if (sscanf(s, "decimal(%d,%d%c", &p, &sc, &tail) == 3 && tail == ')' && p >= 1 && p <= 65 &&
        sc >= 0 && sc <= 30 && sc <= p) {
        f->type = FIELD_DECIMAL;
        f->precision = p;
        f->scale = sc;
        return 0;
    }
    return -1;
}

/* `,"name":`, the text written before a member's value (name is a plain identifier, so it
 * needs no escaping); *len is its length. */
static char *member_key(const char *name, size_t *len)
{
    *len = strlen(name) + 4;
    char *k = mem_alloc(*len + 1);
    snprintf(k, *len + 1, ",\"%s\":", name);
    return k;
}

static int load_field(struct yconf *y, yaml_node_t *key, yaml_node_t *def, struct field *f,
                      struct config_error *err)
{
    const char *name = yconf_scalar(key);
    if (!value_is_identifier(name)) {
        yconf_error(y, key, err, "field name '%s' is not a plain identifier", name ? name : "?");
        return -1;
    }
    f->name = mem_strdup(name);
    f->json_key = member_key(name, &f->json_key_len);
    char label[128];
    rules_label(name, label, sizeof label);
    f->label = mem_strdup(label);
    if (!def || def->type != YAML_MAPPING_NODE) {
        yconf_error(y, key, err, "field '%s' needs a mapping ({type: ...})", name);
        return -1;
    }
    yaml_node_t *n = yconf_get(y, def, "type");
    if (!yconf_scalar(n) || parse_type(yconf_scalar(n), f)) {
        yconf_error(y, n ? n : def, err,
                    "field '%s': type must be one of id, fk, string, text, int, bool, json, "
                    "decimal(P,S), timestamp",
                    name);
        return -1;
    }
    YCONF_MAP_EACH(y, def, pair)
    {
        yaml_node_t *k = YCONF_NODE(y, pair->key);
        yaml_node_t *v = YCONF_NODE(y, pair->value);
        const char *ks = yconf_scalar(k);
        if (!ks) continue;
        if (!strcmp(ks, "type")) {
        } else if (!strcmp(ks, "fillable")) {
            if (yconf_bool(y, v, &f->fillable, err)) return -1;
        } else if (!strcmp(ks, "hidden")) {
            if (yconf_bool(y, v, &f->hidden, err)) return -1;
        } else if (!strcmp(ks, "null_means_default")) {
            if (yconf_bool(y, v, &f->null_means_default, err)) return -1;
        } else if (!strcmp(ks, "default")) {
            if (!yconf_scalar(v)) {
                yconf_error(y, v, err, "field '%s': default must be a scalar", name);
                return -1;
            }
            f->default_value = mem_strdup(yconf_scalar(v));
        } else if (!strcmp(ks, "auto")) {
            const char *a = yconf_scalar(v);
            if (a && !strcmp(a, "created"))
                f->autoset = AUTO_CREATED;
            else if (a && !strcmp(a, "updated"))
                f->autoset = AUTO_UPDATED;
            else {
                yconf_error(y, v, err, "field '%s': auto must be created or updated", name);
                return -1;
            }
            if (f->type != FIELD_TIMESTAMP) {
                yconf_error(y, v, err, "field '%s': auto needs type timestamp", name);
                return -1;
            }
        } else if (!strcmp(ks, "rules")) {
            const char *spec = yconf_scalar(v);
            char why[256];
            if (!spec || rules_compile(spec, name, &f->rules, why, sizeof why)) {
                yconf_error(y, v, err, "field '%s': %s", name,
                            spec ? why : "rules must be a string");
                return -1;
            }
            f->unique = rules_find(&f->rules, RULE_UNIQUE);
        } else {
            yconf_error(y, k, err, "field '%s': unknown key '%s'", name, ks);
            return -1;
        }
    }
    if (f->hidden && (f->fillable || f->type == FIELD_ID || f->autoset != AUTO_NONE)) {
        yconf_error(y, key, err,
                    "field '%s': a hidden field cannot be fillable, an id or automatic", name);
        return -1;
    }
    if (f->fillable && (f->type == FIELD_ID || f->autoset != AUTO_NONE)) {
        yconf_error(y, key, err, "field '%s': ids and automatic timestamps cannot be fillable",
                    name);
        return -1;
    }
    return 0;
}

static int load_sort_list(struct yconf *y, yaml_node_t *n, const struct resource *r,
                          const char *what, struct sort_key **out, size_t *nout,
                          struct config_error *err)
{
    const char *s = yconf_scalar(n);
    struct sort_key keys[16];
    int k = s ? resource_parse_sort(r, s, false, keys, 16) : -1;
    if (k <= 0) {
        yconf_error(y, n, err, "%s: expected a list like \"a,-b\" of this resource's fields", what);
        return -1;
    }
    *out = mem_calloc((size_t)k, sizeof **out);
    memcpy(*out, keys, (size_t)k * sizeof keys[0]);
    *nout = (size_t)k;
    return 0;
}

static int load_name_list(struct yconf *y, yaml_node_t *n, struct resource *r, bool sorts,
                          struct config_error *err)
{
    if (!n) return 0;
    if (n->type != YAML_SEQUENCE_NODE) {
        yconf_error(y, n, err, "expected a list of field names");
        return -1;
    }
    YCONF_SEQ_EACH(y, n, item)
    {
        yaml_node_t *v = YCONF_NODE(y, *item);
        const char *s = yconf_scalar(v);
        struct field *f = NULL;
        for (size_t i = 0; s && i < r->nfields; i++)
            if (!strcmp(r->fields[i].name, s)) f = &r->fields[i];
        if (!f) {
            yconf_error(y, v, err, "'%s' is not a field of %s", s ? s : "?", r->name);
            return -1;
        }
        if (sorts)
            f->sortable = true;
        else
            f->filterable = true;
    }
    return 0;
}

static void free_resource(struct resource *r)
{
    for (size_t i = 0; i < r->nfields; i++) {
        free(r->fields[i].name);
        free(r->fields[i].json_key);
        free(r->fields[i].label);
        free(r->fields[i].default_value);
        rules_free(&r->fields[i].rules);
    }
    free(r->fields);
    for (size_t i = 0; i < r->nrelations; i++) {
        free(r->relations[i].name);
        free(r->relations[i].json_key);
        free(r->relations[i].target_name);
        free(r->relations[i].order);
    }
    free(r->relations);
    free(r->default_sort);
    free(r->restrict_delete);
    free(r->name);
    free(r->table);
    free(r->singular_label);
    free(r->select_list);
    free(r->select_by_id);
    free(r->select_by_id_for_update);
    free(r->exists_by_id);
    free(r->lock_by_id);
    free(r->delete_by_id);
    free(r->include_names);
    free(r->filter_names);
    free(r->sort_names);
}

void resource_set_free(struct resource_set *set)
{
    if (!set) return;
    for (size_t i = 0; i < set->n; i++) free_resource(&set->items[i]);
    free(set->items);
    free(set);
}

/* First pass: one resource's table and fields. Relations need every resource, so they are
 * resolved in a second pass. */
static int load_resource(struct yconf *y, yaml_node_t *key, yaml_node_t *def, struct resource *r,
                         struct config_error *err)
{
    const char *name = yconf_scalar(key);
    if (!is_resource_name(name)) {
        yconf_error(y, key, err, "resource name '%s' must be lowercase letters, digits and -",
                    name ? name : "?");
        return -1;
    }
    r->name = mem_strdup(name);
    if (!def || def->type != YAML_MAPPING_NODE) {
        yconf_error(y, key, err, "resource '%s' needs a mapping", name);
        return -1;
    }
    const char *table = yconf_scalar(yconf_get(y, def, "table"));
    if (!value_is_identifier(table)) {
        yconf_error(y, def, err, "resource '%s': table must be a plain identifier", name);
        return -1;
    }
    r->table = mem_strdup(table);
    /* "workflow_steps" -> "workflow step" for messages like "3 workflow steps use it" */
    char label[128];
    rules_label(table, label, sizeof label);
    size_t ll = strlen(label);
    if (ll > 1 && label[ll - 1] == 's') label[ll - 1] = '\0';
    r->singular_label = mem_strdup(label);

    yaml_node_t *fields = yconf_get(y, def, "fields");
    if (!fields || fields->type != YAML_MAPPING_NODE) {
        yconf_error(y, def, err, "resource '%s': fields must be a mapping", name);
        return -1;
    }
    size_t nf = (size_t)(fields->data.mapping.pairs.top - fields->data.mapping.pairs.start);
    r->fields = mem_calloc(nf, sizeof *r->fields);
    YCONF_MAP_EACH(y, fields, pair)
    {
        struct field *f = &r->fields[r->nfields];
        r->nfields++;
        if (load_field(y, YCONF_NODE(y, pair->key), YCONF_NODE(y, pair->value), f, err)) return -1;
        if (f->hidden) {
            /* a hidden column (Laravel's $hidden) is never selected, so nothing can serialise,
             * filter, sort or write it: it is checked and dropped here */
            free(f->name);
            free(f->json_key);
            free(f->label);
            free(f->default_value);
            rules_free(&f->rules);
            memset(f, 0, sizeof *f);
            r->nfields--;
            continue;
        }
        for (size_t i = 0; i + 1 < r->nfields; i++)
            if (!strcmp(r->fields[i].name, f->name)) {
                yconf_error(y, YCONF_NODE(y, pair->key), err, "field '%s' declared twice", f->name);
                return -1;
            }
        if (f->type == FIELD_ID) {
            if (r->id) {
                yconf_error(y, YCONF_NODE(y, pair->key), err, "only one field may have type id");
                return -1;
            }
            r->id = f;
        }
    }
    if (!r->id) {
        yconf_error(y, fields, err, "resource '%s' has no field of type id", name);
        return -1;
    }
    struct buf sl;
    buf_init(&sl, 0);
    for (size_t i = 0; i < r->nfields; i++)
        buf_printf(&sl, "%s`%s`", i ? "," : "", r->fields[i].name);
    r->select_list = mem_strdup(sl.data);
    buf_reset(&sl);
    buf_printf(&sl, "SELECT %s FROM `%s` WHERE `%s` = ?", r->select_list, r->table, r->id->name);
    r->select_by_id = mem_strdup(sl.data);
    buf_puts(&sl, " FOR UPDATE");
    r->select_by_id_for_update = mem_strdup(sl.data);
    buf_reset(&sl);
    buf_printf(&sl, "SELECT 1 FROM `%s` WHERE `%s` = ?", r->table, r->id->name);
    r->exists_by_id = mem_strdup(sl.data);
    buf_puts(&sl, " FOR UPDATE");
    r->lock_by_id = mem_strdup(sl.data);
    buf_reset(&sl);
    buf_printf(&sl, "DELETE FROM `%s` WHERE `%s` = ?", r->table, r->id->name);
    r->delete_by_id = mem_strdup(sl.data);
    buf_free(&sl);

    const char *pg = yconf_scalar(yconf_get(y, def, "pagination"));
    if (!pg || !strcmp(pg, "page"))
        r->pagination = PAGINATE_PAGE;
    else if (!strcmp(pg, "cursor"))
        r->pagination = PAGINATE_CURSOR;
    else {
        yconf_error(y, yconf_get(y, def, "pagination"), err, "pagination must be page or cursor");
        return -1;
    }
    r->count_cache = true;
    yaml_node_t *cc = yconf_get(y, def, "count_cache");
    if (cc && yconf_bool(y, cc, &r->count_cache, err)) return -1;
    if (load_name_list(y, yconf_get(y, def, "filters"), r, false, err)) return -1;
    if (load_name_list(y, yconf_get(y, def, "sorts"), r, true, err)) return -1;
    yaml_node_t *ds = yconf_get(y, def, "default_sort");
    if (ds) {
        if (load_sort_list(y, ds, r, "default_sort", &r->default_sort, &r->ndefault_sort, err))
            return -1;
    } else {
        r->default_sort = mem_calloc(1, sizeof *r->default_sort);
        r->default_sort[0].field = r->id;
        r->ndefault_sort = 1;
    }
    if (r->pagination == PAGINATE_CURSOR) {
        /* keyset pagination walks one column plus the id; more would need a wider cursor */
        for (size_t i = 0; i < r->nfields; i++)
            if (r->fields[i].sortable && r->fields[i].rules.nullable &&
                !r->fields[i].null_means_default) {
                yconf_error(y, def, err,
                            "resource '%s': cursor pagination cannot sort by nullable '%s'", name,
                            r->fields[i].name);
                return -1;
            }
    }
    YCONF_MAP_EACH(y, def, pair)
    {
        const char *k = yconf_scalar(YCONF_NODE(y, pair->key));
        static const char *known[] = {"table",     "pagination",      "default_sort",
                                      "fields",    "filters",         "sorts",
                                      "relations", "restrict_delete", "count_cache"};
        bool ok = false;
        for (size_t i = 0; k && i < sizeof known / sizeof known[0]; i++)
            if (!strcmp(k, known[i])) ok = true;
        if (!ok) {
            yconf_error(y, YCONF_NODE(y, pair->key), err, "resource '%s': unknown key '%s'", name,
                        k ? k : "?");
            return -1;
        }
    }
    return 0;
}

/* include_limit (has_many), same and not_self (belongs_to). */
static int load_relation_limits(struct yconf *y, yaml_node_t *v, const struct resource *r,
                                struct relation *rel, struct config_error *err)
{
    rel->include_limit = RESOURCE_INCLUDE_LIMIT;
    yaml_node_t *lim = yconf_get(y, v, "include_limit");
    if (lim) {
        long long n;
        if (rel->kind != REL_HAS_MANY) {
            yconf_error(y, lim, err, "relation '%s': include_limit only applies to has_many",
                        rel->name);
            return -1;
        }
        if (yconf_int(y, lim, 1, 100000, &n, err)) return -1;
        rel->include_limit = (long)n;
    }
    rel->pagination = rel->target->pagination;
    yaml_node_t *pg = yconf_get(y, v, "pagination");
    if (pg) {
        const char *s = yconf_scalar(pg);
        if (rel->kind != REL_HAS_MANY || !s || (strcmp(s, "page") && strcmp(s, "cursor"))) {
            yconf_error(y, pg, err,
                        "relation '%s': pagination (page or cursor) only applies to "
                        "has_many",
                        rel->name);
            return -1;
        }
        rel->pagination = !strcmp(s, "page") ? PAGINATE_PAGE : PAGINATE_CURSOR;
    }
    yaml_node_t *same = yconf_get(y, v, "same");
    if (same) {
        const char *s = yconf_scalar(same);
        rel->same_local = s ? resource_field(r, s) : NULL;
        rel->same_target = s ? resource_field(rel->target, s) : NULL;
        if (rel->kind != REL_BELONGS_TO || !rel->same_local || !rel->same_target ||
            rel->same_local == rel->foreign_key) {
            yconf_error(y, same, err,
                        "relation '%s': same needs a belongs_to relation and a field both "
                        "resources have",
                        rel->name);
            return -1;
        }
    }
    yaml_node_t *ns = yconf_get(y, v, "not_self");
    if (ns) {
        if (yconf_bool(y, ns, &rel->not_self, err)) return -1;
        if (rel->not_self && (rel->kind != REL_BELONGS_TO || rel->target != r)) {
            yconf_error(y, ns, err, "relation '%s': not_self needs a belongs_to this resource",
                        rel->name);
            return -1;
        }
    }
    return 0;
}

static int load_relations(struct yconf *y, yaml_node_t *def, struct resource_set *set,
                          struct resource *r, struct config_error *err)
{
    yaml_node_t *rels = yconf_get(y, def, "relations");
    if (rels) {
        if (rels->type != YAML_MAPPING_NODE) {
            yconf_error(y, rels, err, "relations must be a mapping");
            return -1;
        }
        size_t n = (size_t)(rels->data.mapping.pairs.top - rels->data.mapping.pairs.start);
        r->relations = mem_calloc(n, sizeof *r->relations);
        YCONF_MAP_EACH(y, rels, pair)
        {
            yaml_node_t *k = YCONF_NODE(y, pair->key);
            yaml_node_t *v = YCONF_NODE(y, pair->value);
            struct relation *rel = &r->relations[r->nrelations++];
            const char *rn = yconf_scalar(k);
            if (!value_is_identifier(rn)) {
                yconf_error(y, k, err, "relation name must be a plain identifier");
                return -1;
            }
            rel->name = mem_strdup(rn);
            rel->json_key = member_key(rn, &rel->json_key_len);
            const char *bt = yconf_scalar(yconf_get(y, v, "belongs_to"));
            const char *hm = yconf_scalar(yconf_get(y, v, "has_many"));
            if (!!bt == !!hm) {
                yconf_error(y, k, err, "relation '%s' needs exactly one of belongs_to, has_many",
                            rn);
                return -1;
            }
            rel->kind = bt ? REL_BELONGS_TO : REL_HAS_MANY;
            rel->target_name = mem_strdup(bt ? bt : hm);
            rel->target = resource_find(set, rel->target_name);
            if (!rel->target) {
                yconf_error(y, k, err, "relation '%s': no resource named '%s'", rn,
                            rel->target_name);
                return -1;
            }
            const char *fk = yconf_scalar(yconf_get(y, v, "foreign_key"));
            const struct resource *holder = rel->kind == REL_BELONGS_TO ? r : rel->target;
            rel->foreign_key = fk ? resource_field(holder, fk) : NULL;
            if (!rel->foreign_key || rel->foreign_key->type != FIELD_FK) {
                yconf_error(y, k, err, "relation '%s': foreign_key must name an fk field of %s", rn,
                            holder->name);
                return -1;
            }
            yaml_node_t *order = yconf_get(y, v, "order");
            if (order) {
                if (rel->kind != REL_HAS_MANY) {
                    yconf_error(y, order, err, "relation '%s': order only applies to has_many", rn);
                    return -1;
                }
                if (load_sort_list(y, order, rel->target, "order", &rel->order, &rel->norder, err))
                    return -1;
            }
            yaml_node_t *inc = yconf_get(y, v, "include");
            if (inc && yconf_bool(y, inc, &rel->includable, err)) return -1;
            if (load_relation_limits(y, v, r, rel, err)) return -1;
        }
    }
    yaml_node_t *rd = yconf_get(y, def, "restrict_delete");
    if (rd) {
        if (rd->type != YAML_SEQUENCE_NODE) {
            yconf_error(y, rd, err, "restrict_delete must be a list of has_many relations");
            return -1;
        }
        size_t n = (size_t)(rd->data.sequence.items.top - rd->data.sequence.items.start);
        r->restrict_delete = mem_calloc(
            n,
            sizeof *r->restrict_delete); // NOLINT(bugprone-sizeof-expression): an array of pointers
        YCONF_SEQ_EACH(y, rd, item)
        {
            yaml_node_t *v = YCONF_NODE(y, *item);
            const char *s = yconf_scalar(v);
            const struct relation *rel = s ? resource_relation(r, s) : NULL;
            if (!rel || rel->kind != REL_HAS_MANY) {
                yconf_error(y, v, err, "restrict_delete: '%s' is not a has_many relation of %s",
                            s ? s : "?", r->name);
                return -1;
            }
            r->restrict_delete[r->nrestrict_delete++] = rel;
        }
    }
    return 0;
}

/* exists/unique name tables and columns: they must be declared resources and fields. */
static int check_rule_refs(struct resource_set *set, struct config_error *err, const char *path)
{
    for (size_t i = 0; i < set->n; i++) {
        struct resource *r = &set->items[i];
        for (size_t j = 0; j < r->nfields; j++) {
            struct field *f = &r->fields[j];
            for (size_t k = 0; k < f->rules.nrules; k++) {
                const struct rule *rule = &f->rules.rules[k];
                if (rule->kind != RULE_EXISTS && rule->kind != RULE_UNIQUE) continue;
                const struct resource *t = resource_find_table(set, rule->args[0]);
                if (!t) {
                    yconf_errorf(err, "%s: %s.%s: table '%s' is not a declared resource", path,
                                 r->name, f->name, rule->args[0]);
                    return -1;
                }
                for (size_t a = 1; a < rule->nargs; a++)
                    if (!resource_field(t, rule->args[a])) {
                        yconf_errorf(err, "%s: %s.%s: '%s' is not a field of %s", path, r->name,
                                     f->name, rule->args[a], t->name);
                        return -1;
                    }
                if (rule->kind == RULE_UNIQUE && t != r) {
                    yconf_errorf(err, "%s: %s.%s: unique must name the resource's own table", path,
                                 r->name, f->name);
                    return -1;
                }
            }
        }
    }
    return 0;
}

/* Which fields read the database when validated (field.validation_reads): decided once
 * here rather than per write, from the rules and relations loaded above. */
static void mark_validation_reads(struct resource *r)
{
    for (size_t i = 0; i < r->nfields; i++) {
        struct field *f = &r->fields[i];
        if (f->unique || rules_find(&f->rules, RULE_EXISTS)) f->validation_reads = true;
        for (size_t k = 1; f->unique && k < f->unique->nargs; k++) {
            const struct field *other = resource_field(r, f->unique->args[k]);
            if (other) r->fields[resource_field_index(r, other)].validation_reads = true;
        }
    }
    for (size_t k = 0; k < r->nrelations; k++) {
        const struct relation *rel = &r->relations[k];
        if (rel->kind != REL_BELONGS_TO || !rel->same_local) continue;
        r->fields[resource_field_index(r, rel->foreign_key)].validation_reads = true;
        r->fields[resource_field_index(r, rel->same_local)].validation_reads = true;
    }
    for (size_t i = 0; i < r->nfields; i++) r->validation_reads |= r->fields[i].validation_reads;
}

/* The whitelists as text, once, for the 400 messages that name what is allowed. */
static void name_lists(struct resource *r)
{
    struct buf inc, fil, srt;
    buf_init(&inc, 0);
    buf_init(&fil, 0);
    buf_init(&srt, 0);
    for (size_t i = 0; i < r->nrelations; i++)
        if (r->relations[i].includable)
            buf_printf(&inc, "%s%s", inc.len ? ", " : "", r->relations[i].name);
    buf_puts(&srt, r->id->name);
    for (size_t i = 0; i < r->nfields; i++) {
        if (r->fields[i].filterable)
            buf_printf(&fil, "%s%s", fil.len ? ", " : "", r->fields[i].name);
        if (r->fields[i].sortable && &r->fields[i] != r->id)
            buf_printf(&srt, ", %s", r->fields[i].name);
    }
    r->include_names = mem_strdup(inc.len ? inc.data : "none");
    r->filter_names = mem_strdup(fil.len ? fil.data : "none");
    r->sort_names = mem_strdup(srt.data);
    buf_free(&inc);
    buf_free(&fil);
    buf_free(&srt);
}

struct resource_set *resource_set_load(const char *path, struct config_error *err)
{
    struct yconf y;
    struct resource_set *set = mem_calloc(1, sizeof *set);
    if (yconf_load(&y, path, err)) goto fail;
    yaml_node_t *list = yconf_get(&y, yconf_root(&y), "resources");
    if (!list || list->type != YAML_MAPPING_NODE) {
        yconf_error(&y, yconf_root(&y), err, "expected 'resources:' with a mapping of resources");
        goto fail;
    }
    size_t n = (size_t)(list->data.mapping.pairs.top - list->data.mapping.pairs.start);
    set->items = mem_calloc(n, sizeof *set->items);
    YCONF_MAP_EACH(&y, list, pair)
    {
        struct resource *r = &set->items[set->n++];
        if (load_resource(&y, YCONF_NODE(&y, pair->key), YCONF_NODE(&y, pair->value), r, err))
            goto fail;
        for (size_t i = 0; i + 1 < set->n; i++)
            if (!strcmp(set->items[i].name, r->name)) {
                yconf_error(&y, YCONF_NODE(&y, pair->key), err, "resource '%s' declared twice",
                            r->name);
                goto fail;
            }
    }
    size_t i = 0;
    YCONF_MAP_EACH(&y, list, pair)
    {
        if (load_relations(&y, YCONF_NODE(&y, pair->value), set, &set->items[i++], err)) goto fail;
    }
    if (check_rule_refs(set, err, path)) goto fail;
    for (size_t k = 0; k < set->n; k++) {
        name_lists(&set->items[k]);
        mark_validation_reads(&set->items[k]);
    }
    yconf_free(&y);
    return set;
fail:
    yconf_free(&y);
    resource_set_free(set);
    return NULL;
}
