"""HTTP semantics beyond the peers (SPEC.md): ETag, If-None-Match (304), If-Match (412) checked
under the row lock, http.require_if_match (428), and Idempotency-Key on POST — through nginx
and MariaDB, for the generic resources and the engine's runs.

Slow requests are made deterministic by holding a row lock from a separate database client
(RowLock) and waiting until InnoDB reports the expected number of waiting transactions."""
import hashlib
import re
import socket
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import Api
from helpers import count, err, new_workflow, ok_data, uniq
from stack import which

TAG = re.compile(r'"[0-9a-f]{32}"')


def recipe(body):
    """docs/api.md: the first 128 bits of the SHA-256 of the body, hex, quoted."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class RowLock:
    """A transaction of a separate mariadb client that holds the rows `sql` locks until
    release(): requests that need those rows wait meanwhile."""

    def __init__(self, stack, sql):
        self.p = subprocess.Popen(
            [which("mariadb"), "--no-defaults", "-uroot", f"--socket={stack.db_socket}", "-N",
             "-B", "--unbuffered", "aiengine"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.p.stdin.write(f"BEGIN;\n{sql};\nSELECT 'locked';\n")
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            assert line, self.p.stderr.read()
            if line.strip() == "locked":
                break

    def release(self):
        if self.p.poll() is None:
            self.p.stdin.write("ROLLBACK;\n")
            self.p.stdin.close()
            self.p.wait(30)


def waiting_transactions(stack):
    return int(stack.sql("SELECT COUNT(*) FROM information_schema.INNODB_TRX "
                         "WHERE trx_state = 'LOCK WAIT'")[0][0])


def wait_for_waiters(stack, n, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if waiting_transactions(stack) >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{n} requests never queued on the row lock")


def token_id(token):
    return int(token.split("|", 1)[0])


# ---------------------------------------------------------------- ETag

def test_single_record_answers_carry_the_etag_of_their_bytes(api):
    r = api.post("/api/workflows", {"name": uniq("wf"), "trigger_event": uniq("ev")})
    wf = ok_data(r, 201)
    tag = r.headers["ETag"]
    assert TAG.fullmatch(tag) and tag == recipe(r.content)
    url = f"/api/workflows/{wf['id']}"
    g = api.get(url)
    assert g.status_code == 200 and g.headers["ETag"] == tag == recipe(g.content)
    # ?include= is part of the representation, so of the tag
    gi = api.get(url + "?include=steps")
    assert gi.status_code == 200 and gi.headers["ETag"] == recipe(gi.content) != tag
    p = api.patch(url, {"name": uniq("renamed")})
    assert p.status_code == 200 and p.headers["ETag"] == recipe(p.content) != tag
    assert api.get(url).headers["ETag"] == p.headers["ETag"]
    # collections and deletes are not one record's representation
    assert "ETag" not in api.get("/api/workflows").headers
    assert "ETag" not in api.get(url + "/steps").headers


def test_if_none_match_answers_304_without_a_body(api):
    wf = new_workflow(api)
    url = f"/api/workflows/{wf['id']}"
    tag = api.get(url).headers["ETag"]
    matching = [tag, f'"other", {tag}', f"W/{tag}", "*", f'"x" ,, W/{tag}', f'"a",W/"b",{tag}']
    for h in matching:
        r = api.get(url, headers={"If-None-Match": h})
        assert r.status_code == 304, (h, r.status_code, r.text)
        assert r.content == b"" and r.headers["ETag"] == tag
        assert "Content-Type" not in r.headers
    for h in ['"other"', 'W/"other"', tag[:-2] + '"']:
        r = api.get(url, headers={"If-None-Match": h})
        assert r.status_code == 200 and r.headers["ETag"] == tag and r.json()["data"]["id"] == wf["id"]
    # the included representation has another tag
    r = api.get(url + "?include=steps", headers={"If-None-Match": tag})
    assert r.status_code == 200
    # after a change the old tag no longer matches
    ok_data(api.patch(url, {"name": uniq("changed")}))
    r = api.get(url, headers={"If-None-Match": tag})
    assert r.status_code == 200 and r.headers["ETag"] != tag
    for bad in ["abc", '"unterminated', '"a" "b"', "*, \"a\"", ","]:
        body = err(api.get(url, headers={"If-None-Match": bad}), 400)
        assert "If-None-Match" in body["message"]


def test_a_missing_record_is_404_whatever_the_conditions(api):
    for h in [{"If-None-Match": "*"}, {"If-None-Match": '"x"'}]:
        err(api.get("/api/workflows/999999999", headers=h), 404)
    for h in [{"If-Match": "*"}, {"If-Match": '"x"'}, {"If-Match": "W/\"x\""}]:
        err(api.patch("/api/workflows/999999999", {"name": "x"}, headers=h), 404)
        err(api.put("/api/workflows/999999999", {"name": "x"}, headers=h), 404)
        err(api.delete("/api/workflows/999999999", headers=h), 404)


def test_if_match_guards_put_patch_and_delete(api):
    wf = new_workflow(api)
    url = f"/api/workflows/{wf['id']}"
    tag = api.get(url).headers["ETag"]
    stale = '"' + "0" * 32 + '"'
    for method, h in [("PATCH", stale), ("PATCH", f"W/{tag}"), ("PUT", stale),
                      ("PUT", f'"x", W/{tag}')]:
        body = err(api.request(method, url, json_body={"name": "lost update"},
                               headers={"If-Match": h}), 412)
        assert "fetch it again" in body["message"]
    assert api.get(url).json()["data"]["name"] == wf["name"]  # nothing changed
    r = api.patch(url, {"name": uniq("first")}, headers={"If-Match": f'"x", {tag}'})
    assert r.status_code == 200, r.text
    new_tag = r.headers["ETag"]
    # the old tag is stale now, for every write
    err(api.put(url, {"name": "second"}, headers={"If-Match": tag}), 412)
    err(api.delete(url, headers={"If-Match": tag}), 412)
    assert api.get(url).status_code == 200
    # "*" only asks that the record exists
    r = api.patch(url, {"description": "starred"}, headers={"If-Match": "*"})
    assert r.status_code == 200 and r.headers["ETag"] != new_tag
    # a validation error still comes after a matching precondition, with nothing changed
    err(api.patch(url, {"name": ""}, headers={"If-Match": r.headers["ETag"]}), 422)
    err(api.patch(url, {"name": "x"}, headers={"If-Match": "abc"}), 400)
    r = api.delete(url, headers={"If-Match": r.headers["ETag"]})
    assert r.status_code == 204
    err(api.get(url), 404)


def test_delete_with_star_and_without_if_match(api):
    a, b = new_workflow(api), new_workflow(api)
    assert api.delete(f"/api/workflows/{a['id']}", headers={"If-Match": "*"}).status_code == 204
    assert api.delete(f"/api/workflows/{b['id']}").status_code == 204


def test_runs_carry_etags_and_answer_304(api):
    wf = new_workflow(api)
    r = api.post(f"/api/workflows/{wf['id']}/runs", {"object_id": "o-1"})
    run = ok_data(r, 201)
    assert r.headers["ETag"] == recipe(r.content)
    url = f"/api/workflow-runs/{run['id']}"
    g = api.get(url)
    tag = g.headers["ETag"]
    assert tag == recipe(g.content)
    assert api.get(url, headers={"If-None-Match": tag}).status_code == 304
    c = api.post(url + "/cancel")
    assert c.status_code == 200 and c.headers["ETag"] == recipe(c.content) != tag
    assert api.get(url, headers={"If-None-Match": tag}).status_code == 200
    # runs still refuse PUT/PATCH/DELETE, conditions or not
    assert api.patch(url, {"status": "queued"}, headers={"If-Match": "*"}).status_code == 405


def test_two_concurrent_patches_with_the_same_if_match_exactly_one_wins(api, stack):
    for _ in range(3):
        wf = new_workflow(api)
        url = f"/api/workflows/{wf['id']}"
        tag = api.get(url).headers["ETag"]
        names = [uniq("writer-a"), uniq("writer-b")]
        # both requests queue on the row lock, so both have passed every check that does not
        # happen under it; only the one that locks second can see the first one's write
        lock = RowLock(stack, f"SELECT id FROM workflows WHERE id = {wf['id']} FOR UPDATE")
        try:
            with ThreadPoolExecutor(2) as ex:
                futs = [ex.submit(Api(api.url, api.token).patch, url, {"name": n},
                                  headers={"If-Match": tag}) for n in names]
                wait_for_waiters(stack, 2)
                lock.release()
                rs = [f.result() for f in futs]
        finally:
            lock.release()
        assert sorted(r.status_code for r in rs) == [200, 412], [(r.status_code, r.text) for r in rs]
        winner = names[[r.status_code for r in rs].index(200)]
        assert api.get(url).json()["data"]["name"] == winner


def test_a_write_only_token_gets_no_tag_for_its_partial_answer(api, tokens):
    wf = new_workflow(api)
    url = f"/api/workflows/{wf['id']}"
    writer = api.with_token(tokens["writer"])
    r = writer.patch(url, {"name": uniq("w")}, headers={"If-Match": api.get(url).headers["ETag"]})
    assert r.status_code == 200 and "ETag" not in r.headers
    err(writer.patch(url, {"name": uniq("w")}, headers={"If-Match": '"stale"'}), 412)


def test_require_if_match_answers_428(make_stack):
    s = make_stack(workers=1, env={"AIENGINE_HTTP_REQUIRE_IF_MATCH": "true"})
    api = Api(s.url, s.create_token())
    wf = new_workflow(api)  # POST needs no precondition
    url = f"/api/workflows/{wf['id']}"
    for method in ("PATCH", "PUT", "DELETE"):
        body = err(api.request(method, url, json_body=None if method == "DELETE" else {"name": "x"}), 428)
        assert "If-Match" in body["message"]
    assert api.get(url).json()["data"]["name"] == wf["name"]
    err(api.patch("/api/workflows/999999999", {"name": "x"}), 404)  # 404 beats 428
    r = api.patch(url, {"name": "y"}, headers={"If-Match": "*"})
    assert r.status_code == 200
    err(api.patch(url, {"name": "z"}, headers={"If-Match": '"stale"'}), 412)
    assert api.delete(url, headers={"If-Match": r.headers["ETag"]}).status_code == 204


def test_a_bad_require_if_match_value_is_refused(stack):
    env = stack.env()
    env["AIENGINE_HTTP_REQUIRE_IF_MATCH"] = "maybe"
    r = subprocess.run([stack.binary, "config:check"], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "AIENGINE_HTTP_REQUIRE_IF_MATCH" in r.stderr


# ---------------------------------------------------------------- Idempotency-Key

def key():
    return "k-" + uuid.uuid4().hex


def key_rows(stack, k):
    return count(stack, "idempotency_keys", f"idempotency_key = '{k}'")


def test_the_same_post_again_is_replayed_and_creates_nothing(api, stack):
    k, name = key(), uniq("idem")
    body = {"name": name, "trigger_event": "lead.created"}
    first = api.post("/api/workflows", body, headers={"Idempotency-Key": k})
    created = ok_data(first, 201)
    assert "Idempotent-Replayed" not in first.headers
    again = api.post("/api/workflows", body, headers={"Idempotency-Key": k})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    for h in ("Location", "ETag", "Content-Type"):
        assert again.headers[h] == first.headers[h]
    assert count(stack, "workflows", f"name = '{name}'") == 1
    assert created["id"] == again.json()["data"]["id"]
    # a POST without the header is not affected
    ok_data(api.post("/api/workflows", body), 201)
    assert count(stack, "workflows", f"name = '{name}'") == 2


def test_the_same_key_with_another_request_is_422(api, stack):
    k = key()
    ok_data(api.post("/api/workflows", {"name": uniq("a"), "trigger_event": "e"},
                     headers={"Idempotency-Key": k}), 201)
    other_body = api.post("/api/workflows", {"name": uniq("b"), "trigger_event": "e"},
                          headers={"Idempotency-Key": k})
    assert err(other_body, 422)["errors"]["Idempotency-Key"]
    # another path, and the same path with another query string, are other requests too
    err(api.post("/api/prompts", {"name": uniq("p"), "system_prompt_text": "x"},
                 headers={"Idempotency-Key": k}), 422)
    err(api.post("/api/workflows?x=1", {"name": uniq("a"), "trigger_event": "e"},
                 headers={"Idempotency-Key": k}), 422)
    # byte-exact: the same JSON written differently is another body
    r = api.request("POST", "/api/workflows", data='{"name": "x",  "trigger_event": "e"}',
                    headers={"Idempotency-Key": k, "Content-Type": "application/json"})
    err(r, 422)
    assert key_rows(stack, k) == 1


def test_keys_longer_than_255_bytes_are_refused(api, stack):
    name = uniq("long")
    body = {"name": name, "trigger_event": "e"}
    msg = err(api.post("/api/workflows", body, headers={"Idempotency-Key": "k" * 256}), 400)["message"]
    assert "Idempotency-Key" in msg and "255" in msg
    assert count(stack, "workflows", f"name = '{name}'") == 0
    k = "k" * 255
    ok_data(api.post("/api/workflows", body, headers={"Idempotency-Key": k}), 201)
    r = api.post("/api/workflows", body, headers={"Idempotency-Key": k})
    assert r.status_code == 201 and r.headers["Idempotent-Replayed"] == "true"
    assert count(stack, "workflows", f"name = '{name}'") == 1


def test_keys_are_scoped_per_token(api, tokens, stack):
    k, name = key(), uniq("scoped")
    body = {"name": name, "trigger_event": "e"}
    a = api.post("/api/workflows", body, headers={"Idempotency-Key": k})
    b = api.with_token(tokens["writer"]).post("/api/workflows", body, headers={"Idempotency-Key": k})
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b.headers
    assert a.json()["data"]["id"] != b.json()["data"]["id"]
    assert count(stack, "workflows", f"name = '{name}'") == 2
    assert key_rows(stack, k) == 2


def test_client_errors_are_stored_and_replayed(api, stack):
    k = key()
    body = {"trigger_event": "no name"}
    first = err(api.post("/api/workflows", body, headers={"Idempotency-Key": k}), 422)
    again = api.post("/api/workflows", body, headers={"Idempotency-Key": k})
    assert again.status_code == 422 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first


def test_a_post_whose_reply_was_lost_is_replayed_on_retry(api, stack):
    k, name = key(), uniq("lost")
    payload = ('{"name":"%s","trigger_event":"lead.created"}' % name).encode()
    host = f"127.0.0.1:{stack.port}"
    request = (f"POST /api/workflows HTTP/1.1\r\nHost: {host}\r\n"
               f"Authorization: Bearer {api.token}\r\nContent-Type: application/json\r\n"
               f"Accept: application/json\r\nIdempotency-Key: {k}\r\n"
               f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode() + payload
    s = socket.create_connection(("127.0.0.1", stack.port), timeout=15)
    s.sendall(request)
    # the server commits and stores its answer; the client never reads it
    deadline = time.time() + 20
    while count(stack, "idempotency_keys", f"idempotency_key = '{k}' AND status IS NOT NULL") == 0:
        assert time.time() < deadline, "the first request never completed"
        time.sleep(0.05)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()  # a reset: the reply is lost
    retry = api.request("POST", "/api/workflows", data=payload,
                        headers={"Idempotency-Key": k, "Content-Type": "application/json"})
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["data"]["name"] == name
    assert count(stack, "workflows", f"name = '{name}'") == 1


def _post_step(api, wf_id, name, k):
    return Api(api.url, api.token).post(
        "/api/workflow-steps", {"workflow_id": wf_id, "step_order": 1, "name": name},
        headers={"Idempotency-Key": k})


def test_the_same_key_while_the_first_is_in_flight_is_409(api, stack):
    wf = new_workflow(api)
    k, name = key(), uniq("inflight")
    # the step's exists check waits for the workflow row, so the first request stays in flight
    lock = RowLock(stack, f"SELECT id FROM workflows WHERE id = {wf['id']} FOR UPDATE")
    try:
        with ThreadPoolExecutor(1) as ex:
            first = ex.submit(_post_step, api, wf["id"], name, k)
            wait_for_waiters(stack, 1)
            body = err(_post_step(api, wf["id"], name, k), 409)
            assert "still being processed" in body["message"]
            lock.release()
            r = first.result()
    finally:
        lock.release()
    step = ok_data(r, 201)
    again = _post_step(api, wf["id"], name, k)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["id"] == step["id"]
    assert count(stack, "workflow_steps", f"name = '{name}'") == 1


def test_server_errors_are_not_stored_so_the_key_stays_retryable(api, stack):
    wf = new_workflow(api)
    k, name = key(), uniq("fivexx")
    lock = RowLock(stack, f"SELECT id FROM workflows WHERE id = {wf['id']} FOR UPDATE")
    try:
        with ThreadPoolExecutor(1) as ex:
            first = ex.submit(_post_step, api, wf["id"], name, k)
            wait_for_waiters(stack, 1)
            # the waiting worker loses its database connection mid-transaction: a 503
            victim = stack.sql("SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX "
                               "WHERE trx_state = 'LOCK WAIT'")[0][0]
            stack.sql(f"KILL {int(victim)}")
            r = first.result()
    finally:
        lock.release()
    assert r.status_code >= 500, (r.status_code, r.text)
    assert key_rows(stack, k) == 0
    retry = _post_step(api, wf["id"], name, k)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert count(stack, "workflow_steps", f"name = '{name}'") == 1


def test_an_abandoned_or_expired_key_is_taken_over(api, tokens, stack):
    tid = token_id(tokens["admin"])
    abandoned, expired = key(), key()
    # a worker that died mid-request an hour ago, and an answer from two days ago
    stack.sql("INSERT INTO idempotency_keys (token_id, idempotency_key, request_hash, created_at) "
              f"VALUES ({tid}, '{abandoned}', REPEAT('x', 32), NOW(6) - INTERVAL 1 HOUR)")
    stack.sql("INSERT INTO idempotency_keys (token_id, idempotency_key, request_hash, status, "
              f"headers, body, created_at) VALUES ({tid}, '{expired}', REPEAT('y', 32), 201, '', "
              "'{}', NOW(6) - INTERVAL 2 DAY)")
    for k in (abandoned, expired):
        name = uniq("taken")
        r = api.post("/api/workflows", {"name": name, "trigger_event": "e"},
                     headers={"Idempotency-Key": k})
        assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers, r.text
        assert count(stack, "workflows", f"name = '{name}'") == 1
        assert key_rows(stack, k) == 1


def test_expired_keys_are_swept_by_the_workers(api, tokens, stack):
    tid = token_id(tokens["admin"])
    old = [key() for _ in range(3)]
    for k in old:
        stack.sql("INSERT INTO idempotency_keys (token_id, idempotency_key, request_hash, status, "
                  f"created_at) VALUES ({tid}, '{k}', REPEAT('z', 32), 201, "
                  "NOW(6) - INTERVAL 25 HOUR)")
    # every 64th key row inserted sweeps: cheap keyed POSTs (422s) until one has
    for _ in range(70):
        err(api.post("/api/workflows", {}, headers={"Idempotency-Key": key()}), 422)
        if sum(key_rows(stack, k) for k in old) == 0:
            break
    assert sum(key_rows(stack, k) for k in old) == 0
    assert count(stack, "idempotency_keys", "created_at < NOW(6) - INTERVAL 24 HOUR") == 0


def test_run_starting_posts_keep_the_engines_meaning(api, tokens, stack):
    """ENGINE.md: there the key names the runs, across tokens; no idempotency_keys row."""
    ev = uniq("ev")
    wf = new_workflow(api, trigger=ev)
    k = key()
    body = {"event": ev, "object_id": "o-1"}
    first = api.post("/api/events", body, headers={"Idempotency-Key": k})
    assert first.status_code == 202, first.text
    trigger = stack.create_token(email="trigger@example.com", name="trigger", abilities="trigger")
    other = Api(api.url, trigger).post("/api/events", body, headers={"Idempotency-Key": k})
    assert other.status_code == 202 and other.headers["Idempotent-Replayed"] == "true"
    assert [x["id"] for x in other.json()["data"]] == [x["id"] for x in first.json()["data"]]
    # one namespace per workflow across both routes: another body under the key is 422 there
    err(api.post(f"/api/workflows/{wf['id']}/runs", {"object_id": "o-2"},
                 headers={"Idempotency-Key": k}), 422)
    k2 = key()
    r = api.post(f"/api/workflows/{wf['id']}/runs", {"object_id": "o-2"}, headers={"Idempotency-Key": k2})
    assert r.status_code == 201
    assert key_rows(stack, k) == key_rows(stack, k2) == 0
    # cancel and retry are ordinary POSTs: the stored answer comes back instead of a 409
    run = r.json()["data"]
    ck = key()
    c1 = api.post(f"/api/workflow-runs/{run['id']}/cancel", headers={"Idempotency-Key": ck})
    c2 = api.post(f"/api/workflow-runs/{run['id']}/cancel", headers={"Idempotency-Key": ck})
    assert c1.status_code == c2.status_code == 200 and c2.headers["Idempotent-Replayed"] == "true"
    assert err(api.post(f"/api/workflow-runs/{run['id']}/cancel"), 409)
