"""Round trips per request (issue 17): a create whose validation reads nothing is one
INSERT ... RETURNING in autocommit on MariaDB 10.5+, a page list is one statement (the count
rides along, or comes from the worker's count cache), and neither changes what the client gets. Measured with the debug header of a
one-worker pool, warm (statements prepared)."""
import pytest

from conftest import Api
from helpers import err, ok


@pytest.fixture(scope="module")
def debug(tmp_path_factory):
    import shutil
    import tempfile
    from conftest import _keep_logs
    from stack import Stack
    base = tempfile.mkdtemp(prefix="aiengine-trips-")
    # counts cached for a minute: whether a list hits never depends on how fast it runs
    s = Stack(base, workers=1, env={"AIENGINE_DEBUG": "1", "AIENGINE_LIST_COUNT_CACHE_MS": "60000"})
    try:
        s.start()
        yield s, Api(s.url, s.create_token(email="trips@example.com", name="t"))
    finally:
        s.stop()
        _keep_logs(s, "trips")
        shutil.rmtree(base, ignore_errors=True)


def returning(s):
    """What the server is: RETURNING needs MariaDB 10.5 or later."""
    v = s.sql("SELECT VERSION()")[0][0]
    major, minor = (int(x) for x in v.split("-")[0].split(".")[:2])
    return "MariaDB" in v and (major, minor) >= (10, 5)


def trips(r):
    assert "X-DB-Round-Trips" in r.headers, r.headers
    return int(r.headers["X-DB-Round-Trips"])


def test_create_without_database_checks_is_one_statement(debug):
    s, api = debug
    # the same columns as the measured one, so its statement is prepared already
    ok(api.post("/api/workflows", {"name": "warm", "trigger_event": "t", "description": "w"}), 201)
    r = api.post("/api/workflows", {"name": "one", "trigger_event": "t.one", "description": "d"})
    body = ok(r, 201)["data"]
    assert trips(r) == (1 if returning(s) else 4)
    # the row it returned is the row a read finds, defaults and timestamps included
    assert ok(api.get(f"/api/workflows/{body['id']}"))["data"] == body
    assert body["is_active"] is True and body["created_at"] == body["updated_at"]
    assert r.headers["Location"].endswith(f"/api/workflows/{body['id']}")


def test_create_still_validates_and_writes_nothing_on_422(debug):
    s, api = debug
    before = s.sql("SELECT COUNT(*) FROM workflows")[0][0]
    body = err(api.post("/api/workflows", {"name": "x" * 256, "is_active": "maybe"}), 422)
    assert set(body["errors"]) == {"name", "trigger_event", "is_active"}
    assert s.sql("SELECT COUNT(*) FROM workflows")[0][0] == before


def test_create_with_exists_or_unique_checks_keeps_the_transaction(debug):
    s, api = debug
    wf = ok(api.post("/api/workflows", {"name": "p", "trigger_event": "t"}), 201)["data"]
    ok(api.post("/api/workflow-steps", {"workflow_id": wf["id"], "step_order": 0, "name": "warm"}), 201)
    r = api.post("/api/workflow-steps", {"workflow_id": wf["id"], "step_order": 1, "name": "s"})
    ok(r, 201)
    assert trips(r) >= 4  # BEGIN, the exists check, INSERT, SELECT, COMMIT
    err(api.post("/api/workflow-steps", {"workflow_id": 999999, "step_order": 1, "name": "s"}), 422)
    ok(api.post("/api/prompts", {"name": "uniq", "system_prompt_text": "x"}), 201)
    body = err(api.post("/api/prompts", {"name": "uniq", "system_prompt_text": "x"}), 422)
    assert "name" in body["errors"]


def test_page_list_is_one_statement_with_its_total(debug):
    s, api = debug
    q = {"filter[trigger_event]": "page.trips", "per_page": 3}
    # warm: the page with its count (a miss) and the page alone (a hit) are both prepared
    api.get("/api/workflows", params=q)
    api.get("/api/workflows", params=q)
    for i in range(7):
        ok(api.post("/api/workflows", {"name": f"pg{i}", "trigger_event": "page.trips"}), 201)
    # the writes made every cached count stale: one statement counts and pages
    r = api.get("/api/workflows", params=q)
    page = ok(r)
    assert trips(r) == 1
    assert page["meta"]["total"] == 7 and page["meta"]["last_page"] == 3
    assert [w["name"] for w in page["data"]] == ["pg0", "pg1", "pg2"]
    assert set(page["data"][0]) == set(ok(api.get(f"/api/workflows/{page['data'][0]['id']}"))["data"])
    # the count is cached now (countcache.h): the next pages are the page alone, same total
    r = api.get("/api/workflows", params={**q, "page": 2})
    assert ok(r)["meta"]["total"] == 7 and trips(r) == 1
    last = ok(api.get("/api/workflows", params={**q, "page": 3}))
    assert [w["name"] for w in last["data"]] == ["pg6"] and last["meta"]["total"] == 7
    assert last["links"]["next"] is None
    r = api.get("/api/workflows", params={**q, "page": 9})
    past = ok(r)
    assert past["data"] == [] and past["meta"]["total"] == 7 and past["meta"]["from"] is None
    assert trips(r) == 1
    # past the end with no cached count there is no row to carry it: a second statement
    ok(api.post("/api/workflows", {"name": "other", "trigger_event": "page.trips.other"}), 201)
    api.get("/api/workflows", params={"filter[trigger_event]": "page.trips.other", "page": 9})
    ok(api.post("/api/workflows", {"name": "other", "trigger_event": "page.trips.other"}), 201)
    r = api.get("/api/workflows", params={**q, "page": 9})
    past = ok(r)
    assert past["data"] == [] and past["meta"]["total"] == 7 and past["meta"]["from"] is None
    assert trips(r) == 2
    # an empty first page knows its total is 0 without asking again
    r = api.get("/api/workflows", params={"filter[trigger_event]": "none.such"})
    empty = ok(r)
    assert empty["data"] == [] and empty["meta"]["total"] == 0 and empty["meta"]["last_page"] == 1
    assert trips(r) == 1


def test_include_is_one_statement_per_relation(debug):
    s, api = debug
    wf = ok(api.post("/api/workflows", {"name": "inc", "trigger_event": "t"}), 201)["data"]
    for i in range(3):
        ok(api.post("/api/workflow-steps", {"workflow_id": wf["id"], "step_order": i, "name": f"s{i}"}), 201)
    api.get(f"/api/workflows/{wf['id']}", params={"include": "steps"})
    r = api.get(f"/api/workflows/{wf['id']}", params={"include": "steps"})
    assert [st["step_order"] for st in ok(r)["data"]["steps"]] == [0, 1, 2]
    assert trips(r) == 2


def test_patch_whose_validation_reads_nothing_is_an_update_and_a_select(debug):
    s, api = debug
    wf = ok(api.post("/api/workflows", {"name": "pt", "trigger_event": "t"}), 201)["data"]
    st = ok(api.post("/api/workflow-steps", {"workflow_id": wf["id"], "step_order": 0,
                                             "name": "p"}), 201)["data"]
    url = f"/api/workflow-steps/{st['id']}"
    ok(api.patch(url, {"name": "warm", "delay_minutes": 1}))
    r = api.patch(url, {"name": "two", "delay_minutes": 2})
    body = ok(r)["data"]
    assert trips(r) == 2  # UPDATE, SELECT: no BEGIN, no locked read, no COMMIT
    assert body["name"] == "two" and body["delay_minutes"] == 2
    assert ok(api.get(url))["data"] == body
    # PUT is the same update (partial, like PATCH) and takes the same path
    api.put(url, {"name": "put0", "delay_minutes": 3})
    r = api.put(url, {"name": "put", "delay_minutes": 3})
    assert ok(r)["data"]["name"] == "put" and trips(r) == 2
    # nothing fillable sent: nothing to write, only the SELECT
    r = api.patch(url, {"id": 5, "created_at": "2020-01-01"})
    assert ok(r)["data"]["name"] == "put" and trips(r) == 1
    # a body that fails validation asks only whether the row exists (404 before 422)
    r = api.patch(url, {"delay_minutes": -1})
    assert "delay_minutes" in err(r, 422)["errors"] and trips(r) == 1
    api.patch("/api/workflow-steps/987654321", {"delay_minutes": 4})  # prepares it
    r = api.patch("/api/workflow-steps/987654321", {"delay_minutes": 4})
    err(r, 404)
    assert trips(r) == 2


def test_patch_with_if_match_or_a_reading_rule_keeps_the_locked_path(debug):
    s, api = debug
    wf = ok(api.post("/api/workflows", {"name": "pl", "trigger_event": "t"}), 201)["data"]
    st = ok(api.post("/api/workflow-steps", {"workflow_id": wf["id"], "step_order": 0,
                                             "name": "l"}), 201)["data"]
    url = f"/api/workflow-steps/{st['id']}"
    tag = api.get(url).headers["ETag"]
    r = api.patch(url, {"name": "m1"}, headers={"If-Match": tag})
    ok(r)
    tag = r.headers["ETag"]
    r = api.patch(url, {"name": "m2"}, headers={"If-Match": tag})
    ok(r)
    assert trips(r) == 5  # BEGIN, SELECT ... FOR UPDATE, UPDATE, SELECT, COMMIT
    r = api.patch(url, {"name": "m3"}, headers={"If-Match": "*"})
    assert ok(r)["data"]["name"] == "m3" and trips(r) == 5
    # workflow_id has an exists rule: its check reads, under the transaction's locks
    ok(api.patch(url, {"workflow_id": wf["id"], "name": "m4"}))
    r = api.patch(url, {"workflow_id": wf["id"], "name": "m5"})
    assert ok(r)["data"]["name"] == "m5" and trips(r) == 6  # ... plus the exists check
    # a unique column (prompts: unique name+version) keeps the transaction too
    p = ok(api.post("/api/prompts", {"name": "pu", "system_prompt_text": "x"}), 201)["data"]
    ok(api.patch(f"/api/prompts/{p['id']}", {"version": 2}))
    r = api.patch(f"/api/prompts/{p['id']}", {"version": 3})
    assert ok(r)["data"]["version"] == 3 and trips(r) == 6
    ok(api.patch(f"/api/prompts/{p['id']}", {"category": "b"}))
    r = api.patch(f"/api/prompts/{p['id']}", {"category": "c"})
    assert ok(r)["data"]["category"] == "c" and trips(r) == 2
