#!/usr/bin/env bash
# Runs as root inside a clean Debian chroot into which the pyfresh .deb
# packages were installed with apt: checks what a user of the packages gets.
#   - pyfresh.__version__ is the packages' version;
#   - uWSGI with `plugins = python3,pyfresh` serves a saved change on the next
#     request, without a restart;
#   - Apache after `a2enmod pyfresh` (which enables mod_wsgi too) does the
#     same in mod_wsgi daemon mode, and names mod_pyfresh in its startup line.
# Usage: smoke_test.sh VERSION UWSGI_PORT APACHE_PORT
set -euo pipefail
version="$1" uwsgi_port="$2" apache_port="$3"
fail() { echo "smoke test: FAILED: $*" >&2; exit 1; }
get() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1"; }
# The first response after a save must already be the new code.
expect() {
  local url="$1" want="$2" got
  got="$(get "$url")" || fail "GET $url"
  [ "$got" = "$want" ] || fail "GET $url answered '$got', expected '$want'"
}

unset PYTHONDONTWRITEBYTECODE
got="$(python3 -c 'import pyfresh; print(pyfresh.__version__)')"
[ "$got" = "$version" ] || fail "pyfresh.__version__ is '$got', expected '$version'"

app=/srv/pyfresh-smoke
rm -rf "$app"
mkdir -p "$app/smoke_app"
touch "$app/smoke_app/__init__.py"
cat > "$app/smoke_app/wsgi.py" <<'PY'
from smoke_app.views import message

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [message().encode()]
PY
save() {  # an atomic-rename save, as vim does
  printf 'def message():\n    return "%s"\n' "$1" > "$app/smoke_app/.views.py.tmp"
  mv "$app/smoke_app/.views.py.tmp" "$app/smoke_app/views.py"
}
save one
chmod -R a+rX "$app"

# --- uWSGI ---------------------------------------------------------------
cat > "$app/uwsgi.ini" <<INI
[uwsgi]
plugins = python3,pyfresh
http-socket = 127.0.0.1:$uwsgi_port
master = true
processes = 2
die-on-term = true
pythonpath = $app
module = smoke_app.wsgi:application
pyfresh-packages = smoke_app
add-header = Connection: close
INI
uwsgi --ini "$app/uwsgi.ini" > "$app/uwsgi.log" 2>&1 &
uwsgi_pid=$!
trap 'kill -INT $uwsgi_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do get "http://127.0.0.1:$uwsgi_port/" >/dev/null 2>&1 && break; sleep 0.1; done
expect "http://127.0.0.1:$uwsgi_port/" one
grep -q "pyfresh $version:" "$app/uwsgi.log" || fail "uWSGI's log has no 'pyfresh $version:' line"
save two
expect "http://127.0.0.1:$uwsgi_port/" two
expect "http://127.0.0.1:$uwsgi_port/" two
kill -INT "$uwsgi_pid"
wait "$uwsgi_pid" || true
trap - EXIT
echo "smoke test: uWSGI with plugins = python3,pyfresh served the saved change"

# --- Apache --------------------------------------------------------------
save one
a2enmod -q pyfresh
[ -e /etc/apache2/mods-enabled/wsgi.load ] || fail "a2enmod pyfresh did not enable mod_wsgi"
cat > /etc/apache2/sites-available/pyfresh-smoke.conf <<CONF
Listen 127.0.0.1:$apache_port
<VirtualHost 127.0.0.1:$apache_port>
    WSGIDaemonProcess smoke python-path=$app home=$app threads=2
    WSGIProcessGroup smoke
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / \${PYFRESH_WSGI_SCRIPT}
    PyFresh On
    PyFreshApp smoke_app.wsgi:application
    PyFreshPackages smoke_app
    <Directory $app>
        Require all granted
    </Directory>
</VirtualHost>
CONF
echo "ServerName 127.0.0.1" > /etc/apache2/conf-available/pyfresh-smoke-servername.conf
a2enconf -q pyfresh-smoke-servername
# Only this site: the default one would also want port 80.
a2dissite -q 000-default >/dev/null 2>&1 || true
sed -i 's/^Listen 80$/# Listen 80 (pyfresh smoke test)/' /etc/apache2/ports.conf
a2ensite -q pyfresh-smoke
apache2ctl configtest
apache2ctl start
trap 'apache2ctl stop || true' EXIT
for _ in $(seq 100); do get "http://127.0.0.1:$apache_port/" >/dev/null 2>&1 && break; sleep 0.1; done
expect "http://127.0.0.1:$apache_port/" one
save two
expect "http://127.0.0.1:$apache_port/" two
expect "http://127.0.0.1:$apache_port/" two
grep -q "mod_pyfresh/$version" /var/log/apache2/error.log || fail "Apache's log does not name mod_pyfresh/$version"
apache2ctl stop
trap - EXIT
echo "smoke test: Apache with a2enmod pyfresh served the saved change"
echo "smoke test: passed"
