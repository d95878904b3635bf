#!/bin/sh
# Build the Studio (studio/, Vite + Preact) into build/studio, which nginx serves at /studio/.
# The npm packages are pinned by studio/package-lock.json and installed with `npm ci` when
# studio/node_modules is missing or older than the lock file.
set -e
cd "$(dirname "$0")/../studio"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
fi
exec npx --no-install vite build --logLevel warn
