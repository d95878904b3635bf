#!/bin/bash
# make test: the C unit tests (cmocka), then the end-to-end suite through nginx + MariaDB
# (pytest). Ends with one summary line "N passed, N failed" over both.
# With SANITIZE=1 the binaries are ASan+UBSan builds, and any sanitizer report in the
# workers' logs fails the run.
set -u
cd "$(dirname "$0")/.."
unit_pass=0; unit_fail=0
out=$(mktemp)
for t in "$@"; do
    "$t" >"$out" 2>&1; code=$?
    cat "$out"
    p=$(grep -oE '^\[  PASSED  \] [0-9]+' "$out" | grep -oE '[0-9]+$' | tail -1)
    f=$(grep -oE '^\[  FAILED  \] [0-9]+' "$out" | grep -oE '[0-9]+$' | tail -1)
    unit_pass=$((unit_pass + ${p:-0})); unit_fail=$((unit_fail + ${f:-0}))
    if [ $code -ne 0 ] && [ -z "$f" ]; then unit_fail=$((unit_fail + 1)); fi
done
# the OpenAPI validator (npm, pinned by tests/openapi/package-lock.json)
if [ ! -d tests/openapi/node_modules ]; then
    (cd tests/openapi && npm ci --no-audit --no-fund --loglevel=error) || echo "npm ci failed: the OpenAPI validation test will fail"
fi
logdir=$(mktemp -d /tmp/aiengine-testlogs-XXXXXX)
junit="$logdir/junit.xml"
export AIENGINE_TEST_LOGDIR="$logdir"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
/usr/bin/python3 -m pytest -q -p no:cacheprovider --junitxml="$junit" ${PYTEST_ARGS:-} tests/e2e
pytest_code=$?
e2e_pass=0; e2e_fail=0
if [ -f "$junit" ]; then
    read -r tests failures errors skipped < <(/usr/bin/python3 - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
s = r if r.tag == "testsuite" else r.find("testsuite")
print(s.get("tests", 0), s.get("failures", 0), s.get("errors", 0), s.get("skipped", 0))
PY
)
    e2e_fail=$((failures + errors)); e2e_pass=$((tests - failures - errors - skipped))
elif [ $pytest_code -ne 0 ]; then
    e2e_fail=1
fi
san=0
if grep -rlE "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:" "$logdir" >/dev/null 2>&1; then
    echo "sanitizer reports found in the service logs:"
    grep -rE -A20 "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:" "$logdir" | head -80
    san=1; e2e_fail=$((e2e_fail + 1))
fi
total_pass=$((unit_pass + e2e_pass)); total_fail=$((unit_fail + e2e_fail))
echo
echo "unit: $unit_pass passed, $unit_fail failed; e2e: $e2e_pass passed, $e2e_fail failed"
echo "$total_pass passed, $total_fail failed"
rm -rf "$logdir" "$out"
[ $total_fail -eq 0 ] && [ $pytest_code -eq 0 ] && [ $san -eq 0 ]
