#!/bin/bash
# The Debian package, end to end, as a LAMP host would get it: build it (make deb), lintian,
# `apt-get install` it, create a database and user on a MariaDB, migrate (and roll back and
# migrate again) with the installed binary and configuration, start `aiengine serve` and
# `aiengine work` from the installed layout as the aiengine user (as the systemd units
# would: there is no systemd in CI containers), then the same smoke test through nginx with
# the installed snippet and through Apache with the installed site
# (scripts/deb_smoke_check.py), and finally purge it and check that purge removed what
# install made.
#
# Root only (it installs a package). Safe on a shared machine: MariaDB, nginx, Apache and
# the receiver are private instances on free ports under a temporary folder; nothing of the
# system's own services is started or changed; everything, the package included, is
# removed at the end (KEEP=1 keeps the package installed and the folder). DEB=path skips
# the build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
[ "$(id -u)" = 0 ] || { echo "deb-smoke: run as root (it installs the package)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)
say() { printf '\n== %s\n' "$*"; }
check() {   # check WHAT CMD...: CMD must succeed
    local what=$1; shift
    if "$@"; then echo "  ok  $what"; else echo "deb-smoke: FAILED: $what" >&2; exit 1; fi
}

# one at a time on a machine (each installs and purges the same package)
exec 9>/tmp/aiengine-deb-smoke.lock
flock -w 900 9 || { echo "deb-smoke: another run holds /tmp/aiengine-deb-smoke.lock" >&2; exit 1; }
APT="apt-get -o DPkg::Lock::Timeout=300"

if dpkg-query -W -f='${Status}' aiengine 2>/dev/null | grep -q "install ok installed"; then
    echo "deb-smoke: aiengine is installed on this machine already; remove it first" \
         "(apt-get purge aiengine) — this script installs and purges its own" >&2
    exit 1
fi

say "build"
if [ -z "${DEB:-}" ]; then
    make deb
    DEB=$(ls build/deb/aiengine_*_amd64.deb)
fi
echo "$DEB"

say "lintian"
# --fail-on warning: any error or warning fails; overrides are in debian/aiengine.lintian-overrides
lintian --fail-on error,warning --display-info "$DEB"
echo "lintian: clean"

T=$(mktemp -d /tmp/aiengine-deb-smoke.XXXXXX)
chmod 0755 "$T"
PIDS=()
cleanup() {
    rc=$?
    set +e
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    if [ "$rc" != 0 ]; then
        for f in "$T"/log/*; do echo "---- $f"; tail -20 "$f"; done
    fi
    rm -rf /run/aiengine /etc/default/aiengine
    if [ -z "${KEEP:-}" ]; then
        $APT purge -y -qq aiengine >/dev/null 2>&1
        rm -rf "$T"
    fi
    exit "$rc"
}
trap cleanup EXIT
mkdir -p "$T/log" "$T/db"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DB_PORT=$(free_port); NGINX_PORT=$(free_port); APACHE_PORT=$(free_port); RECV_PORT=$(free_port)

say "install"
$APT install -y -qq "$ROOT/$DEB" >"$T/log/apt.log" 2>&1 || { cat "$T/log/apt.log"; exit 1; }
check "system user aiengine made" getent passwd aiengine
check "app.key is root:aiengine 0640" test "$(stat -c '%U:%G %a' /etc/aiengine/app.key)" = "root:aiengine 640"
check "app.key holds 32 random bytes (hex)" grep -Eqx '[0-9a-f]{64}' /etc/aiengine/app.key
check "aiengine.yaml is root:aiengine 0640" test "$(stat -c '%U:%G %a' /etc/aiengine/aiengine.yaml)" = "root:aiengine 640"
check "the services are not enabled before migrate" test ! -e /etc/systemd/system/multi-user.target.wants/aiengine.service
check "the man page is installed" test -s /usr/share/man/man8/aiengine.8.gz
check "the operations guide is installed" test -s /usr/share/doc/aiengine/operations.md.gz
aiengine --version
aiengine config:check
if command -v systemd-analyze >/dev/null; then
    check "the systemd units verify" systemd-analyze verify /lib/systemd/system/aiengine.service \
        /lib/systemd/system/aiengine-work.service
fi

say "MariaDB (private, 127.0.0.1:$DB_PORT)"
# a freshly initialised data folder (the tests' template, scripts/stack.py), TCP only
TEMPLATE=$(python3 -c 'import sys; sys.path.insert(0, "scripts"); import stack; print(stack._template_datadir(["--user=root"]))')
cp -a "$TEMPLATE" "$T/db/data"
mariadbd --no-defaults --datadir="$T/db/data" --socket="$T/db/mariadb.sock" \
    --port="$DB_PORT" --bind-address=127.0.0.1 --pid-file="$T/db/mariadb.pid" --user=root \
    --innodb-buffer-pool-size=64M --skip-log-bin >"$T/log/mariadb.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do mariadb-admin --no-defaults -uroot --socket="$T/db/mariadb.sock" ping >/dev/null 2>&1 && break; sleep 0.2; done
DB_PASSWORD=$(openssl rand -hex 16)
# the statements docs/operations.md gives
mariadb --no-defaults -uroot --socket="$T/db/mariadb.sock" <<SQL
CREATE DATABASE aiengine CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'aiengine'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES ON aiengine.* TO 'aiengine'@'127.0.0.1';
SQL

say "configure (as docs/operations.md says) and migrate"
sed -i -e "s|^  host: .*|  host: 127.0.0.1|" -e "s|^  port: .*|  port: $DB_PORT|" \
       -e "s|^  password: .*|  password: \"$DB_PASSWORD\"|" /etc/aiengine/aiengine.yaml
cat > /etc/default/aiengine <<ENV
CRM_URL=http://127.0.0.1:$RECV_PORT
ENV
aiengine migrate
aiengine migrate:rollback
aiengine migrate
aiengine migrate:status | tail -3

say "start serve and work as the units would"
python3 tests/fakes/fake_model.py --port "$RECV_PORT" --role webhook >"$T/log/receiver.log" 2>&1 &
PIDS+=($!)
# RuntimeDirectory=aiengine, RuntimeDirectoryMode=0750 (owner User=, group Group=)
install -d -o aiengine -g www-data -m 0750 /run/aiengine
# User=/Group=/SupplementaryGroups=/NoNewPrivileges=/UMask=/EnvironmentFile= of the units;
# called in a subshell, whose process becomes the command (exec), so $! is its pid
run_as() {
    local group=$1 supp=$2; shift 2
    set -a; . /etc/default/aiengine; set +a
    umask 0027
    exec setpriv --reuid=aiengine --regid="$group" --groups="$supp" --no-new-privs \
         --inh-caps=-all -- "$@"
}
check "config:check as the aiengine user" \
    bash -c "$(declare -f run_as); run_as aiengine aiengine /usr/bin/aiengine config:check"
(run_as www-data aiengine /usr/bin/aiengine serve) >"$T/log/serve.log" 2>&1 &
SERVE=$!
PIDS+=($SERVE)
(run_as aiengine aiengine /usr/bin/aiengine work) >"$T/log/work.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -S /run/aiengine/aiengine.sock ] && break; sleep 0.1; done
check "serve made its socket, aiengine:www-data 0660" \
    test "$(stat -c '%U:%G %a' /run/aiengine/aiengine.sock)" = "aiengine:www-data 660"

# front_smoke NAME PORT: wait for a front end to listen, then the same smoke test through it
front_smoke() {
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$2/" && break; sleep 0.1; done
    check "$1 listens" curl -s -o /dev/null "http://127.0.0.1:$2/"
    python3 scripts/deb_smoke_check.py "http://127.0.0.1:$2" "$1" "http://127.0.0.1:$RECV_PORT"
}

say "nginx (installed snippet and example site, 127.0.0.1:$NGINX_PORT)"
mkdir -p "$T/nginx/tmp"
sed -e "s|^    listen 80;|    listen 127.0.0.1:$NGINX_PORT;|" -e '/listen \[::\]:80;/d' \
    /etc/nginx/sites-available/aiengine > "$T/nginx/site.conf"
grep -q 'include /etc/nginx/snippets/aiengine.conf;' "$T/nginx/site.conf"
cat > "$T/nginx/nginx.conf" <<NGINX
user www-data www-data;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/log/nginx-error.log;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path $T/nginx/tmp/body;
    fastcgi_temp_path $T/nginx/tmp/fastcgi;
    proxy_temp_path $T/nginx/tmp/proxy;
    uwsgi_temp_path $T/nginx/tmp/uwsgi;
    scgi_temp_path $T/nginx/tmp/scgi;
    include $T/nginx/site.conf;
}
NGINX
nginx -t -q -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/log/nginx-error.log"
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/log/nginx-error.log" -g 'daemon off;' &
PIDS+=($!)
front_smoke nginx "$NGINX_PORT"

say "Apache (installed site and snippet, 127.0.0.1:$APACHE_PORT)"
mkdir -p "$T/apache/htdocs"
sed -e "s|<VirtualHost \*:80>|<VirtualHost 127.0.0.1:$APACHE_PORT>|" \
    /etc/apache2/sites-available/aiengine.conf > "$T/apache/site.conf"
grep -q 'Include /etc/apache2/conf-available/aiengine.conf' "$T/apache/site.conf"
M=/usr/lib/apache2/modules
cat > "$T/apache/apache2.conf" <<APACHE
ServerRoot /etc/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:$APACHE_PORT
PidFile $T/apache/apache2.pid
DefaultRuntimeDir $T/apache
Mutex file:$T/apache default
ErrorLog $T/log/apache-error.log
LogLevel warn
User www-data
Group www-data
DocumentRoot $T/apache/htdocs
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule alias_module $M/mod_alias.so
LoadModule headers_module $M/mod_headers.so
LoadModule proxy_module $M/mod_proxy.so
LoadModule proxy_fcgi_module $M/mod_proxy_fcgi.so
Include $T/apache/site.conf
APACHE
apache2 -t -f "$T/apache/apache2.conf"
apache2 -f "$T/apache/apache2.conf" -DFOREGROUND &
PIDS+=($!)
front_smoke apache "$APACHE_PORT"

say "reload (SIGHUP) and stop (SIGTERM) as the units do"
kill -HUP "$SERVE"
for _ in $(seq 50); do grep -q "config reloaded" "$T/log/serve.log" && break; sleep 0.1; done
check "serve reloaded on SIGHUP" grep -q "config reloaded" "$T/log/serve.log"
check "and answers after it" curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/api/health"
kill -TERM "$SERVE"
for _ in $(seq 100); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done
check "serve stopped on SIGTERM and removed its socket" test ! -e /run/aiengine/aiengine.sock
python3 scripts/deb_smoke_check.py "http://127.0.0.1:$NGINX_PORT" nginx down
python3 scripts/deb_smoke_check.py "http://127.0.0.1:$APACHE_PORT" apache down

say "purge"
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
PIDS=()
rm -rf /run/aiengine /etc/default/aiengine
if [ -z "${KEEP:-}" ]; then
    $APT purge -y -qq aiengine >"$T/log/purge.log" 2>&1
    check "purge removed the user" bash -c '! getent passwd aiengine'
    check "purge removed the group" bash -c '! getent group aiengine'
    check "purge removed /etc/aiengine (app.key included)" test ! -e /etc/aiengine
    check "purge removed the statoverride" bash -c '! dpkg-statoverride --list /etc/aiengine/aiengine.yaml'
    check "purge removed the snippets and the binary" \
        bash -c '! test -e /usr/bin/aiengine -o -e /etc/nginx/snippets/aiengine.conf -o -e /etc/apache2/conf-available/aiengine.conf' 
fi
echo
echo "deb-smoke took $(( $(date +%s) - start )) s"
echo "deb: 1 passed, 0 failed"
