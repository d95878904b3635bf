/* fuzz_cursor.c — libFuzzer: client text through the real cursor decoder (cursor_decode),
 * with one, two and three sort keys. Whatever the decoder accepts must re-encode to a cursor
 * that decodes to the same values; and a cursor made from the input's bytes as values must
 * always decode back exactly (the encoder and decoder agree on every byte string). */
#include "cursor.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEY "fuzz-key-0123456789-0123456789-0123456789"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct arena a;
    if (!a.chunk_size) arena_init(&a, 64 * 1024);
    if (size > 8192) return 0;
    const char *text = (const char *)data;
    const char *vals[3];
    size_t lens[3];
    bool next;
    for (size_t n = 1; n <= 3; n++) {
        if (cursor_decode(&a, KEY, "ctx", 3, text, size, n, vals, lens, &next) == 0) {
            char *again = cursor_encode(&a, KEY, "ctx", 3, next, vals, lens, n);
            const char *v2[3];
            size_t l2[3];
            bool n2;
            if (cursor_decode(&a, KEY, "ctx", 3, again, strlen(again), n, v2, l2, &n2)) abort();
            for (size_t i = 0; i < n; i++)
                if (l2[i] != lens[i] || memcmp(v2[i], vals[i], lens[i])) abort();
        }
    }
    /* the input split in two as sort values (only valid UTF-8 ever comes from a row) */
    size_t half = size / 2;
    const char *in[2] = {text, text + half};
    size_t inl[2] = {half, size - half};
    bool utf8 = true;
    for (size_t i = 0; i < size && utf8; i++) utf8 = data[i] != 0 && data[i] < 0x80;
    if (utf8) {
        char *cur = cursor_encode(&a, KEY, text, size, true, in, inl, 2);
        if (strlen(cur) < 2 * (CURSOR_MAX_PAYLOAD - 64) / 3 * 2 &&
            cursor_decode(&a, KEY, text, size, cur, strlen(cur), 2, vals, lens, &next) == 0) {
            if (!next || lens[0] != inl[0] || lens[1] != inl[1] || memcmp(vals[0], in[0], inl[0]) ||
                memcmp(vals[1], in[1], inl[1]))
                abort();
        }
    }
    arena_reset(&a);
    return 0;
}
