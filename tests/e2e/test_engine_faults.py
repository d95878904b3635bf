"""The runner's guarantees under faults (ENGINE.md "Guarantees", "Shutdown"): a SIGKILLed
runner's runs complete after its lease expires with no step reaching SUCCESS twice; SIGTERM
commits what ends in time and hands the rest back; runners racing over many runs never run
one step twice; SIGHUP reloads. Each test has its own stack and `aiengine work`."""
import os
import signal
import time

import pytest

from engine_helpers import Fake, engine_env, fire, logs, mkflow, run, uniq, wait_for


@pytest.fixture
def fake():
    f = Fake()
    yield f
    f.stop()


def hook(fake, path, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{fake.url}/hook/{path}" + (f"?{qs}" if qs else "")


def statuses(stack, ids):
    got = stack.sql(f"SELECT status FROM workflow_runs WHERE id IN ({','.join(map(str, ids))})")
    return [r[0] for r in got]


def duplicate_successes(stack):
    return stack.sql("SELECT workflow_run_id, step_id, COUNT(*) FROM execution_logs "
                     "WHERE status = 'SUCCESS' GROUP BY workflow_run_id, step_id HAVING COUNT(*) > 1")


def test_sigkilled_runner_runs_complete_after_lease_expiry_exactly_once(make_stack, fake):
    s = make_stack(workers=1)
    ev, p = uniq(), uniq("p")
    _, (s1, s2) = mkflow(s, ev, [{"config": {"url": hook(fake, p + "/slow", delay=3000)}},
                                 {"config": {"url": hook(fake, p + "/fast")}}])
    ids = [fire(s, ev, obj=f"o-{i}")["data"][0]["id"] for i in range(8)]
    s.start_work(engine_env(fake, AIENGINE_ENGINE_WORKERS=1))
    wait_for(lambda: len(fake.requests(p + "/slow")) >= 4, what="steps in flight")
    victims = s.runner_pids()
    assert victims
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: set(statuses(s, ids)) == {"succeeded"}, timeout=120, what="all runs succeeded")
    assert duplicate_successes(s) == []
    for rid in ids:
        assert [(int(l["step_id"]), l["status"]) for l in logs(s, rid)] == [(s1, "SUCCESS"), (s2, "SUCCESS")]
    calls = fake.requests(p + "/slow")
    assert len(calls) > len(ids)  # the killed runner's calls were made again ...
    keys = {}
    for c in calls:
        keys.setdefault(c["headers"]["idempotency-key"], 0)
        keys[c["headers"]["idempotency-key"]] += 1
    # ... with the same Idempotency-Key, one key per run and step
    assert set(keys) == {f"run-{rid}-step-{s1}" for rid in ids}
    assert max(keys.values()) >= 2
    assert s.runner_pids() and not set(s.runner_pids()) & set(victims)  # respawned


def test_sigterm_commits_steps_in_flight_and_hands_runs_back(make_stack, fake):
    s = make_stack(workers=1)
    ev, p = uniq(), uniq("p")
    _, (s1, s2) = mkflow(s, ev, [{"config": {"url": hook(fake, p + "/slow", delay=2000)}},
                                 {"config": {"url": hook(fake, p + "/next")}}])
    ids = [fire(s, ev, obj=f"o-{i}")["data"][0]["id"] for i in range(4)]
    s.start_work(engine_env(fake, AIENGINE_ENGINE_WORKERS=1, AIENGINE_ENGINE_LEASE_SECONDS=30))
    wait_for(lambda: len(fake.requests(p + "/slow")) == 4, what="4 steps in flight")
    assert s.stop_work() == 0
    for rid in ids:
        r = run(s, rid)
        assert r["status"] == "queued" and r["locked_by"] is None and r["locked_until"] is None
        assert r["last_step_id"] == str(s1)
        assert [l["status"] for l in logs(s, rid)] == ["SUCCESS"]
    assert fake.requests(p + "/next") == []
    # handed back, not lost: a new runner finishes them at once (no lease to wait for)
    s.start_work(engine_env(fake, AIENGINE_ENGINE_WORKERS=1), name="work2")
    wait_for(lambda: set(statuses(s, ids)) == {"succeeded"}, timeout=60, what="runs succeeded")
    assert duplicate_successes(s) == []
    assert len(fake.requests(p + "/slow")) == 4


def test_sigterm_abandons_steps_past_shutdown_timeout(make_stack, fake):
    s = make_stack(workers=1)
    ev, p = uniq(), uniq("p")
    mkflow(s, ev, [{"config": {"url": hook(fake, p, delay=8000)}}])
    ids = [fire(s, ev, obj=f"o-{i}")["data"][0]["id"] for i in range(3)]
    s.start_work(engine_env(fake, AIENGINE_ENGINE_WORKERS=1, AIENGINE_ENGINE_LEASE_SECONDS=60,
                            AIENGINE_ENGINE_SHUTDOWN_TIMEOUT=1))
    wait_for(lambda: len(fake.requests(p)) == 3, what="3 steps in flight")
    assert s.stop_work() == 0
    for rid in ids:
        r = run(s, rid)
        assert r["status"] == "queued" and r["locked_by"] is None
        assert logs(s, rid) == []


def test_racing_runners_never_run_a_step_twice(make_stack, fake):
    s = make_stack(workers=1)
    ev, p = uniq(), uniq("p")
    _, steps = mkflow(s, ev, [{"config": {"url": hook(fake, p + f"/{i}")}} for i in range(3)])
    n = 150
    values = ",".join(f"({{wid}}, '{ev}', 'o-{i}', 'queued', "
                      f"'{{{{\"event\":\"{ev}\",\"object_id\":\"o-{i}\",\"input\":{{{{}}}},\"steps\":{{{{}}}}}}}}', NOW(6), NOW(), NOW())"
                      for i in range(n))
    wid = s.sql(f"SELECT id FROM workflows WHERE trigger_event = '{ev}'")[0][0]
    s.sql("INSERT INTO workflow_runs (workflow_id, event, triggering_object_id, status, context, "
          "run_at, created_at, updated_at) VALUES " + values.format(wid=wid))
    ids = [int(r[0]) for r in s.sql("SELECT id FROM workflow_runs")]
    assert len(ids) == n
    env = engine_env(fake, AIENGINE_ENGINE_WORKERS=2, AIENGINE_ENGINE_LEASE_SECONDS=15,
                     AIENGINE_ENGINE_POLL_INTERVAL_MS=20)
    s.start_work(env, name="work-a")
    s.start_work(env, name="work-b")  # 4 runners over one queue, as on two hosts
    wait_for(lambda: set(statuses(s, ids)) == {"succeeded"}, timeout=240, what="all runs succeeded")
    assert duplicate_successes(s) == []
    assert s.sql("SELECT COUNT(*) FROM execution_logs WHERE status = 'SUCCESS'") == [[str(3 * n)]]
    assert s.sql("SELECT COUNT(*) FROM execution_logs WHERE status <> 'SUCCESS'") == [["0"]]
    owners = s.sql("SELECT COUNT(DISTINCT locked_by) FROM workflow_runs")
    assert owners == [["0"]]  # every lease released
    keys = {c["headers"]["idempotency-key"] for c in fake.requests(p)}
    assert len(keys) == 3 * n


def test_sighup_reloads_and_runners_keep_working(make_stack, fake):
    s = make_stack(workers=1)
    ev, p = uniq(), uniq("p")
    mkflow(s, ev, [{"config": {"url": hook(fake, p)}}])
    master = s.start_work(engine_env(fake, AIENGINE_ENGINE_WORKERS=1))
    wait_for(lambda: s.runner_pids(), what="a runner")
    before = set(s.runner_pids())
    master.send_signal(signal.SIGHUP)
    wait_for(lambda: s.runner_pids() and not set(s.runner_pids()) & before, what="a new generation")
    [d] = fire(s, ev)["data"]
    wait_for(lambda: run(s, d["id"])["status"] == "succeeded", what="the run")
    assert master.poll() is None
