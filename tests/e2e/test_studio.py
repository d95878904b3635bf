"""The Studio in a real browser (issue 16): studio/tests/studio.test.mjs drives Debian's
Chromium with playwright-core against a private stack with runners and the fake model, as
`make run` serves it (nginx at /studio/, the API as the only backend). It signs in, builds
prompts and a two-step workflow, test-runs it, makes the model fail and retries, checks the
runs list and the overview, reorders steps with the keyboard and by dragging, runs axe-core
on every screen, fails on any console error, and writes the screenshots of docs/studio.md."""
import os
import shutil
import subprocess

import pytest

from engine_helpers import ROOT, engine_env, engine_stack, fake_server

STUDIO = os.path.join(ROOT, "studio")
PRICED = "gemini-2.5-flash-preview-05-20"


@pytest.fixture(scope="module")
def fake():
    yield from fake_server()


@pytest.fixture(scope="module")
def eng(fake):
    env = engine_env(fake, AIENGINE_PROVIDER_GEMINI_URL=fake.url + "/v1beta",
                     AIENGINE_PROVIDER_LOCAL_URL=fake.url + "/v1", GEMINI_API_KEY="fake-key",
                     AIENGINE_ENGINE_RETRY_BACKOFF_SECONDS=1)
    yield from engine_stack("aiengine-studio-", env)


def test_studio_in_chromium(eng, fake, tmp_path):
    # everything the browser test needs is installed by `make test` (deps.sh, studio target)
    assert os.path.exists("/usr/bin/chromium"), "apt-get install chromium (scripts/deps.sh)"
    assert os.path.exists(os.path.join(ROOT, "build", "studio", "index.html")), "make studio"
    assert os.path.isdir(os.path.join(STUDIO, "node_modules", "playwright-core")), "make studio"
    password = "studio test password"
    eng.create_user("studio@example.com", password, name="Studio tester")
    shots = os.environ.get("STUDIO_SCREENSHOTS") or str(tmp_path / "shots")
    env = dict(os.environ, STUDIO_URL=eng.url, STUDIO_EMAIL="studio@example.com",
               STUDIO_PASSWORD=password, FAKE_URL=fake.url, SCREENSHOT_DIR=shots,
               HOME=str(tmp_path))
    r = subprocess.run([shutil.which("node") or "node", os.path.join(STUDIO, "tests", "studio.test.mjs")],
                       cwd=STUDIO, env=env, capture_output=True, text=True, timeout=600)
    print(r.stdout)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-4000:]
    assert "scenarios passed" in r.stdout


def test_studio_logic():
    """The condition builder's JSON, template variables and the diff (node --test)."""
    r = subprocess.run([shutil.which("node") or "node", "--test", os.path.join(STUDIO, "tests", "logic.test.mjs")],
                       cwd=STUDIO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "# fail 0" in r.stdout
