/* origin.c — where links point: a configured host the client named, else the address nginx
 * listened on. Exists so that a forged Host header can never put another site's name into
 * a Location header or a pagination link (issue 15, item 8). */
#include "origin.h"

#include <string.h>
#include <strings.h>

static bool name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.';
}

static bool hostname_valid(const char *h)
{
    size_t n = strlen(h);
    if (!n || n > 253 || h[0] == '.' || h[0] == '-' || h[n - 1] == '.') return false;
    for (const char *p = h; *p; p++)
        if (!name_char(*p) || (p[0] == '.' && p[1] == '.')) return false;
    return true;
}

bool origin_pattern_valid(const char *pattern)
{
    if (!pattern) return false;
    if (!strncmp(pattern, "*.", 2)) pattern += 2;
    return hostname_valid(pattern);
}

bool origin_host_accepted(const char *const *patterns, size_t n, const char *host)
{
    if (!host || !hostname_valid(host)) return false;
    size_t hl = strlen(host);
    for (size_t i = 0; i < n; i++) {
        const char *p = patterns[i];
        if (!strncmp(p, "*.", 2)) {
            size_t sl = strlen(p + 1); /* ".example.com" */
            if (hl > sl && !strcasecmp(host + hl - sl, p + 1)) return true;
        } else if (!strcasecmp(host, p)) {
            return true;
        }
    }
    return false;
}

/* An IPv4 or IPv6 literal as nginx's $server_addr prints it. */
static bool addr_valid(const char *s, bool *v6)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > 45) return false;
    *v6 = strchr(s, ':') != NULL;
    for (const char *p = s; *p; p++) {
        bool ok = (*p >= '0' && *p <= '9') || *p == '.' ||
                  (*v6 && (*p == ':' || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')));
        if (!ok) return false;
    }
    return true;
}

static bool port_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > 5) return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return false;
    return true;
}

const char *origin_base_url(struct arena *a, const char *const *patterns, size_t n,
                            const struct origin_params *p)
{
    bool tls = p->scheme ? !strcmp(p->scheme, "https")
                         : (p->https && *p->https && strcasecmp(p->https, "off"));
    const char *scheme = tls ? "https" : "http";
    bool default_port = !port_valid(p->server_port) || !strcmp(p->server_port, tls ? "443" : "80");
    const char *port_sep = default_port ? "" : ":";
    const char *port = default_port ? "" : p->server_port;
    if (origin_host_accepted(patterns, n, p->host))
        return arena_printf(a, "%s://%s%s%s", scheme, p->host, port_sep, port);
    bool v6 = false;
    if (addr_valid(p->server_addr, &v6))
        return arena_printf(a, "%s://%s%s%s%s%s", scheme, v6 ? "[" : "", p->server_addr,
                            v6 ? "]" : "", port_sep, port);
    return arena_printf(a, "%s://localhost%s%s", scheme, port_sep, port);
}
