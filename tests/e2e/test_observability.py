"""Rate limits, GET /api/metrics and the slow-request log (SPEC.md "Beyond the peers: HTTP
semantics", issue 12), through real nginx + MariaDB + a 4-worker pool + `aiengine work`.

The limits use day windows and every test waits out a window that ends within 20 s, so no
test straddles a window boundary. Counting across workers is checked with concurrent
requests (nginx spreads them over the 4 workers); the tolerance is ± the number of workers,
as SPEC.md allows. The failed-authentication flood comes from 127.0.0.2, so the rest of the
module (127.0.0.1) is not blocked by it. Metrics are read with prometheus_client's parser.
"""
import concurrent.futures
import http.client
import os
import re
import signal
import subprocess
import threading
import time
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import Api
from stack import which
from engine_helpers import engine_env, fake_server, keep_logs, mkflow, fire, wait_status, q, uniq

WORKERS = 4
READ_LIMIT, WRITE_LIMIT, AUTH_LIMIT = 40, 5, 10
SLOW_MS = 250


@pytest.fixture(scope="module")
def fake():
    yield from fake_server()


@pytest.fixture(scope="module")
def obs(fake):
    import shutil
    import sys
    import tempfile
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
    from stack import Stack
    base = tempfile.mkdtemp(prefix="aiengine-obs-")
    s = Stack(base, workers=WORKERS, env={
        "AIENGINE_RATE_LIMITS": f"read={READ_LIMIT}/day,write={WRITE_LIMIT}/day,"
                                f"failed_auth={AUTH_LIMIT}/day",
        "AIENGINE_SLOW_MS": str(SLOW_MS),
    })
    try:
        s.start()
        s.start_work(engine_env(fake, AIENGINE_PROVIDER_GEMINI_URL=fake.url + "/v1beta",
                                GEMINI_API_KEY="gk-test-obs"))
        yield s
    finally:
        s.stop()
        keep_logs(s, "obs")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def admin(obs):
    return Api(obs.url, obs.create_token(email="obs-admin@example.com", name="admin"))


def fresh(obs, abilities):
    """A token of its own, so each test counts from zero."""
    return Api(obs.url, obs.create_token(email=f"obs-{abilities}@example.com",
                                         name=uuid.uuid4().hex[:8], abilities=abilities))


def scrape(api):
    r = api.get("/api/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    out = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def val(m, name, **labels):
    return m.get((name, tuple(sorted(labels.items()))), 0.0)


def away_from_window_end(r):
    """Sleep past the window when it ends within 20 s (day windows: almost never)."""
    reset = int(r.headers["RateLimit-Reset"])
    if reset < 20:
        time.sleep(reset + 1)
        return True
    return False


def test_limited_response_carries_ratelimit_headers(obs):
    reader = fresh(obs, "read")
    r = reader.get("/api/workflows")
    if away_from_window_end(r):
        r = reader.get("/api/workflows")
    assert r.status_code == 200, r.text
    assert r.headers["RateLimit-Limit"] == str(READ_LIMIT)
    used = READ_LIMIT - int(r.headers["RateLimit-Remaining"])
    assert used == 1
    reset = int(r.headers["RateLimit-Reset"])
    assert 0 < reset <= 86400
    assert r.headers["RateLimit-Policy"] == f"{READ_LIMIT};w=86400"
    r2 = reader.get("/api/workflows")
    assert int(r2.headers["RateLimit-Remaining"]) == READ_LIMIT - 2
    # a route without a configured limit (health is public) carries none
    h = requests.get(obs.url + "/api/health", timeout=10)
    assert "RateLimit-Limit" not in h.headers


def test_limit_counts_across_all_workers_of_the_pool(obs):
    # windows are aligned for every key: another token's answer tells where this one ends
    away_from_window_end(fresh(obs, "read").get("/api/workflows"))
    reader = fresh(obs, "read")
    total = READ_LIMIT + 30

    def one(_):
        # a session per thread: new connections, spread by nginx over the workers
        return Api(obs.url, reader.token).get("/api/workflows")

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as ex:
        answers = list(ex.map(one, range(total)))
    codes = [a.status_code for a in answers]
    ok = codes.count(200)
    assert set(codes) <= {200, 429}, codes
    assert READ_LIMIT - WORKERS <= ok <= READ_LIMIT + WORKERS, (ok, codes)
    refused = [a for a in answers if a.status_code == 429]
    assert refused
    for a in refused:
        assert a.headers["Content-Type"].startswith("application/json")
        assert a.json() == {"message": "Too Many Attempts."}
        assert int(a.headers["Retry-After"]) >= 1
        assert a.headers["RateLimit-Remaining"] == "0"
    # more requests still refused: the window is shared, not per worker
    again = reader.get("/api/workflows")
    assert again.status_code == 429
    # another ability of the same token, and another token, are counted apart
    assert fresh(obs, "read").get("/api/workflows").status_code == 200


def test_write_over_the_limit_does_nothing(obs):
    writer = fresh(obs, "write")
    first = writer.post("/api/prompts", {"name": uniq("rl"), "system_prompt_text": "x"})
    if away_from_window_end(first):
        writer = fresh(obs, "write")
        first = writer.post("/api/prompts", {"name": uniq("rl"), "system_prompt_text": "x"})
    assert first.status_code == 201, first.text
    for _ in range(WRITE_LIMIT - 1):
        assert writer.post("/api/prompts", {"name": uniq("rl"),
                                            "system_prompt_text": "x"}).status_code == 201
    name = uniq("refused")
    r = writer.post("/api/prompts", {"name": name, "system_prompt_text": "x"})
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) >= 1
    assert obs.sql(f"SELECT COUNT(*) FROM prompts WHERE name = {q(name)}") == [["0"]]


def _request_from(obs, source, token):
    """GET /api/workflows from another loopback address (REMOTE_ADDR as nginx sees it)."""
    c = http.client.HTTPConnection("127.0.0.1", obs.port, timeout=15, source_address=(source, 0))
    c.request("GET", "/api/workflows", headers={"Authorization": "Bearer " + token,
                                                "Accept": "application/json"})
    r = c.getresponse()
    out = (r.status, dict(r.getheaders()), r.read())
    c.close()
    return out


def test_failed_authentications_per_address_get_429_before_the_database(obs, admin):
    before = scrape(admin)
    for i in range(AUTH_LIMIT):
        status, headers, _ = _request_from(obs, "127.0.0.2", f"{900000 + i}|{uuid.uuid4().hex}")
        assert status == 401
    mid = scrape(admin)
    trips_mid = val(mid, "aiengine_db_round_trips_total", route="/api/workflows")
    for i in range(5):
        status, headers, body = _request_from(obs, "127.0.0.2", f"{910000 + i}|{uuid.uuid4().hex}")
        assert status == 429, body
        assert int(headers["Retry-After"]) >= 1
    # even a good token from that address waits; the flood never reached MariaDB
    status, _, _ = _request_from(obs, "127.0.0.2", admin.token)
    assert status == 429
    after = scrape(admin)
    assert val(after, "aiengine_db_round_trips_total", route="/api/workflows") == trips_mid
    assert val(after, "aiengine_ratelimit_rejections_total", limit="failed_auth") - \
        val(before, "aiengine_ratelimit_rejections_total", limit="failed_auth") == 6
    assert val(after, "aiengine_auth_failures_total") - \
        val(before, "aiengine_auth_failures_total") == AUTH_LIMIT
    # other addresses are not affected
    assert admin.get("/api/workflows").status_code == 200


def test_metrics_need_the_metrics_ability(obs):
    assert fresh(obs, "read").get("/api/metrics").status_code == 403
    assert requests.get(obs.url + "/api/metrics", timeout=10).status_code == 401
    m = fresh(obs, "metrics").get("/api/metrics")
    assert m.status_code == 200
    list(text_string_to_metric_families(m.text))


def test_metrics_counters_match_the_requests_made(obs, admin):
    before = scrape(admin)
    for i in range(7):
        assert admin.get(f"/api/prompts/{999000 + i}").status_code == 404
    for _ in range(3):
        assert admin.get("/api/no-such-thing").status_code == 404
    assert admin.request("HEAD", "/api/workflows").status_code == 200
    after = scrape(admin)
    delta = lambda name, **lb: val(after, name, **lb) - val(before, name, **lb)  # noqa: E731
    assert delta("aiengine_http_requests_total", route="/api/prompts/{id}", method="GET",
                 status="404") == 7
    assert delta("aiengine_http_requests_total", route="unmatched", method="GET",
                 status="404") == 3
    assert delta("aiengine_http_requests_total", route="/api/workflows", method="HEAD",
                 status="200") == 1
    # the histogram saw the same 7, in cumulative buckets
    assert delta("aiengine_http_request_duration_seconds_count", route="/api/prompts/{id}") == 7
    assert delta("aiengine_http_request_duration_seconds_bucket", route="/api/prompts/{id}",
                 le="+Inf") == 7
    assert delta("aiengine_http_request_duration_seconds_sum", route="/api/prompts/{id}") > 0
    # one SELECT by id each (the token is cached by then)
    assert delta("aiengine_db_round_trips_total", route="/api/prompts/{id}") >= 7
    assert delta("aiengine_db_time_seconds_total", route="/api/prompts/{id}") > 0
    # the previous scrape is counted too, on its own route
    assert delta("aiengine_http_requests_total", route="/api/metrics", method="GET",
                 status="200") == 1
    assert val(after, "aiengine_worker_starts_total") >= WORKERS


def _wait_workers(obs, n, exclude=(), timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        pids = [p for p in obs.worker_pids() if p not in exclude]
        if len(pids) >= n:
            return pids
        time.sleep(0.1)
    raise AssertionError("workers were not restarted")


def test_sigkilled_workers_do_not_reset_the_pool_counters(obs, admin):
    limited = fresh(obs, "read")
    first = limited.get("/api/workflows")
    if away_from_window_end(first):
        limited = fresh(obs, "read")
        first = limited.get("/api/workflows")
    for _ in range(READ_LIMIT - 1):
        limited.get("/api/workflows")
    assert limited.get("/api/workflows").status_code == 429
    before = scrape(admin)
    victims = obs.worker_pids()
    assert len(victims) == WORKERS
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    _wait_workers(obs, WORKERS, exclude=victims)
    assert obs.wait_healthy() is not False
    after = scrape(admin)
    key = dict(route="/api/workflows", method="GET", status="200")
    assert val(after, "aiengine_http_requests_total", **key) >= \
        val(before, "aiengine_http_requests_total", **key) > 0
    assert val(after, "aiengine_worker_exits_total", reason="signal") - \
        val(before, "aiengine_worker_exits_total", reason="signal") == WORKERS
    assert val(after, "aiengine_worker_starts_total") - \
        val(before, "aiengine_worker_starts_total") >= WORKERS
    # the rate window lives in the pool's memory too: still refused by the new workers
    assert limited.get("/api/workflows").status_code == 429


def test_slow_request_is_logged_with_route_status_and_database_time(obs, admin):
    """A PATCH that waits on a row lock held by another session is slow by construction."""
    r = admin.post("/api/prompts", {"name": uniq("slow"), "system_prompt_text": "x"})
    assert r.status_code == 201, r.text
    pid = r.json()["data"]["id"]
    holder = subprocess.Popen(
        [which("mariadb"), "--no-defaults", "-uroot", f"--socket={obs.db_socket}", "-N", "-B",
         "--unbuffered", "aiengine"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    holder.stdin.write(f"BEGIN; SELECT id FROM prompts WHERE id = {pid} FOR UPDATE; "
                       f"SELECT 'locked'; DO SLEEP(2); COMMIT;\n")
    holder.stdin.flush()
    # the holder says so once it has the lock (its output is flushed per statement)
    seen = [holder.stdout.readline().strip() for _ in range(2)]
    assert seen == [str(pid), "locked"], seen
    before = scrape(admin)
    p = admin.patch(f"/api/prompts/{pid}", {"system_prompt_text": "slow"})
    holder.stdin.close()
    holder.wait(timeout=20)
    assert p.status_code == 200, p.text
    after = scrape(admin)
    assert val(after, "aiengine_slow_requests_total") > val(before, "aiengine_slow_requests_total")
    log = open(os.path.join(obs.logdir, "aiengine-0.log")).read()
    lines = re.findall(r"slow request: PATCH /api/prompts/\{id\} status 200 in ([\d.]+) ms "
                       r"\(database ([\d.]+) ms, (\d+) round trips\)", log)
    assert lines, log[-2000:]
    total, db, trips = lines[-1]
    assert float(total) >= SLOW_MS and float(db) >= SLOW_MS and int(trips) >= 1
    assert float(db) <= float(total)


def test_engine_metrics_with_a_runner_running(obs, admin, fake):
    before = scrape(admin)
    pid = int(obs.sql(
        "INSERT INTO prompts (name, version, system_prompt_text, model_name, status, created_at, "
        f"updated_at) VALUES ({q(uniq('prompt'))}, 1, 'Say hi', 'gemini-2.5-flash-preview-05-20', "
        "'active', NOW(), NOW()); SELECT LAST_INSERT_ID();")[0][0])
    ev = uniq("obs")
    mkflow(obs, ev, [{"type": "AI_PROMPT", "prompt_id": pid},
                     {"type": "WEBHOOK", "config": {"url": fake.url + "/hook"}}])
    [d] = fire(obs, ev, obj="lead-1", context={"lead_name": "Ana"})["data"]
    wait_status(obs, d["id"], "succeeded")
    m = scrape(admin)
    delta = lambda name, **lb: val(m, name, **lb) - val(before, name, **lb)  # noqa: E731
    assert val(m, "aiengine_engine_runner_starts_total") >= 1
    assert delta("aiengine_engine_steps_total", type="AI_PROMPT", status="SUCCESS") == 1
    assert delta("aiengine_engine_steps_total", type="WEBHOOK", status="SUCCESS") == 1
    assert delta("aiengine_engine_provider_calls_total", provider="gemini", outcome="success") == 1
    tokens, cost = (int(x) if i == 0 else float(x) for i, x in enumerate(obs.sql(
        f"SELECT token_usage, cost FROM workflow_runs WHERE id = {d['id']}")[0]))
    assert tokens > 0
    assert delta("aiengine_engine_tokens_total", provider="gemini") == tokens
    assert abs(delta("aiengine_engine_cost_total", provider="gemini") - cost) < 1e-9
    assert val(m, "aiengine_engine_queue_up") == 1
    for status in ("queued", "waiting", "running"):
        assert ("aiengine_engine_runs", (("status", status),)) in m

    # with the runners stopped, a run due an hour ago shows in the queue gauges
    obs.stop_work()
    wid, _ = mkflow(obs, uniq("queued"), [{"type": "WEBHOOK",
                                           "config": {"url": fake.url + "/hook"}}])
    obs.sql("INSERT INTO workflow_runs (workflow_id, status, context, run_at, created_at, "
            f"updated_at) VALUES ({wid}, 'queued', '{{}}', NOW(6) - INTERVAL 1 HOUR, NOW(), NOW())")
    m = scrape(admin)
    assert val(m, "aiengine_engine_runs", status="queued") >= 1
    assert val(m, "aiengine_engine_queue_depth") >= 1
    assert 3600 <= val(m, "aiengine_engine_oldest_due_run_age_seconds") < 3600 + 120
    # the runners' counters outlive them: the file stays where `serve` reads it
    assert val(m, "aiengine_engine_steps_total", type="WEBHOOK", status="SUCCESS") >= 1


def test_reload_keeps_counters_and_rate_windows(obs, admin):
    """SIGHUP starts a new generation on the same segment (docs/operations.md)."""
    limited = fresh(obs, "read")
    first = limited.get("/api/workflows")
    if away_from_window_end(first):
        limited = fresh(obs, "read")
        limited.get("/api/workflows")
    for _ in range(READ_LIMIT - 1):
        limited.get("/api/workflows")
    before = scrape(admin)
    old = obs.worker_pids()
    obs.pool_procs[0].send_signal(signal.SIGHUP)
    _wait_workers(obs, WORKERS, exclude=old)
    after = scrape(admin)
    key = dict(route="/api/workflows", method="GET", status="200")
    assert val(after, "aiengine_http_requests_total", **key) >= \
        val(before, "aiengine_http_requests_total", **key)
    assert limited.get("/api/workflows").status_code == 429


def test_page_count_cache_hits_and_misses_are_counted(obs, admin):
    """Every page list with the count cache on (list.count_cache_ms, default 1 s) is either a
    hit or a miss; the same page asked again at once is answered from a cache."""
    reader = fresh(obs, "read")
    before = scrape(admin)
    for _ in range(20):
        r = reader.get("/api/workflows?per_page=5&page=1")
        assert r.status_code == 200, r.text
    after = scrape(admin)
    hits = val(after, "aiengine_count_cache_hits_total") - \
        val(before, "aiengine_count_cache_hits_total")
    misses = val(after, "aiengine_count_cache_misses_total") - \
        val(before, "aiengine_count_cache_misses_total")
    assert hits + misses == 20, (hits, misses)
    assert hits >= 1, (hits, misses)  # at most one miss per worker and second
