#!/usr/bin/env bash
# Configures and builds pyfresh against Debian's /usr/bin/python3.
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
shift || true
cmake -S "$root" -B "$build" -DPython_EXECUTABLE=/usr/bin/python3 "$@" >/dev/null
picked="$(sed -n 's/^Python_EXECUTABLE:[^=]*=//p' "$build/CMakeCache.txt")"
if [ "$picked" != "/usr/bin/python3" ]; then
  echo "build: CMake picked $picked, not Debian's /usr/bin/python3" >&2
  exit 1
fi
cmake --build "$build" -j "$(nproc)"
