#!/usr/bin/python3
"""What a WSGI request costs on top of the bare app when nothing changed,
at 10 to 10,000 tracked module files, measured in the Python process (the
C++ check alone is bench/check_bench.cc):

  pyfresh              pyfresh.Reloader, inotify (the default)
  pyfresh poll 0       pyfresh.Reloader(poll_interval=0): stat every tracked file per request
  pyfresh poll 1s      pyfresh.Reloader(poll_interval=1): at most one full check per second
  naive                bench/naive_reloader.py: walk sys.modules, os.stat() every module
                       file of the package, per request

Each size is a package of real module files (directories of 50), all
imported by the app module; the same app object is served by every variant.
The extra cost is the median of (variant - bare app) over pairs of timings
taken back to back.

    PYTHONPATH=build/python /usr/bin/python3 bench/check_cost_python.py [--json FILE]
"""

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

SIZES = (10, 100, 1000, 10000)

APP = """\
import importlib

for _name in {modules!r}:
    importlib.import_module(_name)


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]
"""


def make_package(root, name, files):
    """`files` module files in all: app.py, __init__.py files, modules."""
    package = os.path.join(root, name)
    os.makedirs(package)
    open(os.path.join(package, "__init__.py"), "w").close()
    modules = []
    count = 2  # __init__.py and app.py
    index = 0
    while count < files:
        sub = "s%d" % (index // 50)
        directory = os.path.join(package, sub)
        if not os.path.isdir(directory):
            os.makedirs(directory)
            open(os.path.join(directory, "__init__.py"), "w").close()
            count += 1
            if count >= files:
                break
        with open(os.path.join(directory, "m%d.py" % index), "w") as handle:
            handle.write("X = %d\n" % index)
        modules.append("%s.%s.m%d" % (name, sub, index))
        index += 1
        count += 1
    with open(os.path.join(package, "app.py"), "w") as handle:
        handle.write(APP.format(modules=modules))


def loop_count(call, min_seconds):
    """How many calls take about min_seconds."""
    number = 1
    while True:
        started = time.perf_counter()
        for _ in range(number):
            call()
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds / 4 or number >= 10_000_000:
            break
        number *= 4
    return max(1, int(number * min_seconds / max(elapsed, 1e-9)))


def timing_ns(call, number):
    started = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - started) / number * 1e9


def paired_ns(bare, call, min_seconds, repeat):
    """(median per-call time of `call`, median of its differences to the
    bare app timed right before it): pairs cancel slow drifts of a shared
    machine."""
    number = loop_count(call, min_seconds)
    bare_number = loop_count(bare, min_seconds)
    totals, extras = [], []
    for _ in range(repeat):
        base = timing_ns(bare, bare_number)
        total = timing_ns(call, number)
        totals.append(total)
        extras.append(total - base)
    return statistics.median(totals), statistics.median(extras)


def measure(sizes, min_seconds, repeat, log=print):
    import pyfresh
    from naive_reloader import NaiveReloader

    logging.getLogger("pyfresh").setLevel(logging.WARNING)
    root = tempfile.mkdtemp(prefix="pyfresh-check-python-")
    sys.path.insert(0, root)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}

    def start_response(status, headers, exc_info=None):
        return None

    def consume(app):
        def run():
            for _ in app(environ, start_response):
                pass
        return run

    results = []
    try:
        for files in sizes:
            name = "ck%d" % files
            make_package(root, name, files)
            spec = "%s.app:application" % name
            variants = {
                "pyfresh": pyfresh.Reloader(spec, packages=[name]),
                "pyfresh poll 0": pyfresh.Reloader(spec, packages=[name], poll_interval=0),
                "pyfresh poll 1s": pyfresh.Reloader(spec, packages=[name], poll_interval=1),
                "naive": NaiveReloader(spec, [name]),
            }
            bare = sys.modules[name + ".app"].application
            tracked = len([m for m in sys.modules if m == name or m.startswith(name + ".")])
            for app in variants.values():
                consume(app)()  # starts watching; the first full comparison
            row = {"files": files, "modules": tracked, "total_ns": {}}
            bare_call = consume(bare)
            row["bare_ns"] = timing_ns(bare_call, loop_count(bare_call, min_seconds))
            for label, app in variants.items():
                row["total_ns"][label], row[label] = paired_ns(bare_call, consume(app), min_seconds, repeat)
            method = variants["pyfresh"].detector.method
            row["pyfresh_method"] = method
            results.append(row)
            log("  %6d files (%d modules): bare %.0f ns; extra per request: %s  [pyfresh: %s]" % (
                files, tracked, row["bare_ns"],
                ", ".join("%s %s" % (label, format_ns(row[label])) for label in variants), method))
            del variants
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return results


def format_ns(ns):
    if ns < 1000:
        return "%.0f ns" % ns
    if ns < 1_000_000:
        return "%.1f us" % (ns / 1000)
    return "%.2f ms" % (ns / 1e6)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--min-seconds", type=float, default=0.2, help="per timing (default 0.2)")
    parser.add_argument("--repeat", type=int, default=5, help="timings per variant, median (default 5)")
    args = parser.parse_args()
    if not (0 < args.min_seconds <= 5 and 1 <= args.repeat <= 20):
        parser.error("min-seconds up to 5, repeat 1-20")
    results = measure(SIZES, args.min_seconds, args.repeat)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
