#!/usr/bin/python3
"""bench/engine.py — the engine part of `make bench` (issue 11, measurements 1, 2 and 4;
measurement 3, AI steps in flight, is bench/engine_ai.py).

1. intake: `POST /api/events` (one active workflow of one step listens) against
   `POST /api/workflows`, each under wrk for BENCH_ENGINE_SECONDS, rounds alternating, same
   stack, no runner up (the runs only queue);
2. throughput: one-step runs (an `UPDATE_CRM_FIELD` http step against
   tests/fakes/fake_model.py answering at once) with BENCH_ENGINE_RUNNERS (2) runner
   processes: (a) backlog — BENCH_ENGINE_RUNS runs queued by one INSERT … SELECT, then the
   runners start, runs/s from the first claim to the last `succeeded`; (b) live — the runners
   are up and wrk fires `POST /api/events` for BENCH_ENGINE_SECONDS: runs/s from the first
   event to the last `succeeded`, events and runs competing for the same two cores.
   Statements per run (MariaDB's `Questions` counter, the bench's own polling subtracted) and
   CPU µs per run split by process (runners, MariaDB, nginx, aiengine serve workers, the
   receiver, wrk);
3. growth: the runner's claim statement (BEGIN; SELECT … FOR UPDATE SKIP LOCKED; ROLLBACK)
   and `GET /api/workflow-runs` (first page and a page 5,000 runs in) at 10,000 and at 1,000,000
   runs (bulk-inserted from seq_1_to_N: almost all finished, 200 due), with EXPLAIN.

Alone: AIENGINE_BIN=build/aiengine /usr/bin/python3 bench/engine.py
Overrides: BENCH_ENGINE_ROUNDS (3), BENCH_ENGINE_SECONDS (5), BENCH_ENGINE_RUNS (20000),
BENCH_ENGINE_RUNNERS (2), BENCH_ENGINE_CONCURRENCY (256), BENCH_ENGINE_BIG (1000000),
BENCH_ENGINE_OUT (bench/results/engine.md), BENCH_ENGINE_ONLY (comma list of intake,
throughput, growth)."""
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_process import FakeModel  # noqa: E402
from stack import Stack, which  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ENGINE_ROUNDS") or 3)
SECONDS = int(os.environ.get("BENCH_ENGINE_SECONDS") or 5)
RUNS = int(os.environ.get("BENCH_ENGINE_RUNS") or 20000)
RUNNERS = int(os.environ.get("BENCH_ENGINE_RUNNERS") or 2)
CONCURRENCY = int(os.environ.get("BENCH_ENGINE_CONCURRENCY") or 256)
BIG = int(os.environ.get("BENCH_ENGINE_BIG") or 1000000)
SMALL = 10000
OUT = os.environ.get("BENCH_ENGINE_OUT") or os.path.join(HERE, "results", "engine.md")
ONLY = set((os.environ.get("BENCH_ENGINE_ONLY") or "intake,throughput,growth").split(","))
BUILD = os.path.join(ROOT, "build", "bench", "engine")
TICK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[engine] {msg}", file=sys.stderr, flush=True)


def cpu_us(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total * 1e6 / TICK


def children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def run_wrk(url, spec_lines, token, seconds, connections=32):
    spec = os.path.join(BUILD, "wrk-spec.txt")
    with open(spec, "w") as f:
        f.write("\n".join(spec_lines) + "\n")
    out = os.path.join(BUILD, "wrk-last.json")
    if os.path.exists(out):
        os.unlink(out)
    run_wrk.seed = getattr(run_wrk, "seed", 0) + 10_000_000
    env = dict(os.environ, BENCH_SPEC=spec, BENCH_TOKEN=token, BENCH_OUT=out,
               BENCH_SEED=str(run_wrk.seed))
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([which("wrk"), "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout",
                        "10s", "-s", os.path.join(HERE, "wrk.lua"), url],
                       env=env, capture_output=True, text=True)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode or not os.path.exists(out):
        raise RuntimeError(f"wrk failed ({r.returncode}): {r.stdout}{r.stderr}")
    res = json.load(open(out))
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
    res["cpu_wrk"] = (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) * 1e6
    res["errors"] = sum(res[k] for k in ("connect_errors", "read_errors", "write_errors",
                                         "status_errors", "timeouts"))
    return res


class Bench:
    def __init__(self):
        shutil.rmtree(BUILD, ignore_errors=True)
        os.makedirs(BUILD)
        self.s = Stack(BUILD, workers=2)
        self.fake = FakeModel(role="both", max_records=0)
        self.report = []

    def q(self, sql):
        return self.s.sql(sql)

    def questions(self):
        return int(self.q("SHOW GLOBAL STATUS LIKE 'Questions'")[0][1])

    def procs(self):
        """name -> pids of every process that serves a run."""
        s = self.s
        p = {"mariadb": [s.procs["mariadb"].pid],
             "aiengine serve workers": s.worker_pids(0),
             "nginx": children(s.procs["nginx"].pid) if "nginx" in s.procs else [],
             "receiver": [self.fake.proc.pid]}
        if "work" in s.procs and s.procs["work"].poll() is None:
            p["runners"] = s.runner_pids()
        return p

    def cpu(self, procs):
        return {k: cpu_us(v) for k, v in procs.items()}

    def setup(self):
        log("starting MariaDB, 2 aiengine workers, nginx and the fake receiver")
        self.s.start()
        self.fake.start()
        self.token = self.s.create_token(email="bench@example.com", name="bench")
        self.wid = self.q(
            "INSERT INTO workflows (name, trigger_event, is_active, created_at, updated_at) "
            "VALUES ('bench one step', 'bench.one', 1, NOW(), NOW()); SELECT LAST_INSERT_ID();")[0][0]
        self.q("INSERT INTO workflow_steps (workflow_id, step_order, name, step_type, step_config, "
               f"delay_minutes, created_at, updated_at) VALUES ({self.wid}, 1, 'crm', "
               "'UPDATE_CRM_FIELD', '{\"body\":{\"lead\":\"{{object_id}}\"}}', 0, NOW(), NOW())")
        self.work_env = {
            "CRM_URL": self.fake.url,
            "AIENGINE_ALLOWED_HOSTS": self.fake.hostport,
            "AIENGINE_ENGINE_WORKERS": str(RUNNERS),
            "AIENGINE_ENGINE_CONCURRENCY": str(CONCURRENCY),
            "AIENGINE_ENGINE_POLL_INTERVAL_MS": "50",
        }

    # ------------------------------------------------------------ 1. intake
    def intake(self):
        log(f"intake: {ROUNDS} rounds x {SECONDS} s of each endpoint")
        specs = {
            "POST /api/events": ["POST\t/api/events\t{\"event\":\"bench.one\",\"object_id\":"
                                 "\"lead-{n}\",\"context\":{\"lead_name\":\"Ana\"}}"],
            "POST /api/workflows": ["POST\t/api/workflows\t{\"name\":\"wf {n}\",\"trigger_event\":"
                                    "\"bench.other\",\"is_active\":false}"],
        }
        rows = {k: [] for k in specs}
        for rnd in range(ROUNDS):
            for name, spec in specs.items():
                procs = self.procs()
                q0, c0 = self.questions(), self.cpu(procs)
                r = run_wrk(self.s.url, spec, self.token, SECONDS)
                c1, q1 = self.cpu(procs), self.questions()
                n = max(1, r["requests"])
                r["stmts"] = (q1 - q0 - 2) / n
                r["cpu"] = {k: (c1[k] - c0[k]) / n for k in c0}
                r["cpu"]["wrk"] = r["cpu_wrk"] / n
                rows[name].append(r)
                log(f"  round {rnd + 1} {name}: {r['rps']:.0f} req/s, {r['errors']} errors")
        self.q("DELETE FROM workflow_runs")
        self.q("DELETE FROM workflows WHERE trigger_event = 'bench.other'")
        med = {k: statistics.median(x["rps"] for x in v) for k, v in rows.items()}
        base = med["POST /api/workflows"]
        R = self.report
        R += ["## 1. Intake", "",
              f"wrk -t2 -c32, {ROUNDS} rounds x {SECONDS} s per endpoint, alternating; medians. "
              "The event matches one active one-step workflow, so each request inserts one "
              "queued run (no runner is up).", "",
              "| endpoint | req/s (median) | rounds | p99 ms | vs POST /api/workflows | "
              "statements/req | CPU µs/req: serve workers / MariaDB / nginx / wrk | errors |",
              "|---|--:|---|--:|--:|--:|---|--:|"]
        for k, v in rows.items():
            mid = sorted(v, key=lambda x: x["rps"])[len(v) // 2]
            c = mid["cpu"]
            R.append(f"| {k} | {med[k]:,.0f} | {', '.join('%.0f' % x['rps'] for x in v)} | "
                     f"{mid['p99_us'] / 1000:.2f} | {med[k] / base:.2f}x | {mid['stmts']:.1f} | "
                     f"{c['aiengine serve workers']:.0f} / {c['mariadb']:.0f} / {c['nginx']:.0f} / "
                     f"{c['wrk']:.0f} | {sum(x['errors'] for x in v)} |")
        R.append("")

    # ------------------------------------------------------------ 2. throughput
    def wait_done(self, total, timeout=600):
        """Polls until `total` runs are finished; returns (polls, wall time of the last poll)."""
        t_end = time.time() + timeout
        polls = 0
        while time.time() < t_end:
            polls += 1
            done, left = (int(x or 0) for x in self.q(
                "SELECT SUM(status IN ('succeeded','failed')), "
                "SUM(status NOT IN ('succeeded','failed')) FROM workflow_runs")[0])
            if done >= total and left == 0:
                return polls
            time.sleep(0.05)
        raise RuntimeError(f"runs not finished after {timeout} s ({done} of {total})")

    def run_stats(self):
        n_ok, n_bad, n_logs = self.q(
            "SELECT SUM(status = 'succeeded'), SUM(status <> 'succeeded'), "
            "(SELECT COUNT(*) FROM execution_logs WHERE status = 'SUCCESS') FROM workflow_runs")[0]
        return int(n_ok or 0), int(n_bad or 0), int(n_logs)

    def throughput_backlog(self):
        self.q("DELETE FROM workflow_runs")
        self.q("INSERT INTO workflow_runs (workflow_id, event, triggering_object_id, status, "
               f"context, run_at, created_at, updated_at) SELECT {self.wid}, 'bench.one', "
               "CONCAT('lead-', seq), 'queued', CONCAT('{\"event\":\"bench.one\",\"object_id\":"
               "\"lead-', seq, '\",\"input\":{},\"steps\":{}}'), NOW(6), NOW(), NOW() "
               f"FROM seq_1_to_{RUNS}")
        q0 = self.questions()
        t0 = time.time()
        self.s.start_work(self.work_env)
        pids = []
        while len(pids) < RUNNERS and time.time() - t0 < 30:
            time.sleep(0.02)
            pids = self.s.runner_pids()
        procs = self.procs()
        c0 = self.cpu(procs)
        polls = self.wait_done(RUNS)
        t1 = time.time()
        c1, q1 = self.cpu(procs), self.questions()
        self.s.stop_work()
        ok, bad, logs = self.run_stats()
        return {"mode": "backlog", "runs": RUNS, "ok": ok, "bad": bad, "logs": logs,
                "secs": t1 - t0, "rate": ok / (t1 - t0),
                "stmts": (q1 - q0 - 2 * polls - 2) / max(1, ok),
                "cpu": {k: (c1[k] - c0[k]) / max(1, ok) for k in c0}}

    def throughput_live(self):
        self.q("DELETE FROM workflow_runs")
        self.s.start_work(self.work_env)
        t0 = time.time()
        while len(self.s.runner_pids()) < RUNNERS and time.time() - t0 < 30:
            time.sleep(0.02)
        time.sleep(0.5)
        procs = self.procs()
        c0, q0 = self.cpu(procs), self.questions()
        t0 = time.time()
        r = run_wrk(self.s.url, ["POST\t/api/events\t{\"event\":\"bench.one\",\"object_id\":"
                                 "\"lead-{n}\",\"context\":{\"lead_name\":\"Ana\"}}"],
                    self.token, SECONDS)
        total = int(self.q("SELECT COUNT(*) FROM workflow_runs")[0][0])
        polls = self.wait_done(total)
        t1 = time.time()
        c1, q1 = self.cpu(procs), self.questions()
        self.s.stop_work()
        ok, bad, logs = self.run_stats()
        total = ok + bad
        cpu = {k: (c1[k] - c0[k]) / max(1, ok) for k in c0}
        cpu["wrk"] = r["cpu_wrk"] / max(1, ok)
        return {"mode": "live", "runs": total, "ok": ok, "bad": bad, "logs": logs,
                "secs": t1 - t0, "rate": ok / (t1 - t0), "events": r["rps"],
                "stmts": (q1 - q0 - 2 * polls - 3) / max(1, ok), "cpu": cpu}

    def throughput(self):
        log(f"throughput: {ROUNDS} rounds of a {RUNS}-run backlog and {SECONDS} s of live events, "
            f"{RUNNERS} runners x {CONCURRENCY}")
        res = {"backlog": [], "live": []}
        for rnd in range(ROUNDS):
            for m in ("backlog", "live"):
                r = self.throughput_backlog() if m == "backlog" else self.throughput_live()
                res[m].append(r)
                log(f"  round {rnd + 1} {m}: {r['ok']} of {r['runs']} runs in {r['secs']:.2f} s = "
                    f"{r['rate']:.0f} runs/s, {r['stmts']:.2f} statements/run")
        R = self.report
        R += ["## 2. Throughput: one-step runs end to end", "",
              f"{RUNNERS} runners x concurrency {CONCURRENCY}, poll interval 50 ms; the step "
              "is `UPDATE_CRM_FIELD` (http) against tests/fakes/fake_model.py answering at once. "
              f"Backlog: {RUNS:,} runs queued, then the runners start; time from starting "
              "`aiengine work` to the last run `succeeded` (polled every 50 ms). Live: runners up, "
              f"wrk -c32 fires `POST /api/events` for {SECONDS} s; time from the first event to "
              "the last run `succeeded`. Target: >= 1,000 runs/s.", "",
              "| mode | runs/s (median) | rounds | statements/run | CPU µs/run: runners / "
              "MariaDB / receiver / serve workers / nginx / wrk | runs not succeeded |",
              "|---|--:|---|--:|---|--:|"]
        for m, v in res.items():
            mid = sorted(v, key=lambda x: x["rate"])[len(v) // 2]
            c = mid["cpu"]
            extra = f" (events {mid['events']:,.0f}/s)" if m == "live" else ""
            R.append(f"| {m}{extra} | {mid['rate']:,.0f} | {', '.join('%.0f' % x['rate'] for x in v)} "
                     f"| {mid['stmts']:.2f} | {c.get('runners', 0):.0f} / {c['mariadb']:.0f} / "
                     f"{c['receiver']:.0f} / {c['aiengine serve workers']:.0f} / {c['nginx']:.0f} / "
                     f"{c.get('wrk', 0):.0f} | {sum(x['bad'] for x in v)} |")
        R.append("")

    # ------------------------------------------------------------ 4. growth
    CLAIM = ("SELECT id, workflow_id, triggering_object_id, context, last_step_order, "
             "last_step_id, attempt FROM workflow_runs WHERE status = 'queued' AND "
             "run_at <= NOW(6) ORDER BY run_at LIMIT 32 FOR UPDATE SKIP LOCKED")

    def fill_runs(self, n):
        """n runs: all but 200 succeeded (spread over 30 days), 200 queued and due."""
        self.q("DELETE FROM workflow_runs")
        self.q("INSERT INTO workflow_runs (workflow_id, event, triggering_object_id, status, "
               "context, last_step_order, last_step_id, run_at, started_at, finished_at, "
               f"created_at, updated_at) SELECT {self.wid}, 'bench.one', CONCAT('lead-', seq), "
               "IF(seq > " + str(n - 200) + ", 'queued', 'succeeded'), "
               "'{\"event\":\"bench.one\",\"input\":{},\"steps\":{\"1\":{\"ok\":true}}}', "
               "IF(seq > " + str(n - 200) + ", NULL, 1), NULL, "
               f"NOW(6) - INTERVAL ({n} - seq) * 2 SECOND, NOW(), NOW(), NOW(), NOW() "
               f"FROM seq_1_to_{n}")
        self.q("ANALYZE TABLE workflow_runs")

    def time_claim(self, reps=300):
        script = os.path.join(BUILD, "claim.sql")
        with open(script, "w") as f:
            for _ in range(reps):
                f.write(f"BEGIN; {self.CLAIM}; ROLLBACK;\n")
        best = []
        for _ in range(ROUNDS):
            t0 = time.time()
            subprocess.run([which("mariadb"), "--no-defaults", f"--socket={self.s.db_socket}", "-uroot",
                            "aiengine"], stdin=open(script), stdout=subprocess.DEVNULL, check=True)
            best.append((time.time() - t0) / reps * 1e6)
        return statistics.median(best)

    def claim_reads(self):
        """InnoDB handler reads of one claim (deterministic, unlike its time on a busy machine)."""
        out = self.s.sql_root(f"FLUSH STATUS; BEGIN; {self.CLAIM}; ROLLBACK; "
                              "SHOW SESSION STATUS LIKE 'Handler_read%';", "aiengine")
        reads = {}
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) == 2 and parts[0].startswith("Handler_read") and parts[1] != "0":
                reads[parts[0][len("Handler_read_"):]] = int(parts[1])
        return ", ".join(f"{k} {v}" for k, v in sorted(reads.items())) or "none"

    def time_list(self, path):
        res = [run_wrk(self.s.url, [f"GET\t{path}"], self.token, SECONDS, connections=16)["rps"]
               for _ in range(ROUNDS)]
        return statistics.median(res)

    def explain(self, sql):
        return [line.split("\t") for line in self.s.sql_root("EXPLAIN " + sql, "aiengine").splitlines()]

    def growth(self):
        R = self.report
        R += ["## 4. Growth: the claim and the run list at 10 k and 1 M runs", "",
              "Runs bulk-inserted from `seq_1_to_N`, all but 200 `succeeded`, the 200 newest "
              "`queued` and due. Claim: the runner's statement for queued runs "
              f"(`{self.CLAIM}`) in BEGIN … ROLLBACK, {ROUNDS} x 300 through the mariadb client "
              "(µs per transaction, median). List: `GET /api/workflow-runs` under wrk -c16, "
              f"{ROUNDS} x {SECONDS} s, median req/s, per_page=100; the deep page is 5,000 runs in (the API's "
              "own next link followed 50 times at per_page=100).", "",
              "| runs | claim µs/txn | claim's InnoDB reads | list first page req/s | "
              "list deep page req/s |",
              "|--:|--:|---|--:|--:|"]
        out = {}
        explains = []
        for n in (SMALL, BIG):
            log(f"growth: {n:,} runs")
            self.fill_runs(n)
            c = self.time_claim()
            reads = self.claim_reads()
            first = self.time_list("/api/workflow-runs?per_page=100")
            deep = self.time_list(self.page_path(50))
            out[n] = (c, first, deep)
            R.append(f"| {n:,} | {c:.0f} | {reads} | {first:,.0f} | {deep:,.0f} |")
            explains.append((n, "the claim", self.explain(self.CLAIM.replace(" FOR UPDATE SKIP LOCKED", ""))))
            # the list's statements as the CRUD engine builds them for ?per_page=100 (sort -id)
            top = int(self.q("SELECT MAX(id) FROM workflow_runs")[0][0])
            explains.append((n, "the run list's first page", self.explain(
                "SELECT * FROM workflow_runs ORDER BY id DESC LIMIT 101")))
            explains.append((n, "the run list 5,000 runs in", self.explain(
                f"SELECT * FROM workflow_runs WHERE id < {top - 5000} ORDER BY id DESC LIMIT 101")))
        (c0, f0, d0), (c1, f1, d1) = out[SMALL], out[BIG]
        R += ["", f"1 M vs 10 k: claim {c1 / c0:.2f}x the time, list first page {f0 / f1:.2f}x "
              f"slower, deep page {d0 / d1:.2f}x slower (target: within 1.5x).", ""]
        for n, what, rows in explains:
            R += [f"EXPLAIN of {what} at {n:,} runs:", "", "```"]
            R += ["\t".join(str(x) for x in row) for row in rows]
            R += ["```", ""]

    def page_path(self, pages):
        """The path of the list page `pages` pages of 100 in, following the API's own next
        links (cursor or page number, whichever the list uses)."""
        path = "/api/workflow-runs?per_page=100"
        for _ in range(pages):
            req = urllib.request.Request(self.s.url + path, headers={
                "Authorization": f"Bearer {self.token}", "Accept": "application/json"})
            nxt = json.load(urllib.request.urlopen(req))["links"]["next"]
            if not nxt:
                break
            path = "/" + nxt.split("/", 3)[3]
        return path

    def run(self):
        try:
            self.setup()
            if "intake" in ONLY:
                self.intake()
            if "throughput" in ONLY:
                self.throughput()
            if "growth" in ONLY:
                self.growth()
        finally:
            try:
                self.s.stop()
            finally:
                self.fake.stop()
                if os.environ.get("BENCH_KEEP") != "1":
                    shutil.rmtree(BUILD, ignore_errors=True)
        load = os.getloadavg()
        head = ["# Engine benchmark: intake, throughput, growth", "",
                f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
                f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.", ""]
        text = "\n".join(head + self.report) + "\n"
        print(text)
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        with open(OUT, "w") as f:
            f.write(text)


if __name__ == "__main__":
    Bench().run()
