"""A checkout as a newcomer meets it (issue 13): `make run` (scripts/stack.py run, here in a
private folder and on a free port), then the README's commands, verbatim, from the checkout,
with no AIENGINE_* exports: the CLI finds make run's private database through
var/aiengine.env. A second `make run` in the same checkout refuses with a clear message.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.abspath(os.environ.get("AIENGINE_BIN") or os.path.join(ROOT, "build", "aiengine"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra):
    """The newcomer's shell: nothing of aiengine's exported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIENGINE_")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def checkout():
    """A folder laid out like a checkout (etc/, db/, build/ and tests/ from this one) whose
    var/ is a running `make run`. Yields (folder, port, driver process)."""
    top = tempfile.mkdtemp(prefix="aiengine-checkout-")
    os.chmod(top, 0o755)
    for name in ("etc", "db", "tests"):
        os.symlink(os.path.join(ROOT, name), os.path.join(top, name))
    os.symlink(os.path.dirname(BIN), os.path.join(top, "build"))
    port = free_port()
    env = clean_env(AIENGINE_BIN=BIN, AIENGINE_RUN_DIR=os.path.join(top, "var"), PORT=str(port),
                    WORKERS="2")
    log = open(os.path.join(top, "make-run.log"), "w")
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "stack.py"), "run"],
                         cwd=top, env=env, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)
    deadline = time.time() + 120
    while True:
        if p.poll() is not None:
            raise RuntimeError("make run exited:\n" + open(log.name).read())
        if "aiengine is running" in open(log.name).read():
            break
        if time.time() > deadline:
            raise RuntimeError("make run did not come up:\n" + open(log.name).read())
        time.sleep(0.2)
    try:
        yield top, port, p, env
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        log.close()
        shutil.rmtree(top, ignore_errors=True)


def cli(top, *args, **env):
    return subprocess.run(["build/aiengine", *args], cwd=top, env=clean_env(**env),
                          capture_output=True, text=True, timeout=60)


def test_second_make_run_refuses(checkout):
    top, port, first, env = checkout
    t0 = time.time()
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "stack.py"), "run"],
                       cwd=top, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "already running in this checkout" in r.stderr, r.stderr
    assert f"pid {first.pid}" in r.stderr, r.stderr
    assert time.time() - t0 < 20  # refused up front, nothing started
    # and the first one is untouched
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as resp:
        assert resp.status == 200


def test_env_file_is_private(checkout):
    top = checkout[0]
    path = os.path.join(top, "var", "aiengine.env")
    assert os.stat(path).st_mode & 0o777 == 0o600
    text = open(path).read()
    assert "AIENGINE_DB_SOCKET=" + os.path.join(top, "var", "run", "db", "mariadb.sock") in text
    pw = open(os.path.join(top, "var", "db.password")).read().strip()
    assert f"AIENGINE_DB_PASSWORD={pw}\n" in text


def test_cli_reaches_make_runs_database_without_exports(checkout):
    top = checkout[0]
    r = cli(top, "token:list")
    assert r.returncode == 0, r.stderr
    assert "make-run" in r.stdout  # the token make run made for itself
    r = cli(top, "migrate:status")
    assert r.returncode == 0 and "0001_create_users_table" in r.stdout, r.stdout + r.stderr


def test_an_exported_database_wins_over_the_env_file(checkout):
    top = checkout[0]
    # the README's "existing MariaDB" section: exported settings, not make run's socket
    r = cli(top, "token:list", AIENGINE_DB_HOST="127.0.0.1", AIENGINE_DB_PORT="1")
    assert r.returncode == 1
    assert "cannot connect to the database" in r.stderr, r.stderr


def test_a_broken_env_file_is_named(checkout, tmp_path):
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "aiengine.env").write_text("AIENGINE_DB_USER=x\nPATH=/tmp\n")
    os.symlink(os.path.join(ROOT, "etc"), tmp_path / "etc")
    r = subprocess.run([BIN, "token:list"], cwd=tmp_path, env=clean_env(), capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert "var/aiengine.env:2: expected AIENGINE_NAME=value" in r.stderr, r.stderr


def readme_blocks():
    """The README's shell blocks a newcomer runs against make run, in the README's order:
    the one after "Then:", "Run a workflow" and "Tokens"."""
    text = open(os.path.join(ROOT, "README.md")).read()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    want = [b for b in blocks if "cat var/token" in b or "event:fire lead.created --object" in b
            and "workflow-steps" in b or "token:create --email ops@example.com" in b]
    assert len(want) == 3, want
    return want


def test_readme_commands_verbatim(checkout):
    """Each command of those blocks, as written (only the port differs), must succeed; a
    failing one is reported with its exit status."""
    top, port, _, _ = checkout
    script = "\n".join(readme_blocks()).replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    prologue = ("set -uo pipefail\nfailed=0\n"
                "trap 'echo \"FAILED($?): $BASH_COMMAND\" >&2; failed=1' ERR\n")
    r = subprocess.run(["bash", "-c", prologue + script + "\nexit $failed\n"], cwd=top,
                       env=clean_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "cannot connect" not in r.stderr
    # token:create printed one token that token:revoke then deleted
    assert re.search(r"Token \d+ revoked\.", r.stdout), r.stdout


def test_cli_help_and_misspelt_options(checkout):
    top = checkout[0]
    r = cli(top, "--help")
    assert r.returncode == 0 and "var/aiengine.env" in r.stdout
    r = cli(top, "token:create", "--emial", "ops@example.com", "--name", "x")
    assert r.returncode == 2 and r.stdout == ""
    assert "unknown option --emial" in r.stderr and "usage: aiengine token:create" in r.stderr
