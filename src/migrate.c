/* migrate.c — apply and roll back schema migrations. DDL in MariaDB commits implicitly,
 * so each migration is recorded right after it succeeds: a failure stops the run with
 * the file name and MariaDB's message, and the bookkeeping still tells the truth. */
#include "migrate.h"
#include "arena.h"
#include "db.h"
#include "log.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_files(const void *a, const void *b)
{
    return strcmp(((const struct migration_file *)a)->name,
                  ((const struct migration_file *)b)->name);
}

void migrate_files_free(struct migration_file *files, int n)
{
    for (int i = 0; i < n; i++) {
        free(files[i].name);
        free(files[i].up_path);
        free(files[i].down_path);
    }
    free(files);
}

int migrate_list(const char *dir, struct migration_file **out, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    *out = NULL;
    if (!d) {
        snprintf(err, errlen, "cannot open %s", dir);
        return -1;
    }
    struct migration_file *files = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 7 || strcmp(e->d_name + len - 7, ".up.sql")) continue;
        const char *nm = e->d_name;
        if (len < 12 || nm[4] != '_' || !(nm[0] >= '0' && nm[0] <= '9') ||
            !(nm[1] >= '0' && nm[1] <= '9') || !(nm[2] >= '0' && nm[2] <= '9') ||
            !(nm[3] >= '0' && nm[3] <= '9')) {
            snprintf(err, errlen, "%s: migration names must look like NNNN_name.up.sql", nm);
            closedir(d);
            migrate_files_free(files, n);
            return -1;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            files = mem_realloc(files, (size_t)cap * sizeof *files);
        }
        struct migration_file *f = &files[n++];
        f->name = mem_alloc(len - 6);
        memcpy(f->name, nm, len - 7);
        f->name[len - 7] = '\0';
        size_t pl = strlen(dir) + len + 8;
        f->up_path = mem_alloc(pl);
        snprintf(f->up_path, pl, "%s/%s", dir, nm);
        f->down_path = mem_alloc(pl + 2);
        snprintf(f->down_path, pl + 2, "%s/%s.down.sql", dir, f->name);
    }
    closedir(d);
    if (n) qsort(files, (size_t)n, sizeof *files, cmp_files);
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(files[i].down_path, &st)) {
            snprintf(err, errlen, "%s: missing %s.down.sql", files[i].name, files[i].name);
            migrate_files_free(files, n);
            return -1;
        }
        if (i && !strncmp(files[i].name, files[i - 1].name, 4)) {
            snprintf(err, errlen, "%s and %s share the number %.4s", files[i - 1].name,
                     files[i].name, files[i].name);
            migrate_files_free(files, n);
            return -1;
        }
    }
    *out = files;
    return n;
}

static bool blank_or_comment(const char *s)
{
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
        if (!*s) return true;
        if (s[0] == '-' && s[1] == '-') {
            while (*s && *s != '\n') s++;
            continue;
        }
        return false;
    }
    return true;
}

int migrate_split(const char *sql, char ***out)
{
    char **list = NULL;
    int n = 0;
    const char *start = sql, *p = sql;
    while (1) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p);
        const char *q = end;
        while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r')) q--;
        bool is_end = q > p && q[-1] == ';';
        if (is_end || !nl) {
            size_t len = (size_t)((is_end ? q - 1 : end) - start);
            char *stmt = mem_alloc(len + 1);
            memcpy(stmt, start, len);
            stmt[len] = '\0';
            if (!blank_or_comment(stmt)) {
                list = mem_realloc(list, (size_t)(n + 1) * sizeof *list);
                list[n++] = stmt;
            } else {
                free(stmt);
            }
            start = nl ? nl + 1 : end;
        }
        if (!nl) break;
        p = nl + 1;
    }
    *out = list;
    return n;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = mem_alloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static int run_script(struct db *db, const char *path)
{
    char *sql = read_file(path);
    if (!sql) {
        fprintf(stderr, "migrate: cannot read %s\n", path);
        return -1;
    }
    char **stmts;
    int n = migrate_split(sql, &stmts);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0 && db_exec_script(db, stmts[i], strlen(stmts[i])) != DB_OK) {
            fprintf(stderr, "migrate: %s: %s\n", path, db_error_message(db));
            rc = -1;
        }
        free(stmts[i]);
    }
    free(stmts);
    free(sql);
    return rc;
}

static const char *migrations_ddl =
    "CREATE TABLE IF NOT EXISTS `migrations` ("
    "`id` int(10) unsigned NOT NULL AUTO_INCREMENT, "
    "`migration` varchar(255) NOT NULL, `batch` int(11) NOT NULL, PRIMARY KEY (`id`)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";

/* What every migrate command works with: the files, a connection, and the rows of the
 * `migrations` table, all released by session_close. */
struct session {
    struct arena arena;
    struct db *db;
    struct migration_file *files;
    int nfiles;
    struct db_result applied; /* id, migration, batch; in id order */
};

static int session_open(const struct config *cfg, struct session *s)
{
    memset(s, 0, sizeof *s);
    arena_init(&s->arena, 0);
    char err[512];
    s->nfiles = migrate_list(cfg->migrations_dir, &s->files, err, sizeof err);
    if (s->nfiles < 0) {
        fprintf(stderr, "migrate: %s\n", err);
        return -1;
    }
    s->db = db_new(&cfg->db);
    if (db_connect(s->db) != DB_OK) {
        fprintf(stderr, "migrate: cannot connect to the database: %s\n", db_error_message(s->db));
        return -1;
    }
    if (db_exec_script(s->db, migrations_ddl, strlen(migrations_ddl)) != DB_OK) {
        fprintf(stderr, "migrate: cannot create the migrations table: %s\n",
                db_error_message(s->db));
        return -1;
    }
    if (db_query(s->db, &s->arena,
                 "SELECT `id`, `migration`, `batch` FROM `migrations` ORDER BY `id`", NULL, 0,
                 &s->applied) != DB_OK) {
        fprintf(stderr, "migrate: cannot read the migrations table: %s\n", db_error_message(s->db));
        return -1;
    }
    return 0;
}

static void session_close(struct session *s)
{
    migrate_files_free(s->files, s->nfiles > 0 ? s->nfiles : 0);
    db_free(s->db);
    arena_free(&s->arena);
}

static int applied_batch(const struct db_result *applied, const char *name)
{
    for (size_t i = 0; i < applied->nrows; i++)
        if (!strcmp(db_cell(applied, i, 1)->s, name)) return atoi(db_cell(applied, i, 2)->s);
    return 0;
}

static int last_batch(const struct db_result *applied)
{
    int batch = 0;
    for (size_t i = 0; i < applied->nrows; i++)
        if (atoi(db_cell(applied, i, 2)->s) > batch) batch = atoi(db_cell(applied, i, 2)->s);
    return batch;
}

int migrate_up(const struct config *cfg)
{
    struct session s;
    int rc = 1;
    if (session_open(cfg, &s)) goto out;
    int batch = last_batch(&s.applied) + 1, done = 0;
    for (int i = 0; i < s.nfiles; i++) {
        const struct migration_file *f = &s.files[i];
        if (applied_batch(&s.applied, f->name)) continue;
        printf("Migrating: %s\n", f->name);
        if (run_script(s.db, f->up_path)) goto out;
        struct db_param p[2] = {db_str(f->name, strlen(f->name)), db_int(batch)};
        if (db_query(s.db, &s.arena,
                     "INSERT INTO `migrations` (`migration`, `batch`) VALUES (?, ?)", p, 2,
                     NULL) != DB_OK) {
            fprintf(stderr, "migrate: cannot record %s: %s\n", f->name, db_error_message(s.db));
            goto out;
        }
        printf("Migrated:  %s\n", f->name);
        done++;
    }
    if (!done) printf("Nothing to migrate.\n");
    rc = 0;
out:
    session_close(&s);
    return rc;
}

int migrate_status(const struct config *cfg)
{
    struct session s;
    int rc = 1;
    if (session_open(cfg, &s)) goto out;
    printf("%-8s %-6s %s\n", "Ran?", "Batch", "Migration");
    for (int i = 0; i < s.nfiles; i++) {
        int b = applied_batch(&s.applied, s.files[i].name);
        if (b)
            printf("%-8s %-6d %s\n", "Yes", b, s.files[i].name);
        else
            printf("%-8s %-6s %s\n", "Pending", "", s.files[i].name);
    }
    rc = 0;
out:
    session_close(&s);
    return rc;
}

int migrate_rollback(const struct config *cfg)
{
    struct session s;
    int rc = 1;
    if (session_open(cfg, &s)) goto out;
    int batch = last_batch(&s.applied);
    if (!batch) {
        printf("Nothing to rollback.\n");
        rc = 0;
        goto out;
    }
    for (size_t k = s.applied.nrows; k-- > 0;) {
        if (atoi(db_cell(&s.applied, k, 2)->s) != batch) continue;
        const char *name = db_cell(&s.applied, k, 1)->s;
        const struct migration_file *f = NULL;
        for (int i = 0; i < s.nfiles; i++)
            if (!strcmp(s.files[i].name, name)) f = &s.files[i];
        if (!f) {
            fprintf(stderr, "migrate: %s was applied but its files are gone\n", name);
            goto out;
        }
        printf("Rolling back: %s\n", name);
        if (run_script(s.db, f->down_path)) goto out;
        struct db_param p = db_uint(strtoull(db_cell(&s.applied, k, 0)->s, NULL, 10));
        if (db_query(s.db, &s.arena, "DELETE FROM `migrations` WHERE `id` = ?", &p, 1, NULL) !=
            DB_OK) {
            fprintf(stderr, "migrate: cannot unrecord %s: %s\n", name, db_error_message(s.db));
            goto out;
        }
        printf("Rolled back:  %s\n", name);
    }
    rc = 0;
out:
    session_close(&s);
    return rc;
}
