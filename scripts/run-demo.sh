#!/usr/bin/env bash
# Installs what is needed, builds, and serves the demo app in
# conf-examples/demo under uWSGI with pyfresh (conf-examples/uwsgi.ini).
# Edit conf-examples/demo/demo_site/greeting.py and save: with live reload on
# (--pyfresh-live-reload, a development feature) the open page follows.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh" "$root/build"
# A clean environment with bytecode writing on, as on a user's machine.
exec env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
  /usr/bin/uwsgi --set-ph "port=${PORT:-8000}" --ini "$root/conf-examples/uwsgi.ini" --pyfresh-live-reload
