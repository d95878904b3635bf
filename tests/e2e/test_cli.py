"""The aiengine command line: user:create, token:create, token:list, token:revoke, --help,
unknown commands and config:check (SPEC "Authentication", "Running it"; src/main.c)."""
import hashlib
import os
import re
import shutil
import zlib
import uuid

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN_RE = re.compile(r"\A(\d+)\|([A-Za-z0-9]{40}[0-9a-f]{8})\n\Z")


def email():
    return f"cli-{uuid.uuid4().hex[:12]}@example.com"


def new_user(stack, addr=None, name="CLI User"):
    addr = addr or email()
    r = stack.cli("user:create", "--name", name, "--email", addr, check=False)
    assert r.returncode == 0, r.stderr
    return addr, int(r.stdout.strip())


def token_count(stack, where="1=1"):
    return int(stack.sql(f"SELECT COUNT(*) FROM personal_access_tokens WHERE {where}")[0][0])


def get(stack, tok, path="/api/workflows"):
    return requests.get(stack.url + path, headers={"Authorization": "Bearer " + tok,
                                                   "Accept": "application/json"}, timeout=30)


# ---------------------------------------------------------------- user:create

def test_user_create_prints_the_id(stack):
    addr = email()
    r = stack.cli("user:create", "--name", "Ada Lovelace", "--email", addr, check=False)
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"\d+\n", r.stdout), repr(r.stdout)
    uid = int(r.stdout)
    rows = stack.sql(f"SELECT id, name, email, password LIKE '$2y$%', created_at IS NOT NULL "
                     f"FROM users WHERE email = '{addr}'")
    assert rows == [[str(uid), "Ada Lovelace", addr, "1", "1"]]


def test_user_create_equals_form(stack):
    addr = email()
    r = stack.cli("user:create", "--name=Eq Form", f"--email={addr}", check=False)
    assert r.returncode == 0, r.stderr
    assert stack.sql(f"SELECT name FROM users WHERE id = {int(r.stdout)}") == [["Eq Form"]]


def test_user_create_duplicate_email(stack):
    addr, uid = new_user(stack)
    for dup in (addr, addr.upper()):
        r = stack.cli("user:create", "--name", "Again", "--email", dup, check=False)
        assert r.returncode != 0, dup
        assert r.stdout == ""
        assert "already exists" in r.stderr and dup in r.stderr, r.stderr
        assert "Duplicate entry" not in r.stderr, "raw database error instead of a message"
    assert stack.sql(f"SELECT COUNT(*) FROM users WHERE email = '{addr}'") == [["1"]]


@pytest.mark.parametrize("args", [
    [],
    ["--name", "No Mail"],
    ["--email", "nomail@example.com"],
    ["--name", "", "--email", "empty-name@example.com"],
    ["--name", "Bad", "--email", "not-an-email"],
    ["--name", "Bad", "--email", "@example.com"],
    ["--name", "Bad", "--email", "a b@example.com"],
], ids=["none", "no-email", "no-name", "empty-name", "no-at", "empty-local", "space"])
def test_user_create_rejects_bad_input(stack, args):
    before = int(stack.sql("SELECT COUNT(*) FROM users")[0][0])
    r = stack.cli("user:create", *args, check=False)
    assert r.returncode != 0
    assert r.stdout == ""
    assert r.stderr.strip(), "no message on stderr"
    assert int(stack.sql("SELECT COUNT(*) FROM users")[0][0]) == before


# ---------------------------------------------------------------- token:create

def test_token_create_prints_one_line(stack):
    addr, uid = new_user(stack)
    r = stack.cli("token:create", "--email", addr, "--name", "one-line", check=False)
    assert r.returncode == 0, r.stderr
    m = TOKEN_RE.match(r.stdout)
    assert m, f"stdout is not exactly one '<id>|<48 chars>' line: {r.stdout!r}"
    tid, secret = int(m.group(1)), m.group(2)
    # Sanctum's format: 40 random characters followed by their crc32b
    assert secret[40:] == format(zlib.crc32(secret[:40].encode()) & 0xFFFFFFFF, "08x")
    assert secret not in r.stderr
    row = stack.sql(f"SELECT tokenable_id, name, token FROM personal_access_tokens WHERE id = {tid}")
    assert row == [[str(uid), "one-line", hashlib.sha256(secret.encode()).hexdigest()]]
    # it works against the API
    assert get(stack, r.stdout.strip()).status_code == 200


def test_token_create_secrets_are_unique(stack):
    addr, _ = new_user(stack)
    seen = set()
    for i in range(5):
        r = stack.cli("token:create", "--email", addr, "--name", f"u{i}", check=False)
        assert r.returncode == 0, r.stderr
        m = TOKEN_RE.match(r.stdout)
        assert m, r.stdout
        seen.add(m.group(2))
    assert len(seen) == 5


def test_token_create_abilities_and_expiry(stack):
    addr, _ = new_user(stack)
    r = stack.cli("token:create", "--email", addr, "--name", "scoped", "--abilities", "read,write",
                  "--expires-in", "30d", check=False)
    assert r.returncode == 0, r.stderr
    tid = int(TOKEN_RE.match(r.stdout).group(1))
    rows = stack.sql("SELECT abilities, TIMESTAMPDIFF(SECOND, NOW(), expires_at) "
                     f"FROM personal_access_tokens WHERE id = {tid}")
    assert rows[0][0] == '["read","write"]'
    assert abs(int(rows[0][1]) - 30 * 86400) <= 5, rows
    for dur, secs in (("12h", 12 * 3600), ("15m", 900), ("90s", 90)):
        r = stack.cli("token:create", "--email", addr, "--name", "d" + dur, "--expires-in", dur,
                      check=False)
        assert r.returncode == 0, (dur, r.stderr)
        tid = int(TOKEN_RE.match(r.stdout).group(1))
        left = int(stack.sql("SELECT TIMESTAMPDIFF(SECOND, NOW(), expires_at) FROM "
                             f"personal_access_tokens WHERE id = {tid}")[0][0])
        assert abs(left - secs) <= 5, (dur, left)


def test_token_create_explicit_star_and_long_name(stack):
    addr, _ = new_user(stack)
    r = stack.cli("token:create", "--email", addr, "--name", "star", "--abilities", "*", check=False)
    assert r.returncode == 0, r.stderr
    tid = int(TOKEN_RE.match(r.stdout).group(1))
    assert stack.sql(f"SELECT abilities FROM personal_access_tokens WHERE id = {tid}") == [['["*"]']]
    # the name column is varchar(255): longer is an error, not a truncated row
    before = token_count(stack)
    r = stack.cli("token:create", "--email", addr, "--name", "n" * 256, check=False)
    assert r.returncode != 0
    assert r.stdout == ""
    assert r.stderr.strip()
    assert token_count(stack) == before


def test_token_create_unknown_user(stack):
    before = token_count(stack)
    ghost = email()
    r = stack.cli("token:create", "--email", ghost, "--name", "ghost", check=False)
    assert r.returncode != 0
    assert r.stdout == ""
    assert ghost in r.stderr and "user" in r.stderr.lower(), r.stderr
    assert token_count(stack) == before


@pytest.mark.parametrize("abilities", ["a b", "", "x,,y", "read,", ",read", 're"ad', "read;write",
                                       "read, write", "r\u00e9ad"])
def test_token_create_bad_abilities(stack, abilities):
    addr, _ = new_user(stack)
    before = token_count(stack)
    r = stack.cli("token:create", "--email", addr, "--name", "bad-ab", "--abilities", abilities,
                  check=False)
    assert r.returncode != 0, r.stdout
    assert r.stdout == ""
    assert "abilit" in r.stderr.lower(), r.stderr
    assert token_count(stack) == before


@pytest.mark.parametrize("dur", ["abc", "0", "0s", "-1d", "5w", "1.5h", "100000d", "", "30 d",
                                 "99999999999999999999s"])
def test_token_create_bad_expires_in(stack, dur):
    addr, _ = new_user(stack)
    before = token_count(stack)
    r = stack.cli("token:create", "--email", addr, "--name", "bad-exp", "--expires-in", dur,
                  check=False)
    assert r.returncode != 0, r.stdout
    assert r.stdout == ""
    assert "expires-in" in r.stderr, r.stderr
    assert token_count(stack) == before


@pytest.mark.parametrize("args", [[], ["--name", "x"], ["--email", "a@example.com"],
                                  ["--email", "a@example.com", "--name", ""]],
                         ids=["none", "no-email", "no-name", "empty-name"])
def test_token_create_missing_options(stack, args):
    before = token_count(stack)
    r = stack.cli("token:create", *args, check=False)
    assert r.returncode != 0
    assert r.stdout == ""
    assert "usage" in r.stderr.lower(), r.stderr
    assert token_count(stack) == before


def test_token_create_without_database(stack):
    env = stack.env()
    env["AIENGINE_DB_SOCKET"] = os.path.join(stack.base, "no-such.sock")
    r = stack.cli("token:create", "--email", "x@example.com", "--name", "n", check=False, env=env)
    assert r.returncode != 0
    assert r.stdout == ""
    assert "database" in r.stderr.lower(), r.stderr


# ---------------------------------------------------------------- token:list

def test_token_list_shows_names_never_secrets(stack):
    addr, _ = new_user(stack)
    name = "list-" + uuid.uuid4().hex[:8]
    tok = stack.create_token(email=addr, name=name, abilities="read")
    tid, secret = tok.split("|", 1)
    digest = hashlib.sha256(secret.encode()).hexdigest()
    for args in ((), ("--email", addr)):
        r = stack.cli("token:list", *args, check=False)
        assert r.returncode == 0, r.stderr
        line = [ln for ln in r.stdout.splitlines() if name in ln]
        assert len(line) == 1, r.stdout
        assert line[0].split()[0] == tid
        assert addr in line[0]
        out = r.stdout + r.stderr
        assert secret not in out and secret[:40] not in out and secret[-8:] not in line[0]
        assert digest not in out and digest[:16] not in out


def test_token_list_filters_by_email(stack):
    a, _ = new_user(stack)
    b, _ = new_user(stack)
    na, nb = "la-" + uuid.uuid4().hex[:8], "lb-" + uuid.uuid4().hex[:8]
    stack.create_token(email=a, name=na)
    stack.create_token(email=b, name=nb)
    r = stack.cli("token:list", "--email", a, check=False)
    assert r.returncode == 0, r.stderr
    assert na in r.stdout and nb not in r.stdout


# ---------------------------------------------------------------- token:revoke

def test_token_revoke(stack):
    addr, _ = new_user(stack)
    tok = stack.create_token(email=addr, name="to-revoke")
    tid = tok.split("|", 1)[0]
    r = stack.cli("token:revoke", tid, check=False)
    assert r.returncode == 0, r.stderr
    assert tid in r.stdout
    assert token_count(stack, f"id = {tid}") == 0
    listed = stack.cli("token:list", "--email", addr, check=False).stdout
    assert "to-revoke" not in listed
    # a second revoke of the same id finds nothing
    r = stack.cli("token:revoke", tid, check=False)
    assert r.returncode != 0
    assert tid in r.stderr


@pytest.mark.parametrize("args", [["99999999"], ["abc"], ["0"], ["-1"], ["12x"], []],
                         ids=["unknown", "alpha", "zero", "negative", "suffix", "none"])
def test_token_revoke_bad_id(stack, args):
    before = token_count(stack)
    r = stack.cli("token:revoke", *args, check=False)
    assert r.returncode != 0
    assert r.stderr.strip()
    assert token_count(stack) == before


# ---------------------------------------------------------------- help and commands

COMMANDS = ["serve", "migrate", "migrate:status", "migrate:rollback", "routes", "openapi",
            "config:check", "user:create", "token:create", "token:list", "token:revoke", "work",
            "event:fire", "run:cancel", "run:retry", "workflows:check"]


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_global_help(stack, flag):
    r = stack.cli(flag, check=False)
    assert r.returncode == 0, r.stderr
    assert "usage" in r.stdout.lower()
    for c in COMMANDS:
        assert c in r.stdout, c


@pytest.mark.parametrize("cmd", COMMANDS)
def test_command_help(stack, cmd):
    r = stack.cli(cmd, "--help", check=False)
    assert r.returncode == 0, r.stderr
    assert cmd in r.stdout
    if cmd == "token:create":
        for o in ("--email", "--name", "--abilities", "--expires-in"):
            assert o in r.stdout, o


@pytest.mark.parametrize("cmd,opts", [
    ("user:create", ["--name", "--email"]),
    ("token:list", ["--email"]),
    ("event:fire", ["--object", "--context", "--idempotency-key", "EVENT"]),
    ("run:retry", ["ID"]),
])
def test_command_help_lists_its_options(stack, cmd, opts):
    r = stack.cli(cmd, "-h", check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: aiengine {cmd}")
    for o in opts + ["--etc DIR", "--help"]:
        assert o in r.stdout, o


def test_version(stack):
    r = stack.cli("--version", check=False)
    assert r.returncode == 0
    assert re.fullmatch(r"aiengine \S+\n", r.stdout), r.stdout


# getopt_long, with every option spelt out: a misspelt, unknown or abbreviated option (or a
# flag given a value) is refused with the command's usage line before anything is touched
@pytest.mark.parametrize("args,bad", [
    (["user:create", "--nmae", "X", "--email", "m@example.com"], "--nmae"),
    (["user:create", "--nam", "X", "--email", "m@example.com"], "--nam"),
    (["user:create", "--name", "X", "--email", "m@example.com", "--admin"], "--admin"),
    (["token:create", "--emial", "a@example.com", "--name", "n"], "--emial"),
    (["token:create", "--email", "a@example.com", "--name", "n", "--expires", "1d"], "--expires"),
    (["token:create", "--email", "a@example.com", "--name", "n", "-x"], "-x"),
    (["token:list", "--email=a@example.com", "--all"], "--all"),
    (["event:fire", "lead.created", "--objet", "1"], "--objet"),
    (["run:retry", "--force", "1"], "--force"),
    (["migrate:rollback", "--step", "1"], "--step"),
    (["migrate", "--help=yes"], "--help=yes"),
], ids=["misspelt", "abbreviated", "unknown", "token-misspelt", "token-prefix", "short",
        "list-unknown", "fire-misspelt", "retry-unknown", "rollback-unknown", "flag-value"])
def test_unknown_options_are_refused(stack, args, bad):
    users, tokens = int(stack.sql("SELECT COUNT(*) FROM users")[0][0]), token_count(stack)
    migrations = stack.sql("SELECT COUNT(*) FROM migrations")
    r = stack.cli(*args, check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == ""
    assert f"unknown option {bad}" in r.stderr, r.stderr
    assert f"usage: aiengine {args[0]}" in r.stderr, r.stderr
    assert int(stack.sql("SELECT COUNT(*) FROM users")[0][0]) == users
    assert token_count(stack) == tokens
    assert stack.sql("SELECT COUNT(*) FROM migrations") == migrations


@pytest.mark.parametrize("args,msg", [
    (["token:create", "--name", "n", "--email"], "missing value for --email"),
    (["token:create", "--name", "n"], "--email is required"),
    (["user:create", "--name", "a", "--name", "b", "--email", "x@example.com"], "given twice"),
    (["token:revoke", "1", "2"], "unexpected argument 2"),
    (["event:fire"], "needs EVENT"),
    (["routes", "extra"], "unexpected argument extra"),
])
def test_usage_errors(stack, args, msg):
    r = stack.cli(*args, check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == ""
    assert msg in r.stderr and "usage: aiengine" in r.stderr, r.stderr


def test_values_may_look_like_options(stack):
    """A value is whatever follows its option, even text starting with '-'; "--" ends the
    options."""
    addr = email()
    r = stack.cli("user:create", "--name", "-dash name", "--email", addr, check=False)
    assert r.returncode == 0, r.stderr
    assert stack.sql(f"SELECT name FROM users WHERE email = '{addr}'") == [["-dash name"]]


def test_command_help_has_no_side_effects(stack):
    """`migrate:rollback --help` must only print help (it would otherwise drop tables)."""
    r = stack.cli("migrate:rollback", "--help", check=False)
    assert r.returncode == 0
    assert stack.sql("SHOW TABLES LIKE 'personal_access_tokens'") == [["personal_access_tokens"]]
    before = token_count(stack)
    r = stack.cli("token:create", "--email", "x@example.com", "--name", "n", "--help", check=False)
    assert r.returncode == 0
    assert token_count(stack) == before


@pytest.mark.parametrize("args", [["frobnicate"], ["token:destroy", "1"], ["TOKEN:LIST"],
                                  ["--bogus", "routes"], []],
                         ids=["unknown", "near-miss", "case", "bad-option", "none"])
def test_unknown_command_fails(stack, args):
    r = stack.cli(*args, check=False)
    assert r.returncode != 0
    assert r.stdout == ""
    assert "usage" in r.stderr.lower()
    if args and not args[0].startswith("-"):
        assert "unknown command" in r.stderr and args[0] in r.stderr


# ---------------------------------------------------------------- config:check

@pytest.fixture
def etc_copy(tmp_path):
    d = tmp_path / "etc"
    shutil.copytree(os.path.join(ROOT, "etc"), d)
    return d


def _check(stack, etc_dir, via):
    if via == "--etc":
        return stack.cli("--etc", str(etc_dir), "config:check", check=False)
    env = stack.env()
    env["AIENGINE_ETC"] = str(etc_dir)
    return stack.cli("config:check", check=False, env=env)


def test_config_check_etc_after_command(stack, etc_copy):
    _break(etc_copy / "routes.yaml", "handler: health", "handler: bogus")
    r = stack.cli("config:check", "--etc", str(etc_copy), check=False)
    assert r.returncode != 0
    assert "routes.yaml:" in r.stderr and "bogus" in r.stderr, r.stderr


@pytest.mark.parametrize("via", ["--etc", "env"])
def test_config_check_ok(stack, etc_copy, via):
    r = _check(stack, os.path.join(ROOT, "etc"), via)
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout
    r = _check(stack, etc_copy, via)  # an untouched copy is just as good
    assert r.returncode == 0, r.stderr


def _break(path, old, new):
    text = path.read_text()
    assert old in text, old
    text = text.replace(old, new, 1)
    path.write_text(text)
    line = text[:text.index(new)].count("\n") + 1
    return line


@pytest.mark.parametrize("via", ["--etc", "env"])
def test_config_check_unknown_handler(stack, etc_copy, via):
    line = _break(etc_copy / "routes.yaml", "handler: health", "handler: bogus")
    r = _check(stack, etc_copy, via)
    assert r.returncode != 0
    assert f"routes.yaml:{line}:" in r.stderr, r.stderr
    assert "bogus" in r.stderr
    # the real etc/ is untouched and still fine
    assert _check(stack, os.path.join(ROOT, "etc"), via).returncode == 0


def test_config_check_yaml_syntax_error(stack, etc_copy):
    (etc_copy / "routes.yaml").write_text("routes:\n  - method: GET\n    path: \"/api/x\n")
    r = _check(stack, etc_copy, "--etc")
    assert r.returncode != 0
    assert re.search(r"routes\.yaml:\d+:", r.stderr), r.stderr


def test_config_check_unknown_rule(stack, etc_copy):
    line = _break(etc_copy / "resources.yaml", "required|string|max:255", "required|strang|max:255")
    r = _check(stack, etc_copy, "--etc")
    assert r.returncode != 0
    assert f"resources.yaml:{line}:" in r.stderr, r.stderr
    assert "strang" in r.stderr


def test_config_check_unknown_resource_in_route(stack, etc_copy):
    line = _break(etc_copy / "routes.yaml", "resource: workflows\n    relation: steps",
                  "resource: workflowz\n    relation: steps")
    r = _check(stack, etc_copy, "--etc")
    assert r.returncode != 0
    assert re.search(r"routes\.yaml:\d+:", r.stderr), r.stderr
    got = int(re.search(r"routes\.yaml:(\d+):", r.stderr).group(1))
    assert abs(got - line) <= 3, (got, line, r.stderr)


def test_config_check_missing_dir(stack, tmp_path):
    r = stack.cli("--etc", str(tmp_path / "nope"), "config:check", check=False)
    assert r.returncode != 0
    assert r.stderr.strip()


def test_config_check_refuses_a_short_app_key(stack):
    """The app key signs cursors: shorter than 32 bytes is refused; empty means generated."""
    env = stack.env()
    env["AIENGINE_APP_KEY"] = "k" * 31
    r = stack.cli("config:check", check=False, env=env)
    assert r.returncode != 0
    assert "app.key" in r.stderr and "32" in r.stderr, r.stderr
    r = stack.cli("migrate:status", check=False, env=env)
    assert r.returncode != 0, "every command loads the same checked config"
    for good in ("k" * 32, ""):
        env["AIENGINE_APP_KEY"] = good
        r = stack.cli("config:check", check=False, env=env)
        assert r.returncode == 0, (good, r.stderr)
