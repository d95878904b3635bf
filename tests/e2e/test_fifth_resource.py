"""A fifth resource needs only YAML and a migration: copies of etc/ with a `notes` block in
resources.yaml and an `api_resource: notes` line in routes.yaml, plus a copy of the
migrations with 0100_create_notes_table. No C changes, no rebuild: the same binary serves
/api/notes with CRUD, validation, lists, filters, sorts and the OpenAPI document."""
import os

import pytest

from conftest import Api, config_add_resource, config_copy, own_stack
from helpers import err, ok

NOTES_RESOURCE = """
  notes:
    table: notes
    pagination: page
    default_sort: id
    fields:
      id:         { type: id }
      title:      { type: string, fillable: true, rules: "required|string|max:100" }
      body:       { type: text, fillable: true, rules: "nullable|string" }
      done:       { type: bool, fillable: true, rules: "boolean" }
      created_at: { type: timestamp, auto: created }
      updated_at: { type: timestamp, auto: updated }
    filters: [done]
    sorts: [title, created_at]
"""

NOTES_UP = """CREATE TABLE IF NOT EXISTS `notes` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `title` varchar(100) NOT NULL,
  `body` text DEFAULT NULL,
  `done` tinyint(1) NOT NULL DEFAULT 0,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
"""

NOTE_KEYS = ["id", "title", "body", "done", "created_at", "updated_at"]


def build_config(tmp):
    etc, mig = config_copy(tmp)
    config_add_resource(etc, mig, "notes", NOTES_RESOURCE, NOTES_UP, 100)
    return etc, mig


@pytest.fixture
def notes(make_stack, tmp_path):
    etc, mig = build_config(str(tmp_path))
    s = make_stack(workers=2, env={"AIENGINE_ETC": etc, "AIENGINE_MIGRATIONS": mig})
    return s, Api(s.url, s.create_token(email="notes@example.com", name="notes"))


def test_notes_migration_is_applied_and_recorded(notes):
    s, api = notes
    rows = s.sql("SELECT migration, batch FROM migrations ORDER BY id")
    names = [r[0] for r in rows]
    assert names[-1] == "0100_create_notes_table", names
    assert "0006_create_execution_logs_table" in names
    cols = s.sql("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='aiengine' "
                 "AND TABLE_NAME='notes' ORDER BY ORDINAL_POSITION")
    assert [c[0] for c in cols] == NOTE_KEYS
    # the other resources still work on the same stack
    wf = ok(api.post("/api/workflows", {"name": "w", "trigger_event": "t"}), 201)["data"]
    assert ok(api.get(f"/api/workflows/{wf['id']}"))["data"] == wf


def test_notes_crud(notes):
    s, api = notes
    r = api.post("/api/notes", {"title": "Buy milk", "body": "two litres", "id": 999, "bogus": 1})
    created = ok(r, 201)["data"]
    assert list(created) == NOTE_KEYS
    assert created["id"] != 999
    assert (created["title"], created["body"], created["done"]) == ("Buy milk", "two litres", False)
    assert created["created_at"].endswith("Z") and created["updated_at"].endswith("Z")
    assert r.headers["Location"].endswith(f"/api/notes/{created['id']}")

    assert ok(api.get(f"/api/notes/{created['id']}"))["data"] == created

    patched = ok(api.patch(f"/api/notes/{created['id']}", {"done": True}))["data"]
    assert patched["done"] is True and patched["title"] == "Buy milk" and patched["body"] == "two litres"
    put = ok(api.put(f"/api/notes/{created['id']}", {"body": None, "done": "0"}))["data"]
    assert (put["title"], put["body"], put["done"]) == ("Buy milk", None, False)
    assert s.sql(f"SELECT title, body IS NULL, done FROM notes WHERE id={created['id']}") == [["Buy milk", "1", "0"]]

    r = api.delete(f"/api/notes/{created['id']}")
    assert r.status_code == 204 and r.content == b""
    err(api.get(f"/api/notes/{created['id']}"), 404)
    err(api.delete(f"/api/notes/{created['id']}"), 404)
    err(api.get("/api/notes/abc"), 404)
    assert s.sql("SELECT COUNT(*) FROM notes") == [["0"]]


def test_notes_validation(notes):
    s, api = notes
    body = err(api.post("/api/notes", {"body": "no title"}), 422)
    assert body["errors"] == {"title": ["The title field is required."]}
    body = err(api.post("/api/notes", {"title": "x" * 101}), 422)
    assert list(body["errors"]) == ["title"]
    assert "100" in body["errors"]["title"][0]
    assert ok(api.post("/api/notes", {"title": "x" * 100}), 201)["data"]["title"] == "x" * 100
    body = err(api.post("/api/notes", {"title": "t", "done": "yes", "body": 5}), 422)
    assert set(body["errors"]) == {"done", "body"}
    body = err(api.post("/api/notes", {"title": "   "}), 422)
    assert "title" in body["errors"]
    n = ok(api.post("/api/notes", {"title": "keep"}), 201)["data"]
    err(api.patch(f"/api/notes/{n['id']}", {"title": None}), 422)
    err(api.patch(f"/api/notes/{n['id']}", {"done": 2}), 422)
    assert ok(api.get(f"/api/notes/{n['id']}"))["data"] == n
    assert s.sql("SELECT COUNT(*) FROM notes") == [["2"]]
    # body and content-type handling are the generic engine's
    err(api.request("POST", "/api/notes", data=b"[1]", headers={"Content-Type": "application/json"}), 400)
    err(api.request("POST", "/api/notes", data=b'{"title": "t"}', headers={"Content-Type": "text/plain"}), 415)


def test_notes_list_filters_sorts_and_errors(notes):
    s, api = notes
    titles = ["c", "a", "d", "b", "e", "f", "g"]
    ids = [ok(api.post("/api/notes", {"title": t, "done": i % 2 == 0}), 201)["data"]["id"]
           for i, t in enumerate(titles)]
    body = ok(api.get("/api/notes", params={"per_page": 3}))
    assert set(body) == {"data", "links", "meta"}
    assert body["meta"] == {"current_page": 1, "from": 1, "last_page": 3, "path": s.url + "/api/notes",
                            "per_page": 3, "to": 3, "total": 7}
    assert [n["id"] for n in body["data"]] == ids[:3]
    last = ok(api.get(body["links"]["last"]))
    assert [n["id"] for n in last["data"]] == ids[6:]

    done = ok(api.get("/api/notes", params={"filter[done]": "true"}))
    assert [n["id"] for n in done["data"]] == [ids[0], ids[2], ids[4], ids[6]]
    not_done = ok(api.get("/api/notes", params={"filter[done]": "0", "sort": "-title"}))
    assert [n["title"] for n in not_done["data"]] == ["f", "b", "a"]
    by_title = ok(api.get("/api/notes", params={"sort": "title"}))
    assert [n["title"] for n in by_title["data"]] == sorted(titles)
    assert [n["id"] for n in ok(api.get("/api/notes", params={"sort": "-id"}))["data"]] == ids[::-1]

    err(api.get("/api/notes", params={"filter[title]": "a"}), 400)
    err(api.get("/api/notes", params={"sort": "body"}), 400)
    err(api.get("/api/notes", params={"include": "steps"}), 400)
    err(api.get("/api/notes", params={"per_page": 0}), 422)
    r = api.request("DELETE", "/api/notes")
    err(r, 405)
    assert {m.strip() for m in r.headers["Allow"].split(",")} == {"GET", "HEAD", "POST"}


def test_notes_need_auth_and_abilities(notes):
    s, api = notes
    anon = Api(s.url, None)
    r = anon.get("/api/notes")
    assert r.status_code == 401 and r.json() == {"message": "Unauthenticated."}
    reader = Api(s.url, s.create_token(email="notes-reader@example.com", name="r", abilities="read"))
    assert ok(reader.get("/api/notes"))["data"] == []
    err(reader.post("/api/notes", {"title": "x"}), 403)
    assert s.sql("SELECT COUNT(*) FROM notes") == [["0"]]


def test_notes_appear_in_openapi(notes):
    s, api = notes
    doc = ok(Api(s.url, None).get("/api/openapi.json"))
    paths = doc["paths"]
    assert "/api/notes" in paths, sorted(paths)
    item = next(p for p in paths if p.startswith("/api/notes/{"))
    assert {"get", "post"} <= set(paths["/api/notes"])
    assert {"get", "put", "patch", "delete"} <= set(paths[item])
    assert "/api/workflows" in paths


# ---- a wide resource: 40 columns, max_per_page 1000, includes both ways ----
# Statements for it run past any fixed-size SQL buffer (the old 512-byte one cut the UPDATE
# and dropped IN-list parameters past 194), so the whole CRUD/list/include path is run on it.

CHANNELS = [f"reading_channel_value_{i:02d}" for i in range(1, 37)]

GAUGES_RESOURCE = """
  gauges:
    table: gauges
    pagination: page
    default_sort: id
    fields:
      id:         { type: id }
      note_id:    { type: fk, fillable: true, rules: "nullable|exists:notes,id" }
""" + "".join(f"      {c}: {{ type: int, fillable: true, rules: \"nullable|integer\" }}\n" for c in CHANNELS) + """\
      created_at: { type: timestamp, auto: created }
      updated_at: { type: timestamp, auto: updated }
    filters: [note_id, reading_channel_value_01]
    sorts: [reading_channel_value_36]
    relations:
      note: { belongs_to: notes, foreign_key: note_id, include: true }
"""

GAUGES_UP = """CREATE TABLE IF NOT EXISTS `gauges` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `note_id` bigint(20) unsigned DEFAULT NULL,
""" + "".join(f"  `{c}` int(11) DEFAULT NULL,\n" for c in CHANNELS) + """\
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `gauges_note_id_foreign` (`note_id`),
  CONSTRAINT `gauges_note_id_foreign` FOREIGN KEY (`note_id`) REFERENCES `notes` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
"""

GAUGE_KEYS = ["id", "note_id"] + CHANNELS + ["created_at", "updated_at"]


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    etc, mig = build_config(str(tmp_path_factory.mktemp("wide")))
    with open(os.path.join(etc, "aiengine.yaml")) as f:
        conf = f.read()
    assert "max_per_page: 100\n" in conf
    with open(os.path.join(etc, "aiengine.yaml"), "w") as f:
        f.write(conf.replace("max_per_page: 100\n", "max_per_page: 1000\n"))
    with open(os.path.join(etc, "resources.yaml")) as f:
        res = f.read()
    with open(os.path.join(etc, "resources.yaml"), "w") as f:
        f.write(res.replace("    sorts: [title, created_at]\n",
                            "    sorts: [title, created_at]\n    relations:\n"
                            "      gauges: { has_many: gauges, foreign_key: note_id, include: true }\n"))
    config_add_resource(etc, mig, "gauges", GAUGES_RESOURCE, GAUGES_UP, 101)
    yield from own_stack("wide", etc, mig)


def test_wide_resource_crud(wide):
    s, api = wide
    note = ok(api.post("/api/notes", {"title": "n"}), 201)["data"]
    body = {c: i * 1000 + 7 for i, c in enumerate(CHANNELS)}
    body["note_id"] = note["id"]
    created = ok(api.post("/api/gauges", body), 201)["data"]
    assert list(created) == GAUGE_KEYS
    assert all(created[c] == body[c] for c in body)
    gid = created["id"]
    assert ok(api.get(f"/api/gauges/{gid}"))["data"] == created
    # every column changes: the UPDATE names all 37 and still carries its WHERE clause
    changed = {c: -(i + 1) for i, c in enumerate(CHANNELS)}
    other = ok(api.post("/api/gauges", {"reading_channel_value_01": 1}), 201)["data"]
    patched = ok(api.patch(f"/api/gauges/{gid}", changed))["data"]
    assert all(patched[c] == changed[c] for c in CHANNELS)
    assert ok(api.get(f"/api/gauges/{other['id']}"))["data"]["reading_channel_value_01"] == 1
    put = ok(api.put(f"/api/gauges/{gid}", {c: None for c in CHANNELS}))["data"]
    assert all(put[c] is None for c in CHANNELS) and put["note_id"] == note["id"]
    body = err(api.post("/api/gauges", {c: "x" for c in CHANNELS} | {"note_id": 10**9}), 422)
    assert list(body["errors"]) == ["note_id"] + CHANNELS
    # `exists` without `integer` meets doubles far outside int64: refused, never cast (UB)
    for v in (1e300, -1e300, 9.3e18, 1.5, "1e3"):
        body = err(api.post("/api/gauges", {"note_id": v}), 422)
        assert body["errors"] == {"note_id": ["The selected note id is invalid."]}, (v, body)
    assert ok(api.post("/api/gauges", {"note_id": float(note["id"])}), 201)["data"]["note_id"] == note["id"]
    shown = ok(api.get(f"/api/gauges/{gid}", params={"include": "note"}))["data"]
    assert shown["note"] == note
    r = api.delete(f"/api/gauges/{gid}")
    assert r.status_code == 204
    err(api.get(f"/api/gauges/{gid}"), 404)
    api.delete(f"/api/gauges/{other['id']}")


def test_wide_resource_pages_of_1000_with_includes(wide):
    s, api = wide
    s.sql("DELETE FROM gauges")
    s.sql("DELETE FROM notes")
    # 1,100 notes and one gauge each, written directly: the point is the read path
    values = ",".join(f"('note {i}', 0)" for i in range(1100))
    s.sql(f"INSERT INTO notes (title, done) VALUES {values}")
    s.sql("INSERT INTO gauges (note_id, " + ", ".join(CHANNELS) + ") SELECT id, "
          + ", ".join(f"id + {i}" for i in range(36)) + " FROM notes ORDER BY id")
    page = ok(api.get("/api/gauges", params={"per_page": 1000, "include": "note"}))
    assert page["meta"]["per_page"] == 1000 and page["meta"]["total"] == 1100
    assert len(page["data"]) == 1000
    for g in page["data"]:
        assert list(g) == GAUGE_KEYS + ["note"]
        assert g["note"]["id"] == g["note_id"] and g["reading_channel_value_36"] == g["note_id"] + 35
    second = ok(api.get(page["links"]["next"]))
    assert len(second["data"]) == 100 and all(g["note"]["id"] == g["note_id"] for g in second["data"])
    # the other way round: 1,000 parents, each with its 40-column child
    notes = ok(api.get("/api/notes", params={"per_page": 1000, "include": "gauges"}))
    assert len(notes["data"]) == 1000
    for n in notes["data"]:
        assert len(n["gauges"]) == 1 and n["gauges"][0]["note_id"] == n["id"]
        assert list(n["gauges"][0]) == GAUGE_KEYS
    # filters, sorts and a nested page on the wide table
    one = ok(api.get("/api/gauges", params={"filter[reading_channel_value_01]":
                                            page["data"][5]["reading_channel_value_01"]}))
    assert [g["id"] for g in one["data"]] == [page["data"][5]["id"]]
    desc = ok(api.get("/api/gauges", params={"per_page": 1000, "sort": "-reading_channel_value_36"}))
    assert [g["id"] for g in desc["data"]] == sorted((g["id"] for g in page["data"] + second["data"]),
                                                     reverse=True)[:1000]
    err(api.get("/api/gauges", params={"per_page": 1001}), 422)
