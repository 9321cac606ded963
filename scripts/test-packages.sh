#!/usr/bin/env bash
# Installs pyfresh's .deb packages with apt into a clean Debian chroot and
# checks that they work there (tests/packaging/smoke_test.sh: uWSGI with
# `plugins = python3,pyfresh` and Apache with `a2enmod pyfresh` each serve a
# saved change), and that lintian reports no errors.
# Usage: scripts/test-packages.sh [--suite SUITE] [--debs DIR]
#   default: this machine's Debian release, packages built by build-debs.sh.
# Needs root (debootstrap, chroot). About 5 minutes the first time (the
# chroot's base is downloaded once and cached), 2 minutes after.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/debian-chroot.sh"

suite="$(. /etc/os-release && echo "$VERSION_CODENAME")"
debs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --suite) suite="$2"; shift 2 ;;
    --debs) debs="$2"; shift 2 ;;
    *) echo "usage: $0 [--suite SUITE] [--debs DIR]" >&2; exit 2 ;;
  esac
done
if [ -z "$debs" ]; then
  bash "$root/scripts/build-debs.sh" "$root/build-deb" >/dev/null
  debs="$root/build-deb"
fi
version="$(sed -n 's/^project(pyfresh VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")"

command -v lintian >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lintian >/dev/null
echo "packages: lintian"
lintian --fail-on error "$debs"/*.deb

dir="$PYFRESH_CHROOT_CACHE/$suite-packages"
trap 'chroot_remove "$dir"' EXIT
chroot_create "$suite" "$dir"
mkdir -p "$dir/debs"
cp "$debs"/*.deb "$dir/debs/"
cp "$root/tests/packaging/smoke_test.sh" "$dir/smoke_test.sh"
echo "packages: apt install ./*.deb into a clean $suite chroot"
chroot_run "$dir" apt-get update -qq
chroot_run "$dir" bash -c 'apt-get install -y -qq /debs/*.deb >/tmp/apt.log 2>&1 || { tail -30 /tmp/apt.log; exit 1; }'
# Free ports on this machine (the chroot shares its network).
read -r uwsgi_port apache_port < <(/usr/bin/python3 -c '
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in sockets])')
chroot_run "$dir" bash /smoke_test.sh "$version" "$uwsgi_port" "$apache_port"
echo "packages: $suite passed"
