#!/usr/bin/env bash
# Builds pyfresh with everything on, runs every benchmark and writes the
# report: docs/benchmarks.md, docs/img/*.png, bench/results/benchmarks.json.
#
#   bash bench/run-all.sh [BUILD_DIR] [report.py options...]   # BUILD_DIR defaults to ./build
#
# About 13 minutes on 2 CPUs; servers listen on 127.0.0.1 only and stop by
# themselves. Needs the packages of scripts/install-deps.sh (wrk, gnuplot-nox).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command_line="bash bench/run-all.sh${*:+ $*}"
build="$root/build"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  build="$(cd "$root" && realpath -m "$1")"
  shift
fi
for tool in wrk gnuplot uwsgi /usr/sbin/apache2; do
  command -v "$tool" >/dev/null || { echo "run-all: $tool is missing: bash scripts/install-deps.sh" >&2; exit 1; }
done
bash "$root/scripts/build.sh" "$build" -DPYFRESH_BUILD_UWSGI=ON -DPYFRESH_BUILD_APACHE=ON -DPYFRESH_BUILD_BENCH=ON
cd "$root"
PYFRESH_BENCH_COMMAND="$command_line" exec /usr/bin/python3 "$root/bench/report.py" --build-dir "$build" "$@"
