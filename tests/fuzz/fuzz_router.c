/* fuzz_router.c — libFuzzer: the router's path matcher against the real etc/routes.yaml.
 * Input: "METHOD path". */
#include "config.h"
#include "router.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct config *cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cfg) {
        struct config_error err;
        cfg = config_load(getenv("AIENGINE_ETC") ? getenv("AIENGINE_ETC") : "etc", &err);
        if (!cfg) {
            fprintf(stderr, "%s\n", err.msg);
            abort();
        }
    }
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    char *sp = strchr(s, ' ');
    const char *method = "GET";
    char *path = s;
    if (sp) {
        *sp = '\0';
        method = s;
        path = sp + 1;
    }
    struct route_match m;
    enum router_status st = router_match(cfg->router, method, path, &m);
    if (st == ROUTER_FOUND && !m.route) abort();
    free(s);
    return 0;
}
