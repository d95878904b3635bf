/* estats.h — the engine's counters: a small file-backed shared segment that `aiengine work`
 * maps before forking its runners (steps by type and status, provider calls, tokens, cost,
 * runner starts) and that `aiengine serve` maps read-only at each scrape of GET /api/metrics.
 * The file is metrics.engine_file of aiengine.yaml (AIENGINE_ENGINE_METRICS).
 *
 * A counter is a named slot: "family{label=\"v\",…}" and a 64-bit atomic. A slot is claimed
 * with a compare-and-swap on its state (free → claiming → ready); its name is written by the
 * claimer and published with a release store. Nothing ever waits on another process: a
 * claimer that died mid-claim leaves one dead slot (skipped), and a counter that found no
 * room is dropped (counted in estats_dropped). Several `work` processes on one host may map
 * the same file and count together; the counters survive their restarts (the file does). */
#ifndef AIENGINE_ESTATS_H
#define AIENGINE_ESTATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESTATS_SLOTS 512
#define ESTATS_NAME 176

struct estats_slot {
    _Atomic uint32_t state; /* 0 free, 1 being claimed, 2 ready */
    uint32_t micros;        /* 1: the value is in millionths (cost) */
    char name[ESTATS_NAME];
    _Atomic uint64_t value;
};

struct estats_segment {
    uint64_t magic;
    uint32_t nslots, slot_size;
    _Atomic uint64_t dropped; /* adds that found no slot */
    struct estats_slot slots[ESTATS_SLOTS];
};

/* Map `path` read-write, creating it (0640) or re-initialising it when it is not a segment
 * of this layout. NULL path or any failure: a private anonymous segment (counting still
 * works for this process tree, nobody can read it) and *why is set. Never NULL. */
struct estats_segment *estats_open(const char *path, const char **why);
/* Map `path` read-only for one scrape; NULL when it does not exist or is not a segment. */
const struct estats_segment *estats_open_readonly(const char *path);
void estats_close(const struct estats_segment *seg);
/* Over caller memory (unit tests). */
void estats_init(struct estats_segment *seg);

/* Add `delta` to the counter named `name` (a full series: family and labels). */
void estats_add(struct estats_segment *seg, const char *name, bool micros, uint64_t delta);

/* Escape a label value for the text format (\\, \", \n) into out (always terminated). */
void estats_label(char *out, size_t n, const char *value);

#endif
