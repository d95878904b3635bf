/* master.c — pre-fork supervisor. Signals are blocked and taken synchronously with
 * sigtimedwait, so there is no async-signal-safety puzzle: the loop reaps children,
 * restarts them on schedule, reloads on SIGHUP and drains on SIGTERM/SIGINT. The master
 * never touches the database and never serves a request. */
#include "master.h"
#include "log.h"
#include "worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_BACKOFF_MS 30000

struct slot {
    pid_t pid;
    unsigned generation;
    struct timespec started;
    long long restart_at_ms; /* when to fork again; 0 = now */
    unsigned failures;       /* consecutive quick crashes */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int master_listen(const char *address, int backlog)
{
    if (!strchr(address, ':')) {
        struct stat st;
        if (stat(address, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(address);
    }
    int fd = FCGX_OpenSocket(address, backlog);
    if (fd < 0) return -1;
    /* nginx runs as another user; access is governed by the socket's directory */
    if (!strchr(address, ':')) chmod(address, 0666);
    return fd;
}

static pid_t spawn(const struct config *cfg, int fd, struct slot *s, unsigned generation)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_error("fork failed: %s", strerror(errno));
        s->restart_at_ms = now_ms() + 1000;
        return -1;
    }
    if (pid == 0) {
        log_set_role("worker");
        signal(SIGCHLD, SIG_DFL);
        _exit(worker_run(cfg, fd));
    }
    s->pid = pid;
    s->generation = generation;
    s->restart_at_ms = 0;
    clock_gettime(CLOCK_MONOTONIC, &s->started);
    return pid;
}

static void signal_all(struct slot *slots, int n, int sig)
{
    for (int i = 0; i < n; i++)
        if (slots[i].pid > 0) kill(slots[i].pid, sig);
}

/* Remove our unix socket path, but only if it is still ours (a new master may already
 * have bound the same path). */
static void unlink_own_socket(const char *path, ino_t ino)
{
    struct stat st;
    if (!strchr(path, ':') && ino && stat(path, &st) == 0 && st.st_ino == ino) unlink(path);
}

int master_run(const char *etc_dir, struct config *cfg)
{
    log_set_role("master");
    int fd = master_listen(cfg->listen, cfg->backlog);
    if (fd < 0) {
        log_error("cannot listen on %s: %s", cfg->listen, strerror(errno));
        config_free(cfg);
        return 1;
    }
    struct stat sock_st;
    ino_t sock_ino = !strchr(cfg->listen, ':') && stat(cfg->listen, &sock_st) == 0 ? sock_st.st_ino : 0;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* slots for the current generation, plus old workers draining after a reload */
    int cap = 1024;
    struct slot *slots = calloc((size_t)cap, sizeof *slots);
    if (!slots) return 1;
    unsigned generation = 1;
    int nworkers = cfg->workers;
    for (int i = 0; i < nworkers; i++) spawn(cfg, fd, &slots[i], generation);
    log_info("listening on %s with %d workers", cfg->listen, nworkers);

    bool stopping = false;
    long long stop_deadline = 0;
    for (;;) {
        /* fork what is due */
        long long now = now_ms(), next_due = -1;
        if (!stopping)
            for (int i = 0; i < nworkers; i++) {
                struct slot *s = &slots[i];
                if (s->pid > 0) continue;
                if (s->restart_at_ms <= now) spawn(cfg, fd, s, generation);
                else if (next_due < 0 || s->restart_at_ms < next_due) next_due = s->restart_at_ms;
            }
        int alive = 0;
        for (int i = 0; i < cap; i++) alive += slots[i].pid > 0;
        if (stopping && alive == 0) break;
        if (stopping && now >= stop_deadline) {
            log_warn("shutdown timeout: killing %d workers", alive);
            signal_all(slots, cap, SIGKILL);
        }

        long long wait_ms = 1000;
        if (next_due >= 0 && next_due - now < wait_ms) wait_ms = next_due - now;
        if (wait_ms < 1) wait_ms = 1;
        struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000};
        siginfo_t info;
        int sig = sigtimedwait(&set, &info, &ts);
        if (sig < 0) continue;

        if (sig == SIGCHLD) {
            pid_t pid;
            int status;
            while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                for (int i = 0; i < cap; i++) {
                    struct slot *s = &slots[i];
                    if (s->pid != pid) continue;
                    s->pid = 0;
                    if (stopping || s->generation != generation || i >= nworkers) {
                        log_info("worker %d exited", (int)pid);
                        break;
                    }
                    struct timespec t;
                    clock_gettime(CLOCK_MONOTONIC, &t);
                    long long lived = (t.tv_sec - s->started.tv_sec) * 1000 +
                                      (t.tv_nsec - s->started.tv_nsec) / 1000000;
                    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
                    if (clean) {
                        s->failures = 0;
                        s->restart_at_ms = 0;
                    } else {
                        /* a worker that dies right after starting is probably going to
                         * die again: back off exponentially so a crash loop cannot spin */
                        s->failures = lived < 2000 ? s->failures + 1 : 0;
                        long long delay = s->failures ? 100LL << (s->failures - 1) : 0;
                        if (delay > MAX_BACKOFF_MS) delay = MAX_BACKOFF_MS;
                        s->restart_at_ms = now_ms() + delay;
                        if (WIFSIGNALED(status))
                            log_warn("worker %d killed by signal %d; restarting in %lld ms",
                                     (int)pid, WTERMSIG(status), delay);
                        else
                            log_warn("worker %d exited with %d; restarting in %lld ms", (int)pid,
                                     WEXITSTATUS(status), delay);
                    }
                    break;
                }
            }
        } else if (sig == SIGHUP && !stopping) {
            struct config_error err = {{0}};
            struct config *fresh = config_load(etc_dir, &err);
            if (!fresh) {
                log_error("reload refused, keeping the running config: %s", err.msg);
                continue;
            }
            if (strcmp(fresh->listen, cfg->listen))
                log_warn("listen address changes need a restart; still on %s", cfg->listen);
            if (!*fresh->app_key) {
                free(fresh->app_key);
                fresh->app_key = strdup(cfg->app_key);
            }
            /* move the running workers out of the live slots, start the new generation,
             * then ask the old one to finish its requests and exit */
            int moved = 0;
            for (int i = 0; i < nworkers; i++) {
                if (slots[i].pid <= 0) continue;
                for (int k = nworkers > fresh->workers ? nworkers : fresh->workers; k < cap; k++)
                    if (slots[k].pid <= 0) {
                        slots[k] = slots[i];
                        moved++;
                        break;
                    }
                memset(&slots[i], 0, sizeof slots[i]);
            }
            config_free(cfg);
            cfg = fresh;
            generation++;
            nworkers = cfg->workers;
            for (int i = 0; i < nworkers; i++) spawn(cfg, fd, &slots[i], generation);
            for (int i = nworkers; i < cap; i++)
                if (slots[i].pid > 0 && slots[i].generation != generation) kill(slots[i].pid, SIGTERM);
            log_info("config reloaded: %d workers started, %d draining", nworkers, moved);
        } else if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
            if (!stopping) {
                log_info("stopping: draining workers");
                /* no new connections from here on (nginx fails over to another pool);
                 * the ones already queued are served by the draining workers */
                unlink_own_socket(cfg->listen, sock_ino);
                stopping = true;
                stop_deadline = now_ms() + (long long)cfg->shutdown_timeout * 1000;
                signal_all(slots, cap, SIGTERM);
            }
        }
    }
    close(fd);
    unlink_own_socket(cfg->listen, sock_ino);
    log_info("stopped");
    config_free(cfg);
    free(slots);
    return 0;
}
