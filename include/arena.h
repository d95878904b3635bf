/* arena.h — per-request bump allocator.
 *
 * Every request gets one arena; whatever a handler allocates from it lives until
 * arena_reset() at the end of the request, so handlers never free piece by piece and a
 * worker cannot leak across requests. Allocation failure aborts the process (the master
 * starts a new worker), so callers never check for NULL. */
#ifndef AIENGINE_ARENA_H
#define AIENGINE_ARENA_H

#include <stddef.h>

#include "mem.h"

struct arena_chunk;
struct arena_cleanup;

struct arena {
    struct arena_chunk *head;       /* chunk being filled; older chunks follow */
    size_t chunk_size;              /* default size of a new chunk */
    struct arena_cleanup *cleanups; /* run by arena_reset/arena_free, newest first */
};

void arena_init(struct arena *a, size_t chunk_size);
/* Memory aligned for any type, valid until arena_reset/arena_free. Never NULL. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_calloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run fn(ptr) when the arena is next reset or freed: how a library object made for one
 * request (a json-c tree, a malloc'd buffer) is released with the request, never by hand. */
void arena_on_reset(struct arena *a, void (*fn)(void *), void *ptr);
/* Runs the cleanups, then frees all but the first chunk, which is kept for the next request. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
