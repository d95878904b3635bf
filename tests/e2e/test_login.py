"""Password sign-in (issue 16; src/login.c, docs/api.md "Sign-in"): POST /api/auth/login checks
users.password with bcrypt (Laravel's $2y$ hashes verify) and issues a Sanctum token;
POST /api/auth/logout revokes it; failed sign-ins are limited per e-mail and per address."""
import os
import subprocess
import time
import uuid

import requests

from conftest import config_copy

TOKEN_CACHE_SECONDS = 2  # etc/aiengine.yaml auth.token_cache_seconds
# Laravel's UserFactory hash of "password" (bcrypt cost 10, $2y$), as Laravel stores it
LARAVEL_HASH = "$2y$10$92IXUNpkjO0rOQ5byMi.Ye4oKoEa3Ro9llC/.og/at2.uheWG/igi"
CREDENTIALS_MESSAGE = "These credentials do not match our records."


def login(stack, email, password, **extra):
    body = {"email": email, "password": password, **extra}
    return requests.post(stack.url + "/api/auth/login", json=body, timeout=30,
                         headers={"Accept": "application/json"})


def new_user(stack, password="correct horse battery"):
    email = f"person-{uuid.uuid4().hex[:10]}@example.com"
    r = subprocess.run([stack.binary, "user:create", "--name", "Person",
                        "--email", email, "--password", "-"], input=password + "\n",
                       capture_output=True, text=True, env=stack.env())
    assert r.returncode == 0, r.stderr
    return email, password


def get_workflows(stack, token):
    return requests.get(stack.url + "/api/workflows", timeout=30,
                        headers={"Authorization": "Bearer " + token, "Accept": "application/json"})


def test_login_issues_a_working_star_token(stack):
    email, password = new_user(stack)
    r = login(stack, email, password, device_name="laptop")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["abilities"] == ["*"]
    assert body["user"]["email"] == email and body["user"]["name"] == "Person"
    assert body["expires_at"].endswith("Z")
    tid, secret = body["token"].split("|", 1)
    assert len(secret) == 48
    assert get_workflows(stack, body["token"]).status_code == 200
    row = stack.sql(f"SELECT name, abilities, expires_at IS NOT NULL, token FROM "
                    f"personal_access_tokens WHERE id = {int(tid)}")[0]
    assert row[0] == "laptop" and row[1] == '["*"]' and str(row[2]) == "1"
    assert row[3] != secret and len(row[3]) == 64  # only the hash is stored


def test_laravel_hash_verifies(stack):
    email = f"laravel-{uuid.uuid4().hex[:10]}@example.com"
    stack.sql("INSERT INTO users (name, email, password, created_at, updated_at) VALUES "
              f"('Laravel', '{email}', '{LARAVEL_HASH}', NOW(), NOW())")
    r = login(stack, email, "password")
    assert r.status_code == 200, r.text
    assert login(stack, email, "Password").status_code == 422


def test_wrong_password_and_unknown_email_look_the_same(stack):
    email, _ = new_user(stack)
    wrong = login(stack, email, "not the password")
    unknown = login(stack, f"nobody-{uuid.uuid4().hex}@example.com", "not the password")
    for r in (wrong, unknown):
        assert r.status_code == 422, r.text
        assert r.json() == {"message": CREDENTIALS_MESSAGE,
                            "errors": {"email": [CREDENTIALS_MESSAGE]}}


def test_missing_and_wrong_typed_fields(stack):
    r = requests.post(stack.url + "/api/auth/login", json={}, timeout=30)
    assert r.status_code == 422
    errs = r.json()["errors"]
    assert errs["email"] == ["The email field is required."]
    assert errs["password"] == ["The password field is required."]
    r = requests.post(stack.url + "/api/auth/login", json={"email": 5, "password": ["x"]}, timeout=30)
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"email", "password"}
    r = requests.post(stack.url + "/api/auth/login", data="email=a", timeout=30,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415


def test_logout_revokes_the_token(stack):
    email, password = new_user(stack)
    token = login(stack, email, password).json()["token"]
    other = login(stack, email, password).json()["token"]
    r = requests.post(stack.url + "/api/auth/logout", timeout=30,
                      headers={"Authorization": "Bearer " + token})
    assert r.status_code == 204 and r.content == b""
    tid = int(token.split("|")[0])
    assert stack.sql(f"SELECT COUNT(*) FROM personal_access_tokens WHERE id = {tid}")[0][0] in (0, "0")
    deadline = time.time() + TOKEN_CACHE_SECONDS + 2
    while get_workflows(stack, token).status_code != 401:
        assert time.time() < deadline, "a logged-out token still works"
        time.sleep(0.2)
    assert get_workflows(stack, other).status_code == 200  # only the caller's session ends
    r = requests.post(stack.url + "/api/auth/logout", timeout=30)
    assert r.status_code == 401


def test_failures_per_email_are_limited(stack):
    email, password = new_user(stack)
    for _ in range(5):
        assert login(stack, email, "wrong password").status_code == 422
    r = login(stack, email, password)  # even the right password is refused now
    assert r.status_code == 429, r.text
    assert 0 < int(r.headers["Retry-After"]) <= 900
    assert "Too many sign-in attempts" in r.json()["message"]
    # another account from the same address is not affected
    email2, password2 = new_user(stack)
    assert login(stack, email2, password2).status_code == 200
    # the window ends: make it old, and the right password works again (and clears it)
    stack.sql("UPDATE login_attempts SET window_started_at = NOW() - INTERVAL 901 SECOND")
    assert login(stack, email, password).status_code == 200


def test_success_resets_the_email_count(stack):
    email, password = new_user(stack)
    for _ in range(4):
        assert login(stack, email, "wrong password").status_code == 422
    assert login(stack, email, password).status_code == 200
    for _ in range(4):
        assert login(stack, email, "wrong password").status_code == 422
    assert login(stack, email, password).status_code == 200


def test_failures_per_address_are_limited(make_stack):
    s = make_stack(workers=1)
    email, password = new_user(s)
    for i in range(30):  # 30 different e-mails, so only the address counter reaches its limit
        assert login(s, f"guess-{i}@example.com", "x").status_code == 422
    r = login(s, email, password)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert s.sql("SELECT COUNT(*) FROM login_attempts")[0][0] in (31, "31")


def test_limits_and_token_life_come_from_the_config(make_stack, tmp_path):
    """auth.login_* in aiengine.yaml and their AIENGINE_LOGIN_* overrides, not constants:
    2 failures per e-mail, 4 per address, a 120 s window, 10-minute tokens."""
    etc, mig = config_copy(str(tmp_path))
    path = os.path.join(etc, "aiengine.yaml")
    with open(path) as f:
        text = f.read()
    assert "login_window_seconds: 900" in text
    with open(path, "w") as f:
        f.write(text.replace("login_window_seconds: 900", "login_window_seconds: 120"))
    s = make_stack(workers=1, env={"AIENGINE_ETC": etc, "AIENGINE_MIGRATIONS": mig,
                                   "AIENGINE_LOGIN_FAILURES_PER_EMAIL": "2",
                                   "AIENGINE_LOGIN_FAILURES_PER_ADDRESS": "4",
                                   "AIENGINE_LOGIN_TOKEN_SECONDS": "600"})
    email, password = new_user(s)
    r = login(s, email, password)
    assert r.status_code == 200, r.text
    life = s.sql("SELECT TIMESTAMPDIFF(SECOND, NOW(), expires_at) FROM personal_access_tokens "
                 f"WHERE id = {int(r.json()['token'].split('|')[0])}")[0][0]
    assert 590 <= int(life) <= 600

    for _ in range(2):
        assert login(s, email, "wrong password").status_code == 422
    r = login(s, email, password)
    assert r.status_code == 429, r.text
    assert 0 < int(r.headers["Retry-After"]) <= 120
    # the address has 2 failures; two more on other e-mails reach its limit of 4
    for i in range(2):
        assert login(s, f"guess-{i}@example.com", "x").status_code == 422
    other, other_password = new_user(s)
    assert login(s, other, other_password).status_code == 429
    # a window of 120 s, not 900: 121 s later both limits are over
    s.sql("UPDATE login_attempts SET window_started_at = NOW() - INTERVAL 121 SECOND")
    assert login(s, other, other_password).status_code == 200
    assert login(s, email, password).status_code == 200


def test_cli_password_rules(stack):
    r = subprocess.run([stack.binary, "user:create", "--name", "Short",
                        "--email", f"short-{uuid.uuid4().hex[:8]}@example.com", "--password",
                        "abc"], capture_output=True, text=True, env=stack.env())
    assert r.returncode == 2 and "8 to 72" in r.stderr
    email = f"direct-{uuid.uuid4().hex[:8]}@example.com"
    r = subprocess.run([stack.binary, "user:create", "--name", "Direct",
                        "--email", email, "--password", "direct password 1"],
                       capture_output=True, text=True, env=stack.env())
    assert r.returncode == 0, r.stderr
    stored = stack.sql(f"SELECT password FROM users WHERE email = '{email}'")[0][0]
    assert stored.startswith("$2y$10$") and len(stored) == 60
    assert login(stack, email, "direct password 1").status_code == 200
