/* resource.h — the declarative models of etc/resources.yaml, compiled at start-up.
 *
 * A resource is a table, its fields in table order (type, fillable, compiled rules), the
 * filter and sort whitelists, and its relations. Everything that reaches SQL as an
 * identifier (table, column) comes from here and nowhere else. The set is built once,
 * read-only afterwards, and replaced whole on SIGHUP. */
#ifndef AIENGINE_RESOURCE_H
#define AIENGINE_RESOURCE_H

#include "rules.h"
#include "yconf.h"

#include <stdbool.h>
#include <stddef.h>

enum field_type {
    FIELD_ID,        /* bigint unsigned primary key */
    FIELD_FK,        /* bigint unsigned reference */
    FIELD_STRING,    /* varchar(255): 255 characters */
    FIELD_TEXT,      /* text: 65,535 bytes */
    FIELD_INT,       /* int(11): 32-bit signed */
    FIELD_BOOL,      /* tinyint(1) */
    FIELD_JSON,      /* longtext + json_valid */
    FIELD_DECIMAL,   /* decimal(P,S), served as a string */
    FIELD_TIMESTAMP, /* timestamp, served as ISO-8601 UTC with microseconds */
};

enum field_auto { AUTO_NONE, AUTO_CREATED, AUTO_UPDATED };

struct field {
    char *name; /* column name, also the JSON key */
    /* `,"name":` — what repr.c writes before the value (from +1 for a row's first field),
     * built once at load so a row is not written key by key in small pieces */
    char *json_key;
    size_t json_key_len;
    char *label; /* "is active" */
    enum field_type type;
    int precision, scale; /* FIELD_DECIMAL */
    bool fillable;
    bool null_means_default;
    enum field_auto autoset;
    char *default_value; /* may be NULL */
    struct rule_set rules;
    const struct rule *unique; /* into rules, or NULL */
    /* sending it makes validation read the database (an exists rule, a column of a unique
     * rule, either side of a `same` relation): set at load, read by write.c */
    bool validation_reads;
    bool filterable, sortable;
    bool hidden; /* YAML `hidden: true`: only while compiling; hidden fields are dropped */
};

struct resource;

enum relation_kind { REL_BELONGS_TO, REL_HAS_MANY };

struct sort_key {
    const struct field *field;
    bool desc;
};

enum pagination { PAGINATE_PAGE, PAGINATE_CURSOR };

struct relation {
    char *name;     /* JSON key, e.g. "parent_log" */
    char *json_key; /* `,"parent_log":`, written after the record's fields (built at load) */
    size_t json_key_len;
    enum relation_kind kind;
    char *target_name;
    const struct resource *target;
    /* belongs_to: the field on this resource; has_many: the field on the target */
    const struct field *foreign_key;
    struct sort_key *order; /* has_many order; defaults to the target's default sort */
    size_t norder;
    bool includable;
    /* has_many: at most this many related records per parent in one ?include= (YAML
     * include_limit, default RESOURCE_INCLUDE_LIMIT); more is a 400, never a huge answer */
    long include_limit;
    /* belongs_to `same: workflow_id`: the referenced record's same_target must equal this
     * record's same_local (a log's step belongs to the log's workflow); NULL when unset */
    const struct field *same_local, *same_target;
    /* has_many: how its relation route pages (YAML `pagination:`, default the target's) */
    enum pagination pagination;
    /* belongs_to `not_self: true` (target is this resource): a record may not refer to itself */
    bool not_self;
};

#define RESOURCE_INCLUDE_LIMIT 1000

struct resource {
    char *name;           /* URL name: "workflow-steps" */
    char *table;          /* "workflow_steps" */
    char *singular_label; /* "workflow step", for messages */
    struct field *fields;
    size_t nfields;
    const struct field *id;
    struct relation *relations;
    size_t nrelations;
    enum pagination pagination;
    /* YAML `count_cache:` (default true): page lists may reuse a cached meta.total
     * (countcache.h). false for a table that something other than the API writes. */
    bool count_cache;
    bool validation_reads; /* some field's validation_reads: a create must read (write.c) */
    struct sort_key *default_sort;
    size_t ndefault_sort;
    const struct relation **restrict_delete;
    size_t nrestrict_delete;
    char *select_list; /* "`id`,`name`,..." in table order, built once */
    /* the fixed statements, built once at start-up: "SELECT <list> FROM `t` WHERE `id` = ?"
     * (and FOR UPDATE), "SELECT 1 ..." (and FOR UPDATE), "DELETE FROM `t` WHERE `id` = ?" */
    char *select_by_id, *select_by_id_for_update;
    char *exists_by_id, *lock_by_id, *delete_by_id;
    /* for 400 messages: "steps, prompt", "trigger_event, is_active", "id, name, ..." */
    char *include_names, *filter_names, *sort_names;
};

struct resource_set {
    struct resource *items;
    size_t n;
};

/* Compile resources.yaml. Returns a set the caller owns (resource_set_free) or NULL with
 * err set to "file:line: reason". */
struct resource_set *resource_set_load(const char *path, struct config_error *err);
void resource_set_free(struct resource_set *set);

const struct resource *resource_find(const struct resource_set *set, const char *name);
const struct resource *resource_find_table(const struct resource_set *set, const char *table);
const struct field *resource_field(const struct resource *r, const char *name);
const struct relation *resource_relation(const struct resource *r, const char *name);

/* Position of f (a field of r) in r's table order: its column in a SELECT of select_list. */
static inline size_t resource_field_index(const struct resource *r, const struct field *f)
{
    return (size_t)(f - r->fields);
}

/* Parse "a,-b" into sort keys over `r`'s fields; `allowed` limits to sortable fields (id is
 * always allowed). Returns the count, or -1 (unknown/disallowed field). Keys in out[max]. */
int resource_parse_sort(const struct resource *r, const char *spec, bool allowed_only,
                        struct sort_key *out, size_t max);

#endif
