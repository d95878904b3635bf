"""Faults, each on a private stack: the database dying under load and coming back, a
client that dribbles its body, and headers too large for nginx.

What must hold: every answer is JSON, bounded in time (no hang), never a 500/502; a dead
database is a 503 with Retry-After from the same worker processes, which reconnect by
themselves when it returns; no write that was acknowledged with a 201 is lost.
"""
import contextlib
import json
import os
import socket
import subprocess
import threading
import time
import uuid

import requests

from helpers import raw_exchange

REQUEST_TIMEOUT = 15   # a request taking this long counts as a hang
BOUND = 10             # every answer, even during the outage, within this many seconds


def _session(token):
    s = requests.Session()
    s.headers.update({"Authorization": "Bearer " + token, "Accept": "application/json"})
    return s


def _no_worker_died(stack):
    log = open(os.path.join(stack.logdir, "aiengine-0.log")).read()
    assert "killed by signal" not in log, log[-2000:]
    assert "exited with" not in log, log[-2000:]


class Load:
    """Threads that create workflows and read lists/records until stopped, recording
    (start, end, method, status, headers, body) for every request."""

    def __init__(self, stack, token, threads=4):
        self.stack = stack
        self.token = token
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.results = []
        self.created = {}  # id -> trigger_event sent, for every 201
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(REQUEST_TIMEOUT + 5)
            assert not t.is_alive(), "a load thread hung"

    def run(self, n):
        s = _session(self.token)
        i = 0
        last_id = None
        while not self.stop.is_set():
            i += 1
            kind = i % 4
            trigger = f"fault.{n}.{i}.{uuid.uuid4().hex[:8]}"
            t0 = time.monotonic()
            try:
                if kind == 0:
                    r = s.post(self.stack.url + "/api/workflows", timeout=REQUEST_TIMEOUT,
                               json={"name": "under load", "trigger_event": trigger})
                    method = "POST"
                elif kind == 1:
                    r = s.get(self.stack.url + "/api/workflows", params={"per_page": 5, "sort": "-id"},
                              timeout=REQUEST_TIMEOUT)
                    method = "GET list"
                elif kind == 2 and last_id:
                    r = s.get(f"{self.stack.url}/api/workflows/{last_id}", timeout=REQUEST_TIMEOUT)
                    method = "GET show"
                else:
                    r = s.get(self.stack.url + "/api/health", timeout=REQUEST_TIMEOUT)
                    method = "GET health"
            except requests.RequestException as e:  # a hang or a reset is a failure, recorded
                with self.lock:
                    self.results.append((t0, time.monotonic(), "?", None, {}, repr(e)))
                continue
            t1 = time.monotonic()
            with self.lock:
                self.results.append((t0, t1, method, r.status_code, dict(r.headers), r.content))
                if method == "POST" and r.status_code == 201:
                    data = json.loads(r.content)["data"]
                    self.created[data["id"]] = trigger
                    last_id = data["id"]
            time.sleep(0.01)


def test_database_outage_under_load_is_503_then_same_workers_recover(make_stack):
    stack = make_stack(workers=2)
    token = stack.create_token(email="faults@example.com", name="faults")
    master = stack.pool_procs[0].pid
    workers = sorted(stack.worker_pids())
    assert len(workers) == 2

    load = Load(stack, token).start()
    time.sleep(1.5)
    stack.stop_mariadb()
    down_at = time.monotonic()
    time.sleep(3.0)
    up_begin = time.monotonic()
    stack.start_mariadb()
    up_at = time.monotonic()
    # let the load see the database again
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with load.lock:
            recovered = [r for r in load.results if r[0] > up_at and r[3] in (200, 201)]
        if len(recovered) >= 8:
            break
        time.sleep(0.1)
    time.sleep(1.0)
    load.finish()

    results = load.results
    assert results, "no requests were made"
    # every request was answered, in bounded time, with JSON, never 500/502
    for t0, t1, method, status, headers, body in results:
        assert status is not None, (method, body)
        assert t1 - t0 < BOUND, (method, status, t1 - t0)
        assert status in (200, 201, 503), (method, status, body[:300])
        assert headers.get("Content-Type", "").startswith("application/json"), (method, status, headers)
        parsed = json.loads(body)
        if status == 503:
            assert headers.get("Retry-After", "").isdigit() and int(headers["Retry-After"]) > 0, headers
            if method != "GET health":
                assert parsed.get("message"), parsed
            else:
                assert parsed == {"status": "degraded", "database": "unavailable"}, parsed
    # while the database was down, every request got a 503 (nothing can be served without it)
    during = [r for r in results if r[0] > down_at and r[1] < up_begin]
    assert len(during) >= 10, len(during)
    assert {r[3] for r in during} == {503}, sorted({(r[2], r[3]) for r in during})
    assert {r[2] for r in during} >= {"POST", "GET list", "GET health"}
    # before and after: successes
    assert any(r[3] == 201 for r in results if r[1] < down_at)
    after = [r for r in results if r[0] > up_at]
    assert any(r[3] == 201 for r in after), sorted({(r[2], r[3]) for r in after})
    assert any(r[3] == 200 and r[2] == "GET list" for r in after)

    # the same processes: nothing crashed, nothing was restarted
    assert stack.pool_procs[0].poll() is None
    assert stack.pool_procs[0].pid == master
    assert sorted(stack.worker_pids()) == workers
    _no_worker_died(stack)
    # and each of them answers again (a few rounds so both workers take requests)
    s = _session(token)
    for _ in range(10):
        r = s.get(stack.url + "/api/workflows", params={"per_page": 1}, timeout=REQUEST_TIMEOUT)
        assert r.status_code == 200, r.text
        r = s.get(stack.url + "/api/health", timeout=REQUEST_TIMEOUT)
        assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}, r.text
    assert sorted(stack.worker_pids()) == workers

    # no acknowledged write was lost
    created = dict(load.created)
    assert created
    ids = ",".join(str(int(i)) for i in created)
    rows = dict((int(i), t) for i, t in stack.sql(f"SELECT id, trigger_event FROM workflows WHERE id IN ({ids})"))
    missing = sorted(set(created) - set(rows))
    assert not missing, f"201 answered but not in the database: {missing}"
    for rid, trigger in created.items():
        assert rows[rid] == trigger, (rid, rows[rid], trigger)


def _raw_post_headers(stack, token, length):
    return (f"POST /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode()


def test_slow_client_does_not_tie_up_the_only_worker(make_stack):
    stack = make_stack(workers=1)
    token = stack.create_token(email="slow@example.com", name="slow")
    workers = stack.worker_pids()
    assert len(workers) == 1

    marker = "slow-" + uuid.uuid4().hex
    body = json.dumps({"name": marker, "trigger_event": marker}).encode()
    body += b" " * (1000 - len(body))
    sock = socket.create_connection(("127.0.0.1", stack.port), timeout=30)
    sock.sendall(_raw_post_headers(stack, token, len(body)))
    sent = [0]
    dribbling = threading.Event()
    dribbling.set()

    def dribble():
        while dribbling.is_set() and sent[0] < len(body):
            try:
                sock.sendall(body[sent[0]:sent[0] + 1])
            except OSError:
                return
            sent[0] += 1
            time.sleep(0.5)

    t = threading.Thread(target=dribble, daemon=True)
    t.start()
    try:
        # the only worker keeps answering others while the slow body trickles into nginx
        s = _session(token)
        served = 0
        t_end = time.monotonic() + 4
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            r = s.get(stack.url + "/api/workflows", params={"per_page": 1}, timeout=REQUEST_TIMEOUT)
            assert r.status_code == 200, r.text
            r = s.post(stack.url + "/api/workflows", json={"name": "meanwhile", "trigger_event": "meanwhile"},
                       timeout=REQUEST_TIMEOUT)
            assert r.status_code == 201, r.text
            # were the worker reading the slow body, these would wait for all of it (~500 s)
            assert time.monotonic() - t0 < BOUND, ("a request waited behind the slow client", time.monotonic() - t0)
            served += 2
            time.sleep(0.2)
        assert served >= 6
        assert 0 < sent[0] < len(body)  # the slow request is still in flight
        assert stack.worker_pids() == workers
    finally:
        dribbling.clear()
        t.join(5)

    # silence now: nginx gives up on the body (client_body_timeout 10 s) and never hands the
    # half request to the worker
    sock.settimeout(25)
    t0 = time.monotonic()
    try:
        got = sock.recv(65536)
    except ConnectionResetError:
        got = b""
    except socket.timeout:
        raise AssertionError("nginx never timed out the slow client")
    finally:
        sock.close()
    assert time.monotonic() - t0 < 25
    if got:  # if nginx answers at all, it is a 408 in JSON, not a 5xx
        assert got.startswith(b"HTTP/1.1 408"), got[:300]
        assert b"application/json" in got.split(b"\r\n\r\n")[0], got[:300]
    assert stack.sql(f"SELECT COUNT(*) FROM workflows WHERE name = '{marker}'") == [["0"]]
    assert stack.worker_pids() == workers
    r = _session(token).get(stack.url + "/api/health", timeout=REQUEST_TIMEOUT)
    assert r.status_code == 200, r.text
    _no_worker_died(stack)


def test_huge_headers_are_a_json_4xx_from_nginx(make_stack):
    stack = make_stack(workers=1)
    token = stack.create_token(email="huge@example.com", name="huge")
    workers = stack.worker_pids()
    cases = {
        "one 64 KiB header": b"X-Big: " + b"a" * 65536 + b"\r\n",
        "64 KiB cookie": b"Cookie: c=" + b"b" * 65536 + b"\r\n",
        "64 KiB authorization": b"Authorization: Bearer 1|" + b"c" * 65536 + b"\r\n",
        "many 8 KiB headers": b"".join(b"X-H%d: " % i + b"d" * 8192 + b"\r\n" for i in range(10)),
        "4000 small headers": b"".join(b"X-N%05d: " % i + b"v" * 20 + b"\r\n" for i in range(4000)),
    }
    for name, extra in cases.items():
        for method in (b"GET", b"POST"):
            req = method + b" /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            if not extra.startswith(b"Authorization"):
                req += b"Authorization: Bearer " + token.encode() + b"\r\n"
            req += extra
            if method == b"POST":
                req += b"Content-Type: application/json\r\nContent-Length: 2\r\n"
            req += b"Connection: close\r\n\r\n"
            if method == b"POST":
                req += b"{}"
            out = raw_exchange(stack, req, reset_ends=True)
            head, _, body = out.partition(b"\r\n\r\n")
            status_line = head.split(b"\r\n")[0]
            status = int(status_line.split()[1])
            assert 400 <= status < 500, (name, method, out[:300])
            assert b"content-type: application/json" in head.lower(), (name, method, head)
            assert json.loads(body)["message"], (name, method, body)
    # the worker never saw those and is fine
    assert stack.worker_pids() == workers
    r = _session(token).get(stack.url + "/api/workflows", timeout=REQUEST_TIMEOUT)
    assert r.status_code == 200, r.text
    _no_worker_died(stack)


@contextlib.contextmanager
def row_held(stack, table, row_id):
    """Another session (root, through the mariadb client) holds `table` row `row_id` with
    SELECT … FOR UPDATE in an open transaction until the block ends."""
    from stack import which
    holder = subprocess.Popen([which("mariadb"), "--no-defaults", "-uroot", "-N", "-B", "--unbuffered",
                               f"--socket={stack.db_socket}", "aiengine"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        holder.stdin.write(f"BEGIN; SELECT 'held' FROM {table} WHERE id = {row_id} FOR UPDATE;\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.stdin.write("ROLLBACK;\n")
        holder.stdin.close()
        holder.wait(30)


BUSY = "The database was busy with a conflicting change. Please retry."


def assert_busy_and_nothing_waiting(stack, r, started):
    assert r.status_code == 503, r.text
    assert r.json()["message"] == BUSY
    assert r.headers.get("Retry-After", "").isdigit(), r.headers
    assert time.monotonic() - started >= 4  # the request did wait on the held row
    waiting = stack.sql("SELECT COUNT(*) FROM information_schema.innodb_trx "
                        "WHERE trx_state = 'LOCK WAIT'")
    assert waiting == [["0"]], waiting


def test_a_row_locked_past_the_lock_wait_is_a_busy_503_and_leaves_nothing_waiting(make_stack):
    """Another session holds a workflow's row lock (an operator's open transaction, a long
    batch): a PATCH of that workflow answers 503 "busy … retry" with Retry-After after
    database.lock_wait_timeout (5 s here: half of read_timeout), and the statement no longer
    waits on the server. Before, the client gave up first at read_timeout (10 s) with
    "unavailable", and the server went on waiting, holding the transaction's locks, until
    innodb_lock_wait_timeout (50 s). A run's cancel meets the same held row with the same
    answer (runs_api.c maps it through req_db_fail, as the CRUD does). The next request, on
    the same worker, is served."""
    s = make_stack(workers=1)
    api = _session(s.create_token(email="locks@example.com", name="locks"))
    r = api.post(s.url + "/api/workflows", json={"name": "locked", "trigger_event": "a.b"})
    assert r.status_code == 201, r.text
    wid = r.json()["data"]["id"]
    with row_held(s, "workflows", wid):
        t0 = time.monotonic()
        r = api.patch(f"{s.url}/api/workflows/{wid}", json={"name": "late"}, timeout=REQUEST_TIMEOUT)
        assert_busy_and_nothing_waiting(s, r, t0)
    log = open(os.path.join(s.logdir, "aiengine-0.log")).read()
    assert "gave up waiting 5 s for a lock" in log, log[-2000:]
    r = api.patch(f"{s.url}/api/workflows/{wid}", json={"name": "on time"})
    assert r.status_code == 200 and r.json()["data"]["name"] == "on time", r.text

    r = api.post(f"{s.url}/api/workflows/{wid}/runs", json={"context": {}})
    assert r.status_code == 201, r.text
    run_id = r.json()["data"]["id"]
    with row_held(s, "workflow_runs", run_id):
        t0 = time.monotonic()
        r = api.post(f"{s.url}/api/workflow-runs/{run_id}/cancel", timeout=REQUEST_TIMEOUT)
        assert_busy_and_nothing_waiting(s, r, t0)
    r = api.post(f"{s.url}/api/workflow-runs/{run_id}/cancel")
    assert r.status_code == 200 and r.json()["data"]["status"] == "cancelled", r.text
    _no_worker_died(s)
