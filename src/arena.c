/* arena.c — per-request bump allocator with cleanup hooks for library objects. Must never
 * hand memory (or an un-run cleanup) from one request to the next. */
#include "arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    struct arena_chunk *next;
    size_t size, used;
    _Alignas(max_align_t) unsigned char data[];
};

void arena_init(struct arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->cleanups = NULL;
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
}

void *arena_alloc(struct arena *a, size_t n)
{
    const size_t align = _Alignof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    if (n == 0) n = align;
    struct arena_chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > a->chunk_size ? n : a->chunk_size;
        c = mem_alloc(sizeof *c + size);
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

void *arena_calloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

struct arena_cleanup {
    struct arena_cleanup *next;
    void (*fn)(void *);
    void *ptr;
};

void arena_on_reset(struct arena *a, void (*fn)(void *), void *ptr)
{
    /* the record lives in the arena itself: it is released with the memory it guards */
    struct arena_cleanup *cl = arena_alloc(a, sizeof *cl);
    cl->fn = fn;
    cl->ptr = ptr;
    cl->next = a->cleanups;
    a->cleanups = cl;
}

/* Newest first, like nginx's pool cleanups: a later object may refer to an earlier one. */
static void run_cleanups(struct arena *a)
{
    while (a->cleanups) {
        struct arena_cleanup *cl = a->cleanups;
        a->cleanups = cl->next;
        cl->fn(cl->ptr);
    }
}

void arena_reset(struct arena *a)
{
    run_cleanups(a);
    struct arena_chunk *c = a->head;
    if (!c) return;
    /* keep the oldest chunk of default size; it is the one almost every request fits in */
    struct arena_chunk *keep = NULL;
    while (c) {
        struct arena_chunk *next = c->next;
        if (!next && c->size == a->chunk_size) {
            keep = c;
        } else {
            free(c);
        }
        c = next;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
}

void arena_free(struct arena *a)
{
    run_cleanups(a);
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}
