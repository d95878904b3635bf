"""Validation of the four resources, rule by rule and field by field (SPEC "Validation",
"Details that decide the edge cases", docs/decisions.md): required, string, max:255 in
characters, TEXT fit in bytes, integer and int32 fit, min, boolean, array, in, exists,
the composite unique (name, version) of prompts, numeric cost that fits decimal(10,6),
dates in the TIMESTAMP range, explicit null on non-nullable fields, Laravel's exact
English messages and the summary "first message (and N more errors)".

Every 422 is checked for its full `errors` object and `message`, and for having changed
nothing (row counts for creates, the record before/after for updates)."""
import pytest

from helpers import ok_data, rand_version, uniq

MISSING = object()
TABLES = {
    "workflows": "workflows",
    "prompts": "prompts",
    "workflow-steps": "workflow_steps",
    "execution-logs": "execution_logs",
}
NOWHERE = 987654321


# ---------------------------------------------------------------- helpers

def label(field):
    return field.replace("_", " ")


def summary(errors):
    msgs = [m for ms in errors.values() for m in ms]
    more = len(msgs) - 1
    if more == 0:
        return msgs[0]
    return f"{msgs[0]} (and {more} more error{'' if more == 1 else 's'})"


def invalid(r, expected=None, field=None):
    """A 422 whose `errors` is exactly `expected` (ordered), or has exactly one key `field`
    when the wording is not pinned; `message` is always Laravel's summary of `errors`."""
    assert r.status_code == 422, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    body = r.json()
    assert list(body.keys()) == ["message", "errors"], body
    errors = body["errors"]
    if expected is not None:
        assert errors == expected, errors
        assert list(errors.keys()) == list(expected.keys()), errors
    if field is not None:
        assert list(errors.keys()) == [field], errors
        assert errors[field] and all(isinstance(m, str) and m for m in errors[field]), errors
    assert body["message"] == summary(errors), body
    return body


def last_id(api, res):
    """The newest id of a resource (0 if none), through the API: cheaper than a SQL client
    per check, and tests run one at a time, so a failed create must leave it unchanged."""
    params = {"per_page": 1} if res == "execution-logs" else {"per_page": 1, "sort": "-id"}
    r = api.get(f"/api/{res}", params=params)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    return data[0]["id"] if data else 0


@pytest.fixture(scope="module")
def par(api):
    """Parents shared by this module: a workflow, a prompt, a step and a log (never deleted)."""
    w = ok_data(api.post("/api/workflows", {"name": uniq("wf"), "trigger_event": uniq("ev")}), 201)
    p = ok_data(api.post("/api/prompts", {"name": uniq("p"), "system_prompt_text": "x"}), 201)
    s = ok_data(api.post("/api/workflow-steps", {"workflow_id": w["id"], "step_order": 1,
                                            "name": "s", "prompt_id": p["id"]}), 201)
    lg = ok_data(api.post("/api/execution-logs", {"workflow_id": w["id"], "step_id": s["id"],
                                             "status": "SUCCESS"}), 201)
    return {"workflow_id": w["id"], "prompt_id": p["id"], "step_id": s["id"], "log_id": lg["id"]}


def base(res, par):
    """A minimal valid create body (unique where it matters)."""
    if res == "workflows":
        return {"name": uniq("wf"), "trigger_event": "lead.created"}
    if res == "prompts":
        return {"name": uniq("p"), "system_prompt_text": "Be brief.", "version": rand_version()}
    if res == "workflow-steps":
        return {"workflow_id": par["workflow_id"], "step_order": 1, "name": uniq("step")}
    return {"workflow_id": par["workflow_id"], "step_id": par["step_id"], "status": "SUCCESS"}


def body_with(res, par, field, value):
    body = base(res, par)
    if value is MISSING:
        body.pop(field, None)
    else:
        body[field] = value
    return body


def create_invalid(api, stack, res, body, expected=None, field=None):
    before = last_id(api, res)
    r = api.post(f"/api/{res}", body)
    invalid(r, expected, field)
    assert last_id(api, res) == before, "a failed create wrote a row"
    return r.json()


def create_ok(api, res, body):
    d = ok_data(api.post(f"/api/{res}", body), 201)
    assert ok_data(api.get(f"/api/{res}/{d['id']}")) == d
    return d


def fresh(api, res, par, **extra):
    body = base(res, par)
    body.update(extra)
    return ok_data(api.post(f"/api/{res}", body), 201)


def update_invalid(api, method, res, rec, body, expected=None, field=None):
    before = ok_data(api.get(f"/api/{res}/{rec['id']}"))
    r = getattr(api, method)(f"/api/{res}/{rec['id']}", body)
    invalid(r, expected, field)
    assert ok_data(api.get(f"/api/{res}/{rec['id']}")) == before, "a failed update changed the record"
    return r.json()


def ids_of(pairs):
    return [f"{r}.{f}" for r, f, *_ in pairs]


# ---------------------------------------------------------------- required

REQUIRED = [
    ("workflows", "name"), ("workflows", "trigger_event"),
    ("prompts", "name"), ("prompts", "system_prompt_text"),
    ("workflow-steps", "workflow_id"), ("workflow-steps", "step_order"), ("workflow-steps", "name"),
    ("execution-logs", "workflow_id"), ("execution-logs", "step_id"), ("execution-logs", "status"),
]
BLANKS = [MISSING, None, "", "   ", "\t\n \r", []]
BLANK_IDS = ["missing", "null", "empty", "spaces", "whitespace", "empty-array"]


@pytest.mark.parametrize("value", BLANKS, ids=BLANK_IDS)
@pytest.mark.parametrize("res,field", REQUIRED, ids=ids_of(REQUIRED))
def test_required_on_create(api, stack, par, res, field, value):
    create_invalid(api, stack, res, body_with(res, par, field, value),
                   {field: [f"The {label(field)} field is required."]})


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("value", [None, "", "   "], ids=["null", "empty", "spaces"])
@pytest.mark.parametrize("res,field", REQUIRED, ids=ids_of(REQUIRED))
def test_required_field_sent_empty_on_update_is_422(api, par, res, field, value, method):
    rec = fresh(api, res, par)
    update_invalid(api, method, res, rec, {field: value},
                   {field: [f"The {label(field)} field is required."]})


OPTIONAL_CHANGE = {
    "workflows": {"description": "only this"},
    "prompts": {"category": "only this"},
    "workflow-steps": {"delay_minutes": 3},
    "execution-logs": {"error_message": "only this"},
}


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("res", list(TABLES))
def test_required_fields_may_be_omitted_on_update(api, par, res, method):
    rec = fresh(api, res, par)
    d = ok_data(getattr(api, method)(f"/api/{res}/{rec['id']}", OPTIONAL_CHANGE[res]))
    for k, v in OPTIONAL_CHANGE[res].items():
        assert d[k] == v
    for k, _ in REQUIRED:
        if k in rec:
            assert d[k] == rec[k]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_validates_only_the_fields_sent(api, par, method):
    rec = fresh(api, "workflows", par)
    update_invalid(api, method, "workflows", rec, {"is_active": "yes"},
                   {"is_active": ["The is active field must be true or false."]})


# ---------------------------------------------------------------- string

STRING_FIELDS = [
    ("workflows", "name"), ("workflows", "description"), ("workflows", "trigger_event"),
    ("prompts", "name"), ("prompts", "category"), ("prompts", "system_prompt_text"),
    ("prompts", "model_name"),
    ("workflow-steps", "name"), ("workflow-steps", "step_type"),
    ("execution-logs", "triggering_object_id"), ("execution-logs", "status"),
    ("execution-logs", "error_message"),
]
NOT_STRINGS = [123, 0, 1.5, True, False, ["a"], {"a": "b"}]
NOT_STRING_IDS = ["int", "zero", "float", "true", "false", "array", "object"]


@pytest.mark.parametrize("value", NOT_STRINGS, ids=NOT_STRING_IDS)
@pytest.mark.parametrize("res,field", STRING_FIELDS, ids=ids_of(STRING_FIELDS))
def test_string_rule_on_create(api, stack, par, res, field, value):
    create_invalid(api, stack, res, body_with(res, par, field, value),
                   {field: [f"The {label(field)} field must be a string."]})


@pytest.mark.parametrize("value", [42, True, {"a": 1}], ids=["int", "bool", "object"])
@pytest.mark.parametrize("res,field", STRING_FIELDS, ids=ids_of(STRING_FIELDS))
def test_string_rule_on_patch(api, par, res, field, value):
    rec = fresh(api, res, par)
    update_invalid(api, "patch", res, rec, {field: value},
                   {field: [f"The {label(field)} field must be a string."]})


# ---------------------------------------------------------------- max:255 (characters)

MAX255 = [
    ("workflows", "name"), ("workflows", "trigger_event"),
    ("prompts", "name"), ("prompts", "category"), ("prompts", "model_name"),
    ("workflow-steps", "name"), ("workflow-steps", "step_type"),
    ("execution-logs", "triggering_object_id"), ("execution-logs", "status"),
]
CHARS = ["a", "é", "😀", "中", "1"]
CHAR_IDS = ["ascii", "2-byte", "4-byte-emoji", "3-byte", "digits"]


@pytest.mark.parametrize("ch", CHARS, ids=CHAR_IDS)
@pytest.mark.parametrize("res,field", MAX255, ids=ids_of(MAX255))
def test_max255_accepts_255_characters(api, par, res, field, ch):
    value = ch * 255
    d = create_ok(api, res, body_with(res, par, field, value))
    assert d[field] == value


@pytest.mark.parametrize("ch", CHARS, ids=CHAR_IDS)
@pytest.mark.parametrize("res,field", MAX255, ids=ids_of(MAX255))
def test_max255_rejects_256_characters(api, stack, par, res, field, ch):
    create_invalid(api, stack, res, body_with(res, par, field, ch * 256),
                   {field: [f"The {label(field)} field must not be greater than 255 characters."]})


def test_max255_counts_code_points_not_graphemes(api, stack, par):
    ok255 = "e\u0301" * 127 + "a"           # 255 code points, 128 user-perceived characters
    d = create_ok(api, "workflows", body_with("workflows", par, "name", ok255))
    assert d["name"] == ok255
    create_invalid(api, stack, "workflows", body_with("workflows", par, "name", "e\u0301" * 128),
                   {"name": ["The name field must not be greater than 255 characters."]})


@pytest.mark.parametrize("method", ["put", "patch"])
def test_max255_on_update(api, par, method):
    rec = fresh(api, "workflows", par)
    update_invalid(api, method, "workflows", rec, {"name": "é" * 256, "description": "changed"},
                   {"name": ["The name field must not be greater than 255 characters."]})
    d = ok_data(getattr(api, method)(f"/api/workflows/{rec['id']}", {"name": "é" * 255}))
    assert d["name"] == "é" * 255


# ---------------------------------------------------------------- TEXT fit (bytes)

TEXT_FIELDS = [("workflows", "description"), ("prompts", "system_prompt_text"),
               ("execution-logs", "error_message")]
TEXT_OK = {
    "ascii": "a" * 65535,
    "2-byte": "é" * 32767 + "a",          # 65,535 bytes, 32,768 characters
    "4-byte": "😀" * 16383 + "abc",        # 65,535 bytes
    "3-byte": "中" * 21845,                # 65,535 bytes
}
TEXT_TOO_LONG = {
    "ascii": "a" * 65536,
    "2-byte": "é" * 32768,                # 65,536 bytes but only 32,768 characters
    "4-byte": "😀" * 16384,                # 65,536 bytes, 16,384 characters
    "3-byte": "中" * 21845 + "a",          # 65,536 bytes
}


@pytest.mark.parametrize("kind", list(TEXT_OK))
@pytest.mark.parametrize("res,field", TEXT_FIELDS, ids=ids_of(TEXT_FIELDS))
def test_text_accepts_65535_bytes(api, stack, par, res, field, kind):
    value = TEXT_OK[kind]
    assert len(value.encode()) == 65535
    d = create_ok(api, res, body_with(res, par, field, value))
    assert d[field] == value
    assert stack.sql(f"SELECT LENGTH({field}) FROM {TABLES[res]} WHERE id={d['id']}") == [["65535"]]


@pytest.mark.parametrize("kind", list(TEXT_TOO_LONG))
@pytest.mark.parametrize("res,field", TEXT_FIELDS, ids=ids_of(TEXT_FIELDS))
def test_text_rejects_65536_bytes(api, stack, par, res, field, kind):
    value = TEXT_TOO_LONG[kind]
    assert len(value.encode()) == 65536
    create_invalid(api, stack, res, body_with(res, par, field, value),
                   {field: [f"The {label(field)} field must not be greater than 65535 bytes."]})


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("res,field", TEXT_FIELDS, ids=ids_of(TEXT_FIELDS))
def test_text_fit_on_update(api, par, res, field, method):
    rec = fresh(api, res, par)
    update_invalid(api, method, res, rec, {field: "é" * 32768},
                   {field: [f"The {label(field)} field must not be greater than 65535 bytes."]})


# ---------------------------------------------------------------- integer, int32, min

# (resource, field, min)
INT_FIELDS = [
    ("prompts", "version", 1),
    ("workflow-steps", "step_order", 0),
    ("workflow-steps", "delay_minutes", 0),
    ("execution-logs", "duration_ms", 0),
    ("execution-logs", "token_usage", 0),
]
NOT_INTEGERS = [1.5, "abc", True, "1.5", "12abc", "1e3", " ", [1], {"a": 1}]
NOT_INTEGER_IDS = ["float", "word", "true", "float-string", "trailing-garbage", "exp-string",
                   "blank", "array", "object"]


@pytest.mark.parametrize("value", NOT_INTEGERS, ids=NOT_INTEGER_IDS)
@pytest.mark.parametrize("res,field,mn", INT_FIELDS, ids=ids_of(INT_FIELDS))
def test_integer_rule(api, stack, par, res, field, mn, value):
    if value == " " and field == "step_order":
        expected = [f"The {label(field)} field is required."]
    else:
        expected = [f"The {label(field)} field must be an integer."]
    create_invalid(api, stack, res, body_with(res, par, field, value), {field: expected})


def test_integer_false_on_version_also_fails_min(api, stack, par):
    # Laravel measures false as the string "" (length 0 < 1)
    create_invalid(api, stack, "prompts", body_with("prompts", par, "version", False),
                   {"version": ["The version field must be an integer.",
                                "The version field must be at least 1."]})


@pytest.mark.parametrize("value", [False], ids=["false"])
@pytest.mark.parametrize("res,field,mn", INT_FIELDS[1:], ids=ids_of(INT_FIELDS[1:]))
def test_integer_rule_false(api, stack, par, res, field, mn, value):
    create_invalid(api, stack, res, body_with(res, par, field, value),
                   {field: [f"The {label(field)} field must be an integer."]})


@pytest.mark.parametrize("value,expected", [("12", 12), (12.0, 12), ("2147483647", 2147483647)],
                         ids=["numeric-string", "integral-float", "max-string"])
@pytest.mark.parametrize("res,field,mn", INT_FIELDS, ids=ids_of(INT_FIELDS))
def test_integer_accepts_numeric_strings(api, par, res, field, mn, value, expected):
    d = create_ok(api, res, body_with(res, par, field, value))
    assert d[field] == expected and type(d[field]) is int


@pytest.mark.parametrize("value,expected", [("+12", 12), ("-0", 0), (" 12", 12), ("12 ", 12)],
                         ids=["plus", "minus-zero", "leading-space", "trailing-space"])
def test_integer_accepts_php_filter_validate_int_syntax(api, par, value, expected):
    d = create_ok(api, "workflow-steps", body_with("workflow-steps", par, "step_order", value))
    assert d["step_order"] == expected and type(d["step_order"]) is int


@pytest.mark.parametrize("value", ["012", "1.0", "0x1A", "1_000", "１２"],
                         ids=["leading-zero", "point-zero", "hex", "underscore", "fullwidth"])
def test_integer_rejects_what_filter_validate_int_rejects(api, stack, par, value):
    create_invalid(api, stack, "workflow-steps", body_with("workflow-steps", par, "step_order", value),
                   {"step_order": ["The step order field must be an integer."]})


def test_integer_accepts_integral_json_numbers_in_exponent_form(api, stack, par):
    raw = ('{"workflow_id": %d, "name": "exp", "step_order": 1e2, "delay_minutes": 12.5e1}'
           % par["workflow_id"])
    r = api.post("/api/workflow-steps", data=raw, headers={"Content-Type": "application/json"})
    d = ok_data(r, 201)
    assert (d["step_order"], d["delay_minutes"]) == (100, 125)


@pytest.mark.parametrize("res,field,mn", INT_FIELDS, ids=ids_of(INT_FIELDS))
def test_int32_max_fits(api, par, res, field, mn):
    d = create_ok(api, res, body_with(res, par, field, 2147483647))
    assert d[field] == 2147483647


@pytest.mark.parametrize("value", [2147483648, "2147483648", 4294967296],
                         ids=["2^31", "2^31-string", "2^32"])
@pytest.mark.parametrize("res,field,mn", INT_FIELDS, ids=ids_of(INT_FIELDS))
def test_int32_overflow_is_422(api, stack, par, res, field, mn, value):
    create_invalid(api, stack, res, body_with(res, par, field, value),
                   {field: [f"The {label(field)} field must not be greater than 2147483647."]})


@pytest.mark.parametrize("value", [99999999999999999999, "99999999999999999999", 1e20,
                                   18446744073709551615],
                         ids=["beyond-int64", "beyond-int64-string", "1e20", "uint64-max"])
@pytest.mark.parametrize("res,field,mn", INT_FIELDS, ids=ids_of(INT_FIELDS))
def test_huge_integers_are_422_not_a_server_error(api, stack, par, res, field, mn, value):
    create_invalid(api, stack, res, body_with(res, par, field, value), field=field)


@pytest.mark.parametrize("res,field,mn", INT_FIELDS, ids=ids_of(INT_FIELDS))
def test_min_boundary_is_accepted(api, par, res, field, mn):
    d = create_ok(api, res, body_with(res, par, field, mn))
    assert d[field] == mn


@pytest.mark.parametrize("delta", [1, 100], ids=["min-1", "min-100"])
@pytest.mark.parametrize("as_string", [False, True], ids=["number", "string"])
@pytest.mark.parametrize("res,field,mn", INT_FIELDS, ids=ids_of(INT_FIELDS))
def test_below_min_is_422(api, stack, par, res, field, mn, delta, as_string):
    value = mn - delta
    create_invalid(api, stack, res, body_with(res, par, field, str(value) if as_string else value),
                   {field: [f"The {label(field)} field must be at least {mn}."]})


def test_version_zero_message(api, stack, par):
    create_invalid(api, stack, "prompts", body_with("prompts", par, "version", 0),
                   {"version": ["The version field must be at least 1."]})


def test_int_rules_on_patch(api, par):
    rec = fresh(api, "workflow-steps", par)
    update_invalid(api, "patch", "workflow-steps", rec, {"step_order": 1.5},
                   {"step_order": ["The step order field must be an integer."]})
    update_invalid(api, "patch", "workflow-steps", rec, {"step_order": -1},
                   {"step_order": ["The step order field must be at least 0."]})
    update_invalid(api, "put", "workflow-steps", rec, {"delay_minutes": 2147483648},
                   {"delay_minutes": ["The delay minutes field must not be greater than 2147483647."]})


# ---------------------------------------------------------------- boolean

@pytest.mark.parametrize("value,expected", [(True, True), (False, False), (1, True), (0, False),
                                            ("1", True), ("0", False)],
                         ids=["true", "false", "1", "0", "'1'", "'0'"])
def test_boolean_accepts(api, par, value, expected):
    d = create_ok(api, "workflows", body_with("workflows", par, "is_active", value))
    assert d["is_active"] is expected


BAD_BOOLEANS = [2, -1, "2", "true", "false", "yes", "no", "on", "", " 1", "01", 1.0, 0.0,
                None, [], [1], {}]
BAD_BOOLEAN_IDS = ["2", "-1", "'2'", "'true'", "'false'", "yes", "no", "on", "empty", "space-1",
                   "01", "1.0", "0.0", "null", "empty-array", "array", "object"]


@pytest.mark.parametrize("value", BAD_BOOLEANS, ids=BAD_BOOLEAN_IDS)
def test_boolean_rejects(api, stack, par, value):
    create_invalid(api, stack, "workflows", body_with("workflows", par, "is_active", value),
                   {"is_active": ["The is active field must be true or false."]})


@pytest.mark.parametrize("value", ["true", 2, None], ids=["'true'", "2", "null"])
def test_boolean_rejects_on_update(api, par, value):
    rec = fresh(api, "workflows", par, is_active=False)
    update_invalid(api, "patch", "workflows", rec, {"is_active": value},
                   {"is_active": ["The is active field must be true or false."]})


# ---------------------------------------------------------------- array

ARRAY_FIELDS = [
    ("prompts", "generation_config"), ("prompts", "template_variables"),
    ("workflow-steps", "step_config"), ("workflow-steps", "condition_rules"),
    ("execution-logs", "input_context"), ("execution-logs", "raw_output"),
    ("execution-logs", "parsed_output"),
]


@pytest.mark.parametrize("value", [{}, [], {"a": [1, {"b": None}]}, [1, "x", None], None],
                         ids=["empty-object", "empty-array", "object", "array", "null"])
@pytest.mark.parametrize("res,field", ARRAY_FIELDS, ids=ids_of(ARRAY_FIELDS))
def test_array_accepts_objects_arrays_and_null(api, par, res, field, value):
    d = create_ok(api, res, body_with(res, par, field, value))
    assert d[field] == value and type(d[field]) is type(value)


NOT_ARRAYS = ["abc", "{}", "[]", '{"a":1}', "", 1, 0, 1.5, True, False]
NOT_ARRAY_IDS = ["string", "json-object-string", "json-array-string", "json-string", "empty",
                 "int", "zero", "float", "true", "false"]


@pytest.mark.parametrize("value", NOT_ARRAYS, ids=NOT_ARRAY_IDS)
@pytest.mark.parametrize("res,field", ARRAY_FIELDS, ids=ids_of(ARRAY_FIELDS))
def test_array_rejects_scalars(api, stack, par, res, field, value):
    create_invalid(api, stack, res, body_with(res, par, field, value),
                   {field: [f"The {label(field)} field must be an array."]})


@pytest.mark.parametrize("method", ["put", "patch"])
def test_array_rule_on_update(api, par, method):
    rec = fresh(api, "prompts", par, generation_config={"t": 1})
    update_invalid(api, method, "prompts", rec, {"generation_config": "{\"t\": 2}"},
                   {"generation_config": ["The generation config field must be an array."]})


# ---------------------------------------------------------------- in:draft,active,archived

@pytest.mark.parametrize("value", ["draft", "active", "archived"])
def test_status_in_accepts(api, par, value):
    d = create_ok(api, "prompts", body_with("prompts", par, "status", value))
    assert d["status"] == value


@pytest.mark.parametrize("value", ["ACTIVE", "Active", "deleted", "", " active", "active ",
                                   "draft,active", "1"],
                         ids=["upper", "capital", "other", "empty", "leading-space",
                              "trailing-space", "list", "digit"])
def test_status_in_rejects(api, stack, par, value):
    create_invalid(api, stack, "prompts", body_with("prompts", par, "status", value),
                   {"status": ["The selected status is invalid."]})


@pytest.mark.parametrize("value", [1, True, ["active"]], ids=["int", "bool", "array"])
def test_status_non_string(api, stack, par, value):
    create_invalid(api, stack, "prompts", body_with("prompts", par, "status", value),
                   {"status": ["The status field must be a string.", "The selected status is invalid."]})


def test_status_in_on_update(api, par):
    rec = fresh(api, "prompts", par)
    update_invalid(api, "patch", "prompts", rec, {"status": "published"},
                   {"status": ["The selected status is invalid."]})
    assert ok_data(api.put(f"/api/prompts/{rec['id']}", {"status": "archived"}))["status"] == "archived"


# ---------------------------------------------------------------- exists

# (resource, fk field)
FKS = [
    ("workflow-steps", "workflow_id"), ("workflow-steps", "prompt_id"),
    ("execution-logs", "workflow_id"), ("execution-logs", "step_id"),
    ("execution-logs", "parent_execution_log_id"),
]


@pytest.mark.parametrize("value", [NOWHERE, str(NOWHERE), 0, -1, 4294967296],
                         ids=["nowhere", "nowhere-string", "zero", "negative", "2^32"])
@pytest.mark.parametrize("res,field", FKS, ids=ids_of(FKS))
def test_exists_rejects_ids_pointing_nowhere(api, stack, par, res, field, value):
    create_invalid(api, stack, res, body_with(res, par, field, value),
                   {field: [f"The selected {label(field)} is invalid."]})


@pytest.mark.parametrize("value", ["abc", 1.5, True, [1], {"id": 1}],
                         ids=["word", "float", "bool", "array", "object"])
@pytest.mark.parametrize("res,field", FKS, ids=ids_of(FKS))
def test_fk_must_be_an_integer_and_exists_is_skipped(api, stack, par, res, field, value):
    create_invalid(api, stack, res, body_with(res, par, field, value),
                   {field: [f"The {label(field)} field must be an integer."]})


@pytest.mark.parametrize("value", [18446744073709551616, "18446744073709551616",
                                   "99999999999999999999999"],
                         ids=["2^64", "2^64-string", "huge-string"])
@pytest.mark.parametrize("res,field", FKS, ids=ids_of(FKS))
def test_fk_beyond_bigint_is_422(api, stack, par, res, field, value):
    create_invalid(api, stack, res, body_with(res, par, field, value), field=field)


def test_exists_message_for_workflow_id(api, stack, par):
    body = create_invalid(api, stack, "workflow-steps",
                          body_with("workflow-steps", par, "workflow_id", NOWHERE),
                          {"workflow_id": ["The selected workflow id is invalid."]})
    assert body["message"] == "The selected workflow id is invalid."


def test_exists_rejects_a_deleted_record(api, stack, par):
    w = ok_data(api.post("/api/workflows", {"name": uniq(), "trigger_event": uniq()}), 201)
    assert api.delete(f"/api/workflows/{w['id']}").status_code == 204
    create_invalid(api, stack, "workflow-steps",
                   body_with("workflow-steps", par, "workflow_id", w["id"]),
                   {"workflow_id": ["The selected workflow id is invalid."]})


def test_exists_accepts_existing_ids_given_as_strings(api, par):
    d = create_ok(api, "execution-logs", {"workflow_id": str(par["workflow_id"]),
                                          "step_id": str(par["step_id"]),
                                          "parent_execution_log_id": str(par["log_id"]),
                                          "status": "OK"})
    assert (d["workflow_id"], d["step_id"], d["parent_execution_log_id"]) == \
        (par["workflow_id"], par["step_id"], par["log_id"])


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("res,field", FKS, ids=ids_of(FKS))
def test_exists_on_update(api, par, res, field, method):
    rec = fresh(api, res, par)
    update_invalid(api, method, res, rec, {field: NOWHERE},
                   {field: [f"The selected {label(field)} is invalid."]})


def test_several_missing_references_are_all_reported(api, stack, par):
    create_invalid(api, stack, "execution-logs",
                   {"workflow_id": NOWHERE, "step_id": NOWHERE, "parent_execution_log_id": NOWHERE,
                    "status": "OK"},
                   {"workflow_id": ["The selected workflow id is invalid."],
                    "step_id": ["The selected step id is invalid."],
                    "parent_execution_log_id": ["The selected parent execution log id is invalid."]})


# ---------------------------------------------------------------- unique (name, version)

TAKEN = {"name": ["The name has already been taken."]}


def prompt_count(stack, name):
    return int(stack.sql("SELECT COUNT(*) FROM prompts WHERE name = '%s'" % name)[0][0])


def test_unique_second_create_with_same_name_and_version_is_422(api, stack):
    name = uniq("uniq")
    ok_data(api.post("/api/prompts", {"name": name, "system_prompt_text": "a", "version": 4}), 201)
    body = create_invalid(api, stack, "prompts", {"name": name, "system_prompt_text": "b",
                                                  "version": 4}, TAKEN)
    assert body["message"] == "The name has already been taken."
    assert prompt_count(stack, name) == 1


def test_unique_uses_the_default_version_when_not_sent(api, stack):
    name = uniq("uniq")
    ok_data(api.post("/api/prompts", {"name": name, "system_prompt_text": "a"}), 201)
    create_invalid(api, stack, "prompts", {"name": name, "system_prompt_text": "b"}, TAKEN)
    create_invalid(api, stack, "prompts", {"name": name, "system_prompt_text": "b", "version": 1}, TAKEN)
    create_invalid(api, stack, "prompts", {"name": name, "system_prompt_text": "b", "version": "1"}, TAKEN)
    assert prompt_count(stack, name) == 1


def test_unique_same_name_other_version_is_ok(api, stack):
    name = uniq("uniq")
    a = ok_data(api.post("/api/prompts", {"name": name, "system_prompt_text": "a"}), 201)
    b = ok_data(api.post("/api/prompts", {"name": name, "system_prompt_text": "b", "version": 2}), 201)
    assert (a["version"], b["version"]) == (1, 2)
    other = ok_data(api.post("/api/prompts", {"name": uniq("uniq"), "system_prompt_text": "c"}), 201)
    assert other["version"] == 1
    assert prompt_count(stack, name) == 2


@pytest.mark.parametrize("method", ["put", "patch"])
def test_unique_update_into_a_taken_pair_is_422(api, method):
    name = uniq("uniq")
    ok_data(api.post("/api/prompts", {"name": name, "system_prompt_text": "a", "version": 1}), 201)
    b = ok_data(api.post("/api/prompts", {"name": name, "system_prompt_text": "b", "version": 2}), 201)
    c = ok_data(api.post("/api/prompts", {"name": uniq("uniq"), "system_prompt_text": "c", "version": 1}), 201)
    update_invalid(api, method, "prompts", b, {"version": 1}, TAKEN)          # version collides
    update_invalid(api, method, "prompts", c, {"name": name}, TAKEN)          # name collides
    update_invalid(api, method, "prompts", c, {"name": name, "version": 2, "category": "x"}, TAKEN)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_unique_update_keeping_own_values_is_ok(api, method):
    name = uniq("uniq")
    p = ok_data(api.post("/api/prompts", {"name": name, "system_prompt_text": "a", "version": 2}), 201)
    d = ok_data(getattr(api, method)(f"/api/prompts/{p['id']}", {"name": name, "version": 2,
                                                            "category": "kept"}))
    assert (d["name"], d["version"], d["category"]) == (name, 2, "kept")
    d = ok_data(getattr(api, method)(f"/api/prompts/{p['id']}", {"name": name}))
    assert d["name"] == name
    d = ok_data(getattr(api, method)(f"/api/prompts/{p['id']}", {"version": 3}))
    assert d["version"] == 3


def test_unique_update_changing_only_the_case_of_its_own_name_is_ok(api):
    name = uniq("Case")
    p = ok_data(api.post("/api/prompts", {"name": name, "system_prompt_text": "a"}), 201)
    d = ok_data(api.patch(f"/api/prompts/{p['id']}", {"name": name.upper()}))
    assert d["name"] == name.upper()


def test_unique_follows_the_column_collation(api, stack):
    name = uniq("Uniq")
    ok_data(api.post("/api/prompts", {"name": name, "system_prompt_text": "a"}), 201)
    create_invalid(api, stack, "prompts", {"name": name.upper(), "system_prompt_text": "b"}, TAKEN)
    create_invalid(api, stack, "prompts", {"name": name + " ", "system_prompt_text": "b"}, TAKEN)


def test_unique_is_not_checked_when_version_itself_is_invalid(api, stack):
    name = uniq("uniq")
    ok_data(api.post("/api/prompts", {"name": name, "system_prompt_text": "a"}), 201)
    create_invalid(api, stack, "prompts", {"name": name, "system_prompt_text": "b", "version": "abc"},
                   {"version": ["The version field must be an integer."]})


def test_unique_error_comes_first_in_rule_order(api, stack):
    """Laravel validates attributes in rule order: name (with its unique rule) before status,
    so the summary starts with the name's message."""
    name = uniq("uniq")
    ok_data(api.post("/api/prompts", {"name": name, "system_prompt_text": "a"}), 201)
    r = api.post("/api/prompts", {"name": name, "system_prompt_text": "b", "status": "bogus"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["message"] == "The name has already been taken. (and 1 more error)", body
    assert list(body["errors"].items()) == [("name", ["The name has already been taken."]),
                                            ("status", ["The selected status is invalid."])]
    assert prompt_count(stack, name) == 1


# ---------------------------------------------------------------- numeric cost

@pytest.mark.parametrize("value,expected", [
    ("0.5", "0.500000"), (0.5, "0.500000"), (3, "3.000000"), ("1e-3", "0.001000"),
    (0, "0.000000"), ("0", "0.000000"), (9999.999999, "9999.999999"),
    ("9999.999999", "9999.999999"), (1e-6, "0.000001"), ("1E2", "100.000000"),
    (".5", "0.500000"), ("5.", "5.000000"), ("+1.5", "1.500000"), ("1e-7", "0.000000"),
    (None, None),
])
def test_cost_accepts(api, par, value, expected):
    d = create_ok(api, "execution-logs", body_with("execution-logs", par, "cost", value))
    assert d["cost"] == expected


@pytest.mark.parametrize("value", [-0.01, "-1", -0.000001, "-1e-3"])
def test_cost_negative_is_422(api, stack, par, value):
    create_invalid(api, stack, "execution-logs", body_with("execution-logs", par, "cost", value),
                   {"cost": ["The cost field must be at least 0."]})


@pytest.mark.parametrize("value", [10000, "10000", 10000.000001, "9999.9999995", 1e10, "1e300"],
                         ids=["10000", "10000-string", "just-above", "rounds-up", "1e10", "1e300"])
def test_cost_beyond_decimal_10_6_is_422(api, stack, par, value):
    create_invalid(api, stack, "execution-logs", body_with("execution-logs", par, "cost", value),
                   {"cost": ["The cost field must not be greater than 9999.999999."]})


@pytest.mark.parametrize("value", ["abc", "", "1,5", "0x1A", "NaN", "Infinity", "1.2.3", True,
                                   False, [], [1], {"v": 1}],
                         ids=["word", "empty", "comma", "hex", "nan", "inf", "two-dots", "true",
                              "false", "empty-array", "array", "object"])
def test_cost_not_a_number_is_422(api, stack, par, value):
    create_invalid(api, stack, "execution-logs", body_with("execution-logs", par, "cost", value),
                   {"cost": ["The cost field must be a number."]})


def test_cost_on_update(api, par):
    rec = fresh(api, "execution-logs", par, cost="1.25")
    update_invalid(api, "patch", "execution-logs", rec, {"cost": "abc"},
                   {"cost": ["The cost field must be a number."]})
    update_invalid(api, "put", "execution-logs", rec, {"cost": 10000},
                   {"cost": ["The cost field must not be greater than 9999.999999."]})
    update_invalid(api, "patch", "execution-logs", rec, {"cost": -1},
                   {"cost": ["The cost field must be at least 0."]})


# ---------------------------------------------------------------- date

BAD_DATES = ["2026-02-30", "2026-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-32", "2026-01-02T24:00:01Z",
             "2026-01-02T03:60:00Z", "yesterday", "not a date", "", "   ", 123, 1.5, True,
             ["2026-01-02"], {"date": "2026-01-02"}, "2026-01-02T03:04:05+25:00"]
BAD_DATE_IDS = ["feb-30", "feb-29-not-leap", "apr-31", "month-13", "month-0", "day-32", "hour-24", "minute-60", "yesterday",
                "words", "empty", "blank", "int", "float", "bool", "array", "object", "bad-offset"]


@pytest.mark.parametrize("value", BAD_DATES, ids=BAD_DATE_IDS)
def test_date_rejects_invalid_dates(api, stack, par, value):
    create_invalid(api, stack, "execution-logs",
                   body_with("execution-logs", par, "executed_at", value),
                   {"executed_at": ["The executed at field must be a valid date."]})


@pytest.mark.parametrize("value", ["2040-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
                                   "1970-01-01T00:00:00Z", "2038-01-19T03:14:08Z",
                                   "1970-01-01T01:00:00+02:00", "9999-12-31T23:59:59Z",
                                   "0001-01-01"],
                         ids=["2040", "1969", "epoch-zero", "2038-plus-1s", "epoch-by-offset",
                              "year-9999", "year-1"])
def test_date_outside_timestamp_range_is_422(api, stack, par, value):
    create_invalid(api, stack, "execution-logs",
                   body_with("execution-logs", par, "executed_at", value), field="executed_at")


@pytest.mark.parametrize("value,expected", [
    ("1970-01-01T00:00:01Z", "1970-01-01T00:00:01.000000Z"),
    ("2038-01-19T03:14:07Z", "2038-01-19T03:14:07.000000Z"),
    ("2038-01-19T05:14:07+02:00", "2038-01-19T03:14:07.000000Z"),
    ("2028-02-29", "2028-02-29T00:00:00.000000Z"),
])
def test_date_range_boundaries_are_accepted(api, par, value, expected):
    d = create_ok(api, "execution-logs", body_with("execution-logs", par, "executed_at", value))
    assert d["executed_at"] == expected


def test_date_rule_on_update(api, par):
    rec = fresh(api, "execution-logs", par)
    update_invalid(api, "patch", "execution-logs", rec, {"executed_at": "2026-02-30"},
                   {"executed_at": ["The executed at field must be a valid date."]})
    update_invalid(api, "put", "execution-logs", rec, {"executed_at": "2040-01-01T00:00:00Z"},
                   field="executed_at")


# ---------------------------------------------------------------- explicit null

NULL_NOT_ALLOWED = [
    ("workflows", "is_active", ["The is active field must be true or false."]),
    ("prompts", "version", ["The version field must be an integer.",
                            "The version field must be at least 1."]),
    ("prompts", "model_name", ["The model name field must be a string."]),
    ("prompts", "status", ["The status field must be a string.", "The selected status is invalid."]),
    ("workflow-steps", "step_type", ["The step type field must be a string."]),
    ("workflow-steps", "delay_minutes", ["The delay minutes field must be an integer."]),
]


@pytest.mark.parametrize("res,field,messages", NULL_NOT_ALLOWED, ids=ids_of(NULL_NOT_ALLOWED))
def test_explicit_null_on_non_nullable_field_with_default_is_422(api, stack, par, res, field, messages):
    create_invalid(api, stack, res, body_with(res, par, field, None), {field: messages})


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("res,field,messages", NULL_NOT_ALLOWED, ids=ids_of(NULL_NOT_ALLOWED))
def test_explicit_null_on_update_is_422(api, par, res, field, messages, method):
    rec = fresh(api, res, par)
    update_invalid(api, method, res, rec, {field: None}, {field: messages})


NULLABLE = [
    ("workflows", "description"),
    ("prompts", "category"), ("prompts", "generation_config"), ("prompts", "template_variables"),
    ("workflow-steps", "prompt_id"), ("workflow-steps", "step_config"),
    ("workflow-steps", "condition_rules"),
    ("execution-logs", "triggering_object_id"), ("execution-logs", "parent_execution_log_id"),
    ("execution-logs", "input_context"), ("execution-logs", "raw_output"),
    ("execution-logs", "parsed_output"), ("execution-logs", "error_message"),
    ("execution-logs", "duration_ms"), ("execution-logs", "token_usage"),
    ("execution-logs", "cost"),
]
NULLABLE_SAMPLE = {
    "description": "d", "category": "c", "generation_config": {"a": 1}, "template_variables": ["v"],
    "prompt_id": "PROMPT", "step_config": {"a": 1}, "condition_rules": [1],
    "triggering_object_id": "t", "parent_execution_log_id": "LOG", "input_context": {"a": 1},
    "raw_output": {"a": 1}, "parsed_output": {"a": 1}, "error_message": "e", "duration_ms": 5,
    "token_usage": 6, "cost": "0.5",
}


@pytest.mark.parametrize("res,field", NULLABLE, ids=ids_of(NULLABLE))
def test_nullable_fields_accept_null(api, stack, par, res, field):
    d = create_ok(api, res, body_with(res, par, field, None))
    assert d[field] is None
    assert stack.sql(f"SELECT {field} IS NULL FROM {TABLES[res]} WHERE id={d['id']}") == [["1"]]


@pytest.mark.parametrize("res,field", NULLABLE, ids=ids_of(NULLABLE))
def test_nullable_fields_can_be_reset_to_null(api, par, res, field):
    sample = NULLABLE_SAMPLE[field]
    sample = {"PROMPT": par["prompt_id"], "LOG": par["log_id"]}.get(sample, sample) \
        if isinstance(sample, str) else sample
    rec = fresh(api, res, par, **{field: sample})
    assert rec[field] is not None
    d = ok_data(api.patch(f"/api/{res}/{rec['id']}", {field: None}))
    assert d[field] is None
    assert ok_data(api.get(f"/api/{res}/{rec['id']}"))[field] is None


def test_executed_at_null_is_allowed(api, par):
    d = create_ok(api, "execution-logs", body_with("execution-logs", par, "executed_at", None))
    assert d["executed_at"] is not None


# ---------------------------------------------------------------- messages and summary

def test_single_error_message_has_no_suffix(api, stack, par):
    body = create_invalid(api, stack, "workflows", {"trigger_event": "x"},
                          {"name": ["The name field is required."]})
    assert body["message"] == "The name field is required."


def test_two_errors_summary_says_1_more_error(api, stack):
    body = create_invalid(api, stack, "workflows", {},
                          {"name": ["The name field is required."],
                           "trigger_event": ["The trigger event field is required."]})
    assert body["message"] == "The name field is required. (and 1 more error)"


def test_three_errors_summary_says_2_more_errors(api, stack):
    body = create_invalid(api, stack, "execution-logs", {},
                          {"workflow_id": ["The workflow id field is required."],
                           "step_id": ["The step id field is required."],
                           "status": ["The status field is required."]})
    assert body["message"] == "The workflow id field is required. (and 2 more errors)"


def test_summary_counts_messages_not_fields(api, stack, par):
    body = create_invalid(api, stack, "prompts", body_with("prompts", par, "status", None),
                          {"status": ["The status field must be a string.",
                                      "The selected status is invalid."]})
    assert body["message"] == "The status field must be a string. (and 1 more error)"


def test_errors_are_listed_in_field_order(api, stack):
    body = create_invalid(api, stack, "workflows",
                          {"is_active": "yes", "trigger_event": 5, "name": "é" * 256,
                           "description": ["x"]},
                          {"name": ["The name field must not be greater than 255 characters."],
                           "description": ["The description field must be a string."],
                           "trigger_event": ["The trigger event field must be a string."],
                           "is_active": ["The is active field must be true or false."]})
    assert body["message"] == "The name field must not be greater than 255 characters. (and 3 more errors)"


def test_every_field_of_a_prompt_reported_at_once(api, stack):
    create_invalid(api, stack, "prompts",
                   {"name": "", "category": 7, "version": 0, "system_prompt_text": None,
                    "model_name": "m" * 256, "generation_config": "x", "template_variables": 1,
                    "status": "gone"},
                   {"name": ["The name field is required."],
                    "category": ["The category field must be a string."],
                    "version": ["The version field must be at least 1."],
                    "system_prompt_text": ["The system prompt text field is required."],
                    "model_name": ["The model name field must not be greater than 255 characters."],
                    "generation_config": ["The generation config field must be an array."],
                    "template_variables": ["The template variables field must be an array."],
                    "status": ["The selected status is invalid."]})


def test_every_field_of_a_step_reported_at_once(api, stack):
    create_invalid(api, stack, "workflow-steps",
                   {"workflow_id": NOWHERE, "step_order": "x", "name": "  ", "step_type": 1,
                    "prompt_id": NOWHERE, "step_config": 1, "condition_rules": "[]",
                    "delay_minutes": -5},
                   {"workflow_id": ["The selected workflow id is invalid."],
                    "step_order": ["The step order field must be an integer."],
                    "name": ["The name field is required."],
                    "step_type": ["The step type field must be a string."],
                    "prompt_id": ["The selected prompt id is invalid."],
                    "step_config": ["The step config field must be an array."],
                    "condition_rules": ["The condition rules field must be an array."],
                    "delay_minutes": ["The delay minutes field must be at least 0."]})


def test_every_field_of_a_log_reported_at_once(api, stack):
    create_invalid(api, stack, "execution-logs",
                   {"workflow_id": "w", "step_id": None, "triggering_object_id": 5,
                    "parent_execution_log_id": NOWHERE, "status": "", "input_context": "x",
                    "raw_output": 1, "parsed_output": True, "error_message": [1],
                    "duration_ms": 1.5, "token_usage": -1, "cost": "abc",
                    "executed_at": "2026-02-30"},
                   {"workflow_id": ["The workflow id field must be an integer."],
                    "step_id": ["The step id field is required."],
                    "triggering_object_id": ["The triggering object id field must be a string."],
                    "parent_execution_log_id": ["The selected parent execution log id is invalid."],
                    "status": ["The status field is required."],
                    "input_context": ["The input context field must be an array."],
                    "raw_output": ["The raw output field must be an array."],
                    "parsed_output": ["The parsed output field must be an array."],
                    "error_message": ["The error message field must be a string."],
                    "duration_ms": ["The duration ms field must be an integer."],
                    "token_usage": ["The token usage field must be at least 0."],
                    "cost": ["The cost field must be a number."],
                    "executed_at": ["The executed at field must be a valid date."]})


# ---------------------------------------------------------------- a failed write changes nothing

def test_failed_create_with_one_bad_field_writes_nothing(api, stack, par):
    name = uniq("nothing")
    create_invalid(api, stack, "workflows",
                   {"name": name, "trigger_event": "x", "description": "d", "is_active": "maybe"},
                   {"is_active": ["The is active field must be true or false."]})
    assert stack.sql(f"SELECT COUNT(*) FROM workflows WHERE name='{name}'") == [["0"]]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_failed_update_changes_no_column(api, stack, par, method):
    rec = fresh(api, "workflows", par, description="before", is_active=True)
    stack.sql("SET time_zone='+00:00'; UPDATE workflows SET updated_at='2020-01-02 03:04:05' "
              f"WHERE id={rec['id']}")
    row = stack.sql(f"SELECT name, description, trigger_event, is_active, updated_at FROM workflows "
                    f"WHERE id={rec['id']}")
    update_invalid(api, method, "workflows", rec,
                   {"name": "after", "description": "after", "trigger_event": "after",
                    "foo": 1, "is_active": "nope"},
                   {"is_active": ["The is active field must be true or false."]})
    assert stack.sql(f"SELECT name, description, trigger_event, is_active, updated_at FROM workflows "
                     f"WHERE id={rec['id']}") == row


def test_failed_update_on_column_fit_changes_nothing(api, stack, par):
    rec = fresh(api, "execution-logs", par, error_message="before", token_usage=1)
    update_invalid(api, "patch", "execution-logs", rec,
                   {"error_message": "after", "token_usage": 2147483648, "status": "CHANGED"},
                   {"token_usage": ["The token usage field must not be greater than 2147483647."]})
    assert stack.sql(f"SELECT error_message, token_usage, status FROM execution_logs "
                     f"WHERE id={rec['id']}") == [["before", "1", "SUCCESS"]]
