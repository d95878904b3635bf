/* cli.c — getopt_long over a command's option table (cli.h). Options must be spelt out in
 * full: getopt_long would take "--em" for "--email", and a script relying on that breaks the
 * day another option starting with "em" is added. */
#include "cli.h"

#include "config.h"

#include <getopt.h>
#include <string.h>

#define OPT_ETC (CLI_MAX_OPTS + 256)
#define OPT_HELP (CLI_MAX_OPTS + 257)

static size_t count_opts(const struct cli_command *cmd)
{
    size_t n = 0;
    while (cmd->opts && cmd->opts[n].name) n++;
    return n;
}

void cli_usage(const struct cli_command *cmd, FILE *f)
{
    fprintf(f, "usage: aiengine %s", cmd->name);
    for (const struct cli_opt *o = cmd->opts; o && o->name; o++) {
        fprintf(f, " %s--%s", o->required ? "" : "[", o->name);
        if (o->metavar) fprintf(f, " %s", o->metavar);
        if (!o->required) fputc(']', f);
    }
    if (cmd->args) fprintf(f, " %s", cmd->args);
    fputc('\n', f);
}

void cli_help(const struct cli_command *cmd, FILE *f)
{
    cli_usage(cmd, f);
    fprintf(f, "\n%s\n", cmd->help);
    if (cmd->opts && cmd->opts->name) {
        fprintf(f, "\noptions:\n");
        for (const struct cli_opt *o = cmd->opts; o->name; o++) {
            char left[64];
            snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
            fprintf(f, "  %-26s  %s%s\n", left, o->help, o->required ? " (required)" : "");
        }
    }
    fprintf(f, "\n  %-26s  read the configuration from DIR (default: $AIENGINE_ETC, else %s)\n",
            "--etc DIR", CONFIG_DEFAULT_ETC);
    fprintf(f, "  %-26s  show this help and do nothing else\n", "-h, --help");
}

static int refuse(const struct cli_command *cmd, FILE *err, const char *what, const char *opt)
{
    fprintf(err, "error: %s %s\n", what, opt);
    cli_usage(cmd, err);
    return 2;
}

/* True when argv word w names option `name` in full ("--name" or "--name=..."). */
static bool spelt_out(const char *w, const char *name)
{
    size_t n = strlen(name);
    return w[0] == '-' && w[1] == '-' && !strncmp(w + 2, name, n) && (!w[2 + n] || w[2 + n] == '=');
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *out, FILE *err)
{
    memset(out, 0, sizeof *out);
    size_t n = count_opts(cmd);
    if (n > CLI_MAX_OPTS) {
        fprintf(err, "error: %s declares more than %d options\n", cmd->name, CLI_MAX_OPTS);
        return 2;
    }
    struct option lo[CLI_MAX_OPTS + 3];
    for (size_t i = 0; i < n; i++)
        lo[i] = (struct option){cmd->opts[i].name,
                                cmd->opts[i].metavar ? required_argument : no_argument, NULL,
                                (int)(256 + i)};
    lo[n] = (struct option){"etc", required_argument, NULL, OPT_ETC};
    lo[n + 1] = (struct option){"help", no_argument, NULL, OPT_HELP};
    lo[n + 2] = (struct option){NULL, 0, NULL, 0};

    /* "-": arguments come back in order as 1 (no reordering, so the word an option came from
     * is known); ":": a missing value is ':' rather than '?' */
    opterr = 0;
    optind = 0;
    for (;;) {
        int at = optind ? optind : 1;
        int c = getopt_long(argc, argv, "-:h", lo, NULL);
        if (c == -1) break;
        const char *word = at < argc ? argv[at] : "";
        if (c == 1) {
            if (out->nargs >= cmd->max_args) return refuse(cmd, err, "unexpected argument", optarg);
            out->arg[out->nargs++] = optarg;
        } else if (c == 'h' || c == OPT_HELP) {
            if (c == OPT_HELP && !spelt_out(word, "help"))
                return refuse(cmd, err, "unknown option", word);
            out->help = true;
        } else if (c == OPT_ETC) {
            if (!spelt_out(word, "etc")) return refuse(cmd, err, "unknown option", word);
            out->etc = optarg;
        } else if (c >= 256 && c < 256 + (int)n) {
            size_t i = (size_t)(c - 256);
            if (!spelt_out(word, cmd->opts[i].name))
                return refuse(cmd, err, "unknown option", word);
            if (out->opt[i]) return refuse(cmd, err, "option given twice:", word);
            out->opt[i] = cmd->opts[i].metavar ? optarg : "1";
        } else if (c == ':') {
            const char *name = optopt == OPT_ETC ? "etc"
                               : optopt >= 256 && optopt < 256 + (int)n
                                   ? cmd->opts[optopt - 256].name
                                   : "";
            return refuse(cmd, err, spelt_out(word, name) ? "missing value for" : "unknown option",
                          word);
        } else {
            /* '?': an unknown long option (optopt 0), an unknown short one, or a flag given
             * a value ("--help=x") */
            char shortopt[3] = {'-', (char)optopt, '\0'};
            return refuse(cmd, err, "unknown option",
                          optopt && word[0] == '-' && word[1] != '-' ? shortopt : word);
        }
    }
    /* "--" ends the options; what follows is arguments */
    for (int i = optind; i < argc; i++) {
        if (out->nargs >= cmd->max_args) return refuse(cmd, err, "unexpected argument", argv[i]);
        out->arg[out->nargs++] = argv[i];
    }
    if (out->help) return 0;
    for (size_t i = 0; i < n; i++)
        if (cmd->opts[i].required && !out->opt[i]) {
            char opt[80];
            snprintf(opt, sizeof opt, "--%s is required", cmd->opts[i].name);
            return refuse(cmd, err, "option", opt);
        }
    if (out->nargs < cmd->min_args) {
        fprintf(err, "error: %s needs %s\n", cmd->name, cmd->args ? cmd->args : "arguments");
        cli_usage(cmd, err);
        return 2;
    }
    return 0;
}
