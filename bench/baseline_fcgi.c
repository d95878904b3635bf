/* baseline_fcgi.c — the benchmark's ceiling for a C FastCGI app on this stack.
 *
 * A pre-forked libfcgi responder that does the least a database-backed JSON endpoint can:
 * one prepared primary-key SELECT of a workflow (id taken from the request path), the row
 * printed as JSON. No routing table, no auth, no validation, no arena. aiengine's
 * GET /api/workflows/{id} is measured against it (docs/benchmarks.md).
 *
 * A path ending in /execution-logs answers the same way with a page: the 50 newest
 * execution logs (one prepared SELECT … ORDER BY id DESC LIMIT 50), every column as aiengine
 * prints it (JSON columns verbatim, strings escaped by aiengine's src/buf.c, timestamps as
 * ISO-8601 UTC), no links or meta, built in one buf and sent in one writev framed by
 * aiengine's src/fcgiout.c (libfcgi's stream
 * would write it in four 8 KB records). aiengine's GET /api/execution-logs?per_page=50 is
 * measured against it: about the least a 27 KB page costs this machine's nginx, MariaDB and
 * kernel.
 *
 *   baseline_fcgi SOCKET_PATH WORKERS
 *
 * Database settings come from the same environment variables aiengine reads
 * (AIENGINE_DB_SOCKET, AIENGINE_DB_USER, AIENGINE_DB_PASSWORD, AIENGINE_DB_NAME). Each worker
 * opens its own connection and prepares the statement once. SIGTERM stops the master, which
 * stops its workers. Built by bench/bench.py with `cc -O2 -D_GNU_SOURCE $(pkg-config --cflags
 * --libs fcgi libmariadb) -Iinclude src/fcgiout.c src/buf.c src/value.c src/arena.c src/mem.c
 * src/log.c`; never part of the product. */
#include "buf.h"
#include "fcgiout.h"

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
#define LOG_COLS 15

static const char *const names[NCOLS] = {"id",        "name",       "description", "trigger_event",
                                         "is_active", "created_at", "updated_at"};

/* execution_logs' columns and how each is printed: n number, s string, j JSON verbatim,
 * t timestamp */
static const char *const log_names[LOG_COLS] = {
    "id",          "workflow_id",   "step_id",    "triggering_object_id", "parent_execution_log_id",
    "status",      "input_context", "raw_output", "parsed_output",        "error_message",
    "duration_ms", "token_usage",   "cost",       "executed_at",          "workflow_run_id"};
static const char log_kinds[LOG_COLS + 1] = "nnnsnsjjjsnnstn";

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

static MYSQL *connect_db(MYSQL_STMT **stmt, MYSQL_STMT **logs)
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
    static const char logs_sql[] =
        "SELECT `id`, `workflow_id`, `step_id`, `triggering_object_id`, "
        "`parent_execution_log_id`, `status`, `input_context`, `raw_output`, `parsed_output`, "
        "`error_message`, `duration_ms`, `token_usage`, `cost`, `executed_at`, `workflow_run_id` "
        "FROM `execution_logs` ORDER BY `id` DESC LIMIT 50";
    *logs = mysql_stmt_init(c);
    if (mysql_stmt_prepare(*logs, logs_sql, sizeof logs_sql - 1)) {
        fprintf(stderr, "baseline: prepare: %s\n", mysql_stmt_error(*logs));
        exit(1);
    }
    return c;
}

/* The log page: rows fetched one at a time into `cells`, the answer (head and body) built
 * in `pg` and written to the request's connection at once. */
static void log_page(MYSQL_STMT *st, char (*cells)[CELL], unsigned long *lens, my_bool *nulls,
                     FCGX_Request *req, struct buf *pg)
{
    buf_reset(pg);
    if (mysql_stmt_execute(st)) {
        buf_puts(pg, "Status: 500 Internal Server Error\r\nContent-Type: application/json\r\n\r\n"
                     "{\"message\":\"Server Error\"}");
    } else {
        buf_puts(pg, "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"data\":[");
        int n = 0, rc;
        while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
            buf_puts(pg, n++ ? ",{" : "{");
            for (int i = 0; i < LOG_COLS; i++) {
                buf_puts(pg, i ? ",\"" : "\"");
                buf_puts(pg, log_names[i]);
                buf_puts(pg, "\":");
                unsigned long len = lens[i] < CELL ? lens[i] : CELL;
                if (nulls[i])
                    buf_puts(pg, "null");
                else if (log_kinds[i] == 'n') {
                    long long v;
                    memcpy(&v, cells[i], sizeof v);
                    char num[24], *e = num + sizeof num, *b = e;
                    unsigned long long u =
                        v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
                    do *--b = (char)('0' + u % 10);
                    while (u /= 10);
                    if (v < 0) *--b = '-';
                    buf_append(pg, b, (size_t)(e - b));
                } else if (log_kinds[i] == 'j')
                    buf_append(pg, cells[i], len);
                else if (log_kinds[i] == 's')
                    buf_json_str(pg, cells[i], len);
                else {
                    MYSQL_TIME t;
                    memcpy(&t, cells[i], sizeof t);
                    /* "2026-02-16T07:06:40.000000Z" */
                    char iso[] = "\"0000-00-00T00:00:00.000000Z\"";
                    unsigned long f[] = {t.year,   t.month,  t.day,        t.hour,
                                         t.minute, t.second, t.second_part};
                    static const int at[] = {4, 7, 10, 13, 16, 19, 26}; /* last digit of each */
                    for (int d = 0; d < 7; d++)
                        for (int p = at[d]; f[d]; p--, f[d] /= 10) iso[p] = (char)('0' + f[d] % 10);
                    buf_append(pg, iso, sizeof iso - 1);
                }
            }
            buf_puts(pg, "}");
        }
        mysql_stmt_free_result(st);
        buf_puts(pg, "],\"links\":{\"next\":null},\"meta\":{\"per_page\":50}}");
    }
    struct iovec seg = {pg->data, pg->len};
    struct fcgiout o;
    fcgiout_init(&o, req->requestId, &seg, 1);
    struct iovec iov[FCGIOUT_BATCH];
    int k, rc = 0;
    while (rc == 0 && (k = fcgiout_next(&o, iov, FCGIOUT_BATCH)) > 0)
        rc = fcgiout_write(req->ipcFd, iov, k);
    req->out->isClosed = 1; /* written: FCGX_Finish_r adds nothing */
    req->out->wasFCloseCalled = 1;
}

static int worker(int fd)
{
    MYSQL_STMT *st, *logs;
    MYSQL *conn = connect_db(&st, &logs);
    static char cells[NCOLS][CELL];
    static _Alignas(16) char log_cells[LOG_COLS][CELL];
    unsigned long log_lens[LOG_COLS];
    my_bool log_nulls[LOG_COLS];
    struct buf pg;
    buf_init(&pg, 0); /* 0: no limit */
    MYSQL_BIND log_res[LOG_COLS];
    memset(log_res, 0, sizeof log_res);
    for (int i = 0; i < LOG_COLS; i++) {
        /* numbers and the timestamp in their binary form, as aiengine binds them */
        log_res[i].buffer_type = log_kinds[i] == 'n'   ? MYSQL_TYPE_LONGLONG
                                 : log_kinds[i] == 't' ? MYSQL_TYPE_TIMESTAMP
                                                       : MYSQL_TYPE_STRING;
        log_res[i].buffer = log_cells[i];
        log_res[i].buffer_length = CELL;
        log_res[i].length = &log_lens[i];
        log_res[i].is_null = &log_nulls[i];
    }
    if (mysql_stmt_bind_result(logs, log_res)) {
        fprintf(stderr, "baseline: bind: %s\n", mysql_stmt_error(logs));
        return 1;
    }
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
        if (slash && strcmp(slash, "/execution-logs") == 0) {
            log_page(logs, log_cells, log_lens, log_nulls, &req, &pg);
            FCGX_Finish_r(&req);
            continue;
        }
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
            if (nulls[i])
                FCGX_PutS("null", req.out);
            else if (i == 0)
                FCGX_PutStr(cells[i], (int)lens[i], req.out);
            else if (i == 4)
                FCGX_PutS(lens[i] == 1 && cells[i][0] == '0' ? "false" : "true", req.out);
            else
                put_json_str(req.out, cells[i], lens[i]);
        }
        FCGX_PutS("}}", req.out);
        FCGX_Finish_r(&req);
    }
    mysql_stmt_close(st);
    mysql_stmt_close(logs);
    buf_free(&pg);
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
