"""Robustness of the worker process against its FastCGI clients and its own signals
(issue 15, items 3 and 4): per-request read and write deadlines, so that stalled or slow
clients talking straight to a worker socket cannot hold the workers, and responses that
survive a reload (SIGHUP) and a stop (SIGTERM) landing while a slow reader takes them.

Every test starts its own stack (make_stack). A raw FastCGI client (fcgi.py) plays the
hostile or slow client; curl-like requests through nginx play everyone else.
"""
import contextlib
import json
import os
import signal
import socket
import struct
import threading
import time

import pytest
import requests

from fcgi import END_REQUEST, STDIN, STDOUT, fcgi_connect, fcgi_read_answer, fcgi_request, record


def log_text(stack, i=0):
    with open(os.path.join(stack.logdir, f"aiengine-{i}.log"), errors="replace") as f:
        return f.read()


def wait_until(pred, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def closed_by_peer(conn, timeout):
    """Wait up to `timeout` s for the worker to close the connection; returns the seconds it
    took, or None if it stayed open."""
    t0 = time.monotonic()
    conn.settimeout(0.5)
    while time.monotonic() - t0 < timeout:
        try:
            if conn.recv(65536) == b"":
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - t0
    return None


class Stallers:
    """n connections straight to a worker socket that each send one byte and then nothing,
    re-opened as soon as the worker drops them — what an attacker with access to the socket
    would keep doing."""

    def __init__(self, path, n):
        self.path = path
        self.stop_event = threading.Event()
        self.dropped = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(n)]

    def _run(self):
        while not self.stop_event.is_set():
            try:
                c = fcgi_connect(self.path, timeout=0.3)
                c.sendall(b"\x01")
            except OSError:
                time.sleep(0.1)
                continue
            while not self.stop_event.is_set():
                try:
                    if c.recv(1024) == b"":
                        break
                except socket.timeout:
                    continue
                except OSError:
                    break
            else:
                c.close()
                return
            c.close()
            with self.lock:
                self.dropped += 1

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(10)


def test_stalled_fastcgi_clients_cannot_hold_the_workers(make_stack):
    """Four clients connected straight to the socket of a two-worker pool, each sending one
    byte and stalling (and reconnecting when dropped): every worker is taken at once, yet
    requests through nginx keep getting answers, because a worker gives a client
    server.request_timeout seconds to send its request and then closes the connection."""
    s = make_stack(workers=2, env={"AIENGINE_REQUEST_TIMEOUT": "2"})
    stallers = Stallers(s.pool_socket(0), 4).start()
    statuses, took = [], []
    try:
        time.sleep(1.0)  # both workers are now inside a stalled connection
        for _ in range(8):
            t0 = time.monotonic()
            try:
                r = requests.get(s.url + "/api/health", timeout=40)
                statuses.append(r.status_code)
            except requests.RequestException as e:
                statuses.append(type(e).__name__)
            took.append(round(time.monotonic() - t0, 2))
    finally:
        stallers.stop()
    assert statuses == [200] * 8, (statuses, took)
    assert stallers.dropped >= 4, stallers.dropped
    assert "sent no complete request within 2 s" in log_text(s), log_text(s)[-2000:]
    assert s.pool_procs[0].poll() is None


def test_a_trickling_client_is_cut_at_the_deadline_not_per_read(make_stack):
    """A client that keeps sending its request one byte at a time, each byte well within
    any per-read timeout, is still closed once the whole request has taken longer than
    request_timeout: the deadline is per request."""
    s = make_stack(workers=1, env={"AIENGINE_REQUEST_TIMEOUT": "2"})
    data = fcgi_request({"DOCUMENT_URI": "/api/health", "HTTP_X_PAD": "p" * 400})
    conn = fcgi_connect(s.pool_socket(0))
    t0 = time.monotonic()
    closed_after = None
    try:
        for b in data[:-1]:
            try:
                conn.sendall(bytes([b]))
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - t0
                break
            time.sleep(0.05)
            if time.monotonic() - t0 > 30:
                break
        if closed_after is None:
            closed_after = closed_by_peer(conn, 5)
    finally:
        conn.close()
    assert closed_after is not None and closed_after < 20, closed_after
    # the worker is free again
    assert requests.get(s.url + "/api/health", timeout=30).status_code == 200


def test_each_request_gets_its_whole_deadline_after_earlier_ones(make_stack):
    """The worker keeps one timer and moves it only when it would fire too late
    (src/worker.c, arm_deadline): the timer set for an earlier request still fires at that
    request's deadline, and must then wait for the current request's own, neither cutting
    it early nor letting it lapse. A request answered at once, then 1.5 s later a client
    that sends one byte and stalls: it is closed request_timeout (3 s) after it connected,
    not when the earlier request's timer fires (1.5 s in)."""
    s = make_stack(workers=1, env={"AIENGINE_REQUEST_TIMEOUT": "3"})
    assert requests.get(s.url + "/api/health", timeout=30).status_code == 200
    time.sleep(1.5)
    conn = fcgi_connect(s.pool_socket(0))
    try:
        conn.sendall(fcgi_request({"DOCUMENT_URI": "/api/health"})[:1])
        took = closed_by_peer(conn, 20)
    finally:
        conn.close()
    assert took is not None and 2.5 <= took < 15, took
    # the worker logs after libfcgi has closed the connection: wait for the line (under
    # AddressSanitizer it came after this test had read the log, make test SANITIZE=1)
    assert wait_until(lambda: "sent no complete request within 3 s" in log_text(s), 10), \
        log_text(s)[-2000:]
    assert requests.get(s.url + "/api/health", timeout=30).status_code == 200


def big_workflows(stack, token, n, size):
    for i in range(n):
        r = requests.post(stack.url + "/api/workflows",
                          json={"name": f"big {i}", "trigger_event": "e", "description": "d" * size},
                          headers={"Authorization": "Bearer " + token, "Accept": "application/json"},
                          timeout=30)
        assert r.status_code == 201, r.text


def list_request(token, per_page):
    return fcgi_request({"DOCUMENT_URI": "/api/workflows", "QUERY_STRING": f"per_page={per_page}",
                         "HTTP_AUTHORIZATION": "Bearer " + token, "HTTP_HOST": "localhost"})


def test_a_client_that_does_not_take_its_response_is_dropped(make_stack):
    """A client that asks for a large response and never reads it holds the worker only
    for request_timeout seconds of writing; the others are served meanwhile and after."""
    s = make_stack(workers=1, env={"AIENGINE_REQUEST_TIMEOUT": "2"})
    token = s.create_token(email="sink@example.com", name="sink")
    big_workflows(s, token, 40, 60000)
    conn = fcgi_connect(s.pool_socket(0))
    try:
        conn.sendall(list_request(token, 40))
        # never read: the worker blocks writing once the socket buffer is full
        t0 = time.monotonic()
        r = requests.get(s.url + "/api/health", timeout=40)
        assert r.status_code == 200
        assert time.monotonic() - t0 < 30
        assert wait_until(lambda: "did not take its response within 2 s" in log_text(s), 20), \
            log_text(s)[-2000:]
        answer = fcgi_read_answer(conn)
    finally:
        conn.close()
    assert not answer.complete, "the response cannot have been completed: it was never read"
    assert requests.get(s.url + "/api/health", timeout=30).status_code == 200


def test_slow_reader_gets_the_whole_response_through_sighup_and_sigterm(make_stack):
    """A raw client takes a ~3.6 MB list slowly (the worker spends seconds blocked in write)
    while the master is reloaded (the old worker gets SIGTERM) and then stopped (SIGTERM
    again): the response arrives whole — every byte, the END_REQUEST record, valid JSON with
    every row — and the master then exits 0."""
    s = make_stack(workers=1, env={"AIENGINE_REQUEST_TIMEOUT": "120"})
    token = s.create_token(email="slow@example.com", name="slow")
    big_workflows(s, token, 60, 60000)
    master = s.pool_procs[0]
    conn = fcgi_connect(s.pool_socket(0), timeout=60)
    sent = []

    def signals_while_reading(total):
        # once the worker is busy writing: reload, then (a little later) stop
        if total > 200_000 and "hup" not in sent:
            sent.append("hup")
            master.send_signal(signal.SIGHUP)
        elif total > 1_000_000 and "term" not in sent:
            sent.append("term")
            master.send_signal(signal.SIGTERM)

    try:
        conn.sendall(list_request(token, 60))
        answer = fcgi_read_answer(conn, chunk=8192, pause=0.01, on_chunk=signals_while_reading)
    finally:
        conn.close()
    assert sent == ["hup", "term"], sent
    assert answer.complete, "the response was cut: no END_REQUEST record"
    assert answer.status == 200, (answer.status, answer.body[:300])
    body = json.loads(answer.body)
    assert len(body["data"]) == 60
    assert all(len(w["description"]) == 60000 for w in body["data"])
    assert master.wait(40) == 0
    text = log_text(s)
    assert "config reloaded" in text and "stopped" in text, text[-2000:]
    assert "killing it" not in text, text[-2000:]


# ---------------------------------------------------------------- prepared statements

def statement_shapes(wf_id):
    """GETs that between them need several dozen distinct prepared statements."""
    paths = [f"/api/workflows/{wf_id}", f"/api/workflows/{wf_id}?include=steps",
             f"/api/workflows/{wf_id}/steps", f"/api/workflows/{wf_id}/logs", "/api/health"]
    for res, sorts, filters in (
            ("workflows", ["name", "-trigger_event", "is_active", "-created_at", "updated_at"],
             ["trigger_event=e", "is_active=1"]),
            ("prompts", ["name", "-category", "version", "status", "-model_name"],
             ["name=x", "category=c", "status=active", "model_name=m"]),
            ("workflow-steps", ["step_order", "-name", "step_type", "delay_minutes"],
             [f"workflow_id={wf_id}", "step_type=llm"]),
            ("execution-logs", ["executed_at", "-executed_at"], ["status=SUCCESS", f"workflow_id={wf_id}"])):
        for srt in sorts:
            paths.append(f"/api/{res}?sort={srt}&per_page=3")
        for flt in filters:
            k, v = flt.split("=")
            paths.append(f"/api/{res}?filter[{k}]={v}")
            for srt in sorts[:2]:
                paths.append(f"/api/{res}?filter[{k}]={v}&sort={srt}")
    return paths


def test_prepared_statements_running_out_server_wide_never_answer_500(make_stack):
    """With MariaDB's max_prepared_stmt_count far below what four workers would cache, a
    worker whose prepare is refused (1461) gives half its cached statements back, shrinks
    its cache and retries: no request answers 500; one that still cannot get a statement
    answers 503 with Retry-After, and the pool settles so that requests succeed again."""
    s = make_stack(workers=4)
    token = s.create_token(email="stmt@example.com", name="stmt")
    h = {"Authorization": "Bearer " + token, "Accept": "application/json"}
    wf = requests.post(s.url + "/api/workflows", json={"name": "w", "trigger_event": "e"},
                       headers=h, timeout=30).json()["data"]
    paths = statement_shapes(wf["id"])
    assert len(paths) > 40
    limit = 24
    s.sql_root(f"SET GLOBAL max_prepared_stmt_count = {limit}")
    try:
        results, lock = [], threading.Lock()

        def sweep(k):
            session = requests.Session()
            for p in paths[k:] + paths[:k]:
                r = session.get(s.url + p, headers=h, timeout=30)
                with lock:
                    results.append((p, r.status_code, r.headers.get("Retry-After"), r.text[:200]))

        for _ in range(2):
            threads = [threading.Thread(target=sweep, args=(k * 7,)) for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
        bad = [r for r in results if r[1] not in (200, 503) or (r[1] == 503 and not r[2])]
        assert bad == [], bad[:5]
        assert "max_prepared_stmt_count is reached" in log_text(s), log_text(s)[-2000:]
        held = int(s.sql_root("SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'").split()[1])
        assert held <= limit
        # settled: a full sequential sweep succeeds (503s, if any, were transient)
        def clean_sweep():
            return all(requests.get(s.url + p, headers=h, timeout=30).status_code == 200 for p in paths)
        assert wait_until(clean_sweep, 60, 0.5), [r for r in results if r[1] != 200][:5]
    finally:
        s.sql_root("SET GLOBAL max_prepared_stmt_count = 16382")


# ---------------------------------------------------------------- reloads

def test_quick_reloads_under_load_lose_no_request_and_no_worker(make_stack):
    """Three SIGHUPs in quick succession while GETs run: every GET answers 200, every
    worker of the replaced generations exits, and the pool ends with its configured size."""
    s = make_stack(workers=2)
    master = s.pool_procs[0]
    token = s.create_token(email="hup3@example.com", name="hup3")
    stop = threading.Event()
    results, lock = [], threading.Lock()

    def load():
        session = requests.Session()
        h = {"Authorization": "Bearer " + token, "Accept": "application/json"}
        while not stop.is_set():
            for p in ("/api/health", "/api/workflows?per_page=5"):
                try:
                    code = session.get(s.url + p, headers=h, timeout=30).status_code
                except requests.RequestException as e:
                    code = type(e).__name__
                with lock:
                    results.append(code)

    threads = [threading.Thread(target=load, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        old = set()
        for _ in range(3):
            old |= set(s.worker_pids())  # all of these are replaced by this reload
            master.send_signal(signal.SIGHUP)
            time.sleep(0.3)
        assert wait_until(lambda: log_text(s).count("config reloaded") >= 3, 20), log_text(s)[-2000:]
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(40)
    assert len(results) > 20
    assert [c for c in results if c != 200] == []
    assert wait_until(lambda: len(s.worker_pids()) == 2 and not (set(s.worker_pids()) & old), 30), \
        (s.worker_pids(), old)
    assert "killing it" not in log_text(s)
    assert master.poll() is None


# ---------------------------------------------------------------- hostile FastCGI bytes

def hostile_fastcgi_streams():
    import random
    import struct
    from fcgi import BEGIN_REQUEST, PARAMS, STDIN, record
    begin = record(BEGIN_REQUEST, struct.pack("!HB5x", 1, 0))
    rng = random.Random(15)
    yield "garbage", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    yield "wrong version", b"\x07" + record(BEGIN_REQUEST, struct.pack("!HB5x", 1, 0))[1:]
    yield "unknown role", record(BEGIN_REQUEST, struct.pack("!HB5x", 9, 0)) + record(PARAMS, b"")
    yield "header only", begin[:5]
    yield "content cut short", struct.pack("!BBHHBx", 1, PARAMS, 1, 60000, 0) + b"x" * 100
    yield "param name length past the record", begin + record(PARAMS, b"\x8f\xff\xff\xff\x01ab")
    yield "param lengths near 2^31", begin + record(PARAMS, b"\xff\xff\xff\xff\xff\xff\xff\xffab")
    yield "abort before params", begin + record(2, b"")
    yield "stdin before params end", begin + record(STDIN, b"{}")
    yield "many empty records", begin + record(PARAMS, b"\x01\x01ab") * 2000
    for i in range(8):
        yield f"random {i}", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
        yield f"begin + random {i}", begin + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))


def test_hostile_fastcgi_streams_are_dropped_and_no_worker_dies(make_stack):
    """Malformed FastCGI straight on the worker socket: each connection is closed (or
    answered) within the request deadline, no worker crashes, and nginx's requests are
    answered throughout."""
    s = make_stack(workers=2, env={"AIENGINE_REQUEST_TIMEOUT": "2"})
    pids = set(s.worker_pids())
    slow = []
    for name, data in hostile_fastcgi_streams():
        conn = fcgi_connect(s.pool_socket(0), timeout=10)
        try:
            try:
                conn.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            took = closed_by_peer(conn, 20)
        finally:
            conn.close()
        if took is None:
            slow.append(name)
        assert requests.get(s.url + "/api/health", timeout=30).status_code == 200, name
    assert slow == []
    assert set(s.worker_pids()) == pids, "a worker died"
    assert "killed by signal" not in log_text(s) and "exited with" not in log_text(s), log_text(s)[-2000:]


@contextlib.contextmanager
def tcp_pool(s, **env_extra):
    """A one-worker pool of stack s listening on 127.0.0.1:port (a remote pool's kind of
    listener); yields the port, and checks on the way out that it stops cleanly."""
    import subprocess
    from stack import free_port
    port = free_port()
    env = s.env(f"127.0.0.1:{port}")
    env.update({"AIENGINE_WORKERS": "1"}, **env_extra)
    log = open(os.path.join(s.logdir, "aiengine-tcp.log"), "ab")
    p = subprocess.Popen([s.binary, "serve"], env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        def up():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        assert wait_until(up, 20), "the TCP pool did not start"
        time.sleep(0.5)  # the probe connection above was dropped by now or soon will be
        yield port
    finally:
        p.terminate()
        assert p.wait(40) == 0


def test_tcp_listener_is_not_held_by_a_stalled_client(make_stack):
    """The same deadline on a host:port listener (a remote pool): a client that connects
    and stalls holds the only worker for request_timeout seconds, not for good; a proper
    FastCGI request on the next connection is answered."""
    s = make_stack(workers=1)
    with tcp_pool(s, AIENGINE_REQUEST_TIMEOUT="2") as port:
        staller = socket.create_connection(("127.0.0.1", port), timeout=30)
        staller.sendall(b"\x01")
        t0 = time.monotonic()
        conn = socket.create_connection(("127.0.0.1", port), timeout=40)
        conn.sendall(fcgi_request({"DOCUMENT_URI": "/api/health"}))
        answer = fcgi_read_answer(conn)
        conn.close()
        assert answer.complete and answer.status == 200, answer
        assert time.monotonic() - t0 < 30
        assert closed_by_peer(staller, 20) is not None
        staller.close()


def test_an_answered_connection_is_closed_outright(stack):
    """Once its response is out the worker closes the connection itself (src/worker.c,
    close_connection) instead of libfcgi's lingering close, which shut the worker's side down
    and then waited for nginx to close first: a sleep and a wake-up on every request. Seen
    from the client, the socket is then closed for writing too, not only half-closed: for a
    GET (whose empty FCGI_STDIN record the handler never reads) and for a POST with a body."""
    cases = [(fcgi_request({"DOCUMENT_URI": "/api/health"}), 200),
             (fcgi_request({"REQUEST_METHOD": "POST", "DOCUMENT_URI": "/api/workflows"},
                           body=b'{"name": "closed outright"}'), 401)]  # no token: 401
    for data, status in cases:
        conn = fcgi_connect(stack.pool_socket(0))
        try:
            conn.sendall(data)
            answer = fcgi_read_answer(conn, reset_ok=False)
            assert answer.complete and answer.status == status, answer
            with pytest.raises((BrokenPipeError, ConnectionResetError)):
                conn.sendall(b"\x01")
        finally:
            conn.close()


def test_an_answer_larger_than_a_record_comes_in_records_then_the_end(stack, anon):
    """The worker frames its answer itself (src/fcgiout.c) and writes it at once: an answer
    over 65,535 bytes (the OpenAPI document, ~95 KB) must come as several STDOUT records of
    at most that size, then exactly one empty STDOUT record, then END_REQUEST (status 0,
    request complete) as the last bytes, and say the same as through nginx."""
    conn = fcgi_connect(stack.pool_socket(0))
    try:
        conn.sendall(fcgi_request({"DOCUMENT_URI": "/api/openapi.json"}))
        data = b""
        while True:
            k = conn.recv(65536)
            if not k:
                break
            data += k
    finally:
        conn.close()
    records, at = [], 0
    while at < len(data):
        version, rtype, rid, clen, plen = struct.unpack("!BBHHBx", data[at:at + 8])
        assert version == 1 and rid == 1
        records.append((rtype, data[at + 8:at + 8 + clen]))
        at += 8 + clen + plen
    assert at == len(data)
    stdout = [c for t, c in records[:-2]]
    assert all(t == STDOUT for t, _ in records[:-2]) and all(stdout)
    assert len(stdout) >= 2 and max(map(len, stdout)) <= 65535
    assert records[-2] == (STDOUT, b"")
    assert records[-1] == (END_REQUEST, bytes(8))
    head, _, body = b"".join(stdout).partition(b"\r\n\r\n")
    assert head.startswith(b"Status: 200 OK\r\n") and len(body) > 65535
    assert json.loads(body) == anon.get("/api/openapi.json").json()


def test_a_connection_nginx_asks_to_keep_still_serves_one_request(stack):
    """FCGI_KEEP_CONN (nginx's `fastcgi_keep_conn on`) is answered, then the connection is
    ended all the same (one request per connection; decisions.md "FastCGI keep-alive"), and
    with libfcgi's lingering close rather than close_connection's plain one, because nginx
    may already be sending its next request on it: the worker shuts its side down, then
    reads and drops what still comes. A second request sent after the end of file is taken
    without an error (the worker is still reading) and never answered."""
    conn = fcgi_connect(stack.pool_socket(0))
    try:
        conn.sendall(fcgi_request({"DOCUMENT_URI": "/api/health"}, keep_conn=True))
        answer = fcgi_read_answer(conn, reset_ok=False)
        assert answer.complete and answer.status == 200, answer
        conn.sendall(fcgi_request({"DOCUMENT_URI": "/api/health"}, keep_conn=True))
        assert conn.recv(65536) == b""  # nothing more, and not reset
    finally:
        conn.close()


@pytest.mark.parametrize("body_bytes,status", [(64, 422), (2 * 1024 * 1024, 413)],
                         ids=["a small body", "a body over the limit"])
def test_a_peer_that_ends_stdin_in_a_later_write_gets_its_answer(stack, tokens, body_bytes,
                                                                  status):
    """Apache's mod_proxy_fcgi writes a request's body, then, in a separate write, the empty
    STDIN record that ends it. A worker that answers and closes as soon as it has the body
    (nothing unread in the socket at that moment) made Apache's last write fail: Apache
    answered 503 in place of the worker's 413 (CI's packaging check). The worker reads stdin
    to its end record before it answers; the pause below is what gives a worker that does
    not wait the time to close."""
    conn = fcgi_connect(stack.pool_socket(0))
    try:
        body = b"{" + b" " * (body_bytes - 2) + b"}"
        whole = fcgi_request({"REQUEST_METHOD": "POST", "DOCUMENT_URI": "/api/workflows",
                              "HTTP_AUTHORIZATION": f"Bearer {tokens['admin']}"}, body)
        end = record(STDIN, b"")
        assert whole.endswith(end)
        conn.sendall(whole[:-len(end)])
        time.sleep(0.5)
        conn.sendall(end)
        answer = fcgi_read_answer(conn, reset_ok=False)
    finally:
        conn.close()
    assert answer.complete and answer.status == status, answer


def test_a_request_whose_stdin_never_ends_is_cut_at_the_deadline(make_stack):
    """The worker reads a request's stdin to its end record before it answers (see the test
    above). A client that sends the params and the body but never that record holds the
    worker only until server.request_timeout: then the connection is closed unanswered and
    nothing of the request is carried out (its body was whole, the request was not: no
    workflow is created), and the pool serves the next one."""
    s = make_stack(workers=1, env={"AIENGINE_REQUEST_TIMEOUT": "2"})
    token = s.create_token(email="never@example.com", name="never")
    end = record(STDIN, b"")
    for data in (fcgi_request({"DOCUMENT_URI": "/api/health"}),
                 fcgi_request({"REQUEST_METHOD": "POST", "DOCUMENT_URI": "/api/workflows",
                               "HTTP_AUTHORIZATION": f"Bearer {token}"},
                              body=b'{"name": "never ends", "trigger_event": "a.b"}')):
        assert data.endswith(end)
        conn = fcgi_connect(s.pool_socket(0))
        try:
            conn.sendall(data[:-len(end)])
            got = b""
            conn.settimeout(30)
            try:
                while True:
                    k = conn.recv(65536)
                    if not k:
                        break
                    got += k
            except (ConnectionResetError, BrokenPipeError):
                pass
        finally:
            conn.close()
        assert got == b"", got[:200]
        assert requests.get(s.url + "/api/health", timeout=30).status_code == 200
    assert s.sql("SELECT COUNT(*) FROM workflows WHERE name = 'never ends'") == [["0"]]


def test_a_client_still_sending_gets_its_whole_answer_over_tcp(make_stack):
    """A client that sends more than its request (bytes the worker never reads) must not be
    reset by the close: over a network an RST can discard the answer the client has not read
    yet (on loopback the answer survives, but the reset still shows, in place of the end of
    file). With unread bytes in the socket the worker keeps libfcgi's lingering close (shut
    its side down, read and drop what still comes, then close): the answer, then a clean end
    of file, every time."""
    s = make_stack(workers=1)
    with tcp_pool(s) as port:
        for i in range(20):
            conn = socket.create_connection(("127.0.0.1", port), timeout=30)
            try:
                # the request, then 256 KB the worker will not read (what a confused or
                # hostile client might send); it is all in the socket before the answer
                conn.sendall(fcgi_request({"DOCUMENT_URI": "/api/health"}) + b"\0" * 262144)
                answer = fcgi_read_answer(conn, reset_ok=False)
            finally:
                conn.close()
            assert answer.complete and answer.status == 200, (i, answer)
