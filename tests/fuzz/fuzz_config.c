/* fuzz_config.c — libFuzzer: the YAML loaders. The input is written as a resources file
 * and as a routes file; both must load or fail with "file:line: reason". */
#include "resource.h"
#include "router.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/aiengine-fuzz-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    struct config_error err;
    struct resource_set *set = resource_set_load(path, &err);
    if (!set) {
        if (!strstr(err.msg, path)) abort(); /* every error names the file */
        static struct resource_set *real;
        if (!real) real = resource_set_load("etc/resources.yaml", &err);
        set = NULL;
        struct router *r = real ? router_load(path, real, &err) : NULL;
        router_free(r);
    } else {
        struct router *r = router_load(path, set, &err);
        router_free(r);
        resource_set_free(set);
    }
    unlink(path);
    return 0;
}
