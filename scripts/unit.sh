#!/bin/sh
# Run each cmocka unit-test binary given; print the cmocka output. Exit 1 if any failed.
rc=0
for t in "$@"; do
    "$t" || rc=1
done
exit $rc
