"""CRUD of the four resources through nginx + MariaDB: create (201, {"data"}, Location),
show, partial update with PUT and PATCH, delete (204, then 404), and the representation
SPEC fixes: every column in table order (as in db/migrations/), ids/ints as numbers,
booleans as true/false, JSON columns as JSON values, cost as a 6-place decimal string,
timestamps as UTC ISO-8601 with microseconds. Also: column defaults, non-fillable and
unknown fields ignored, verbatim storage of strings and JSON, integers given as strings,
empty updates, and executed_at (null/omitted = now, offsets converted to UTC).

The session database is shared with the other test files: every test makes its own rows
(unique names via uuid) and looks only at them."""
import datetime as dt
import glob
import json
import os
import re
import uuid

import pytest

from helpers import err, new_log, new_prompt, new_step, new_workflow, ok_data, rand_version, uniq

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
DEFAULT_MODEL = "gemini-2.5-flash-preview-05-20"

TABLES = {
    "workflows": "workflows",
    "prompts": "prompts",
    "workflow-steps": "workflow_steps",
    "execution-logs": "execution_logs",
}
RESOURCES = list(TABLES)


# ---------------------------------------------------------------- helpers

def migration_columns(table):
    """Column names of `table` in the order its CREATE TABLE declares them, then the columns
    later migrations ADD (at the end, as 0008 adds execution_logs.workflow_run_id)."""
    cols = None
    for fn in sorted(glob.glob(os.path.join(ROOT, "db", "migrations", "*.up.sql"))):
        text = open(fn, encoding="utf-8").read()
        m = re.search(r"CREATE TABLE[^`]*`%s`\s*\((.*?)\n\)" % re.escape(table), text, re.S)
        if m:
            cols = re.findall(r"^\s*`(\w+)`", m.group(1), re.M)
        for alter in re.findall(r"ALTER TABLE `%s`(.*?);" % re.escape(table), text, re.S):
            assert cols is not None, f"{fn} alters {table} before it is created"
            cols += re.findall(r"ADD COLUMN `(\w+)`", alter)
    assert cols is not None, f"no migration creates {table}"
    return cols


def parse_ts(s):
    assert TS_RE.match(s), s
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def assert_now(s, slack=120):
    delta = abs((parse_ts(s) - dt.datetime.now(dt.timezone.utc)).total_seconds())
    assert delta <= slack, f"{s} is not now (off by {delta}s)"


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


@pytest.fixture
def parents(api):
    """A workflow, a prompt, a step (using both) and a log of that step."""
    w = new_workflow(api)
    p = new_prompt(api)
    s = new_step(api, w["id"], prompt_id=p["id"])
    lg = new_log(api, w["id"], s["id"])
    return {"workflow": w, "prompt": p, "step": s, "log": lg}


def full_body(res, par):
    """A create body that sets every fillable field to a non-default value."""
    if res == "workflows":
        return {"name": uniq("Lead intake"), "description": "Scores new leads.",
                "trigger_event": "lead.created", "is_active": False}
    if res == "prompts":
        return {"name": uniq("Lead scorer"), "category": "sales", "version": rand_version(),
                "system_prompt_text": "You score leads from 0 to 100.", "model_name": "gpt-4o-mini",
                "generation_config": {"temperature": 0.2, "max_output_tokens": 256},
                "template_variables": ["lead_name", "company"], "status": "draft"}
    if res == "workflow-steps":
        return {"workflow_id": par["workflow"]["id"], "step_order": 3, "name": uniq("Update score"),
                "step_type": "UPDATE_CRM_FIELD", "prompt_id": par["prompt"]["id"],
                "step_config": {"field": "lead_score", "source": "parsed_output.score"},
                "condition_rules": [{"field": "country", "op": "=", "value": "DE"}],
                "delay_minutes": 15}
    return {"workflow_id": par["workflow"]["id"], "step_id": par["step"]["id"],
            "triggering_object_id": uniq("lead"), "parent_execution_log_id": par["log"]["id"],
            "status": "FAILURE", "input_context": {"lead": {"id": 42, "name": "Ada"}},
            "raw_output": {"text": "{\"score\": 87}"}, "parsed_output": [{"score": 87}],
            "error_message": "Model timed out.", "duration_ms": 1234, "token_usage": 567,
            "cost": 0.00125, "executed_at": "2026-03-04T05:06:07Z"}


def expected_of(res, body):
    exp = dict(body)
    if res == "execution-logs":
        exp["cost"] = "0.001250"
        exp["executed_at"] = "2026-03-04T05:06:07.000000Z"
    return exp


def minimal_body(res, par):
    if res == "workflows":
        return {"name": uniq("wf"), "trigger_event": "lead.created"}
    if res == "prompts":
        return {"name": uniq("prompt"), "system_prompt_text": "Be brief."}
    if res == "workflow-steps":
        return {"workflow_id": par["workflow"]["id"], "step_order": 0, "name": uniq("step")}
    return {"workflow_id": par["workflow"]["id"], "step_id": par["step"]["id"], "status": "SUCCESS"}


DEFAULTS = {
    "workflows": {"description": None, "is_active": True},
    "prompts": {"category": None, "version": 1, "model_name": DEFAULT_MODEL,
                "generation_config": None, "template_variables": None, "status": "active"},
    "workflow-steps": {"step_type": "AI_PROMPT", "prompt_id": None, "step_config": None,
                       "condition_rules": None, "delay_minutes": 0},
    "execution-logs": {"triggering_object_id": None, "parent_execution_log_id": None,
                       "input_context": None, "raw_output": None, "parsed_output": None,
                       "error_message": None, "duration_ms": None, "token_usage": None,
                       "cost": None},
}

# A change of one or two fields per resource, for update tests.
CHANGES = {
    "workflows": {"description": "changed description"},
    "prompts": {"category": "support", "status": "archived"},
    "workflow-steps": {"step_order": 9, "step_config": {"changed": True}},
    "execution-logs": {"status": "SUCCESS", "error_message": None, "token_usage": 1},
}

INT_FIELDS = {
    "workflows": ["id"],
    "prompts": ["id", "version"],
    "workflow-steps": ["id", "workflow_id", "step_order", "prompt_id", "delay_minutes"],
    "execution-logs": ["id", "workflow_id", "step_id", "parent_execution_log_id", "duration_ms",
                       "token_usage"],
}
TS_FIELDS = {
    "workflows": ["created_at", "updated_at"],
    "prompts": ["created_at", "updated_at"],
    "workflow-steps": ["created_at", "updated_at"],
    "execution-logs": ["executed_at"],
}


def assert_types(res, data):
    for f in INT_FIELDS[res]:
        assert is_int(data[f]), (f, data[f])
    for f in TS_FIELDS[res]:
        assert isinstance(data[f], str) and TS_RE.match(data[f]), (f, data[f])
    if res == "workflows":
        assert isinstance(data["is_active"], bool)
    if res == "execution-logs":
        assert data["cost"] is None or re.match(r"^\d+\.\d{6}$", data["cost"]), data["cost"]


# ---------------------------------------------------------------- representation

@pytest.mark.parametrize("res", RESOURCES)
def test_representation_has_every_column_in_table_order(api, parents, res):
    d = ok_data(api.post(f"/api/{res}", full_body(res, parents)), 201)
    cols = migration_columns(TABLES[res])
    assert list(d.keys()) == cols
    assert list(ok_data(api.get(f"/api/{res}/{d['id']}")).keys()) == cols


@pytest.mark.parametrize("res", RESOURCES)
def test_create_returns_201_data_and_location_that_can_be_fetched(api, stack, parents, res):
    body = full_body(res, parents)
    r = api.post(f"/api/{res}", body)
    d = ok_data(r, 201)
    assert is_int(d["id"]) and d["id"] > 0
    assert r.headers["Location"] == f"{stack.url}/api/{res}/{d['id']}"
    for k, v in expected_of(res, body).items():
        assert d[k] == v, (k, d[k], v)
    assert_types(res, d)
    if res != "execution-logs":
        assert_now(d["created_at"])
        assert d["created_at"] == d["updated_at"]
    shown = ok_data(api.get(r.headers["Location"]))
    assert shown == d


@pytest.mark.parametrize("res", RESOURCES)
def test_show_returns_200_with_the_record(api, parents, res):
    d = ok_data(api.post(f"/api/{res}", full_body(res, parents)), 201)
    r = api.get(f"/api/{res}/{d['id']}")
    assert ok_data(r) == d


@pytest.mark.parametrize("res", ["prompts", "workflow-steps", "execution-logs"])
def test_json_columns_are_json_values_not_strings(api, parents, res):
    body = full_body(res, parents)
    d = ok_data(api.post(f"/api/{res}", body), 201)
    json_fields = {"prompts": ["generation_config", "template_variables"],
                   "workflow-steps": ["step_config", "condition_rules"],
                   "execution-logs": ["input_context", "raw_output", "parsed_output"]}[res]
    for f in json_fields:
        assert isinstance(d[f], (dict, list)), (f, d[f])
        assert d[f] == body[f]


@pytest.mark.parametrize("res", RESOURCES)
def test_defaults_are_applied(api, parents, res):
    body = minimal_body(res, parents)
    d = ok_data(api.post(f"/api/{res}", body), 201)
    for k, v in body.items():
        assert d[k] == v
    for k, v in DEFAULTS[res].items():
        assert d[k] == v, (k, d[k], v)
    if res == "execution-logs":
        assert_now(d["executed_at"])
    assert ok_data(api.get(f"/api/{res}/{d['id']}")) == d


def test_workflow_defaults_in_the_database(api, stack):
    d = new_workflow(api)
    assert stack.sql(f"SELECT is_active, description IS NULL FROM workflows WHERE id={d['id']}") == [["1", "1"]]


# ---------------------------------------------------------------- update

@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("res", RESOURCES)
def test_update_is_partial_only_sent_fields_change(api, parents, res, method):
    before = ok_data(api.post(f"/api/{res}", full_body(res, parents)), 201)
    change = CHANGES[res]
    after = ok_data(getattr(api, method)(f"/api/{res}/{before['id']}", change))
    assert list(after.keys()) == list(before.keys())
    for k in before:
        if k in change:
            assert after[k] == change[k], (k, after[k])
        elif k == "updated_at":
            assert parse_ts(after[k]) >= parse_ts(before[k])
        else:
            assert after[k] == before[k], (k, after[k], before[k])
    assert_types(res, after)
    assert ok_data(api.get(f"/api/{res}/{before['id']}")) == after


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_of_foreign_keys(api, parents, method):
    w2 = new_workflow(api)
    s = new_step(api, parents["workflow"]["id"], prompt_id=parents["prompt"]["id"])
    d = ok_data(getattr(api, method)(f"/api/workflow-steps/{s['id']}",
                                {"workflow_id": w2["id"], "prompt_id": None}))
    assert d["workflow_id"] == w2["id"] and d["prompt_id"] is None
    assert d["name"] == s["name"] and d["step_order"] == s["step_order"]
    assert ok_data(api.get(f"/api/workflow-steps/{s['id']}")) == d


def test_update_sets_updated_at_to_now_and_keeps_created_at(api, stack):
    w = new_workflow(api)
    stack.sql("SET time_zone='+00:00'; UPDATE workflows SET created_at='2020-01-02 03:04:05', "
              f"updated_at='2020-01-02 03:04:05' WHERE id={w['id']}")
    d = ok_data(api.patch(f"/api/workflows/{w['id']}", {"name": "renamed"}))
    assert d["name"] == "renamed"
    assert d["created_at"] == "2020-01-02T03:04:05.000000Z"
    assert_now(d["updated_at"])


def test_update_with_unchanged_values_does_not_touch_updated_at(api, stack):
    """Laravel saves only dirty attributes: sending the stored values again (is_active as "1"
    for true included) is not a change, so updated_at stays (SPEC is silent; Laravel parity)."""
    w = new_workflow(api, name="same", description="same", is_active=True)
    stack.sql("SET time_zone='+00:00'; UPDATE workflows SET updated_at='2020-01-02 03:04:05' "
              f"WHERE id={w['id']}")
    d = ok_data(api.patch(f"/api/workflows/{w['id']}", {"name": "same", "description": "same",
                                                  "is_active": "1"}))
    assert d["updated_at"] == "2020-01-02T03:04:05.000000Z"
    assert ok_data(api.get(f"/api/workflows/{w['id']}"))["updated_at"] == "2020-01-02T03:04:05.000000Z"


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("body", [{}, {"foo": "bar"}, {"id": 1, "created_at": "2001-01-01T00:00:00Z"}],
                         ids=["empty", "unknown-only", "non-fillable-only"])
def test_update_without_fillable_fields_is_200_and_changes_nothing(api, stack, method, body):
    w = new_workflow(api, description="keep")
    stack.sql("SET time_zone='+00:00'; UPDATE workflows SET updated_at='2020-01-02 03:04:05' "
              f"WHERE id={w['id']}")
    before = ok_data(api.get(f"/api/workflows/{w['id']}"))
    assert before["updated_at"] == "2020-01-02T03:04:05.000000Z"
    after = ok_data(getattr(api, method)(f"/api/workflows/{w['id']}", body))
    assert after == before
    assert ok_data(api.get(f"/api/workflows/{w['id']}")) == before


@pytest.mark.parametrize("res", RESOURCES)
def test_empty_patch_returns_the_record_unchanged(api, parents, res):
    before = ok_data(api.post(f"/api/{res}", full_body(res, parents)), 201)
    assert ok_data(api.patch(f"/api/{res}/{before['id']}", {})) == before
    assert ok_data(api.get(f"/api/{res}/{before['id']}")) == before


# ---------------------------------------------------------------- delete

@pytest.mark.parametrize("res", RESOURCES)
def test_delete_is_204_empty_then_404(api, stack, parents, res):
    d = ok_data(api.post(f"/api/{res}", full_body(res, parents)), 201)
    r = api.delete(f"/api/{res}/{d['id']}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    err(api.get(f"/api/{res}/{d['id']}"), 404)
    err(api.delete(f"/api/{res}/{d['id']}"), 404)
    err(api.patch(f"/api/{res}/{d['id']}", {}), 404)
    assert stack.sql(f"SELECT COUNT(*) FROM {TABLES[res]} WHERE id={d['id']}") == [["0"]]


@pytest.mark.parametrize("res", RESOURCES)
def test_show_of_missing_id_is_404(api, res):
    body = err(api.get(f"/api/{res}/987654321987"), 404)
    assert "987654321987" in body["message"]


def test_missing_workflow_message(api):
    body = err(api.get("/api/workflows/987654321"), 404)
    assert body == {"message": "No workflow with id 987654321."}


# ---------------------------------------------------------------- non-fillable / unknown

@pytest.mark.parametrize("res", RESOURCES)
def test_create_ignores_id_timestamps_and_unknown_fields(api, stack, parents, res):
    body = full_body(res, parents)
    body.update({"id": 987654320, "created_at": "2001-01-01T00:00:00Z",
                 "updated_at": "2001-01-01T00:00:00Z", "foo": "bar", "deleted_at": "x"})
    d = ok_data(api.post(f"/api/{res}", body), 201)
    assert d["id"] != 987654320
    assert "foo" not in d and "deleted_at" not in d
    assert list(d.keys()) == migration_columns(TABLES[res])
    if res != "execution-logs":
        assert_now(d["created_at"])
        assert_now(d["updated_at"])
    assert stack.sql(f"SELECT COUNT(*) FROM {TABLES[res]} WHERE id=987654320") == [["0"]]
    err(api.get(f"/api/{res}/987654320"), 404)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_ignores_id_timestamps_and_unknown_fields(api, stack, method):
    w = new_workflow(api)
    d = ok_data(getattr(api, method)(f"/api/workflows/{w['id']}",
                                {"id": 987654321, "created_at": "2001-01-01T00:00:00Z",
                                 "updated_at": "2001-01-01T00:00:00Z", "foo": 1,
                                 "name": "renamed"}))
    assert d["id"] == w["id"]
    assert d["name"] == "renamed"
    assert d["created_at"] == w["created_at"]
    assert not d["updated_at"].startswith("2001")
    assert "foo" not in d
    assert stack.sql("SELECT COUNT(*) FROM workflows WHERE id=987654321") == [["0"]]
    assert ok_data(api.get(f"/api/workflows/{w['id']}")) == d


# ---------------------------------------------------------------- verbatim strings

VERBATIM = [
    " leading and trailing spaces ",
    "\ufeffstarts with a BOM",
    "line\u2028separator\u2029paragraph",
    "emoji 😀👍🏽 family 👨‍👩‍👧",
    "tabs\tand\nnewlines\r\n",
    "quotes \" backslash \\ slash / <html> & 'single'",
    "中文 テキスト 한국어 العربية",
    "\u00a0nbsp\u00a0",
    "combining e\u0301",
]
VERBATIM_IDS = ["spaces", "bom", "u2028", "emoji", "controls", "escapes", "cjk", "nbsp", "combining"]

# (resource, field) pairs holding strings; prompts' name is unique with the version.
STRING_FIELDS = [
    ("workflows", "name"), ("workflows", "description"), ("workflows", "trigger_event"),
    ("prompts", "name"), ("prompts", "category"), ("prompts", "system_prompt_text"),
    ("prompts", "model_name"),
    ("workflow-steps", "name"), ("workflow-steps", "step_type"),
    ("execution-logs", "triggering_object_id"), ("execution-logs", "status"),
    ("execution-logs", "error_message"),
]
OPTIONAL_STRING_FIELDS = [
    ("workflows", "description"), ("prompts", "category"), ("prompts", "model_name"),
    ("workflow-steps", "step_type"), ("execution-logs", "triggering_object_id"),
    ("execution-logs", "error_message"),
]


def body_with(res, par, field, value):
    body = minimal_body(res, par)
    if res == "prompts":
        body["version"] = rand_version()
    body[field] = value
    return body


@pytest.mark.parametrize("value", VERBATIM, ids=VERBATIM_IDS)
@pytest.mark.parametrize("res,field", STRING_FIELDS, ids=[f"{r}.{f}" for r, f in STRING_FIELDS])
def test_strings_are_stored_verbatim(api, parents, res, field, value):
    d = ok_data(api.post(f"/api/{res}", body_with(res, parents, field, value)), 201)
    assert d[field] == value
    assert ok_data(api.get(f"/api/{res}/{d['id']}"))[field] == value


@pytest.mark.parametrize("value", VERBATIM, ids=VERBATIM_IDS)
def test_strings_are_stored_verbatim_in_the_database(api, stack, value):
    d = new_workflow(api, name=value, description=value)
    rows = stack.sql(f"SELECT HEX(name), HEX(description) FROM workflows WHERE id={d['id']}")
    hexed = value.encode("utf-8").hex().upper()
    assert rows == [[hexed, hexed]]


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("value", VERBATIM, ids=VERBATIM_IDS)
def test_strings_are_updated_verbatim(api, method, value):
    w = new_workflow(api)
    d = ok_data(getattr(api, method)(f"/api/workflows/{w['id']}", {"name": value, "description": value}))
    assert d["name"] == value and d["description"] == value
    got = ok_data(api.get(f"/api/workflows/{w['id']}"))
    assert got["name"] == value and got["description"] == value


@pytest.mark.parametrize("res,field", OPTIONAL_STRING_FIELDS,
                         ids=[f"{r}.{f}" for r, f in OPTIONAL_STRING_FIELDS])
def test_empty_string_stays_empty_string(api, stack, parents, res, field):
    d = ok_data(api.post(f"/api/{res}", body_with(res, parents, field, "")), 201)
    assert d[field] == ""
    assert ok_data(api.get(f"/api/{res}/{d['id']}"))[field] == ""
    assert stack.sql(f"SELECT {field} IS NULL, LENGTH({field}) FROM {TABLES[res]} "
                     f"WHERE id={d['id']}") == [["0", "0"]]


def test_nul_character_in_a_string_round_trips(api):
    value = "before\u0000after"
    d = new_workflow(api, description=value)
    assert d["description"] == value
    assert ok_data(api.get(f"/api/workflows/{d['id']}"))["description"] == value


def test_escaped_unicode_in_the_request_is_decoded(api):
    raw = ('{"name":"\\ud83d\\ude00 \\u00e9\\ufeff","trigger_event":"ev.%s"}' % uuid.uuid4().hex)
    r = api.post("/api/workflows", data=raw.encode(), headers={"Content-Type": "application/json"})
    d = ok_data(r, 201)
    assert d["name"] == "😀 é\ufeff"


# ---------------------------------------------------------------- JSON columns

JSON_VALUES = [
    {},
    [],
    {"a": {"b": [1, 2, {"c": None}]}, "t": True, "f": False, "e": {}, "l": []},
    ["x", 1, 2.5, None, True, [], {}],
    {"unicode": "ü 😀 \u2028 \ufeff", "clé é": "värde", "中": ["文"]},
    {"escapes": "\"quoted\" \\ / \n\t", "html": "<b>&amp;</b>"},
    {"z": 1, "a": 2, "m": 3},
    {"neg": -0.5, "zero": 0, "big": 9007199254740993, "exp": 1.5e-7},
    {"deep": [[[[[[[[[[{"x": [[[["bottom"]]]]}]]]]]]]]]]},
    [{"": ""}, "", " spaced "],
]
JSON_IDS = ["empty-object", "empty-array", "nested", "mixed-array", "unicode", "escapes",
            "key-order", "numbers", "deep", "empty-strings"]
JSON_FIELDS = [
    ("prompts", "generation_config"), ("prompts", "template_variables"),
    ("workflow-steps", "step_config"), ("workflow-steps", "condition_rules"),
    ("execution-logs", "input_context"), ("execution-logs", "raw_output"),
    ("execution-logs", "parsed_output"),
]


def same_json(a, b):
    return json.dumps(a, sort_keys=False) == json.dumps(b, sort_keys=False)


@pytest.mark.parametrize("value", JSON_VALUES, ids=JSON_IDS)
@pytest.mark.parametrize("res,field", JSON_FIELDS, ids=[f"{r}.{f}" for r, f in JSON_FIELDS])
def test_json_values_round_trip(api, parents, res, field, value):
    d = ok_data(api.post(f"/api/{res}", body_with(res, parents, field, value)), 201)
    assert same_json(d[field], value), (d[field], value)
    assert same_json(ok_data(api.get(f"/api/{res}/{d['id']}"))[field], value)


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("value", JSON_VALUES, ids=JSON_IDS)
def test_json_values_round_trip_on_update(api, parents, method, value):
    s = new_step(api, parents["workflow"]["id"], step_config={"old": 1}, condition_rules=[1])
    d = ok_data(getattr(api, method)(f"/api/workflow-steps/{s['id']}", {"step_config": value}))
    assert same_json(d["step_config"], value)
    assert d["condition_rules"] == [1]
    assert same_json(ok_data(api.get(f"/api/workflow-steps/{s['id']}"))["step_config"], value)


def nested(levels, inner):
    value = inner
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("value", [nested(30, []), nested(30, [1]), nested(28, {"a": [{"b": None}]})],
                         ids=["31-empty-arrays", "31-arrays-innermost-holds-a-scalar",
                              "31-mixed-innermost-holds-null"])
def test_json_at_the_maximum_depth_round_trips(api, parents, value):
    """The body object is level 1, so 31 container levels inside the field make the allowed 32
    (scalars are values, not levels: MariaDB's json_valid accepts 31 arrays around a 1)."""
    raw = json.dumps({"workflow_id": parents["workflow"]["id"], "step_order": 1, "name": "deep",
                      "step_config": value})
    r = api.post("/api/workflow-steps", data=raw, headers={"Content-Type": "application/json"})
    d = ok_data(r, 201)
    assert same_json(d["step_config"], value)
    assert same_json(ok_data(api.get(f"/api/workflow-steps/{d['id']}"))["step_config"], value)


def test_json_deeper_than_32_levels_is_400_and_writes_nothing(api, stack, parents):
    name = uniq("too-deep")
    raw = json.dumps({"workflow_id": parents["workflow"]["id"], "step_order": 1, "name": name,
                      "step_config": nested(31, [])})  # 1 + 32 levels
    r = api.post("/api/workflow-steps", data=raw, headers={"Content-Type": "application/json"})
    err(r, 400)
    assert stack.sql(f"SELECT COUNT(*) FROM workflow_steps WHERE name='{name}'") == [["0"]]


@pytest.mark.parametrize("number", ["123456789012345678901234567890", "18446744073709551616",
                                    "-9223372036854775809", "9223372036854775808"],
                         ids=["30-digits", "2^64", "below-int64-min", "2^63"])
def test_json_big_integers_are_not_silently_changed(api, parents, number):
    """A JSON column stores the client's document: an integer beyond 64 bits must come back
    as sent, never clamped to another value (2^64-1 or -2^63)."""
    raw = ('{"name": "%s", "system_prompt_text": "x", "generation_config": {"n": %s}}'
           % (uniq("big"), number))
    d = ok_data(api.post("/api/prompts", data=raw, headers={"Content-Type": "application/json"}), 201)
    assert d["generation_config"] == {"n": int(number)}
    assert ok_data(api.get(f"/api/prompts/{d['id']}"))["generation_config"] == {"n": int(number)}


def test_json_empty_object_and_array_stay_distinct_in_the_database(api, stack):
    p = new_prompt(api, generation_config={}, template_variables=[])
    rows = stack.sql(f"SELECT generation_config, template_variables FROM prompts WHERE id={p['id']}")
    assert rows == [["{}", "[]"]]


def test_json_column_can_be_reset_to_null(api, parents):
    s = new_step(api, parents["workflow"]["id"], step_config={"a": 1}, condition_rules=[])
    d = ok_data(api.patch(f"/api/workflow-steps/{s['id']}", {"step_config": None}))
    assert d["step_config"] is None and d["condition_rules"] == []


# ---------------------------------------------------------------- integers and booleans

def test_integers_given_as_strings_read_back_as_numbers(api, parents):
    w, p, s, lg = (parents[k]["id"] for k in ("workflow", "prompt", "step", "log"))
    pr = ok_data(api.post("/api/prompts", {"name": uniq("p"), "system_prompt_text": "x",
                                      "version": "3"}), 201)
    assert pr["version"] == 3 and is_int(pr["version"])
    st = ok_data(api.post("/api/workflow-steps", {"workflow_id": str(w), "step_order": "7",
                                             "name": "s", "prompt_id": str(p),
                                             "delay_minutes": "15"}), 201)
    assert (st["workflow_id"], st["step_order"], st["prompt_id"], st["delay_minutes"]) == (w, 7, p, 15)
    assert all(is_int(st[k]) for k in ("workflow_id", "step_order", "prompt_id", "delay_minutes"))
    lo = ok_data(api.post("/api/execution-logs", {"workflow_id": str(w), "step_id": str(s),
                                             "parent_execution_log_id": str(lg), "status": "OK",
                                             "duration_ms": "250", "token_usage": "12"}), 201)
    assert (lo["workflow_id"], lo["step_id"], lo["parent_execution_log_id"],
            lo["duration_ms"], lo["token_usage"]) == (w, s, lg, 250, 12)
    assert all(is_int(lo[k]) for k in ("workflow_id", "step_id", "parent_execution_log_id",
                                       "duration_ms", "token_usage"))
    # ... and everywhere later: show, list
    assert ok_data(api.get(f"/api/prompts/{pr['id']}"))["version"] == 3
    assert ok_data(api.get(f"/api/workflow-steps/{st['id']}")) == st
    assert ok_data(api.get(f"/api/execution-logs/{lo['id']}")) == lo
    listed = api.get("/api/workflow-steps", params={"filter[workflow_id]": w}).json()["data"]
    assert [x for x in listed if x["id"] == st["id"]] == [st]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_integer_string_on_update_reads_back_as_number(api, parents, method):
    s = new_step(api, parents["workflow"]["id"])
    d = ok_data(getattr(api, method)(f"/api/workflow-steps/{s['id']}", {"step_order": "9",
                                                                   "delay_minutes": "0"}))
    assert d["step_order"] == 9 and is_int(d["step_order"])
    assert d["delay_minutes"] == 0 and is_int(d["delay_minutes"])


def test_integral_float_is_stored_as_integer(api, parents):
    s = new_step(api, parents["workflow"]["id"], step_order=12.0)
    assert s["step_order"] == 12 and is_int(s["step_order"])


@pytest.mark.parametrize("given,expected,db", [
    (True, True, "1"), (False, False, "0"), (1, True, "1"), (0, False, "0"),
    ("1", True, "1"), ("0", False, "0"),
])
def test_boolean_inputs_read_back_as_true_false(api, stack, given, expected, db):
    w = new_workflow(api, is_active=given)
    assert w["is_active"] is expected
    assert ok_data(api.get(f"/api/workflows/{w['id']}"))["is_active"] is expected
    assert stack.sql(f"SELECT is_active FROM workflows WHERE id={w['id']}") == [[db]]
    flipped = ok_data(api.patch(f"/api/workflows/{w['id']}", {"is_active": not expected}))
    assert flipped["is_active"] is (not expected)


def test_int32_extremes_round_trip(api, parents):
    s = new_step(api, parents["workflow"]["id"], step_order=2147483647, delay_minutes=2147483647)
    assert s["step_order"] == 2147483647 and s["delay_minutes"] == 2147483647
    assert ok_data(api.get(f"/api/workflow-steps/{s['id']}"))["step_order"] == 2147483647


# ---------------------------------------------------------------- cost

@pytest.mark.parametrize("given,expected", [
    (0.00125, "0.001250"), ("0.00125", "0.001250"), ("0.5", "0.500000"), (0.5, "0.500000"),
    (0, "0.000000"), ("0", "0.000000"), (12, "12.000000"), ("1e-3", "0.001000"),
    (1.5e-5, "0.000015"), (9999.999999, "9999.999999"), ("9999.999999", "9999.999999"),
    ("0.0000005", "0.000001"), ("0.00000049", "0.000000"), ("9999.9999994", "9999.999999"),
    ("123.456789", "123.456789"),
])
def test_cost_is_a_six_place_decimal_string(api, stack, parents, given, expected):
    d = new_log(api, parents["workflow"]["id"], parents["step"]["id"], cost=given)
    assert d["cost"] == expected
    assert ok_data(api.get(f"/api/execution-logs/{d['id']}"))["cost"] == expected
    assert stack.sql(f"SELECT cost FROM execution_logs WHERE id={d['id']}") == [[expected]]


def test_cost_update_and_reset_to_null(api, parents):
    d = new_log(api, parents["workflow"]["id"], parents["step"]["id"], cost="1.5")
    assert ok_data(api.patch(f"/api/execution-logs/{d['id']}", {"cost": 0.25}))["cost"] == "0.250000"
    assert ok_data(api.put(f"/api/execution-logs/{d['id']}", {"cost": None}))["cost"] is None


# ---------------------------------------------------------------- executed_at

def test_executed_at_omitted_means_now(api, parents):
    d = new_log(api, parents["workflow"]["id"], parents["step"]["id"])
    assert_now(d["executed_at"])


def test_executed_at_null_means_now(api, parents):
    d = new_log(api, parents["workflow"]["id"], parents["step"]["id"], executed_at=None)
    assert_now(d["executed_at"])
    assert ok_data(api.get(f"/api/execution-logs/{d['id']}"))["executed_at"] == d["executed_at"]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_executed_at_null_on_update_means_now(api, parents, method):
    d = new_log(api, parents["workflow"]["id"], parents["step"]["id"],
                executed_at="2020-05-06T07:08:09Z")
    assert d["executed_at"] == "2020-05-06T07:08:09.000000Z"
    u = ok_data(getattr(api, method)(f"/api/execution-logs/{d['id']}", {"executed_at": None}))
    assert_now(u["executed_at"])
    assert u["status"] == d["status"]


@pytest.mark.parametrize("given,expected", [
    ("2026-01-02T03:04:05+02:00", "2026-01-02T01:04:05.000000Z"),
    ("2026-01-02T03:04:05-05:30", "2026-01-02T08:34:05.000000Z"),
    ("2026-01-02T00:30:00+01:00", "2026-01-01T23:30:00.000000Z"),
    ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000000Z"),
    ("2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05.000000Z"),
    ("2026-01-02T03:04:05", "2026-01-02T03:04:05.000000Z"),
    ("2026-01-02 03:04:05", "2026-01-02T03:04:05.000000Z"),
    ("2026-01-02", "2026-01-02T00:00:00.000000Z"),
    ("2028-02-29T12:00:00Z", "2028-02-29T12:00:00.000000Z"),
    ("2026-01-02T03:04:05+0200", "2026-01-02T01:04:05.000000Z"),
    ("2026-01-02T03:04Z", "2026-01-02T03:04:00.000000Z"),
    # the column keeps whole seconds; like Laravel (format Y-m-d H:i:s) fractions are cut, not rounded
    ("2026-01-02T03:04:05.123456Z", "2026-01-02T03:04:05.000000Z"),
    ("2026-01-02T03:04:05.999999+01:00", "2026-01-02T02:04:05.000000Z"),
])
def test_executed_at_is_converted_to_utc(api, stack, parents, given, expected):
    d = new_log(api, parents["workflow"]["id"], parents["step"]["id"], executed_at=given)
    assert d["executed_at"] == expected
    assert ok_data(api.get(f"/api/execution-logs/{d['id']}"))["executed_at"] == expected
    rows = stack.sql("SET time_zone='+00:00'; "
                     f"SELECT DATE_FORMAT(executed_at, '%Y-%m-%dT%H:%i:%s') FROM execution_logs "
                     f"WHERE id={d['id']}")
    assert rows == [[expected[:19]]]


def test_executed_at_update_with_offset(api, parents):
    d = new_log(api, parents["workflow"]["id"], parents["step"]["id"])
    u = ok_data(api.patch(f"/api/execution-logs/{d['id']}", {"executed_at": "2026-01-02T03:04:05+02:00"}))
    assert u["executed_at"] == "2026-01-02T01:04:05.000000Z"


def test_timestamps_do_not_depend_on_the_database_session_zone(api, stack):
    w = new_workflow(api)
    rows = stack.sql("SET time_zone='+00:00'; SELECT DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s') "
                     f"FROM workflows WHERE id={w['id']}")
    assert rows == [[w["created_at"][:19]]]
