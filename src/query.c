/* query.c — split and percent-decode a query string into the request arena. */
#include "query.h"

#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int decode(struct arena *a, const char *s, size_t n, const char **out, size_t *outlen)
{
    char *d = arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            d[k++] = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= n) return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return -1;
            d[k++] = (char)(h * 16 + l);
            i += 2;
        } else {
            d[k++] = s[i];
        }
    }
    d[k] = '\0';
    *out = d;
    *outlen = k;
    return 0;
}

int query_parse(struct arena *a, const char *qs, struct query *out)
{
    out->n = 0;
    if (!qs) return 0;
    const char *p = qs;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            struct query_param qp;
            if (decode(a, p, klen, &qp.key, &qp.key_len)) return -1;
            if (eq) {
                if (decode(a, eq + 1, len - klen - 1, &qp.value, &qp.len)) return -1;
            } else {
                qp.value = "";
                qp.len = 0;
            }
            size_t i;
            for (i = 0; i < out->n; i++)
                if (out->items[i].key_len == qp.key_len && !memcmp(out->items[i].key, qp.key, qp.key_len))
                    break;
            if (i == out->n) {
                if (out->n == QUERY_MAX_PARAMS) return -1;
                out->n++;
            }
            out->items[i] = qp;
        }
        if (!amp) break;
        p = amp + 1;
    }
    return 0;
}

const struct query_param *query_get(const struct query *q, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < q->n; i++)
        if (q->items[i].key_len == n && !memcmp(q->items[i].key, key, n)) return &q->items[i];
    return NULL;
}

bool query_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        if (c == 0) return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n) return false;
        for (size_t k = 1; k < len; k++) {
            if ((u[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (u[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}
