/* estats.c — the engine's file-backed counters (estats.h). Lock-free: CAS to claim a slot,
 * atomic adds to count. The file is sized once and never shrinks; the layout is checked by
 * its magic and sizes, so a stale or foreign file is re-initialised rather than misread. */
#include "estats.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ESTATS_MAGIC 0x61696573746174ULL /* "aiestat" */
#define CLAIM_SPINS 1000

void estats_init(struct estats_segment *seg)
{
    memset(seg, 0, sizeof *seg);
    seg->nslots = ESTATS_SLOTS;
    seg->slot_size = sizeof(struct estats_slot);
    seg->magic = ESTATS_MAGIC;
}

static bool valid(const struct estats_segment *seg)
{
    return seg->magic == ESTATS_MAGIC && seg->nslots == ESTATS_SLOTS &&
           seg->slot_size == sizeof(struct estats_slot);
}

static struct estats_segment *anonymous(void)
{
    void *p = mmap(NULL, sizeof(struct estats_segment), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    estats_init(p);
    return p;
}

struct estats_segment *estats_open(const char *path, const char **why)
{
    *why = NULL;
    int fd = path && *path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640) : -1;
    if (fd < 0) {
        *why = path && *path ? "cannot open the engine metrics file" : "no engine metrics file";
        return anonymous();
    }
    /* masters of several `work` processes may start together: one initialises at a time
     * (flock goes with its holder if it dies) */
    flock(fd, LOCK_EX);
    struct stat st;
    struct estats_segment *seg = MAP_FAILED;
    if (fstat(fd, &st) == 0 &&
        ((size_t)st.st_size == sizeof *seg || ftruncate(fd, (off_t)sizeof *seg) == 0))
        seg = mmap(NULL, sizeof *seg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (seg != MAP_FAILED && !valid(seg)) estats_init(seg);
    flock(fd, LOCK_UN);
    close(fd);
    if (seg == MAP_FAILED) {
        *why = "cannot map the engine metrics file";
        return anonymous();
    }
    return seg;
}

const struct estats_segment *estats_open_readonly(const char *path)
{
    int fd = path && *path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0) return NULL;
    struct stat st;
    void *p = MAP_FAILED;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size == sizeof(struct estats_segment))
        p = mmap(NULL, sizeof(struct estats_segment), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return NULL;
    if (!valid(p)) {
        munmap(p, sizeof(struct estats_segment));
        return NULL;
    }
    return p;
}

void estats_close(const struct estats_segment *seg)
{
    if (seg) munmap((void *)seg, sizeof *seg);
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

void estats_add(struct estats_segment *seg, const char *name, bool micros, uint64_t delta)
{
    if (!seg || strlen(name) >= ESTATS_NAME) return;
    uint32_t h = hash(name);
    for (uint32_t i = 0; i < ESTATS_SLOTS; i++) {
        struct estats_slot *s = &seg->slots[(h + i) % ESTATS_SLOTS];
        uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == 0) {
            uint32_t expect = 0;
            if (atomic_compare_exchange_strong(&s->state, &expect, 1)) {
                snprintf(s->name, sizeof s->name, "%s", name);
                s->micros = micros;
                atomic_store_explicit(&s->value, delta, memory_order_relaxed);
                atomic_store_explicit(&s->state, 2, memory_order_release);
                return;
            }
            st = expect;
        }
        /* someone is writing this slot's name: it is two stores away, unless its writer
         * died — then give up on the slot after a bounded wait */
        for (int spin = 0; st == 1 && spin < CLAIM_SPINS; spin++)
            st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == 2 && !strcmp(s->name, name)) {
            atomic_fetch_add_explicit(&s->value, delta, memory_order_relaxed);
            return;
        }
    }
    atomic_fetch_add_explicit(&seg->dropped, 1, memory_order_relaxed);
}

void estats_label(char *out, size_t n, const char *value)
{
    if (!n) return;
    size_t o = 0;
    for (const char *p = value ? value : ""; *p && o + 3 < n; p++) {
        if (*p == '\\' || *p == '"')
            out[o++] = '\\', out[o++] = *p;
        else if (*p == '\n')
            out[o++] = '\\', out[o++] = 'n';
        else
            out[o++] = *p;
    }
    out[o] = '\0';
}
