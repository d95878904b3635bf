"""The engine's HTTP API (ENGINE.md "API") through nginx + MariaDB: starting runs from an
event or by hand, Idempotency-Key, reading and listing runs and their logs, cancel and
retry, abilities, 405s, and the run representation. No runner runs on the session stack,
so runs stay where the API put them; the last test starts one on a private stack and
watches a run fired through the API succeed."""
import json
import threading
import uuid

import pytest

from conftest import Api
from engine_helpers import engine_stack, fake_server, engine_env, mkflow, wait_status
from helpers import count, err, new_log, new_step, new_workflow, ok, ok_data, uniq

RUN_KEYS = ["id", "workflow_id", "event", "triggering_object_id", "idempotency_key", "status",
            "context", "last_step_order", "last_step_id", "attempt", "run_at", "error_message",
            "token_usage", "cost", "started_at", "finished_at", "created_at", "updated_at"]


@pytest.fixture(scope="module")
def trigger_token(stack):
    return stack.create_token(email="trigger@example.com", name="trigger", abilities="trigger")


@pytest.fixture(scope="module")
def trigger(api, trigger_token):
    return api.with_token(trigger_token)


def iso(s):
    return isinstance(s, str) and len(s) == 27 and s[10] == "T" and s.endswith("Z")


def event(api, ev, key=None, **body):
    body = {"event": ev, **body}
    return api.post("/api/events", body, headers={"Idempotency-Key": key} if key else None)


def start(api, wid, key=None, body=None):
    return api.post(f"/api/workflows/{wid}/runs", {} if body is None else body,
                    headers={"Idempotency-Key": key} if key else None)


def test_event_starts_one_run_per_active_workflow_by_id_case_sensitive(api, stack):
    ev = uniq("lead.created")
    a = new_workflow(api, trigger=ev)
    b = new_workflow(api, trigger=ev)
    new_workflow(api, trigger=ev, is_active=False)
    upper = new_workflow(api, trigger=ev.upper())
    new_step(api, b["id"], delay_minutes=5)
    r = event(api, ev, object_id="lead-42", context={"lead_name": "Ana", "score": 71})
    body = ok(r, 202)
    assert list(body) == ["data"]
    runs = body["data"]
    assert [x["workflow_id"] for x in runs] == [a["id"], b["id"]]
    for x in runs:
        assert list(x) == RUN_KEYS  # table order, the lease left out
        assert x["event"] == ev and x["triggering_object_id"] == "lead-42"
        assert x["context"] == {"event": ev, "object_id": "lead-42",
                                "input": {"lead_name": "Ana", "score": 71}, "steps": {}}
        assert x["idempotency_key"] is None and x["attempt"] == 0
        assert x["cost"] == "0.000000" and x["token_usage"] == 0
        assert x["last_step_order"] is None and x["last_step_id"] is None
        assert x["started_at"] is None and x["finished_at"] is None and x["error_message"] is None
        assert iso(x["run_at"]) and iso(x["created_at"]) and iso(x["updated_at"])
    # the first step of b waits five minutes
    assert runs[0]["status"] == "queued" and runs[1]["status"] == "waiting"
    assert runs[1]["run_at"] > runs[0]["run_at"]
    assert count(stack, "workflow_runs", f"workflow_id = {a['id']}") == 1
    # byte for byte: the upper-case name starts only its own workflow
    [u] = ok(event(api, ev.upper()), 202)["data"]
    assert u["workflow_id"] == upper["id"]
    assert ok(event(api, uniq("nobody.listens")), 202) == {"data": []}
    # absent object_id and context: null and {}
    [n1, n2] = ok(event(api, ev), 202)["data"]
    assert n1["triggering_object_id"] is None
    assert n1["context"] == {"event": ev, "object_id": None, "input": {}, "steps": {}}


def test_manual_run_of_any_workflow_and_404(api, stack):
    w = new_workflow(api, is_active=False)
    assert ok(event(api, w["trigger_event"]), 202) == {"data": []}  # inactive: no event run
    r = start(api, w["id"], body={"object_id": "o-1", "context": {"x": [1, 2]}, "event": "ignored"})
    run = ok_data(r, 201)
    assert list(run) == RUN_KEYS
    assert r.headers["Location"].endswith(f"/api/workflow-runs/{run['id']}")
    assert "Idempotent-Replayed" not in r.headers
    assert run["workflow_id"] == w["id"] and run["event"] is None and run["status"] == "queued"
    assert run["context"] == {"event": None, "object_id": "o-1", "input": {"x": [1, 2]},
                              "steps": {}}
    assert ok_data(api.get(r.headers["Location"])) == run
    assert ok_data(start(api, w["id"]), 201)["context"]["input"] == {}
    assert "No workflow with id 987654321" in err(start(api, 987654321), 404)["message"]
    err(start(api, "abc"), 404)
    assert count(stack, "workflow_runs", "workflow_id = 987654321") == 0


@pytest.mark.parametrize("body, field, message", [
    ({}, "event", "The event field is required."),
    ({"event": ""}, "event", "The event field is required."),
    ({"event": "   "}, "event", "The event field is required."),
    ({"event": None}, "event", "The event field is required."),
    ({"event": 5}, "event", "The event field must be a string."),
    ({"event": "x" * 256}, "event", "The event field must not be greater than 255 characters."),
    ({"event": "e", "object_id": 42}, "object_id", "The object id field must be a string."),
    ({"event": "e", "object_id": "o" * 256}, "object_id",
     "The object id field must not be greater than 255 characters."),
    ({"event": "e", "context": [1, 2]}, "context", "The context field must be an object."),
    ({"event": "e", "context": []}, "context", "The context field must be an object."),
    ({"event": "e", "context": "{}"}, "context", "The context field must be an object."),
])
def test_event_body_422(api, body, field, message):
    b = err(api.post("/api/events", body), 422)
    assert b["errors"] == {field: [message]}
    assert b["message"] == message


def test_event_body_limits_and_several_errors(api, stack):
    ev = (uniq("x") + "ü" * 255)[:255]  # 255 characters, more bytes
    w = new_workflow(api, trigger=ev)
    [run] = ok(event(api, ev, object_id="é" * 255, context=None), 202)["data"]
    assert run["workflow_id"] == w["id"] and run["triggering_object_id"] == "é" * 255
    b = err(api.post("/api/events", {"object_id": 1, "context": [1]}), 422)
    assert set(b["errors"]) == {"event", "object_id", "context"}
    assert b["message"] == "The event field is required. (and 2 more errors)"
    err(api.request("POST", "/api/events", data="{nope", headers={"Content-Type": "application/json"}), 400)
    err(api.request("POST", "/api/events", data="[]", headers={"Content-Type": "application/json"}), 400)
    err(api.request("POST", "/api/events", data='{"event":"x"}', headers={"Content-Type": "text/plain"}), 415)
    w2 = new_workflow(api)
    b = err(start(api, w2["id"], body={"context": ["a"], "object_id": ["b"]}), 422)
    assert b["errors"] == {"object_id": ["The object id field must be a string."],
                           "context": ["The context field must be an object."]}
    assert count(stack, "workflow_runs", f"workflow_id = {w2['id']}") == 0


def test_abilities(api, anon, stack, tokens, trigger):
    w = new_workflow(api)
    reader = api.with_token(tokens["reader"])
    writer = api.with_token(tokens["writer"])
    run = ok_data(start(trigger, w["id"]), 201)
    [ev_run] = ok(event(trigger, w["trigger_event"]), 202)["data"]
    assert ev_run["workflow_id"] == w["id"]
    rid = run["id"]
    routes = [("POST", "/api/events", {"event": "x"}), ("POST", f"/api/workflows/{w['id']}/runs", {}),
              ("GET", "/api/workflow-runs", None), ("GET", f"/api/workflow-runs/{rid}", None),
              ("GET", f"/api/workflow-runs/{rid}/logs", None),
              ("POST", f"/api/workflow-runs/{rid}/cancel", None),
              ("POST", f"/api/workflow-runs/{rid}/retry", None)]
    for method, path, body in routes:
        assert err(anon.request(method, path, json_body=body), 401)["message"] == "Unauthenticated."
    # a trigger-only token starts runs and can do nothing else
    for method, path, body in routes[2:]:
        b = err(trigger.request(method, path, json_body=body), 403)
        assert "'read'" in b["message"] or "'write'" in b["message"]
    err(trigger.get("/api/workflows"), 403)
    err(trigger.post("/api/workflows", {"name": "n", "trigger_event": "e"}), 403)
    # read and write tokens cannot start runs
    for client in (reader, writer):
        assert "'trigger'" in err(event(client, "x"), 403)["message"]
        assert "'trigger'" in err(start(client, w["id"]), 403)["message"]
    # reader reads, writer cancels and retries
    ok_data(reader.get(f"/api/workflow-runs/{rid}"))
    ok(reader.get("/api/workflow-runs"))
    ok(reader.get(f"/api/workflow-runs/{rid}/logs"))
    err(reader.post(f"/api/workflow-runs/{rid}/cancel"), 403)
    assert ok_data(writer.post(f"/api/workflow-runs/{rid}/cancel"))["status"] == "cancelled"
    assert ok_data(writer.post(f"/api/workflow-runs/{rid}/retry"))["status"] == "queued"
    # authentication comes before 404
    err(anon.post("/api/workflows/987654321/runs", {}), 401)
    err(trigger.post("/api/workflow-runs/987654321/cancel"), 403)


def test_runs_are_read_only_405_with_allow(api):
    w = new_workflow(api)
    rid = ok_data(start(api, w["id"]), 201)["id"]
    for method in ("PUT", "PATCH", "DELETE"):
        r = api.request(method, f"/api/workflow-runs/{rid}", json_body={"status": "succeeded"})
        err(r, 405)
        assert r.headers["Allow"] == "GET, HEAD"
    r = api.post("/api/workflow-runs", {"workflow_id": w["id"]})
    err(r, 405)
    assert r.headers["Allow"] == "GET, HEAD"
    for path in ("/api/events", f"/api/workflows/{w['id']}/runs",
                 f"/api/workflow-runs/{rid}/cancel", f"/api/workflow-runs/{rid}/retry"):
        r = api.get(path)
        err(r, 405)
        assert r.headers["Allow"] == "POST"
    r = api.post(f"/api/workflow-runs/{rid}/logs", {})
    err(r, 405)
    assert r.headers["Allow"] == "GET, HEAD"
    assert ok_data(api.get(f"/api/workflow-runs/{rid}"))["status"] == "queued"


def test_idempotent_event_replay_and_reuse(api, stack):
    ev = uniq("ev")
    a = new_workflow(api, trigger=ev)
    b = new_workflow(api, trigger=ev)
    key = "evt-" + uuid.uuid4().hex
    body = {"object_id": "o-7", "context": {"n": 1}}
    first = event(api, ev, key, **body)
    runs = ok(first, 202)["data"]
    assert "Idempotent-Replayed" not in first.headers
    assert [x["idempotency_key"] for x in runs] == [key, key]
    # the same again: the same runs as they are now, nothing created
    ok_data(api.post(f"/api/workflow-runs/{runs[0]['id']}/cancel"))
    again = event(api, ev, key, **body)
    assert again.headers["Idempotent-Replayed"] == "true"
    replayed = ok(again, 202)["data"]
    assert [x["id"] for x in replayed] == [x["id"] for x in runs]
    assert [x["status"] for x in replayed] == ["cancelled", "queued"]
    assert count(stack, "workflow_runs", f"workflow_id IN ({a['id']}, {b['id']})") == 2
    # the same key with another body is 422, and starts nothing
    for other in ({"object_id": "o-8", "context": {"n": 1}}, {"object_id": "o-7", "context": {"n": 2}},
                  {"object_id": "o-7"}):
        e = err(event(api, ev, key, **other), 422)
        assert list(e["errors"]) == ["Idempotency-Key"]
    # the same key for the same workflow through the manual route is another request
    err(start(api, a["id"], key, {"object_id": "o-7", "context": {"n": 1}}), 422)
    assert count(stack, "workflow_runs", f"workflow_id IN ({a['id']}, {b['id']})") == 2
    # keys are per workflow: another event may use it
    ev2 = uniq("ev")
    c = new_workflow(api, trigger=ev2)
    [cr] = ok(event(api, ev2, key), 202)["data"]
    assert cr["workflow_id"] == c["id"]


def test_idempotent_manual_run_and_key_length(api, stack):
    w = new_workflow(api)
    key = "k" * 255
    r1 = start(api, w["id"], key, {"context": {"a": 1}})
    run = ok_data(r1, 201)
    r2 = start(api, w["id"], key, {"context": {"a": 1}})
    assert ok_data(r2, 201) == run
    assert r2.headers["Idempotent-Replayed"] == "true"
    assert r2.headers["Location"] == r1.headers["Location"]
    b = err(start(api, w["id"], "k" * 256, {"context": {"a": 1}}), 400)
    assert "Idempotency-Key" in b["message"]
    err(event(api, w["trigger_event"], "k" * 256), 400)
    err(event(api, w["trigger_event"], "bad\tkey"), 400)
    assert count(stack, "workflow_runs", f"workflow_id = {w['id']}") == 1


def test_same_key_from_several_threads_creates_one_run(api, stack):
    w = new_workflow(api)
    key = "race-" + uuid.uuid4().hex
    results = []
    lock = threading.Lock()
    go = threading.Barrier(6)

    def worker():
        client = api.with_token(api.token)
        go.wait()
        r = start(client, w["id"], key, {"object_id": "race"})
        with lock:
            results.append(r)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 6
    assert [r.status_code for r in results] == [201] * 6, [r.text for r in results]
    ids = {r.json()["data"]["id"] for r in results}
    assert len(ids) == 1
    assert sum(1 for r in results if r.headers.get("Idempotent-Replayed") != "true") == 1
    assert count(stack, "workflow_runs", f"workflow_id = {w['id']}") == 1


def same_key_race(api, stack, threads):
    """`threads` requests at once, one event (two workflows listen) under one new key: every
    one is a 202 naming the same two runs, and two runs exist."""
    ev = uniq("race")
    a = new_workflow(api, trigger=ev)
    b = new_workflow(api, trigger=ev)
    key = "race-" + uuid.uuid4().hex
    results = []
    lock = threading.Lock()
    go = threading.Barrier(threads)

    def worker():
        client = api.with_token(api.token)
        go.wait()
        r = event(client, ev, key, object_id="race", context={"n": 1})
        with lock:
            results.append(r)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(120)
    assert [r.status_code for r in results] == [202] * threads, [r.text for r in results]
    answers = {tuple(x["id"] for x in r.json()["data"]) for r in results}
    assert len(answers) == 1 and len(next(iter(answers))) == 2
    assert count(stack, "workflow_runs", f"workflow_id IN ({a['id']}, {b['id']})") == 2


def test_same_key_on_an_event_from_several_threads_starts_each_run_once(api, stack):
    same_key_race(api, stack, 5)


def test_same_new_key_from_as_many_requests_as_workers_never_deadlocks(make_stack):
    """As many simultaneous requests as workers, round after round: when the key was looked
    up with FOR UPDATE, the requests that found nothing shared a gap lock, deadlocked on
    their INSERTs and ran out of retries (most of six answered 500 in two rounds of three).
    A plain read and the unique key leave one winner and replays."""
    s = make_stack(workers=6)
    api = Api(s.url, s.create_token(email="race@example.com", name="race"))
    for _ in range(8):
        same_key_race(api, s, 6)


def test_cancel_and_retry(api, stack):
    w = new_workflow(api)
    run = ok_data(start(api, w["id"]), 201)
    rid = run["id"]
    c = ok_data(api.post(f"/api/workflow-runs/{rid}/cancel"))
    assert c["status"] == "cancelled" and iso(c["finished_at"])
    b = err(api.post(f"/api/workflow-runs/{rid}/cancel"), 409)
    assert "cancelled" in b["message"]
    r = ok_data(api.post(f"/api/workflow-runs/{rid}/retry"))
    assert r["status"] == "queued" and r["finished_at"] is None and r["attempt"] == 0
    b = err(api.post(f"/api/workflow-runs/{rid}/retry"), 409)
    assert "queued" in b["message"]
    # a failed run resumes after its progress cursor, its error cleared
    stack.sql(f"UPDATE workflow_runs SET status = 'failed', attempt = 2, error_message = 'boom', "
              f"finished_at = NOW(), run_at = NOW(6) + INTERVAL 1 HOUR, last_step_order = 3 "
              f"WHERE id = {rid}")
    r = ok_data(api.post(f"/api/workflow-runs/{rid}/retry"))
    assert r["status"] == "queued" and r["attempt"] == 0 and r["error_message"] is None
    assert r["finished_at"] is None and r["last_step_order"] == 3
    assert stack.sql(f"SELECT run_at <= NOW(6) FROM workflow_runs WHERE id = {rid}") == [["1"]]
    stack.sql(f"UPDATE workflow_runs SET status = 'succeeded', finished_at = NOW() WHERE id = {rid}")
    err(api.post(f"/api/workflow-runs/{rid}/cancel"), 409)
    err(api.post(f"/api/workflow-runs/{rid}/retry"), 409)
    for action in ("cancel", "retry"):
        assert "No workflow run with id 987654321." == err(
            api.post(f"/api/workflow-runs/987654321/{action}"), 404)["message"]


def test_lease_columns_are_hidden(api, stack):
    w = new_workflow(api)
    rid = ok_data(start(api, w["id"]), 201)["id"]
    stack.sql(f"UPDATE workflow_runs SET locked_by = 'host:1', locked_until = NOW(6) WHERE id = {rid}")
    assert list(ok_data(api.get(f"/api/workflow-runs/{rid}"))) == RUN_KEYS
    page = ok(api.get("/api/workflow-runs", params={"filter[workflow_id]": w["id"], "include": "workflow"}))
    assert list(page["data"][0]) == RUN_KEYS + ["workflow"]
    assert "locked_by" not in json.dumps(page)
    err(api.get("/api/workflow-runs", params={"filter[locked_by]": "host:1"}), 400)
    err(api.get("/api/workflow-runs", params={"sort": "locked_until"}), 400)
    err(api.get("/api/workflow-runs", params={"include": "steps"}), 400)
    err(api.get("/api/workflow-runs/987654321"), 404)


def test_list_cursor_pages_newest_first_and_filters(api):
    ev = uniq("list")
    w = new_workflow(api, trigger=ev)
    other = new_workflow(api, trigger=ev)
    made = []
    for i in range(5):
        made += [x["id"] for x in ok(event(api, ev, object_id=f"obj-{i % 2}"), 202)["data"]]
    mine = made[::2]  # w's runs (w has the lower id, so comes first in each answer)
    seen, url, pages = [], "/api/workflow-runs", 0
    params = {"filter[workflow_id]": w["id"], "per_page": 2}
    while url:
        body = ok(api.get(url, params=params if pages == 0 else None))
        assert set(body["meta"]) == {"path", "per_page", "next_cursor", "prev_cursor"}
        assert body["links"]["first"] is None
        seen += [x["id"] for x in body["data"]]
        url = body["links"]["next"]
        pages += 1
    assert seen == sorted(mine, reverse=True) and pages == 3
    by = lambda **f: [x["id"] for x in ok(api.get("/api/workflow-runs", params={
        **{f"filter[{k}]": v for k, v in f.items()}, "per_page": 100}))["data"]]
    assert by(event=ev) == sorted(made, reverse=True)
    assert by(event=ev, triggering_object_id="obj-1") == sorted(
        [x for i, x in enumerate(made) if (i // 2) % 2 == 1], reverse=True)
    assert by(workflow_id=other["id"], status="queued") == sorted(made[1::2], reverse=True)
    api.post(f"/api/workflow-runs/{made[0]}/cancel")
    assert by(workflow_id=w["id"], status="cancelled") == [made[0]]
    err(api.get("/api/workflow-runs", params={"per_page": 0}), 422)
    err(api.get("/api/workflow-runs", params={"cursor": "garbage"}), 400)


def test_logs_of_a_run_oldest_first(api, stack):
    w = new_workflow(api)
    s = new_step(api, w["id"])
    rid = ok_data(start(api, w["id"]), 201)["id"]
    other_run = ok_data(start(api, w["id"]), 201)["id"]
    logs = [new_log(api, w["id"], s["id"], workflow_run_id=rid, status=st)
            for st in ("RETRY", "SUCCESS", "SKIPPED")]
    new_log(api, w["id"], s["id"], workflow_run_id=other_run)
    new_log(api, w["id"], s["id"])
    assert all(list(l)[-1] == "workflow_run_id" and l["workflow_run_id"] == rid for l in logs)
    want = [l["id"] for l in logs]
    run = ok_data(api.get(f"/api/workflow-runs/{rid}", params={"include": "logs,workflow"}))
    assert [l["id"] for l in run["logs"]] == want
    assert run["workflow"]["id"] == w["id"]
    page = ok(api.get(f"/api/workflow-runs/{rid}/logs", params={"per_page": 2}))
    assert [l["id"] for l in page["data"]] == want[:2]
    assert page["meta"]["total"] == 3 and page["meta"]["last_page"] == 2
    page2 = ok(api.get(page["links"]["next"]))
    assert [l["id"] for l in page2["data"]] == want[2:]
    listed = ok(api.get("/api/workflow-runs", params={"filter[workflow_id]": w["id"], "include": "logs"}))
    assert [r["id"] for r in listed["data"]] == [other_run, rid]
    assert [len(r["logs"]) for r in listed["data"]] == [1, 3]
    assert [l["id"] for l in listed["data"][1]["logs"]] == want
    err(api.get("/api/workflow-runs/987654321/logs"), 404)
    # execution logs: filter, include run, and a run must be of the log's workflow
    f = ok(api.get("/api/execution-logs", params={"filter[workflow_run_id]": rid}))
    assert sorted(l["id"] for l in f["data"]) == want
    one = ok_data(api.get(f"/api/execution-logs/{want[0]}", params={"include": "run"}))
    assert one["run"]["id"] == rid and "locked_by" not in one["run"]
    w2 = new_workflow(api)
    s2 = new_step(api, w2["id"])
    b = err(api.post("/api/execution-logs", {"workflow_id": w2["id"], "step_id": s2["id"],
                                             "status": "SUCCESS", "workflow_run_id": rid}), 422)
    assert "workflow_run_id" in b["errors"]
    b = err(api.post("/api/execution-logs", {"workflow_id": w["id"], "step_id": s["id"],
                                             "status": "SUCCESS", "workflow_run_id": 987654321}), 422)
    assert b["errors"] == {"workflow_run_id": ["The selected workflow run id is invalid."]}
    # deleting the workflow deletes its runs; a run's logs go with the workflow too
    api.delete(f"/api/workflows/{w['id']}")
    err(api.get(f"/api/workflow-runs/{rid}"), 404)


# ---------------------------------------------------------------- with a runner

@pytest.fixture(scope="module")
def fake():
    yield from fake_server()


@pytest.fixture(scope="module")
def eng(fake):
    yield from engine_stack("aiengine-api-", engine_env(fake))


def test_event_through_the_api_runs_to_success(eng, fake):
    client = Api(eng.url, eng.create_token(email="e2e-api@example.com", name="api"))
    ev, p = uniq("lead.created"), uniq("p")
    wid, (s1,) = mkflow(eng, ev, [{"config": {"url": f"{fake.url}/hook/{p}", "hello": "{{lead_name}}"}}])
    [run] = ok(client.post("/api/events", {"event": ev, "object_id": "lead-1",
                                           "context": {"lead_name": "Ana"}},
                           headers={"Idempotency-Key": "once"}), 202)["data"]
    assert run["workflow_id"] == wid and run["status"] == "queued"
    wait_status(eng, run["id"], "succeeded")
    done = ok_data(client.get(f"/api/workflow-runs/{run['id']}", params={"include": "logs"}))
    assert done["status"] == "succeeded" and iso(done["started_at"]) and iso(done["finished_at"])
    assert done["last_step_id"] == s1 and done["last_step_order"] == 1
    [log] = done["logs"]
    assert log["status"] == "SUCCESS" and log["workflow_run_id"] == run["id"]
    assert done["context"]["steps"]["1"] == log["parsed_output"]
    [call] = fake.requests(p)
    assert json.loads(call["body"])["config"]["hello"] == "Ana"
    # a replay after the run finished answers it as it is now, and starts nothing
    again = client.post("/api/events", {"event": ev, "object_id": "lead-1", "context": {"lead_name": "Ana"}},
                        headers={"Idempotency-Key": "once"})
    assert again.headers["Idempotent-Replayed"] == "true"
    [same] = ok(again, 202)["data"]
    assert same["id"] == run["id"] and same["status"] == "succeeded"
    assert len(fake.requests(p)) == 1
