"""A fifth resource needs only YAML and a migration: copies of etc/ with a `notes` block in
resources.yaml and an `api_resource: notes` line in routes.yaml, plus a copy of the
migrations with 0100_create_notes_table. No C changes, no rebuild: the same binary serves
/api/notes with CRUD, validation, lists, filters, sorts and the OpenAPI document."""
import os
import shutil

import pytest

from conftest import Api, ROOT
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

NOTES_DOWN = "DROP TABLE IF EXISTS `notes`;\n"

NOTE_KEYS = ["id", "title", "body", "done", "created_at", "updated_at"]


def build_config(tmp):
    etc = os.path.join(tmp, "etc")
    mig = os.path.join(tmp, "migrations")
    os.makedirs(etc)
    os.makedirs(mig)
    src_etc = os.path.join(ROOT, "etc")
    shutil.copy(os.path.join(src_etc, "aiengine.yaml"), etc)
    with open(os.path.join(src_etc, "routes.yaml")) as f:
        routes = f.read()
    assert "  - api_resource: execution-logs\n" in routes
    routes = routes.replace("  - api_resource: execution-logs\n",
                            "  - api_resource: execution-logs\n  - api_resource: notes\n")
    with open(os.path.join(etc, "routes.yaml"), "w") as f:
        f.write(routes)
    with open(os.path.join(src_etc, "resources.yaml")) as f:
        resources = f.read()
    with open(os.path.join(etc, "resources.yaml"), "w") as f:
        f.write(resources.rstrip("\n") + "\n" + NOTES_RESOURCE)
    src_mig = os.path.join(ROOT, "db", "migrations")
    for name in os.listdir(src_mig):
        shutil.copy(os.path.join(src_mig, name), mig)
    with open(os.path.join(mig, "0100_create_notes_table.up.sql"), "w") as f:
        f.write(NOTES_UP)
    with open(os.path.join(mig, "0100_create_notes_table.down.sql"), "w") as f:
        f.write(NOTES_DOWN)
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
