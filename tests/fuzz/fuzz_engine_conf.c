/* fuzz_engine_conf.c — libFuzzer: etc/engine.yaml and the URL check behind allowed_hosts.
 * The input is loaded as an engine.yaml (it must load, or fail with "file:line: reason"),
 * and parsed as a URL: an accepted URL's host must be made of host bytes only and come
 * before any '/', '?' or '#', with no userinfo, so the host checked is the host dialled. */
#include "engine_conf.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check_url(const uint8_t *data, size_t size)
{
    char url[2048];
    if (size >= sizeof url || memchr(data, 0, size)) return;
    memcpy(url, data, size);
    url[size] = '\0';
    char host[256];
    unsigned port;
    const char *why;
    if (engine_url_endpoint(url, host, sizeof host, &port, &why)) return;
    if (!*host || port < 1 || port > 65535) abort();
    for (const char *h = host; *h; h++)
        if (!isalnum((unsigned char)*h) && !strchr(".-_:", *h)) abort();
    const char *auth = strstr(url, "://") + 3;
    size_t n = strcspn(auth, "/?#");
    if (memchr(auth, '@', n) || memchr(auth, '\\', n)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_url(data, size);
    char path[] = "/tmp/aiengine-fuzz-engine-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    struct config_error err;
    struct engine_conf *c = engine_conf_load(path, &err);
    if (!c) {
        /* every error names the file, or the environment variable at fault */
        if (!strstr(err.msg, path) && strncmp(err.msg, "AIENGINE_", 9)) abort();
    } else {
        engine_provider_for(c, "gemini-2.5-flash");
        engine_host_allowed(c, "127.0.0.1", 8080);
        for (size_t i = 0; i < c->n_prices; i++) {
            uint64_t m;
            engine_cost_micros(&c->prices[i], 123456, 654321, &m);
        }
        engine_conf_free(c);
    }
    unlink(path);
    return 0;
}
