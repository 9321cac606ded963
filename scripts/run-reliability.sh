#!/usr/bin/env bash
# The full reliability suite (docs/reliability.md): builds pyfresh, runs
# every test labelled "reliability" at full scale against real uWSGI and
# Apache servers on loopback, and prints the figures.
#
# Usage: scripts/run-reliability.sh [BUILD_DIR]      (default: ./build)
# Scale (environment, optional): PYFRESH_RELIABILITY_EDITS (150 edit steps
# per server), PYFRESH_RELIABILITY_RELOADS (1000), PYFRESH_RELIABILITY_FUZZ_SECONDS (300).
# The short version (what CI runs) is part of `ctest`: ctest -L reliability.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(realpath -m "${1:-$root/build}")"

bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh" "$build"

report="$build/reliability-report"
rm -rf "$report"
mkdir -p "$report"
export PYFRESH_RELIABILITY_MODE=full
export PYFRESH_RELIABILITY_REPORT="$report"

status=0
(cd "$build" && ctest -L reliability --output-on-failure) || status=$?

/usr/bin/python3 - "$report" <<'PY'
import glob, json, os, sys

figures = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    with open(path) as handle:
        data = json.load(handle)
    figures[data["test"]] = data

def get(name, key, default=0):
    return figures.get(name, {}).get(key, default)

load = [f for n, f in figures.items() if n.startswith("edits_under_load_")]
faults = [f for n, f in figures.items() if n.startswith("faults_")]
exposure = [f for n, f in figures.items() if n.startswith("exposure_")]
requests = (sum(f["requests"] for f in load) + sum(f["background"]["requests"] for f in faults)
            + sum(sum(s["requests"] for s in f["steps"]) for f in faults) + sum(f["requests"] for f in exposure))
print()
print("==== pyfresh reliability figures (%s) ====" % (", ".join(sorted({f.get("mode", "?") for f in figures.values()})) or "none"))
for f in load:
    print("edits under load, %-7s %7d requests (%6.0f/s), %3d edit steps (%d file operations), "
          "%d failures, %d mixed, %d stale, %d in-window multi-file intermediates, max lag %.1f ms, pids %s -> %s"
          % (f["server"] + ":", f["requests"], f["requests_per_second"], f["edit_steps"], f["file_operations"],
             f["failures"], f["mixed"], f["stale"], f["in_window_intermediate"], f["max_lag_seconds"] * 1000,
             f["worker_pids_before"], f["worker_pids_after"]))
for f in faults:
    b = f["background"]
    print("faults, %-7s %d steps, background %d requests, %d failed, slowest %.2f s, pids %s -> %s"
          % (f["server"] + ":", len(f["steps"]), b["requests"], b["failed"], b["slowest_s"],
             f["worker_pids_before"], f["worker_pids_after"]))
for name in ("memory_in_process", "memory_uwsgi_worker"):
    if name in figures:
        f = figures[name]
        print("memory, %-20s %d reloads: %.2f KB/reload (slope %.2f), live generations %s"
              % (name[7:] + ":", f["reloads"], f["kb_per_reload"], f["kb_per_reload_slope"],
                 f.get("max_alive_generations", "n/a")))
if "fuzz_config" in figures:
    f = figures["fuzz_config"]
    print("fuzz: %d executions in %d s (%d/s), %d new units" % (f["executions"], f["seconds"],
                                                              f["executions_per_second"], f["new_units"]))
print("---- totals ----")
print("requests served:   %d" % requests)
print("edits made:        %d edit steps (%d file operations)" % (sum(f["edit_steps"] for f in load),
                                                                 sum(f["file_operations"] for f in load)))
print("failures:          %d" % (sum(f["failures"] for f in load) + sum(f["background"]["failed"] for f in faults)))
print("mixed responses:   %d (stale: %d)" % (sum(f["mixed"] for f in load), sum(f["stale"] for f in load)))
print("KB per reload:     %s" % ", ".join("%s %.2f" % (n[7:], figures[n]["kb_per_reload"])
                                          for n in ("memory_in_process", "memory_uwsgi_worker") if n in figures))
print("fuzz executions:   %d" % get("fuzz_config", "executions"))
print("figures: %s" % sys.argv[1])
PY
exit $status
