/* origin.h — the scheme://host[:port] that links and Location headers start with.
 *
 * A client's Host header is not trusted: it is used only when it names one of the
 * configured app.hosts (nginx server_name style: "api.example.com", or "*.example.com" for
 * any subdomain), and otherwise the address nginx accepted the connection on
 * (SERVER_ADDR:SERVER_PORT) is. An unknown host is never echoed. app.url, when set, wins
 * over both. Pure functions: no allocation but into the arena given. */
#ifndef AIENGINE_ORIGIN_H
#define AIENGINE_ORIGIN_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>

/* Whether `pattern` is a valid app.hosts entry: a host name of letters, digits, '-' and
 * '.', optionally starting with "*." — no port, no scheme. */
bool origin_pattern_valid(const char *pattern);

/* Whether `host` (nginx's $host: no port) matches one of the patterns, case-insensitively.
 * "*.example.com" matches "a.example.com" and "a.b.example.com", not "example.com". */
bool origin_host_accepted(const char *const *patterns, size_t n, const char *host);

struct origin_params {
    const char *https;       /* FastCGI HTTPS ("on" or empty), may be NULL */
    const char *scheme;      /* REQUEST_SCHEME, may be NULL */
    const char *host;        /* HTTP_HOST (nginx passes $host), may be NULL */
    const char *server_addr; /* SERVER_ADDR, may be NULL */
    const char *server_port; /* SERVER_PORT, may be NULL */
};

/* "https://api.example.com", "http://127.0.0.1:8080", "http://[::1]:8080": the scheme, an
 * accepted host or else the listen address, and the port unless it is the scheme's
 * default. Falls back to "localhost" when nginx sent no usable address. The result lives
 * in `a`. */
const char *origin_base_url(struct arena *a, const char *const *patterns, size_t n,
                            const struct origin_params *p);

#endif
