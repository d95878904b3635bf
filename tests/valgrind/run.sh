#!/bin/sh
# Valgrind memcheck of `aiengine serve` (master + one worker) under a few thousand mixed
# requests through nginx and a private MariaDB. Builds nothing: run `make` first.
#   tests/valgrind/run.sh [--requests N] [--keep] [--no-plain-rss] [--valgrind-arg=--foo]
# Exit 0 when valgrind reports no invalid read/write, uninitialised use, bad free or
# definite leak in the master or the worker; 1 otherwise (logs are kept and named).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${AIENGINE_BIN:-$root/build/aiengine}
if [ ! -x "$bin" ]; then
    echo "tests/valgrind/run.sh: $bin not found; run make first" >&2
    exit 1
fi
if ! command -v valgrind >/dev/null 2>&1; then
    echo "tests/valgrind/run.sh: valgrind is not installed (apt-get install valgrind)" >&2
    exit 1
fi
AIENGINE_BIN=$bin exec /usr/bin/python3 "$here/memcheck.py" "$@"
