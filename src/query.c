/* query.c — split and percent-decode a query string into the request arena. */
#include "query.h"
#include "value.h"

#include <string.h>

static int decode(struct arena *a, const char *s, size_t n, const char **out, size_t *outlen)
{
    char *d = arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            d[k++] = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= n) return -1;
            int h = value_hex_digit(s[i + 1]), l = value_hex_digit(s[i + 2]);
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
                if (out->items[i].key_len == qp.key_len &&
                    !memcmp(out->items[i].key, qp.key, qp.key_len))
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
