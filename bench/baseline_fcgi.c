/* baseline_fcgi.c — the benchmark's ceiling for a C FastCGI app on this stack.
 *
 * A pre-forked libfcgi responder that does the least a database-backed JSON endpoint can:
 * one prepared primary-key SELECT of a workflow (id taken from the request path), the row
 * printed as JSON. No routing table, no auth, no validation, no arena. aiengine's
 * GET /api/workflows/{id} is measured against it (docs/benchmarks.md).
 *
 *   baseline_fcgi SOCKET_PATH WORKERS
 *
 * Database settings come from the same environment variables aiengine reads
 * (AIENGINE_DB_SOCKET, AIENGINE_DB_USER, AIENGINE_DB_PASSWORD, AIENGINE_DB_NAME). Each worker
 * opens its own connection and prepares the statement once. SIGTERM stops the master, which
 * stops its workers. Built by bench/bench.py with `cc -O2 $(pkg-config --cflags --libs fcgi
 * libmariadb)`; never part of the product. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcgiapp.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NCOLS 7
#define CELL 70000 /* description is TEXT: up to 65,535 bytes */

static const char *const names[NCOLS] = {"id",        "name",       "description", "trigger_event",
                                         "is_active", "created_at", "updated_at"};

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static const char *env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

static void put_json_str(FCGX_Stream *out, const char *s, unsigned long n)
{
    static const char hex[] = "0123456789abcdef";
    char buf[512];
    size_t k = 0;
    FCGX_PutChar('"', out);
    for (unsigned long i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (k > sizeof buf - 8) {
            FCGX_PutStr(buf, (int)k, out);
            k = 0;
        }
        if (ch == '"' || ch == '\\') {
            buf[k++] = '\\';
            buf[k++] = (char)ch;
        } else if (ch < 0x20) {
            buf[k++] = '\\';
            buf[k++] = 'u';
            buf[k++] = '0';
            buf[k++] = '0';
            buf[k++] = hex[ch >> 4];
            buf[k++] = hex[ch & 15];
        } else {
            buf[k++] = (char)ch;
        }
    }
    if (k) FCGX_PutStr(buf, (int)k, out);
    FCGX_PutChar('"', out);
}

static MYSQL *connect_db(MYSQL_STMT **stmt)
{
    MYSQL *c = mysql_init(NULL);
    mysql_optionsv(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_optionsv(c, MYSQL_INIT_COMMAND, "SET time_zone='+00:00'");
    const char *sock = env("AIENGINE_DB_SOCKET", NULL);
    if (!mysql_real_connect(c, sock ? NULL : env("AIENGINE_DB_HOST", "localhost"),
                            env("AIENGINE_DB_USER", "aiengine"), env("AIENGINE_DB_PASSWORD", ""),
                            env("AIENGINE_DB_NAME", "aiengine"), 0, sock, 0)) {
        fprintf(stderr, "baseline: connect: %s\n", mysql_error(c));
        exit(1);
    }
    static const char sql[] = "SELECT `id`, `name`, `description`, `trigger_event`, `is_active`, "
                              "`created_at`, `updated_at` FROM `workflows` WHERE `id` = ?";
    *stmt = mysql_stmt_init(c);
    if (mysql_stmt_prepare(*stmt, sql, sizeof sql - 1)) {
        fprintf(stderr, "baseline: prepare: %s\n", mysql_stmt_error(*stmt));
        exit(1);
    }
    return c;
}

static int worker(int fd)
{
    MYSQL_STMT *st;
    MYSQL *conn = connect_db(&st);
    static char cells[NCOLS][CELL];
    unsigned long lens[NCOLS];
    my_bool nulls[NCOLS];
    MYSQL_BIND res[NCOLS], param;
    unsigned long long id = 0;
    memset(res, 0, sizeof res);
    for (int i = 0; i < NCOLS; i++) {
        res[i].buffer_type = MYSQL_TYPE_STRING;
        res[i].buffer = cells[i];
        res[i].buffer_length = CELL;
        res[i].length = &lens[i];
        res[i].is_null = &nulls[i];
    }
    memset(&param, 0, sizeof param);
    param.buffer_type = MYSQL_TYPE_LONGLONG;
    param.buffer = &id;
    param.is_unsigned = 1;
    if (mysql_stmt_bind_param(st, &param) || mysql_stmt_bind_result(st, res)) {
        fprintf(stderr, "baseline: bind: %s\n", mysql_stmt_error(st));
        return 1;
    }

    FCGX_Request req;
    FCGX_Init();
    FCGX_InitRequest(&req, fd, FCGI_FAIL_ACCEPT_ON_INTR);
    while (!stop && FCGX_Accept_r(&req) >= 0) {
        const char *path = FCGX_GetParam("DOCUMENT_URI", req.envp);
        if (!path) path = FCGX_GetParam("SCRIPT_NAME", req.envp);
        const char *slash = path ? strrchr(path, '/') : NULL;
        id = slash ? strtoull(slash + 1, NULL, 10) : 0;
        int found = 0;
        if (id && mysql_stmt_execute(st) == 0) {
            found = mysql_stmt_fetch(st) == 0;
            mysql_stmt_free_result(st);
        }
        if (!found) {
            FCGX_PutS("Status: 404 Not Found\r\nContent-Type: application/json\r\n\r\n"
                      "{\"message\":\"Not found.\"}",
                      req.out);
            FCGX_Finish_r(&req);
            continue;
        }
        FCGX_PutS("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"data\":{", req.out);
        for (int i = 0; i < NCOLS; i++) {
            FCGX_FPrintF(req.out, "%s\"%s\":", i ? "," : "", names[i]);
            if (nulls[i]) FCGX_PutS("null", req.out);
            else if (i == 0) FCGX_PutStr(cells[i], (int)lens[i], req.out);
            else if (i == 4) FCGX_PutS(lens[i] == 1 && cells[i][0] == '0' ? "false" : "true", req.out);
            else put_json_str(req.out, cells[i], lens[i]);
        }
        FCGX_PutS("}}", req.out);
        FCGX_Finish_r(&req);
    }
    mysql_stmt_close(st);
    mysql_close(conn);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SOCKET_PATH WORKERS\n", argv[0]);
        return 2;
    }
    int nworkers = atoi(argv[2]);
    if (nworkers < 1 || nworkers > 256) nworkers = 4;
    unlink(argv[1]);
    int fd = FCGX_OpenSocket(argv[1], 1024);
    if (fd < 0) {
        fprintf(stderr, "baseline: cannot listen on %s\n", argv[1]);
        return 1;
    }
    chmod(argv[1], 0666);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term; /* no SA_RESTART: accept and waitpid must return */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    pid_t *pids = calloc((size_t)nworkers, sizeof *pids);
    for (int i = 0; i < nworkers; i++) {
        pids[i] = fork();
        if (pids[i] == 0) _exit(worker(fd));
    }
    while (!stop) {
        int status;
        pid_t p = waitpid(-1, &status, 0);
        if (p < 0 && errno == ECHILD) break;
        for (int i = 0; p > 0 && !stop && i < nworkers; i++)
            if (pids[i] == p) { /* a worker died: replace it, like aiengine's master */
                pids[i] = fork();
                if (pids[i] == 0) _exit(worker(fd));
            }
    }
    for (int i = 0; i < nworkers; i++)
        if (pids[i] > 0) kill(pids[i], SIGTERM);
    while (waitpid(-1, NULL, 0) > 0) {
    }
    unlink(argv[1]);
    return 0;
}
