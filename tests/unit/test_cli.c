/* test_cli.c — unit tests for cli.c (option tables through getopt_long) and envfile.c (the
 * KEY=VALUE defaults `make run` leaves for the CLI). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "envfile.h"

enum { O_EMAIL, O_NAME, O_ABIL, O_FLAG };
static const struct cli_opt opts[] = {
    [O_EMAIL] = {"email", "EMAIL", true, "who"},
    [O_NAME] = {"name", "NAME", true, "what"},
    [O_ABIL] = {"abilities", "LIST", false, "which"},
    [O_FLAG] = {"dry-run", NULL, false, "a flag"},
    {NULL, NULL, false, NULL},
};
static const struct cli_command cmd = {"token:create", NULL, 0, 0, opts, "Make a token."};
static const struct cli_command cmd_args = {"event:fire", "EVENT", 1, 1, opts + 2, "Fire."};

static char errbuf[4096];

/* Parses the words after the command name; the messages go to errbuf. */
static int parse(const struct cli_command *c, struct cli_args *a, int n, ...)
{
    char *argv[20];
    argv[0] = (char *)c->name;
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    argv[n + 1] = NULL;
    FILE *f = fmemopen(errbuf, sizeof errbuf, "w");
    int rc = cli_parse(c, n + 1, argv, a, f);
    fclose(f);
    return rc;
}

static void test_both_value_forms(void **state)
{
    (void)state;
    struct cli_args a;
    assert_int_equal(parse(&cmd, &a, 4, "--email", "a@b.c", "--name=ci", "--dry-run"), 0);
    assert_string_equal(a.opt[O_EMAIL], "a@b.c");
    assert_string_equal(a.opt[O_NAME], "ci");
    assert_null(a.opt[O_ABIL]);
    assert_string_equal(a.opt[O_FLAG], "1");
    assert_false(a.help);
    assert_null(a.etc);
}

static void test_refuses_unknown_misspelt_and_abbreviated(void **state)
{
    (void)state;
    struct cli_args a;
    static const char *bad[] = {"--emial", "--em", "--e", "-x", "--dry-run=yes", "--Email"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(parse(&cmd, &a, 5, "--email", "a@b.c", "--name", "n", bad[i]), 2);
        assert_non_null(strstr(errbuf, "unknown option"));
        assert_non_null(strstr(errbuf, "usage: aiengine token:create --email EMAIL"));
    }
}

static void test_required_missing_value_twice(void **state)
{
    (void)state;
    struct cli_args a;
    assert_int_equal(parse(&cmd, &a, 2, "--email", "a@b.c"), 2);
    assert_non_null(strstr(errbuf, "--name is required"));
    assert_int_equal(parse(&cmd, &a, 3, "--name", "n", "--email"), 2);
    assert_non_null(strstr(errbuf, "missing value for --email"));
    assert_int_equal(parse(&cmd, &a, 6, "--name", "n", "--email", "a", "--email", "b"), 2);
    assert_non_null(strstr(errbuf, "given twice"));
    /* no positional arguments for this command */
    assert_int_equal(parse(&cmd, &a, 5, "--name", "n", "--email", "a", "extra"), 2);
    assert_non_null(strstr(errbuf, "unexpected argument extra"));
}

static void test_help_and_etc_anywhere(void **state)
{
    (void)state;
    struct cli_args a;
    /* --help wins over missing required options and is reported, not acted on */
    assert_int_equal(parse(&cmd, &a, 2, "--name", "n"), 2);
    assert_int_equal(parse(&cmd, &a, 3, "--name", "n", "--help"), 0);
    assert_true(a.help);
    assert_int_equal(parse(&cmd, &a, 1, "-h"), 0);
    assert_true(a.help);
    assert_int_equal(parse(&cmd, &a, 6, "--etc", "/x", "--name", "n", "--email", "e"), 0);
    assert_string_equal(a.etc, "/x");
}

static void test_positional_in_any_order(void **state)
{
    (void)state;
    struct cli_args a;
    assert_int_equal(parse(&cmd_args, &a, 3, "lead.created", "--abilities", "x"), 0);
    assert_int_equal(a.nargs, 1);
    assert_string_equal(a.arg[0], "lead.created");
    assert_int_equal(parse(&cmd_args, &a, 3, "--abilities", "x", "lead.created"), 0);
    assert_string_equal(a.arg[0], "lead.created");
    assert_int_equal(parse(&cmd_args, &a, 2, "--", "-odd-event"), 0);
    assert_string_equal(a.arg[0], "-odd-event");
    assert_int_equal(parse(&cmd_args, &a, 0), 2);
    assert_non_null(strstr(errbuf, "needs EVENT"));
    assert_int_equal(parse(&cmd_args, &a, 2, "a", "b"), 2);
}

static void test_usage_and_help_text(void **state)
{
    (void)state;
    char out[2048];
    FILE *f = fmemopen(out, sizeof out, "w");
    cli_help(&cmd, f);
    fclose(f);
    assert_non_null(strstr(out, "usage: aiengine token:create --email EMAIL --name NAME "
                                "[--abilities LIST] [--dry-run]\n"));
    assert_non_null(strstr(out, "Make a token."));
    assert_non_null(strstr(out, "--email EMAIL"));
    assert_non_null(strstr(out, "(required)"));
}

struct seen {
    char text[512];
};

static void collect(const char *k, const char *v, void *ctx)
{
    struct seen *s = ctx;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "[%s=%s]", k, v);
}

static void test_envfile_parse(void **state)
{
    (void)state;
    struct seen s = {{0}};
    const char *t = "# comment\n\n  # indented comment\nAIENGINE_DB_SOCKET=/x/y.sock\r\n"
                    "AIENGINE_DB_PASSWORD=a=b c#d\nAIENGINE_EMPTY=\nAIENGINE_LAST=z";
    assert_int_equal(envfile_parse(t, strlen(t), collect, &s), 0);
    assert_string_equal(s.text, "[AIENGINE_DB_SOCKET=/x/y.sock][AIENGINE_DB_PASSWORD=a=b c#d]"
                                "[AIENGINE_EMPTY=][AIENGINE_LAST=z]");
}

static void test_envfile_refuses(void **state)
{
    (void)state;
    static const char *bad[] = {
        "AIENGINE_X=1\nPATH=/tmp\n", /* only AIENGINE_* */
        "AIENGINE_X=1\nLD_PRELOAD=x\n",  "AIENGINE_X=1\nAIENGINE_=x\n",
        "AIENGINE_X=1\nno equals\n",     "AIENGINE_X=1\n AIENGINE_Y=2\n", /* indented assignment */
        "AIENGINE_X=1\naiengine_db=2\n", "AIENGINE_X=1\nexport AIENGINE_Y=2\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct seen s = {{0}};
        assert_int_equal(envfile_parse(bad[i], strlen(bad[i]), collect, &s), 2);
        assert_string_equal(s.text, ""); /* nothing applied from a file with a bad line */
    }
}

static void test_envfile_apply_keeps_the_environment(void **state)
{
    (void)state;
    char path[] = "/tmp/aiengine-envfile-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("AIENGINE_TEST_ENVFILE_A=from-file\nAIENGINE_TEST_ENVFILE_B=from-file\n", f);
    fclose(f);
    setenv("AIENGINE_TEST_ENVFILE_A", "from-env", 1);
    unsetenv("AIENGINE_TEST_ENVFILE_B");
    assert_int_equal(envfile_apply(path), 1);
    assert_string_equal(getenv("AIENGINE_TEST_ENVFILE_A"), "from-env");
    assert_string_equal(getenv("AIENGINE_TEST_ENVFILE_B"), "from-file");
    unlink(path);
    assert_int_equal(envfile_apply(path), 0); /* no file: nothing to do, no error */
    unsetenv("AIENGINE_TEST_ENVFILE_A");
    unsetenv("AIENGINE_TEST_ENVFILE_B");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_value_forms),
        cmocka_unit_test(test_refuses_unknown_misspelt_and_abbreviated),
        cmocka_unit_test(test_required_missing_value_twice),
        cmocka_unit_test(test_help_and_etc_anywhere),
        cmocka_unit_test(test_positional_in_any_order),
        cmocka_unit_test(test_usage_and_help_text),
        cmocka_unit_test(test_envfile_parse),
        cmocka_unit_test(test_envfile_refuses),
        cmocka_unit_test(test_envfile_apply_keeps_the_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
