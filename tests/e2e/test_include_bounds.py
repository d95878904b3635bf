"""?include= of a has-many relation is bounded (issue 15 item 1, docs/decisions.md): at most
`include_limit` related records per parent and, in all, half of max_response_bytes as the
worker counts them as they arrive. Past either bound the answer is a 400 naming the relation;
never a 500 and never a worker holding the whole relation (the query asks for at most
parents × limit + 1 rows and reading stops at the byte budget, issue 17)."""
import os
import shutil

import pytest

from conftest import Api, ROOT
from helpers import err, ok

LIMIT = 4
MAX_RESPONSE = 256 * 1024


@pytest.fixture(scope="module")
def bounded(tmp_path_factory):
    import tempfile
    from conftest import _keep_logs
    from stack import Stack
    etc = str(tmp_path_factory.mktemp("bounded-etc"))
    for name in ("aiengine.yaml", "routes.yaml", "resources.yaml"):
        shutil.copy(os.path.join(ROOT, "etc", name), etc)
    path = os.path.join(etc, "aiengine.yaml")
    conf = open(path).read()
    assert "max_response_bytes: 67108864" in conf
    open(path, "w").write(conf.replace("max_response_bytes: 67108864", f"max_response_bytes: {MAX_RESPONSE}"))
    path = os.path.join(etc, "resources.yaml")
    res = open(path).read()
    old = 'steps: { has_many: workflow-steps, foreign_key: workflow_id, order: "step_order,id", include: true }'
    assert old in res
    open(path, "w").write(res.replace(old, old[:-2] + f", include_limit: {LIMIT} }}"))
    base = tempfile.mkdtemp(prefix="aiengine-bounded-")
    s = Stack(base, workers=2, env={"AIENGINE_ETC": etc})
    try:
        s.start()
        yield s, Api(s.url, s.create_token(email="bounded@example.com", name="b"))
    finally:
        s.stop()
        _keep_logs(s, "bounded")
        shutil.rmtree(base, ignore_errors=True)


def workflow_with_steps(api, n, config=None):
    wf = ok(api.post("/api/workflows", {"name": "w", "trigger_event": "t"}), 201)["data"]
    for i in range(n):
        body = {"workflow_id": wf["id"], "step_order": i, "name": f"s{i}"}
        if config is not None:
            body["step_config"] = config
        ok(api.post("/api/workflow-steps", body), 201)
    return wf


def test_include_within_the_limit_is_whole(bounded):
    s, api = bounded
    wf = workflow_with_steps(api, LIMIT)
    got = ok(api.get(f"/api/workflows/{wf['id']}", params={"include": "steps"}))["data"]
    assert [st["step_order"] for st in got["steps"]] == list(range(LIMIT))


def test_include_over_the_per_parent_limit_is_400(bounded):
    s, api = bounded
    wf = workflow_with_steps(api, LIMIT + 1)
    body = err(api.get(f"/api/workflows/{wf['id']}", params={"include": "steps"}), 400)
    assert "'steps'" in body["message"] and str(LIMIT) in body["message"], body
    # in a list too, whichever page holds it
    body = err(api.get("/api/workflows", params={"include": "steps", "per_page": 100}), 400)
    assert "'steps'" in body["message"]
    # the relation stays reachable page by page
    page = ok(api.get(f"/api/workflows/{wf['id']}/steps", params={"per_page": 2}))
    assert page["meta"]["total"] == LIMIT + 1
    # and the record itself without the include
    assert ok(api.get(f"/api/workflows/{wf['id']}"))["data"]["id"] == wf["id"]
    s.sql(f"DELETE FROM workflows WHERE id = {wf['id']}")


def test_include_over_the_byte_budget_is_400_not_500(bounded):
    """Three steps of ~60 KB each are under the count limit but over half the 256 KB cap."""
    s, api = bounded
    big = {"blob": "x" * 60000}
    wf = workflow_with_steps(api, 3, big)
    body = err(api.get(f"/api/workflows/{wf['id']}", params={"include": "steps"}), 400)
    assert "'steps'" in body["message"] and "too large" in body["message"], body
    # each step alone still fits and reads back whole
    page = ok(api.get(f"/api/workflows/{wf['id']}/steps", params={"per_page": 1}))
    assert page["data"][0]["step_config"] == big
    # the workers are fine afterwards
    assert ok(Api(s.url, None).get("/api/health"))["status"] == "ok"
    s.sql(f"DELETE FROM workflows WHERE id = {wf['id']}")


def test_belongs_to_includes_are_unaffected(bounded):
    s, api = bounded
    wf = workflow_with_steps(api, LIMIT + 1)
    page = ok(api.get("/api/workflow-steps", params={"filter[workflow_id]": wf["id"], "include": "workflow"}))
    assert len(page["data"]) == LIMIT + 1 and all(st["workflow"]["id"] == wf["id"] for st in page["data"])
    s.sql(f"DELETE FROM workflows WHERE id = {wf['id']}")


def test_a_page_at_the_limit_is_whole_and_one_parent_over_it_is_400(bounded):
    """Per parent, not per page: a page of parents that have LIMIT children each is whole,
    and one parent with LIMIT + 1 is a 400 even when the page's total is under
    parents × LIMIT (the others have fewer)."""
    s, api = bounded
    trigger = "bounds.page"
    full = [workflow_with_steps(api, LIMIT) for _ in range(3)]
    for wf in full:
        s.sql(f"UPDATE workflows SET trigger_event = '{trigger}' WHERE id = {wf['id']}")
    page = ok(api.get("/api/workflows", params={"include": "steps", "filter[trigger_event]": trigger}))
    assert len(page["data"]) == 3
    assert all([st["step_order"] for st in w["steps"]] == list(range(LIMIT)) for w in page["data"])
    over = workflow_with_steps(api, LIMIT + 1)
    few = workflow_with_steps(api, 1)
    for wf in (over, few):
        s.sql(f"UPDATE workflows SET trigger_event = '{trigger}.mixed' WHERE id = {wf['id']}")
    body = err(api.get("/api/workflows", params={"include": "steps", "filter[trigger_event]": f"{trigger}.mixed"}), 400)
    assert "'steps'" in body["message"] and str(LIMIT) in body["message"], body
    for wf in full + [over, few]:
        s.sql(f"DELETE FROM workflows WHERE id = {wf['id']}")


def test_workers_answer_normally_after_a_read_stopped_at_the_byte_budget(bounded):
    """The rows left unread on the connection are discarded: every worker's next statements
    (of any shape) answer correctly."""
    s, api = bounded
    big = {"blob": "y" * 60000}
    heavy = workflow_with_steps(api, 3, big)
    light = workflow_with_steps(api, 2)
    for _ in range(6):  # over both workers, alternating with ordinary requests
        err(api.get(f"/api/workflows/{heavy['id']}", params={"include": "steps"}), 400)
        got = ok(api.get(f"/api/workflows/{light['id']}", params={"include": "steps"}))["data"]
        assert [st["name"] for st in got["steps"]] == ["s0", "s1"]
        assert ok(api.get(f"/api/workflows/{light['id']}"))["data"]["id"] == light["id"]
        assert ok(api.get("/api/workflow-steps", params={"filter[workflow_id]": light["id"]}))["meta"]["total"] == 2
    s.sql(f"DELETE FROM workflows WHERE id IN ({heavy['id']}, {light['id']})")
