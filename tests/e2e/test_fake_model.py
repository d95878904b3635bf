"""The fake model server and webhook receiver (tests/fakes/fake_model.py) on its own: each
wire format, each failure mode, the control endpoints. Needs no aiengine, runs in seconds."""
import concurrent.futures
import http.client
import json
import os
import socket
import subprocess
import sys
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKE = os.path.join(ROOT, "tests", "fakes", "fake_model.py")
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_process import FakeModel  # noqa: E402

GEMINI_BODY = {
    "systemInstruction": {"parts": [{"text": "You are a helpful CRM assistant."}]},
    "contents": [{"role": "user", "parts": [{"text": "Write to Ana at Acme."}]}],
    "generationConfig": {"temperature": 0.2, "maxOutputTokens": 512},
}


def openai_body(user="Write to Ana at Acme.", **kw):
    b = {"model": "llama3.1:8b",
         "messages": [{"role": "system", "content": "You are a helpful CRM assistant."},
                      {"role": "user", "content": user}]}
    b.update(kw)
    return b


def gemini_body(user="Write to Ana at Acme.", json_mode=False):
    b = json.loads(json.dumps(GEMINI_BODY))
    b["contents"][0]["parts"][0]["text"] = user
    if json_mode:
        b["generationConfig"]["responseMimeType"] = "application/json"
    return b


@pytest.fixture(scope="module")
def fake():
    with FakeModel() as fm:
        yield fm


@pytest.fixture
def f(fake):
    fake.reset()
    return fake.url


def gemini(url, body=None, headers=None, model="gemini-2.5-flash", timeout=5):
    h = {"x-goog-api-key": "k-test", "Content-Type": "application/json"}
    h.update(headers or {})
    return requests.post(f"{url}/v1beta/models/{model}:generateContent",
                         data=json.dumps(body or GEMINI_BODY), headers=h, timeout=timeout)


def openai(url, body=None, headers=None, timeout=5):
    h = {"Authorization": "Bearer k-test", "Content-Type": "application/json"}
    h.update(headers or {})
    return requests.post(url + "/v1/chat/completions", data=json.dumps(body or openai_body()),
                         headers=h, timeout=timeout)


def recorded(url, **params):
    return requests.get(url + "/_requests", params=params, timeout=5).json()["requests"]


def test_gemini_text_answer_usage_and_record(f):
    r = gemini(f)
    assert r.status_code == 200
    a = r.json()
    cand = a["candidates"][0]
    assert cand["finishReason"] == "STOP"
    assert cand["content"]["role"] == "model"
    assert "".join(p["text"] for p in cand["content"]["parts"]) == "echo: Write to Ana at Acme."
    # words: 6 system + 5 user in, 6 out
    assert a["usageMetadata"] == {"promptTokenCount": 11, "candidatesTokenCount": 6,
                                  "totalTokenCount": 17}
    assert a["modelVersion"] == "gemini-2.5-flash"
    [rec] = recorded(f)
    assert rec["kind"] == "gemini"
    assert rec["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert rec["headers"]["x-goog-api-key"] == "k-test"
    assert rec["json"] == GEMINI_BODY
    assert rec["mode"] == "text"


def test_gemini_json_mode_thoughts_and_parts(f):
    a = gemini(f, gemini_body(json_mode=True)).json()
    text = a["candidates"][0]["content"]["parts"][0]["text"]
    assert json.loads(text) == {"ok": True, "model": "gemini-2.5-flash",
                                "system": "You are a helpful CRM assistant.",
                                "user": "Write to Ana at Acme."}
    a = gemini(f, gemini_body("Hi [[fake: thought tokens=31,54,120]]")).json()
    parts = a["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True
    assert [p["text"] for p in parts[1:]] == ["echo: Hi [[fake: thought tokens=31,54,120]]"]
    assert a["usageMetadata"] == {"promptTokenCount": 31, "candidatesTokenCount": 54,
                                  "thoughtsTokenCount": 120, "totalTokenCount": 205}
    a = gemini(f, gemini_body("[[fake:multipart text=HelloWorld]]")).json()
    parts = a["candidates"][0]["content"]["parts"]
    assert len(parts) == 2 and parts[0]["text"] + parts[1]["text"] == "HelloWorld"
    a = gemini(f, gemini_body("[[fake:nousage]]")).json()
    assert "usageMetadata" not in a and a["candidates"][0]["content"]["parts"]
    a = gemini(f, gemini_body("[[fake:length]]")).json()
    assert a["candidates"][0]["finishReason"] == "MAX_TOKENS"


def test_gemini_blocks_and_empty(f):
    a = gemini(f, gemini_body("[[fake:safety]]")).json()
    assert a["candidates"][0]["finishReason"] == "SAFETY"
    assert "content" not in a["candidates"][0]
    a = gemini(f, gemini_body("[[fake:safety-prompt]]")).json()
    assert "candidates" not in a and a["promptFeedback"]["blockReason"] == "SAFETY"
    a = gemini(f, gemini_body("[[fake:empty]]")).json()
    assert a["candidates"] == []
    r = gemini(f, gemini_body("[[fake:badjson]]", json_mode=True))
    with pytest.raises(ValueError):
        json.loads(r.json()["candidates"][0]["content"]["parts"][0]["text"])


def test_openai_text_json_and_usage(f):
    r = openai(f)
    a = r.json()
    assert r.status_code == 200 and a["object"] == "chat.completion"
    assert a["model"] == "llama3.1:8b"
    assert a["choices"][0]["message"] == {"role": "assistant",
                                          "content": "echo: Write to Ana at Acme."}
    assert a["choices"][0]["finish_reason"] == "stop"
    assert a["usage"] == {"prompt_tokens": 11, "completion_tokens": 6, "total_tokens": 17}
    a = openai(f, openai_body(response_format={"type": "json_object"})).json()
    assert json.loads(a["choices"][0]["message"]["content"])["user"] == "Write to Ana at Acme."
    [rec1, rec2] = recorded(f, kind="openai")
    assert rec1["headers"]["authorization"] == "Bearer k-test"
    assert rec2["json"]["response_format"] == {"type": "json_object"}
    a = openai(f, openai_body("[[fake:refusal]]")).json()
    assert a["choices"][0]["message"]["content"] is None
    assert a["choices"][0]["message"]["refusal"]
    a = openai(f, openai_body("[[fake:safety]]")).json()
    assert a["choices"][0]["finish_reason"] == "content_filter"
    a = openai(f, openai_body("[[fake:empty]]")).json()
    assert a["choices"][0]["message"]["content"] is None
    a = openai(f, openai_body("[[fake:nousage text=hi]]")).json()
    assert "usage" not in a and a["choices"][0]["message"]["content"] == "hi"
    a = openai(f, openai_body("[[fake:length]]")).json()
    assert a["choices"][0]["finish_reason"] == "length"


def test_statuses_in_each_format(f):
    r = gemini(f, gemini_body("[[fake:429 retry_after=3]]"))
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert r.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    r = openai(f, openai_body("[[fake:429]]"))
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert r.json()["error"]["code"] == 429
    for status in (400, 403, 404, 500, 503):
        r = gemini(f, gemini_body(f"[[fake:{status}]]"))
        assert r.status_code == status
        assert r.json()["error"]["code"] == status
    r = openai(f, openai_body("[[fake:500]]"))
    assert r.status_code == 500 and "message" in r.json()["error"]
    r = gemini(f, gemini_body("[[fake:garbage]]"))
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    r = openai(f, openai_body("[[fake:null]]"))
    assert r.status_code == 200 and r.text == "null"


def test_times_counts_per_idempotency_key(f):
    body = openai_body("[[fake:503 times=2]]")
    key = {"Idempotency-Key": "run-1-step-1"}
    codes = [openai(f, body, key).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    # another key, or another prompt, starts its own count
    assert openai(f, body, {"Idempotency-Key": "run-2-step-1"}).status_code == 503
    assert openai(f, openai_body("Ana [[fake:503 times=2]]"), key).status_code == 503
    assert [r["mode"] for r in recorded(f)] == ["503", "503", "text", "503", "503"]


def test_header_and_control_script_and_defaults(f):
    assert openai(f, headers={"X-Fake": "500"}).status_code == 500
    c = requests.post(f + "/_control", json={"script": ["429", "cut", "text"],
                                             "text": "scripted"}, timeout=5).json()
    assert c["script"] == ["429", "cut", "text"]
    assert gemini(f).status_code == 429
    with pytest.raises(requests.ConnectionError):
        gemini(f)
    a = gemini(f).json()
    assert a["candidates"][0]["content"]["parts"][0]["text"] == "scripted"
    requests.post(f + "/_control", json={"mode": "json", "json": {"score": 42}}, timeout=5)
    a = openai(f).json()
    assert json.loads(a["choices"][0]["message"]["content"]) == {"score": 42}
    assert requests.get(f + "/_control", timeout=5).json()["mode"] == "json"


def test_delay_hang_cut_and_partial_body(f):
    t = time.monotonic()
    assert openai(f, openai_body("[[fake: delay=300]]")).status_code == 200
    assert time.monotonic() - t >= 0.3
    requests.post(f + "/_control", json={"delay_ms": 200}, timeout=5)
    t = time.monotonic()
    assert gemini(f).status_code == 200
    assert time.monotonic() - t >= 0.2
    requests.post(f + "/_control", json={"delay_ms": 0}, timeout=5)
    with pytest.raises(requests.Timeout):
        gemini(f, gemini_body("[[fake:hang]]"), timeout=0.5)
    with pytest.raises(requests.ConnectionError):
        openai(f, openai_body("[[fake:cut]]"))
    host, port = f.rsplit("/", 1)[-1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    c.request("POST", "/v1/chat/completions", json.dumps(openai_body("[[fake:cutbody]]")),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200
    with pytest.raises(http.client.IncompleteRead):
        r.read()
    c.close()
    # the server is still fine
    assert requests.get(f + "/_health", timeout=5).json() == {"ok": True}
    assert [r["mode"] for r in recorded(f)] == ["text", "text", "hang", "cut", "cutbody"]


def test_webhook_receiver(f):
    s = requests.Session()
    body = {"run_id": 1, "config": {"field": "status"}}
    h = {"Idempotency-Key": "run-1-step-2", "X-Aiengine-Timestamp": "1764500000"}
    r = s.post(f + "/actions/update-field", json=body, headers=h, timeout=5)
    assert r.status_code == 200 and r.json() == {"ok": True, "status": 200}
    r = s.post(f + "/hook?status=429&retry_after=7", json=body, timeout=5)
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    r = s.post(f + "/hook?status=500&times=1", json=body, headers=h, timeout=5)
    assert r.status_code == 500
    r = s.post(f + "/hook?status=500&times=1", json=body, headers=h, timeout=5)
    assert r.status_code == 200
    r = s.post(f + "/hook?status=302", json=body, timeout=5, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"]
    r = s.post(f + "/hook?body=plain+text", json=body, timeout=5)
    assert r.text == "plain text" and r.headers["Content-Type"] == "text/plain"
    r = s.post(f + "/hook?echo=1", json=body, timeout=5)
    assert r.json() == body
    r = s.post(f + "/hook?status=204&body=", json=body, timeout=5)
    assert r.status_code == 204 and r.content == b""
    requests.post(f + "/_control", json={"hook_script": [503, {"status": 201, "body": "x"}]},
                  timeout=5)
    assert s.post(f + "/a", json=body, timeout=5).status_code == 503
    r = s.post(f + "/a", json=body, timeout=5)
    assert r.status_code == 201 and r.text == "x"
    assert s.post(f + "/a", json=body, timeout=5).status_code == 200
    recs = recorded(f, kind="webhook")
    assert len(recs) == 11
    first = recs[0]
    assert first["path"] == "/actions/update-field" and first["method"] == "POST"
    assert first["json"] == body
    assert first["headers"]["idempotency-key"] == "run-1-step-2"
    assert first["headers"]["x-aiengine-timestamp"] == "1764500000"
    assert first["headers"]["content-type"] == "application/json"
    assert [r["path"] for r in recorded(f, path="/actions/")] == ["/actions/update-field"]


def test_expect_continue_and_chunked_bodies(f):
    host, port = f.rsplit("/", 1)[-1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    body = json.dumps({"big": "x" * 5000}).encode()
    c.putrequest("POST", "/hook")
    c.putheader("Content-Type", "application/json")
    c.putheader("Transfer-Encoding", "chunked")
    c.putheader("Expect", "100-continue")
    c.endheaders()
    for i in range(0, len(body), 1000):
        chunk = body[i:i + 1000]
        c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    c.send(b"0\r\n\r\n")
    r = c.getresponse()
    # http.client skips the interim 100 Continue and returns the final answer
    assert r.status == 200
    r.read()
    assert recorded(f)[0]["json"] == {"big": "x" * 5000}
    c.close()


def test_reset_count_and_many_concurrent_calls(f):
    requests.post(f + "/_control", json={"delay_ms": 500}, timeout=5)
    t = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(200) as ex:
        codes = list(ex.map(lambda i: openai(f, openai_body(f"call {i}")).status_code,
                            range(200)))
    assert codes == [200] * 200
    # 200 calls of 0.5 s each, all in flight together: far less than the 100 s they would
    # take one after another (the bound is loose: the machine may be busy)
    assert time.monotonic() - t < 20
    assert requests.get(f + "/_count", timeout=5).json() == {"count": 200, "total": 200}
    requests.delete(f + "/_requests", timeout=5)
    assert requests.get(f + "/_count", timeout=5).json() == {"count": 0, "total": 0}
    assert requests.get(f + "/_control", timeout=5).json()["delay_ms"] == 0


def test_bad_requests_do_not_break_the_server(f):
    r = requests.post(f + "/v1/chat/completions", data=b"not json", timeout=5)
    assert r.status_code == 400 and "error" in r.json()
    r = requests.get(f + "/v1beta/models/x:generateContent", timeout=5)
    assert r.status_code == 405
    host, port = f.rsplit("/", 1)[-1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"garbage\r\n\r\n")
        assert sock.recv(100) == b""
    assert requests.get(f + "/_health", timeout=5).status_code == 200


def test_process_helper(fake):
    fake.reset()
    assert fake.hostport.startswith("127.0.0.1:")
    assert fake.control(script=["500"])["script"] == ["500"]
    assert openai(fake.url).status_code == 500
    assert gemini(fake.url).status_code == 200
    assert [r["kind"] for r in fake.requests()] == ["openai", "gemini"]
    assert [r["mode"] for r in fake.requests(kind="gemini")] == ["text"]
    assert fake.count() == {"count": 2, "total": 2}


def test_roles(tmp_path):
    port_file = tmp_path / "port"
    p = subprocess.Popen([sys.executable, FAKE, "--role", "webhook", "--max-records", "0",
                          "--port-file", str(port_file)], stdout=subprocess.PIPE, text=True)
    try:
        url = p.stdout.readline().split()[-1]
        assert url.endswith(":" + port_file.read_text())
        # in webhook role a model path is just a path
        r = requests.post(url + "/v1/chat/completions", json=openai_body(), timeout=5)
        assert r.json() == {"ok": True, "status": 200}
        assert requests.get(url + "/_count", timeout=5).json() == {"count": 0, "total": 1}
    finally:
        p.terminate()
        p.wait(timeout=5)
    p = subprocess.Popen([sys.executable, FAKE, "--role", "model"], stdout=subprocess.PIPE,
                         text=True)
    try:
        url = p.stdout.readline().split()[-1]
        assert requests.post(url + "/hook", json={}, timeout=5).status_code == 404
        assert openai(url).status_code == 200
    finally:
        p.terminate()
        p.wait(timeout=5)
