/* yconf.h — thin helpers over libyaml's document API for the config loaders: load a file,
 * walk mappings and sequences, and report errors as "file:line: reason". */
#ifndef AIENGINE_YCONF_H
#define AIENGINE_YCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/* Every config error carries one human line: "etc/routes.yaml:12: unknown handler 'x'". */
struct config_error {
    char msg[512];
};

void yconf_errorf(struct config_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct yconf {
    yaml_document_t doc;
    char *path; /* owned */
    bool loaded;
};

/* Load a whole YAML file. Returns 0, or -1 with err set. Free with yconf_free either way. */
int yconf_load(struct yconf *y, const char *path, struct config_error *err);
void yconf_free(struct yconf *y);
yaml_node_t *yconf_root(struct yconf *y);
/* Value of `key` in a mapping node, or NULL if absent or `map` is not a mapping. */
yaml_node_t *yconf_get(struct yconf *y, yaml_node_t *map, const char *key);
/* The scalar's text, or NULL when the node is not a scalar. */
const char *yconf_scalar(yaml_node_t *n);
int yconf_line(yaml_node_t *n);
/* Error helper: "path:line: message". */
void yconf_error(struct yconf *y, yaml_node_t *n, struct config_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Strict scalar readers: 0 on success, -1 with err set (wrong type or not a number). */
int yconf_int(struct yconf *y, yaml_node_t *n, long long min, long long max, long long *out,
              struct config_error *err);
int yconf_bool(struct yconf *y, yaml_node_t *n, bool *out, struct config_error *err);

/* Iteration: for mappings, pairs; for sequences, items. */
#define YCONF_MAP_EACH(y, map, pair)                                                               \
    for (yaml_node_pair_t *pair = (map)->data.mapping.pairs.start;                                 \
         pair < (map)->data.mapping.pairs.top; pair++)
#define YCONF_SEQ_EACH(y, seq, item)                                                               \
    for (yaml_node_item_t *item = (seq)->data.sequence.items.start;                                \
         item < (seq)->data.sequence.items.top; item++)
#define YCONF_NODE(y, idx) yaml_document_get_node(&(y)->doc, (idx))

#endif
