#!/bin/sh
# Build the Studio (studio/, Vite + Preact) into build/studio, which nginx serves at /studio/.
# The npm packages are pinned by studio/package-lock.json and installed with `npm ci` when
# studio/node_modules is missing or older than the lock file. `npm install` rather than
# `npm ci`: npm 11's ci refuses this lock file ("Missing: napi-windows-process-start-time"),
# a Windows-only optional dependency of Vite that npm itself leaves out of the lock; install
# reads the same lock, resolves the same versions and leaves the file untouched.
set -e
cd "$(dirname "$0")/../studio"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    npm install --no-audit --no-fund --loglevel=error
    touch node_modules
fi
exec npx --no-install vite build --logLevel warn
