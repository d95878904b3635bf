/* ctxpath.c — resolve "input.score", "steps.1.text" or "lead_name" in a run's context.
 * Read-only over a json-c tree: it must never add, copy or free anything in the context. */
#include "ctxpath.h"

#include <string.h>

static bool seg_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c >= 0x80;
}

bool ctxpath_valid(const char *path, size_t n)
{
    if (n == 0 || n > CTXPATH_MAX) return false;
    bool seg_empty = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '.') {
            if (seg_empty) return false;
            seg_empty = true;
        } else if (seg_byte(c)) {
            seg_empty = false;
        } else {
            return false;
        }
    }
    return !seg_empty;
}

/* One step down: a key of an object, or a canonical decimal index of an array. */
static bool step(const struct json_object *cur, const char *seg, size_t len,
                 struct json_object **out)
{
    *out = NULL;
    if (json_object_is_type(cur, json_type_object)) {
        char key[CTXPATH_MAX + 1];
        memcpy(key, seg, len);
        key[len] = '\0';
        return json_object_object_get_ex(cur, key, out);
    }
    if (json_object_is_type(cur, json_type_array)) {
        if (len > 9 || (len > 1 && seg[0] == '0')) return false;
        size_t idx = 0;
        for (size_t i = 0; i < len; i++) {
            if (seg[i] < '0' || seg[i] > '9') return false;
            idx = idx * 10 + (size_t)(seg[i] - '0');
        }
        if (idx >= json_object_array_length(cur)) return false;
        *out = json_object_array_get_idx(cur, idx);
        return true;
    }
    return false;
}

static bool walk(const struct json_object *cur, const char *path, size_t n,
                 struct json_object **out)
{
    size_t i = 0;
    *out = NULL;
    while (i <= n) {
        size_t j = i;
        while (j < n && path[j] != '.')
            j++;
        struct json_object *next;
        if (!step(cur, path + i, j - i, &next)) return false;
        if (j == n) {
            *out = next;
            return true;
        }
        if (!next) return false; /* walking through a null */
        cur = next;
        i = j + 1;
    }
    return false;
}

bool ctxpath_get(const struct json_object *ctx, const char *path, size_t n,
                 struct json_object **out)
{
    *out = NULL;
    if (!ctx || !ctxpath_valid(path, n)) return false;
    if (walk(ctx, path, n, out)) return true;
    if (memchr(path, '.', n)) return false;
    struct json_object *input;
    if (!json_object_object_get_ex(ctx, "input", &input) || !input) return false;
    return walk(input, path, n, out);
}
