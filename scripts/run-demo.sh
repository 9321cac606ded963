#!/usr/bin/env bash
# Installs what is needed, builds, and serves the demo app in
# conf-examples/demo with pyfresh. Edit the demo's views and refresh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${PORT:-8000}"
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh" "$root/build"
echo "pyfresh demo: http://127.0.0.1:$port/  (edit $root/conf-examples/demo/demo_site/greeting.py and refresh)"
exec env -u PYTHONDONTWRITEBYTECODE -u PYTHONHOME PYTHONPATH="$root/build/python" \
  /usr/bin/python3 -m pyfresh.serve demo_site.wsgi:application \
  --packages demo_site --exclude demo_site.settings --debug \
  --path "$root/conf-examples/demo" --port "$port"
