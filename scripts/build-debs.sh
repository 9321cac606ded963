#!/usr/bin/env bash
# Builds pyfresh's Debian packages (python3-pyfresh, uwsgi-plugin-pyfresh,
# libapache2-mod-pyfresh) with CPack, against this machine's Debian.
# Usage: scripts/build-debs.sh [OUT_DIR]   (default: build-deb/)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build-deb}"
bash "$root/scripts/build.sh" "$build" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPYFRESH_BUILD_TESTS=OFF -DPYFRESH_BUILD_BENCH=OFF
(cd "$build" && rm -f ./*.deb && cpack -G DEB >/dev/null)
ls "$build"/*.deb
