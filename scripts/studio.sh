#!/bin/sh
# Build the Studio (studio/, Vite + Preact) into build/studio, which nginx serves at /studio/.
# The npm packages are pinned by studio/package-lock.json and installed with `npm ci` when
# studio/node_modules is missing or older than the lock file: exactly the lock, never a
# rewrite of it. (The lock lists napi-windows-process-start-time, a Windows-only optional
# dependency of Vite: without it npm 11's ci refused the file and `npm install` added it,
# leaving every fresh checkout's tree modified after its first build.)
set -e
cd "$(dirname "$0")/../studio"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
fi
exec npx --no-install vite build --logLevel warn
