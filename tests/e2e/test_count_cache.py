"""The page-count cache (issue 17, countcache.h): a page list's meta.total may come from its
worker's cache, but it is exact after every write answered through the pool, and lags a row
written elsewhere (SQL by hand, another pool) by at most list.count_cache_ms.

Three private stacks: four workers with the default configuration (1000 ms), where writes and
lists from several clients interleave; one worker with a long TTL and the debug header, where
a hit is deterministic and visible; one worker with the cache off (count_cache_ms 0)."""
import os
import shutil
import tempfile
import threading
import time

import pytest

from conftest import ROOT, Api, _keep_logs
from helpers import new_prompt, new_step, new_workflow, ok, uniq
from stack import Stack


def _stack(name, **kw):
    base = tempfile.mkdtemp(prefix=f"aiengine-{name}-")
    s = Stack(base, **kw)
    try:
        s.start()
        yield s, Api(s.url, s.create_token(email=f"{name}@example.com", name=name))
    finally:
        s.stop()
        _keep_logs(s, name)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def pool4():
    """Four workers, the shipped default: list.count_cache_ms 1000."""
    yield from _stack("counts4", workers=4)


@pytest.fixture(scope="module")
def long_ttl(tmp_path_factory):
    """One worker (so every list meets the same cache) that keeps counts for a minute, set in
    its aiengine.yaml; tokens verified once, so X-DB-Round-Trips counts the list alone;
    metrics off (the write generation must not depend on them)."""
    etc = tmp_path_factory.mktemp("counts-etc") / "etc"
    shutil.copytree(os.path.join(ROOT, "etc"), etc)
    conf = (etc / "aiengine.yaml").read_text()
    for old, new in (("count_cache_ms: 1000", "count_cache_ms: 60000"),
                     ("token_cache_seconds: 2", "token_cache_seconds: 3600"),
                     ("last_used_interval: 60", "last_used_interval: 86400"),
                     # the write generation lives in the pool's segment even without metrics
                     ("enabled: true ", "enabled: false")):
        assert old in conf, old
        conf = conf.replace(old, new)
    (etc / "aiengine.yaml").write_text(conf)
    for s, api in _stack("counts-long", workers=1,
                         env={"AIENGINE_ETC": str(etc), "AIENGINE_DEBUG": "1"}):
        warm_statements(s, api)
        yield s, api


def warm_statements(s, api):
    """Prepare each statement a filtered workflow list may run (a prepare is a round trip of
    its own): the page with its count, the page alone, the count alone."""
    trig = uniq("cc.warm")
    for _ in range(2):
        new_workflow(api, trigger=trig)
    listing(api, trig, per_page=1)  # miss: page + count in one
    listing(api, trig, per_page=1)  # hit: the page alone
    s.sql(f"DELETE FROM workflows WHERE trigger_event = '{trig}'")
    listing(api, trig, per_page=1, page=2)  # hit contradicted: the count alone


@pytest.fixture(scope="module")
def no_cache():
    yield from _stack("counts-off", workers=1, env={"AIENGINE_LIST_COUNT_CACHE_MS": "0"})


def listing(api, trigger, **params):
    r = api.get("/api/workflows", params={"filter[trigger_event]": trigger, **params})
    return ok(r)


def total(api, trigger, **params):
    return listing(api, trigger, **params)["meta"]["total"]


def sql_insert(s, trigger, n=1):
    s.sql("INSERT INTO workflows (name, trigger_event, created_at, updated_at) VALUES "
          + ",".join(f"('by hand {i}', '{trigger}', NOW(), NOW())" for i in range(n)))


def trips(r):
    return int(r.headers["X-DB-Round-Trips"])


# ---------------------------------------------------------------- exact for the pool's writes

def test_create_then_list_is_exact_from_every_worker(pool4):
    s, api = pool4
    trig = uniq("cc.create")
    made = []
    for i in range(24):
        made.append(ok(api.post("/api/workflows", {"name": f"c{i}", "trigger_event": trig}),
                       201)["data"]["id"])
        # several lists per write, so each of the four workers has served (and cached) it
        for per_page in (1, 2, 5, 100):
            page = listing(api, trig, per_page=per_page)
            assert page["meta"]["total"] == len(made), (i, per_page)
            assert page["meta"]["last_page"] == max(1, -(-len(made) // per_page))
        last = listing(api, trig, per_page=5, page=-(-len(made) // 5))
        assert last["meta"]["total"] == len(made)
        assert [w["id"] for w in last["data"]] == made[(-(-len(made) // 5) - 1) * 5:]


def test_delete_then_list_is_exact(pool4):
    s, api = pool4
    trig = uniq("cc.delete")
    made = [new_workflow(api, trigger=trig)["id"] for _ in range(9)]
    while made:
        for _ in range(6):
            assert total(api, trig, per_page=2) == len(made)
        r = api.delete(f"/api/workflows/{made.pop(0)}")
        assert r.status_code == 204, r.text
    for _ in range(6):
        page = listing(api, trig, per_page=2)
        assert page["meta"]["total"] == 0 and page["data"] == []


def test_failed_writes_and_other_resources_invalidate_too(pool4):
    """A 422 writes nothing, but any write bumps the generation whatever its status: after
    it the lists still count right (nothing stale survives a write of another resource)."""
    s, api = pool4
    trig = uniq("cc.other")
    for _ in range(3):
        new_workflow(api, trigger=trig)
    for _ in range(8):
        assert total(api, trig, per_page=1) == 3
    assert api.post("/api/workflows", {"name": "x" * 300, "trigger_event": trig}).status_code == 422
    new_prompt(api)
    for _ in range(8):
        assert total(api, trig, per_page=1) == 3


def test_interleaved_clients_each_see_their_own_writes(pool4):
    """Four clients write and list at once; each one's list, sent after its own write was
    answered, counts that write, whichever worker answers and whatever the others do."""
    s, api = pool4
    errors = []

    def client(k):
        try:
            mine = Api(api.url, api.token)
            trig = uniq(f"cc.client{k}")
            ids = []
            for i in range(15):
                if i % 4 == 3:
                    r = mine.delete(f"/api/workflows/{ids.pop()}")
                    assert r.status_code == 204, r.text
                else:
                    ids.append(ok(mine.post("/api/workflows",
                                            {"name": f"k{k} {i}", "trigger_event": trig}),
                                  201)["data"]["id"])
                for per_page in (1, 3):
                    got = total(mine, trig, per_page=per_page)
                    assert got == len(ids), (k, i, per_page, got, len(ids))
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_relation_route_counts_are_exact(pool4):
    s, api = pool4
    wf = new_workflow(api, trigger=uniq("cc.rel"))
    steps = []
    for i in range(5):
        steps.append(new_step(api, wf["id"], step_order=i)["id"])
        for _ in range(4):
            r = api.get(f"/api/workflows/{wf['id']}/steps", params={"per_page": 2})
            assert ok(r)["meta"]["total"] == len(steps)
    r = api.delete(f"/api/workflow-steps/{steps.pop()}")
    assert r.status_code == 204, r.text
    for _ in range(4):
        r = api.get(f"/api/workflows/{wf['id']}/steps", params={"per_page": 2})
        assert ok(r)["meta"]["total"] == len(steps)


# ---------------------------------------------------------------- bounded for the rest

def test_a_row_written_by_hand_is_counted_once_the_ttl_passed(pool4):
    s, api = pool4
    trig = uniq("cc.hand")
    for _ in range(4):
        new_workflow(api, trigger=trig)
    for _ in range(8):  # full pages, which prove nothing about the total by themselves
        assert total(api, trig, per_page=2) == 4
    sql_insert(s, trig, 2)
    time.sleep(1.1)  # list.count_cache_ms is 1000 by default
    for _ in range(8):
        assert total(api, trig, per_page=2) == 6


def test_a_cached_count_is_reused_until_a_write_through_the_pool(long_ttl):
    """With a minute of TTL and one worker, the count is visibly reused: a row inserted by
    hand is not counted on a full page, and is counted at once after any API write."""
    s, api = long_ttl
    trig = uniq("cc.reuse")
    for _ in range(4):
        new_workflow(api, trigger=trig)
    assert total(api, trig, per_page=2) == 4  # counted and cached
    sql_insert(s, trig)
    r = api.get("/api/workflows", params={"filter[trigger_event]": trig, "per_page": 2})
    assert ok(r)["meta"]["total"] == 4 and trips(r) == 1  # a hit: the page alone
    # another filter is another count
    assert total(api, uniq("cc.none"), per_page=2) == 0
    # a write of anything through the pool invalidates every cached count
    new_prompt(api)
    assert total(api, trig, per_page=2) == 5


def test_what_a_page_proves_wins_over_a_cached_count(long_ttl):
    s, api = long_ttl
    trig = uniq("cc.proof")
    for _ in range(4):
        new_workflow(api, trigger=trig)
    assert total(api, trig, per_page=3) == 4
    sql_insert(s, trig, 3)  # 7 rows now; the cache says 4
    # the last page has fewer rows than per_page: its total is exact without a count
    last = listing(api, trig, per_page=3, page=3)
    assert last["meta"]["total"] == 7 and len(last["data"]) == 1 and last["links"]["next"] is None
    s.sql(f"INSERT INTO workflows (name, trigger_event, created_at, updated_at) "
          f"VALUES ('more', '{trig}', NOW(), NOW())")
    # a full page after the cached end: at least its rows, and a next link
    page = listing(api, trig, per_page=4, page=2)
    assert len(page["data"]) == 4 and page["meta"]["total"] >= 8 and page["meta"]["to"] == 8
    s.sql(f"DELETE FROM workflows WHERE trigger_event = '{trig}'")
    # an empty page before the cached end: rows went away, so it counts again
    r = api.get("/api/workflows", params={"filter[trigger_event]": trig, "per_page": 3,
                                          "page": 2})
    gone = ok(r)
    assert gone["data"] == [] and gone["meta"]["total"] == 0 and gone["meta"]["last_page"] == 1
    assert trips(r) == 2
    # an empty first page is a total of 0
    assert listing(api, trig, per_page=3)["meta"]["total"] == 0


def test_past_the_end_with_a_cached_count_is_one_statement(long_ttl):
    s, api = long_ttl
    trig = uniq("cc.past")
    for _ in range(5):
        new_workflow(api, trigger=trig)
    new_prompt(api)  # a fresh generation: the next list counts
    r = api.get("/api/workflows", params={"filter[trigger_event]": trig, "page": 9})
    assert ok(r)["meta"]["total"] == 5 and trips(r) == 2  # miss: the page, then the count
    r = api.get("/api/workflows", params={"filter[trigger_event]": trig, "page": 9})
    past = ok(r)
    assert past["data"] == [] and past["meta"]["total"] == 5 and past["meta"]["from"] is None
    assert trips(r) == 1  # hit: the page alone


def test_logs_of_a_run_are_never_cached(long_ttl):
    """execution-logs says count_cache: false: `aiengine work` appends them without going
    through the pool, so a run's page-mode /logs counts on every request."""
    s, api = long_ttl
    wf = new_workflow(api, trigger=uniq("cc.logs"))
    step = new_step(api, wf["id"])
    run = ok(api.post(f"/api/workflows/{wf['id']}/runs", {}), 201)["data"]
    path = f"/api/workflow-runs/{run['id']}/logs"
    for n in range(1, 4):
        s.sql("INSERT INTO execution_logs (workflow_id, step_id, status, workflow_run_id) "
              f"VALUES ({wf['id']}, {step['id']}, 'SUCCESS', {run['id']})")
        for _ in range(2):
            assert ok(api.get(path, params={"per_page": 1}))["meta"]["total"] == n


# ---------------------------------------------------------------- off

def test_count_cache_ms_0_counts_every_page(no_cache):
    s, api = no_cache
    trig = uniq("cc.off")
    for _ in range(4):
        new_workflow(api, trigger=trig)
    assert total(api, trig, per_page=2) == 4
    for n in range(5, 8):
        sql_insert(s, trig)
        assert total(api, trig, per_page=2) == n
