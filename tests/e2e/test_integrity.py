"""Integrity: the foreign-key actions of the schema as seen through the API (cascade, set
null, restrict → 409), the composite unique key under a race of concurrent creates, and
"a bad request changes nothing"."""
import threading

import pytest
import requests

from conftest import Api
from helpers import count, err, new_log, new_prompt, new_step, new_workflow, ok, uniq


def deleted(r):
    assert r.status_code == 204, (r.status_code, r.text)
    assert r.content == b""


def snapshot(stack):
    return {t: count(stack, t) for t in ("workflows", "prompts", "workflow_steps", "execution_logs")}


# ---------------------------------------------------------------- cascades and set null

def test_delete_workflow_cascades_to_steps_and_logs(api, stack):
    wf = new_workflow(api)
    keep = new_workflow(api)
    s1 = new_step(api, wf["id"], 1)
    s2 = new_step(api, wf["id"], 2)
    ks = new_step(api, keep["id"], 1)
    parent = new_log(api, wf["id"], s1["id"])
    child = new_log(api, wf["id"], s2["id"], parent_execution_log_id=parent["id"])
    kl = new_log(api, keep["id"], ks["id"])

    deleted(api.delete(f"/api/workflows/{wf['id']}"))

    err(api.get(f"/api/workflows/{wf['id']}"), 404)
    for s in (s1, s2):
        err(api.get(f"/api/workflow-steps/{s['id']}"), 404)
    for log in (parent, child):
        err(api.get(f"/api/execution-logs/{log['id']}"), 404)
    assert count(stack, "workflow_steps", f"workflow_id={wf['id']}") == 0
    assert count(stack, "execution_logs", f"workflow_id={wf['id']}") == 0
    body = ok(api.get("/api/workflow-steps", params={"filter[workflow_id]": wf["id"]}))
    assert body["data"] == [] and body["meta"]["total"] == 0
    # the other workflow is untouched
    assert ok(api.get(f"/api/workflows/{keep['id']}"))["data"] == keep
    assert ok(api.get(f"/api/workflow-steps/{ks['id']}"))["data"] == ks
    assert ok(api.get(f"/api/execution-logs/{kl['id']}"))["data"] == kl
    # a second delete finds nothing
    err(api.delete(f"/api/workflows/{wf['id']}"), 404)


def test_delete_step_cascades_to_its_logs_only(api, stack):
    wf = new_workflow(api)
    s1 = new_step(api, wf["id"], 1)
    s2 = new_step(api, wf["id"], 2)
    gone = [new_log(api, wf["id"], s1["id"]) for _ in range(3)]
    kept = new_log(api, wf["id"], s2["id"])

    deleted(api.delete(f"/api/workflow-steps/{s1['id']}"))

    err(api.get(f"/api/workflow-steps/{s1['id']}"), 404)
    for log in gone:
        err(api.get(f"/api/execution-logs/{log['id']}"), 404)
    assert count(stack, "execution_logs", f"step_id={s1['id']}") == 0
    assert ok(api.get(f"/api/execution-logs/{kept['id']}"))["data"] == kept
    assert ok(api.get(f"/api/workflows/{wf['id']}"))["data"]["id"] == wf["id"]
    body = ok(api.get(f"/api/workflows/{wf['id']}/steps"))
    assert [s["id"] for s in body["data"]] == [s2["id"]]


def test_delete_parent_log_sets_children_parent_to_null(api):
    wf = new_workflow(api)
    st = new_step(api, wf["id"])
    parent = new_log(api, wf["id"], st["id"])
    c1 = new_log(api, wf["id"], st["id"], parent_execution_log_id=parent["id"])
    c2 = new_log(api, wf["id"], st["id"], parent_execution_log_id=parent["id"])
    grandchild = new_log(api, wf["id"], st["id"], parent_execution_log_id=c1["id"])

    deleted(api.delete(f"/api/execution-logs/{parent['id']}"))

    err(api.get(f"/api/execution-logs/{parent['id']}"), 404)
    for c in (c1, c2):
        data = ok(api.get(f"/api/execution-logs/{c['id']}"))["data"]
        assert data["parent_execution_log_id"] is None
        assert {k: v for k, v in data.items() if k != "parent_execution_log_id"} == \
            {k: v for k, v in c.items() if k != "parent_execution_log_id"}
    # only the direct children lose their parent
    assert ok(api.get(f"/api/execution-logs/{grandchild['id']}"))["data"]["parent_execution_log_id"] == c1["id"]
    body = ok(api.get("/api/execution-logs", params={"filter[parent_execution_log_id]": parent["id"]}))
    assert body["data"] == []


# ---------------------------------------------------------------- restrict → 409

def test_delete_prompt_in_use_is_409_and_deletes_nothing(api, stack):
    prompt = new_prompt(api)
    wf = new_workflow(api)
    steps = [new_step(api, wf["id"], i, prompt_id=prompt["id"]) for i in range(3)]
    before = snapshot(stack)

    body = err(api.delete(f"/api/prompts/{prompt['id']}"), 409)
    assert "3" in body["message"], body
    assert "step" in body["message"].lower(), body

    assert snapshot(stack) == before
    assert ok(api.get(f"/api/prompts/{prompt['id']}"))["data"] == prompt
    for s in steps:
        assert ok(api.get(f"/api/workflow-steps/{s['id']}"))["data"]["prompt_id"] == prompt["id"]


def test_delete_prompt_409_counts_steps_across_workflows(api):
    prompt = new_prompt(api)
    for _ in range(2):
        wf = new_workflow(api)
        new_step(api, wf["id"], 1, prompt_id=prompt["id"])
    body = err(api.delete(f"/api/prompts/{prompt['id']}"), 409)
    assert "2" in body["message"], body


def test_delete_prompt_after_its_steps_are_gone_is_204(api, stack):
    prompt = new_prompt(api)
    wf = new_workflow(api)
    s1 = new_step(api, wf["id"], 1, prompt_id=prompt["id"])
    s2 = new_step(api, wf["id"], 2, prompt_id=prompt["id"])
    err(api.delete(f"/api/prompts/{prompt['id']}"), 409)

    deleted(api.delete(f"/api/workflow-steps/{s1['id']}"))
    body = err(api.delete(f"/api/prompts/{prompt['id']}"), 409)
    assert "1" in body["message"], body
    # reassigning the last step frees the prompt too
    ok(api.patch(f"/api/workflow-steps/{s2['id']}", {"prompt_id": None}))

    deleted(api.delete(f"/api/prompts/{prompt['id']}"))
    err(api.get(f"/api/prompts/{prompt['id']}"), 404)
    assert count(stack, "prompts", f"id={prompt['id']}") == 0
    assert ok(api.get(f"/api/workflow-steps/{s2['id']}"))["data"]["prompt_id"] is None


def test_unused_prompt_deletes_with_204(api):
    prompt = new_prompt(api)
    deleted(api.delete(f"/api/prompts/{prompt['id']}"))
    err(api.delete(f"/api/prompts/{prompt['id']}"), 404)


def test_step_cannot_point_at_a_deleted_prompt(api, stack):
    prompt = new_prompt(api)
    deleted(api.delete(f"/api/prompts/{prompt['id']}"))
    wf = new_workflow(api)
    before = count(stack, "workflow_steps", f"workflow_id={wf['id']}")
    body = err(api.post("/api/workflow-steps", {"workflow_id": wf["id"], "step_order": 1, "name": "x",
                                                "prompt_id": prompt["id"]}), 422)
    assert "prompt_id" in body["errors"]
    assert count(stack, "workflow_steps", f"workflow_id={wf['id']}") == before


# ---------------------------------------------------------------- unique under a race

def test_concurrent_creates_of_same_name_version_one_wins(api, stack):
    name = uniq("race")
    n = 20
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        client = Api(api.url, api.token)  # a session per thread
        barrier.wait()
        try:
            results[i] = client.post("/api/prompts", {"name": name, "version": 3,
                                                      "system_prompt_text": f"racer {i}"})
        except requests.RequestException as e:  # noqa: BLE001 - reported below
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    statuses = [getattr(r, "status_code", repr(r)) for r in results]
    assert all(isinstance(s, int) and s < 500 for s in statuses), statuses
    assert statuses.count(201) == 1, statuses
    assert statuses.count(422) == n - 1, statuses
    for r in results:
        if r.status_code == 422:
            body = r.json()
            assert "name" in body["errors"], body
            assert body["message"], body
    assert count(stack, "prompts", f"name='{name}' AND version=3") == 1
    winner = next(r for r in results if r.status_code == 201).json()["data"]
    listed = ok(api.get("/api/prompts", params={"filter[name]": name}))
    assert [p["id"] for p in listed["data"]] == [winner["id"]]


def test_update_into_a_taken_name_version_is_422(api, stack):
    name = uniq("upd")
    a = new_prompt(api, name=name, version=1)
    b = new_prompt(api, name=name, version=2)
    body = err(api.patch(f"/api/prompts/{b['id']}", {"version": 1}), 422)
    assert "name" in body["errors"], body
    assert ok(api.get(f"/api/prompts/{b['id']}"))["data"] == b
    # the record itself does not collide with its own row
    assert ok(api.patch(f"/api/prompts/{a['id']}", {"name": name, "version": 1}))["data"]["version"] == 1


# ---------------------------------------------------------------- bad writes change nothing

@pytest.mark.parametrize("path,body", [
    ("/api/workflows", {"trigger_event": "x"}),
    ("/api/workflows", {"name": "x", "trigger_event": "y", "is_active": "yes"}),
    ("/api/prompts", {"name": "x"}),
    ("/api/prompts", {"name": "x", "system_prompt_text": "y", "status": "gone"}),
    ("/api/workflow-steps", {"workflow_id": 999999999, "step_order": 1, "name": "x"}),
    ("/api/execution-logs", {"workflow_id": 999999999, "step_id": 999999999, "status": "x"}),
    ("/api/execution-logs", {"status": "SUCCESS", "cost": "10000"}),
])
def test_failed_create_leaves_no_row(api, stack, path, body):
    before = snapshot(stack)
    err(api.post(path, body), 422)
    assert snapshot(stack) == before


def test_failed_log_create_with_valid_fks_leaves_no_row(api, stack):
    wf = new_workflow(api)
    st = new_step(api, wf["id"])
    before = count(stack, "execution_logs", f"workflow_id={wf['id']}")
    for bad in ({"duration_ms": -1}, {"cost": 10000}, {"executed_at": "not a date"},
                {"parent_execution_log_id": 999999999}, {"token_usage": 2 ** 31},
                {"input_context": "a string"}):
        body = {"workflow_id": wf["id"], "step_id": st["id"], "status": "SUCCESS"}
        body.update(bad)
        b = err(api.post("/api/execution-logs", body), 422)
        assert set(b["errors"]) == set(bad), (bad, b)
    assert count(stack, "execution_logs", f"workflow_id={wf['id']}") == before


def test_failed_update_changes_nothing(api, stack):
    wf = new_workflow(api)
    stored = stack.sql(f"SELECT name, trigger_event, is_active, updated_at FROM workflows WHERE id={wf['id']}")
    # one valid and one invalid field: all or nothing
    body = err(api.patch(f"/api/workflows/{wf['id']}", {"name": "changed", "is_active": "nope"}), 422)
    assert set(body["errors"]) == {"is_active"}
    body = err(api.put(f"/api/workflows/{wf['id']}", {"name": "changed", "trigger_event": ""}), 422)
    assert set(body["errors"]) == {"trigger_event"}
    assert ok(api.get(f"/api/workflows/{wf['id']}"))["data"] == wf
    assert stack.sql(f"SELECT name, trigger_event, is_active, updated_at FROM workflows WHERE id={wf['id']}") == stored


def test_failed_step_update_with_missing_fk_changes_nothing(api):
    wf = new_workflow(api)
    st = new_step(api, wf["id"], 4)
    body = err(api.patch(f"/api/workflow-steps/{st['id']}", {"step_order": 9, "workflow_id": 999999999}), 422)
    assert set(body["errors"]) == {"workflow_id"}
    assert ok(api.get(f"/api/workflow-steps/{st['id']}"))["data"] == st


# ---- declared consistency of relations (resources.yaml `same` and `not_self`) ----

def test_log_step_must_belong_to_the_logs_workflow(api, stack):
    w1, w2 = new_workflow(api), new_workflow(api)
    s1, s2 = new_step(api, w1["id"]), new_step(api, w2["id"])
    before = count(stack, "execution_logs")
    body = err(api.post("/api/execution-logs", {"workflow_id": w1["id"], "step_id": s2["id"],
                                                "status": "x"}), 422)
    assert body["errors"] == {"step_id": ["The selected step id is invalid."]}
    assert count(stack, "execution_logs") == before
    lg = new_log(api, w1["id"], s1["id"])
    # moving only the step, or only the workflow, is checked against the stored other half
    body = err(api.patch(f"/api/execution-logs/{lg['id']}", {"step_id": s2["id"]}), 422)
    assert list(body["errors"]) == ["step_id"]
    body = err(api.patch(f"/api/execution-logs/{lg['id']}", {"workflow_id": w2["id"]}), 422)
    assert list(body["errors"]) == ["step_id"]
    # both together are consistent again
    moved = ok(api.patch(f"/api/execution-logs/{lg['id']}", {"workflow_id": w2["id"], "step_id": s2["id"]}))
    assert (moved["data"]["workflow_id"], moved["data"]["step_id"]) == (w2["id"], s2["id"])
    # a step id that does not exist at all keeps its usual single message
    body = err(api.post("/api/execution-logs", {"workflow_id": w1["id"], "step_id": 999999999,
                                                "status": "x"}), 422)
    assert body["errors"] == {"step_id": ["The selected step id is invalid."]}
    # other fields are untouched by the check
    assert ok(api.patch(f"/api/execution-logs/{lg['id']}", {"status": "y"}))["data"]["status"] == "y"


def test_log_may_not_be_its_own_parent(api, stack):
    w = new_workflow(api)
    s = new_step(api, w["id"])
    lg = new_log(api, w["id"], s["id"])
    body = err(api.patch(f"/api/execution-logs/{lg['id']}", {"parent_execution_log_id": lg["id"]}), 422)
    assert list(body["errors"]) == ["parent_execution_log_id"]
    assert "itself" in body["errors"]["parent_execution_log_id"][0]
    body = err(api.put(f"/api/execution-logs/{lg['id']}", {"parent_execution_log_id": str(lg["id"])}), 422)
    assert list(body["errors"]) == ["parent_execution_log_id"]
    assert ok(api.get(f"/api/execution-logs/{lg['id']}"))["data"]["parent_execution_log_id"] is None
    other = new_log(api, w["id"], s["id"])
    ok(api.patch(f"/api/execution-logs/{lg['id']}", {"parent_execution_log_id": other["id"]}))
