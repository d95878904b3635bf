/* etag.c — conditional requests (etag.h). The tag hashes the bytes the client receives, so
 * it changes exactly when the representation does (a field, an included row, the
 * serialisation) and needs no version column or per-resource code. The If-Match check
 * renders the locked row the way GET renders it, inside the write's transaction, so two
 * writers holding the same tag are serialised by the row lock and the second sees the
 * first's change. It must never read the database itself: the caller holds the lock. */
#include "etag.h"
#include "config.h"
#include "digest.h"
#include "eager.h"

#include <string.h>

void etag_of(const char *body, size_t n, char out[ETAG_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[DIGEST_SHA256_LEN];
    digest_sha256(body, n, md);
    out[0] = '"';
    for (size_t i = 0; i < 16; i++) {
        out[1 + 2 * i] = hex[md[i] >> 4];
        out[2 + 2 * i] = hex[md[i] & 15];
    }
    out[ETAG_LEN - 1] = '"';
    out[ETAG_LEN] = '\0';
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* "*" and nothing else but whitespace */
static bool is_star(const char *h)
{
    h = skip_ows(h);
    return *h == '*' && *skip_ows(h + 1) == '\0';
}

enum etag_match etag_header_matches(const char *header, const char *etag, bool weak)
{
    if (is_star(header)) return ETAG_MATCH;
    size_t elen = strlen(etag);
    bool any = false, matched = false;
    const char *p = header;
    for (;;) {
        p = skip_ows(p);
        if (*p == ',') { /* an empty list element, which RFC 9110 §5.6.1 tolerates */
            p++;
            continue;
        }
        if (*p == '\0') break;
        bool is_weak = p[0] == 'W' && p[1] == '/';
        if (is_weak) p += 2;
        if (*p != '"') return ETAG_MALFORMED;
        const char *start = p++;
        /* etagc = %x21 / %x23-7E / obs-text */
        for (; *p && *p != '"'; p++)
            if ((unsigned char)*p < 0x21 || (unsigned char)*p == 0x7f) return ETAG_MALFORMED;
        if (*p != '"') return ETAG_MALFORMED;
        p++;
        size_t n = (size_t)(p - start);
        any = true;
        if ((weak || !is_weak) && n == elen && !memcmp(start, etag, n)) matched = true;
        p = skip_ows(p);
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return ETAG_MALFORMED;
    }
    if (!any) return ETAG_MALFORMED;
    return matched ? ETAG_MATCH : ETAG_NO_MATCH;
}

/* Whether the answer is one record's representation: only those carry a tag. */
static bool single_record(const struct ctx *c)
{
    if (c->no_etag || c->out->overflow || !c->match.route) return false;
    switch (c->match.route->handler) {
    case HANDLER_SHOW:
    case HANDLER_UPDATE:
    case HANDLER_CANCEL_RUN:
    case HANDLER_RETRY_RUN: return c->status == 200;
    case HANDLER_STORE:
    case HANDLER_START_RUN: return c->status == 201;
    default: return false;
    }
}

int etag_respond(struct ctx *c)
{
    if (!single_record(c)) return 0;
    char tag[ETAG_LEN + 1];
    etag_of(c->out->data, c->out->len, tag);
    const char *inm = c->req->if_none_match;
    if (inm && c->match.route->handler == HANDLER_SHOW) {
        enum etag_match m = etag_header_matches(inm, tag, true);
        if (m == ETAG_MALFORMED)
            return req_fail(c, REQ_E_BAD_REQUEST,
                            "The If-None-Match header must be * or a comma-separated list of "
                            "entity tags such as \"abc\" or W/\"abc\".");
        if (m == ETAG_MATCH) {
            c->status = 304;
            buf_reset(c->out);
        }
    }
    buf_printf(c->headers, "ETag: %s\r\n", tag);
    return 0;
}

bool etag_needs_row(const struct ctx *c)
{
    return c->req->if_match && !is_star(c->req->if_match);
}

int etag_check_locked(struct ctx *c, const struct resource *r, const struct db_result *row)
{
    const char *im = c->req->if_match;
    if (!im) {
        if (!c->cfg->require_if_match) return 0;
        return req_fail(c, REQ_E_PRECONDITION_REQUIRED,
                        "This API requires conditional writes: send If-Match with the record's "
                        "ETag (or If-Match: * to require only that it exists).");
    }
    if (is_star(im)) return 0; /* the caller found the row: it exists */
    if (!row) return req_fail(c, REQ_E_INTERNAL, NULL);
    /* the current representation, rendered aside: c->out may already hold output */
    struct buf *saved = c->out;
    struct buf *scratch = buf_for_request(c->arena, c->cfg->max_response_bytes);
    c->out = scratch;
    int rc = eager_write_single(c, r, row, NULL);
    c->out = saved;
    if (rc) return -1;
    char tag[ETAG_LEN + 1];
    etag_of(scratch->data, scratch->len, tag);
    switch (etag_header_matches(im, tag, false)) {
    case ETAG_MATCH: return 0;
    case ETAG_MALFORMED:
        return req_fail(c, REQ_E_BAD_REQUEST,
                        "The If-Match header must be * or a comma-separated list of entity tags "
                        "such as \"abc\".");
    case ETAG_NO_MATCH: break;
    }
    return req_failf(c, REQ_E_PRECONDITION_FAILED,
                     "This %s has changed since that ETag was issued (If-Match does not match "
                     "%s); fetch it again and retry.",
                     r->singular_label, tag);
}
