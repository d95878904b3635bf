/* master.c — `aiengine serve`: binds the FastCGI socket and hands the supervision of its
 * workers to supervise.c, supplying what is FastCGI-specific: the worker's main, reloading
 * etc/ on SIGHUP, and removing the socket path when it stops. The master never touches the
 * database and never serves a request. */
#include "master.h"
#include "arena.h"
#include "log.h"
#include "stats.h"
#include "supervise.h"
#include "worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int master_listen(const char *address, int backlog, unsigned mode)
{
    if (!strchr(address, ':')) {
        struct stat st;
        if (stat(address, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(address);
    }
    int fd = FCGX_OpenSocket(address, backlog);
    if (fd < 0) return -1;
    /* nginx runs as another user: it reaches the socket through its group (the service's
     * Group=), never through "other" */
    if (!strchr(address, ':') && chmod(address, (mode_t)mode) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    /* workers wait in poll and accept without blocking (worker.c); every generation shares
     * this one open socket, so the flag is set once, here */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Remove our unix socket path, but only if it is still ours (a new master may already
 * have bound the same path). */
static void unlink_own_socket(const char *path, ino_t ino)
{
    struct stat st;
    if (!strchr(path, ':') && ino && stat(path, &st) == 0 && st.st_ino == ino) unlink(path);
}

struct master {
    const char *etc_dir;
    struct config *cfg;
    int fd;
    ino_t sock_ino;
    struct stats *stats; /* the pool's shared counters, mapped before the first fork */
};

static int master_child(void *ctx)
{
    const struct master *m = ctx;
    return worker_run(m->cfg, m->fd, m->stats);
}

static void master_spec(const void *ctx, struct supervise_spec *out)
{
    const struct master *m = ctx;
    out->children = m->cfg->workers;
    out->drain_seconds = m->cfg->shutdown_timeout;
}

/* SIGHUP: swap in a freshly compiled etc/, or keep the running one if it does not compile. */
static int master_reload(void *ctx)
{
    struct master *m = ctx;
    struct config_error err = {{0}};
    struct config *fresh = config_load(m->etc_dir, &err);
    if (!fresh) {
        log_error("reload refused, keeping the running config: %s", err.msg);
        return -1;
    }
    if (strcmp(fresh->listen, m->cfg->listen))
        log_warn("listen address changes need a restart; still on %s", m->cfg->listen);
    if (!*fresh->app_key) {
        free(fresh->app_key);
        fresh->app_key = mem_strdup(m->cfg->app_key);
    }
    free(fresh->listen);
    fresh->listen = mem_strdup(m->cfg->listen);
    config_free(m->cfg);
    m->cfg = fresh;
    /* same segment: counters and rate windows carry over; new paths get new slots */
    stats_bind(m->stats, m->cfg);
    return 0;
}

static void master_child_started(void *ctx)
{
    stats_worker_started(((struct master *)ctx)->stats);
}

static void master_child_exited(void *ctx, int status)
{
    stats_worker_exited(((struct master *)ctx)->stats, status);
}

/* No new connections from here on (nginx fails over to another pool); the ones already
 * queued are served by the draining workers, which still hold the listening socket. */
static void master_stopping(void *ctx)
{
    struct master *m = ctx;
    unlink_own_socket(m->cfg->listen, m->sock_ino);
}

int master_run(const char *etc_dir, struct config *cfg)
{
    log_set_role("master");
    int fd = master_listen(cfg->listen, cfg->backlog, cfg->socket_mode);
    if (fd < 0) {
        log_error("cannot listen on %s: %s", cfg->listen, strerror(errno));
        config_free(cfg);
        return 1;
    }
    struct stat st;
    struct master m = {.etc_dir = etc_dir, .cfg = cfg, .fd = fd, .stats = stats_new()};
    if (!m.stats) {
        log_error("cannot map the pool's shared memory: %s", strerror(errno));
        close(fd);
        config_free(cfg);
        return 1;
    }
    stats_bind(m.stats, cfg);
    if (!strchr(cfg->listen, ':') && stat(cfg->listen, &st) == 0) m.sock_ino = st.st_ino;
    static const struct supervise_ops ops = {
        .child_role = "worker",
        .child_main = master_child,
        .spec = master_spec,
        .reload = master_reload,
        .stopping = master_stopping,
        .child_started = master_child_started,
        .child_exited = master_child_exited,
    };
    log_info("listening on %s with %d workers", cfg->listen, cfg->workers);
    int rc = supervise_run(&ops, &m);
    close(fd);
    unlink_own_socket(m.cfg->listen, m.sock_ino);
    log_info("stopped");
    config_free(m.cfg);
    stats_free(m.stats);
    return rc;
}
