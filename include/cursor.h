/* cursor.h — opaque, signed keyset cursors: encode, decode and verify.
 *
 * A cursor is base64url(payload) "." base64url(mac). The payload is JSON,
 * {"n":<walking forward>,"k":[<sort-key values of the boundary row>]}; the MAC is
 * HMAC-SHA256 with the app key over the payload and the listing's context (which listing,
 * sort and filters the cursor belongs to), truncated to 128 bits. A cursor is client text:
 * decoding refuses anything that is not exactly what cursor_encode would write for this key
 * and context. Everything returned lives in the arena. This module knows no SQL and no HTTP. */
#ifndef AIENGINE_CURSOR_H
#define AIENGINE_CURSOR_H

#include "arena.h"
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Payloads longer than this are refused before any work is done on them. */
#define CURSOR_MAX_PAYLOAD 2047

/* The cursor for the boundary row whose sort-key values are vals[i] (lens[i] bytes; NULL for
 * SQL NULL). Returns NUL-terminated text in `a`. */
char *cursor_encode(struct arena *a, const char *key, const char *context, size_t context_len,
                    bool next, const char *const *vals, const size_t *lens, size_t nvals);

/* Verify and decode text[0..n). On success returns 0, fills vals/lens (arena copies,
 * NUL-terminated) and *next. Returns -1 when the text is malformed, its MAC does not match
 * this key and context, or it does not carry exactly nvals string values. */
int cursor_decode(struct arena *a, const char *key, const char *context, size_t context_len,
                  const char *text, size_t n, size_t nvals, const char **vals, size_t *lens,
                  bool *next);

/* Append one part of a listing's context, length-prefixed ("<bytes>:<text>") so that no
 * value can imitate a separator: the pieces decode one way only. */
void cursor_context_add(struct buf *ctxb, const char *s, size_t n);

#endif
