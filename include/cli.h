/* cli.h — the command line's option parsing: every command declares its options in a table
 * (struct cli_opt), and cli_parse runs getopt_long over it. Unknown, misspelt or abbreviated
 * options, a missing value and the wrong number of arguments are refused with the command's
 * usage line, before any configuration is read or any database is touched.
 *
 * To give a command a new option, add a row to its table (and an index to its enum) in the
 * module that runs the command; usage and --help are generated from the table. */
#ifndef AIENGINE_CLI_H
#define AIENGINE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#define CLI_MAX_OPTS 16
#define CLI_MAX_ARGS 4

struct cli_opt {
    const char *name;    /* long name without "--"; NULL ends the table */
    const char *metavar; /* "EMAIL": the option takes a value; NULL: a flag (value "1") */
    bool required;
    const char *help;
};

struct cli_command {
    const char *name;           /* "token:create" */
    const char *args;           /* positional arguments for the usage line ("EVENT"), or NULL */
    int min_args, max_args;     /* how many positional arguments it takes */
    const struct cli_opt *opts; /* its options (NULL: none) */
    const char *help;           /* one paragraph */
};

/* What cli_parse found. Pointers are into argv (nothing to free). */
struct cli_args {
    const char *opt[CLI_MAX_OPTS]; /* by row of the command's table; NULL when not given */
    const char *arg[CLI_MAX_ARGS];
    int nargs;
    const char *etc; /* --etc DIR, accepted by every command; NULL when not given */
    bool help;       /* --help or -h was given: print cli_help and do nothing else */
};

/* argv[0] is the command's name, argv[1..argc) what followed it. Returns 0 (out filled), or
 * 2 after "error: ..." and the usage line on err. A value may follow its option as the next
 * word or after '='; "--" ends the options. */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *out,
              FILE *err);
/* "usage: aiengine token:create --email EMAIL --name NAME [--abilities ABILITIES]\n" */
void cli_usage(const struct cli_command *cmd, FILE *f);
/* The usage line, the help paragraph and one line per option. */
void cli_help(const struct cli_command *cmd, FILE *f);

#endif
