"""The OpenAPI document: served without a token, identical to `aiengine openapi`, valid
OpenAPI 3.1 (checked by @apidevtools/swagger-parser from npm), and every live response of
every route — successes and errors — matches the schema the document declares for it."""
import json
import os
import subprocess
import tempfile
import uuid

import pytest
from jsonschema import Draft202012Validator, RefResolver

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tests", "openapi")


@pytest.fixture(scope="module")
def doc(anon):
    r = anon.get("/api/openapi.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    return r.json()


def test_served_document_equals_cli_output(doc, stack):
    out = stack.cli("openapi").stdout
    assert json.loads(out) == doc


def test_document_is_valid_openapi_3_1(doc):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(doc, f)
    try:
        r = subprocess.run(["node", os.path.join(TOOLS, "validate.js"), f.name],
                           capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(f.name)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "valid OpenAPI 3.1" in r.stdout


def test_every_route_is_documented(doc, stack):
    routes = stack.cli("routes").stdout.splitlines()[1:]
    for line in routes:
        method, path = line.split()[:2]
        assert path in doc["paths"], path
        assert method.lower() in doc["paths"][path], (method, path)


class Checker:
    def __init__(self, doc):
        self.doc = doc
        self.resolver = RefResolver.from_schema(doc)
        self.seen = set()

    def check(self, resp, template, method):
        op = self.doc["paths"][template][method.lower()]
        status = str(resp.status_code)
        assert status in op["responses"], f"{method} {template}: undocumented status {status}: {resp.text[:200]}"
        spec = op["responses"][status]
        self.seen.add((template, method.upper(), status))
        if "content" not in spec:
            assert resp.content == b""
            return
        schema = spec["content"]["application/json"]["schema"]
        Draft202012Validator(schema, resolver=self.resolver).validate(resp.json())
        for h in spec.get("headers", {}):
            assert h in resp.headers, f"{method} {template} {status}: missing header {h}"


def test_live_responses_match_schemas(doc, api, anon, tokens, stack):
    ck = Checker(doc)
    reader = api.with_token(tokens["reader"])
    tag = uuid.uuid4().hex[:8]

    def run(method, template, path=None, body=None, client=api, **kw):
        path = path or template
        r = client.request(method, path, json_body=body, **kw)
        ck.check(r, template, method)
        return r

    run("GET", "/api/health", client=anon)
    wf = run("POST", "/api/workflows", body={"name": "oa " + tag, "trigger_event": "oa." + tag}).json()["data"]
    pr = run("POST", "/api/prompts", body={"name": "oa-" + tag, "system_prompt_text": "x",
                                            "generation_config": {"t": 1}}).json()["data"]
    st = run("POST", "/api/workflow-steps", body={"workflow_id": wf["id"], "step_order": 0, "name": "s",
                                                  "prompt_id": pr["id"], "step_config": []}).json()["data"]
    lg = run("POST", "/api/execution-logs", body={"workflow_id": wf["id"], "step_id": st["id"],
                                                  "status": "SUCCESS", "cost": "0.5"}).json()["data"]
    child = run("POST", "/api/execution-logs", body={"workflow_id": wf["id"], "step_id": st["id"],
                                                     "status": "FAILURE", "parent_execution_log_id": lg["id"],
                                                     "error_message": "boom"}).json()["data"]
    ids = {"workflows": wf["id"], "prompts": pr["id"], "workflow-steps": st["id"], "execution-logs": lg["id"]}
    includes = {"workflows": "steps", "prompts": "steps", "workflow-steps": "workflow,prompt",
                "execution-logs": "workflow,step,parent_log,child_logs"}
    for res, rid in ids.items():
        base = f"/api/{res}"
        item = base + "/{id}"
        run("GET", base, path=f"{base}?per_page=2")
        run("GET", base, path=f"{base}?include={includes[res]}")
        run("GET", base, path=f"{base}?per_page=0")                      # 422
        run("GET", base, path=f"{base}?sort=nope")                       # 400
        run("GET", base, client=anon)                                    # 401
        run("GET", item, path=f"{base}/{rid}")
        run("GET", item, path=f"{base}/{rid}?include={includes[res]}")
        run("GET", item, path=f"{base}/999999999")                       # 404
        run("PATCH", item, path=f"{base}/{rid}", body={})
        run("PUT", item, path=f"{base}/{rid}", body={})
        run("PATCH", item, path=f"{base}/{rid}", body={"name": None} if res != "execution-logs"
            else {"status": None})                                      # 422
        run("POST", base, body={})                                       # 422
        run("POST", base, data="{", headers={"Content-Type": "application/json"})  # 400
        run("POST", base, data="{}", headers={"Content-Type": "text/plain"})      # 415
        run("POST", base, client=reader, body={})                        # 403
    cursor = run("GET", "/api/execution-logs", path="/api/execution-logs?per_page=1").json()["meta"]["next_cursor"]
    run("GET", "/api/execution-logs", path=f"/api/execution-logs?per_page=1&cursor={cursor}")
    run("GET", "/api/execution-logs", path="/api/execution-logs?cursor=forged")  # 400
    run("GET", "/api/workflows/{id}/steps", path=f"/api/workflows/{wf['id']}/steps")
    run("GET", "/api/workflows/{id}/logs", path=f"/api/workflows/{wf['id']}/logs")
    run("GET", "/api/prompts/{id}/steps", path=f"/api/prompts/{pr['id']}/steps")
    run("GET", "/api/execution-logs/{id}/children", path=f"/api/execution-logs/{lg['id']}/children")
    run("GET", "/api/workflows/{id}/steps", path="/api/workflows/999999999/steps")  # 404
    # the engine's routes
    rwf = run("POST", "/api/workflows", body={"name": "oa run " + tag,
                                              "trigger_event": "oa.run." + tag}).json()["data"]
    [er] = run("POST", "/api/events", body={"event": "oa.run." + tag, "context": {"a": 1}}).json()["data"]
    run("POST", "/api/events", body={"event": "x"}, headers={"Idempotency-Key": "k" * 256})  # 400
    run("POST", "/api/events", body={"context": []})                                         # 422
    run("POST", "/api/events", data="{}", headers={"Content-Type": "text/plain"})            # 415
    run("POST", "/api/events", client=reader, body={"event": "x"})                           # 403
    run("POST", "/api/events", client=anon, body={"event": "x"})                             # 401
    runs = "/api/workflows/{id}/runs"
    mr = run("POST", runs, path=f"/api/workflows/{rwf['id']}/runs", body={"object_id": "o"}).json()["data"]
    run("POST", runs, path="/api/workflows/999999999/runs", body={})                         # 404
    run("POST", runs, path=f"/api/workflows/{rwf['id']}/runs", body={"context": [1]})        # 422
    run("POST", "/api/execution-logs", body={"workflow_id": wf["id"], "step_id": st["id"], "status": "SUCCESS",
                                             "workflow_run_id": er["id"]})               # 422: other workflow
    rst = run("POST", "/api/workflow-steps", body={"workflow_id": rwf["id"], "step_order": 1,
                                                   "name": "s"}).json()["data"]
    run("POST", "/api/execution-logs", body={"workflow_id": rwf["id"], "step_id": rst["id"],
                                             "status": "SUCCESS", "workflow_run_id": er["id"]})
    run("GET", "/api/execution-logs/{id}", path=f"/api/execution-logs/{lg['id']}?include=run")
    run("GET", "/api/workflow-runs", path="/api/workflow-runs?include=workflow,logs&per_page=2")
    run("GET", "/api/workflow-runs", path="/api/workflow-runs?filter[locked_by]=x")          # 400
    run("GET", "/api/workflow-runs", path="/api/workflow-runs?per_page=0")                   # 422
    run("GET", "/api/workflow-runs/{id}", path=f"/api/workflow-runs/{er['id']}?include=logs,workflow")
    run("GET", "/api/workflow-runs/{id}", path="/api/workflow-runs/999999999")               # 404
    run("GET", "/api/workflow-runs/{id}/logs", path=f"/api/workflow-runs/{er['id']}/logs?per_page=1")
    run("GET", "/api/workflow-runs/{id}/logs", path="/api/workflow-runs/999999999/logs")     # 404
    for action in ("cancel", "retry"):
        tpl = "/api/workflow-runs/{id}/" + action
        run("POST", tpl, path=f"/api/workflow-runs/{mr['id']}/{action}")
        run("POST", tpl, path=f"/api/workflow-runs/{mr['id']}/{action}")                    # 409
        run("POST", tpl, path=f"/api/workflow-runs/999999999/{action}")                     # 404
        run("POST", tpl, path=f"/api/workflow-runs/{mr['id']}/{action}", client=reader)     # 403
    run("DELETE", "/api/workflows/{id}", path=f"/api/workflows/{rwf['id']}")
    run("DELETE", "/api/prompts/{id}", path=f"/api/prompts/{pr['id']}")             # 409
    run("DELETE", "/api/execution-logs/{id}", path=f"/api/execution-logs/{child['id']}")
    run("DELETE", "/api/workflow-steps/{id}", path=f"/api/workflow-steps/{st['id']}")
    run("DELETE", "/api/workflows/{id}", path=f"/api/workflows/{wf['id']}")
    run("DELETE", "/api/workflows/{id}", path=f"/api/workflows/{wf['id']}")         # 404
    run("DELETE", "/api/prompts/{id}", path=f"/api/prompts/{pr['id']}")
    # metrics answer text/plain (test_observability.py parses it); their errors are JSON
    run("GET", "/api/metrics", client=reader)                                               # 403
    run("GET", "/api/metrics", client=anon)                                                 # 401
    # sign-in (src/login.c)
    email = f"oa-{tag}@example.com"
    stack.create_user(email, "openapi password")
    tok = run("POST", "/api/auth/login", body={"email": email, "password": "openapi password"}).json()["token"]
    run("POST", "/api/auth/login", body={"email": email, "password": "not it"})      # 422
    run("POST", "/api/auth/login", body={})                                           # 422
    run("POST", "/api/auth/login", data="{}", headers={"Content-Type": "text/plain"})  # 415
    run("POST", "/api/auth/logout", client=api.with_token(tok))                       # 204
    run("POST", "/api/auth/logout", client=anon)                                      # 401
    # every documented operation was exercised at least once
    ops = {(p, m.upper()) for p, item in doc["paths"].items() for m in item}
    exercised = {(p, m) for p, m, _ in ck.seen}
    missing = ops - exercised - {("/api/openapi.json", "GET")}
    assert not missing, missing
