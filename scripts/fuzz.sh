#!/bin/bash
# Run each libFuzzer binary for $1 seconds on a copy of its seed corpus
# (tests/fuzz/corpus/<target>/). A crash, leak, sanitizer report or timeout fails the run;
# the crashing input is kept in build-fuzz/crashes/ to be turned into a unit test.
set -u
secs=$1; shift
cd "$(dirname "$0")/.."
mkdir -p build-fuzz/crashes
pass=0; fail=0
for bin in "$@"; do
    name=$(basename "$bin"); target=${name#fuzz_}
    work=$(mktemp -d /tmp/aiengine-fuzz-corpus-XXXXXX)
    [ -d "tests/fuzz/corpus/$target" ] && cp -r "tests/fuzz/corpus/$target/." "$work/"
    echo "== $name for ${secs}s"
    if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix=build-fuzz/crashes/"$name"- "$work" >"$work.log" 2>&1; then
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work.log" | tr '\n' ' '; echo
        pass=$((pass + 1))
    else
        tail -40 "$work.log"
        fail=$((fail + 1))
    fi
    rm -rf "$work" "$work.log"
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
