"""Security round two (issue 15): routes that forget `ability:` (item 6), failed token
lookups cached per worker (item 10), the token cache aging on a monotonic clock (item 13).

Tests that need their own configuration or environment start their own stack (make_stack).
"""
import os
import shutil
import signal
import socket
import subprocess
import time

import requests

from helpers import count, err, ok

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

EXTRA_ROUTES = """
  - method: POST
    path: /api/flows
    handler: store
    resource: workflows

  - method: GET
    path: /api/flows
    handler: index
    resource: workflows
"""


def copy_etc(tmp_path, extra_routes=""):
    etc = str(tmp_path / "etc")
    shutil.copytree(os.path.join(ROOT, "etc"), etc)
    if extra_routes:
        with open(os.path.join(etc, "routes.yaml"), "a") as f:
            f.write(extra_routes)
    return etc


def call(stack, method, path, token, body=None):
    h = {"Accept": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    return requests.request(method, stack.url + path, json=body, headers=h, timeout=30)


# ---------------------------------------------------------------- item 6

def test_explicit_routes_without_ability_follow_their_method(make_stack, tmp_path):
    """A POST route declared without `ability:` needs `write` (a read-only token gets 403
    and nothing is stored); a GET route without it needs `read`."""
    etc = copy_etc(tmp_path, EXTRA_ROUTES)
    s = make_stack(workers=1, env={"AIENGINE_ETC": etc})
    reader = s.create_token(email="r6@example.com", name="r", abilities="read")
    writer = s.create_token(email="w6@example.com", name="w", abilities="write")
    body = {"name": "via explicit route", "trigger_event": "e"}

    r = call(s, "POST", "/api/flows", reader, body)
    assert "'write' ability" in err(r, 403)["message"]
    assert count(s, "workflows") == 0
    ok(call(s, "POST", "/api/flows", writer, body), 201)
    assert count(s, "workflows") == 1

    r = call(s, "GET", "/api/flows", writer)
    assert "'read' ability" in err(r, 403)["message"]
    assert len(ok(call(s, "GET", "/api/flows", reader))["data"]) == 1
    err(call(s, "GET", "/api/flows", None), 401)

    table = s.cli("routes").stdout
    lines = [l.split() for l in table.splitlines() if "/api/flows" in l]
    assert sorted((l[0], l[-1]) for l in lines) == [("GET", "read"), ("POST", "write")], table


# ---------------------------------------------------------------- item 10

def trips(r):
    assert "X-DB-Round-Trips" in r.headers, r.headers
    return int(r.headers["X-DB-Round-Trips"])


def test_failed_token_lookups_are_cached_briefly(make_stack):
    """The same bad token again costs no query (within auth.token_cache_seconds, per
    worker); after that it is looked up again. A right secret for the same id is not
    shadowed by the cached failure, and a token created after a failed try works at once."""
    s = make_stack(workers=1, env={"AIENGINE_DEBUG": "1"})
    good = s.create_token(email="n10@example.com", name="n10")
    tid = good.split("|")[0]
    for bad in (tid + "|wrong-secret", "99999|no-such-token", "legacy-form-without-id"):
        first = call(s, "GET", "/api/workflows", bad)
        err(first, 401)
        assert trips(first) >= 1, bad
        again = [call(s, "GET", "/api/workflows", bad) for _ in range(5)]
        for r in again:
            err(r, 401)
        assert [trips(r) for r in again] == [0] * 5, (bad, [trips(r) for r in again])
    # the right secret for the id that just failed
    assert call(s, "GET", "/api/workflows", good).status_code == 200
    time.sleep(2.5)  # past token_cache_seconds (2): the bad token is looked up again
    r = call(s, "GET", "/api/workflows", tid + "|wrong-secret")
    err(r, 401)
    assert trips(r) >= 1
    # a flood of distinct bad tokens stays bounded in memory and answers 401 throughout
    for i in range(300):
        r = call(s, "GET", "/api/workflows", f"{i + 100000}|flood-{i}")
        assert r.status_code == 401
    assert call(s, "GET", "/api/workflows", good).status_code == 200


# ---------------------------------------------------------------- item 13

FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def test_token_cache_ages_on_a_monotonic_clock(make_stack, tmp_path):
    """The wall clock jumps an hour back while a token is cached; it is then revoked. The
    cached verdict must still expire after token_cache_seconds of real time — with a
    wall-clock cache it would be trusted for an hour. libfaketime moves the workers' wall
    clock (and only it: DONT_FAKE_MONOTONIC)."""
    assert os.path.exists(FAKETIME), "libfaketime is missing: run scripts/deps.sh"
    stamp = tmp_path / "faketime"
    stamp.write_text("+0\n")
    preload = FAKETIME
    binary = os.environ.get("AIENGINE_BIN") or os.path.join(ROOT, "build", "aiengine")
    asan = [l.split("=>")[1].split()[0] for l in
            subprocess.run(["ldd", binary], capture_output=True, text=True).stdout.splitlines()
            if "libasan" in l and "=>" in l]
    if asan:  # a SANITIZE=1 build: ASan's runtime must come first
        preload = asan[0] + ":" + FAKETIME
    s = make_stack(workers=1, env={"LD_PRELOAD": preload, "FAKETIME_TIMESTAMP_FILE": str(stamp),
                                   "FAKETIME_NO_CACHE": "1", "DONT_FAKE_MONOTONIC": "1"})
    token = s.create_token(email="m13@example.com", name="m13")
    assert call(s, "GET", "/api/workflows", token).status_code == 200  # now cached
    stamp.write_text("-1h\n")
    assert call(s, "GET", "/api/workflows", token).status_code == 200  # still within 2 s
    s.cli("token:revoke", token.split("|")[0])
    time.sleep(3)
    r = call(s, "GET", "/api/workflows", token)
    assert r.status_code == 401, "a revoked token was still accepted after the wall clock went back"
    stamp.write_text("+0\n")


# ---------------------------------------------------------------- item 10: nginx limits

def test_limit_req_example_limits_health_and_tokenless_requests(make_stack):
    """nginx/limit-req-example.conf, used as docs/operations.md says (zones at the http
    level, limit_req in the locations): a flood of health checks and of requests without
    a token meets JSON 429s, while a client with a real token is not limited by them."""
    from stack import free_port
    example = open(os.path.join(ROOT, "nginx", "limit-req-example.conf")).read()
    port = free_port()
    sock = "@SOCK@"
    site = """
server {
    listen 127.0.0.1:%d;
    error_page 429 /_errors/429;
    location = /_errors/429 { internal; default_type application/json;
        add_header Retry-After 1 always;
        return 429 '{"message":"Too many requests. Please retry later."}'; }
    location = /api/health {
        limit_req zone=aiengine_health burst=10 nodelay;
        include /etc/nginx/fastcgi_params;
        fastcgi_param DOCUMENT_URI $uri;
        fastcgi_pass unix:%s;
    }
    location /api/ {
        limit_req zone=aiengine_no_token burst=10 nodelay;
        limit_req zone=aiengine_api burst=100 nodelay;
        include /etc/nginx/fastcgi_params;
        fastcgi_param DOCUMENT_URI $uri;
        fastcgi_pass unix:%s;
    }
}
""" % (port, sock, sock)
    s = make_stack(workers=2)
    with open(os.path.join(s.base, "nginx", "extra", "limits.conf"), "w") as f:
        f.write(example + site.replace(sock, s.pool_socket(0)))
    s.procs["nginx"].send_signal(signal.SIGHUP)  # nginx re-reads its configuration

    def listening():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    deadline = time.monotonic() + 20
    while not listening():
        assert time.monotonic() < deadline, open(os.path.join(s.base, "nginx", "error.log")).read()[-2000:]
        time.sleep(0.1)
    token = s.create_token(email="lim@example.com", name="lim")
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()

    def burst(path, auth=None, n=100):
        h = {"Accept": "application/json"}
        if auth:
            h["Authorization"] = "Bearer " + auth
        return [session.get(base + path, headers=h, timeout=30) for _ in range(n)]

    health = burst("/api/health")
    codes = [r.status_code for r in health]
    assert codes[:5] == [200] * 5 and codes.count(429) >= 20, codes
    limited = next(r for r in health if r.status_code == 429)
    assert limited.json()["message"] and limited.headers.get("Retry-After")
    anon = [r.status_code for r in burst("/api/workflows")]
    assert anon[:5] == [401] * 5 and anon.count(429) >= 20, anon
    bad = [r.status_code for r in burst("/api/workflows", auth="not-a-token")]
    assert bad.count(429) >= 20, bad
    assert [r.status_code for r in burst("/api/workflows", auth=token, n=60)] == [200] * 60
