/* fixture.h — writing small fixture files for the unit tests (YAML, SQL) into a temp dir. */
#ifndef AIENGINE_TEST_FIXTURE_H
#define AIENGINE_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

/* Write `text` to dir/name and return the path (a static buffer: one path at a time). */
static inline const char *fixture_write(const char *dir, const char *name, const char *text)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

#endif
