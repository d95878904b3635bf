/* test_migrate.c — unit tests for the database-free half of migrate.c: migrate_list (file
 * name order, the .down.sql partner, NNNN_ names, unique numbers, the real db/migrations)
 * and migrate_split (statements end at a ';' that ends a line; comment-only and blank
 * pieces dropped). Fixture folders are created under a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate.h"

static char tmpdir[256];

static int setup_all(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/aiengine-migrate-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_all(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* tmpdir/<name>/ with the given files (NULL-terminated list), each holding "SELECT 1;\n". */
static const char *make_dir(const char *name, const char *const *files)
{
    static char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
    if (mkdir(dir, 0700)) fail_msg("mkdir %s", dir);
    for (size_t i = 0; files[i]; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("SELECT 1;\n", f);
        fclose(f);
    }
    return dir;
}

static void list_fails(const char *name, const char *const *files, const char *n1, const char *n2)
{
    const char *dir = make_dir(name, files);
    struct migration_file *out = (void *)1;
    char err[512] = "";
    int n = migrate_list(dir, &out, err, sizeof err);
    if (n >= 0) {
        migrate_files_free(out, n);
        fail_msg("%s: expected migrate_list to fail", name);
    }
    assert_null(out);
    if (!strstr(err, n1)) fail_msg("%s: expected '%s' in '%s'", name, n1, err);
    if (n2 && !strstr(err, n2)) fail_msg("%s: expected '%s' in '%s'", name, n2, err);
}

static void test_list_sorted_by_name(void **state)
{
    (void)state;
    static const char *const files[] = {
        "0010_ten.up.sql",
        "0010_ten.down.sql",
        "0002_two.up.sql",
        "0002_two.down.sql",
        "0001_one.up.sql",
        "0001_one.down.sql",
        "README.md",
        "notes.sql",
        "0003_three.up.sql.bak",
        NULL,
    };
    const char *dir = make_dir("sorted", files);
    struct migration_file *out = NULL;
    char err[512] = "";
    int n = migrate_list(dir, &out, err, sizeof err);
    if (n < 0) fail_msg("%s", err);
    assert_int_equal(n, 3);
    assert_string_equal(out[0].name, "0001_one");
    assert_string_equal(out[1].name, "0002_two");
    assert_string_equal(out[2].name, "0010_ten");
    char want[600];
    snprintf(want, sizeof want, "%s/0002_two.up.sql", dir);
    assert_string_equal(out[1].up_path, want);
    snprintf(want, sizeof want, "%s/0002_two.down.sql", dir);
    assert_string_equal(out[1].down_path, want);
    migrate_files_free(out, n);
}

static void test_list_empty_and_missing_dir(void **state)
{
    (void)state;
    static const char *const none[] = {NULL};
    const char *dir = make_dir("empty", none);
    struct migration_file *out = NULL;
    char err[512] = "";
    int n = migrate_list(dir, &out, err, sizeof err);
    assert_int_equal(n, 0);
    migrate_files_free(out, 0);

    n = migrate_list("/nonexistent/migrations", &out, err, sizeof err);
    assert_int_equal(n, -1);
    assert_null(out);
    assert_non_null(strstr(err, "/nonexistent/migrations"));
}

static void test_list_real_migrations(void **state)
{
    (void)state;
    struct migration_file *out = NULL;
    char err[512] = "";
    int n = migrate_list("db/migrations", &out, err, sizeof err);
    if (n < 0) fail_msg("db/migrations (run from the repository root): %s", err);
    static const char *const names[] = {
        "0001_create_users_table",
        "0002_create_personal_access_tokens_table",
        "0003_create_workflows_table",
        "0004_create_prompts_table",
        "0005_create_workflow_steps_table",
        "0006_create_execution_logs_table",
        "0007_create_workflow_runs_table",
        "0008_add_workflow_run_id_to_execution_logs",
        "0009_create_idempotency_keys_table",
        "0010_create_login_attempts_table",
    };
    assert_int_equal(n, 10);
    for (int i = 0; i < n; i++) assert_string_equal(out[i].name, names[i]);
    migrate_files_free(out, n);
}

static void test_list_missing_down(void **state)
{
    (void)state;
    static const char *const files[] = {"0001_one.up.sql", "0001_one.down.sql", "0002_two.up.sql",
                                        NULL};
    list_fails("nodown", files, "0002_two", "down.sql");
}

static void test_list_bad_names(void **state)
{
    (void)state;
    static const char *const a[] = {"12_short.up.sql", "12_short.down.sql", NULL};
    list_fails("bad1", a, "12_short", "NNNN_name");
    static const char *const b[] = {"abcd_letters.up.sql", "abcd_letters.down.sql", NULL};
    list_fails("bad2", b, "abcd_letters", "NNNN_name");
    static const char *const c[] = {"0001-dash.up.sql", "0001-dash.down.sql", NULL};
    list_fails("bad3", c, "0001-dash", "NNNN_name");
    static const char *const d[] = {"001_three.up.sql", "001_three.down.sql", "0002_ok.up.sql",
                                    "0002_ok.down.sql", NULL};
    list_fails("bad4", d, "001_three", "NNNN_name");
    static const char *const e[] = {"create_users.up.sql", "create_users.down.sql", NULL};
    list_fails("bad5", e, "create_users", "NNNN_name");
}

static void test_list_duplicate_numbers(void **state)
{
    (void)state;
    static const char *const files[] = {"0001_one.up.sql", "0001_one.down.sql", "0001_uno.up.sql",
                                        "0001_uno.down.sql", NULL};
    list_fails("dupnum", files, "0001", "share");
    static const char *const ok[] = {"0001_one.up.sql", "0001_one.down.sql", "0011_one.up.sql",
                                     "0011_one.down.sql", NULL};
    const char *dir = make_dir("notdup", ok);
    struct migration_file *out = NULL;
    char err[512] = "";
    int n = migrate_list(dir, &out, err, sizeof err);
    if (n < 0) fail_msg("%s", err);
    assert_int_equal(n, 2);
    migrate_files_free(out, n);
}

/* ---- migrate_split ---- */

static void free_stmts(char **s, int n)
{
    for (int i = 0; i < n; i++) free(s[i]);
    free(s);
}

static void test_split_basic(void **state)
{
    (void)state;
    char **s = NULL;
    int n = migrate_split("CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n", &s);
    assert_int_equal(n, 2);
    assert_string_equal(s[0], "CREATE TABLE a (id int)");
    assert_non_null(strstr(s[1], "CREATE TABLE b (id int)"));
    assert_null(strchr(s[1], ';'));
    free_stmts(s, n);

    /* multi-line statements stay whole */
    n = migrate_split("CREATE TABLE a (\n  id int,\n  x int\n);\nDROP TABLE c;\n", &s);
    assert_int_equal(n, 2);
    assert_non_null(strstr(s[0], "id int,\n  x int"));
    assert_non_null(strstr(s[1], "DROP TABLE c"));
    free_stmts(s, n);
}

static void test_split_semicolon_inside_a_line(void **state)
{
    (void)state;
    char **s = NULL;
    int n = migrate_split("INSERT INTO t VALUES ('a;b'); INSERT INTO t VALUES ('c')\n"
                          "  , ('d');\n",
                          &s);
    assert_int_equal(n, 1);
    assert_non_null(strstr(s[0], "'a;b'); INSERT"));
    free_stmts(s, n);
}

static void test_split_whitespace_and_crlf(void **state)
{
    (void)state;
    char **s = NULL;
    int n = migrate_split("SELECT 1;   \t\r\nSELECT 2;\r\n\r\n", &s);
    assert_int_equal(n, 2);
    assert_string_equal(s[0], "SELECT 1");
    assert_non_null(strstr(s[1], "SELECT 2"));
    assert_null(strchr(s[1], ';'));
    free_stmts(s, n);
}

static void test_split_comments_and_blanks_dropped(void **state)
{
    (void)state;
    char **s = NULL;
    int n = migrate_split("-- header comment\n\n-- another;\n\nSELECT 1;\n\n-- trailing\n", &s);
    assert_int_equal(n, 1);
    assert_non_null(strstr(s[0], "SELECT 1"));
    free_stmts(s, n);

    n = migrate_split("", &s);
    assert_int_equal(n, 0);
    free_stmts(s, n);
    n = migrate_split("   \n\n-- only a comment\n", &s);
    assert_int_equal(n, 0);
    free_stmts(s, n);
    n = migrate_split(";\n;\n", &s);
    assert_int_equal(n, 0);
    free_stmts(s, n);

    /* a comment before a statement belongs to it (harmless to MariaDB) */
    n = migrate_split("-- creates a\nCREATE TABLE a (id int);\n", &s);
    assert_int_equal(n, 1);
    assert_non_null(strstr(s[0], "CREATE TABLE a (id int)"));
    free_stmts(s, n);
}

static void test_split_last_statement_without_semicolon(void **state)
{
    (void)state;
    char **s = NULL;
    int n = migrate_split("SELECT 1;\nSELECT 2", &s);
    assert_int_equal(n, 2);
    assert_non_null(strstr(s[1], "SELECT 2"));
    free_stmts(s, n);
    n = migrate_split("SELECT 3;", &s);
    assert_int_equal(n, 1);
    assert_string_equal(s[0], "SELECT 3");
    free_stmts(s, n);
}

static void test_split_real_migrations(void **state)
{
    (void)state;
    struct migration_file *files = NULL;
    char err[512] = "";
    int nf = migrate_list("db/migrations", &files, err, sizeof err);
    assert_true(nf > 0);
    for (int i = 0; i < nf; i++) {
        const char *paths[2] = {files[i].up_path, files[i].down_path};
        for (int k = 0; k < 2; k++) {
            FILE *f = fopen(paths[k], "rb");
            assert_non_null(f);
            char buf[65536];
            size_t len = fread(buf, 1, sizeof buf - 1, f);
            buf[len] = '\0';
            fclose(f);
            char **s = NULL;
            int n = migrate_split(buf, &s);
            if (n < 1) fail_msg("%s: no statements", paths[k]);
            for (int j = 0; j < n; j++) {
                if (k == 0 && j == n - 1 && !strstr(s[j], "CREATE TABLE") &&
                    !strstr(s[j], "ALTER TABLE"))
                    fail_msg("%s: last statement is not a CREATE or ALTER TABLE: %s", paths[k],
                             s[j]);
                size_t sl = strlen(s[j]);
                if (sl && s[j][sl - 1] == ';') fail_msg("%s: statement keeps its ';'", paths[k]);
            }
            free_stmts(s, n);
        }
    }
    migrate_files_free(files, nf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_sorted_by_name),
        cmocka_unit_test(test_list_empty_and_missing_dir),
        cmocka_unit_test(test_list_real_migrations),
        cmocka_unit_test(test_list_missing_down),
        cmocka_unit_test(test_list_bad_names),
        cmocka_unit_test(test_list_duplicate_numbers),
        cmocka_unit_test(test_split_basic),
        cmocka_unit_test(test_split_semicolon_inside_a_line),
        cmocka_unit_test(test_split_whitespace_and_crlf),
        cmocka_unit_test(test_split_comments_and_blanks_dropped),
        cmocka_unit_test(test_split_last_statement_without_semicolon),
        cmocka_unit_test(test_split_real_migrations),
    };
    return cmocka_run_group_tests_name("migrate", tests, setup_all, teardown_all);
}
