/* mem.h — the one reaction to running out of memory: log a line and abort. The master then
 * starts a new worker, so no caller ever checks for NULL. Memory from these functions is
 * the caller's to free(); per-request memory comes from an arena (arena.h) instead. */
#ifndef AIENGINE_MEM_H
#define AIENGINE_MEM_H

#include <stddef.h>

void mem_oom_abort(void) __attribute__((noreturn));
/* malloc/calloc/realloc/strdup that never return NULL (sizes of 0 allocate 1 byte;
 * mem_strdup(NULL) is ""). */
void *mem_alloc(size_t n);
void *mem_calloc(size_t n, size_t m);
void *mem_realloc(void *p, size_t n);
char *mem_strdup(const char *s);

#endif
