"""The engine's runner end to end (ENGINE.md "Lifecycle", "http"): runs started with
`aiengine event:fire`, executed by `aiengine work` against tests/fakes/fake_model.py as the
webhook receiver, checked in MariaDB (runs, log rows, context) and at the receiver (headers,
signature, Idempotency-Key). One stack and one `aiengine work` for the module; every test
uses its own event name and receiver path. Deadlines are generous: the machine is shared."""
import json
import time

import requests

import pytest

from engine_helpers import (engine_stack, fake_server, SECRET, engine_env, fire, logs, mkflow, run, uniq,
                            verify_signature, wait_for, wait_status)


@pytest.fixture(scope="module")
def fake():
    yield from fake_server()


@pytest.fixture(scope="module")
def eng(fake):
    yield from engine_stack("aiengine-runner-", engine_env(fake))


def hook(fake, path, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{fake.url}/hook/{path}" + (f"?{qs}" if qs else "")


def test_steps_run_in_order_with_context_logs_and_signed_calls(eng, fake):
    ev, p = uniq(), uniq("p")
    wid, (s1, s2) = mkflow(eng, ev, [
        {"config": {"url": hook(fake, p + "/one", echo=1), "greeting": "Hi {{lead_name}}",
                    "save_as": "first"}},
        {"type": "UPDATE_CRM_FIELD", "config": {"field": "{{ steps.1.config.greeting }}",
                                                "url": "http://ignored.invalid/"}},
    ])
    out = fire(eng, ev, obj="lead-42", context={"lead_name": "Ana", "score": 71})
    assert out["replayed"] is False
    [created] = out["data"]
    assert created["status"] == "queued" and created["workflow_id"] == wid
    assert created["context"] == {"event": ev, "object_id": "lead-42",
                                  "input": {"lead_name": "Ana", "score": 71}, "steps": {}}
    r = wait_status(eng, created["id"], "succeeded")
    assert r["locked_by"] is None and r["locked_until"] is None
    assert r["started_at"] and r["finished_at"]
    assert (r["last_step_order"], r["last_step_id"]) == ("2", str(s2))
    ls = logs(eng, created["id"])
    assert [l["status"] for l in ls] == ["SUCCESS", "SUCCESS"]
    assert [int(l["step_id"]) for l in ls] == [s1, s2]
    assert ls[0]["parent_execution_log_id"] is None
    assert ls[1]["parent_execution_log_id"] == ls[0]["id"]
    for l in ls:
        assert l["workflow_id"] == str(wid) and l["triggering_object_id"] == "lead-42"
        assert l["workflow_run_id"] == str(created["id"])
        assert l["error_message"] is None and l["executed_at"] and int(l["duration_ms"]) >= 0
    ic = ls[0]["input_context"]
    assert ic["method"] == "POST" and ic["url"] == hook(fake, p + "/one", echo=1)
    assert ic["body"]["config"]["greeting"] == "Hi Ana"
    assert ic["body"]["run_id"] == created["id"] and ic["body"]["step_id"] == s1
    assert ic["body"]["step_order"] == 1 and ic["body"]["step_type"] == "WEBHOOK"
    assert ic["body"]["object_id"] == "lead-42"
    assert ic["body"]["context"]["input"]["lead_name"] == "Ana"
    assert ls[0]["raw_output"]["status"] == 200
    assert ls[0]["parsed_output"] == ic["body"]  # ?echo=1 answers what it received
    # the type's url wins over step_config.url; templates read the first step's output
    assert ls[1]["input_context"]["url"] == fake.url + "/actions/update-field"
    assert ls[1]["input_context"]["body"]["config"]["field"] == "Hi Ana"
    ctx = r["context"]
    assert set(ctx) == {"event", "object_id", "input", "steps", "first"}
    assert ctx["steps"]["1"] == ls[0]["parsed_output"] == ctx["first"]
    assert ctx["steps"]["2"] == ls[1]["parsed_output"] == {"ok": True, "status": 200}

    [call] = fake.requests(p + "/one")
    h = call["headers"]
    assert h["idempotency-key"] == f"run-{created['id']}-step-{s1}"
    assert h["content-type"] == "application/json"
    assert abs(int(h["x-aiengine-timestamp"]) - time.time()) < 600
    assert verify_signature(call)
    assert not verify_signature(call, secret=SECRET + "x")
    assert json.loads(call["body"]) == ic["body"]


def test_fan_out_to_active_workflows_byte_for_byte(eng, fake):
    ev = uniq()
    a, _ = mkflow(eng, ev, [{"config": {"url": hook(fake, uniq("p"))}}])
    b, _ = mkflow(eng, ev, [{"config": {"url": hook(fake, uniq("p"))}}])
    mkflow(eng, ev, [{"config": {"url": hook(fake, uniq("p"))}}], active=0)
    mkflow(eng, ev.upper(), [{"config": {"url": hook(fake, uniq("p"))}}])
    out = fire(eng, ev)
    assert [d["workflow_id"] for d in out["data"]] == [a, b]
    for d in out["data"]:
        wait_status(eng, d["id"], "succeeded")
    assert fire(eng, uniq("nobody"))["data"] == []


def test_conditions_skip_run_and_invalid_fails(eng, fake):
    ev, p = uniq(), uniq("p")
    _, (s1, s2, s3, s4) = mkflow(eng, ev, [
        {"rules": {"input.score": {">": 50}}, "config": {"url": hook(fake, p + "/a")}},
        {"rules": {"all": [{"nope": {"exists": False}}, {"input.tier": {"==": "gold"}}]},
         "config": {"url": hook(fake, p + "/b")}},
        {"rules": {"any": []}, "config": {"url": hook(fake, p + "/c")}},
        {"rules": {"input.score": {"=>": 1}}, "config": {"url": hook(fake, p + "/d")}},
    ])
    [d] = fire(eng, ev, context={"score": 10, "tier": "gold"})["data"]
    r = wait_status(eng, d["id"], ["failed", "succeeded"])
    ls = logs(eng, d["id"])
    assert [(int(l["step_id"]), l["status"]) for l in ls] == \
        [(s1, "SKIPPED"), (s2, "SUCCESS"), (s3, "SKIPPED"), (s4, "FAILURE")]
    assert ls[3]["error_message"] == 'invalid condition_rules: unknown operator "=>"'
    assert r["status"] == "failed" and r["error_message"] == ls[3]["error_message"]
    assert r["finished_at"] and r["attempt"] == "0"
    assert "1" not in r["context"]["steps"] and "2" in r["context"]["steps"]
    assert fake.requests(p + "/a") == [] and len(fake.requests(p + "/b")) == 1
    assert fake.requests(p + "/d") == []


def test_delay_first_step_and_between_steps(eng, fake):
    ev, p = uniq(), uniq("p")
    _, (s1, s2) = mkflow(eng, ev, [
        {"delay": 5, "config": {"url": hook(fake, p + "/a")}},
        {"delay": 10, "config": {"url": hook(fake, p + "/b")}},
    ])
    [d] = fire(eng, ev)["data"]
    r = run(eng, d["id"])
    assert r["status"] == "waiting" and d["status"] == "waiting"
    assert 4 * 60 < float(r["secs_until_run_at"]) <= 5 * 60
    time.sleep(1)
    assert run(eng, d["id"])["status"] == "waiting" and fake.requests(p) == []
    eng.sql(f"UPDATE workflow_runs SET run_at = NOW(6) WHERE id = {d['id']}")
    # step 1 runs (its delay is not applied again), then the run waits for step 2's delay
    r = wait_for(lambda: (lambda x: x if x["last_step_id"] == str(s1) else None)(run(eng, d["id"])),
                 what="step 1")
    assert r["status"] == "waiting" and r["locked_by"] is None and r["locked_until"] is None
    assert 9 * 60 < float(r["secs_until_run_at"]) <= 10 * 60
    assert len(fake.requests(p + "/a")) == 1 and fake.requests(p + "/b") == []
    eng.sql(f"UPDATE workflow_runs SET run_at = NOW(6) WHERE id = {d['id']}")
    wait_status(eng, d["id"], "succeeded")
    assert [l["status"] for l in logs(eng, d["id"])] == ["SUCCESS", "SUCCESS"]


def test_retry_after_429_is_honoured_then_success(eng, fake):
    ev, p = uniq(), uniq("p")
    _, (s1,) = mkflow(eng, ev, [{"config": {"url": hook(fake, p, status=429, retry_after=2, times=2)}}])
    [d] = fire(eng, ev)["data"]
    r = wait_status(eng, d["id"], "succeeded")
    ls = logs(eng, d["id"])
    assert [l["status"] for l in ls] == ["RETRY", "RETRY", "SUCCESS"]
    assert ls[0]["raw_output"]["status"] == 429 and ls[0]["parsed_output"] is None
    assert "429" in ls[0]["error_message"]
    assert r["error_message"] is None and r["attempt"] == "0"
    calls = fake.requests(p)
    assert len(calls) == 3
    assert {c["headers"]["idempotency-key"] for c in calls} == {f"run-{d['id']}-step-{s1}"}
    # Retry-After: 2 beats the 1 s backoff (±20%): the calls are at least ~2 s apart
    assert calls[1]["time"] - calls[0]["time"] >= 1.9
    assert calls[2]["time"] - calls[1]["time"] >= 1.9


def test_retry_on_500_then_success_and_exhausted_retries_fail(eng, fake):
    ev, p, p2 = uniq(), uniq("p"), uniq("p")
    mkflow(eng, ev, [{"config": {"url": hook(fake, p, status=500, times=1)}}])
    mkflow(eng, ev, [{"config": {"url": hook(fake, p2, status=503, retry_after=0),
                                 "retry": {"attempts": 2, "backoff_seconds": 1}}}])
    ok, bad = fire(eng, ev)["data"]
    wait_status(eng, ok["id"], "succeeded")
    assert [l["status"] for l in logs(eng, ok["id"])] == ["RETRY", "SUCCESS"]
    r = wait_status(eng, bad["id"], "failed")
    ls = logs(eng, bad["id"])
    assert [l["status"] for l in ls] == ["RETRY", "FAILURE"]
    assert ls[1]["raw_output"]["status"] == 503 and "503" in ls[1]["error_message"]
    assert r["error_message"] == ls[1]["error_message"] and r["finished_at"]
    assert len(fake.requests(p2)) == 2


def test_permanent_4xx_and_redirect_fail_without_retry(eng, fake):
    ev, p, p2 = uniq(), uniq("p"), uniq("p")
    mkflow(eng, ev, [{"config": {"url": hook(fake, p, status=404)}}])
    mkflow(eng, ev, [{"config": {"url": hook(fake, p2, status=302,
                                             location=hook(fake, p2 + "-target"))}}])
    nf, redirect = fire(eng, ev)["data"]
    wait_status(eng, nf["id"], "failed")
    [l] = logs(eng, nf["id"])
    assert l["status"] == "FAILURE" and "404" in l["error_message"]
    assert l["raw_output"] == {"status": 404, "body": {"ok": False, "status": 404}}
    wait_status(eng, redirect["id"], "failed")
    [l] = logs(eng, redirect["id"])
    assert l["status"] == "FAILURE" and "redirect" in l["error_message"]
    assert l["raw_output"]["status"] == 302
    assert len(fake.requests(p)) == 1 and len(fake.requests(p2)) == 1
    assert fake.requests(p2 + "-target") == []


def test_host_not_allowed_fails_before_any_connection(eng, fake):
    ev, p = uniq(), uniq("p")
    mkflow(eng, ev, [{"config": {"url": f"http://localhost:{fake.port}/hook/{p}"}}])
    [d] = fire(eng, ev)["data"]
    r = wait_status(eng, d["id"], "failed")
    [l] = logs(eng, d["id"])
    assert l["error_message"] == 'host "localhost" is not in allowed_hosts'
    assert r["error_message"] == l["error_message"]
    assert l["raw_output"] is None
    time.sleep(0.5)
    assert fake.requests(p) == []


def test_steps_that_cannot_run_fail_with_their_reason(eng, fake):
    cases = [
        ({"type": "NOPE"}, 'unknown step type "NOPE"'),
        ({"type": "AI_PROMPT"}, "no prompt (prompt_id is null)"),
        ({"config": {"url": hook(fake, "x"), "note": "{{company}}"}},
         'template variable "company" is missing'),
        ({"config": {}}, "step_config.url is missing"),
    ]
    for step, message in cases:
        ev = uniq()
        mkflow(eng, ev, [step])
        [d] = fire(eng, ev)["data"]
        wait_status(eng, d["id"], "failed")
        [l] = logs(eng, d["id"])
        assert (l["status"], l["error_message"]) == ("FAILURE", message)


def test_non_json_answer_and_method(eng, fake):
    ev, p = uniq(), uniq("p")
    mkflow(eng, ev, [{"config": {"url": hook(fake, p, body="plain"), "method": "put"}}])
    [d] = fire(eng, ev)["data"]
    r = wait_status(eng, d["id"], "succeeded")
    [l] = logs(eng, d["id"])
    assert l["parsed_output"] == {"status": 200, "body": "plain"}
    assert l["raw_output"] == {"status": 200, "body": "plain"}
    assert l["input_context"]["method"] == "PUT"
    assert fake.requests(p)[0]["method"] == "PUT"
    assert r["context"]["steps"]["1"] == {"status": 200, "body": "plain"}


def test_a_bare_json_scalar_answer_is_json(eng, fake):
    # `42` or `true` as a whole body is JSON (it used to be kept as the text "42")
    for text, value in (("42", 42), ("true", True)):
        ev, p = uniq(), uniq("p")
        mkflow(eng, ev, [{"config": {"url": hook(fake, p, body=text)}}])
        [d] = fire(eng, ev)["data"]
        r = wait_status(eng, d["id"], "succeeded")
        [l] = logs(eng, d["id"])
        # a JSON answer is the step's output itself, as for an object (text is wrapped)
        assert l["raw_output"] == {"status": 200, "body": value}
        assert l["parsed_output"] == value and r["context"]["steps"]["1"] == value


def test_idempotency_key_replays_and_refuses_another_request(eng, fake):
    ev, key = uniq(), uniq("key")
    mkflow(eng, ev, [{"config": {"url": hook(fake, uniq("p"))}}])
    mkflow(eng, ev, [{"config": {"url": hook(fake, uniq("p"))}}])
    first = fire(eng, ev, obj="o-1", context={"a": 1}, key=key)
    assert len(first["data"]) == 2 and first["replayed"] is False
    again = fire(eng, ev, obj="o-1", context={"a": 1}, key=key)
    assert again["replayed"] is True
    assert [d["id"] for d in again["data"]] == [d["id"] for d in first["data"]]
    other = fire(eng, ev, obj="o-1", context={"a": 2}, key=key, check=False)
    assert other.returncode != 0 and "Idempotency-Key" in other.stderr
    n = eng.sql(f"SELECT COUNT(*) FROM workflow_runs WHERE idempotency_key = '{key}'")
    assert n == [["2"]]


def test_workflow_edited_mid_run_uses_its_new_steps(eng, fake):
    ev, p = uniq(), uniq("p")
    wid, (s1, s2) = mkflow(eng, ev, [
        {"config": {"url": hook(fake, p + "/a")}},
        {"delay": 30, "config": {"url": hook(fake, p + "/b")}},
    ])
    [d] = fire(eng, ev)["data"]
    wait_for(lambda: run(eng, d["id"])["last_step_id"] == str(s1), what="step 1")
    # while the run waits for step 2, step 2 is replaced by a new step 3 (no delay)
    eng.sql(f"DELETE FROM workflow_steps WHERE id = {s2}")
    _, (s3,) = (None, [int(eng.sql(
        "INSERT INTO workflow_steps (workflow_id, step_order, name, step_type, step_config, "
        f"delay_minutes) VALUES ({wid}, 3, 'new', 'WEBHOOK', "
        f"'{json.dumps({'url': hook(fake, p + '/c')})}', 0); SELECT LAST_INSERT_ID();")[0][0])])
    eng.sql(f"UPDATE workflow_runs SET run_at = NOW(6) WHERE id = {d['id']}")
    wait_status(eng, d["id"], "succeeded")
    assert [int(l["step_id"]) for l in logs(eng, d["id"])] == [s1, s3]
    assert fake.requests(p + "/b") == []


def test_workflows_check_lists_steps_that_cannot_run(eng, fake):
    ev = uniq()
    wid, (bad_type, bad_rules, bad_tmpl, no_prompt, bad_host, fine) = mkflow(eng, ev, [
        {"type": "NOPE"},
        {"rules": {"x": {"=>": 1}}, "config": {"url": hook(fake, "x")}},
        {"config": {"url": hook(fake, "x"), "t": "{{ unclosed"}},
        {"type": "AI_PROMPT"},
        {"config": {"url": "http://evil.example:8080/x"}},
        {"config": {"url": hook(fake, "{{input.path}}")}},
    ], name="check me")
    r = eng.cli("workflows:check", check=False, env=dict(eng.env(), **engine_env(fake)))
    assert r.returncode == 1, r.stdout + r.stderr
    mine = [l for l in r.stdout.splitlines() if l.startswith(f"workflow {wid} ")]
    text = "\n".join(mine)
    assert f'step {bad_type} (order 1, NOPE): unknown step type "NOPE"' in text
    assert f'step {bad_rules} (order 2, WEBHOOK): invalid condition_rules: unknown operator "=>"' in text
    assert f"step {bad_tmpl} (order 3, WEBHOOK): template error in step_config" in text
    assert f"step {no_prompt} (order 4, AI_PROMPT): no prompt" in text
    assert f'step {bad_host} (order 5, WEBHOOK): host "evil.example" is not in allowed_hosts' in text
    assert f"step {fine} " not in text
    assert len(mine) == 5
    assert "problem" in r.stdout.splitlines()[-1]
    for cmd in ("workflows:check", "event:fire", "work", "run:cancel", "run:retry"):
        h = eng.cli(cmd, "--help")
        assert h.stdout.startswith(f"usage: aiengine {cmd}"), h.stdout
    assert "event:fire" in eng.cli("--help").stdout
    bad = eng.cli("event:fire", "x", "--context", "[1]", check=False)
    assert bad.returncode == 2 and "--context must be a JSON object" in bad.stderr


def test_cancel_and_retry(eng, fake):
    ev, p = uniq(), uniq("p")
    _, (s1, s2) = mkflow(eng, ev, [
        {"config": {"url": hook(fake, p + "/a")}},
        {"delay": 30, "config": {"url": hook(fake, p + "/b", status=404)}},
    ])
    [d] = fire(eng, ev)["data"]
    wait_for(lambda: run(eng, d["id"])["last_step_id"] == str(s1), what="step 1")
    c = eng.cli("run:cancel", str(d["id"]))
    cancelled = json.loads(c.stdout)[0]
    assert cancelled["status"] == "cancelled" and cancelled["finished_at"]
    again = eng.cli("run:cancel", str(d["id"]), check=False)
    assert again.returncode == 1 and "cannot be cancelled" in again.stderr
    # retry: queued at once at the step after the cursor (step 2's delay is not re-applied)
    r = json.loads(eng.cli("run:retry", str(d["id"])).stdout)[0]
    # the answer is the run as read back after the change: a runner may have claimed it
    # in between (seen on a loaded machine), but never finished it yet
    assert r["status"] in ("queued", "running") and r["finished_at"] is None and r["attempt"] == 0
    failed = wait_status(eng, d["id"], "failed")
    assert [int(l["step_id"]) for l in logs(eng, d["id"])] == [s1, s2]
    assert len(fake.requests(p + "/a")) == 1
    assert failed["error_message"] and "404" in failed["error_message"]
    eng.sql(f"UPDATE workflow_steps SET step_config = '{json.dumps({'url': hook(fake, p + '/c')})}' "
            f"WHERE id = {s2}")
    r = json.loads(eng.cli("run:retry", str(d["id"])).stdout)[0]
    assert r["error_message"] is None and r["status"] in ("queued", "running")
    wait_status(eng, d["id"], "succeeded")
    assert [l["status"] for l in logs(eng, d["id"])] == ["SUCCESS", "FAILURE", "SUCCESS"]
    no = eng.cli("run:retry", str(d["id"]), check=False)
    assert no.returncode == 1 and "cannot be retried" in no.stderr
    missing = eng.cli("run:cancel", "999999999", check=False)
    assert missing.returncode == 1 and "not found" in missing.stderr
    # the CLI prints a run exactly as the API shows it (one representation: resources.yaml);
    # a first step 30 minutes away keeps the run still while both read it
    ev2 = uniq()
    mkflow(eng, ev2, [{"delay": 30, "config": {"url": hook(fake, p + "/later")}}])
    [cli] = fire(eng, ev2, context={"lead_name": "Ana"})["data"]
    tok = eng.create_token(email="cli-repr@example.com", name="cli-repr")
    api = requests.get(f"{eng.url}/api/workflow-runs/{cli['id']}",
                       headers={"Authorization": f"Bearer {tok}", "Accept": "application/json"},
                       timeout=10).json()["data"]
    assert cli == api and cli["status"] == "waiting" and cli["cost"] == "0.000000"


def test_cancel_of_a_running_run_discards_its_step(eng, fake):
    ev, p = uniq(), uniq("p")
    mkflow(eng, ev, [{"config": {"url": hook(fake, p, delay=8000)}},
                     {"config": {"url": hook(fake, p + "/next")}}])
    [d] = fire(eng, ev)["data"]
    wait_for(lambda: fake.requests(p), what="the step in flight")
    assert run(eng, d["id"])["status"] == "running"
    eng.cli("run:cancel", str(d["id"]))
    time.sleep(9)  # the call ends; its result must not be written
    r = run(eng, d["id"])
    assert r["status"] == "cancelled" and r["last_step_id"] is None
    assert logs(eng, d["id"]) == [] and fake.requests(p + "/next") == []
