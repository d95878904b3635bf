#!/usr/bin/python3
"""bench/ab.py — A/B measurements in one held bench stack (docs/benchmarks.md, "A/B").

make bench answers "how fast is main"; a change of a few per cent needs its before and after
side by side in the same minutes of a noisy machine. This holds bench.py's stack (MariaDB
seeded as for make bench, pool 0, the baselines, nginx) and measures endpoints against each
other in alternating order, with the CPU per request of every process group.

    bench/ab.py hold [--tcp | --bin2 PATH]   # until Ctrl-C or SIGTERM; prints READY
    bench/ab.py measure KEY[@alt] ... [--rounds=6] [--secs=4]

hold: `--bin2 PATH` adds pool 5 running another aiengine binary (the "before" of a change);
`--tcp` adds pool 5 running this binary on a TCP port instead of a unix socket. Either is
served by its own nginx server with the site's buffers; `KEY@alt` measures KEY there.
KEY is an endpoint key of bench.py (fcgi, fcgi50, show, page, post, patch, logs50, ...).
The environment is bench.py's (BENCH_LOG_ROWS=200000 for a quicker seed).
"""
import json
import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

STATE = os.path.join(bench.BUILD, "ab-state.json")


def hold(args):
    b = bench.Bench()
    alt_port, tcp_port = bench.free_port(), bench.free_port()
    bin2 = args[args.index("--bin2") + 1] if "--bin2" in args else None
    tcp = "--tcp" in args
    if bin2 or tcp:
        upstream = f"127.0.0.1:{tcp_port}" if tcp else f"unix:{b.stack.pool_socket(5)}"
        b.stack.extra_nginx["ab.conf"] = f"""
server {{
    listen 127.0.0.1:{alt_port};
    server_name _;
    location /api/ {{
        include /etc/nginx/fastcgi_params;
        fastcgi_param DOCUMENT_URI $uri;
        fastcgi_pass {upstream};
        {bench.site_buffers()}
    }}
}}
"""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    alt = None
    try:
        b.start(bench.build_baseline())
        if tcp:  # nginx looks at an upstream only when a request needs it
            env = b.stack.env(b.stack.pool_socket(5))
            env.update({"AIENGINE_LISTEN": f"127.0.0.1:{tcp_port}", "AIENGINE_MAX_REQUESTS": "0"})
            log = open(os.path.join(b.stack.logdir, "aiengine-tcp.log"), "ab")
            alt = subprocess.Popen([b.binary, "serve"], env=env, stdout=log, stderr=log,
                                   start_new_session=True)
            time.sleep(2)
        elif bin2:
            b.stack.binary = bin2
            b.stack.start_pool(5)
            b.stack.binary = b.binary
        b.prepare_endpoints()
        pids = {"0": b.stack.worker_pids(0), "fcgi": bench.children(b.baseline.pid),
                "nginx": bench.children(b.stack.procs["nginx"].pid),
                "db": [b.stack.procs["mariadb"].pid]}
        if alt:
            pids["alt"] = bench.children(alt.pid)
        elif bin2:
            pids["alt"] = b.stack.worker_pids(5)
        with open(STATE, "w") as f:
            json.dump({"endpoints": b.endpoints, "pids": pids,
                       "alt_url": f"http://127.0.0.1:{alt_port}"}, f)
        print("READY", flush=True)
        while not stop:
            time.sleep(0.5)
    finally:
        if alt:
            alt.terminate()
            alt.wait()
        b.stop()


def measure(args):
    st = json.load(open(STATE))
    keys = [a for a in args if not a.startswith("--")]
    opts = dict(a[2:].split("=", 1) for a in args if a.startswith("--"))
    rounds, secs = int(opts.get("rounds", 6)), int(opts.get("secs", 4))
    tick = os.sysconf("SC_CLK_TCK")
    res = {k: [] for k in keys}
    for r in range(rounds):
        for k in (keys if r % 2 == 0 else keys[::-1]):
            key, _, where = k.partition("@")
            e = st["endpoints"][key]
            url, app = e["url"], st["pids"]["fcgi" if key.startswith("fcgi") else "0"]
            if where:
                url, app = st["alt_url"], st["pids"]["alt"]
            groups = {"app": app, "nginx": st["pids"]["nginx"], "db": st["pids"]["db"]}
            before = {g: bench.cpu_ticks(p) for g, p in groups.items()}
            w = bench.run_wrk(url, e["spec"], e["token"], secs)
            n = max(w["requests"], 1)
            row = {"rps": w["rps"], "p99": w["p99_us"] / 1000, "wrk": w["cpu_wrk_us"],
                   "errors": w["errors"]}
            row.update({g: (bench.cpu_ticks(p) - before[g]) / tick / n * 1e6
                        for g, p in groups.items()})
            res[k].append(row)
            print(f"round {r + 1} {k:14} {row['rps']:8,.0f} req/s  p99 {row['p99']:5.2f} ms  "
                  f"CPU µs app {row['app']:4.0f} nginx {row['nginx']:4.0f} db {row['db']:4.0f} "
                  f"wrk {row['wrk']:3.0f}  errors {row['errors']}", flush=True)
    print(f"medians of {rounds} rounds of {secs} s:")
    for k, rows in res.items():
        m = {f: statistics.median(x[f] for x in rows) for f in rows[0]}
        print(f"  {k:14} {m['rps']:8,.0f} req/s  p99 {m['p99']:5.2f} ms  CPU µs app "
              f"{m['app']:4.0f} nginx {m['nginx']:4.0f} db {m['db']:4.0f} wrk {m['wrk']:3.0f}")


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("hold", "measure"):
        sys.exit(__doc__)
    (hold if sys.argv[1] == "hold" else measure)(sys.argv[2:])
