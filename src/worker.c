/* worker.c — the FastCGI accept loop. Reads one request (bounded body), runs app_handle,
 * writes the response, resets the arena. The only place that speaks libfcgi. */
#include "worker.h"
#include "app.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "log.h"

#include <errno.h>
#include <fcgiapp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t worker_stop;

static void on_stop(int sig)
{
    (void)sig;
    worker_stop = 1;
}

static void on_alarm(int sig)
{
    (void)sig; /* only interrupts accept() while draining */
}

/* Whether a connection is waiting in the listen queue right now. */
static bool queue_has_connection(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

static bool host_ok(const char *h)
{
    if (!h || !*h || strlen(h) > 255) return false;
    for (const char *p = h; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']'))
            return false;
    return true;
}

static const char *param(FCGX_Request *r, const char *name)
{
    return FCGX_GetParam(name, r->envp);
}

/* Discard what is left of the request body so nginx never sees a reset mid-upload. */
static void drain(FCGX_Request *r, long long n)
{
    char tmp[8192];
    while (n > 0) {
        int k = FCGX_GetStr(tmp, (int)(n > (long long)sizeof tmp ? (long long)sizeof tmp : n), r->in);
        if (k <= 0) break;
        n -= k;
    }
}

static void build_request(FCGX_Request *fr, struct ctx *c, struct http_request *hr)
{
    struct arena *a = c->arena;
    memset(hr, 0, sizeof *hr);
    hr->method = param(fr, "REQUEST_METHOD");
    if (!hr->method) hr->method = "GET";
    const char *path = param(fr, "DOCUMENT_URI");
    if (!path) path = param(fr, "SCRIPT_NAME");
    if (!path) path = "/";
    hr->raw_path = arena_strdup(a, path);
    size_t n = strlen(hr->raw_path);
    if (n > 1 && hr->raw_path[n - 1] == '/') ((char *)hr->raw_path)[n - 1] = '\0';
    hr->path = arena_strdup(a, path);
    hr->query = param(fr, "QUERY_STRING");
    if (!hr->query) hr->query = "";
    hr->content_type = param(fr, "CONTENT_TYPE");
    hr->authorization = param(fr, "HTTP_AUTHORIZATION");
    const char *https = param(fr, "HTTPS");
    const char *scheme = param(fr, "REQUEST_SCHEME");
    if (!scheme) scheme = https && *https && strcmp(https, "off") ? "https" : "http";
    if (c->cfg->app_url && *c->cfg->app_url) {
        hr->base_url = c->cfg->app_url;
        return;
    }
    /* Debian's fastcgi_params sends HTTP_HOST as $host (no port, by design), so the port
     * comes from SERVER_PORT when it is not the scheme's default */
    const char *host = param(fr, "HTTP_HOST");
    const char *sp = param(fr, "SERVER_PORT");
    bool tls = !strcmp(scheme, "https");
    if (!host_ok(host)) host = param(fr, "SERVER_NAME");
    if (!host_ok(host)) host = "localhost";
    bool default_port = !sp || !host_ok(sp) || (tls ? !strcmp(sp, "443") : !strcmp(sp, "80"));
    if (strchr(host, ':') && host[0] != '[') default_port = true; /* already has a port */
    hr->base_url = arena_printf(a, "%s://%s%s%s", tls ? "https" : "http", host,
                                default_port ? "" : ":", default_port ? "" : sp);
}

/* Read the body. Returns 0, or -1 with the error set in c. */
static int read_body(FCGX_Request *fr, struct ctx *c, struct http_request *hr)
{
    const char *cl = param(fr, "CONTENT_LENGTH");
    long long len = 0;
    if (cl && *cl) {
        char *end;
        errno = 0;
        len = strtoll(cl, &end, 10);
        if (*end || errno || len < 0) return req_fail(c, REQ_E_BAD_REQUEST, "Invalid Content-Length.");
    }
    if ((unsigned long long)len > c->cfg->max_body_bytes) {
        drain(fr, len);
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
    if (got != len) return req_fail(c, REQ_E_BAD_REQUEST, "The request body ended early.");
    hr->body = body;
    hr->body_len = (size_t)len;
    return 0;
}

static void send_response(FCGX_Request *fr, struct ctx *c, long db_trips)
{
    FCGX_FPrintF(fr->out, "Status: %d %s\r\n", c->status, app_status_text(c->status));
    if (c->status != 204) FCGX_PutS("Content-Type: application/json\r\n", fr->out);
    FCGX_PutS("Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n", fr->out);
    if (db_trips >= 0) FCGX_FPrintF(fr->out, "X-DB-Round-Trips: %ld\r\n", db_trips);
    if (c->headers->len) FCGX_PutStr(c->headers->data, (int)c->headers->len, fr->out);
    FCGX_PutS("\r\n", fr->out);
    if (c->status != 204 && c->out->len) FCGX_PutStr(c->out->data, (int)c->out->len, fr->out);
}

int worker_run(const struct config *cfg, int listen_fd)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: accept() must return on a stop signal */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);

    const char *debug_env = getenv("AIENGINE_DEBUG");
    bool debug = debug_env && !strcmp(debug_env, "1");
    FCGX_Init();
    FCGX_Request fr;
    if (FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR)) {
        log_error("FCGX_InitRequest failed");
        return 1;
    }
    struct db *db = db_new(&cfg->db);
    /* caches that outlive a request belong to the worker and are lent to each request */
    struct auth_cache *tokens = auth_cache_new();
    struct buf openapi;
    buf_init(&openapi, 0);
    struct arena arena;
    arena_init(&arena, 64 * 1024);
    struct buf out, headers;
    buf_init(&out, cfg->max_response_bytes);
    buf_init(&headers, 16 * 1024);
    log_info("worker ready");
    long served = 0;
    for (;;) {
        /* After SIGTERM, connections already queued on the socket are still served (nginx
         * handed them over and will not retry them); the worker leaves once the queue is
         * empty. The alarm keeps accept() from waiting when another worker took the last
         * one. The socket is never made non-blocking: its flags are shared with the next
         * generation of workers after a reload. */
        if (worker_stop) {
            if (!queue_has_connection(listen_fd)) break;
            alarm(1);
        }
        int rc = FCGX_Accept_r(&fr);
        alarm(0);
        if (rc < 0) {
            if (worker_stop || errno == EINTR) continue;
            log_error("accept failed: %s", strerror(errno));
            break;
        }
        struct http_request hr;
        struct ctx c;
        memset(&c, 0, sizeof c);
        c.arena = &arena;
        c.cfg = cfg;
        c.db = db;
        c.tokens = tokens;
        c.openapi = &openapi;
        c.req = &hr;
        c.out = &out;
        c.headers = &headers;
        buf_reset(&out);
        buf_reset(&headers);
        unsigned long trips = db_round_trips(db);
        build_request(&fr, &c, &hr);
        if (read_body(&fr, &c, &hr) == 0) {
            app_handle(&c);
        } else {
            app_write_error(&c); /* the body could not be read: same error path */
        }
        send_response(&fr, &c, debug ? (long)(db_round_trips(db) - trips) : -1);
        FCGX_Finish_r(&fr);
        if (db_in_transaction(db)) db_rollback(db); /* never carry a transaction over */
        arena_reset(&arena);
        served++;
        if (cfg->max_requests && served >= cfg->max_requests) {
            log_info("served %ld requests; recycling", served);
            break;
        }
    }
    FCGX_Free(&fr, 0);
    buf_free(&out);
    buf_free(&headers);
    arena_free(&arena);
    auth_cache_free(tokens);
    buf_free(&openapi);
    db_free(db);
    return 0;
}
