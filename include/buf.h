/* buf.h — a growable byte buffer with a hard cap, for JSON and SQL text.
 *
 * Growing past `limit` does not realloc: the buffer latches `overflow` and ignores further
 * appends, and the caller turns that into an error once, at the end. A buffer is owned by
 * whoever called buf_init and is freed with buf_free; buf_reset keeps the memory. */
#ifndef AIENGINE_BUF_H
#define AIENGINE_BUF_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct buf {
    char *data; /* always NUL-terminated when len > 0 or after buf_init */
    size_t len;
    size_t cap;
    size_t limit; /* maximum len; 0 means SIZE_MAX */
    bool overflow;
};

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* A buffer that lives as long as the request: initialised now, freed by the arena's
 * cleanup at reset (never by the caller). */
struct buf *buf_for_request(struct arena *a, size_t limit);
/* Appends that fit the current capacity are inline: a response is written in many small
 * pieces (a 50-row page: a few thousand), and the call per piece showed in profiles.
 * buf_append_slow grows the buffer or latches overflow. */
void buf_append_slow(struct buf *b, const char *s, size_t n);

static inline void buf_append(struct buf *b, const char *s, size_t n)
{
    if (!b->overflow && n < b->cap - b->len && n <= b->limit - b->len) {
        if (n) memcpy(b->data + b->len, s, n); /* s may be NULL when n is 0 */
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    buf_append_slow(b, s, n);
}

static inline void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

static inline void buf_putc(struct buf *b, char c)
{
    buf_append(b, &c, 1);
}
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON helpers. buf_json_str writes a quoted, escaped string. Invalid UTF-8 (possible
 * only in messages that quote raw client input) becomes U+FFFD, so a response is always
 * valid UTF-8. U+2028/U+2029 are escaped so the output is also safe to embed in JavaScript. */
void buf_json_str(struct buf *b, const char *s, size_t n);
void buf_json_cstr(struct buf *b, const char *s);
/* The inside of a JSON string (escaped, without the quotes), for strings written in parts. */
void buf_json_chars(struct buf *b, const char *s, size_t n);
/* Percent-encodes for a URL query component (RFC 3986 unreserved kept). */
void buf_url_encode(struct buf *b, const char *s, size_t n);

#endif
