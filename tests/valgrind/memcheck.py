#!/usr/bin/python3
"""Memcheck run: a private stack (MariaDB + nginx from scripts/stack.py) whose single
`aiengine serve` pool runs under valgrind, a few thousand mixed requests through nginx,
SIGTERM, then the valgrind logs of the master and its worker(s) are parsed.

Exit 0: clean. Exit 1: valgrind found invalid reads/writes, uninitialised use, bad frees or
definite leaks (or the stack could not be run). Builds nothing: uses build/aiengine (or
$AIENGINE_BIN). Usage: tests/valgrind/run.sh [--requests N] [--keep]
"""
import argparse
import collections
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from stack import Stack, which  # noqa: E402

import requests  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

ERROR_KINDS = [
    ("invalid read", re.compile(r"^Invalid read of size")),
    ("invalid write", re.compile(r"^Invalid write of size")),
    ("uninitialised", re.compile(r"^(Conditional jump or move depends on uninitialised|Use of uninitialised value|"
                                 r"Syscall param .* (points to|contains) uninitialised)")),
    ("invalid free", re.compile(r"^(Invalid free|Mismatched free|Invalid realloc)")),
    ("overlap", re.compile(r"^Source and destination overlap")),
    ("bad argument", re.compile(r"^(Argument '.*' of function .* has a fishy|.*has a negative size)")),
    ("definite leak", re.compile(r"^[\d,]+ (\(.*\) )?bytes in [\d,]+ blocks are definitely lost")),
]


def vm_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def start_pool_under_valgrind(stack, vgdir, extra_vg):
    env = stack.env(stack.pool_socket(0))
    env["AIENGINE_WORKERS"] = "1"
    env["AIENGINE_LISTEN"] = stack.pool_socket(0)
    cmd = [which("valgrind"), "--tool=memcheck", "--leak-check=full", "--errors-for-leak-kinds=definite",
           "--error-exitcode=99", "--trace-children=yes", "--child-silent-after-fork=no",
           "--num-callers=30", "--track-origins=yes", f"--log-file={vgdir}/vg.%p.log"]
    supp = os.path.join(HERE, "aiengine.supp")
    if os.path.exists(supp):
        cmd.append(f"--suppressions={supp}")
    cmd += extra_vg + [stack.binary, "serve"]
    log = open(os.path.join(stack.logdir, "aiengine-0.log"), "ab")
    p = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, start_new_session=True)
    stack.pool_procs = [p]
    deadline = time.time() + 180
    while not os.path.exists(stack.pool_socket(0)):
        if p.poll() is not None:
            raise RuntimeError(f"aiengine under valgrind exited ({p.returncode}); see {stack.logdir}")
        if time.time() > deadline:
            raise RuntimeError("aiengine under valgrind did not create its socket")
        time.sleep(0.2)
    return p


class Driver:
    def __init__(self, url, token):
        self.url = url
        self.s = requests.Session()
        self.s.headers.update({"Authorization": "Bearer " + token, "Accept": "application/json"})
        self.statuses = collections.Counter()
        self.unexpected = []
        self.server_errors = []  # 5xx that the mix did not ask for (the outage's 503s are asked for)
        self.n = 0

    def req(self, method, path, expect=None, json_body=None, data=None, headers=None, **kw):
        h = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body)
            h.setdefault("Content-Type", "application/json")
        url = path if path.startswith("http") else self.url + path
        r = self.s.request(method, url, data=data, headers=h, timeout=120, allow_redirects=False, **kw)
        self.n += 1
        self.statuses[r.status_code] += 1
        wanted = expect if isinstance(expect, tuple) else (expect,)
        if expect is not None and r.status_code not in wanted:
            self.unexpected.append((method, path[:120], expect, r.status_code, r.text[:160]))
        if r.status_code >= 500 and r.status_code not in wanted:
            self.server_errors.append((method, path[:120], r.status_code, r.text[:160]))
        return r

    def data(self, r):
        try:
            return r.json().get("data")
        except ValueError:
            return None


def mixed_load(d, target):
    """Creates, reads with includes, lists (page and cursor), relation routes, updates,
    validation failures, malformed bodies, 401/404/405/409/415, deletes, hostile strings."""
    rounds = 0
    keep_wf = None
    while d.n < target:
        rounds += 1
        tag = uuid.uuid4().hex[:10]
        wf = d.data(d.req("POST", "/api/workflows", 201, {"name": f"vg {tag}", "trigger_event": f"vg.{tag}",
                                                          "description": "d" * (rounds % 7 * 100)}))
        pr = d.data(d.req("POST", "/api/prompts", 201, {"name": f"vg-{tag}", "system_prompt_text": "Be brief.",
                                                        "generation_config": {"t": 0.2, "k": [1, 2, {"x": None}]},
                                                        "template_variables": ["a", "b"]}))
        if not wf or not pr:
            continue
        keep_wf = keep_wf or wf
        steps = []
        for i in range(3):
            st = d.data(d.req("POST", "/api/workflow-steps", 201, {"workflow_id": wf["id"], "step_order": i, "name": f"s{i}",
                                                                  "prompt_id": pr["id"], "step_config": {"i": i}}))
            if st:
                steps.append(st)
        if not steps:
            continue
        parent = d.data(d.req("POST", "/api/execution-logs", 201, {"workflow_id": wf["id"], "step_id": steps[0]["id"],
                                                                  "status": "SUCCESS", "cost": "0.001250",
                                                                  "input_context": {"lead": tag}, "duration_ms": 12,
                                                                  "executed_at": "2026-01-02T03:04:05+02:00"}))
        for j in range(3):
            d.req("POST", "/api/execution-logs", 201, {"workflow_id": wf["id"], "step_id": steps[j % len(steps)]["id"],
                                                      "status": "FAILURE", "error_message": "boom " * j,
                                                      "parent_execution_log_id": parent["id"] if parent else None,
                                                      "triggering_object_id": f"lead-{j}"})
        # reads with includes
        d.req("GET", f"/api/workflows/{wf['id']}?include=steps", 200)
        d.req("GET", f"/api/workflow-steps/{steps[0]['id']}?include=workflow,prompt", 200)
        d.req("GET", f"/api/prompts/{pr['id']}?include=steps", 200)
        if parent:
            d.req("GET", f"/api/execution-logs/{parent['id']}?include=workflow,step,parent_log,child_logs", 200)
            d.req("GET", f"/api/execution-logs/{parent['id']}/children?per_page=2", 200)
        # lists: page, filters, sorts, includes, cursor pagination followed to the end
        d.req("GET", "/api/workflows?per_page=5&sort=-id,name&include=steps", 200)
        d.req("GET", f"/api/workflows?filter[trigger_event]=vg.{tag}&filter[is_active]=1", 200)
        d.req("GET", "/api/prompts?filter[status]=active&sort=name&page=2&per_page=3", 200)
        d.req("GET", f"/api/workflow-steps?filter[workflow_id]={wf['id']}&include=prompt", 200)
        d.req("GET", f"/api/workflows/{wf['id']}/steps?per_page=2&page=2", 200)
        d.req("GET", f"/api/prompts/{pr['id']}/steps", 200)
        r = d.req("GET", f"/api/workflows/{wf['id']}/logs?per_page=2&include=step", 200)
        for _ in range(3):
            nxt = (r.json().get("links") or {}).get("next") if r.status_code == 200 else None
            if not nxt:
                break
            r = d.req("GET", nxt, 200)
        r = d.req("GET", f"/api/execution-logs?per_page=3&filter[workflow_id]={wf['id']}&sort=-executed_at", 200)
        # updates
        d.req("PATCH", f"/api/workflows/{wf['id']}", 200, {"is_active": False, "name": f"vg2 {tag}"})
        d.req("PUT", f"/api/prompts/{pr['id']}", 200, {"status": "archived", "version": 2})
        d.req("PATCH", f"/api/workflow-steps/{steps[-1]['id']}", 200, {"prompt_id": None, "delay_minutes": 5})
        d.req("PATCH", f"/api/workflows/{wf['id']}", 200, {"unknown": 1})
        # validation failures and malformed requests
        d.req("POST", "/api/workflows", 422, {"name": "", "trigger_event": "x" * 300, "is_active": "maybe"})
        d.req("POST", "/api/prompts", 422, {"name": pr["name"], "system_prompt_text": "x", "version": 2})
        d.req("POST", "/api/workflow-steps", 422, {"workflow_id": 999999999, "step_order": -1, "name": None})
        d.req("POST", "/api/execution-logs", 422, {"workflow_id": "x", "step_id": [], "status": {}, "cost": "10000",
                                                   "executed_at": "yesterday", "duration_ms": 2147483648})
        d.req("PATCH", f"/api/execution-logs/{parent['id'] if parent else 1}", (422, 404), {"executed_at": "2040-01-01"})
        d.req("POST", "/api/workflows", 400, data=b"{not json", headers={"Content-Type": "application/json"})
        d.req("POST", "/api/workflows", 400, data='{"name":"\\ud800"}', headers={"Content-Type": "application/json"})
        d.req("POST", "/api/workflows", 400, data="[" * 40 + "]" * 40, headers={"Content-Type": "application/json"})
        d.req("POST", "/api/workflows", 400, data=b"", headers={"Content-Type": "application/json"})
        d.req("POST", "/api/workflows", 415, data="name=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
        d.req("GET", "/api/workflows?per_page=1000", 422)
        d.req("GET", "/api/workflows?sort=nope", 400)
        d.req("GET", "/api/workflows?include=nope", 400)
        d.req("GET", "/api/execution-logs?cursor=AAAA.BBBB", 400)
        d.req("GET", "/api/workflows/999999999", 404)
        d.req("GET", "/api/workflows/abc", 404)
        d.req("GET", "/api/nothing/here", 404)
        d.req("DELETE", "/api/workflows", 405)
        d.req("GET", "/api/workflows", 401, headers={"Authorization": "Bearer 1|wrong"})
        d.req("GET", "/api/health", 200)
        if rounds % 10 == 1:
            d.req("GET", "/api/openapi.json", 200)
        # hostile strings (verbatim storage, NULs, duplicate keys)
        h = d.data(d.req("POST", "/api/workflows", 201, {"name": "' OR 1=1 --\u0000`", "trigger_event": "\r\nX: 1",
                                                         "description": "\u2028\ufeff" + "€" * 50}))
        d.req("POST", "/api/workflows", 201, data='{"name":"a","name":"b","trigger_event":"t"}',
              headers={"Content-Type": "application/json"})
        big = d.data(d.req("POST", "/api/workflows", 201, {"name": "big", "trigger_event": "big", "description": "x" * 65535}))
        if big:
            d.req("DELETE", f"/api/workflows/{big['id']}", 204)
        d.req("POST", "/api/workflows", 422, {"name": "big", "trigger_event": "big", "description": "x" * 65536})
        # inputs that reach the database's own error path (see tests/e2e/test_hostile.py)
        if rounds % 5 == 0:
            d.req("POST", "/api/workflows", None, data=b'{"name":"\xc0\xaf","trigger_event":"t"}',
                  headers={"Content-Type": "application/json"})
            d.req("POST", "/api/prompts", None, data=b'{"name":"n%d","system_prompt_text":"x","generation_config":{"a\\u0000b":1}}' % rounds,
                  headers={"Content-Type": "application/json"})
            d.req("GET", "/api/workflows/%ff", None)
        # deletes: 409 while in use, then children first
        d.req("DELETE", f"/api/prompts/{pr['id']}", 409)
        for st in steps:
            d.req("DELETE", f"/api/workflow-steps/{st['id']}", 204)
        d.req("DELETE", f"/api/prompts/{pr['id']}", 204)
        if h:
            d.req("DELETE", f"/api/workflows/{h['id']}", 204)
        if wf is not keep_wf:
            d.req("DELETE", f"/api/workflows/{wf['id']}", 204)
        d.req("DELETE", f"/api/workflows/{wf['id']}", (204, 404))
    return rounds


def plain_rss_phase(stack, token, n):
    """The same mix against a worker NOT under valgrind, so VmRSS is the worker's own:
    measured after a warm-up and again after n more requests."""
    stack.start_pool(0, {"AIENGINE_WORKERS": "1"})
    try:
        stack.wait_healthy(timeout=60)
        d = Driver(stack.url, token)
        mixed_load(d, 300)  # warm-up: connection, statement cache, arena high-water mark
        workers = stack.worker_pids()
        before = {w: vm_rss_kib(w) for w in workers}
        mixed_load(d, 300 + n)
        after = {w: vm_rss_kib(w) for w in stack.worker_pids()}
        return before, after, d, stack.worker_pids() == workers
    finally:
        stack.stop_pool(0)


def parse_logs(vgdir, master_pid):
    """{pid: {"role", "errors": Counter(kind), "examples": [...], "definite": bytes, "summary": N}}"""
    out = {}
    for path in sorted(glob.glob(os.path.join(vgdir, "vg.*.log"))):
        pid = int(re.search(r"vg\.(\d+)\.log$", path).group(1))
        text = open(path, errors="replace").read()
        lines = [re.sub(r"^==\d+== ?", "", ln) for ln in text.splitlines()]
        info = {"path": path, "errors": collections.Counter(), "examples": [], "definite": 0, "summary": None,
                "role": "master" if pid == master_pid else "worker", "finished": "ERROR SUMMARY" in text}
        m = re.search(r"Parent PID: (\d+)", text)
        if pid != master_pid and m and int(m.group(1)) != master_pid:
            info["role"] = "other"
        for i, ln in enumerate(lines):
            for kind, rx in ERROR_KINDS:
                if rx.search(ln):
                    info["errors"][kind] += 1
                    if len(info["examples"]) < 6:
                        frames = []
                        for x in lines[i + 1:i + 40]:
                            if x.strip().startswith(("at ", "by ")):
                                frames.append(x.strip())
                            elif frames or not x.strip().startswith(("Address", "Uninitialised")):
                                break
                        info["examples"].append(f"{ln.strip()}\n      " + "\n      ".join(frames[:6]))
                    break
        m = re.search(r"definitely lost: ([\d,]+) bytes in ([\d,]+) blocks", text)
        if m:
            info["definite"] = int(m.group(1).replace(",", ""))
        m = re.search(r"ERROR SUMMARY: ([\d,]+) errors", text)
        if m:
            info["summary"] = int(m.group(1).replace(",", ""))
        out[pid] = info
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=int(os.environ.get("VG_REQUESTS", "3000")))
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) afterwards")
    ap.add_argument("--valgrind-arg", action="append", default=[])
    ap.add_argument("--no-plain-rss", dest="plain_rss", action="store_false",
                    help="skip the RSS measurement of a worker that is not under valgrind")
    args = ap.parse_args()

    binary = os.environ.get("AIENGINE_BIN") or os.path.join(ROOT, "build", "aiengine")
    if not os.access(binary, os.X_OK):
        print(f"memcheck: {binary} is missing; run `make` first", file=sys.stderr)
        return 1
    base = tempfile.mkdtemp(prefix="aiengine-vg-")
    vgdir = os.path.join(base, "valgrind")
    os.makedirs(vgdir)
    stack = Stack(base, workers=1, pools=1, binary=binary)
    failed = False
    pool = None
    rss = {}
    t_start = time.time()
    try:
        stack.start_mariadb()
        stack.migrate()
        token = stack.create_token(email="vg@example.com", name="valgrind")
        stack.start_nginx()
        if args.plain_rss:
            before, after, dp, same = plain_rss_phase(stack, token, args.requests)
            for w, b in before.items():
                a = after.get(w)
                print(f"memcheck: plain worker {w} (no valgrind) VmRSS after warm-up {b} KiB, after {dp.n - 300} "
                      f"more requests {a} KiB" + (f" ({a - b:+d} KiB)" if a is not None and b is not None else ""))
            rss["plain"] = (before, after)
            if not same:
                print("memcheck: FAIL: the plain worker changed during its run: it crashed")
                failed = True
        pool = start_pool_under_valgrind(stack, vgdir, args.valgrind_arg)
        stack.wait_healthy(timeout=180)
        workers = stack.worker_pids()
        d = Driver(stack.url, token)
        d.req("GET", "/api/workflows", 200)  # warm up: first connection, statement cache
        rss["before"] = {w: vm_rss_kib(w) for w in workers}
        rss["master"] = vm_rss_kib(pool.pid)
        t0 = time.time()
        rounds = mixed_load(d, args.requests // 2)
        # the database goes away and comes back: the reconnect path, under memcheck
        stack.stop_mariadb()
        for _ in range(20):
            d.req("GET", "/api/workflows", 503)
            d.req("POST", "/api/workflows", 503, {"name": "down", "trigger_event": "down"})
            d.req("GET", "/api/health", 503)
        stack.start_mariadb()
        rounds += mixed_load(d, args.requests)
        elapsed = time.time() - t0
        rss["after"] = {w: vm_rss_kib(w) for w in stack.worker_pids()}
        rss["master_after"] = vm_rss_kib(pool.pid)
        same_workers = stack.worker_pids() == workers
        print(f"memcheck: {d.n} requests ({rounds} rounds) in {elapsed:.0f}s through nginx; statuses "
              + ", ".join(f"{k}: {v}" for k, v in sorted(d.statuses.items())))
        if not same_workers:
            print(f"memcheck: FAIL: the worker changed during the run ({workers} -> {stack.worker_pids()}): it crashed")
            failed = True
        five = len(d.server_errors)
        if d.unexpected:
            print(f"memcheck: note: {len(d.unexpected)} answers differed from what the mix expected, e.g.:")
            for u in d.unexpected[:5]:
                print("    ", u)
        if five:
            print(f"memcheck: note: {five} unasked-for 5xx answers (a functional bug, not a memory error), e.g. "
                  f"{d.server_errors[0]}")
    except Exception as e:  # noqa: BLE001 - report and fail
        print(f"memcheck: FAIL: could not run the load: {e}")
        failed = True
    finally:
        stack._stop("nginx", signal.SIGQUIT, 10)
        rc = None
        if pool is not None:
            pool.send_signal(signal.SIGTERM)
            try:
                rc = pool.wait(180)
            except subprocess.TimeoutExpired:
                print("memcheck: FAIL: the pool did not stop within 180 s of SIGTERM")
                pool.kill()
                rc = pool.wait()
                failed = True
        time.sleep(1)  # the worker's valgrind finishes its leak report
        stack.stop_mariadb()

    logs = parse_logs(vgdir, pool.pid if pool else -1)
    print(f"memcheck: master exit status {rc} (valgrind --error-exitcode=99)")
    def fmt(v):
        return f"{v / 1024:.1f} MiB" if v is not None else "n/a"
    if rss.get("before"):
        for w, before in rss["before"].items():
            after = rss.get("after", {}).get(w)
            print(f"memcheck: valgrind worker {w} VmRSS before {fmt(before)}, after {fmt(after)}"
                  + (f" (+{(after - before) / 1024:.1f} MiB)" if before and after else "")
                  + "  [under valgrind: includes valgrind's own memory]")
        print(f"memcheck: master VmRSS before {fmt(rss.get('master'))}, after {fmt(rss.get('master_after'))}")
    if not logs:
        print("memcheck: FAIL: no valgrind logs were written")
        failed = True
    roles = collections.Counter(info["role"] for info in logs.values())
    if roles["master"] != 1 or roles["worker"] < 1:
        print(f"memcheck: FAIL: expected logs of one master and its worker(s), got {dict(roles)}")
        failed = True
    for pid, info in sorted(logs.items()):
        total = sum(info["errors"].values())
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(info["errors"].items())) or "none"
        print(f"memcheck: {info['role']} {pid}: ERROR SUMMARY {info['summary']}, definitely lost "
              f"{info['definite']} bytes; errors: {kinds}")
        if not info["finished"]:
            print(f"memcheck: FAIL: {info['role']} {pid} did not finish (no ERROR SUMMARY): killed?")
            failed = True
        if total or info["definite"] or (info["summary"] or 0):
            failed = True
            for ex in info["examples"]:
                print("    " + ex)
            print(f"    full log: {info['path']}")
    if failed:
        print(f"memcheck: FAIL ({time.time() - t_start:.0f}s); logs in {base}")
        return 1
    print(f"memcheck: OK: no invalid reads/writes, no uninitialised use, no definite leaks "
          f"({time.time() - t_start:.0f}s)")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    else:
        print(f"memcheck: logs kept in {base}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
