/* fuzz_etag.c — libFuzzer: an If-Match / If-None-Match field value through
 * etag_header_matches, the parser every conditional request meets. Whatever the bytes, it
 * must answer one of its three values; a strong match must also be a weak one; and a header
 * that matches strongly must still match with the tag appended to its list. */
#include "etag.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *h = malloc(size + ETAG_LEN + 4);
    memcpy(h, data, size);
    h[size] = '\0';
    char tag[ETAG_LEN + 1];
    etag_of((const char *)data, size, tag);
    enum etag_match strong = etag_header_matches(h, tag, false);
    enum etag_match weak = etag_header_matches(h, tag, true);
    if (strong > ETAG_MALFORMED || weak > ETAG_MALFORMED) abort();
    if ((strong == ETAG_MALFORMED) != (weak == ETAG_MALFORMED)) abort();
    if (strong == ETAG_MATCH && weak != ETAG_MATCH) abort();
    if (strlen(h) == size && strong == ETAG_NO_MATCH) {
        /* a well-formed list with the tag appended matches it */
        memcpy(h + size, ",", 1);
        memcpy(h + size + 1, tag, ETAG_LEN + 1);
        if (etag_header_matches(h, tag, false) != ETAG_MATCH) abort();
    }
    free(h);
    return 0;
}
