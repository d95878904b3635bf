#!/usr/bin/python3
"""bench/engine_ai.py — the AI-concurrency part of the engine benchmark (issue 11, item 3):
three-step AI runs against tests/fakes/fake_model.py answering every call after 1 s, run by
`aiengine work` with BENCH_AI_RUNNERS runner processes (2). Reports steps per second end to
end (the first claim to the last SUCCESS row), the calls in flight that implies, each
runner's RSS over the run (sampled every 0.5 s: start, peak, end) and its CPU time per step.

Targets (issue 11): >= 500 steps/s, so >= 500 calls in flight; runner RSS <= 32 MiB each
with no growth over the run.

Standalone, in a private folder (build/bench/engine-ai, deleted afterwards):
    AIENGINE_BIN=build/aiengine /usr/bin/python3 bench/engine_ai.py
Overrides: BENCH_AI_RUNS (2000), BENCH_AI_RUNNERS (2), BENCH_AI_CONCURRENCY (1000 steps in
flight per runner), BENCH_AI_DELAY_MS (1000), BENCH_AI_OUT (bench/results/engine-ai.md).
Runs are inserted with one INSERT … SELECT (the intake is measured elsewhere), all queued
before the runners start, so what is measured is the runner: claim, prompt, call, commit."""
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fake_process import FakeModel  # noqa: E402
from stack import Stack  # noqa: E402

RUNS = int(os.environ.get("BENCH_AI_RUNS") or 2000)
RUNNERS = int(os.environ.get("BENCH_AI_RUNNERS") or 2)
CONCURRENCY = int(os.environ.get("BENCH_AI_CONCURRENCY") or 1000)
DELAY_MS = int(os.environ.get("BENCH_AI_DELAY_MS") or 1000)
OUT = os.environ.get("BENCH_AI_OUT") or os.path.join(HERE, "results", "engine-ai.md")
STEPS = 3


def log(msg):
    print(f"[engine-ai] {msg}", file=sys.stderr, flush=True)


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def main():
    base = os.path.join(ROOT, "build", "bench", "engine-ai")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    stack = Stack(base, workers=1)
    fake = FakeModel(role="model", max_records=0)
    report = []
    try:
        log("starting MariaDB and the fake model")
        stack.start_mariadb()
        stack.migrate()
        fake.start()
        fake.control(delay_ms=DELAY_MS)
        pid = stack.sql(
            "INSERT INTO prompts (name, version, system_prompt_text, model_name, "
            "generation_config, status, created_at, updated_at) VALUES ('bench', 1, "
            "'Write to {{lead_name}}.', 'gemini-2.5-flash-preview-05-20', "
            "'{\"temperature\":0.2}', 'active', NOW(), NOW()); SELECT LAST_INSERT_ID();")[0][0]
        wid = stack.sql(
            "INSERT INTO workflows (name, trigger_event, is_active, created_at, updated_at) "
            "VALUES ('bench', 'bench.ai', 1, NOW(), NOW()); SELECT LAST_INSERT_ID();")[0][0]
        for order in range(1, STEPS + 1):
            stack.sql(
                "INSERT INTO workflow_steps (workflow_id, step_order, name, step_type, prompt_id, "
                f"step_config, delay_minutes, created_at, updated_at) VALUES ({wid}, {order}, "
                f"'ai {order}', 'AI_PROMPT', {pid}, NULL, 0, NOW(), NOW())")
        stack.sql(
            "INSERT INTO workflow_runs (workflow_id, event, triggering_object_id, status, "
            "context, run_at, created_at, updated_at) SELECT "
            f"{wid}, 'bench.ai', CONCAT('lead-', seq), 'queued', "
            "CONCAT('{\"event\":\"bench.ai\",\"object_id\":\"lead-', seq, "
            "'\",\"input\":{\"lead_name\":\"Ana\"},\"steps\":{}}'), NOW(6), NOW(), NOW() "
            f"FROM seq_1_to_{RUNS}")
        env = {
            "AIENGINE_PROVIDER_GEMINI_URL": fake.url + "/v1beta",
            "GEMINI_API_KEY": "bench-key",
            "AIENGINE_ENGINE_WORKERS": str(RUNNERS),
            "AIENGINE_ENGINE_CONCURRENCY": str(CONCURRENCY),
            "AIENGINE_ENGINE_STEP_TIMEOUT_SECONDS": "60",
            "AIENGINE_ENGINE_LEASE_SECONDS": "60",
        }
        log(f"{RUNS} runs x {STEPS} AI steps, fake answers after {DELAY_MS} ms, "
            f"{RUNNERS} runners x {CONCURRENCY} in flight")
        t0 = time.time()
        stack.start_work(env)
        pids = []
        while len(pids) < RUNNERS and time.time() - t0 < 30:
            time.sleep(0.05)
            pids = stack.runner_pids()
        samples = {p: [] for p in pids}
        cpu0 = {p: cpu_seconds(p) for p in pids}
        db_pid = stack.procs["mariadb"].pid
        db0, fake0 = cpu_seconds(db_pid), cpu_seconds(fake.proc.pid)
        q0 = int(stack.sql("SHOW GLOBAL STATUS LIKE 'Questions'")[0][1])
        polls = 0
        deadline = t0 + 600
        done = 0
        while time.time() < deadline:
            polls += 1
            for p in pids:
                samples[p].append(rss_kib(p))
            counts = dict(stack.sql("SELECT status, COUNT(*) FROM workflow_runs GROUP BY status"))
            done = int(counts.get("succeeded", 0)) + int(counts.get("failed", 0))
            if os.environ.get("BENCH_AI_TRACE") == "1":
                log(f"{time.time() - t0:5.1f} s {counts}")
            if done >= RUNS:
                break
            time.sleep(0.5)
        cpu1 = {p: cpu_seconds(p) for p in pids}
        db1, fake1 = cpu_seconds(db_pid), cpu_seconds(fake.proc.pid)
        q1 = int(stack.sql("SHOW GLOBAL STATUS LIKE 'Questions'")[0][1])
        first, last, n_ok, n_rows, failed = stack.sql(
            "SELECT UNIX_TIMESTAMP(MIN(started_at)), "
            "(SELECT UNIX_TIMESTAMP(MAX(executed_at)) FROM execution_logs), "
            "(SELECT COUNT(*) FROM execution_logs WHERE status = 'SUCCESS'), "
            "(SELECT COUNT(*) FROM execution_logs), "
            "(SELECT COUNT(*) FROM workflow_runs WHERE status <> 'succeeded') FROM workflow_runs")[0]
        tokens, cost = stack.sql("SELECT SUM(token_usage), SUM(cost) FROM workflow_runs")[0]
        elapsed = max(1e-6, float(last) - float(first))
        steps = int(n_ok)
        rate = steps / elapsed
        report += [
            "# Engine benchmark: AI steps in flight",
            "",
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
            f"{RUNS} runs x {STEPS} AI steps (Gemini format), fake model answering after "
            f"{DELAY_MS} ms, {RUNNERS} runners, concurrency {CONCURRENCY} each.",
            "",
            "| measure | value | target |",
            "|---|---|---|",
            f"| SUCCESS steps | {steps} of {RUNS * STEPS} ({n_rows} log rows, {failed} runs not "
            f"succeeded) | all |",
            f"| first claim → last row | {elapsed:.1f} s (second resolution) | |",
            f"| steps/s | {rate:.0f} | >= 500 |",
            f"| calls in flight (steps/s x {DELAY_MS / 1000:g} s) | {rate * DELAY_MS / 1000:.0f} "
            f"| >= 500 |",
            f"| run sums | {tokens} tokens, USD {cost} | |",
            f"| statements per step (MariaDB `Questions`, the bench's polling subtracted) | "
            f"{(q1 - q0 - 1 - polls) / max(1, steps):.2f} | constant |",
            f"| CPU µs per step: runners / MariaDB / fake model | "
            f"{1e6 * sum(cpu1[p] - cpu0[p] for p in pids) / max(1, steps):.0f} / "
            f"{1e6 * (db1 - db0) / max(1, steps):.0f} / {1e6 * (fake1 - fake0) / max(1, steps):.0f} "
            f"| |",
            f"| load average at the end | {' / '.join('%.1f' % x for x in os.getloadavg())} | |",
        ]
        for p in pids:
            s = [x for x in samples[p] if x] or [0]
            cpu = cpu1[p] - cpu0[p]
            report.append(f"| runner {p} RSS start / peak / end | {s[0] / 1024:.1f} / "
                          f"{max(s) / 1024:.1f} / {s[-1] / 1024:.1f} MiB | <= 32 MiB, no growth |")
            report.append(f"| runner {p} CPU | {cpu:.2f} s, "
                          f"{1e6 * cpu / max(1, steps) * len(pids):.0f} µs per step it ran "
                          f"(assuming an even split) | |")
    finally:
        stack.stop_work()
        fake.stop()
        stack.stop_mariadb()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)
    text = "\n".join(report) + "\n"
    print(text)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
