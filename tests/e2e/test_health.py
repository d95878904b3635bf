"""GET /api/health: public, reports the database."""


def test_health_ok_without_token(anon):
    r = anon.get("/api/health")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"status": "ok", "database": "ok"}


def test_health_rejects_other_methods_with_allow(anon):
    r = anon.post("/api/health", {})
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, HEAD"
    assert "message" in r.json()
