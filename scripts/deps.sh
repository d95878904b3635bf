#!/bin/sh
# Install the Debian packages aiengine needs to build, run and test, if any are missing.
# As root it runs apt-get; otherwise it prints the exact command and stops.
# `deps.sh --packaging` adds what `make deb` and scripts/deb-smoke.sh need (debhelper, lintian,
# Apache): CI and packagers ask for it; `make run` and `make test` do not need them.
PKGS="gcc make pkg-config libfcgi-dev libmariadb-dev libjson-c-dev libyaml-dev libssl-dev
libcrypt-dev libcmocka-dev mariadb-server mariadb-client nginx python3 python3-pytest
python3-requests python3-jsonschema curl wrk valgrind clang libclang-rt-14-dev clang-tidy
cppcheck clang-format libfaketime libcurl4-openssl-dev python3-prometheus-client"
[ "${1:-}" = --packaging ] && PKGS="$PKGS debhelper lintian devscripts apache2"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# the OpenAPI check runs a validator from npm: any Node.js >= 18 will do
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
# the Studio's browser tests drive Debian's Chromium (never a downloaded browser)
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "aiengine needs these Debian packages:$missing"
    echo "run as root:  apt-get update && apt-get install -y$missing"
    exit 1
fi
echo "Installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq $missing >/dev/null || exit 1
# Debian starts the packaged services; aiengine runs its own private ones instead
for s in mariadb nginx apache2; do
    command -v service >/dev/null 2>&1 && service "$s" stop >/dev/null 2>&1 || true
done
exit 0
