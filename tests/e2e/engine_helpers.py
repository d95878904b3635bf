"""Helpers for the engine's end-to-end tests: a fake receiver, workflows written straight
into MariaDB, `aiengine event:fire`, and polling the runs and their log rows."""
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
import uuid

import shutil

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKE = os.path.join(ROOT, "tests", "fakes", "fake_model.py")
SECRET = "test-webhook-secret"


class Fake:
    """tests/fakes/fake_model.py as the webhook receiver."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, FAKE, "--port", "0"], stdout=subprocess.PIPE,
                                     text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        assert "listening on" in line, line
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])

    def requests(self, path):
        r = requests.get(self.url + "/_requests", params={"path": path}, timeout=10)
        return r.json()["requests"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def q(v):
    """A SQL literal."""
    if v is None:
        return "NULL"
    if isinstance(v, (dict, list)):
        v = json.dumps(v)
    if isinstance(v, (int, float)):
        return str(v)
    return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"


def unescape(s):
    table = {"n": "\n", "t": "\t", "0": "\0", "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: table.get(m.group(1), m.group(1)), s)


def rows(stack, sql):
    return [[None if c == "NULL" else unescape(c) for c in r] for r in stack.sql(sql)]


def uniq(prefix="ev"):
    return f"{prefix}.{uuid.uuid4().hex[:12]}"


def mkflow(stack, event, steps, active=1, name="engine test"):
    """Insert a workflow and its steps; returns (workflow_id, [step ids])."""
    wid = int(stack.sql(
        f"INSERT INTO workflows (name, trigger_event, is_active, created_at, updated_at) VALUES "
        f"({q(name)}, {q(event)}, {active}, NOW(), NOW()); SELECT LAST_INSERT_ID();")[0][0])
    ids = []
    for i, s in enumerate(steps, 1):
        ids.append(int(stack.sql(
            "INSERT INTO workflow_steps (workflow_id, step_order, name, step_type, prompt_id, "
            "step_config, condition_rules, delay_minutes, created_at, updated_at) VALUES "
            f"({wid}, {s.get('order', i)}, {q(s.get('name', f'step {i}'))}, "
            f"{q(s.get('type', 'WEBHOOK'))}, {q(s.get('prompt_id'))}, {q(s.get('config'))}, "
            f"{q(s.get('rules'))}, {s.get('delay', 0)}, NOW(), NOW()); SELECT LAST_INSERT_ID();")[0][0]))
    return wid, ids


def fire(stack, event, obj=None, context=None, key=None, check=True):
    args = ["event:fire", event]
    if obj is not None:
        args += ["--object", obj]
    if context is not None:
        args += ["--context", json.dumps(context)]
    if key is not None:
        args += ["--idempotency-key", key]
    r = stack.cli(*args, check=check)
    if not check:
        return r
    return json.loads(r.stdout)


RUN_COLS = ["id", "workflow_id", "event", "triggering_object_id", "status", "context",
            "last_step_order", "last_step_id", "attempt", "run_at", "locked_by", "locked_until",
            "error_message", "started_at", "finished_at", "secs_until_run_at"]


def run(stack, run_id):
    r = rows(stack, f"SELECT {', '.join(RUN_COLS[:-1])}, "
                    f"TIMESTAMPDIFF(MICROSECOND, NOW(6), run_at) / 1e6 "
                    f"FROM workflow_runs WHERE id = {int(run_id)}")
    assert r, f"run {run_id} not found"
    d = dict(zip(RUN_COLS, r[0]))
    d["context"] = json.loads(d["context"])
    return d


LOG_COLS = ["id", "workflow_id", "step_id", "triggering_object_id", "parent_execution_log_id",
            "status", "input_context", "raw_output", "parsed_output", "error_message",
            "duration_ms", "token_usage", "cost", "executed_at", "workflow_run_id"]


def logs(stack, run_id):
    out = []
    for r in rows(stack, f"SELECT {', '.join(LOG_COLS)} FROM execution_logs "
                         f"WHERE workflow_run_id = {int(run_id)} ORDER BY id"):
        d = dict(zip(LOG_COLS, r))
        for k in ("input_context", "raw_output", "parsed_output"):
            d[k] = json.loads(d[k]) if d[k] is not None else None
        out.append(d)
    return out


def wait_status(stack, run_id, statuses, timeout=90):
    if isinstance(statuses, str):
        statuses = [statuses]
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = run(stack, run_id)
        if last["status"] in statuses:
            return last
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not reach {statuses}: {last} logs={logs(stack, run_id)}")


def wait_for(fn, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def verify_signature(req, secret=SECRET):
    ts = req["headers"]["x-aiengine-timestamp"]
    want = "sha256=" + hmac.new(secret.encode(), (ts + "." + req["body"]).encode(),
                                hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, req["headers"].get("x-aiengine-signature", ""))


def engine_env(fake, **kw):
    env = {
        "AIENGINE_ALLOWED_HOSTS": f"127.0.0.1:{fake.port}",
        "CRM_URL": fake.url,
        "AIENGINE_WEBHOOK_SECRET": SECRET,
        "AIENGINE_ENGINE_WORKERS": "2",
        "AIENGINE_ENGINE_POLL_INTERVAL_MS": "100",
        "AIENGINE_ENGINE_LEASE_SECONDS": "3",
        "AIENGINE_ENGINE_RETRY_BACKOFF_SECONDS": "1",
        "AIENGINE_ENGINE_STEP_TIMEOUT_SECONDS": "10",
        "AIENGINE_ENGINE_SHUTDOWN_TIMEOUT": "20",
    }
    env.update({k: str(v) for k, v in kw.items()})
    return env


def keep_logs(stack, name):
    """Copy a private stack's logs where scripts/test.sh scans them for sanitizer reports."""
    dst = os.environ.get("AIENGINE_TEST_LOGDIR")
    if dst:
        shutil.copytree(stack.logdir, os.path.join(dst, name), dirs_exist_ok=True)


def engine_stack(prefix, runner_env):
    """A private stack (one worker) with `aiengine work` running under runner_env, for a
    module-scoped `eng` fixture: `yield from engine_stack("aiengine-x-", env)`. Its logs are
    kept for scripts/test.sh, so a SANITIZE=1 run checks the runners' reports too."""
    import tempfile
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from stack import Stack
    base = tempfile.mkdtemp(prefix=prefix)
    s = Stack(base, workers=1)
    try:
        s.start()
        s.start_work(runner_env)
        yield s
    finally:
        s.stop()
        keep_logs(s, prefix.strip("-"))
        shutil.rmtree(base, ignore_errors=True)


def fake_server():
    """The fake model / webhook receiver for a module-scoped `fake` fixture."""
    f = Fake()
    yield f
    f.stop()
