/* jsonraw.h — read a member of a JSON object body as the client wrote it.
 *
 * json-c clamps integers beyond 64 bits (123456789012345678901234567890 would come back as
 * 18446744073709551615), so JSON columns are stored from the request's own text instead
 * of json-c's re-serialisation: numbers, escapes and key order stay exactly as sent, and
 * only insignificant whitespace is dropped. Works on bodies json-c has already accepted. */
#ifndef AIENGINE_JSONRAW_H
#define AIENGINE_JSONRAW_H

#include <stddef.h>

/* Find the value of top-level member `key` (the last one, if repeated, as json-c keeps
 * the last) in the object `body`. Member names are compared after decoding escapes.
 * Returns 0 and sets *start and *len to the value's bytes, or -1 when absent or malformed. */
int jsonraw_member(const char *body, size_t n, const char *key, const char **start, size_t *len);

/* Copy JSON text without whitespace outside strings into out (needs n + 1 bytes); returns
 * the length written. */
size_t jsonraw_minify(const char *s, size_t n, char *out);

#endif
