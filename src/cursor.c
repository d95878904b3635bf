/* cursor.c — signed keyset cursors (see cursor.h). The decoder reads attacker-controlled
 * text: it checks the MAC before parsing anything, bounds every length, and is fuzzed
 * (tests/fuzz/fuzz_cursor.c) and unit-tested (tests/unit/test_cursor.c). */
#include "cursor.h"
#include "digest.h"
#include "log.h"

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <string.h>

#define MAC_BYTES 16

static void b64url(struct buf *out, const unsigned char *in, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n) v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        buf_putc(out, tbl[(v >> 18) & 63]);
        buf_putc(out, tbl[(v >> 12) & 63]);
        if (i + 1 < n) buf_putc(out, tbl[(v >> 6) & 63]);
        if (i + 2 < n) buf_putc(out, tbl[v & 63]);
    }
}

static int b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
    unsigned v = 0;
    int bits = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int d;
        if (ch >= 'A' && ch <= 'Z')
            d = ch - 'A';
        else if (ch >= 'a' && ch <= 'z')
            d = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9')
            d = ch - '0' + 52;
        else if (ch == '-')
            d = 62;
        else if (ch == '_')
            d = 63;
        else
            return -1;
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k == cap) return -1;
            out[k++] = (unsigned char)(v >> bits);
        }
    }
    *outlen = k;
    return 0;
}

/* HMAC-SHA256(key, payload "\n" context) */
static void mac(const char *key, const char *payload, size_t n, const char *context,
                size_t context_len, unsigned char out[DIGEST_SHA256_LEN])
{
    const struct digest_part parts[] = {{payload, n}, {"\n", 1}, {context, context_len}};
    digest_hmac_sha256(key, strlen(key), parts, 3, out);
}

char *cursor_encode(struct arena *a, const char *key, const char *context, size_t context_len,
                    bool next, const char *const *vals, const size_t *lens, size_t nvals)
{
    struct buf *p = buf_for_request(a, 0);
    buf_puts(p, next ? "{\"n\":true,\"k\":[" : "{\"n\":false,\"k\":[");
    for (size_t i = 0; i < nvals; i++) {
        if (i) buf_putc(p, ',');
        if (vals[i])
            buf_json_str(p, vals[i], lens[i]);
        else
            buf_puts(p, "null");
    }
    buf_puts(p, "]}");
    unsigned char m[DIGEST_SHA256_LEN];
    mac(key, p->data, p->len, context, context_len, m);
    struct buf *out = buf_for_request(a, 0);
    b64url(out, (const unsigned char *)p->data, p->len);
    buf_putc(out, '.');
    b64url(out, m, MAC_BYTES);
    return arena_strndup(a, out->data, out->len);
}

int cursor_decode(struct arena *a, const char *key, const char *context, size_t context_len,
                  const char *text, size_t n, size_t nvals, const char **vals, size_t *lens,
                  bool *next)
{
    const char *dot = memchr(text, '.', n);
    unsigned char payload[CURSOR_MAX_PAYLOAD + 1], got[64], want[DIGEST_SHA256_LEN];
    size_t plen, mlen;
    if (!dot || b64url_decode(text, (size_t)(dot - text), payload, CURSOR_MAX_PAYLOAD, &plen) ||
        b64url_decode(dot + 1, n - (size_t)(dot - text) - 1, got, sizeof got, &mlen) ||
        mlen != MAC_BYTES)
        return -1;
    mac(key, (const char *)payload, plen, context, context_len, want);
    if (CRYPTO_memcmp(got, want, MAC_BYTES)) return -1;
    payload[plen] = '\0';
    json_object *p = json_tokener_parse((const char *)payload);
    json_object *k, *nx;
    int rc = -1;
    if (p && json_object_object_get_ex(p, "k", &k) && json_object_object_get_ex(p, "n", &nx) &&
        json_object_is_type(k, json_type_array) && json_object_array_length(k) == nvals) {
        for (size_t i = 0; i < nvals; i++) {
            json_object *v = json_object_array_get_idx(k, i);
            if (!json_object_is_type(v, json_type_string)) goto out;
            lens[i] = (size_t)json_object_get_string_len(v);
            vals[i] = arena_strndup(a, json_object_get_string(v), lens[i]);
        }
        *next = json_object_get_boolean(nx);
        rc = 0;
    }
out:
    if (p) json_object_put(p);
    return rc;
}

void cursor_context_add(struct buf *ctxb, const char *s, size_t n)
{
    buf_printf(ctxb, "%zu:", n);
    buf_append(ctxb, s, n);
}
