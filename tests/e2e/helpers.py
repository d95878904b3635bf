"""Plain helpers shared by the end-to-end tests (fixtures live in conftest.py).

Test files import them with `from helpers import ...`: pytest's default ("prepend") import
mode puts tests/e2e on sys.path, as it does for conftest.py.

- Values: `uniq` (a string no other test or run uses), `rand_version` (a prompt version).
- Answers: `ok` (status + JSON, returns the body), `ok_data` (also exactly {"data": ...},
  returns the record), `err` (status + JSON with a non-empty "message"), `ids`.
- Records made through the API, returning the created record: `new_workflow`, `new_prompt`,
  `new_step`, `new_log`.
- `count` (rows of a table, straight from the database), `raw_exchange` (exact bytes to and
  from nginx over a fresh TCP connection).
"""
import socket
import uuid

# The meta of page (length-aware) and cursor pagination.
PAGE_META_KEYS = {"current_page", "from", "last_page", "path", "per_page", "to", "total"}
CURSOR_META_KEYS = {"path", "per_page", "next_cursor", "prev_cursor"}


def uniq(prefix="e2e"):
    return f"{prefix}.{uuid.uuid4().hex[:12]}"


def rand_version():
    return uuid.uuid4().int % 2_000_000_000 + 2


# ---------------------------------------------------------------- answers

def ok(r, status=200):
    """`r` has `status` and a JSON body; returns the parsed body."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    return r.json()


def ok_data(r, status=200):
    """A one-record answer: as ok(), and the body is exactly {"data": ...}; returns the record."""
    body = ok(r, status)
    assert list(body.keys()) == ["data"], body
    return body["data"]


def err(r, status):
    """`r` has `status` and a JSON object body with a non-empty string "message"; returns it."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


def ids(body):
    return [row["id"] for row in body["data"]]


# ---------------------------------------------------------------- records

def new_workflow(api, trigger=None, **extra):
    body = {"name": uniq("wf"), "trigger_event": trigger or uniq("ev")}
    body.update(extra)
    return ok_data(api.post("/api/workflows", body), 201)


def new_prompt(api, **extra):
    body = {"name": uniq("prompt"), "system_prompt_text": "Be brief."}
    body.update(extra)
    return ok_data(api.post("/api/prompts", body), 201)


def new_step(api, workflow_id, step_order=1, **extra):
    body = {"workflow_id": workflow_id, "step_order": step_order, "name": f"step {step_order}"}
    body.update(extra)
    return ok_data(api.post("/api/workflow-steps", body), 201)


def new_log(api, workflow_id, step_id, **extra):
    body = {"workflow_id": workflow_id, "step_id": step_id, "status": "SUCCESS"}
    body.update(extra)
    return ok_data(api.post("/api/execution-logs", body), 201)


# ---------------------------------------------------------------- database and wire

def count(stack, table, where="1=1"):
    return int(stack.sql(f"SELECT COUNT(*) FROM `{table}` WHERE {where}")[0][0])


def raw_exchange(stack, data, timeout=15, reset_ends=False):
    """Send `data` to the stack's nginx on a fresh connection and read until it closes;
    returns every byte received. A connection reset raises, unless `reset_ends` (then it
    ends the answer like a close)."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                k = s.recv(65536)
            except ConnectionResetError:
                if not reset_ends:
                    raise
                break
            if not k:
                break
            chunks.append(k)
    return b"".join(chunks)
