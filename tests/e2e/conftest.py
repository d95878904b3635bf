"""Shared fixtures for the end-to-end tests: a real MariaDB, real nginx and real
`aiengine serve` pools, started in a temporary folder and torn down even when tests fail.

- `stack`: the session-wide stack (3 workers, one pool). Tests must not kill or reload it;
  tests that do (faults, SIGHUP) start their own with `make_stack`.
- `tokens`: plain-text tokens with abilities `*` (admin), `read` (reader), `write` (writer).
- `api`: an Api client with the admin token; `anon` has none.
"""
import json
import os
import shutil
import sys
import tempfile

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from stack import Stack  # noqa: E402

LOG_KEEP = os.environ.get("AIENGINE_TEST_LOGDIR")


class Api:
    """A thin requests wrapper: api.get("/api/workflows") → requests.Response."""

    def __init__(self, url, token=None):
        self.url = url
        self.token = token
        self.session = requests.Session()

    def request(self, method, path, json_body=None, token="default", headers=None, data=None,
                params=None, **kw):
        h = {"Accept": "application/json"}
        tok = self.token if token == "default" else token
        if tok:
            h["Authorization"] = "Bearer " + tok
        if json_body is not None:
            data = json.dumps(json_body)
            h["Content-Type"] = "application/json"
        if headers:
            h.update(headers)
        url = path if path.startswith("http") else self.url + path
        return self.session.request(method, url, data=data, headers=h, params=params,
                                    allow_redirects=False, timeout=30, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, json_body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, json_body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def with_token(self, token):
        return Api(self.url, token)


def _keep_logs(stack, name):
    if LOG_KEEP:
        dst = os.path.join(LOG_KEEP, name)
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(stack.logdir, dst, dirs_exist_ok=True)


@pytest.fixture(scope="session")
def stack():
    base = tempfile.mkdtemp(prefix="aiengine-e2e-")
    s = Stack(base, workers=3)
    try:
        s.start()
        yield s
    finally:
        s.stop()
        _keep_logs(s, "session")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def make_stack():
    """Factory for a private stack: make_stack(workers=2, pools=1, env={...}).
    Started with MariaDB, migrations, pools and nginx; stopped after the test."""
    made = []

    def factory(**kw):
        base = tempfile.mkdtemp(prefix="aiengine-own-")
        s = Stack(base, **kw)
        made.append(s)
        s.start()
        return s

    yield factory
    for i, s in enumerate(made):
        s.stop()
        _keep_logs(s, f"{os.path.basename(s.base)}")
        shutil.rmtree(s.base, ignore_errors=True)


@pytest.fixture(scope="session")
def tokens(stack):
    return {
        "admin": stack.create_token(email="admin@example.com", name="admin"),
        "reader": stack.create_token(email="reader@example.com", name="reader", abilities="read"),
        "writer": stack.create_token(email="writer@example.com", name="writer", abilities="write"),
    }


@pytest.fixture(scope="session")
def api(stack, tokens):
    return Api(stack.url, tokens["admin"])


@pytest.fixture(scope="session")
def anon(stack):
    return Api(stack.url, None)


@pytest.fixture
def workflow(api):
    """A fresh workflow (dict of its representation)."""
    r = api.post("/api/workflows", {"name": "Fixture workflow", "trigger_event": "lead.created"})
    assert r.status_code == 201, r.text
    return r.json()["data"]


@pytest.fixture
def prompt(api):
    import uuid
    r = api.post("/api/prompts", {"name": "fixture-" + uuid.uuid4().hex, "system_prompt_text": "Be brief."})
    assert r.status_code == 201, r.text
    return r.json()["data"]


@pytest.fixture
def step(api, workflow, prompt):
    r = api.post("/api/workflow-steps", {"workflow_id": workflow["id"], "step_order": 1,
                                         "name": "Fixture step", "prompt_id": prompt["id"]})
    assert r.status_code == 201, r.text
    return r.json()["data"]


# ---- a stack on copies of etc/ and the migrations (a resource added as YAML + migration) ----

def config_copy(tmp):
    """Copies of etc/ and db/migrations/ under tmp: (etc, migrations)."""
    etc, mig = os.path.join(tmp, "etc"), os.path.join(tmp, "migrations")
    shutil.copytree(os.path.join(ROOT, "etc"), etc)
    shutil.copytree(os.path.join(ROOT, "db", "migrations"), mig)
    return etc, mig


def config_add_resource(etc, mig, name, block, up_sql, number):
    """One more resource, as an operator adds one: its block at the end of resources.yaml, an
    `api_resource:` line in routes.yaml, migration <number>_create_<name>_table (down drops)."""
    path = os.path.join(etc, "routes.yaml")
    with open(path) as f:
        routes = f.read()
    anchor = "  - api_resource: execution-logs\n"
    assert anchor in routes
    with open(path, "w") as f:
        f.write(routes.replace(anchor, f"{anchor}  - api_resource: {name}\n"))
    path = os.path.join(etc, "resources.yaml")
    with open(path) as f:
        resources = f.read()
    with open(path, "w") as f:
        f.write(resources.rstrip("\n") + "\n" + block)
    stem = os.path.join(mig, f"{number:04d}_create_{name}_table")
    with open(stem + ".up.sql", "w") as f:
        f.write(up_sql)
    with open(stem + ".down.sql", "w") as f:
        f.write(f"DROP TABLE IF EXISTS `{name}`;\n")


def own_stack(name, etc, mig, workers=2):
    """For a module fixture (`yield from own_stack(...)`): a private stack on those copies,
    yielding (stack, Api with an all-abilities token); stopped and its logs kept after."""
    base = tempfile.mkdtemp(prefix=f"aiengine-{name}-")
    s = Stack(base, workers=workers, env={"AIENGINE_ETC": etc, "AIENGINE_MIGRATIONS": mig})
    try:
        s.start()
        yield s, Api(s.url, s.create_token(email=f"{name}@example.com", name=name))
    finally:
        s.stop()
        _keep_logs(s, name)
        shutil.rmtree(base, ignore_errors=True)
