#!/bin/sh
# bench/run.sh — entry point of `make bench` (docs/benchmarks.md explains the output).
# Needs AIENGINE_BIN (the Makefile passes build/aiengine); wrk comes from Debian.
# Overrides: BENCH_DURATION, BENCH_ROUNDS, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_THREADS,
# BENCH_WORKERS, BENCH_LOG_ROWS, BENCH_MEMORY_REQUESTS, BENCH_KEEP=1,
# BENCH_ONLY=fcgi,show_on,show_off, BENCH_PACE_MS (see bench/bench.py);
# BENCH_ENGINE=0, BENCH_ENGINE_ROUNDS, BENCH_ENGINE_SECONDS, BENCH_ENGINE_RUNS, BENCH_ENGINE_RUNNERS,
# BENCH_ENGINE_BIG, BENCH_ENGINE_ONLY (see bench/engine.py); BENCH_ENGINE_AI=0, BENCH_AI_RUNS,
# BENCH_AI_RUNNERS, BENCH_AI_CONCURRENCY, BENCH_AI_DELAY_MS (see bench/engine_ai.py).
set -eu
cd "$(dirname "$0")/.."
: "${AIENGINE_BIN:=$(pwd)/build/aiengine}"
export AIENGINE_BIN
if [ ! -x "$AIENGINE_BIN" ]; then
    echo "bench: $AIENGINE_BIN not built; run make first" >&2
    exit 1
fi
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
        echo "bench: wrk is missing; run as root: apt-get install -y wrk" >&2
        exit 1
    fi
fi
/usr/bin/python3 bench/bench.py "$@"
# the engine's intake, throughput and growth (bench/engine.py; BENCH_ENGINE=0 skips it)
if [ "${BENCH_ENGINE:-1}" != 0 ]; then
    /usr/bin/python3 bench/engine.py
fi
# the engine's AI-concurrency measurement (bench/engine_ai.py; BENCH_ENGINE_AI=0 skips it)
if [ "${BENCH_ENGINE_AI:-1}" != 0 ]; then
    /usr/bin/python3 bench/engine_ai.py
fi
