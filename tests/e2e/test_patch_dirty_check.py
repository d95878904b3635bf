"""PATCH/PUT without If-Match whose validation reads nothing is one UPDATE in autocommit
(issue 17): the dirty check that decides whether updated_at moves runs in SQL, on the row
the UPDATE sees, and must mean what the locked path's unchanged() means — byte-for-byte
strings under a case-insensitive collation, numbers as numbers, timestamps to the second,
DEFAULT always a change. A missing record stays a 404 before any 422.

updated_at is set back to a fixed past second straight in the database, so whether a
PATCH moved it needs no sleeping."""
import threading

import pytest

from conftest import config_add_resource, config_copy, own_stack
from helpers import err, new_step, new_workflow, ok, ok_data

PAST = "2020-01-02T03:04:05.000000Z"


def age(stack, table, rid):
    stack.sql(f"UPDATE `{table}` SET updated_at = '2020-01-02 03:04:05' WHERE id = {int(rid)}")


@pytest.fixture
def step_url(api, stack):
    wf = new_workflow(api)
    st = new_step(api, wf["id"], name="Score the lead", step_config={"model": "m", "n": 1},
                  delay_minutes=5)
    age(stack, "workflow_steps", st["id"])
    return f"/api/workflow-steps/{st['id']}"


def test_a_change_of_letter_case_or_trailing_space_is_a_change(api, stack, step_url):
    body = ok_data(api.patch(step_url, {"name": "score the lead"}))
    assert body["name"] == "score the lead" and body["updated_at"] != PAST
    assert ok_data(api.get(step_url)) == body
    age(stack, "workflow_steps", body["id"])
    body = ok_data(api.patch(step_url, {"name": "score the lead "}))
    assert body["name"] == "score the lead " and body["updated_at"] != PAST


def test_the_same_values_leave_updated_at_and_the_etag_alone(api, stack, step_url):
    g = api.get(step_url)
    before = ok_data(g)
    assert before["updated_at"] == PAST
    same = {"name": "Score the lead", "delay_minutes": 5, "step_type": before["step_type"],
            "step_config": {"model": "m", "n": 1}, "condition_rules": None}
    for send in (api.patch, api.put):
        r = send(step_url, same)
        assert ok_data(r) == before
        assert r.headers["ETag"] == g.headers["ETag"]
    # one field that differs among equal ones moves it
    body = ok_data(api.patch(step_url, {**same, "delay_minutes": 6}))
    assert body["delay_minutes"] == 6 and body["updated_at"] != PAST


def test_a_missing_record_is_404_whether_or_not_the_body_is_valid(api):
    url = "/api/workflow-steps/987654320"
    for send in (api.patch, api.put):
        assert "987654320" in err(send(url, {"delay_minutes": -3, "name": ""}), 404)["message"]
        err(send(url, {"delay_minutes": 3}), 404)
        err(send(url, {}), 404)


def test_an_invalid_body_on_a_record_is_422_and_writes_nothing(api, stack, step_url):
    before = ok_data(api.get(step_url))
    body = err(api.patch(step_url, {"name": "", "delay_minutes": "x", "step_config": 3}), 422)
    assert list(body["errors"]) == ["name", "step_config", "delay_minutes"]
    assert ok_data(api.get(step_url)) == before


def test_concurrent_patches_of_different_fields_both_land(api, step_url):
    for i in range(15):
        results = []

        def send(body):
            results.append(api.with_token(api.token).patch(step_url, body).status_code)

        a = threading.Thread(target=send, args=({"name": f"name {i}"},))
        b = threading.Thread(target=send, args=({"delay_minutes": i},))
        a.start()
        b.start()
        a.join()
        b.join()
        assert results == [200, 200]
        body = ok_data(api.get(step_url))
        assert (body["name"], body["delay_minutes"]) == (f"name {i}", i)


# ---- a resource with every column type the dirty check compares, a DEFAULT and a foreign
# key without an exists rule (the shipped resources have none of the last two together)

GADGETS = """
  gadgets:
    table: gadgets
    pagination: page
    default_sort: id
    fields:
      id:          { type: id }
      label:       { type: string, fillable: true, rules: "required|string|max:255" }
      price:       { type: "decimal(8,2)", fillable: true, rules: "nullable|numeric" }
      due_at:      { type: timestamp, fillable: true, rules: "nullable|date", null_means_default: true }
      workflow_id: { type: fk, fillable: true, rules: "nullable|integer" }
      spec:        { type: json, fillable: true, rules: "nullable|array" }
      active:      { type: bool, fillable: true, rules: "boolean" }
      created_at:  { type: timestamp, auto: created }
      updated_at:  { type: timestamp, auto: updated }
"""

GADGETS_UP = """CREATE TABLE IF NOT EXISTS `gadgets` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `label` varchar(255) NOT NULL,
  `price` decimal(8,2) DEFAULT NULL,
  `due_at` timestamp NOT NULL DEFAULT '2030-01-01 00:00:00',
  `workflow_id` bigint(20) unsigned DEFAULT NULL,
  `spec` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`spec`)),
  `active` tinyint(1) NOT NULL DEFAULT 1,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `gadgets_workflow_id_foreign` FOREIGN KEY (`workflow_id`) REFERENCES `workflows` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
"""


@pytest.fixture(scope="module")
def gadgets(tmp_path_factory):
    etc, mig = config_copy(str(tmp_path_factory.mktemp("gadgets")))
    config_add_resource(etc, mig, "gadgets", GADGETS, GADGETS_UP, 100)
    yield from own_stack("gadgets", etc, mig)


@pytest.fixture
def gadget(gadgets):
    s, api = gadgets
    g = ok_data(api.post("/api/gadgets", {"label": "Widget", "price": "12.5",
                                          "due_at": "2031-05-06T07:08:09Z",
                                          "spec": {"a": [1, 2], "b": "x"}, "active": True}), 201)
    age(s, "gadgets", g["id"])
    return s, api, f"/api/gadgets/{g['id']}"


@pytest.mark.parametrize("same", [
    {"price": 12.5}, {"price": "12.50"}, {"price": "1.25e1"},
    {"due_at": "2031-05-06T07:08:09Z"}, {"due_at": "2031-05-06T09:08:09+02:00"},
    {"due_at": "2031-05-06 07:08:09.700"},  # the column keeps whole seconds
    {"spec": {"a": [1, 2], "b": "x"}}, {"active": 1}, {"active": "1"}, {"workflow_id": None},
    {"label": "Widget", "price": 12.5, "active": True},
])
def test_equal_values_of_each_type_are_no_change(gadget, same):
    s, api, url = gadget
    before = ok_data(api.get(url))
    assert before["updated_at"] == PAST
    assert ok_data(api.patch(url, same)) == before


@pytest.mark.parametrize("change", [
    {"price": "12.51"}, {"price": None}, {"due_at": "2031-05-06T07:08:10Z"},
    {"spec": {"b": "x", "a": [1, 2]}},  # stored as sent: another text is another value
    {"spec": None}, {"active": False}, {"label": "WIDGET"},
    {"label": "Widget", "price": 12.5, "active": False},
])
def test_a_changed_value_of_each_type_moves_updated_at(gadget, change):
    s, api, url = gadget
    body = ok_data(api.patch(url, change))
    assert body["updated_at"] != PAST
    assert ok_data(api.get(url)) == body


def test_default_is_always_a_change(gadget):
    s, api, url = gadget
    body = ok_data(api.patch(url, {"due_at": None}))
    assert body["due_at"] == "2030-01-01T00:00:00.000000Z" and body["updated_at"] != PAST
    age(s, "gadgets", body["id"])
    # the column already holds its default: writing DEFAULT again still counts, as on the
    # locked path (Eloquent cannot know what the database's default is)
    body = ok_data(api.patch(url, {"due_at": None, "label": "Widget"}))
    assert body["due_at"] == "2030-01-01T00:00:00.000000Z" and body["updated_at"] != PAST


def test_a_foreign_key_without_exists_rule_is_422_from_the_constraint(gadget):
    s, api, url = gadget
    before = ok_data(api.get(url))
    body = err(api.patch(url, {"workflow_id": 987654321, "label": "changed"}), 422)
    assert list(body["errors"]) == ["workflow_id"]
    assert ok_data(api.get(url)) == before  # the one statement wrote nothing
    err(api.patch("/api/gadgets/987654321", {"workflow_id": 987654321}), 404)
    wf = ok_data(api.post("/api/workflows", {"name": "g", "trigger_event": "t"}), 201)
    assert ok_data(api.patch(url, {"workflow_id": wf["id"]}))["workflow_id"] == wf["id"]
