/* test_fcgiout.c — unit tests for fcgiout.c: an answer of any size, split in any segments,
 * comes out as FastCGI STDOUT records of at most 65535 bytes that carry exactly its bytes in
 * order, then the empty STDOUT record and END_REQUEST (status 0, request complete), and
 * nothing after; a small iovec budget only means more batches; fcgiout_write resumes
 * after short writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fcgiout.h"

/* everything fcgiout hands out for one answer, batch after batch, as one byte string */
static unsigned char *frame_all(const struct iovec *seg, int nseg, int cap, size_t *len,
                                int *batches)
{
    struct fcgiout o;
    fcgiout_init(&o, 0x1234, seg, nseg);
    size_t total = 0, room = 1024;
    unsigned char *out = malloc(room);
    struct iovec iov[FCGIOUT_BATCH];
    int n;
    *batches = 0;
    while ((n = fcgiout_next(&o, iov, cap)) > 0) {
        assert_true(n <= cap);
        (*batches)++;
        for (int i = 0; i < n; i++) {
            while (total + iov[i].iov_len > room) out = realloc(out, room *= 2);
            memcpy(out + total, iov[i].iov_base, iov[i].iov_len);
            total += iov[i].iov_len;
        }
    }
    assert_int_equal(fcgiout_next(&o, iov, cap), 0); /* and stays done */
    *len = total;
    return out;
}

/* parses the records; checks the framing and that the content equals want */
static void check_records(const unsigned char *p, size_t len, const unsigned char *want,
                          size_t want_len)
{
    size_t at = 0, got = 0;
    for (;;) {
        assert_true(at + 8 <= len);
        const unsigned char *h = p + at;
        assert_int_equal(h[0], 1);                    /* version */
        assert_int_equal((h[2] << 8) | h[3], 0x1234); /* request id */
        size_t clen = ((size_t)h[4] << 8) | h[5];
        assert_int_equal(h[6], 0); /* no padding */
        at += 8;
        assert_true(at + clen <= len);
        if (h[1] == 6 && clen > 0) { /* FCGI_STDOUT content */
            assert_true(got + clen <= want_len);
            assert_memory_equal(p + at, want + got, clen);
            got += clen;
            at += clen;
            continue;
        }
        assert_int_equal(h[1], 6); /* the empty STDOUT record ends the stream */
        assert_int_equal(clen, 0);
        break;
    }
    assert_int_equal(got, want_len);
    assert_true(at + 16 == len); /* END_REQUEST and nothing after */
    const unsigned char *e = p + at;
    assert_int_equal(e[0], 1);
    assert_int_equal(e[1], 3);
    assert_int_equal((e[2] << 8) | e[3], 0x1234);
    assert_int_equal((e[4] << 8) | e[5], 8);
    static const unsigned char body[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(e + 8, body, 8); /* app status 0, FCGI_REQUEST_COMPLETE */
}

static void run_case(const size_t *sizes, int nseg, int cap, int max_batches)
{
    struct iovec seg[8];
    size_t want_len = 0;
    for (int i = 0; i < nseg; i++) want_len += sizes[i];
    unsigned char *want = malloc(want_len + 1);
    for (size_t i = 0; i < want_len; i++) want[i] = (unsigned char)(i * 7 + i / 251);
    size_t off = 0;
    for (int i = 0; i < nseg; i++) {
        seg[i].iov_base = want + off;
        seg[i].iov_len = sizes[i];
        off += sizes[i];
    }
    size_t len;
    int batches;
    unsigned char *out = frame_all(seg, nseg, cap, &len, &batches);
    check_records(out, len, want, want_len);
    if (max_batches) assert_true(batches <= max_batches);
    free(out);
    free(want);
}

static void test_small_answer_one_batch(void **state)
{
    (void)state;
    size_t s[] = {120, 0, 2, 900};
    run_case(s, 4, FCGIOUT_BATCH, 1);
    size_t only_head[] = {80, 0, 2, 0}; /* a 204: no body */
    run_case(only_head, 4, FCGIOUT_BATCH, 1);
}

static void test_record_boundaries(void **state)
{
    (void)state;
    size_t exact[] = {65535};
    run_case(exact, 1, FCGIOUT_BATCH, 1);
    size_t one_over[] = {65536};
    run_case(one_over, 1, FCGIOUT_BATCH, 1);
    size_t spanning[] = {100, 65500, 2, 200000};
    run_case(spanning, 4, FCGIOUT_BATCH, 1);
}

static void test_large_answer_many_batches(void **state)
{
    (void)state;
    size_t big[] = {150, 0, 2, 5u << 20}; /* 81 records: more than one batch holds */
    run_case(big, 4, FCGIOUT_BATCH, 0);
    size_t s[] = {120, 30, 2, 300000};
    run_case(s, 4, 4, 0); /* the smallest budget: one piece a record */
    run_case(s, 4, 5, 0);
}

static void test_empty_answer(void **state)
{
    (void)state;
    size_t none[] = {0, 0};
    run_case(none, 2, FCGIOUT_BATCH, 1);
    run_case(none, 0, FCGIOUT_BATCH, 1);
}

static volatile sig_atomic_t ticks;
static void on_tick(int sig)
{
    (void)sig;
    ticks++;
}

/* A blocking writev returns short only when a signal lands after part of it is written
 * (SA_RESTART does not restart a write that moved bytes). So the writer gets a signal
 * every millisecond while a slow reader drains a 4 KB socket buffer: writev is interrupted
 * part-way many times, and every byte must still arrive once, in order. */
static void test_write_resumes_after_short_writes(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    size_t n = 300000;
    unsigned char *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (unsigned char)(i % 253);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sv[1]);
        struct sigaction sa = {.sa_handler = on_tick, .sa_flags = SA_RESTART};
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval it = {.it_interval = {0, 1000}, .it_value = {0, 1000}};
        setitimer(ITIMER_REAL, &it, NULL);
        struct iovec iov[3] = {{data, 10}, {data + 10, 0}, {data + 10, n - 10}};
        int rc = fcgiout_write(sv[0], iov, 3);
        _exit(rc != 0 ? 1 : ticks == 0 ? 2 : 0);
    }
    close(sv[0]);
    unsigned char *got = malloc(n);
    size_t at = 0;
    ssize_t r;
    while ((r = read(sv[1], got + at, n - at < 4096 ? n - at : 4096)) > 0) {
        at += (size_t)r;
        usleep(200);
    }
    assert_int_equal(at, n);
    assert_memory_equal(got, data, n);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0); /* 2: no signal landed during the write */
    close(sv[1]);
    free(got);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_answer_one_batch),
        cmocka_unit_test(test_record_boundaries),
        cmocka_unit_test(test_large_answer_many_batches),
        cmocka_unit_test(test_empty_answer),
        cmocka_unit_test(test_write_resumes_after_short_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
