#!/usr/bin/python3
"""The smoke test scripts/deb-smoke.sh runs through each front (nginx, Apache) of an installed
aiengine package: health, a token from the installed CLI, a create and a read, an event whose
run succeeds (a SEND_NOTIFICATION step posting to a local receiver), and the front's own
answers (JSON 404, 413 over the body limit, 401 without a token).

usage: deb_smoke_check.py BASE_URL FRONT RECEIVER_URL
       deb_smoke_check.py BASE_URL FRONT down   (the workers are stopped: the front's own
                                                 JSON 502/503 with Retry-After)
"""
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

BASE, FRONT, RECEIVER = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, body=None, token=None, raw=None, url=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request((url or BASE) + path, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, headers, text = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, text = e.code, e.headers, e.read()
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        raise AssertionError(f"{FRONT}: {method} {path} answered {status} with non-JSON "
                             f"({headers.get('Content-Type')}): {text[:200]!r}")
    return status, headers, doc


def expect(cond, what):
    if not cond:
        raise AssertionError(f"{FRONT}: {what}")
    print(f"  ok  {FRONT}: {what[:150]}", flush=True)


def aiengine(*args):
    """The installed CLI, as root, with its default configuration (/etc/aiengine)."""
    r = subprocess.run(["/usr/bin/aiengine", *args], capture_output=True, text=True)
    if r.returncode:
        raise AssertionError(f"aiengine {' '.join(args)}: {r.returncode} {r.stderr}")
    return r.stdout


def down():
    s, h, doc = call("GET", "/api/health")
    expect(s in (502, 503) and "message" in doc and h.get("Retry-After") == "5",
           f"workers down -> {s} JSON with Retry-After ({doc})")


def main():
    s, _, doc = call("GET", "/api")
    expect(s == 404 and "message" in doc, f"/api alone -> 404 JSON ({s})")
    s, _, doc = call("GET", "/api/health")
    expect(s == 200 and doc == {"status": "ok", "database": "ok"}, f"GET /api/health -> {s} {doc}")

    email = f"smoke-{FRONT}-{uuid.uuid4().hex[:8]}@example.com"
    aiengine("user:create", "--name", f"Smoke {FRONT}", "--email", email)
    token = aiengine("token:create", "--email", email, "--name", "deb-smoke").strip()
    expect("|" in token, "token:create from the installed CLI printed a token")

    s, _, doc = call("GET", "/api/workflows")
    expect(s == 401 and "message" in doc, f"no token -> 401 JSON ({s})")
    s, _, doc = call("GET", "/api/workflows", token=token)
    expect(s == 200 and "data" in doc, f"the token passes the front (Authorization) -> {s}")

    event = f"smoke.{FRONT}.{uuid.uuid4().hex[:8]}"
    s, _, doc = call("POST", "/api/workflows", {"name": f"Smoke {FRONT}", "trigger_event": event},
                     token=token)
    expect(s == 201, f"POST /api/workflows -> {s} {doc}")
    wid = doc["data"]["id"]
    s, _, doc = call("GET", f"/api/workflows/{wid}", token=token)
    expect(s == 200 and doc["data"]["trigger_event"] == event, f"GET /api/workflows/{wid} -> {s}")

    s, _, doc = call("POST", "/api/workflow-steps",
                     {"workflow_id": wid, "step_order": 1, "name": "Notify",
                      "step_type": "SEND_NOTIFICATION",
                      "step_config": {"text": "Hi {{lead_name}} via " + FRONT}}, token=token)
    expect(s == 201, f"POST /api/workflow-steps -> {s} {doc}")

    s, _, doc = call("POST", "/api/events", {"event": event, "object_id": "lead-1",
                                             "context": {"lead_name": "Ana"}}, token=token)
    expect(s == 202 and len(doc["data"]) == 1, f"POST /api/events -> {s} {doc}")
    run_id = doc["data"][0]["id"]
    deadline = time.time() + 60
    status = None
    while time.time() < deadline:
        s, _, doc = call("GET", f"/api/workflow-runs/{run_id}?include=logs", token=token)
        status = doc["data"]["status"]
        if status in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.3)
    expect(status == "succeeded", f"run {run_id} of the event ran: {status} {doc}")
    _, _, got = call("GET", "/_requests?path=/actions/notify", url=RECEIVER)
    texts = [r.get("json", {}).get("config", {}).get("text") for r in got["requests"]]
    expect(f"Hi Ana via {FRONT}" in texts, "the receiver got the step's notification")

    s, _, doc = call("GET", "/api/no-such-thing", token=token)
    expect(s == 404 and "message" in doc, f"unknown route -> 404 JSON ({s})")
    s, _, doc = call("GET", "/not-the-api")
    expect(s == 404 and "message" in doc, f"outside /api/ -> 404 JSON from the front ({s})")
    s, h, doc = call("POST", "/api/workflows", raw=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                     token=token)
    expect(s == 413 and "message" in doc, f"a body over 1 MiB -> 413 JSON from the front ({s})")


down() if RECEIVER == "down" else main()
