/* jsonbody.c — the one place request bodies are judged as JSON: json-c's strict tokener,
 * then the checks json-c leaves out (RFC 8259 numbers and literals, unpaired surrogate
 * escapes, NUL in member names, container depth counted like MariaDB), and the scanner
 * that finds a member's own text so JSON columns are stored as the client wrote them.
 * It must never accept a body MariaDB's json_valid would refuse, nor answer with anything
 * but a reason a client can act on. */
#include "jsonbody.h"
#include "mem.h"
#include "value.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = value_hex_digit(p[i]);
        if (d < 0) return -1;
        v = v << 4 | d;
    }
    return v;
}

/* RFC 8259's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return false;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return false;
    }
    return i == n;
}

/* What json-c lets through but RFC 8259 and MariaDB do not: raw control characters in
 * strings, unpaired \uD800-\uDFFF escapes (json-c would store U+FFFD, not what the
 * client sent), number literals outside the grammar (1., .5, 01, +1), bare words other
 * than true/false/null (NaN, Infinity), and \u0000 inside a member name (json-c keys are
 * C strings: "name\u0000x" would silently become "name"). Returns a message or NULL.
 * Runs only on bodies json-c accepted, so the overall structure is sound. */
static const char *strict_scan(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"') {
            bool nul = false;
            for (i++; i < n && s[i] != '"'; i++) {
                ch = (unsigned char)s[i];
                if (ch < 0x20)
                    return "The request body is not valid JSON: a control character in a string "
                           "must be escaped.";
                if (ch != '\\' || i + 1 >= n) continue;
                if (s[i + 1] != 'u' || i + 5 >= n) {
                    i++;
                    continue;
                }
                int u = hex4(s + i + 2);
                nul |= u == 0;
                bool lone = u >= 0xdc00 && u <= 0xdfff;
                if (u >= 0xd800 && u <= 0xdbff) {
                    int lo =
                        i + 11 < n && s[i + 6] == '\\' && s[i + 7] == 'u' ? hex4(s + i + 8) : -1;
                    lone = lo < 0xdc00 || lo > 0xdfff;
                    if (!lone) i += 6;
                }
                if (lone)
                    return "The request body is not valid UTF-8: it has an unpaired \\u surrogate "
                           "escape.";
                i += 5;
            }
            if (nul) {
                size_t k = i + 1;
                while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r')) k++;
                if (k < n && s[k] == ':')
                    return "The request body has a member name containing \\u0000.";
            }
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            size_t k = i;
            while (k < n && strchr("+-.eE0123456789", s[k]) && s[k]) k++;
            if (!json_number_ok(s + i, k - i))
                return "The request body is not valid JSON: a malformed number.";
            i = k - 1;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
            size_t k = i;
            while (k < n && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z'))) k++;
            size_t len = k - i;
            if (!((len == 4 && !memcmp(s + i, "true", 4)) ||
                  (len == 5 && !memcmp(s + i, "false", 5)) ||
                  (len == 4 && !memcmp(s + i, "null", 4))))
                return "The request body is not valid JSON: only true, false and null are bare "
                       "words (no NaN or Infinity).";
            i = k - 1;
        }
    }
    return NULL;
}

/* What json-c's tree still hides: containers nested deeper than max_depth (json-c counts a scalar
 * inside the innermost container as a level too, so its own limit is set one higher and containers
 * are counted here, the way MariaDB's json_valid counts them). Returns a message or NULL. */
static const char *check_tree(json_object *o, int level, int max_depth)
{
    switch (json_object_get_type(o)) {
    case json_type_array:
        if (level > max_depth) return "";
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            const char *why = check_tree(json_object_array_get_idx(o, i), level + 1, max_depth);
            if (why) return why;
        }
        return NULL;
    case json_type_object: {
        if (level > max_depth) return "";
        json_object_object_foreach(o, key, val)
        {
            (void)key;
            const char *why = check_tree(val, level + 1, max_depth);
            if (why) return why;
        }
        return NULL;
    }
    default: return NULL;
    }
}

int jsonbody_parse(const char *body, size_t n, int max_depth, struct arena *a, json_object **out,
                   const char **why)
{
    *out = NULL;
    /* json-c's UTF-8 check lets overlong forms, surrogates and code points past U+10FFFF
     * through, which MariaDB would then refuse: validate strictly first */
    if (memchr(body, '\0', n)) {
        *why = "The request body is not valid JSON: it has a NUL byte.";
        return -1;
    }
    if (!value_utf8_valid(body, n)) {
        *why = "The request body is not valid UTF-8.";
        return -1;
    }
    /* json-c's depth also counts a scalar inside the innermost container; containers are
     * counted exactly by check_tree below */
    struct json_tokener *tok = json_tokener_new_ex(max_depth + 1);
    if (!tok) mem_oom_abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *obj = NULL;
    enum json_tokener_error jerr = json_tokener_error_parse_eof;
    if (n > 0) {
        obj = json_tokener_parse_ex(tok, body, (int)n);
        jerr = json_tokener_get_error(tok);
        if (jerr == json_tokener_continue) jerr = json_tokener_error_parse_eof;
    }
    size_t used = obj ? json_tokener_get_parse_end(tok) : 0;
    json_tokener_free(tok);
    const char *reason = NULL;
    if (!obj || jerr != json_tokener_success) {
        if (jerr == json_tokener_error_depth)
            reason = arena_printf(a, "The request body nests deeper than %d levels.", max_depth);
        else if (jerr == json_tokener_error_parse_utf8_string)
            reason = "The request body is not valid UTF-8.";
        else
            reason = arena_printf(a, "The request body is not valid JSON: %s.",
                                  n ? json_tokener_error_desc(jerr) : "it is empty");
    }
    for (size_t i = used; !reason && i < n; i++) {
        char ch = body[i];
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
            reason = "The request body is not valid JSON: unexpected data after the value.";
    }
    if (!reason && !json_object_is_type(obj, json_type_object))
        reason = "The request body must be a JSON object.";
    if (!reason) reason = strict_scan(body, n);
    if (!reason) {
        reason = check_tree(obj, 1, max_depth);
        if (reason)
            reason = arena_printf(a, "The request body nests deeper than %d levels.", max_depth);
    }
    if (reason) {
        if (obj) json_object_put(obj);
        *why = reason;
        return -1;
    }
    *out = obj;
    return 0;
}

/* ---- a member's own text ---- */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

/* s[i] is the opening quote; returns the index after the closing quote, or n. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

static size_t put_utf8(unsigned cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 63));
        o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 63));
    o[2] = (char)(0x80 | ((cp >> 6) & 63));
    o[3] = (char)(0x80 | (cp & 63));
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
                for (int d = 0; d < 4 && i < b; d++)
                    cp = cp << 4 | (unsigned)value_hex_digit(s[i++]);
                if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= b && s[i] == '\\' && s[i + 1] == 'u') {
                    unsigned lo = 0;
                    for (int d = 0; d < 4; d++)
                        lo = lo << 4 | (unsigned)value_hex_digit(s[i + 2 + d]);
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                }
                m = put_utf8(cp, buf);
            } else {
                buf[0] = e == 'n'   ? '\n'
                         : e == 't' ? '\t'
                         : e == 'r' ? '\r'
                         : e == 'b' ? '\b'
                         : e == 'f' ? '\f'
                                    : e;
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
            if (s[i] == '{' || s[i] == '[')
                depth++;
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

int jsonbody_member(const char *s, size_t n, const char *key, const char **start, size_t *len)
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

size_t jsonbody_minify(const char *s, size_t n, char *out)
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

bool jsonbody_value(const char *s, size_t n, json_object **out)
{
    *out = NULL;
    if (n == 0 || n > (size_t)INT32_MAX) return false;
    struct json_tokener *tok = json_tokener_new();
    if (!tok) mem_oom_abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *v = json_tokener_parse_ex(tok, s, (int)n);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    /* a top-level number, true, false or null that ends the text is not finished for json-c
     * until it sees what follows ("42" could go on): the end of the text is that terminator */
    if (e == json_tokener_continue && used == n) {
        v = json_tokener_parse_ex(tok, "", 1);
        e = json_tokener_get_error(tok);
    }
    json_tokener_free(tok);
    bool ok = e == json_tokener_success;
    for (size_t i = used; ok && i < n; i++)
        if (!isspace((unsigned char)s[i])) ok = false;
    if (!ok) {
        json_object_put(v);
        return false;
    }
    *out = v;
    return true;
}
