/* test_supervise.c — unit tests for supervise.c: the crash-loop back-off (capped, never
 * overflowing), and a real supervisor in a child process whose children ignore SIGTERM, so
 * that every child told to stop by a reload or a stop can only go by the SIGKILL at its
 * drain time. Reloads grow and shrink the generation (2 → 4 → 2 → 6 children), which is
 * what lost draining pids when live and draining children shared one slot table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "supervise.h"

static void test_backoff_doubles_then_caps(void **state)
{
    (void)state;
    assert_int_equal(supervise_backoff_ms(0), 0);
    assert_int_equal(supervise_backoff_ms(1), 100);
    assert_int_equal(supervise_backoff_ms(2), 200);
    assert_int_equal(supervise_backoff_ms(3), 400);
    assert_int_equal(supervise_backoff_ms(9), 25600);
    assert_int_equal(supervise_backoff_ms(10), 30000);
}

static void test_backoff_never_overflows(void **state)
{
    (void)state;
    /* 100LL << 56 and beyond overflowed: negative, then 0 — a crash loop that spins */
    long long prev = 0;
    for (unsigned f = 0; f < 300; f++) {
        long long d = supervise_backoff_ms(f);
        if (d < prev || d > 30000) fail_msg("backoff(%u) = %lld after %lld", f, d, prev);
        prev = d;
    }
    unsigned big[] = {56, 57, 58, 63, 64, 65, 1000, UINT_MAX};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        assert_int_equal(supervise_backoff_ms(big[i]), 30000);
}

/* ---- a supervisor whose children never leave by themselves ---- */

static int report_fd = -1;
static const int generations[] = {2, 4, 2, 6};
static int generation;

static int stubborn_child(void *ctx)
{
    (void)ctx;
    signal(SIGTERM, SIG_IGN); /* a worker stuck in a request: only SIGKILL ends it */
    pid_t me = getpid();
    if (write(report_fd, &me, sizeof me) != sizeof me) return 1;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (;;) pause();
}

static void stubborn_spec(const void *ctx, struct supervise_spec *out)
{
    (void)ctx;
    out->children = generations[generation];
    out->drain_seconds = 1;
}

static int stubborn_reload(void *ctx)
{
    (void)ctx;
    generation++;
    return 0;
}

/* Read n pids from the children's pipe (each child writes its own on start). */
static void read_pids(int fd, pid_t *out, int n)
{
    for (int i = 0; i < n; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 20000) != 1) fail_msg("child %d of %d never started", i + 1, n);
        assert_int_equal(read(fd, &out[i], sizeof out[i]), sizeof out[i]);
    }
}

static bool gone(pid_t pid)
{
    return kill(pid, 0) < 0 && errno == ESRCH;
}

static bool wait_gone(const pid_t *pids, int n, int seconds)
{
    for (int t = 0; t < seconds * 20; t++) {
        bool all = true;
        for (int i = 0; i < n; i++) all = all && gone(pids[i]);
        if (all) return true;
        usleep(50000);
    }
    return false;
}

static void test_reloads_never_lose_a_draining_child(void **state)
{
    (void)state;
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    log_set_quiet(1);
    pid_t sup = fork();
    assert_true(sup >= 0);
    if (sup == 0) {
        close(pipefd[0]);
        report_fd = pipefd[1];
        static const struct supervise_ops ops = {
            .child_role = "stubborn",
            .child_main = stubborn_child,
            .spec = stubborn_spec,
            .reload = stubborn_reload,
        };
        _exit(supervise_run(&ops, NULL));
    }
    close(pipefd[1]);
    pid_t pids[14];
    int at = 0;
    for (int g = 0; g < 4; g++) {
        if (g) kill(sup, SIGHUP); /* one at a time: a second SIGHUP could merge with the first */
        read_pids(pipefd[0], pids + at, generations[g]);
        at += generations[g];
    }
    /* generations 1-3 (8 children) were told to stop and ignore it: each must be killed at
     * its drain time (1 s) while the supervisor keeps running */
    if (!wait_gone(pids, 8, 15)) {
        for (int i = 0; i < 8; i++)
            if (!gone(pids[i])) print_error("pid %d of an old generation still alive\n", (int)pids[i]);
        kill(sup, SIGKILL);
        for (int i = 0; i < 14; i++) kill(pids[i], SIGKILL);
        waitpid(sup, NULL, 0);
        fail_msg("a draining child was never killed");
    }
    for (int i = 8; i < 14; i++) assert_false(gone(pids[i]));
    int status;
    assert_int_equal(waitpid(sup, &status, WNOHANG), 0);
    /* stop: the current generation ignores SIGTERM too, is killed after 1 s, and the
     * supervisor exits 0 */
    kill(sup, SIGTERM);
    int waited = 0;
    while (waitpid(sup, &status, WNOHANG) == 0 && waited < 300) {
        usleep(50000);
        waited++;
    }
    if (waited >= 300) {
        kill(sup, SIGKILL);
        for (int i = 0; i < 14; i++) kill(pids[i], SIGKILL);
        waitpid(sup, NULL, 0);
        fail_msg("the supervisor did not exit 15 s after SIGTERM");
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(wait_gone(pids + 8, 6, 5));
    close(pipefd[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_then_caps),
        cmocka_unit_test(test_backoff_never_overflows),
        cmocka_unit_test(test_reloads_never_lose_a_draining_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
