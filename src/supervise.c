/* supervise.c — the pre-fork supervisor behind `aiengine serve`, generic over what the
 * children run. Signals are blocked and taken synchronously with sigtimedwait, so there is
 * no async-signal-safety puzzle. The children of the current generation live in `live`
 * (one slot each, restarted on schedule); every child told to stop — by a reload or a stop —
 * moves to `draining`, a list that grows as needed, so no pid is ever forgotten and each
 * one gets its SIGKILL when its drain time is up. Never touches a socket or the database. */
#include "supervise.h"
#include "arena.h"
#include "log.h"
#include "mono.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define QUICK_DEATH_MS 2000 /* a child dying sooner than this counts as a crash loop */
#define MIN_BACKOFF_MS 100
#define MAX_BACKOFF_MS 30000
#define MAX_WAIT_MS 1000

struct child {
    pid_t pid; /* 0: no process (a live slot waiting for its restart) */
    long long started_ms;
    long long restart_at_ms; /* live slot without a process: when to fork again */
    unsigned failures;       /* consecutive quick deaths */
    long long kill_at_ms;    /* draining: when SIGKILL is due; 0 once it was sent */
};

struct supervisor {
    const struct supervise_ops *ops;
    void *ctx;
    struct supervise_spec spec;
    struct child *live; /* spec.children slots of the current generation */
    int nlive;
    struct child *draining;
    size_t ndraining, draining_cap;
    bool stopping;
};

long long supervise_backoff_ms(unsigned failures)
{
    if (failures == 0) return 0;
    /* 100 << 9 already exceeds the cap: never shift further (a wider shift overflows) */
    if (failures > 9) return MAX_BACKOFF_MS;
    long long delay = (long long)MIN_BACKOFF_MS << (failures - 1);
    return delay > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : delay;
}

static void spawn(struct supervisor *sv, struct child *c)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_error("fork failed: %s", strerror(errno));
        c->pid = 0;
        c->restart_at_ms = mono_ms() + 1000;
        return;
    }
    if (pid == 0) {
        log_set_role(sv->ops->child_role);
        signal(SIGCHLD, SIG_DFL);
        _exit(sv->ops->child_main(sv->ctx));
    }
    c->pid = pid;
    c->restart_at_ms = 0;
    c->started_ms = mono_ms();
    if (sv->ops->child_started) sv->ops->child_started(sv->ctx);
}

static void start_generation(struct supervisor *sv)
{
    sv->ops->spec(sv->ctx, &sv->spec);
    if (sv->spec.children < 1) sv->spec.children = 1;
    sv->nlive = sv->spec.children;
    sv->live = mem_calloc((size_t)sv->nlive, sizeof *sv->live);
    for (int i = 0; i < sv->nlive; i++) spawn(sv, &sv->live[i]);
}

/* Tell a child to finish what it is doing and exit; it is killed if it takes longer than
 * drain_seconds. The live slot is emptied (the caller decides whether it is refilled). */
static void drain(struct supervisor *sv, struct child *c)
{
    if (c->pid <= 0) return;
    if (sv->ndraining == sv->draining_cap) {
        sv->draining_cap = sv->draining_cap ? 2 * sv->draining_cap : 16;
        sv->draining = mem_realloc(sv->draining, sv->draining_cap * sizeof *sv->draining);
    }
    struct child *d = &sv->draining[sv->ndraining++];
    *d = *c;
    d->kill_at_ms = mono_ms() + (long long)sv->spec.drain_seconds * 1000;
    kill(d->pid, SIGTERM);
    memset(c, 0, sizeof *c);
}

static int drain_generation(struct supervisor *sv)
{
    int n = 0;
    for (int i = 0; i < sv->nlive; i++)
        if (sv->live[i].pid > 0) {
            drain(sv, &sv->live[i]);
            n++;
        }
    free(sv->live);
    sv->live = NULL;
    sv->nlive = 0;
    return n;
}

/* A child of the current generation died: restart it, at once after a clean exit (it was
 * recycled) or a long life, later and later while it keeps dying right after starting. */
static void live_exited(struct supervisor *sv, struct child *c, int status)
{
    const char *role = sv->ops->child_role;
    pid_t pid = c->pid;
    long long lived = mono_ms() - c->started_ms;
    c->pid = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        c->failures = 0;
        c->restart_at_ms = 0;
        return;
    }
    if (lived >= QUICK_DEATH_MS)
        c->failures = 0;
    else if (c->failures < 64)
        c->failures++;
    long long delay = supervise_backoff_ms(c->failures);
    c->restart_at_ms = mono_ms() + delay;
    if (WIFSIGNALED(status))
        log_warn("%s %d killed by signal %d; restarting in %lld ms", role, (int)pid,
                 WTERMSIG(status), delay);
    else
        log_warn("%s %d exited with %d; restarting in %lld ms", role, (int)pid, WEXITSTATUS(status),
                 delay);
}

static void reap(struct supervisor *sv)
{
    pid_t pid;
    int status;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        bool found = false;
        if (sv->ops->child_exited) sv->ops->child_exited(sv->ctx, status);
        for (int i = 0; i < sv->nlive && !found; i++)
            if (sv->live[i].pid == pid) {
                live_exited(sv, &sv->live[i], status);
                found = true;
            }
        for (size_t i = 0; i < sv->ndraining && !found; i++)
            if (sv->draining[i].pid == pid) {
                log_info("%s %d exited", sv->ops->child_role, (int)pid);
                sv->draining[i] = sv->draining[--sv->ndraining];
                found = true;
            }
    }
}

/* Fork what is due and SIGKILL what overstayed; returns how long to wait for a signal. */
static long long tick(struct supervisor *sv)
{
    long long now = mono_ms(), wait = MAX_WAIT_MS;
    for (int i = 0; i < sv->nlive; i++) {
        struct child *c = &sv->live[i];
        if (c->pid > 0) continue;
        if (c->restart_at_ms <= now)
            spawn(sv, c);
        else if (c->restart_at_ms - now < wait)
            wait = c->restart_at_ms - now;
    }
    for (size_t i = 0; i < sv->ndraining; i++) {
        struct child *d = &sv->draining[i];
        if (!d->kill_at_ms) continue;
        if (d->kill_at_ms <= now) {
            log_warn("%s %d still running %d s after it was told to stop; killing it",
                     sv->ops->child_role, (int)d->pid, sv->spec.drain_seconds);
            kill(d->pid, SIGKILL);
            d->kill_at_ms = 0;
        } else if (d->kill_at_ms - now < wait) {
            wait = d->kill_at_ms - now;
        }
    }
    return wait < 1 ? 1 : wait;
}

static void reload(struct supervisor *sv)
{
    if (sv->ops->reload && sv->ops->reload(sv->ctx)) return;
    /* the old generation drains under the drain time it was started with */
    int old = drain_generation(sv);
    start_generation(sv);
    log_info("config reloaded: %d %ss started, %d draining", sv->nlive, sv->ops->child_role, old);
}

static void stop(struct supervisor *sv)
{
    log_info("stopping: draining %ss", sv->ops->child_role);
    sv->stopping = true;
    if (sv->ops->stopping) sv->ops->stopping(sv->ctx);
    drain_generation(sv);
}

int supervise_run(const struct supervise_ops *ops, void *ctx)
{
    struct supervisor sv = {.ops = ops, .ctx = ctx};
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    start_generation(&sv);
    while (!sv.stopping || sv.ndraining > 0) {
        long long wait_ms = tick(&sv);
        struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000};
        siginfo_t info;
        int sig = sigtimedwait(&set, &info, &ts);
        if (sig == SIGCHLD)
            reap(&sv);
        else if (sig == SIGHUP && !sv.stopping)
            reload(&sv);
        else if ((sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) && !sv.stopping)
            stop(&sv);
    }
    free(sv.live);
    free(sv.draining);
    return 0;
}
