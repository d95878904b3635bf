/* worker.c — the FastCGI accept loop. Reads one request (bounded body), runs app_handle,
 * writes the response, resets the arena. The only place that speaks libfcgi.
 *
 * The worker accepts connections itself and hands each one to libfcgi (see
 * start_request), so that it can bound how long a FastCGI client may take: reading the
 * request and writing the response each get server.request_timeout seconds, after which
 * a timer shuts the connection down. Stop signals are blocked except while the worker
 * waits for a connection, so no signal ever interrupts a request's I/O. */
#include "worker.h"
#include "app.h"
#include "auth.h"
#include "buf.h"
#include "config.h"
#include "countcache.h"
#include "db.h"
#include "fcgiout.h"
#include "log.h"
#include "mono.h"
#include "stats.h"

#include <errno.h>
#include <fcgiapp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t worker_stop;
static volatile sig_atomic_t conn_fd = -1; /* the connection being served */
static volatile sig_atomic_t deadline_hit;

static void on_stop(int sig)
{
    (void)sig;
    worker_stop = 1;
}

/* The request's deadlines, without a system call per phase. A request arms a deadline
 * twice (reading it, writing the answer) and disarms it twice; four setitimer calls were
 * 8 % of a worker's CPU on a 50-row page (perf, 2026-12-02), more on a GET by id. Now a
 * phase's deadline is a number in memory, and one POSIX timer on the monotonic clock is
 * moved only when it would fire too late: when it fires early (the phase it was set for
 * has ended, and another is running), on_deadline sets it again for the current one; when
 * no phase runs, it just lapses. Under steady load the timer is set about once per
 * server.request_timeout. Both variables are lock-free atomics: the handler interrupts
 * this single-threaded process, and lock-free atomics are async-signal-safe (C11 7.14.1.1),
 * as are mono_ms (clock_gettime), timer_settime and shutdown. */
static timer_t deadline_timer;
static _Atomic long long deadline_at; /* CLOCK_MONOTONIC ms the phase must end by; 0: none */
static _Atomic long long timer_at;    /* when the timer fires next; 0: not set */

static void set_timer(long long at_ms)
{
    struct itimerspec it = {
        .it_value = {.tv_sec = at_ms / 1000, .tv_nsec = (at_ms % 1000) * 1000000}};
    timer_settime(deadline_timer, TIMER_ABSTIME, &it, NULL);
    atomic_store(&timer_at, at_ms);
}

/* The timer fired. If the phase's deadline has passed, shut the connection down, so that
 * the read or write libfcgi is blocked in (and any later one) returns at once; if a phase
 * runs whose deadline is later, wait for that; if none runs, stay unset. */
static void on_deadline(int sig)
{
    (void)sig;
    int saved = errno;
    long long at = atomic_load(&deadline_at);
    atomic_store(&timer_at, 0);
    if (at && mono_ms() < at) {
        set_timer(at);
    } else if (at) {
        int fd = conn_fd;
        if (fd >= 0) {
            deadline_hit = 1;
            shutdown(fd, SHUT_RDWR);
        }
    }
    errno = saved;
}

static void arm_deadline(int seconds)
{
    long long at = mono_ms() + (long long)seconds * 1000;
    atomic_store(&deadline_at, at);
    long long t = atomic_load(&timer_at);
    if (!t || t > at) set_timer(at); /* otherwise it fires first and sets itself again */
}

static void disarm_deadline(void)
{
    atomic_store(&deadline_at, 0);
}

/* SIGTERM/SIGINT arrived, or is waiting (blocked) to be taken. */
static bool stop_requested(void)
{
    sigset_t pending;
    if (worker_stop) return true;
    sigpending(&pending);
    return sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT);
}

/* The worker's own epoll instance over the shared listening socket, registered with
 * EPOLLEXCLUSIVE: a new connection wakes one idle worker instead of all of them. With
 * poll every idle worker woke for every connection and all but one found nothing to
 * accept: three wasted system calls and a sleep and wake-up each (at 2 connections, 5.0
 * context switches a request against the bare libfcgi responder's 3.1, which blocks in
 * accept; 3.1 now; docs/benchmarks.md). -1 when it cannot be made: the worker then waits
 * in ppoll as before. The caller closes it. */
static int listen_waiter(int listen_fd)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return -1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = listen_fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) < 0) {
        log_warn("epoll_ctl (EPOLLEXCLUSIVE) failed: %s; idle workers will wait in poll",
                 strerror(errno));
        close(ep);
        return -1;
    }
    return ep;
}

/* The next connection from the (non-blocking) listening socket, or -1 when the worker
 * should leave. After a stop signal, connections already queued are still served (nginx
 * handed them over and will not retry them); the worker leaves once the queue is empty.
 * Stop signals are let in only inside the wait (epoll_pwait or ppoll), atomically, so none
 * is missed: one that arrived while the worker was busy is delivered as the wait begins
 * and ends it with EINTR. */
static int next_connection(int listen_fd, int waiter, const sigset_t *idle_mask)
{
    for (;;) {
        struct sockaddr_storage sa = {0};
        socklen_t len = sizeof sa;
        int fd = accept4(listen_fd, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC);
        if (fd >= 0) {
            if (sa.ss_family == AF_INET || sa.ss_family == AF_INET6) {
                int on = 1; /* responses go out in one piece; no Nagle delay */
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            }
            return fd;
        }
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            log_error("accept failed: %s", strerror(errno));
            return -1;
        }
        if (worker_stop) return -1;
        /* another worker may win the race for what woke this one: accept again */
        if (waiter >= 0) {
            struct epoll_event ev;
            epoll_pwait(waiter, &ev, 1, -1, idle_mask);
        } else {
            struct pollfd p = {.fd = listen_fd, .events = POLLIN};
            ppoll(&p, 1, NULL, idle_mask);
        }
    }
}

/* The FastCGI params the API reads. They are taken in one pass over libfcgi's list
 * (FCGX_GetParam scans all ~35 of them for each name asked for); each points into libfcgi's
 * copy, valid until FCGX_Finish_r. */
struct fcgi_params {
    const char *method, *document_uri, *script_name, *query, *content_type, *content_length,
        *authorization, *idempotency_key, *remote_addr, *if_match, *if_none_match, *https, *scheme,
        *host, *server_addr, *server_port;
};

static void read_params(char **envp, struct fcgi_params *p)
{
#define PARAM(name, member)                                                                        \
    {                                                                                              \
        (name), sizeof(name) - 1, offsetof(struct fcgi_params, member)                             \
    }
    static const struct {
        const char *name;
        size_t len;
        size_t offset;
    } wanted[] = {
        PARAM("REQUEST_METHOD", method),
        PARAM("DOCUMENT_URI", document_uri),
        PARAM("SCRIPT_NAME", script_name),
        PARAM("QUERY_STRING", query),
        PARAM("CONTENT_TYPE", content_type),
        PARAM("CONTENT_LENGTH", content_length),
        PARAM("HTTP_AUTHORIZATION", authorization),
        PARAM("HTTP_IDEMPOTENCY_KEY", idempotency_key),
        PARAM("REMOTE_ADDR", remote_addr),
        PARAM("HTTP_IF_MATCH", if_match),
        PARAM("HTTP_IF_NONE_MATCH", if_none_match),
        PARAM("HTTPS", https),
        PARAM("REQUEST_SCHEME", scheme),
        PARAM("HTTP_HOST", host),
        PARAM("SERVER_ADDR", server_addr),
        PARAM("SERVER_PORT", server_port),
    };
#undef PARAM
    memset(p, 0, sizeof *p);
    for (char **e = envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq) continue;
        size_t n = (size_t)(eq - *e);
        for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
            const char **slot = (const char **)((char *)p + wanted[i].offset);
            /* the first of a repeated name wins, as with FCGX_GetParam */
            if (wanted[i].len == n && !*slot && !memcmp(*e, wanted[i].name, n)) {
                *slot = eq + 1;
                break;
            }
        }
    }
}

/* Read and drop stdin up to its end record. A request is whole only then: nginx and Apache
 * send that record after the body (Apache as a separate write, once the body is out), and a
 * worker that answers and closes before it arrives resets a peer still writing it, which
 * Apache's mod_proxy_fcgi reports as a 503 in place of the answer. From nginx the record
 * came in the same read as the params or the body, so this usually costs no system call. */
static void read_to_end(FCGX_Request *r)
{
    char tmp[8192];
    while (FCGX_GetStr(tmp, (int)sizeof tmp, r->in) > 0) continue;
}

/* End the connection once the response is out. libfcgi's own close lingers, for peers
 * that may still be sending: shutdown, wait (up to 2 s) for the peer to close its end first,
 * read, close. From nginx that wait is a sleep and a wake-up per request, about a fifth of a
 * GET by id's worker time (docs/benchmarks.md). A peer that has sent its request's stdin to
 * the end record, did not ask to keep the connection and has nothing more in the socket is
 * sending nothing else, so a plain close() is clean: the response already queued is
 * delivered, then the end of file. Otherwise (stdin not read to its end, unread bytes, a
 * connection nginx asked to keep): libfcgi's lingering close, so that the peer is not reset. */
static void close_connection(FCGX_Request *fr, bool peer_keeps, bool stdin_ended)
{
    int unread = 1;
    if (stdin_ended && !peer_keeps && ioctl(fr->ipcFd, FIONREAD, &unread) == 0 && unread == 0) {
        close(fr->ipcFd);
        fr->ipcFd = -1;
        return;
    }
    FCGX_Free(fr, 1);
}

static void build_request(const struct fcgi_params *p, struct ctx *c, struct http_request *hr)
{
    struct arena *a = c->arena;
    memset(hr, 0, sizeof *hr);
    /* copied: libfcgi frees its params at FCGX_Finish_r */
    hr->method = arena_strdup(a, p->method ? p->method : "GET");
    const char *path = p->document_uri ? p->document_uri : p->script_name;
    if (!path) path = "/";
    hr->raw_path = arena_strdup(a, path);
    size_t n = strlen(hr->raw_path);
    if (n > 1 && hr->raw_path[n - 1] == '/') ((char *)hr->raw_path)[n - 1] = '\0';
    hr->path = arena_strdup(a, path);
    hr->query = p->query ? p->query : "";
    hr->content_type = p->content_type;
    hr->authorization = p->authorization;
    hr->idempotency_key = p->idempotency_key;
    hr->remote_addr = p->remote_addr;
    hr->if_match = p->if_match;
    hr->if_none_match = p->if_none_match;
    hr->origin = (struct origin_params){
        .https = p->https,
        .scheme = p->scheme,
        .host = p->host,
        .server_addr = p->server_addr,
        .server_port = p->server_port,
    };
}

/* Read the body. Returns 0, or -1 with the error set in c. */
static int read_body(FCGX_Request *fr, const char *cl, struct ctx *c, struct http_request *hr)
{
    long long len = 0;
    if (cl && *cl) {
        char *end;
        errno = 0;
        len = strtoll(cl, &end, 10);
        if (*end || errno || len < 0)
            return req_fail(c, REQ_E_BAD_REQUEST, "Invalid Content-Length.");
    }
    if ((unsigned long long)len > c->cfg->max_body_bytes) {
        read_to_end(fr); /* the whole upload is read, so that the peer sees no reset */
        return req_failf(c, REQ_E_TOO_LARGE, "The request body is larger than %zu bytes.",
                         c->cfg->max_body_bytes);
    }
    char *body = arena_alloc(c->arena, (size_t)len + 1);
    long long got = 0;
    while (got < len) {
        int k = FCGX_GetStr(body + got, (int)(len - got), fr->in);
        if (k <= 0) break;
        got += k;
    }
    body[got] = '\0';
    read_to_end(fr);
    /* a short body, or a stream cut before its end record (the read deadline): the
     * request never became whole, so nothing of it is carried out */
    if (got != len || FCGX_GetError(fr->in))
        return req_fail(c, REQ_E_BAD_REQUEST, "The request body ended early.");
    hr->body = body;
    hr->body_len = (size_t)len;
    return 0;
}

/* The answer goes out in one writev of FastCGI records framed here (fcgiout.h), rather
 * than through libfcgi's 8 KB stream buffer, which wrote a record each time it filled: a
 * 50-row page left in four writes and reached nginx in as many wake-ups. The head (status,
 * fixed and handler headers, blank line) is written into `head`, a buffer the worker keeps;
 * the body is sent from c->out as it is. libfcgi's out stream is then marked closed, so
 * FCGX_Finish_r writes nothing more (its err stream, never written, adds nothing either);
 * a failed write is left in the stream's error, on which FCGX_Finish_r closes the
 * connection. */
static void send_response(FCGX_Request *fr, struct ctx *c, long db_trips, struct buf *head)
{
    bool body = c->status != 204 && c->status != 304; /* RFC 9110: neither has content */
    buf_reset(head);
    buf_printf(head, "Status: %d %s\r\n", c->status, app_status_text(c->status));
    if (body)
        buf_printf(head, "Content-Type: %s\r\n",
                   c->content_type ? c->content_type : "application/json");
    buf_puts(head, "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
    if (db_trips >= 0) buf_printf(head, "X-DB-Round-Trips: %ld\r\n", db_trips);
    buf_append(head, c->headers->data, c->headers->len);
    buf_puts(head, "\r\n");
    struct iovec seg[2] = {
        {head->data, head->len},
        {c->out->data, body ? c->out->len : 0},
    };
    struct fcgiout o;
    fcgiout_init(&o, fr->requestId, seg, 2);
    struct iovec iov[FCGIOUT_BATCH];
    int n, rc = 0;
    while (rc == 0 && (n = fcgiout_next(&o, iov, FCGIOUT_BATCH)) > 0)
        rc = fcgiout_write(fr->ipcFd, iov, n);
    fr->out->isClosed = 1;
    fr->out->wasFCloseCalled = 1;
    if (rc) fr->out->FCGI_errno = errno;
}

/* Hand a connection accepted here to libfcgi and read the request's params. libfcgi only
 * accepts by itself when its request holds no open connection; one it is given with
 * keepConnection set is read as is (its keep-alive path). The request is initialised with
 * no listening socket, so libfcgi never accepts on its own: a connection that sends no
 * valid request is closed and FCGX_Accept_r returns an error. */
static int start_request(FCGX_Request *fr, int fd)
{
    fr->ipcFd = fd;
    fr->keepConnection = 1;
    return FCGX_Accept_r(fr);
}

/* Count the answered request in the pool's memory, and log it when it was slow. */
static void account(const struct ctx *c, struct stats *stats, unsigned long long us,
                    unsigned long trips, unsigned long long db_us)
{
    const struct route *rt = c->match.route;
    if (!c->cfg->metrics_enabled) stats = NULL;
    if (stats)
        stats_record(stats, stats_route_index(stats, c->cfg, rt), c->req->method, c->status, us,
                     trips, db_us);
    if (!c->cfg->slow_ms || us < (unsigned long long)c->cfg->slow_ms * 1000) return;
    if (stats) atomic_fetch_add_explicit(&stats->seg->slow_requests, 1, memory_order_relaxed);
    log_warn("slow request: %s %s status %d in %.1f ms (database %.1f ms, %lu round trips)",
             c->req->method, rt ? rt->path : "(unmatched)", c->status, (double)us / 1000,
             (double)db_us / 1000, trips);
}

int worker_run(const struct config *cfg, int listen_fd, struct stats *stats)
{
    /* SA_RESTART everywhere: a signal never makes a read or write fail half-way. The stop
     * signals are blocked outside the idle wait anyway; the deadline timer works by
     * shutting the connection down, not by interrupting the call. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_deadline;
    sigaction(SIGALRM, &sa, NULL);
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
    if (timer_create(CLOCK_MONOTONIC, &sev, &deadline_timer) < 0) {
        log_error("timer_create failed: %s", strerror(errno));
        return 1;
    }
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigset_t busy, idle;
    sigemptyset(&busy);
    sigaddset(&busy, SIGTERM);
    sigaddset(&busy, SIGINT);
    sigprocmask(SIG_SETMASK, &busy, NULL);
    sigemptyset(&idle);

    const char *debug_env = getenv("AIENGINE_DEBUG");
    bool debug = debug_env && !strcmp(debug_env, "1");
    FCGX_Init();
    FCGX_Request fr;
    if (FCGX_InitRequest(&fr, -1, FCGI_FAIL_ACCEPT_ON_INTR)) {
        log_error("FCGX_InitRequest failed");
        return 1;
    }
    struct db *db = db_new(&cfg->db);
    /* caches that outlive a request belong to the worker and are lent to each request */
    struct auth_cache *tokens = auth_cache_new();
    struct countcache *counts = countcache_new(0);
    struct buf openapi;
    buf_init(&openapi, 0);
    struct arena arena;
    arena_init(&arena, 64 * 1024);
    struct buf out, headers, head;
    buf_init(&out, cfg->max_response_bytes);
    buf_init(&headers, 16 * 1024);
    buf_init(&head, 0); /* the fixed lines and `headers`: bounded by the latter's limit */
    int waiter = listen_waiter(listen_fd);
    log_info("worker ready");
    long served = 0;
    int rc = 0;
    for (;;) {
        int fd = next_connection(listen_fd, waiter, &idle);
        if (fd < 0) {
            rc = stop_requested() ? 0 : 1;
            break;
        }
        conn_fd = fd;
        deadline_hit = 0;
        arm_deadline(cfg->request_timeout);
        if (start_request(&fr, fd) < 0) {
            /* no valid request arrived in time; libfcgi has closed the connection */
            disarm_deadline();
            conn_fd = -1;
            if (deadline_hit)
                log_warn("a FastCGI client sent no complete request within %d s; "
                         "connection closed",
                         cfg->request_timeout);
            continue;
        }
        struct http_request hr;
        struct ctx c;
        memset(&c, 0, sizeof c);
        c.arena = &arena;
        c.cfg = cfg;
        c.db = db;
        c.tokens = tokens;
        c.counts = counts;
        c.openapi = &openapi;
        c.req = &hr;
        c.out = &out;
        c.headers = &headers;
        buf_reset(&out);
        buf_reset(&headers);
        unsigned long long t0 = mono_us(), db_us0 = db_busy_us(db);
        unsigned long trips = db_round_trips(db);
        c.stats = stats;
        struct fcgi_params params;
        read_params(fr.envp, &params);
        build_request(&params, &c, &hr);
        int body_rc = read_body(&fr, params.content_length, &c, &hr);
        disarm_deadline(); /* the handler's own time is bounded by the database timeouts */
        if (body_rc == 0) {
            app_handle(&c);
        } else {
            app_write_error(&c); /* the body could not be read: same error path */
        }
        arm_deadline(cfg->request_timeout);
        send_response(&fr, &c, debug ? (long)(db_round_trips(db) - trips) : -1, &head);
        /* counted before FCGX_Finish_r ends the response: a client that scrapes
         * /api/metrics right after its answer (from another worker) must already see it */
        account(&c, stats, mono_us() - t0, db_round_trips(db) - trips, db_busy_us(db) - db_us0);
        /* libfcgi ends the request but leaves the socket to us (it closes it itself on
         * an error); one request per connection, even if nginx asked to keep it */
        bool peer_keeps = fr.keepConnection;
        bool stdin_ended = FCGX_HasSeenEOF(fr.in) && !FCGX_GetError(fr.in);
        fr.keepConnection = 1;
        FCGX_Finish_r(&fr);
        if (fr.ipcFd >= 0) close_connection(&fr, peer_keeps, stdin_ended);
        disarm_deadline();
        conn_fd = -1;
        if (deadline_hit)
            log_warn("a FastCGI client did not take its response within %d s; connection closed",
                     cfg->request_timeout);
        if (db_in_transaction(db)) db_rollback(db); /* never carry a transaction over */
        arena_reset(&arena);
        served++;
        if (cfg->max_requests && served >= cfg->max_requests) {
            log_info("served %ld requests; recycling", served);
            break;
        }
    }
    if (waiter >= 0) close(waiter);
    FCGX_Free(&fr, 0);
    buf_free(&out);
    buf_free(&headers);
    buf_free(&head);
    arena_free(&arena);
    auth_cache_free(tokens);
    countcache_free(counts);
    buf_free(&openapi);
    db_free(db);
    return rc;
}
