/* main.c — the aiengine command line: serve, migrations, routes, config:check and the
 * user/token commands, in the manner of `php artisan`. */
#include "admin.h"
#include "arena.h"
#include "cli.h"
#include "config.h"
#include "digest.h"
#include "engine_cli.h"
#include "engine_conf.h"
#include "envfile.h"
#include "log.h"
#include "master.h"
#include "migrate.h"
#include "openapi.h"
#include "runner.h"

#include <getopt.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef AIENGINE_VERSION
#define AIENGINE_VERSION "dev"
#endif

static const struct cli_command cmd_serve = {
    "serve", NULL, 0, 0, NULL, "Run the FastCGI master and its pre-forked workers (foreground)."};
static const struct cli_command cmd_migrate = {
    "migrate", NULL, 0, 0, NULL, "Apply every pending migration as one new batch."};
static const struct cli_command cmd_migrate_status = {
    "migrate:status", NULL, 0, 0, NULL, "List migrations and whether each has run."};
static const struct cli_command cmd_migrate_rollback = {
    "migrate:rollback", NULL, 0, 0, NULL, "Undo the last batch of migrations."};
static const struct cli_command cmd_routes = {"routes", NULL, 0,
                                              0,        NULL, "Print the compiled route table."};
static const struct cli_command cmd_openapi = {
    "openapi", NULL, 0, 0, NULL, "Print the OpenAPI 3.1 document generated from etc/ (JSON)."};
static const struct cli_command cmd_config_check = {
    "config:check",
    NULL,
    0,
    0,
    NULL,
    "Validate etc/*.yaml; prints file:line and exits 1 on the first error."};
static const struct cli_command cmd_work = {
    "work",
    NULL,
    0,
    0,
    NULL,
    "Run the engine: a master and engine.workers runner processes that execute due workflow "
    "runs (foreground)."};

struct command {
    const struct cli_command *cli;
    bool full_config; /* needs routes and resources too */
};

static const struct command commands[] = {
    {&cmd_serve, true},
    {&cmd_migrate, false},
    {&cmd_migrate_status, false},
    {&cmd_migrate_rollback, false},
    {&cmd_routes, true},
    {&cmd_openapi, true},
    {&cmd_config_check, true},
    {&admin_cmd_user_create, false},
    {&admin_cmd_token_create, false},
    {&admin_cmd_token_list, false},
    {&cmd_work, false},
    {&engine_cli_cmd_fire, true},
    {&engine_cli_cmd_cancel, true},
    {&engine_cli_cmd_retry, true},
    {&engine_cli_cmd_check, false},
    {&admin_cmd_token_revoke, false},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aiengine [--etc DIR] <command> [options]\n\n"
            "Configuration is read from DIR (default $AIENGINE_ETC, else %s); AIENGINE_* "
            "environment\nvariables override it (see aiengine.yaml).%s\n\ncommands:\n",
            CONFIG_DEFAULT_ETC,
            CONFIG_DEFAULT_ETC[0] == '/'
                ? ""
                : "\nIn a checkout, the CLI also reads var/aiengine.env, which `make run` "
                  "writes, for\nany AIENGINE_* variable not already set (so it reaches make "
                  "run's database).");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-18s %s\n", commands[i].cli->name, commands[i].cli->help);
    fprintf(f, "\noptions:\n  %-18s %s\n  %-18s %s\n  %-18s %s\n", "--etc DIR",
            "read the configuration from DIR", "-h, --help", "show this help", "--version",
            "print the version");
    fprintf(f, "\n`aiengine <command> --help` shows a command's options.\n");
}

/* The options before the command: --etc, --help, --version. Returns the index of the
 * command word, or -1 after printing what to do (*rc set). */
static int global_options(int argc, char **argv, const char **etc, int *rc)
{
    static const struct option lo[] = {{"etc", required_argument, NULL, 'e'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"version", no_argument, NULL, 'V'},
                                       {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 0;
    for (;;) {
        int at = optind ? optind : 1;
        /* "+": stop at the command word; ":": a missing value is ':' */
        int c = getopt_long(argc, argv, "+:h", lo, NULL);
        if (c == -1) break;
        const char *word = argv[at];
        static const char *const full[] = {['e'] = "--etc", ['h'] = "--help", ['V'] = "--version"};
        bool exact = c == 'h' && !strcmp(word, "-h");
        if (!exact && (c == 'e' || c == 'h' || c == 'V'))
            exact = !strncmp(word, full[c], strlen(full[c])) &&
                    (!word[strlen(full[c])] || word[strlen(full[c])] == '=');
        if (c == ':' || c == '?' || !exact) {
            fprintf(stderr, "error: %s %s\n", c == ':' ? "missing value for" : "unknown option",
                    word);
            usage(stderr);
            *rc = 2;
            return -1;
        }
        if (c == 'e') {
            *etc = optarg;
        } else if (c == 'h') {
            usage(stdout);
            *rc = 0;
            return -1;
        } else {
            printf("aiengine %s\n", AIENGINE_VERSION);
            *rc = 0;
            return -1;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        *rc = 2;
        return -1;
    }
    return optind;
}

extern char **environ;

/* True when any AIENGINE_DB_* variable is set. */
static bool env_names_database(void)
{
    for (char **e = environ; *e; e++)
        if (!strncmp(*e, "AIENGINE_DB_", 12)) return true;
    return false;
}

static int print_routes(const struct config *cfg)
{
    printf("%-7s %-36s %-13s %-18s %-6s %s\n", "METHOD", "PATH", "HANDLER", "RESOURCE", "AUTH",
           "ABILITY");
    for (size_t i = 0; i < cfg->router->n; i++) {
        const struct route *r = &cfg->router->routes[i];
        char res[80];
        snprintf(res, sizeof res, "%s%s%s", r->resource ? r->resource->name : "-",
                 r->relation ? "." : "", r->relation ? r->relation->name : "");
        printf("%-7s %-36s %-13s %-18s %-6s %s\n", r->method, r->path,
               router_handler_name(r->handler), res, r->auth ? "token" : "none",
               r->ability ? r->ability : "-");
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *etc = NULL;
    int rc = 0;
    int i = global_options(argc, argv, &etc, &rc);
    if (i < 0) return rc;
    const char *name = argv[i];
    const struct command *cmd = NULL;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (!strcmp(commands[k].cli->name, name)) cmd = &commands[k];
    if (!cmd) {
        fprintf(stderr, "unknown command '%s'\n\n", name);
        usage(stderr);
        return 2;
    }
    struct cli_args args;
    if (cli_parse(cmd->cli, argc - i, argv + i, &args, stderr)) return 2;
    if (args.help) {
        cli_help(cmd->cli, stdout);
        return 0;
    }
    if (args.etc) etc = args.etc;
    /* a checkout's CLI reaches `make run`'s database with no exports (envfile.h), unless
     * the environment names a database itself: the file's socket would otherwise win over
     * an exported AIENGINE_DB_HOST */
    if (!etc && !getenv("AIENGINE_ETC") && CONFIG_DEFAULT_ETC[0] != '/' && !env_names_database() &&
        envfile_apply(CONFIG_CHECKOUT_ENV) < 0)
        return 1;
    digest_init(); /* before any fork: every process inherits the fetched implementation */
    log_set_role(strcmp(name, "serve") && strcmp(name, "work") ? "cli" : "master");

    struct config_error err = {{0}};
    struct config *cfg = cmd->full_config ? config_load(etc, &err) : config_load_base(etc, &err);
    if (!cfg) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    if (!strcmp(name, "work") || !strcmp(name, "workflows:check")) {
        char ypath[4096];
        if (etc) snprintf(ypath, sizeof ypath, "%s/engine.yaml", etc);
        struct engine_conf *ec = engine_conf_load(etc ? ypath : NULL, &err);
        if (!ec) {
            fprintf(stderr, "%s\n", err.msg);
            config_free(cfg);
            return 1;
        }
        if (!strcmp(name, "work")) return runner_work(etc, cfg, ec);
        rc = engine_cli_check(cfg, ec);
        engine_conf_free(ec);
        config_free(cfg);
        return rc;
    }
    if (!strcmp(name, "event:fire") || !strncmp(name, "run:", 4)) {
        rc = !strcmp(name, "event:fire")
                 ? engine_cli_fire(cfg, &args)
                 : engine_cli_run_change(cfg, !strcmp(name, "run:retry"), &args);
        config_free(cfg);
        return rc;
    }
    if (!strcmp(name, "serve")) {
        if (!*cfg->app_key) {
            /* cursors must verify on every worker; without a configured key, one random
             * key for this master's lifetime keeps that true on a single host */
            unsigned char rnd[32];
            char hex[65];
            if (RAND_bytes(rnd, sizeof rnd) != 1) return 1;
            for (int k = 0; k < 32; k++) snprintf(hex + 2 * k, 3, "%02x", rnd[k]);
            free(cfg->app_key);
            cfg->app_key = mem_strdup(hex);
            log_warn("app.key is not set: using a random key (cursors will not survive a "
                     "restart or verify on other hosts)");
        }
        return master_run(etc, cfg);
    } else if (!strcmp(name, "migrate")) {
        rc = migrate_up(cfg);
    } else if (!strcmp(name, "migrate:status")) {
        rc = migrate_status(cfg);
    } else if (!strcmp(name, "migrate:rollback")) {
        rc = migrate_rollback(cfg);
    } else if (!strcmp(name, "routes")) {
        rc = print_routes(cfg);
    } else if (!strcmp(name, "openapi")) {
        struct buf doc;
        buf_init(&doc, 0);
        openapi_write(cfg, &doc);
        fwrite(doc.data, 1, doc.len, stdout);
        putchar('\n');
        buf_free(&doc);
        rc = 0;
    } else if (!strcmp(name, "config:check")) {
        printf("configuration OK: %zu resources, %zu routes\n", cfg->resources->n, cfg->router->n);
        rc = 0;
    } else if (!strcmp(name, "user:create")) {
        rc = admin_user_create(cfg, &args);
    } else if (!strcmp(name, "token:create")) {
        rc = admin_token_create(cfg, &args);
    } else if (!strcmp(name, "token:list")) {
        rc = admin_token_list(cfg, &args);
    } else {
        rc = admin_token_revoke(cfg, &args);
    }
    config_free(cfg);
    return rc;
}
