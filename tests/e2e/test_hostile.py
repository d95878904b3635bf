"""Hostile input against the session stack: SQL injection strings in every string field and
every query parameter, NUL bytes, 64 KiB strings, invalid UTF-8, lone surrogate escapes,
deep nesting, out-of-range numbers, duplicate keys, header injection, junk paths and random
binary bodies.

Every response, whatever the input, must be: status < 500; Content-Type application/json
(except 204); a body that is valid UTF-8 (RFC 8259) and parses as JSON; on errors an object
with a non-empty "message". Accepted data reads back byte-identical (through the API and in
the database), and nothing hostile touches other data.
"""
import json
import random
import re
import zlib
from urllib.parse import quote

import pytest

from helpers import raw_exchange, uniq

# ---------------------------------------------------------------- payloads and resources

INJECTIONS = [
    "' OR 1=1 --",
    "1; DROP TABLE workflows",
    "\\'",
    "`",
    "%27",
    "'; DELETE FROM prompts; --",
    "\" OR \"\"=\"",
    "') OR ('1'='1",
    "' UNION SELECT token FROM personal_access_tokens --",
    "\\",
    "%",
    "_",
    "/* */ ; -- #",
]
INJ_IDS = [f"inj{i}" for i in range(len(INJECTIONS))]

TABLES = ["workflows", "prompts", "workflow_steps", "execution_logs", "users",
          "personal_access_tokens", "migrations"]
TABLE = {"workflows": "workflows", "prompts": "prompts", "workflow-steps": "workflow_steps",
         "execution-logs": "execution_logs"}
RESOURCES = list(TABLE)

# string columns a client can write (plain `string`/`text` rules, no enum or format)
STRING_FIELDS = {
    "workflows": ["name", "description", "trigger_event"],
    "prompts": ["name", "category", "system_prompt_text", "model_name"],
    "workflow-steps": ["name", "step_type"],
    "execution-logs": ["triggering_object_id", "status", "error_message"],
}
JSON_FIELDS = {
    "workflows": [],
    "prompts": ["generation_config", "template_variables"],
    "workflow-steps": ["step_config", "condition_rules"],
    "execution-logs": ["input_context", "raw_output", "parsed_output"],
}
# fields whose rules give a string no chance: a hostile string there is a 422 on that field
TYPED_FIELDS = {
    "workflows": ["is_active"],
    "prompts": ["version", "status", "generation_config"],
    "workflow-steps": ["workflow_id", "step_order", "prompt_id", "delay_minutes", "step_config"],
    "execution-logs": ["workflow_id", "step_id", "parent_execution_log_id", "duration_ms",
                       "token_usage", "cost", "executed_at", "input_context"],
}
STRING_FILTERS = {
    "workflows": ["trigger_event"],
    "prompts": ["name", "category", "model_name"],
    "workflow-steps": ["step_type"],
    "execution-logs": ["status", "triggering_object_id"],
}
TYPED_FILTERS = {
    "workflows": ["is_active"],
    "prompts": [],
    "workflow-steps": ["workflow_id", "prompt_id"],
    "execution-logs": ["workflow_id", "step_id", "parent_execution_log_id"],
}
KEY = {"workflows": "workflow", "prompts": "prompt", "workflow-steps": "step", "execution-logs": "log"}


def big_version():
    return random.randint(10_000_000, 2_000_000_000)


# ---------------------------------------------------------------- response checks

def check(r):
    """The invariants of every response; returns the parsed body (None for 204)."""
    where = f"{r.request.method} {r.request.url[:200]}"
    assert r.status_code < 500, (where, r.status_code, r.content[:400])
    if r.status_code == 204:
        assert r.content == b"", (where, r.content[:200])
        return None
    ct = r.headers.get("Content-Type", "")
    assert ct.startswith("application/json"), (where, r.status_code, ct, r.content[:200])
    try:
        text = r.content.decode("utf-8")  # strict: JSON on the wire must be UTF-8
    except UnicodeDecodeError as e:
        raise AssertionError(f"{where}: {r.status_code} body is not valid UTF-8 ({e}): {r.content[:300]!r}")
    body = json.loads(text)
    if r.status_code >= 400:
        assert isinstance(body, dict), (where, body)
        assert isinstance(body.get("message"), str) and body["message"], (where, body)
    return body


def expect(r, status):
    body = check(r)
    assert r.status_code == status, (r.request.method, r.request.url[:200], r.status_code, r.text[:400])
    return body


def expect_4xx(r):
    body = check(r)
    assert 400 <= r.status_code < 500, (r.request.method, r.request.url[:200], r.status_code, r.text[:300])
    return body


def field_error(r, field, status=422):
    body = expect(r, status)
    assert field in body.get("errors", {}), (field, body)
    return body


def post_raw(api, path, data, method="POST", content_type="application/json"):
    """Send bytes (or text) as the body, exactly as given."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return api.request(method, path, data=data, headers={"Content-Type": content_type})


def with_raw_field(body, field, raw):
    """JSON text of `body` plus `"field": <raw JSON text>` as its last member."""
    text = json.dumps(body)
    sep = "," if body else ""
    return text[:-1] + sep + json.dumps(field) + ":" + raw + "}"


def counts(stack):
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM `{t}`)" for t in TABLES)
    return dict(zip(TABLES, (int(x) for x in stack.sql(sql)[0])))


def table_names(stack):
    return sorted(row[0] for row in stack.sql("SHOW TABLES"))


def db_hex(stack, table, column, rid):
    rows = stack.sql(f"SELECT HEX(`{column}`) FROM `{table}` WHERE id = {int(rid)}")
    assert rows, (table, column, rid)
    return rows[0][0]


# ---------------------------------------------------------------- raw HTTP (exact bytes on the wire)

class RawResponse:
    def __init__(self, raw):
        self.raw = raw
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.status_line = lines[0].decode("latin-1")
        self.status = int(self.status_line.split()[1])
        self.header_lines = [ln.decode("latin-1") for ln in lines[1:]]
        self.headers = {}
        for ln in self.header_lines:
            k, _, v = ln.partition(":")
            self.headers.setdefault(k.strip().lower(), []).append(v.strip())
        if "chunked" in ",".join(self.headers.get("transfer-encoding", [])).lower():
            out, rest = b"", body
            while rest:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0] or b"0", 16)
                if size == 0:
                    break
                out += rest[:size]
                rest = rest[size + 2:]
            body = out
        self.body = body

    def header(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None


def raw_request(stack, data, timeout=15):
    raw = raw_exchange(stack, data, timeout)
    assert raw.startswith(b"HTTP/1."), raw[:200]
    return RawResponse(raw)


def raw_get(stack, target, token=None, extra=b""):
    req = b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
    if token:
        req += b"Authorization: Bearer " + token.encode() + b"\r\n"
    return raw_request(stack, req + extra + b"Connection: close\r\n\r\n")


def check_raw(resp):
    where = resp.status_line
    assert resp.status < 500, (where, resp.raw[:400])
    if resp.status == 204:
        return None
    ct = resp.header("Content-Type") or ""
    assert ct.startswith("application/json"), (where, ct, resp.raw[:400])
    body = json.loads(resp.body.decode("utf-8"))
    if resp.status >= 400:
        assert isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"], body
    return body


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def parents(api):
    """One of each resource to hang children on (workflow → step with prompt → log → child log)."""
    wf = expect(api.post("/api/workflows", {"name": "hostile parent", "trigger_event": uniq("hostile")}), 201)["data"]
    pr = expect(api.post("/api/prompts", {"name": uniq("hostile-prompt"), "system_prompt_text": "x"}), 201)["data"]
    st = expect(api.post("/api/workflow-steps", {"workflow_id": wf["id"], "step_order": 1, "name": "s",
                                                 "prompt_id": pr["id"]}), 201)["data"]
    lg = expect(api.post("/api/execution-logs", {"workflow_id": wf["id"], "step_id": st["id"],
                                                 "status": "SUCCESS"}), 201)["data"]
    child = expect(api.post("/api/execution-logs", {"workflow_id": wf["id"], "step_id": st["id"],
                                                    "status": "SUCCESS", "parent_execution_log_id": lg["id"]}), 201)["data"]
    return {"workflow": wf, "prompt": pr, "step": st, "log": lg, "child": child}


@pytest.fixture(scope="module")
def sentinel(api, stack, parents):
    """The full rows of the parents, to prove nothing hostile changed them."""
    def rows():
        out = {}
        for res, key in (("workflows", "workflow"), ("prompts", "prompt"), ("workflow-steps", "step"),
                         ("execution-logs", "log"), ("execution-logs", "child")):
            out[key] = expect(api.get(f"/api/{res}/{parents[key]['id']}"), 200)["data"]
        out["tables"] = table_names(stack)
        out["users"] = stack.sql("SELECT id, email, password FROM users ORDER BY id")
        out["tokens"] = stack.sql("SELECT id, token, abilities FROM personal_access_tokens ORDER BY id")
        return out
    return rows


def base_body(resource, parents):
    if resource == "workflows":
        return {"name": "hostile", "trigger_event": "hostile.event"}
    if resource == "prompts":
        return {"name": uniq("hostile-prompt"), "system_prompt_text": "x", "version": big_version()}
    if resource == "workflow-steps":
        return {"workflow_id": parents["workflow"]["id"], "step_order": 1, "name": "s"}
    return {"workflow_id": parents["workflow"]["id"], "step_id": parents["step"]["id"], "status": "SUCCESS"}


def assert_untouched(stack, sentinel_rows, before_rows, before_counts, created=None):
    after = counts(stack)
    expected = dict(before_counts)
    for t, n in (created or {}).items():
        expected[t] += n
    assert after == expected, (after, expected)
    assert sentinel_rows() == before_rows


# ---------------------------------------------------------------- SQL injection: string fields

@pytest.mark.parametrize("payload", INJECTIONS, ids=INJ_IDS)
def test_injection_strings_in_every_string_field_are_stored_verbatim(api, stack, parents, sentinel, payload):
    before_rows, before = sentinel(), counts(stack)
    created = {}
    for res in RESOURCES:
        body = base_body(res, parents)
        for f in STRING_FIELDS[res]:
            body[f] = payload
        for f in JSON_FIELDS[res]:
            body[f] = {payload: payload, "list": [payload, {payload: [payload]}]}
        r = api.post(f"/api/{res}", body)
        data = expect(r, 201)["data"]
        assert re.fullmatch(rf"https?://[^\s/]+/api/{res}/{data['id']}", r.headers["Location"]), r.headers
        created[res] = (data["id"], body)
        for f in STRING_FIELDS[res] + JSON_FIELDS[res]:
            assert data[f] == body[f], (res, f, data[f])
        shown = expect(api.get(f"/api/{res}/{data['id']}"), 200)["data"]
        assert shown == data
        # byte-identical in the database, not just through the API
        for f in STRING_FIELDS[res]:
            assert db_hex(stack, TABLE[res], f, data["id"]) == payload.encode().hex().upper(), (res, f)

    # the filters bind the value: exactly the rows whose column equals the payload
    for res in RESOURCES:
        rid, body = created[res]
        for f in STRING_FILTERS[res]:
            listing = expect(api.get(f"/api/{res}", params={f"filter[{f}]": payload, "per_page": 100}), 200)
            assert rid in [row["id"] for row in listing["data"]], (res, f)
            assert all(row[f] == payload for row in listing["data"]), (res, f)

    # updates: every string field again, read back identical
    new = payload + "|" + payload[::-1]
    for res in RESOURCES:
        rid, _ = created[res]
        patch = {f: new for f in STRING_FIELDS[res]}
        for f in JSON_FIELDS[res]:
            patch[f] = [new, {new: new}]
        for method in ("PATCH", "PUT"):
            data = expect(api.request(method, f"/api/{res}/{rid}", json_body=patch), 200)["data"]
            for f, v in patch.items():
                assert data[f] == v, (res, method, f)
        for f in STRING_FIELDS[res]:
            assert db_hex(stack, TABLE[res], f, rid) == new.encode().hex().upper(), (res, f)

    assert_untouched(stack, sentinel, before_rows, before,
                     {TABLE[res]: 1 for res in RESOURCES})
    # and they delete cleanly (children first)
    for res in reversed(RESOURCES):
        expect(api.delete(f"/api/{res}/{created[res][0]}"), 204)
    assert_untouched(stack, sentinel, before_rows, before)


@pytest.mark.parametrize("payload", INJECTIONS, ids=INJ_IDS)
def test_injection_strings_in_typed_fields_are_422(api, stack, parents, sentinel, payload):
    before_rows, before = sentinel(), counts(stack)
    for res in RESOURCES:
        for f in TYPED_FIELDS[res]:
            body = base_body(res, parents)
            body[f] = payload
            field_error(api.post(f"/api/{res}", body), f)
            field_error(api.patch(f"/api/{res}/{parents[KEY[res]]['id']}", {f: payload}), f)
    assert_untouched(stack, sentinel, before_rows, before)


# ---------------------------------------------------------------- SQL injection: query parameters and paths

def list_paths(parents):
    wf, pr, lg = parents["workflow"]["id"], parents["prompt"]["id"], parents["log"]["id"]
    return [
        ("/api/workflows", "workflows", False),
        ("/api/prompts", "prompts", False),
        ("/api/workflow-steps", "workflow-steps", False),
        ("/api/execution-logs", "execution-logs", True),
        (f"/api/workflows/{wf}/steps", "workflow-steps", False),
        (f"/api/workflows/{wf}/logs", "execution-logs", True),
        (f"/api/prompts/{pr}/steps", "workflow-steps", False),
        (f"/api/execution-logs/{lg}/children", "execution-logs", True),
    ]


@pytest.mark.parametrize("payload", INJECTIONS, ids=INJ_IDS)
def test_injection_strings_in_every_query_parameter(api, stack, parents, sentinel, payload):
    before_rows, before = sentinel(), counts(stack)
    for path, res, cursor in list_paths(parents):
        expect(api.get(path, params={"sort": payload}), 400)
        expect(api.get(path, params={"sort": "id," + payload}), 400)
        expect(api.get(path, params={"include": payload}), 400)
        expect(api.get(path, params={f"filter[{payload}]": "1"}), 400)
        expect(api.get(path, params={"per_page": payload}), 422)
        if cursor:
            expect(api.get(path, params={"cursor": payload}), 400)
            check(api.get(path, params={"page": payload}))  # not a parameter of cursor lists
        else:
            field_error(api.get(path, params={"page": payload}), "page")
            check(api.get(path, params={"cursor": payload}))
        for f in STRING_FILTERS[res]:
            listing = expect(api.get(path, params={f"filter[{f}]": payload}), 200)
            assert all(row[f] == payload for row in listing["data"]), (path, f)
        for f in TYPED_FILTERS[res]:
            field_error(api.get(path, params={f"filter[{f}]": payload}), f"filter[{f}]")
        # the same, written into the URL without percent-encoding the payload's own % and quotes
        rawq = payload.replace(" ", "%20").replace("#", "%23").replace("&", "%26")
        for key in ("sort", "include", "per_page", "page", "cursor", f"filter[{STRING_FILTERS[res][0]}]"):
            check(api.get(f"{path}?{key}={rawq}"))
    # the payload as a record id
    for res in RESOURCES:
        for method in ("GET", "PATCH", "PUT", "DELETE"):
            body = {"name": "x"} if method in ("PATCH", "PUT") else None
            r = api.request(method, f"/api/{res}/{quote(payload, safe='')}", json_body=body)
            expect_4xx(r)
            assert r.status_code in (400, 404), (res, method, r.status_code, r.text)
    assert_untouched(stack, sentinel, before_rows, before)


@pytest.mark.parametrize("auth", [
    "Bearer ' OR 1=1 --", "Bearer 1' OR '1'='1|x", "Bearer 1|' OR '1'='1", "Bearer 1 OR 1=1|x",
    "Bearer 99999999999999999999999|x", "Bearer -1|x", "Bearer 1|" + "a" * 4000, "Bearer %27|%27",
    "Bearer \\'|\\'", "' OR 1=1 --", "Bearer 1;DROP TABLE personal_access_tokens|x",
])
def test_injection_in_authorization_header_is_401(api, stack, auth):
    before = counts(stack)
    r = api.get("/api/workflows", token=None, headers={"Authorization": auth})
    body = expect(r, 401)
    assert body == {"message": "Unauthenticated."}
    assert counts(stack) == before


# ---------------------------------------------------------------- NUL bytes

def test_nul_bytes_in_strings_are_stored_verbatim(api, stack, parents):
    # SPEC "verbatim storage": JSON allows \u0000 in a string, MariaDB stores it in
    # varchar/text, so an accepted string must come back with its NULs where they were.
    # (a string of NULs alone is "empty" for `required`, as PHP's trim() strips \0 in
    # Laravel; the nullable description takes it)
    data = expect(api.post("/api/workflows", {"name": "n", "trigger_event": "t", "description": "\u0000"}), 201)["data"]
    assert data["description"] == "\u0000"
    assert db_hex(stack, "workflows", "description", data["id"]) == "00"
    values = ["a\u0000b", "\u0000x", "\u0000\u0000' OR 1=1 --\u0000", "end\u0000"]
    for v in values:
        r = api.post("/api/workflows", {"name": v, "trigger_event": v, "description": v})
        data = expect(r, 201)["data"]
        for f in ("name", "trigger_event", "description"):
            assert data[f] == v, (f, data[f])
            assert db_hex(stack, "workflows", f, data["id"]) == v.encode().hex().upper()
        assert expect(api.get(f"/api/workflows/{data['id']}"), 200)["data"] == data
        data = expect(api.patch(f"/api/workflows/{data['id']}", {"description": v + v}), 200)["data"]
        assert data["description"] == v + v
        expect(api.delete(f"/api/workflows/{data['id']}"), 204)
    # inside JSON columns: values with NULs
    gc = {"k": "v\u0000w", "list": ["\u0000", "a\u0000"]}
    data = expect(api.post("/api/prompts", {"name": uniq("nul"), "system_prompt_text": "a\u0000b",
                                            "generation_config": gc}), 201)["data"]
    assert data["generation_config"] == gc
    assert data["system_prompt_text"] == "a\u0000b"
    assert expect(api.get(f"/api/prompts/{data['id']}"), 200)["data"] == data


def test_nul_bytes_in_json_object_keys_are_kept_or_refused(api, stack):
    # a key "a\u0000b" inside a JSON column is a different key from "a": storing it as "a"
    # would silently change the client's data (and merge distinct keys)
    before = counts(stack)
    gc = {"a\u0000b": 1, "a\u0000c": 2, "a": 3}
    r = api.post("/api/prompts", {"name": uniq("nulkey"), "system_prompt_text": "x", "generation_config": gc})
    check(r)
    if r.status_code == 201:
        assert r.json()["data"]["generation_config"] == gc
        assert expect(api.get(f"/api/prompts/{r.json()['data']['id']}"), 200)["data"]["generation_config"] == gc
    else:
        expect(r, 400)
        assert counts(stack) == before


def test_nul_in_a_top_level_key_is_not_a_fillable_field(api, stack):
    # "name\u0000x" is an unknown field (ignored, or the body refused) — never "name"
    before = counts(stack)
    r = post_raw(api, "/api/workflows", '{"name":"good","trigger_event":"t","name\\u0000x":"evil"}')
    check(r)
    if r.status_code == 201:
        assert r.json()["data"]["name"] == "good", r.json()
    else:
        expect(r, 400)
        assert counts(stack) == before
    r = post_raw(api, "/api/workflows", '{"name":"good","trigger_event":"t","is_active\\u0000":"no"}')
    check(r)
    if r.status_code == 201:
        assert r.json()["data"]["is_active"] is True, r.json()
    else:
        expect(r, 400)


def test_nul_in_filter_values_is_exact_match_or_4xx(api):
    v = "f\u0000" + uniq()
    wf = expect(api.post("/api/workflows", {"name": "n", "trigger_event": v}), 201)["data"]
    r = api.get("/api/workflows", params={"filter[trigger_event]": v})
    body = check(r)
    if r.status_code == 200:
        assert [row["id"] for row in body["data"]] == [wf["id"]]
    else:
        expect_4xx(r)
    # the prefix before the NUL must never match
    body = expect(api.get("/api/workflows", params={"filter[trigger_event]": "f"}), 200)
    assert wf["id"] not in [row["id"] for row in body["data"]]


# ---------------------------------------------------------------- 64 KiB strings

def test_text_columns_take_exactly_65535_bytes(api, stack, parents):
    for text in ("d" * 65535, "€" * 21845, "'" * 65535, "\\" * 65535):
        assert len(text.encode()) == 65535
        data = expect(api.post("/api/workflows", {"name": "big", "trigger_event": "big", "description": text}), 201)["data"]
        assert data["description"] == text
        assert expect(api.get(f"/api/workflows/{data['id']}"), 200)["data"]["description"] == text
        assert int(stack.sql(f"SELECT LENGTH(description) FROM workflows WHERE id={data['id']}")[0][0]) == 65535
        expect(api.delete(f"/api/workflows/{data['id']}"), 204)
    lg = expect(api.post("/api/execution-logs", {"workflow_id": parents["workflow"]["id"], "step_id": parents["step"]["id"],
                                                 "status": "S", "error_message": "e" * 65535}), 201)["data"]
    assert lg["error_message"] == "e" * 65535
    pr = expect(api.post("/api/prompts", {"name": uniq("big"), "system_prompt_text": "p" * 65535}), 201)["data"]
    assert pr["system_prompt_text"] == "p" * 65535


@pytest.mark.parametrize("res,field", [("workflows", "description"), ("prompts", "system_prompt_text"),
                                       ("execution-logs", "error_message")])
@pytest.mark.parametrize("text", ["d" * 65536, "€" * 21846, "x" * 65536 * 2, "\u0000" * 65536],
                         ids=["65536", "65538-multibyte", "128KiB", "65536-NULs"])
def test_text_over_65535_bytes_is_422(api, stack, parents, res, field, text):
    before = counts(stack)
    body = base_body(res, parents)
    body[field] = text
    field_error(api.post(f"/api/{res}", body), field)
    assert counts(stack) == before


@pytest.mark.parametrize("res,field", [("workflows", "name"), ("workflows", "trigger_event"),
                                       ("prompts", "name"), ("prompts", "category"), ("prompts", "model_name"),
                                       ("workflow-steps", "name"), ("workflow-steps", "step_type"),
                                       ("execution-logs", "status"), ("execution-logs", "triggering_object_id")])
@pytest.mark.parametrize("text", ["n" * 256, "n" * 65536, "é" * 256, "😀" * 256], ids=["256", "64KiB", "256x2B", "256x4B"])
def test_varchar_over_255_characters_is_422(api, stack, parents, res, field, text):
    before = counts(stack)
    body = base_body(res, parents)
    body[field] = text
    field_error(api.post(f"/api/{res}", body), field)
    assert counts(stack) == before


def test_varchar_takes_255_multibyte_characters(api):
    for ch in ("é", "€", "😀", "'"):
        name = ch * 255
        data = expect(api.post("/api/workflows", {"name": name, "trigger_event": name}), 201)["data"]
        assert data["name"] == name and data["trigger_event"] == name
        expect(api.delete(f"/api/workflows/{data['id']}"), 204)


def test_64kib_strings_in_json_columns_and_query(api):
    gc = {"s": "x" * 65536, "t": ["'" * 70000]}
    data = expect(api.post("/api/prompts", {"name": uniq("bigjson"), "system_prompt_text": "x",
                                            "generation_config": gc}), 201)["data"]
    assert data["generation_config"] == gc
    # a 64 KiB query string is too long for nginx's request line: a 4xx, still JSON
    expect_4xx(api.get("/api/workflows", params={"filter[trigger_event]": "q" * 65536}))
    expect_4xx(api.get("/api/workflows", params={"sort": "n" * 65536}))


# ---------------------------------------------------------------- invalid UTF-8, surrogates

INVALID_UTF8 = {
    "ff": b"\xff", "fe": b"\xfe", "lone-continuation": b"\x80", "truncated-2": b"\xc3",
    "truncated-3": b"\xe2\x82", "overlong-slash": b"\xc0\xaf", "overlong-3": b"\xe0\x80\xaf",
    "overlong-nul": b"\xc0\x80", "cesu-surrogate-hi": b"\xed\xa0\x80", "cesu-surrogate-lo": b"\xed\xbf\xbf",
    "above-10ffff": b"\xf4\x90\x80\x80", "5-byte": b"\xf8\x88\x80\x80\x80", "latin1": "caf\xe9".encode("latin-1"),
}


@pytest.mark.parametrize("seq", list(INVALID_UTF8.values()), ids=list(INVALID_UTF8))
@pytest.mark.parametrize("where", ["string", "key", "json-column", "json-key"])
def test_invalid_utf8_in_body_is_400(api, stack, seq, where):
    before = counts(stack)
    name = uniq("utf8").encode()
    if where == "string":
        body = b'{"name":"a' + seq + b'b","system_prompt_text":"x"}'
    elif where == "key":
        body = b'{"name":"' + name + b'","system_prompt_text":"x","k' + seq + b'":1}'
    elif where == "json-column":
        body = b'{"name":"' + name + b'","system_prompt_text":"x","generation_config":{"k":"' + seq + b'"}}'
    else:
        body = b'{"name":"' + name + b'","system_prompt_text":"x","generation_config":{"' + seq + b'":1}}'
    expect(post_raw(api, "/api/prompts", body), 400)
    assert counts(stack) == before


UTF8_TARGETS = ["/api/workflows/{}", "/api/x{}", "/api/workflows?filter[trigger_event]={}",
                "/api/workflows?filter[{}]=1", "/api/workflows?sort={}", "/api/workflows?include={}",
                "/api/workflows?per_page={}", "/api/execution-logs?cursor={}"]


@pytest.mark.parametrize("seq", list(INVALID_UTF8.values()), ids=list(INVALID_UTF8))
@pytest.mark.parametrize("template", UTF8_TARGETS)
def test_invalid_utf8_in_query_and_path_is_clean_4xx(stack, tokens, seq, template):
    # error messages may quote the input, but the JSON they are in must stay UTF-8
    enc = "".join(f"%{b:02X}" for b in seq)
    target = template.format(enc).encode()
    resp = raw_get(stack, target, tokens["admin"])
    check_raw(resp)
    assert 400 <= resp.status < 500, (target, resp.raw[:300])


LONE = ["\\ud800", "\\udc00", "\\udbff", "\\udfff", "x\\ud800y", "\\ud800\\ud800", "\\udc00\\ud800",
        "\\ud800\\u0041", "\\ud800\\n", "\\ud83d", "\\ude00\\ud83d"]


@pytest.mark.parametrize("esc", LONE)
@pytest.mark.parametrize("where", ["name", "description", "key", "json-column", "json-key"])
def test_lone_surrogate_escapes_are_400(api, stack, esc, where):
    before = counts(stack)
    if where == "name":
        body = '{"name":"%s","trigger_event":"t"}' % esc
        path = "/api/workflows"
    elif where == "description":
        body = '{"name":"n","trigger_event":"t","description":"%s"}' % esc
        path = "/api/workflows"
    elif where == "key":
        body = '{"name":"n","trigger_event":"t","%s":1}' % esc
        path = "/api/workflows"
    elif where == "json-column":
        body = '{"name":"%s","system_prompt_text":"x","generation_config":{"a":["%s"]}}' % (uniq(), esc)
        path = "/api/prompts"
    else:
        body = '{"name":"%s","system_prompt_text":"x","generation_config":{"%s":1}}' % (uniq(), esc)
        path = "/api/prompts"
    expect(post_raw(api, path, body), 400)
    assert counts(stack) == before


def test_paired_and_escaped_surrogates_are_accepted(api):
    data = expect(post_raw(api, "/api/workflows", '{"name":"\\ud83d\\ude00","trigger_event":"\\udbff\\udfff"}'), 201)["data"]
    assert data["name"] == "\U0001F600" and data["trigger_event"] == "\U0010FFFF"
    # an escaped backslash: the text \ud800, six plain characters
    data = expect(post_raw(api, "/api/workflows", '{"name":"\\\\ud800","trigger_event":"\\\\\\\\udc00"}'), 201)["data"]
    assert data["name"] == "\\ud800" and data["trigger_event"] == "\\\\udc00"
    assert expect(api.get(f"/api/workflows/{data['id']}"), 200)["data"] == data


# ---------------------------------------------------------------- nesting

@pytest.mark.parametrize("shape", ["array", "object", "mixed"])
@pytest.mark.parametrize("depth", [33, 100, 1000, 100000])
def test_deep_nesting_is_400_and_writes_nothing(api, stack, shape, depth):
    before = counts(stack)
    if shape == "array":
        inner = "[" * depth + "]" * depth
    elif shape == "object":
        inner = '{"a":' * depth + "1" + "}" * depth
    else:
        inner = '[{"a":' * (depth // 2) + "1" + "}]" * (depth // 2)
    for path, body in (("/api/workflows", inner),
                       ("/api/prompts", '{"name":"%s","system_prompt_text":"x","generation_config":%s}' % (uniq(), inner))):
        r = post_raw(api, path, body)
        expect(r, 400)
    # unterminated deep nesting too
    expect(post_raw(api, "/api/workflows", "[" * depth), 400)
    assert counts(stack) == before


def test_moderate_nesting_reads_back_identical(api):
    gc = {"a": 1}
    for _ in range(10):  # 22 levels with the body's own object
        gc = {"n": [gc]}
    data = expect(api.post("/api/prompts", {"name": uniq("nest"), "system_prompt_text": "x", "generation_config": gc}), 201)["data"]
    assert data["generation_config"] == gc
    assert expect(api.get(f"/api/prompts/{data['id']}"), 200)["data"]["generation_config"] == gc


# ---------------------------------------------------------------- numbers out of range

OUT_OF_RANGE = ["1e400", "-1e400", "99999999999999999999999", "-99999999999999999999999",
                "18446744073709551616", "1e20", "-1e20", "2147483648", "-2147483649", "1.5", "1e-400"]
NUMERIC_FIELDS = [
    ("prompts", "version"), ("workflow-steps", "step_order"), ("workflow-steps", "delay_minutes"),
    ("workflow-steps", "workflow_id"), ("workflow-steps", "prompt_id"), ("execution-logs", "workflow_id"),
    ("execution-logs", "step_id"), ("execution-logs", "parent_execution_log_id"),
    ("execution-logs", "duration_ms"), ("execution-logs", "token_usage"), ("execution-logs", "cost"),
    ("workflows", "is_active"),
]


# leave out the values that are in range there: cost takes 1.5, and 1e-400 underflows to 0,
# which cost and the min:0 integers accept
NUMERIC_CASES = [(r, f, raw) for r, f in NUMERIC_FIELDS for raw in OUT_OF_RANGE
                 if not (f == "cost" and raw in ("1.5", "1e-400"))
                 and not (raw == "1e-400" and f in ("step_order", "delay_minutes", "duration_ms", "token_usage"))]


@pytest.mark.parametrize("res,field,raw", NUMERIC_CASES, ids=[f"{r}.{f}={raw}" for r, f, raw in NUMERIC_CASES])
def test_numbers_out_of_range_are_422(api, stack, parents, res, field, raw):
    before = counts(stack)
    body = base_body(res, parents)
    body.pop(field, None)
    field_error(post_raw(api, f"/api/{res}", with_raw_field(body, field, raw)), field)
    # also as a string, and on update
    field_error(post_raw(api, f"/api/{res}", with_raw_field(body, field, json.dumps(raw))), field)
    field_error(post_raw(api, f"/api/{res}/{parents[KEY[res]]['id']}", with_raw_field({}, field, raw), method="PATCH"), field)
    assert counts(stack) == before


@pytest.mark.parametrize("lit", ["NaN", "Infinity", "-Infinity", "+1", "01", "-01", "0x10", ".5", "1.", "1e", "--1"])
def test_non_json_number_literals_are_400(api, stack, lit):
    # SPEC: a body that is not valid JSON (RFC 8259) is 400, before any validation
    before = counts(stack)
    expect(post_raw(api, "/api/prompts", '{"name":"%s","system_prompt_text":"x","version":%s}' % (uniq(), lit)), 400)
    assert counts(stack) == before


@pytest.mark.parametrize("ch", ["\t", "\x01", "\x1f", "\n"])
def test_raw_control_characters_in_strings_are_400(api, stack, ch):
    # RFC 8259 section 7: U+0000..U+001F must be escaped inside strings
    before = counts(stack)
    body = '{"name":"a' + ch.encode().decode("unicode_escape") + 'b","trigger_event":"t"}'
    expect(post_raw(api, "/api/workflows", body), 400)
    assert counts(stack) == before


@pytest.mark.parametrize("param,value", [
    ("page", "1e400"), ("page", "99999999999999999999999"), ("page", "-99999999999999999999999"),
    ("per_page", "1e400"), ("per_page", "99999999999999999999999"), ("per_page", "-1"),
    ("filter[workflow_id]", "99999999999999999999999"), ("filter[workflow_id]", "1e400"),
    ("filter[prompt_id]", "18446744073709551616"),
])
def test_numbers_out_of_range_in_query_are_422(api, param, value):
    field_error(api.get("/api/workflow-steps", params={param: value}), param)


@pytest.mark.parametrize("rid", ["99999999999999999999999", "18446744073709551616", "18446744073709551615",
                                 "9223372036854775808", "-1", "0", "1e3", "0x10"])
def test_out_of_range_ids_in_path_are_404(api, rid):
    for res in RESOURCES:
        expect(api.get(f"/api/{res}/{rid}"), 404)
        expect(api.delete(f"/api/{res}/{rid}"), 404)


# ---------------------------------------------------------------- duplicate keys

def test_duplicate_keys_last_one_wins_and_is_stored_consistently(api, stack):
    # docs/decisions.md: the last one wins (json-c, like PHP's json_decode)
    r = post_raw(api, "/api/workflows", '{"name":"first","trigger_event":"t","name":"second"}')
    data = expect(r, 201)["data"]
    assert data["name"] == "second"
    assert expect(api.get(f"/api/workflows/{data['id']}"), 200)["data"]["name"] == "second"
    assert stack.sql(f"SELECT name FROM workflows WHERE id={data['id']}") == [["second"]]
    # validation sees the winner: valid then invalid → 422; invalid then valid → 201
    field_error(post_raw(api, "/api/workflows", '{"name":"ok","trigger_event":"t","name":""}'), "name")
    data2 = expect(post_raw(api, "/api/workflows", '{"name":"","trigger_event":"t","name":"ok"}'), 201)["data"]
    assert data2["name"] == "ok"
    # updates too
    data = expect(post_raw(api, f"/api/workflows/{data['id']}", '{"name":"x","name":"third"}', method="PATCH"), 200)["data"]
    assert data["name"] == "third"
    assert stack.sql(f"SELECT name FROM workflows WHERE id={data['id']}") == [["third"]]
    # inside JSON columns as well
    pr = expect(post_raw(api, "/api/prompts", '{"name":"%s","system_prompt_text":"x","generation_config":{"a":1,"a":2}}'
                         % uniq()), 201)["data"]
    assert pr["generation_config"] == {"a": 2}
    assert expect(api.get(f"/api/prompts/{pr['id']}"), 200)["data"]["generation_config"] == {"a": 2}


# ---------------------------------------------------------------- header injection

def test_crlf_in_body_values_never_becomes_a_header(api, stack, parents):
    evil = "x\r\nX-Injected: 1\r\nSet-Cookie: a=b\r\n\r\n<html>"
    r = api.post("/api/workflows", {"name": evil, "trigger_event": evil})
    data = expect(r, 201)["data"]
    assert data["name"] == evil
    for resp in (r, api.get(f"/api/workflows/{data['id']}"), api.patch(f"/api/workflows/{data['id']}", {"description": evil}),
                 api.get("/api/workflows", params={"filter[trigger_event]": evil}),
                 api.get("/api/workflows", params={"sort": evil}), api.get("/api/workflows", params={"include": evil})):
        check(resp)
        assert "X-Injected" not in resp.headers and "Set-Cookie" not in resp.headers, resp.headers
    # on the wire: no header line was forged
    body = json.dumps({"name": evil, "trigger_event": "t"}).encode()
    resp = raw_request(stack, b"POST /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                       + api.token.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
                       + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    assert resp.status == 201
    assert not [h for h in resp.header_lines if h.lower().startswith(("x-injected", "set-cookie"))], resp.header_lines
    assert re.fullmatch(r"http://127\.0\.0\.1(:\d+)?/api/workflows/\d+", resp.header("Location")), resp.header("Location")


@pytest.mark.parametrize("target", [b"/api/workflows/%0d%0aX-Injected:%201", b"/api/workflows%0d%0aX-Injected:%201",
                                    b"/api/workflows?sort=%0d%0aX-Injected:%201",
                                    b"/api/workflows?filter[%0d%0aX-Injected:%201]=1"])
def test_crlf_in_path_or_query_never_becomes_a_header(stack, tokens, target):
    resp = raw_get(stack, target, tokens["admin"])
    check_raw(resp)
    assert 400 <= resp.status < 500
    assert not [h for h in resp.header_lines if h.lower().startswith("x-injected")], resp.header_lines


@pytest.mark.parametrize("host", [b"evil.com\rX-Injected: 1", b"a\x00b", b"a b", b"a\tb\rc"])
def test_host_header_with_control_characters_is_rejected_by_nginx(stack, tokens, host):
    resp = raw_request(stack, b"GET /api/workflows HTTP/1.1\r\nHost: " + host + b"\r\nAuthorization: Bearer "
                       + tokens["admin"].encode() + b"\r\nConnection: close\r\n\r\n")
    check_raw(resp)
    assert resp.status == 400, resp.raw[:300]
    assert not [h for h in resp.header_lines if h.lower().startswith("x-injected")]


@pytest.mark.parametrize("host", [b"evil.com", b"evil.com:9999", b"a\"b", b"<script>", b"x'y", b"[::1]:80",
                                  b"a%0d%0ab", b"h" * 300, b"example.com."],
                         ids=["plain", "port", "quote", "script", "apostrophe", "ipv6", "pct-crlf", "300", "dot"])
def test_location_stays_well_formed_whatever_the_host(stack, tokens, host):
    body = b'{"name":"loc","trigger_event":"loc"}'
    resp = raw_request(stack, b"POST /api/workflows HTTP/1.1\r\nHost: " + host + b"\r\nAuthorization: Bearer "
                       + tokens["admin"].encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
                       + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    check_raw(resp)
    if resp.status == 400:
        return  # nginx refused the Host itself: fine
    assert resp.status == 201, resp.raw[:300]
    data = json.loads(resp.body)["data"]
    loc = resp.header("Location")
    assert loc and re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d+)?/api/workflows/%d|https?://\[[0-9A-Fa-f:.]+\](:\d+)?/api/workflows/%d"
                                % (data["id"], data["id"]), loc), loc
    # list links are built from the same base
    resp = raw_request(stack, b"GET /api/workflows?per_page=1 HTTP/1.1\r\nHost: " + host + b"\r\nAuthorization: Bearer "
                       + tokens["admin"].encode() + b"\r\nConnection: close\r\n\r\n")
    body = check_raw(resp)
    assert resp.status == 200, resp.raw[:300]
    for k in ("first", "last", "next"):
        link = body["links"][k]
        assert link is None or re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+/api/workflows\?[A-Za-z0-9%=&._\-]+", link), link


# ---------------------------------------------------------------- junk paths

JUNK_PATHS = [
    b"/api/workflows/%00", b"/api/workflows/1%00", b"/api/%00", b"/api/workflows%00",
    b"/api/workflows/1%2F2", b"/api/..%2F..%2Fetc/passwd", b"/api/%2e%2e/%2e%2e/etc/passwd",
    b"/api/workflows/../../../etc/passwd", b"/api/workflows/%2e%2e", b"/api/workflows/..%2f1",
    b"/api/workflows/%20", b"/api/workflows/1;DROP%20TABLE%20workflows", b"/api/workflows/1'", b"/api/workflows/%27",
    b"/api/workflows/1%20OR%201=1", b"/api/workflows//1", b"/api/workflows/1/", b"/api/workflows/1/steps/1",
    b"/api/workflows/-1", b"/api/workflows/+1", b"/api/workflows/1.0", b"/api/workflows/1e0",
    b"/api/workflows/%31", b"/api/x", b"/api/" + b"a" * 3000, b"/api/workflows/" + b"9" * 3000,
    b"/api/workflows?%00=1", b"/api/workflows/1%0a", b"/api/\\..\\..\\etc\\passwd", b"/api/workflows/1#frag",
    b"/api", b"/", b"/etc/passwd", b"/_aiengine_errors/500", b"/api/%2F%2F", b"/api/workflows/%u0000",
]


@pytest.mark.parametrize("target", JUNK_PATHS, ids=[t[:40].decode("latin-1") for t in JUNK_PATHS])
def test_junk_paths_are_clean_json(stack, tokens, target):
    before = counts(stack)
    for token in (tokens["admin"], None):
        resp = raw_get(stack, target, token)
        check_raw(resp)
        if resp.status < 400:
            # only a real resource may answer 200: /api/workflows/%31 is /api/workflows/1
            assert resp.status == 200 and token, (target, resp.raw[:300])
        else:
            assert resp.status < 500, (target, resp.raw[:300])
    assert counts(stack) == before


@pytest.mark.parametrize("method", [b"DELETE", b"PATCH", b"PUT"])
def test_junk_paths_with_writes_change_nothing(stack, tokens, method):
    before = counts(stack)
    for target in (b"/api/workflows/%00", b"/api/workflows/1%2F2", b"/api/workflows/1;DROP%20TABLE%20workflows",
                   b"/api/..%2F..%2Fetc/passwd", b"/api/workflows/1%20OR%201=1"):
        body = b'{"name":"x"}'
        resp = raw_request(stack, method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                           + tokens["admin"].encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
                           + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        check_raw(resp)
        assert 400 <= resp.status < 500, (method, target, resp.raw[:300])
    assert counts(stack) == before


# ---------------------------------------------------------------- random binary bodies

def random_bodies(seed, n=40):
    rnd = random.Random(seed)
    out = [b"", b"\x00", b"\xff" * 10, b"{", b"}", b"{\x00}", b"\x00{\"name\":\"a\",\"trigger_event\":\"b\"}",
           b"{\"name\":\"a\",\"trigger_event\":\"b\"}\x00", b"{\"name\":\"a\",\"trigger_event\":\"b\"}\xff",
           b"\xef\xbb\xbf\xef\xbb\xbf{}", b"\xfe\xff\x00{\x00}", b"null", b"[]", b"\"str\"", b"1", b"true"]
    for _ in range(n):
        k = rnd.choice([1, 7, 64, 1000, 50000])
        out.append(bytes(rnd.getrandbits(8) for _ in range(k)))
    # random bytes that start like an object
    for _ in range(n // 4):
        out.append(b'{"name":"' + bytes(rnd.getrandbits(8) for _ in range(rnd.choice([3, 50, 500]))))
    return out


@pytest.mark.parametrize("res", RESOURCES)
def test_random_binary_bodies_are_400(api, stack, parents, res):
    before = counts(stack)
    for i, body in enumerate(random_bodies(zlib.crc32(res.encode()))):
        expect(post_raw(api, f"/api/{res}", body), 400)
        if i % 4 == 0:
            expect(post_raw(api, f"/api/{res}/{parents[KEY[res]]['id']}", body, method="PATCH"), 400)
            expect(post_raw(api, f"/api/{res}/{parents[KEY[res]]['id']}", body, method="PUT"), 400)
    assert counts(stack) == before


# ---------------------------------------------------------------- the tables survived all of it

def test_zz_schema_and_other_data_intact(api, stack, parents, sentinel):
    rows = sentinel()
    assert set(TABLES) <= set(rows["tables"]), rows["tables"]
    for key, res in (("workflow", "workflows"), ("prompt", "prompts"), ("step", "workflow-steps"), ("log", "execution-logs")):
        assert rows[key] == parents[key], (res, rows[key], parents[key])
    # the columns are still there, with their types
    cols = stack.sql("SELECT table_name, column_name, column_type FROM information_schema.columns "
                     "WHERE table_schema='aiengine' AND table_name IN ('workflows','prompts','workflow_steps',"
                     "'execution_logs') ORDER BY table_name, ordinal_position")
    assert ["workflows", "name", "varchar(255)"] in cols
    assert ["execution_logs", "cost", "decimal(10,6)"] in cols
    assert expect(api.get("/api/health", token=None), 200) == {"status": "ok", "database": "ok"}


# ---- a write-only token probing for content (issue 15 item 7) ----

@pytest.mark.parametrize("resource,key", [("workflows", "workflow"), ("prompts", "prompt"),
                                          ("workflow-steps", "step"), ("execution-logs", "log")])
@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_write_only_token_cannot_read_through_updates(api, stack, parents, tokens, resource, key, method):
    from conftest import Api
    writer = Api(stack.url, tokens["writer"])
    rid = parents[key]["id"]
    for body in ({}, {"bogus": 1, "id": 1}, {"created_at": "2020-01-01"}):
        r = writer.request(method, f"/api/{resource}/{rid}", json_body=body)
        assert expect(r, 200) == {"data": {"id": rid}}, (body, r.text)
    err_body = expect(writer.request(method, f"/api/{resource}/999999999", json_body={}), 404)
    assert set(err_body) == {"message"}
    # self-reference and foreign steps are refused the same way for every token
    if resource == "execution-logs":
        field_error(writer.request(method, f"/api/{resource}/{rid}",
                                   json_body={"parent_execution_log_id": rid}), "parent_execution_log_id")
