/* jsonraw.c — locate a top-level member's value in a JSON body by scanning its text, so a
 * JSON column can be stored exactly as the client wrote it (see jsonraw.h). The input has
 * already passed json-c's strict parse, so the scanner only needs to track strings and
 * nesting, not re-validate. */
#include "jsonraw.h"

#include <stdbool.h>
#include <string.h>

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

/* s[i] is the opening quote; returns the index after the closing quote, or n. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\') i++;
        else if (s[i] == '"') return i + 1;
    }
    return n;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(unsigned cp, char *o)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 63));
        o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 63));
    o[2] = (char)(0x80 | ((cp >> 6) & 63)); o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* Whether the string token s[a..b) (quotes included) decodes to key. */
static bool key_equals(const char *s, size_t a, size_t b, const char *key)
{
    size_t klen = strlen(key), k = 0;
    for (size_t i = a + 1; i + 1 < b;) {
        char buf[8];
        size_t m;
        if (s[i] != '\\') {
            buf[0] = s[i++];
            m = 1;
        } else {
            char e = s[i + 1];
            i += 2;
            if (e == 'u') {
                unsigned cp = 0;
                for (int d = 0; d < 4 && i < b; d++) cp = cp << 4 | (unsigned)hexval(s[i++]);
                if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= b && s[i] == '\\' && s[i + 1] == 'u') {
                    unsigned lo = 0;
                    for (int d = 0; d < 4; d++) lo = lo << 4 | (unsigned)hexval(s[i + 2 + d]);
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                }
                m = put_utf8(cp, buf);
            } else {
                buf[0] = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b'
                       : e == 'f' ? '\f' : e;
                m = 1;
            }
        }
        if (k + m > klen || memcmp(key + k, buf, m)) return false;
        k += m;
    }
    return k == klen;
}

/* s[i] starts a value; returns the index just after it. */
static size_t skip_value(const char *s, size_t n, size_t i)
{
    if (i >= n) return n;
    if (s[i] == '"') return skip_string(s, n, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < n) {
            if (s[i] == '"') {
                i = skip_string(s, n, i);
                continue;
            }
            if (s[i] == '{' || s[i] == '[') depth++;
            else if (s[i] == '}' || s[i] == ']') {
                if (--depth == 0) return i + 1;
            }
            i++;
        }
        return n;
    }
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
           s[i] != '\n' && s[i] != '\r')
        i++;
    return i;
}

int jsonraw_member(const char *s, size_t n, const char *key, const char **start, size_t *len)
{
    size_t i = skip_ws(s, n, 0);
    int found = -1;
    if (i >= n || s[i] != '{') return -1;
    i = skip_ws(s, n, i + 1);
    while (i < n && s[i] == '"') {
        size_t ks = i;
        i = skip_string(s, n, i);
        size_t ke = i;
        i = skip_ws(s, n, i);
        if (i >= n || s[i] != ':') return -1;
        i = skip_ws(s, n, i + 1);
        size_t vs = i;
        i = skip_value(s, n, i);
        if (key_equals(s, ks, ke, key)) {
            *start = s + vs;
            *len = i - vs;
            found = 0;
        }
        i = skip_ws(s, n, i);
        if (i < n && s[i] == ',') i = skip_ws(s, n, i + 1);
    }
    return found;
}

size_t jsonraw_minify(const char *s, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '"') {
            size_t e = skip_string(s, n, i);
            memcpy(out + k, s + i, e - i);
            k += e - i;
            i = e;
        } else if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
            i++;
        } else {
            out[k++] = s[i++];
        }
    }
    out[k] = '\0';
    return k;
}
