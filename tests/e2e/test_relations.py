"""Relations: ?include= on show and on lists, the nested relationship routes
(/api/workflows/{id}/steps, /api/workflows/{id}/logs, /api/prompts/{id}/steps,
/api/execution-logs/{id}/children), and the cost of includes (one query per relation,
whatever the page size: no N+1)."""
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import Api
from helpers import (CURSOR_META_KEYS, PAGE_META_KEYS, err, ids, new_log, new_prompt, new_step,
                     new_workflow, ok, uniq)


def show(api, path):
    return ok(api.get(path))["data"]


@pytest.fixture
def tree(api):
    """A workflow with steps out of creation order, a prompt used by two of them, and logs
    with a parent and two children."""
    wf = new_workflow(api)
    prompt = new_prompt(api)
    s_b = new_step(api, wf["id"], 2, prompt_id=prompt["id"])
    s_a = new_step(api, wf["id"], 1)
    s_c = new_step(api, wf["id"], 2, prompt_id=prompt["id"], step_type="UPDATE_CRM_FIELD")
    s_0 = new_step(api, wf["id"], 0)
    parent = new_log(api, wf["id"], s_a["id"])
    child1 = new_log(api, wf["id"], s_b["id"], parent_execution_log_id=parent["id"])
    child2 = new_log(api, wf["id"], s_c["id"], parent_execution_log_id=parent["id"], status="FAILURE")
    return {
        "wf": wf, "prompt": prompt,
        "steps_ordered": [s_0, s_a, s_b, s_c],  # step_order, then id
        "parent": parent, "children_newest_first": [child2, child1],
    }


# ---------------------------------------------------------------- include on show

def test_workflow_show_include_steps_ordered(api, tree):
    wf = tree["wf"]
    data = show(api, f"/api/workflows/{wf['id']}?include=steps")
    want_steps = [show(api, f"/api/workflow-steps/{s['id']}") for s in tree["steps_ordered"]]
    assert data["steps"] == want_steps
    # the workflow's own fields are unchanged, and come first in table order
    plain = show(api, f"/api/workflows/{wf['id']}")
    assert {k: v for k, v in data.items() if k != "steps"} == plain
    assert list(data)[: len(plain)] == list(plain)
    # without include, no relation key
    assert "steps" not in plain


def test_workflow_without_steps_includes_empty_list(api):
    wf = new_workflow(api)
    assert show(api, f"/api/workflows/{wf['id']}?include=steps")["steps"] == []


def test_prompt_show_include_steps(api, tree):
    p = tree["prompt"]
    data = show(api, f"/api/prompts/{p['id']}?include=steps")
    assert [s["id"] for s in data["steps"]] == [tree["steps_ordered"][2]["id"], tree["steps_ordered"][3]["id"]]
    assert all(s["prompt_id"] == p["id"] for s in data["steps"])


def test_step_show_include_workflow_and_prompt(api, tree):
    step = tree["steps_ordered"][2]
    data = show(api, f"/api/workflow-steps/{step['id']}?include=workflow,prompt")
    assert data["workflow"] == show(api, f"/api/workflows/{tree['wf']['id']}")
    assert data["prompt"] == show(api, f"/api/prompts/{tree['prompt']['id']}")
    only_wf = show(api, f"/api/workflow-steps/{step['id']}?include=workflow")
    assert "workflow" in only_wf and "prompt" not in only_wf


def test_step_without_prompt_includes_null(api, tree):
    step = tree["steps_ordered"][1]
    assert step["prompt_id"] is None
    data = show(api, f"/api/workflow-steps/{step['id']}?include=prompt,workflow")
    assert "prompt" in data and data["prompt"] is None
    assert data["workflow"]["id"] == tree["wf"]["id"]


def test_log_show_include_all_relations(api, tree):
    parent, (c2, c1) = tree["parent"], tree["children_newest_first"]
    data = show(api, f"/api/execution-logs/{parent['id']}?include=workflow,step,parent_log,child_logs")
    assert data["workflow"] == show(api, f"/api/workflows/{tree['wf']['id']}")
    assert data["step"] == show(api, f"/api/workflow-steps/{parent['step_id']}")
    assert data["parent_log"] is None
    assert data["child_logs"] == [show(api, f"/api/execution-logs/{c2['id']}"),
                                  show(api, f"/api/execution-logs/{c1['id']}")]

    child = show(api, f"/api/execution-logs/{c1['id']}?include=parent_log,child_logs")
    assert child["parent_log"] == show(api, f"/api/execution-logs/{parent['id']}")
    assert child["child_logs"] == []
    assert "workflow" not in child and "step" not in child


def test_duplicate_include_is_harmless(api, tree):
    r = api.get(f"/api/workflow-steps/{tree['steps_ordered'][2]['id']}", params={"include": "workflow,workflow"})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert r.json()["data"]["workflow"]["id"] == tree["wf"]["id"]


# ---------------------------------------------------------------- include on lists

def test_workflows_list_include_steps(api):
    trigger = uniq()
    w1 = new_workflow(api, trigger)
    w2 = new_workflow(api, trigger)
    w3 = new_workflow(api, trigger)
    a = new_step(api, w1["id"], 5)
    b = new_step(api, w1["id"], 1)
    c = new_step(api, w3["id"], 1)
    body = ok(api.get("/api/workflows", params={"filter[trigger_event]": trigger, "include": "steps"}))
    assert ids(body) == [w1["id"], w2["id"], w3["id"]]
    got = {row["id"]: [s["id"] for s in row["steps"]] for row in body["data"]}
    assert got == {w1["id"]: [b["id"], a["id"]], w2["id"]: [], w3["id"]: [c["id"]]}
    # the include survives in the pagination links
    assert parse_qs(urlsplit(body["links"]["first"]).query)["include"] == ["steps"]


def test_prompts_list_include_steps(api, tree):
    p = tree["prompt"]
    body = ok(api.get("/api/prompts", params={"filter[name]": p["name"], "include": "steps"}))
    assert ids(body) == [p["id"]]
    assert [s["id"] for s in body["data"][0]["steps"]] == [tree["steps_ordered"][2]["id"],
                                                            tree["steps_ordered"][3]["id"]]


def test_steps_list_include_workflow_prompt(api, tree):
    body = ok(api.get("/api/workflow-steps", params={"filter[workflow_id]": tree["wf"]["id"],
                                                     "include": "workflow,prompt", "sort": "step_order"}))
    assert ids(body) == [s["id"] for s in tree["steps_ordered"]]
    for row in body["data"]:
        assert row["workflow"]["id"] == tree["wf"]["id"]
        if row["prompt_id"] is None:
            assert row["prompt"] is None
        else:
            assert row["prompt"] == show(api, f"/api/prompts/{row['prompt_id']}")


def test_logs_list_include_all(api, tree):
    parent, (c2, c1) = tree["parent"], tree["children_newest_first"]
    body = ok(api.get("/api/execution-logs", params={
        "filter[workflow_id]": tree["wf"]["id"], "include": "workflow,step,parent_log,child_logs"}))
    assert ids(body) == [c2["id"], c1["id"], parent["id"]]
    by_id = {row["id"]: row for row in body["data"]}
    assert [x["id"] for x in by_id[parent["id"]]["child_logs"]] == [c2["id"], c1["id"]]
    assert by_id[parent["id"]]["parent_log"] is None
    for c in (c1, c2):
        assert by_id[c["id"]]["parent_log"]["id"] == parent["id"]
        assert by_id[c["id"]]["child_logs"] == []
        assert by_id[c["id"]]["step"]["id"] == c["step_id"]
    assert all(row["workflow"]["id"] == tree["wf"]["id"] for row in body["data"])


def test_logs_list_include_with_cursor_pages(api, tree):
    wf = tree["wf"]
    p = {"filter[workflow_id]": wf["id"], "include": "parent_log", "per_page": 2}
    first = ok(api.get("/api/execution-logs", params=p))
    assert all("parent_log" in row for row in first["data"])
    nxt = first["links"]["next"]
    assert parse_qs(urlsplit(nxt).query)["include"] == ["parent_log"]
    second = ok(api.get(nxt))
    assert ids(second) == [tree["parent"]["id"]]
    assert second["data"][0]["parent_log"] is None


@pytest.mark.parametrize("path,include", [
    ("/api/workflows", "nope"),
    ("/api/workflows", "logs"),            # a relation, but not includable
    ("/api/workflows", "steps,nope"),
    ("/api/workflows", "Steps"),
    ("/api/prompts", "workflow"),
    ("/api/workflow-steps", "steps"),
    ("/api/workflow-steps", "workflow,logs"),
    ("/api/execution-logs", "children"),
    ("/api/execution-logs", "parentLog"),
])
def test_unknown_include_is_400_on_list_and_show(api, tree, path, include):
    err(api.get(path, params={"include": include}), 400)
    any_id = {"/api/workflows": tree["wf"]["id"], "/api/prompts": tree["prompt"]["id"],
              "/api/workflow-steps": tree["steps_ordered"][0]["id"],
              "/api/execution-logs": tree["parent"]["id"]}[path]
    err(api.get(f"{path}/{any_id}", params={"include": include}), 400)


# ---------------------------------------------------------------- nested routes

def test_workflow_steps_route_ordered_and_paginated(api, tree, stack):
    wf = tree["wf"]
    other = new_workflow(api)
    new_step(api, other["id"], 0)
    body = ok(api.get(f"/api/workflows/{wf['id']}/steps"))
    assert set(body) == {"data", "links", "meta"}
    assert set(body["meta"]) == PAGE_META_KEYS
    assert ids(body) == [s["id"] for s in tree["steps_ordered"]]
    assert body["data"][0] == show(api, f"/api/workflow-steps/{tree['steps_ordered'][0]['id']}")
    assert body["meta"]["total"] == 4 and body["meta"]["path"] == f"{stack.url}/api/workflows/{wf['id']}/steps"

    p1 = ok(api.get(f"/api/workflows/{wf['id']}/steps", params={"per_page": 3}))
    assert ids(p1) == [s["id"] for s in tree["steps_ordered"][:3]]
    assert (p1["meta"]["last_page"], p1["meta"]["to"]) == (2, 3)
    p2 = ok(api.get(p1["links"]["next"]))
    assert ids(p2) == [tree["steps_ordered"][3]["id"]]
    assert (p2["meta"]["current_page"], p2["meta"]["from"], p2["meta"]["to"]) == (2, 4, 4)
    err(api.get(f"/api/workflows/{wf['id']}/steps", params={"per_page": 0}), 422)


def test_workflow_steps_route_of_workflow_without_steps(api):
    wf = new_workflow(api)
    body = ok(api.get(f"/api/workflows/{wf['id']}/steps"))
    assert body["data"] == [] and body["meta"]["total"] == 0


def test_workflow_logs_route_newest_first_cursor(api, tree, stack):
    wf = tree["wf"]
    body = ok(api.get(f"/api/workflows/{wf['id']}/logs"))
    assert set(body["meta"]) == CURSOR_META_KEYS
    assert body["links"]["first"] is None and body["links"]["last"] is None
    assert body["meta"]["path"] == f"{stack.url}/api/workflows/{wf['id']}/logs"
    all_ids = [tree["children_newest_first"][0]["id"], tree["children_newest_first"][1]["id"],
               tree["parent"]["id"]]
    assert ids(body) == all_ids

    walked = []
    body = ok(api.get(f"/api/workflows/{wf['id']}/logs", params={"per_page": 1}))
    while True:
        walked += ids(body)
        if not body["links"]["next"]:
            break
        assert urlsplit(body["links"]["next"]).path == f"/api/workflows/{wf['id']}/logs"
        body = ok(api.get(body["links"]["next"]))
        assert len(walked) < 10
    assert walked == all_ids
    back = ok(api.get(f"/api/workflows/{wf['id']}/logs",
                      params={"per_page": 1, "cursor": body["meta"]["prev_cursor"]}))
    assert ids(back) == [all_ids[1]]


def test_prompt_steps_route(api, tree):
    p = tree["prompt"]
    body = ok(api.get(f"/api/prompts/{p['id']}/steps"))
    assert set(body["meta"]) == PAGE_META_KEYS
    assert ids(body) == [tree["steps_ordered"][2]["id"], tree["steps_ordered"][3]["id"]]
    assert body["meta"]["total"] == 2
    unused = new_prompt(api)
    assert ok(api.get(f"/api/prompts/{unused['id']}/steps"))["data"] == []


def test_log_children_route(api, tree):
    parent, (c2, c1) = tree["parent"], tree["children_newest_first"]
    body = ok(api.get(f"/api/execution-logs/{parent['id']}/children"))
    assert set(body["meta"]) == CURSOR_META_KEYS
    assert ids(body) == [c2["id"], c1["id"]]
    assert body["data"][0] == show(api, f"/api/execution-logs/{c2['id']}")
    first = ok(api.get(f"/api/execution-logs/{parent['id']}/children", params={"per_page": 1}))
    assert ids(first) == [c2["id"]]
    second = ok(api.get(first["links"]["next"]))
    assert ids(second) == [c1["id"]] and second["meta"]["next_cursor"] is None
    assert ok(api.get(f"/api/execution-logs/{c1['id']}/children"))["data"] == []


def test_nested_route_accepts_include(api, tree):
    body = ok(api.get(f"/api/workflows/{tree['wf']['id']}/steps", params={"include": "prompt"}))
    for row in body["data"]:
        assert "prompt" in row
        assert (row["prompt"] or {}).get("id") == row["prompt_id"]
    err(api.get(f"/api/workflows/{tree['wf']['id']}/steps", params={"include": "logs"}), 400)


@pytest.mark.parametrize("path", [
    "/api/workflows/{}/steps", "/api/workflows/{}/logs", "/api/prompts/{}/steps",
    "/api/execution-logs/{}/children"])
def test_nested_route_of_missing_parent_is_404(api, path):
    err(api.get(path.format(999999999)), 404)
    err(api.get(path.format("abc")), 404)


def test_nested_route_of_deleted_parent_is_404(api):
    wf = new_workflow(api)
    assert api.delete(f"/api/workflows/{wf['id']}").status_code == 204
    err(api.get(f"/api/workflows/{wf['id']}/steps"), 404)
    err(api.get(f"/api/workflows/{wf['id']}/logs"), 404)


def test_nested_route_needs_token(anon, tree):
    r = anon.get(f"/api/workflows/{tree['wf']['id']}/steps")
    assert r.status_code == 401 and r.json() == {"message": "Unauthenticated."}


# ---------------------------------------------------------------- no N+1

@pytest.fixture
def debug_stack(make_stack):
    # counts every page (no count cache): whether a warm-up request hit a cached count and
    # prepared the count-less statement would otherwise depend on timing; the includes are
    # what is measured here (test_round_trips.py and test_count_cache.py measure the cache)
    s = make_stack(workers=1, env={"AIENGINE_DEBUG": "1", "AIENGINE_LIST_COUNT_CACHE_MS": "0"})
    return s, Api(s.url, s.create_token(email="n1@example.com", name="n1"))


def trips(api, path, **params):
    """Round trips of a request, measured warm (the worker caches prepared statements, so
    the first request of a shape also pays for its prepares)."""
    api.get(path, params=params)
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    assert "X-DB-Round-Trips" in r.headers, r.headers
    return int(r.headers["X-DB-Round-Trips"]), r.json()


def test_includes_cost_one_query_per_relation(debug_stack):
    s, api = debug_stack
    trigger = "n1.test"
    prompt = new_prompt(api)
    wfs = [new_workflow(api, trigger) for _ in range(55)]
    logs = []
    for w in wfs:
        st1 = new_step(api, w["id"], 1, prompt_id=prompt["id"])
        st2 = new_step(api, w["id"], 2)
        parent = new_log(api, w["id"], st1["id"])
        logs.append(parent)
        logs.append(new_log(api, w["id"], st2["id"], parent_execution_log_id=parent["id"]))

    # workflows include=steps: the same number of round trips for 5 and 50 rows
    base5, _ = trips(api, "/api/workflows", per_page=5)
    t5, b5 = trips(api, "/api/workflows", per_page=5, include="steps")
    t50, b50 = trips(api, "/api/workflows", per_page=50, include="steps")
    assert len(b5["data"]) == 5 and len(b50["data"]) == 50
    assert all(len(w["steps"]) == 2 for w in b50["data"])
    assert t5 == t50, (t5, t50)
    assert t5 == base5 + 1, (base5, t5)

    # workflow-steps include=workflow,prompt
    base5, _ = trips(api, "/api/workflow-steps", per_page=5)
    t5, _ = trips(api, "/api/workflow-steps", per_page=5, include="workflow,prompt")
    t50, b50 = trips(api, "/api/workflow-steps", per_page=50, include="workflow,prompt")
    assert all(st["workflow"]["id"] == st["workflow_id"] for st in b50["data"])
    assert t5 == t50, (t5, t50)
    assert t5 == base5 + 2, (base5, t5)

    # execution-logs with all four relations (cursor pagination)
    inc = "workflow,step,parent_log,child_logs"
    base5, _ = trips(api, "/api/execution-logs", per_page=5)
    t5, _ = trips(api, "/api/execution-logs", per_page=5, include=inc)
    t50, b50 = trips(api, "/api/execution-logs", per_page=50, include=inc)
    assert len(b50["data"]) == 50
    assert sum(1 for row in b50["data"] if row["parent_log"]) == 25
    assert sum(len(row["child_logs"]) for row in b50["data"]) == 25
    assert t5 == t50, (t5, t50)
    assert t5 == base5 + 4, (base5, t5)

    # prompts include=steps, and the nested route with an include
    t5, _ = trips(api, "/api/prompts", per_page=5, include="steps")
    t50, _ = trips(api, "/api/prompts", per_page=50, include="steps")
    assert t5 == t50
    wf = wfs[0]["id"]
    t5, _ = trips(api, f"/api/workflows/{wf}/steps", per_page=1, include="prompt,workflow")
    t50, _ = trips(api, f"/api/workflows/{wf}/steps", per_page=50, include="prompt,workflow")
    assert t5 == t50
