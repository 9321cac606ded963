#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test suite through CTest:
# the core's unit tests (also under ASan/UBSan), the Python engine's pytest
# suite and the integration suites that start real uWSGI and Apache servers.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-deps.sh"

bash "$root/scripts/build.sh" "$root/build"
(cd "$root/build" && ctest --output-on-failure --timeout 900)

# The core's unit tests again under AddressSanitizer + UBSan, then
# ThreadSanitizer (the detector, its monitor thread and the request gate).
for sanitizer in address thread; do
  bash "$root/scripts/build.sh" "$root/build-$sanitizer" -DPYFRESH_SANITIZE=$sanitizer \
    -DPYFRESH_BUILD_UWSGI=OFF -DPYFRESH_BUILD_APACHE=OFF -DPYFRESH_BUILD_BENCH=OFF
  (cd "$root/build-$sanitizer" && ctest --output-on-failure -L core --timeout 600)
done
