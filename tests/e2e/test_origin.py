"""Links and Location never echo a Host the operator did not configure (issue 15, item 8).

Without app.url, the base of every link is an accepted `app.hosts` name the client asked
for, or else the address nginx accepted the connection on. A forged Host (cache poisoning,
password-reset-style link injection) must never reach a Location header or a page link.
"""
import requests

from helpers import uniq


def _post(stack, token, host):
    return requests.post(stack.url + "/api/workflows", timeout=15, allow_redirects=False,
                         json={"name": "origin", "trigger_event": uniq("origin")},
                         headers={"Authorization": "Bearer " + token, "Host": host})


def _list(stack, token, host):
    return requests.get(stack.url + "/api/workflows", params={"per_page": 1}, timeout=15,
                        headers={"Authorization": "Bearer " + token, "Host": host})


def _links(body):
    return [v for v in body["links"].values() if v] + [body["meta"]["path"]]


def test_unknown_host_is_never_echoed_by_default(stack, tokens):
    origin = f"http://127.0.0.1:{stack.port}"
    for host in ("evil.example", "evil.example:1234", "localhost", "127.0.0.1.evil.example"):
        r = _post(stack, tokens["admin"], host)
        assert r.status_code == 201, r.text
        assert r.headers["Location"] == f"{origin}/api/workflows/{r.json()['data']['id']}", r.headers
        r = _list(stack, tokens["admin"], host)
        assert r.status_code == 200, r.text
        for link in _links(r.json()):
            assert link.startswith(origin + "/api/workflows"), link
            assert "evil" not in link


def test_configured_hosts_are_used_and_others_fall_back(make_stack):
    s = make_stack(workers=1, env={"AIENGINE_APP_HOSTS": "api.example.com, *.tenants.example.com"})
    token = s.create_token(email="origin@example.com", name="origin")
    port = f":{s.port}"
    for host, base in (("api.example.com", "http://api.example.com" + port),
                       ("API.EXAMPLE.COM", "http://api.example.com" + port),  # nginx lowercases $host
                       ("a.tenants.example.com", "http://a.tenants.example.com" + port),
                       ("tenants.example.com", f"http://127.0.0.1{port}"),
                       ("api.example.com.evil.example", f"http://127.0.0.1{port}"),
                       ("evil.example", f"http://127.0.0.1{port}")):
        r = _post(s, token, host)
        assert r.status_code == 201, r.text
        assert r.headers["Location"] == f"{base}/api/workflows/{r.json()['data']['id']}", (host, r.headers)
        r = _list(s, token, host)
        for link in _links(r.json()):
            assert link.startswith(base + "/api/workflows"), (host, link)


def test_app_url_wins_over_everything(make_stack):
    s = make_stack(workers=1, env={"AIENGINE_APP_URL": "https://api.example.org/",
                                   "AIENGINE_APP_HOSTS": "api.example.com"})
    token = s.create_token(email="origin2@example.com", name="origin")
    r = _post(s, token, "api.example.com")
    assert r.status_code == 201, r.text
    assert r.headers["Location"].startswith("https://api.example.org/api/workflows/"), r.headers


def test_a_bad_hosts_entry_is_refused_at_start(stack):
    env = stack.env()
    env["AIENGINE_APP_HOSTS"] = "api.example.com:443"
    r = stack.cli("config:check", check=False, env=env)
    assert r.returncode != 0
    assert "AIENGINE_APP_HOSTS" in r.stderr and "api.example.com:443" in r.stderr, r.stderr
