/* envfile.c — read KEY=VALUE defaults for AIENGINE_* variables (envfile.h). Only names
 * with the AIENGINE_ prefix are taken: the file must not be able to change PATH, LD_* or
 * anything else the process or its children rely on. */
#include "envfile.h"

#include "mem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENVFILE_MAX_BYTES 65536
#define ENVFILE_MAX_LINE 4096

static bool name_ok(const char *s, size_t n)
{
    static const char prefix[] = "AIENGINE_";
    if (n <= sizeof prefix - 1 || strncmp(s, prefix, sizeof prefix - 1)) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* One pass that checks (fn NULL) or reports; returns 0 or the bad line's number. */
static int walk(const char *text, size_t len, envfile_fn fn, void *ctx)
{
    int lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        lineno++;
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n && line[n - 1] == '\r') n--;
        size_t lead = 0;
        while (lead < n && (line[lead] == ' ' || line[lead] == '\t')) lead++;
        if (lead == n || line[lead] == '#') continue;
        if (lead || n >= ENVFILE_MAX_LINE || memchr(line, '\0', n)) return lineno;
        const char *eq = memchr(line, '=', n);
        if (!eq || !name_ok(line, (size_t)(eq - line))) return lineno;
        if (!fn) continue;
        char key[ENVFILE_MAX_LINE], value[ENVFILE_MAX_LINE];
        size_t kn = (size_t)(eq - line), vn = n - kn - 1;
        memcpy(key, line, kn);
        key[kn] = '\0';
        memcpy(value, eq + 1, vn);
        value[vn] = '\0';
        fn(key, value, ctx);
    }
    return 0;
}

int envfile_parse(const char *text, size_t len, envfile_fn fn, void *ctx)
{
    int bad = walk(text, len, NULL, NULL);
    if (bad) return bad;
    return walk(text, len, fn, ctx);
}

static void set_default(const char *key, const char *value, void *ctx)
{
    (void)ctx;
    setenv(key, value, 0);
}

int envfile_apply(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *text = mem_alloc(ENVFILE_MAX_BYTES + 1);
    size_t len = fread(text, 1, ENVFILE_MAX_BYTES + 1, f);
    bool err = ferror(f);
    fclose(f);
    if (err || len > ENVFILE_MAX_BYTES) {
        fprintf(stderr, "error: %s: %s\n", path, err ? "cannot read it" : "larger than 64 KiB");
        free(text);
        return -1;
    }
    int bad = envfile_parse(text, len, set_default, NULL);
    free(text);
    if (bad) {
        fprintf(stderr, "error: %s:%d: expected AIENGINE_NAME=value\n", path, bad);
        return -1;
    }
    return 1;
}
