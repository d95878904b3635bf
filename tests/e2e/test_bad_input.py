"""Bad input: bodies that are not JSON objects, not UTF-8, nested too deep or too large;
writes without a JSON content type; ids that are not ids; unknown routes and wrong methods.
Every answer is JSON with a "message", and nothing is ever a 5xx."""
import json

import pytest

from helpers import count, err, new_workflow, ok, raw_exchange, uniq


def raw(api, method, path, data, content_type="application/json", headers=None):
    h = {}
    if content_type is not None:
        h["Content-Type"] = content_type
    if headers:
        h.update(headers)
    return api.request(method, path, data=data, headers=h)


def nest(levels, kind="object"):
    """A JSON value `levels` deep: nest(1) is {} (or [])."""
    v = {} if kind == "object" else []
    for _ in range(levels - 1):
        v = {"a": v} if kind == "object" else [v]
    return v


def depth(v):
    if isinstance(v, dict):
        return 1 + max((depth(x) for x in v.values()), default=0)
    if isinstance(v, list):
        return 1 + max((depth(x) for x in v), default=0)
    return 0


# ---------------------------------------------------------------- not JSON / not an object

@pytest.mark.parametrize("data", [
    b'{"name": "x", "trigger_event": ',
    b'{"name": "x" "trigger_event": "y"}',
    b"{'name': 'x'}",
    b'{"name": "x", "trigger_event": "y",}',
    b'{"name": "x", "trigger_event": "y"} trailing',
    b'{"name": "x", "trigger_event": "y"}{}',
    b"{name: 1}",
    b'{"name": NaN}',
    b'{"name": "\x01"}',            # unescaped control character
    b'{"name": Infinity}',
    b'{"name": "x", "trigger_event": "y", "a": 01}',
    b'{"name": "x", "trigger_event": "y", "a": .5}',
    b'{"name": "x", "trigger_event": "y", "a": +1}',
    b'{"name": "x", "trigger_event": "y", "a": tru}',
    b'{"name": "\\x41", "trigger_event": "y"}',   # invalid escape
    b'/* comment */ {"name": "x", "trigger_event": "y"}',
    b'{"name": "x", "trigger_event": "y"} // comment',
    b"",
    b"   ",
])
def test_malformed_json_is_400(api, stack, data):
    before = count(stack, "workflows")
    err(raw(api, "POST", "/api/workflows", data), 400)
    assert count(stack, "workflows") == before


@pytest.mark.parametrize("data", [b"[]", b'[{"name": "x", "trigger_event": "y"}]', b'"a string"',
                                  b"42", b"3.5", b"null", b"true", b"false"])
def test_body_not_an_object_is_400(api, data):
    err(raw(api, "POST", "/api/workflows", data), 400)


def test_not_an_object_on_update_is_400(api):
    wf = new_workflow(api)
    for method in ("PUT", "PATCH"):
        err(raw(api, method, f"/api/workflows/{wf['id']}", b'["name"]'), 400)
        err(raw(api, method, f"/api/workflows/{wf['id']}", b'{"name": '), 400)
    assert ok(api.get(f"/api/workflows/{wf['id']}"))["data"] == wf


@pytest.mark.parametrize("bad", [
    b"\xff\xfe",                   # never valid in UTF-8
    b"\xc3",                       # truncated sequence
    b"\xc0\xaf",                   # overlong encoding of '/'
    b"\xe0\x80\xaf",               # overlong, 3 bytes
    b"\xed\xa0\x80",               # a UTF-16 surrogate encoded as UTF-8
    b"\xf4\x90\x80\x80",           # beyond U+10FFFF
    b"\x80abc",                    # lone continuation byte
])
def test_invalid_utf8_is_400(api, stack, bad):
    trigger = uniq()
    data = b'{"name": "x' + bad + b'", "trigger_event": "' + trigger.encode() + b'"}'
    err(raw(api, "POST", "/api/workflows", data), 400)
    assert count(stack, "workflows", f"trigger_event='{trigger}'") == 0


def test_invalid_utf8_in_a_key_or_ignored_field_is_400(api):
    err(raw(api, "POST", "/api/workflows", b'{"na\xffme": "x", "trigger_event": "y"}'), 400)
    err(raw(api, "POST", "/api/workflows", b'{"name": "x", "trigger_event": "y", "zzz": "\xfe"}'), 400)


def test_unpaired_surrogate_escape_is_400(api):
    err(raw(api, "POST", "/api/workflows", b'{"name": "x\\ud800", "trigger_event": "y"}'), 400)
    err(raw(api, "POST", "/api/workflows", b'{"name": "x\\udc00y", "trigger_event": "y"}'), 400)


def test_valid_multibyte_utf8_and_paired_escapes_are_accepted(api):
    data = '{"name": "\u00e9\u4e2d\U0001F600 \\ud83d\\ude00", "trigger_event": "y"}'.encode("utf-8")
    body = ok(raw(api, "POST", "/api/workflows", data), 201)
    assert body["data"]["name"] == "\u00e9\u4e2d\U0001F600 \U0001F600"


# ---------------------------------------------------------------- depth

def test_nesting_32_levels_is_accepted_and_stored_verbatim(api):
    for kind in ("object", "array"):
        value = nest(31, kind)                      # the body object is level 1
        body = {"name": uniq("deep"), "system_prompt_text": "x", "generation_config": value}
        assert depth(body) == 32
        data = ok(api.post("/api/prompts", body), 201)["data"]
        assert data["generation_config"] == value
        assert ok(api.get(f"/api/prompts/{data['id']}"))["data"]["generation_config"] == value


def test_nesting_33_levels_is_400_and_writes_nothing(api, stack):
    for kind in ("object", "array"):
        name = uniq("deep")
        body = {"name": name, "system_prompt_text": "x", "generation_config": nest(32, kind)}
        assert depth(body) == 33
        err(api.post("/api/prompts", body), 400)
        assert count(stack, "prompts", f"name='{name}'") == 0


def test_nesting_33_levels_in_an_ignored_field_is_400(api, stack):
    trigger = uniq()
    body = {"name": "x", "trigger_event": trigger, "not_a_field": nest(32)}
    assert depth(body) == 33
    err(api.post("/api/workflows", body), 400)
    assert count(stack, "workflows", f"trigger_event='{trigger}'") == 0


def test_nesting_33_levels_on_update_is_400(api):
    name = uniq("deep")
    p = ok(api.post("/api/prompts", {"name": name, "system_prompt_text": "x"}), 201)["data"]
    err(api.patch(f"/api/prompts/{p['id']}", {"generation_config": nest(32)}), 400)
    ok(api.patch(f"/api/prompts/{p['id']}", {"generation_config": nest(31)}))


def test_very_deep_nesting_is_400_not_a_crash(api):
    n = 200000
    data = b'{"name": "x", "trigger_event": "y", "c": ' + b"[" * n + b"]" * n + b"}"
    err(raw(api, "POST", "/api/workflows", data), 400)
    data = b'{"a": ' * 100000 + b"1" + b"}" * 100000
    err(raw(api, "POST", "/api/workflows", data), 400)
    assert api.get("/api/health").status_code == 200


# ---------------------------------------------------------------- size

LIMIT = 1024 * 1024


def padded_body(size, trigger):
    head = json.dumps({"name": "big", "trigger_event": trigger}).encode()
    assert size >= len(head)
    return head[:-1] + b" " * (size - len(head)) + b"}"


def test_body_at_the_limit_is_accepted(api, stack):
    trigger = uniq()
    data = padded_body(LIMIT, trigger)
    assert len(data) == LIMIT
    body = ok(raw(api, "POST", "/api/workflows", data), 201)
    assert body["data"]["trigger_event"] == trigger


def test_body_over_the_limit_is_413_json(api, stack):
    trigger = uniq()
    data = padded_body(LIMIT + 1, trigger)
    r = raw(api, "POST", "/api/workflows", data)
    err(r, 413)
    assert count(stack, "workflows", f"trigger_event='{trigger}'") == 0


def test_body_far_over_the_limit_is_413_json(api):
    r = raw(api, "POST", "/api/workflows", b'{"name": "' + b"x" * (3 * LIMIT) + b'"}')
    err(r, 413)


def test_chunked_body_over_the_limit_is_413_json(api, stack):
    trigger = uniq()
    data = padded_body(LIMIT + 4096, trigger)

    def chunks():
        for i in range(0, len(data), 65536):
            yield data[i:i + 65536]

    r = raw(api, "POST", "/api/workflows", chunks())
    err(r, 413)
    assert count(stack, "workflows", f"trigger_event='{trigger}'") == 0


def test_chunked_body_under_the_limit_is_accepted(api):
    trigger = uniq()
    data = json.dumps({"name": "chunked", "trigger_event": trigger}).encode()
    r = raw(api, "POST", "/api/workflows", iter([data[:10], data[10:]]))
    assert ok(r, 201)["data"]["trigger_event"] == trigger


# ---------------------------------------------------------------- content type

@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml",
                                          "text/json-ish", "application/jsonp"])
def test_write_without_json_content_type_is_415(api, stack, content_type):
    wf = new_workflow(api, name="bad-input")
    trigger = uniq()
    payload = json.dumps({"name": "ct", "trigger_event": trigger}).encode()
    err(raw(api, "POST", "/api/workflows", payload, content_type), 415)
    assert count(stack, "workflows", f"trigger_event='{trigger}'") == 0
    for method in ("PUT", "PATCH"):
        err(raw(api, method, f"/api/workflows/{wf['id']}", b'{"name": "changed"}', content_type), 415)
    assert ok(api.get(f"/api/workflows/{wf['id']}"))["data"]["name"] == "bad-input"


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json;charset=UTF-8",
                                          "Application/JSON", "application/json ; charset=utf-8"])
def test_json_content_type_variants_are_accepted(api, content_type):
    trigger = uniq()
    payload = json.dumps({"name": "ct", "trigger_event": trigger}).encode()
    body = ok(raw(api, "POST", "/api/workflows", payload, content_type), 201)
    assert body["data"]["trigger_event"] == trigger
    body = ok(raw(api, "PATCH", f"/api/workflows/{body['data']['id']}", b'{"name": "ct2"}', content_type))
    assert body["data"]["name"] == "ct2"


def test_delete_and_get_need_no_content_type(api):
    wf = new_workflow(api)
    assert ok(raw(api, "GET", f"/api/workflows/{wf['id']}", None, None))["data"]["id"] == wf["id"]
    r = raw(api, "DELETE", f"/api/workflows/{wf['id']}", None, None)
    assert r.status_code == 204 and r.content == b""


def test_415_comes_before_404_of_the_id(api):
    err(raw(api, "PATCH", "/api/workflows/999999999", b'{"name": "x"}', "text/plain"), 415)
    err(raw(api, "PATCH", "/api/workflows/999999999", b'{"name": "x"}', "application/json"), 404)


# ---------------------------------------------------------------- ids and routes

@pytest.mark.parametrize("id_", ["abc", "99999999999999999999999", "18446744073709551616", "-1", "0",
                                 "1.0", "1e3", "0x10", "%20", "1abc", "999999999"])
def test_non_ids_and_missing_ids_are_404(api, id_):
    for resource in ("workflows", "prompts", "workflow-steps", "execution-logs"):
        err(api.get(f"/api/{resource}/{id_}"), 404)
    err(api.delete(f"/api/workflows/{id_}"), 404)
    err(api.patch(f"/api/workflows/{id_}", {"name": "x"}), 404)
    err(api.put(f"/api/workflows/{id_}", {"name": "x"}), 404)


def test_max_bigint_id_is_404(api):
    err(api.get("/api/workflows/18446744073709551615"), 404)
    err(api.get("/api/workflows/9223372036854775807"), 404)
    err(api.get("/api/workflows/9223372036854775808"), 404)


@pytest.mark.parametrize("path", ["/api/nothing", "/api/workflow", "/api/workflows/1/unknown",
                                  "/api/workflows/1/steps/2", "/api/prompts/1/logs", "/api",
                                  "/api/", "/nothing", "/", "/api/health/x"])
def test_unknown_route_is_404_json(api, path):
    err(api.get(path), 404)


@pytest.mark.parametrize("method,path,allow", [
    ("DELETE", "/api/workflows", {"GET", "HEAD", "POST"}),
    ("PUT", "/api/prompts", {"GET", "HEAD", "POST"}),
    ("PATCH", "/api/execution-logs", {"GET", "HEAD", "POST"}),
    ("POST", "/api/workflows/1", {"GET", "HEAD", "PUT", "PATCH", "DELETE"}),
    ("POST", "/api/workflows/1/steps", {"GET", "HEAD"}),
    ("DELETE", "/api/workflows/1/logs", {"GET", "HEAD"}),
    ("PUT", "/api/prompts/1/steps", {"GET", "HEAD"}),
    ("POST", "/api/execution-logs/1/children", {"GET", "HEAD"}),
    ("DELETE", "/api/health", {"GET", "HEAD"}),
])
def test_wrong_method_is_405_with_allow(api, method, path, allow):
    r = api.request(method, path, json_body={})
    err(r, 405)
    got = {m.strip() for m in r.headers["Allow"].split(",")}
    assert got == allow, r.headers["Allow"]


def test_odd_methods_are_4xx_json(api):
    for method in ("OPTIONS", "TRACE", "PROPFIND", "FOO"):
        r = api.request(method, "/api/workflows")
        assert 400 <= r.status_code < 500, (method, r.status_code, r.text)
        assert r.headers.get("Content-Type", "").startswith("application/json"), (method, r.headers)
        assert r.json().get("message"), (method, r.text)


def test_head_is_served_where_get_is(api):
    wf = new_workflow(api)
    r = api.request("HEAD", f"/api/workflows/{wf['id']}")
    assert r.status_code == 200 and r.content == b""
    assert api.request("HEAD", "/api/workflows/999999999").status_code == 404


# ---------------------------------------------------------------- never a 5xx

def test_assorted_garbage_never_5xx_and_always_json(api, stack):
    wf = new_workflow(api)
    cases = [
        ("GET", "/api/workflows?page[]=1", None, None),
        ("GET", "/api/workflows?per_page[]=1", None, None),
        ("GET", "/api/workflows?filter=abc", None, None),
        ("GET", "/api/workflows?filter[trigger_event][]=x", None, None),
        ("GET", "/api/workflows?filter[]=x", None, None),
        ("GET", "/api/workflows?sort=", None, None),
        ("GET", "/api/workflows?sort=,", None, None),
        ("GET", "/api/workflows?sort=-", None, None),
        ("GET", "/api/workflows?sort=--name", None, None),
        ("GET", "/api/workflows?include=", None, None),
        ("GET", "/api/workflows?include=,", None, None),
        ("GET", "/api/workflows?page=99999999999999999999", None, None),
        ("GET", "/api/workflows?page=2147483648&per_page=100", None, None),
        ("GET", "/api/workflows?%ff=%fe", None, None),
        ("GET", "/api/workflows?filter[trigger_event]=%ff%fe", None, None),
        ("GET", "/api/workflows?filter[is_active]=%00", None, None),
        ("GET", "/api/execution-logs?cursor=%00", None, None),
        ("GET", "/api/execution-logs?cursor=" + "A" * 4000, None, None),
        ("GET", "/api/execution-logs?filter[workflow_id]=1&filter[workflow_id]=2", None, None),
        ("GET", "/api/workflows?" + "&".join(f"x{i}=1" for i in range(500)), None, None),
        ("GET", "/api/workflows/%2e%2e/%2e%2e/etc/passwd", None, None),
        ("POST", "/api/workflows", b'{"name": 1e999, "trigger_event": "x"}', "application/json"),
        ("POST", "/api/workflows", b'{"name": "x", "trigger_event": "y", "is_active": 1e999}',
         "application/json"),
        ("POST", "/api/workflows", b'{"name": "\\u0000", "trigger_event": "y"}', "application/json"),
        ("POST", "/api/workflows", b'\xef\xbb\xbf{"name": "x", "trigger_event": "y"}', "application/json"),
        ("POST", "/api/workflows", b'{"name": {"a": 1}, "trigger_event": ["x"]}', "application/json"),
        ("POST", "/api/prompts", b'{"name": "x", "system_prompt_text": "y", "version": 99999999999999999999}',
         "application/json"),
        ("POST", "/api/execution-logs", b'{"workflow_id": -1, "step_id": 1.5, "status": null}',
         "application/json"),
        ("POST", "/api/execution-logs", b'{"workflow_id": "1 OR 1=1", "step_id": "1", "status": "x"}',
         "application/json"),
        ("PATCH", f"/api/workflows/{wf['id']}", b'{"id": "abc", "created_at": []}', "application/json"),
        ("PUT", f"/api/workflows/{wf['id']}", b"{}", "application/json"),
    ]
    for method, path, data, ctype in cases:
        h = {"Content-Type": ctype} if ctype else {}
        r = api.request(method, path, data=data, headers=h)
        assert r.status_code < 500, (method, path, data, r.status_code, r.text[:300])
        assert r.headers.get("Content-Type", "").startswith("application/json"), (path, r.headers)
        if r.status_code >= 400:
            assert r.json().get("message"), (path, r.text[:300])
    assert ok(api.get(f"/api/workflows/{wf['id']}"))["data"]["id"] == wf["id"]


def send_raw(stack, payload):
    head, _, body = raw_exchange(stack, payload, timeout=10).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body


def assert_json_error(status, head, body, lo=400, hi=499):
    assert lo <= status <= hi, head
    assert "content-type: application/json" in head.lower(), head
    assert json.loads(body).get("message"), body


def test_oversized_header_answers_json(api, stack):
    status, head, body = send_raw(stack, (
        f"GET /api/workflows HTTP/1.1\r\nHost: a\r\nX-Big: {'x' * 40000}\r\n"
        f"Authorization: Bearer {api.token}\r\nConnection: close\r\n\r\n").encode())
    assert_json_error(status, head, body)


def test_overlong_uri_answers_414_json(stack):
    status, head, body = send_raw(stack, b"GET /api/" + b"a" * 70000 +
                                  b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert_json_error(status, head, body, 414, 414)


def test_nul_in_path_answers_4xx_json(api, stack):
    status, head, body = send_raw(stack, (
        f"GET /api/workflows/1%00 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {api.token}\r\n"
        "Connection: close\r\n\r\n").encode())
    assert_json_error(status, head, body)


def test_bad_content_length_answers_400_json(stack):
    status, head, body = send_raw(stack, b"POST /api/workflows HTTP/1.1\r\nHost: a\r\n"
                                  b"Content-Length: abc\r\nConnection: close\r\n\r\n")
    assert_json_error(status, head, body, 400, 400)


def test_garbage_request_line_answers_400_json(stack):
    status, head, body = send_raw(stack, b"GARBAGE\r\n\r\n")
    assert_json_error(status, head, body, 400, 400)
