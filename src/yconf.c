/* yconf.c — load YAML documents with libyaml and read them strictly, so a typo in etc/
 * is a file:line error at start-up (or on SIGHUP), never a surprise at request time. */
#include "yconf.h"
#include "arena.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void yconf_errorf(struct config_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

/* YAML says mapping keys are unique; libyaml does not check. A repeated key in a config
 * file is always a mistake (which one wins?), so it is refused here, once, for every file. */
static int check_duplicate_keys(struct yconf *y, struct config_error *err)
{
    for (yaml_node_t *n = y->doc.nodes.start; n < y->doc.nodes.top; n++) {
        if (n->type != YAML_MAPPING_NODE) continue;
        for (yaml_node_pair_t *a = n->data.mapping.pairs.start; a < n->data.mapping.pairs.top;
             a++) {
            const char *ka = yconf_scalar(YCONF_NODE(y, a->key));
            if (!ka) continue;
            for (yaml_node_pair_t *b = n->data.mapping.pairs.start; b < a; b++) {
                const char *kb = yconf_scalar(YCONF_NODE(y, b->key));
                if (kb && !strcmp(ka, kb)) {
                    yconf_error(y, YCONF_NODE(y, a->key), err, "duplicate key '%s'", ka);
                    return -1;
                }
            }
        }
    }
    return 0;
}

int yconf_load(struct yconf *y, const char *path, struct config_error *err)
{
    memset(y, 0, sizeof *y);
    y->path = mem_strdup(path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        yconf_errorf(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) mem_oom_abort();
    yaml_parser_set_input_file(&parser, f);
    int rc = 0;
    if (!yaml_parser_load(&parser, &y->doc)) {
        yconf_errorf(err, "%s:%zu: %s", path, parser.problem_mark.line + 1,
                     parser.problem ? parser.problem : "YAML syntax error");
        rc = -1;
    } else {
        y->loaded = true;
        if (!yaml_document_get_root_node(&y->doc)) {
            yconf_errorf(err, "%s:1: empty document", path);
            rc = -1;
        } else if (check_duplicate_keys(y, err)) {
            rc = -1;
        }
    }
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

void yconf_free(struct yconf *y)
{
    if (y->loaded) yaml_document_delete(&y->doc);
    y->loaded = false;
    free(y->path);
    y->path = NULL;
}

yaml_node_t *yconf_root(struct yconf *y)
{
    return yaml_document_get_root_node(&y->doc);
}

yaml_node_t *yconf_get(struct yconf *y, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    YCONF_MAP_EACH(y, map, pair)
    {
        yaml_node_t *k = YCONF_NODE(y, pair->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
            return YCONF_NODE(y, pair->value);
    }
    return NULL;
}

const char *yconf_scalar(yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE) return NULL;
    return (const char *)n->data.scalar.value;
}

int yconf_line(yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 0;
}

void yconf_error(struct yconf *y, yaml_node_t *n, struct config_error *err, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    yconf_errorf(err, "%s:%d: %s", y->path, yconf_line(n), msg);
}

int yconf_int(struct yconf *y, yaml_node_t *n, long long min, long long max, long long *out,
              struct config_error *err)
{
    const char *s = yconf_scalar(n);
    char *end;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < min || v > max) {
        yconf_error(y, n, err, "expected an integer between %lld and %lld", min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int yconf_bool(struct yconf *y, yaml_node_t *n, bool *out, struct config_error *err)
{
    const char *s = yconf_scalar(n);
    if (s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))) {
        *out = true;
        return 0;
    }
    if (s && (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))) {
        *out = false;
        return 0;
    }
    yconf_error(y, n, err, "expected true or false");
    return -1;
}
