/* supervise.h — a pre-fork supervisor that knows nothing about FastCGI: it keeps N children
 * running a "child main", restarts the ones that die (with back-off against crash loops),
 * starts a new generation on SIGHUP while the old one drains, and stops on
 * SIGTERM/SIGINT/SIGQUIT. Every child told to stop (by a reload or a stop) is SIGKILLed if it
 * has not exited within drain_seconds. `aiengine serve` (master.c) and any other
 * long-running command that wants a pool of processes use it. */
#ifndef AIENGINE_SUPERVISE_H
#define AIENGINE_SUPERVISE_H

/* What the supervisor should run right now; read at start and after every reload. */
struct supervise_spec {
    int children;      /* how many children the current generation has (>= 1) */
    int drain_seconds; /* how long a child told to stop may take before SIGKILL */
};

struct supervise_ops {
    const char *child_role; /* the children's log role, e.g. "worker" */
    /* Runs in a freshly forked child, SIGCHLD back to its default action and the master's
     * mask still in place (SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT blocked): the child
     * installs its handlers and unblocks what it wants to receive, and when (the FastCGI
     * worker only while it waits for a connection). Its return value is the child's exit
     * status. */
    int (*child_main)(void *ctx);
    void (*spec)(const void *ctx, struct supervise_spec *out);
    /* SIGHUP: update ctx in place and return 0 to start a new generation, or return -1 to
     * keep the running one (the hook logs why). NULL: SIGHUP restarts the children as
     * they are. */
    int (*reload)(void *ctx);
    /* The first SIGTERM/SIGINT/SIGQUIT, before the children are told (e.g. stop taking
     * new work). May be NULL. */
    void (*stopping)(void *ctx);
    /* A child was forked / was reaped with wait(2)'s status (metrics). May be NULL. */
    void (*child_started)(void *ctx);
    void (*child_exited)(void *ctx, int status);
};

/* Supervise until a stop signal and every child has exited; returns the exit code (0).
 * Blocks SIGCHLD, SIGHUP, SIGTERM, SIGINT and SIGQUIT in the calling process and ignores
 * SIGPIPE. ctx stays the caller's. */
int supervise_run(const struct supervise_ops *ops, void *ctx);

/* The restart delay after `failures` consecutive quick deaths (a child that dies within
 * 2 s of starting): 0 for none, 100 ms doubling per failure, never more than 30 s. */
long long supervise_backoff_ms(unsigned failures);

#endif
