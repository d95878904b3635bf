/* fcgiout.c — a FastCGI answer as records for writev (fcgiout.h), in the layout of
 * libfcgi's fastcgi.h. No padding: it is optional, and nginx and Apache's mod_proxy_fcgi
 * accept none. */
#include "fcgiout.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* the records go out as the bytes of these structs: no padding may sit between them */
_Static_assert(sizeof(FCGI_Header) == FCGI_HEADER_LEN, "FCGI_Header is 8 bytes");
_Static_assert(sizeof(((struct fcgiout *)0)->tail) == 2 * FCGI_HEADER_LEN + 8,
               "the end records are 24 contiguous bytes");

static void header(FCGI_Header *h, int type, int request_id, size_t content_len)
{
    *h = (FCGI_Header){
        .version = FCGI_VERSION_1,
        .type = (unsigned char)type,
        .requestIdB1 = (unsigned char)((request_id >> 8) & 0xff),
        .requestIdB0 = (unsigned char)(request_id & 0xff),
        .contentLengthB1 = (unsigned char)((content_len >> 8) & 0xff),
        .contentLengthB0 = (unsigned char)(content_len & 0xff),
    };
}

void fcgiout_init(struct fcgiout *o, int request_id, const struct iovec *seg, int nseg)
{
    memset(o, 0, sizeof *o);
    o->request_id = request_id;
    o->seg = seg;
    o->nseg = nseg;
}

static size_t bytes_left(const struct fcgiout *o)
{
    size_t n = 0;
    for (int i = o->si; i < o->nseg; i++) n += o->seg[i].iov_len;
    return n - o->off;
}

int fcgiout_next(struct fcgiout *o, struct iovec *iov, int cap)
{
    if (cap > FCGIOUT_BATCH) cap = FCGIOUT_BATCH;
    int n = 0, records = 0;
    /* a record needs its header and at least one piece; one entry stays for the end */
    while (records < FCGIOUT_BATCH / 2 && n + 2 <= cap - 1) {
        size_t left = bytes_left(o);
        if (!left) break;
        size_t len = left < FCGI_MAX_LENGTH ? left : FCGI_MAX_LENGTH;
        int h = n++;
        size_t framed = 0;
        while (framed < len && n < cap - 1) {
            const struct iovec *s = &o->seg[o->si];
            size_t avail = s->iov_len - o->off;
            if (!avail) {
                o->si++;
                o->off = 0;
                continue;
            }
            size_t take = avail < len - framed ? avail : len - framed;
            iov[n].iov_base = (char *)s->iov_base + o->off;
            iov[n].iov_len = take;
            n++;
            framed += take;
            o->off += take;
            if (o->off == s->iov_len) {
                o->si++;
                o->off = 0;
            }
        }
        /* out of entries mid-record: the record is shortened to what was framed */
        header(&o->hdr[records], FCGI_STDOUT, o->request_id, framed);
        iov[h].iov_base = &o->hdr[records];
        iov[h].iov_len = FCGI_HEADER_LEN;
        records++;
    }
    if (bytes_left(o) || o->ended) return n;
    /* everything framed: the end of the stream and of the request, if there is room */
    if (n + 1 > cap) return n;
    header(&o->tail.end_of_stdout, FCGI_STDOUT, o->request_id, 0);
    header(&o->tail.end_request.header, FCGI_END_REQUEST, o->request_id,
           sizeof o->tail.end_request.body);
    /* application status 0 */
    o->tail.end_request.body = (FCGI_EndRequestBody){.protocolStatus = FCGI_REQUEST_COMPLETE};
    iov[n].iov_base = &o->tail;
    iov[n].iov_len = sizeof o->tail;
    o->ended = true;
    return n + 1;
}

int fcgiout_write(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        size_t done = (size_t)w;
        while (n > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return 0;
}
