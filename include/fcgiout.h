/* fcgiout.h — a FastCGI answer framed as records for one writev, instead of libfcgi's
 * stream (which writes a record every time its 8 KB buffer fills: a 27 KB page left the
 * worker in four writes, and nginx read it in as many wake-ups).
 *
 * The answer is given as segments (status lines, extra headers, body) that the caller owns
 * and keeps alive until the last fcgiout_next; fcgiout only points into them and into its
 * own small header storage, copying no content. The records are FCGI_STDOUT records of at
 * most FCGI_MAX_LENGTH (65,535) bytes, then the empty FCGI_STDOUT that ends the stream and
 * FCGI_END_REQUEST (application status 0, request complete). Nothing here does I/O except
 * fcgiout_write. */
#ifndef AIENGINE_FCGIOUT_H
#define AIENGINE_FCGIOUT_H

#include <fastcgi.h> /* libfcgi's record layout: FCGI_Header, FCGI_EndRequestRecord */
#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#define FCGIOUT_BATCH 64 /* iovecs per fcgiout_next at most */

struct fcgiout {
    int request_id;
    const struct iovec *seg;
    int nseg;
    int si;     /* the segment holding the next byte not yet framed */
    size_t off; /* and its offset in it */
    bool ended; /* the end records have been handed out */
    FCGI_Header hdr[FCGIOUT_BATCH / 2];
    struct {
        FCGI_Header end_of_stdout;
        FCGI_EndRequestRecord end_request;
    } tail;
};

/* seg[0..nseg) is the answer's bytes in order; empty segments are allowed. */
void fcgiout_init(struct fcgiout *o, int request_id, const struct iovec *seg, int nseg);

/* Frames the next records into iov[0..cap) (cap at most FCGIOUT_BATCH, at least 4) and
 * returns the number of entries used; 0 once everything, end records included, has been
 * handed out. Entries point into the segments and into o, so o must not move between
 * this call and the write of what it returned. */
int fcgiout_next(struct fcgiout *o, struct iovec *iov, int cap);

/* writev until every byte of iov[0..n) is written (the entries are consumed). Returns 0,
 * or -1 with errno set. */
int fcgiout_write(int fd, struct iovec *iov, int n);

#endif
