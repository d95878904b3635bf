/* mem.c — allocation that aborts on failure (see mem.h). */
#include "mem.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

void mem_oom_abort(void)
{
    log_error("out of memory, aborting worker");
    abort();
}

void *mem_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) mem_oom_abort();
    return p;
}

void *mem_calloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p) mem_oom_abort();
    return p;
}

void *mem_realloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) mem_oom_abort();
    return p;
}

char *mem_strdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p) mem_oom_abort();
    return p;
}
