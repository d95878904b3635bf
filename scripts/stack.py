#!/usr/bin/python3
"""A private aiengine stack: MariaDB + `aiengine serve` pools + nginx, all under one folder.

Used by `make run` (folder var/, kept between runs), by the end-to-end tests (a temporary
folder per test session) and by the benchmarks. Children run in their own sessions, so a
Ctrl-C reaches only this driver, which then stops nginx, the pools and MariaDB in order.
"""
import fcntl
import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _install_db(datadir, user_args):
    """mariadb-install-db into datadir, retried once: it has been seen to fail
    ("Unknown table 'mysql.tmp_proxies_priv'") when several run at once on a busy machine."""
    last = None
    for _ in range(3):
        shutil.rmtree(datadir, ignore_errors=True)
        os.makedirs(datadir)
        r = subprocess.run([which("mariadb-install-db"), "--no-defaults", f"--datadir={datadir}",
                            "--skip-test-db", "--auth-root-authentication-method=socket"] + user_args,
                           capture_output=True, text=True)
        if r.returncode == 0:
            return
        last = r.stdout + r.stderr
        time.sleep(0.5)
    raise RuntimeError("mariadb-install-db failed:\n" + (last or ""))


def _template_datadir(user_args):
    """A freshly initialised, never-started data folder, made once per machine (per MariaDB
    build) and copied for each new stack: faster than install-db every time, and only one
    install-db runs at a time (a file lock orders concurrent test runs)."""
    stamp = int(os.stat(which("mariadbd")).st_mtime)
    base = os.path.join("/tmp", f"aiengine-mysql-template-{os.geteuid()}-{stamp}")
    with open(base + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isdir(os.path.join(base, "mysql")):
            tmp = base + ".tmp"
            _install_db(tmp, user_args)
            shutil.rmtree(base, ignore_errors=True)
            os.rename(tmp, base)
    return base


def write_private(path, text):
    """Write a secret file that is 0600 from its first byte (never readable, even briefly,
    by anyone else): a fresh file, then renamed over the old one."""
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def nginx_account():
    """(user, group, gid) nginx's workers run as when nginx is started as root, so that they
    never hold root; None when not root (nginx then runs as the caller, which is private
    enough). Debian's www-data, else nobody."""
    if os.geteuid() != 0:
        return None
    for user in ("www-data", "nobody"):
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            continue
        return user, grp.getgrgid(pw.pw_gid).gr_name, pw.pw_gid
    raise RuntimeError("no unprivileged account (www-data or nobody) for nginx's workers")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def which(name, *extra):
    for d in list(extra) + ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]:
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    p = shutil.which(name)
    if not p:
        raise RuntimeError(f"{name} not found; run scripts/deps.sh")
    return p


class Stack:
    def __init__(self, base, port=None, workers=2, pools=1, binary=None, app_key=None,
                 db_password=None, env=None, nginx_workers=1, access_log=False,
                 extra_nginx=None):
        self.base = os.path.abspath(base)
        self.port = port or free_port()
        self.workers = workers
        self.pools = pools
        self.binary = binary or os.environ.get("AIENGINE_BIN") or os.path.join(ROOT, "build", "aiengine")
        # aiengine refuses app keys shorter than 32 bytes
        self.app_key = app_key or "test-app-key-0123456789abcdef-" + os.path.basename(self.base)
        # random per stack unless given (make run keeps one per install in var/db.password)
        self.db_password = db_password or secrets.token_hex(24)
        self.extra_env = env or {}
        self.nginx_workers = nginx_workers
        self.access_log = access_log
        self.extra_nginx = extra_nginx or {}  # {"name.conf": "server { ... }"} beside the site
        self.datadir = os.path.join(self.base, "mysql")
        self.rundir = os.path.join(self.base, "run")
        self.logdir = os.path.join(self.base, "log")
        self.db_socket = os.path.join(self.rundir, "db", "mariadb.sock")
        self.procs = {}
        self.pool_procs = []
        self.nginx_account = nginx_account()
        self._make_private_dirs()

    def _make_private_dirs(self):
        """Nobody but this user (and nginx's workers, for the worker sockets) reaches
        anything here: the base and run/ are open only to nginx's group (setgid on run/, so
        the worker sockets, mode 0660, are in that group); MariaDB's socket — which mariadbd
        makes 0777 — sits in run/db/, 0700; logs are 0700."""
        for d in (self.base, self.rundir, os.path.dirname(self.db_socket), self.logdir):
            os.makedirs(d, exist_ok=True)
        acct = self.nginx_account
        if acct:
            for d in (self.base, self.rundir):
                os.chown(d, -1, acct[2])
            os.chmod(self.base, 0o750)
            os.chmod(self.rundir, 0o2750)
        else:
            os.chmod(self.base, 0o700)
            os.chmod(self.rundir, 0o700)
        os.chmod(os.path.dirname(self.db_socket), 0o700)
        os.chmod(self.logdir, 0o700)

    # ---- MariaDB ----
    def _mysqld_user(self):
        return ["--user=root"] if os.geteuid() == 0 else []

    def start_mariadb(self):
        fresh = not os.path.isdir(os.path.join(self.datadir, "mysql"))
        if fresh:
            shutil.rmtree(self.datadir, ignore_errors=True)
            shutil.copytree(_template_datadir(self._mysqld_user()), self.datadir, symlinks=True)
        log = open(os.path.join(self.logdir, "mariadb.log"), "ab")
        self.procs["mariadb"] = subprocess.Popen(
            [which("mariadbd"), "--no-defaults", f"--datadir={self.datadir}",
             f"--socket={self.db_socket}", "--skip-networking",
             f"--pid-file={os.path.join(os.path.dirname(self.db_socket), 'mariadb.pid')}",
             "--innodb-buffer-pool-size=256M", "--innodb-flush-log-at-trx-commit=2",
             "--skip-log-bin", "--max-connections=500",
             "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"]
            + self._mysqld_user(), stdout=log, stderr=log, start_new_session=True)
        self.wait_mariadb()
        # only what aiengine needs: its data, and the DDL of its own migrations
        # (docs/operations.md gives production the same grant); the password is set every
        # start, so an install made with an older fixed password gets the random one
        self.sql_root(
            "CREATE DATABASE IF NOT EXISTS aiengine CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
            f"CREATE USER IF NOT EXISTS 'aiengine'@'localhost' IDENTIFIED BY '{self.db_password}';"
            f"ALTER USER 'aiengine'@'localhost' IDENTIFIED BY '{self.db_password}';"
            "REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'aiengine'@'localhost';"
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES "
            "ON aiengine.* TO 'aiengine'@'localhost';")
        return fresh

    def wait_mariadb(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            p = self.procs.get("mariadb")
            if p and p.poll() is not None:
                raise RuntimeError("mariadbd exited; see " + os.path.join(self.logdir, "mariadb.log"))
            r = subprocess.run([which("mariadb-admin"), "--no-defaults", "-uroot", f"--socket={self.db_socket}",
                                "ping"], capture_output=True)
            if r.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("MariaDB did not start")

    def stop_mariadb(self):
        self._stop("mariadb", signal.SIGTERM, 60)

    def sql_root(self, sql, database=None):
        cmd = [which("mariadb"), "--no-defaults", "-uroot", f"--socket={self.db_socket}", "-N", "-B"]
        if database:
            cmd.append(database)
        r = subprocess.run(cmd, input=sql, capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"SQL failed: {r.stderr.strip()}\n{sql}")
        return r.stdout

    def sql(self, sql):
        """Run SQL as root in the app database; returns rows as lists of strings."""
        out = self.sql_root(sql, "aiengine")
        return [line.split("\t") for line in out.splitlines()]

    # ---- aiengine ----
    def env(self, listen=None):
        e = dict(os.environ)
        e.update({
            "AIENGINE_ETC": os.path.join(ROOT, "etc"),
            "AIENGINE_MIGRATIONS": os.path.join(ROOT, "db", "migrations"),
            "AIENGINE_DB_SOCKET": self.db_socket,
            "AIENGINE_DB_USER": "aiengine",
            "AIENGINE_DB_PASSWORD": self.db_password,
            "AIENGINE_DB_NAME": "aiengine",
            "AIENGINE_WORKERS": str(self.workers),
            "AIENGINE_APP_KEY": self.app_key,
            # `work` counts here and `serve` reads it (GET /api/metrics): private per stack
            "AIENGINE_ENGINE_METRICS": os.path.join(self.rundir, "aiengine-work.metrics"),
        })
        e["AIENGINE_LISTEN"] = listen or self.pool_socket(0)
        e.update(self.extra_env)
        return e

    def pool_socket(self, i):
        return os.path.join(self.rundir, f"aiengine-{i}.sock")

    def cli(self, *args, check=True, env=None):
        r = subprocess.run([self.binary, *args], capture_output=True, text=True, env=env or self.env())
        if check and r.returncode:
            raise RuntimeError(f"aiengine {' '.join(args)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return r

    def migrate(self):
        return self.cli("migrate")

    def start_pool(self, i, extra_env=None):
        env = self.env(self.pool_socket(i))
        if extra_env:
            env.update(extra_env)
        log = open(os.path.join(self.logdir, f"aiengine-{i}.log"), "ab")
        p = subprocess.Popen([self.binary, "serve"], env=env, stdout=log, stderr=log,
                             start_new_session=True)
        deadline = time.time() + 20
        while not os.path.exists(self.pool_socket(i)):
            if p.poll() is not None:
                raise RuntimeError(f"aiengine serve exited; see {self.logdir}/aiengine-{i}.log")
            if time.time() > deadline:
                raise RuntimeError("aiengine did not create its socket")
            time.sleep(0.05)
        while len(self.pool_procs) <= i:
            self.pool_procs.append(None)
        self.pool_procs[i] = p
        return p

    def stop_pool(self, i, sig=signal.SIGTERM, timeout=40):
        p = self.pool_procs[i]
        if p and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode if p else None

    def worker_pids(self, i=0):
        master = self.pool_procs[i].pid
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True)
        return [int(x) for x in out.stdout.split()]

    # ---- the engine's runners (`aiengine work`) ----
    def start_work(self, extra_env=None, name="work"):
        """Start `aiengine work` (a master and its runners) with the stack's environment
        plus extra_env; its log is log/<name>.log. Returns the Popen of the master."""
        env = self.env()
        if extra_env:
            env.update(extra_env)
        log = open(os.path.join(self.logdir, f"{name}.log"), "ab")
        p = subprocess.Popen([self.binary, "work"], env=env, stdout=log, stderr=log,
                             start_new_session=True)
        self.procs[name] = p
        return p

    def stop_work(self, name="work", sig=signal.SIGTERM, timeout=60):
        """Stop a `start_work` master (SIGTERM drains its runners); returns its exit code."""
        p = self.procs.get(name)
        if p and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode if p else None

    def runner_pids(self, name="work"):
        """The pids of a `start_work` master's runner processes."""
        master = self.procs[name].pid
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True)
        return [int(x) for x in out.stdout.split()]

    # ---- nginx ----
    def render_nginx(self):
        ndir = os.path.join(self.base, "nginx")
        for sub in ("tmp/body", "tmp/fastcgi", "tmp/proxy", "tmp/uwsgi", "tmp/scgi", "extra"):
            os.makedirs(os.path.join(ndir, sub), exist_ok=True)
        for name, text in self.extra_nginx.items():
            with open(os.path.join(ndir, "extra", name), "w") as f:
                f.write(text)
        # every pool once as a primary and twice as a backup that is never taken out: a GET
        # whose worker dies mid-request is retried on a fresh connection (another worker),
        # even with one pool whose primary entry is out; see the template's comment
        servers = "\n".join([f"    server unix:{self.pool_socket(i)} max_fails=3 fail_timeout=1s;"
                              for i in range(self.pools)] +
                             [f"    server unix:{self.pool_socket(i)} backup max_fails=0;"
                              for _ in range(2) for i in range(self.pools)])
        subst = {
            "@UPSTREAM_SERVERS@": servers,
            "@LISTEN@": f"127.0.0.1:{self.port}",
            "@MAX_BODY@": "1m",
            "@NGINX_FASTCGI_PARAMS@": "/etc/nginx/fastcgi_params",
            "@NGINX_MIME_TYPES@": "/etc/nginx/mime.types",
            "@PREFIX@": ndir,
            "@USER_LINE@": (f"user {self.nginx_account[0]} {self.nginx_account[1]};"
                            if self.nginx_account else ""),
            "@NGINX_WORKERS@": str(self.nginx_workers),
            "@ACCESS_LOG@": os.path.join(self.logdir, "nginx-access.log") if self.access_log else "off",
            # the folder holding studio/ (make builds it into build/studio)
            "@STUDIO_ROOT@": os.environ.get("AIENGINE_STUDIO_ROOT") or os.path.join(ROOT, "build"),
        }
        for src, dst in (("aiengine-site.conf.in", "aiengine-site.conf"), ("nginx.conf.in", "nginx.conf")):
            text = open(os.path.join(ROOT, "nginx", src)).read()
            for k, v in subst.items():
                text = text.replace(k, v)
            with open(os.path.join(ndir, dst), "w") as f:
                f.write(text)
        return ndir

    def start_nginx(self):
        ndir = self.render_nginx()
        log = open(os.path.join(self.logdir, "nginx.log"), "ab")
        self.procs["nginx"] = subprocess.Popen(
            [which("nginx"), "-p", ndir, "-c", os.path.join(ndir, "nginx.conf"), "-e",
             os.path.join(ndir, "error.log")], stdout=log, stderr=log, start_new_session=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.procs["nginx"].poll() is not None:
                raise RuntimeError("nginx exited; see " + os.path.join(ndir, "error.log"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    # ---- whole stack ----
    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, timeout=30):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception as e:  # noqa: BLE001 - any failure means "not yet"
                last = e
            time.sleep(0.1)
        raise RuntimeError(f"the stack did not become healthy: {last}")

    def start(self):
        self.start_mariadb()
        self.migrate()
        for i in range(self.pools):
            self.start_pool(i)
        self.start_nginx()
        self.wait_healthy()
        return self

    def create_token(self, email="dev@example.com", name="dev", abilities=None, expires_in=None,
                     user_name="Developer"):
        r = self.cli("user:create", "--name", user_name, "--email", email, check=False)
        if r.returncode and "already exists" not in r.stderr:
            raise RuntimeError(r.stderr)
        args = ["token:create", "--email", email, "--name", name]
        if abilities:
            args += ["--abilities", abilities]
        if expires_in:
            args += ["--expires-in", expires_in]
        return self.cli(*args).stdout.strip()

    def create_user(self, email, password, name="Studio user"):
        """A user who signs in with a password (the Studio); the password goes through stdin."""
        r = subprocess.run([self.binary, "user:create", "--name", name, "--email", email,
                            "--password", "-"], input=password + "\n", capture_output=True,
                           text=True, env=self.env())
        if r.returncode:
            raise RuntimeError(f"user:create failed:\n{r.stderr}")

    def _stop(self, name, sig, timeout):
        p = self.procs.get(name)
        if p and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop(self):
        for name in [n for n in self.procs if n.startswith("work")]:
            self.stop_work(name)
        self._stop("nginx", signal.SIGQUIT, 10)
        for i in range(len(self.pool_procs)):
            try:
                self.stop_pool(i)
            except Exception:  # noqa: BLE001 - keep stopping the rest
                pass
        self.stop_mariadb()


def main_run():
    """`make run`: the service on http://127.0.0.1:8080 with its own MariaDB under var/."""
    # AIENGINE_RUN_DIR: another folder than the checkout's var/ (tests/e2e/test_checkout.py)
    base = os.path.abspath(os.environ.get("AIENGINE_RUN_DIR") or os.path.join(ROOT, "var"))
    port = int(os.environ.get("PORT", "8080"))
    key_file = os.path.join(base, "app.key")
    password_file = os.path.join(base, "db.password")
    os.makedirs(base, exist_ok=True)
    # one `make run` per checkout: a second would start MariaDB, the pools and nginx over the
    # first one's sockets and data. The lock is the kernel's, so it goes with the process
    # however that ends (no stale pid file to clean up by hand).
    lock = open(os.path.join(base, "run.lock"), "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        pid = lock.read().strip() or "?"
        print(f"make run is already running in this checkout (pid {pid}, lock {lock.name});\n"
              f"stop it first (Ctrl-C in its terminal, or kill {pid}).", file=sys.stderr)
        sys.exit(1)
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    if not os.path.exists(key_file):
        write_private(key_file, os.urandom(32).hex())
    if not os.path.exists(password_file):
        write_private(password_file, secrets.token_hex(24))
    stack = Stack(base, port=port, workers=int(os.environ.get("WORKERS", "4")),
                  app_key=open(key_file).read().strip(), access_log=True)
    stack.db_password = open(password_file).read().strip()
    # the CLI run from this checkout reads this (src/envfile.c) for any AIENGINE_* variable
    # not already set, so `build/aiengine token:create ...` reaches this private database
    write_private(os.path.join(base, "aiengine.env"),
                  "# written by `make run` (scripts/stack.py): its private database, for the CLI\n"
                  "# in this checkout; the environment wins over these\n"
                  f"AIENGINE_DB_SOCKET={stack.db_socket}\n"
                  "AIENGINE_DB_USER=aiengine\n"
                  f"AIENGINE_DB_PASSWORD={stack.db_password}\n"
                  "AIENGINE_DB_NAME=aiengine\n")
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        print("Starting MariaDB (data in var/mysql) ...", flush=True)
        stack.start_mariadb()
        print(stack.migrate().stdout, end="", flush=True)
        stack.start_pool(0)
        stack.start_work()
        stack.start_nginx()
        stack.wait_healthy()
        token_file = os.path.join(base, "token")
        token = open(token_file).read().strip() if os.path.exists(token_file) else ""
        ok = False
        if token:
            req = urllib.request.Request(stack.url + "/api/workflows?per_page=1",
                                         headers={"Authorization": "Bearer " + token})
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    ok = r.status == 200
            except Exception:  # noqa: BLE001
                ok = False
        if not ok:
            token = stack.create_token(email="dev@localhost", name="make-run")
            write_private(token_file, token + "\n")
        # the Studio's first user: its password is kept in var/studio.password (0600); without
        # that file the user is made again, so the password printed below always works
        studio_email = "admin@example.com"
        studio_pw_file = os.path.join(base, "studio.password")
        if not os.path.exists(studio_pw_file):
            stack.sql(f"DELETE FROM users WHERE email = '{studio_email}'")
            studio_pw = secrets.token_urlsafe(12)
            stack.create_user(studio_email, studio_pw, name="Admin")
            write_private(studio_pw_file, studio_pw + "\n")
        studio_pw = open(studio_pw_file).read().strip()
        print(f"""
aiengine is running on {stack.url}  (Ctrl-C stops everything it started)

  Studio    : {stack.url}/studio/
              sign in as {studio_email} with password {studio_pw}   (also in var/studio.password)

  API token : {token}   (also in var/token)
  try       : curl -s -H 'Authorization: Bearer {token}' {stack.url}/api/workflows
  health    : curl -s {stack.url}/api/health
  fire      : curl -s -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\
                -d '{{"event":"lead.created","object_id":"lead-1","context":{{"lead_name":"Ana"}}}}' {stack.url}/api/events
  runners   : aiengine work (log: var/log/work.log); workflows:check lists steps that cannot run
  CLI       : build/aiengine token:list   (from this checkout it finds this database through
              var/aiengine.env; no exports needed)
  logs      : var/log/   config: etc/   database socket: {stack.db_socket}
""", flush=True)
        while not stopping:
            if stack.pool_procs[0].poll() is not None:
                print("aiengine exited; see var/log/aiengine-0.log", file=sys.stderr)
                break
            if stack.procs["work"].poll() is not None:
                # runs are durable: a new `aiengine work` takes over (after the leases of
                # any runner that died with it expire)
                print("aiengine work exited; starting it again (see var/log/work.log)",
                      file=sys.stderr)
                time.sleep(1)
                stack.start_work()
            if stack.procs["nginx"].poll() is not None:
                print("nginx exited; see var/nginx/error.log", file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        print("\nStopping ...", flush=True)
        stack.stop()
        print("Stopped.")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "run":
        main_run()
    else:
        print("usage: stack.py run", file=sys.stderr)
        sys.exit(2)
