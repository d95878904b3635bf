/* main.c — the aiengine command line: serve, migrations, routes, config:check and the
 * user/token commands, in the manner of `php artisan`. */
#include "admin.h"
#include "arena.h"
#include "config.h"
#include "engine_cli.h"
#include "engine_conf.h"
#include "log.h"
#include "master.h"
#include "migrate.h"
#include "openapi.h"
#include "runner.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct command {
    const char *name;
    const char *usage;
    const char *help;
    bool full_config; /* needs routes and resources too */
};

static const struct command commands[] = {
    {"serve", "serve", "Run the FastCGI master and its pre-forked workers (foreground).", true},
    {"migrate", "migrate", "Apply every pending migration as one new batch.", false},
    {"migrate:status", "migrate:status", "List migrations and whether each has run.", false},
    {"migrate:rollback", "migrate:rollback", "Undo the last batch of migrations.", false},
    {"routes", "routes", "Print the compiled route table.", true},
    {"openapi", "openapi", "Print the OpenAPI 3.1 document generated from etc/ (JSON).", true},
    {"config:check", "config:check",
     "Validate etc/*.yaml; prints file:line and exits 1 on the first error.", true},
    {"user:create", "user:create --name NAME --email EMAIL [--password -]",
     "Create a user (the owner of tokens). Prints the new user's id.", false},
    {"token:create",
     "token:create --email EMAIL --name NAME [--abilities read,write,trigger] [--expires-in 30d]",
     "Create a personal access token (abilities: * by default, or read, write and trigger — "
     "trigger alone starts runs and can do nothing else); prints it once, alone on stdout.",
     false},
    {"token:list", "token:list [--email EMAIL]", "List tokens (never their secrets).", false},
    {"work", "work",
     "Run the engine: a master and engine.workers runner processes that execute due "
     "workflow runs (foreground).",
     false},
    {"event:fire", "event:fire EVENT [--object ID] [--context JSON] [--idempotency-key KEY]",
     "Start a run of every active workflow whose trigger_event is EVENT; prints the runs "
     "as JSON.",
     true},
    {"run:cancel", "run:cancel ID",
     "Cancel a run (not once it succeeded, failed or was cancelled); prints it as JSON.", true},
    {"run:retry", "run:retry ID",
     "Queue a failed or cancelled run again at the step after its progress cursor.", true},
    {"workflows:check", "workflows:check",
     "List every workflow step that cannot run (unknown type, invalid condition_rules, "
     "template errors, missing or archived prompt, url host not allowed); exits 1 if any.",
     false},
    {"token:revoke", "token:revoke ID",
     "Delete a token; it stops working within "
     "auth.token_cache_seconds.",
     false},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: aiengine [--etc DIR] <command> [options]\n\n"
               "Configuration is read from DIR (default $AIENGINE_ETC, else ./etc); AIENGINE_* "
               "environment\nvariables override it (see etc/aiengine.yaml).\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-18s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n`aiengine <command> --help` shows a command's options.\n");
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
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (!strcmp(argv[i], "--etc") && i + 1 < argc) {
            etc = argv[i + 1];
            i += 2;
        } else if (!strncmp(argv[i], "--etc=", 6)) {
            etc = argv[i] + 6;
            i++;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[i++];
    const struct command *cmd = NULL;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (!strcmp(commands[k].name, name)) cmd = &commands[k];
    if (!cmd) {
        fprintf(stderr, "unknown command '%s'\n\n", name);
        usage(stderr);
        return 2;
    }
    for (int k = i; k < argc; k++)
        if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
            printf("usage: aiengine %s\n\n%s\n", cmd->usage, cmd->help);
            return 0;
        }
    for (int k = i; k < argc; k++)
        if (!strcmp(argv[k], "--etc") && k + 1 < argc) etc = argv[k + 1];
    log_set_role(strcmp(name, "serve") && strcmp(name, "work") ? "cli" : "master");

    struct config_error err = {{0}};
    struct config *cfg = cmd->full_config ? config_load(etc, &err) : config_load_base(etc, &err);
    if (!cfg) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int rc;
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
        rc = engine_cli_check(cfg, ec, argc - i, argv + i);
        engine_conf_free(ec);
        config_free(cfg);
        return rc;
    }
    if (!strcmp(name, "event:fire") || !strncmp(name, "run:", 4)) {
        rc = !strcmp(name, "event:fire")
                 ? engine_cli_fire(cfg, argc - i, argv + i)
                 : engine_cli_run_change(cfg, !strcmp(name, "run:retry"), argc - i, argv + i);
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
        rc = admin_user_create(cfg, argc - i, argv + i);
    } else if (!strcmp(name, "token:create")) {
        rc = admin_token_create(cfg, argc - i, argv + i);
    } else if (!strcmp(name, "token:list")) {
        rc = admin_token_list(cfg, argc - i, argv + i);
    } else {
        rc = admin_token_revoke(cfg, argc - i, argv + i);
    }
    config_free(cfg);
    return rc;
}
