"""fake_process.py — start tests/fakes/fake_model.py as a child process and talk to its
control endpoints, for the e2e tests and the benchmark:

    from fake_process import FakeModel
    with FakeModel() as fake:                      # role="both", a free port
        env["AIENGINE_PROVIDER_LOCAL_URL"] = fake.url + "/v1"
        env["CRM_URL"] = fake.url
        env["AIENGINE_ALLOWED_HOSTS"] = fake.hostport
        ...
        assert fake.requests(kind="webhook")[0]["headers"]["idempotency-key"] == "run-1-step-2"
        fake.control(script=["429", "text"]); fake.reset()

Standard library only, so bench/ scripts can use it without requests."""
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request

FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_model.py")


class FakeModel:
    def __init__(self, role="both", max_records=100000, host="127.0.0.1", port=0):
        self.args = [sys.executable, FAKE, "--role", role, "--max-records", str(max_records),
                     "--host", host, "--port", str(port)]
        self.proc = None
        self.url = None

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.stop()
            raise RuntimeError("fake_model did not start: " + line)
        self.url = line.split()[-1]
        return self

    @property
    def hostport(self):
        return self.url.split("//", 1)[1]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def requests(self, **filters):
        """Recorded requests, oldest first; filters: path=SUBSTR, kind=gemini|openai|webhook."""
        q = urllib.parse.urlencode(filters)
        return self._call("GET", "/_requests" + ("?" + q if q else ""))["requests"]

    def count(self):
        return self._call("GET", "/_count")

    def control(self, **settings):
        return self._call("POST", "/_control", settings)

    def reset(self):
        return self._call("POST", "/_reset", {})
