#!/usr/bin/python3
"""The test loop (`python3 -m pyfresh.test`) against a cold `pytest` run of
the same tests, on a project whose dependencies take over a second to import.

    /usr/bin/python3 bench/test_loop_bench.py [--build-dir build] [--saves 10] [--cold-runs 5]

The project (generated in a temp dir):

  deps   what the tests depend on, imported by every run:
         - Django 3.2 (Debian's), `django.setup()` in conftest.py with
           contenttypes, auth, admin, sessions and messages installed;
         - `heavydep`, a generated library of --dep-modules modules (default
           1,500) in a directory named site-packages (so pyfresh treats it
           as installed, as it would a real one): each module defines 10
           classes of 5 methods and 20 functions, builds a 300-entry table
           and compiles two regular expressions at import; its package
           imports them all. Imported from bytecode (written by a warm-up
           run), as a real installed library is.
  app    the project's own code: 20 modules (app.mod00 ... app.mod19, each
         importing heavydep and Django's models API) and app.leaf, imported
         by app.mod00 only.
  tests  20 test files (tests/test_mod00.py ... ), 5 tests each, each
         importing its app module; tests/test_leaf.py tests app.leaf.

Measured:
  cold   `python3 -m pytest -q -p no:cacheprovider tests` as a new process,
         from its start to its summary line (and to its exit), --cold-runs
         times after one warm-up run (bytecode written, page cache warm).
  loop   `python3 -m pyfresh.test --reload-scope S -- -q -p no:cacheprovider tests`
         started once per scope S (packages, dependents); then --saves in-place saves of app/leaf.py (a new constant,
         the tests still pass), each from just before the write to (a) the
         summary line of the affected tests (tests/test_leaf.py and the test
         of app.mod00, which imports app.leaf) and (b) the round's last summary
         line (all 105 tests run).

Prints the figures and writes bench/results/test_loop.json.
"""

import argparse
import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

SUMMARY = re.compile(r"^=*\s*(?:\d+ \w+(?:, \d+ \w+)*|no tests ran) in [\d.]+s")
APP_MODULES = 20
TESTS_PER_FILE = 5


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def dep_module(index):
    lines = ["import re", "", "TABLE = {i: str(i * %d) * 3 for i in range(300)}" % (index + 1),
             "PATTERN = re.compile(r'(?P<word>[a-z]+)_%d_(?P<num>\\d+)')" % index,
             "OTHER = re.compile(r'^m%04d-[0-9a-f]{8}$')" % index, ""]
    for c in range(10):
        lines.append("class C%d_%d:" % (index, c))
        lines.append("    limit = %d" % (index * 10 + c))
        for m in range(5):
            lines.append("    def method%d(self, x):" % m)
            lines.append("        return [x * %d + i for i in range(self.limit %% 7)]" % m)
        lines.append("")
    for f in range(20):
        lines.append("def func%d(a, b=%d):" % (f, f))
        lines.append("    return {'a': a, 'b': b, 'sum': a + b + %d}" % index)
        lines.append("")
    return "\n".join(lines)


def generate(root, dep_modules):
    site = os.path.join(root, "deps", "site-packages")
    names = ["m%04d" % i for i in range(dep_modules)]
    write(os.path.join(site, "heavydep", "__init__.py"),
          "".join("from . import %s\n" % n for n in names))
    for i, name in enumerate(names):
        write(os.path.join(site, "heavydep", name + ".py"), dep_module(i))
    project = os.path.join(root, "project")
    write(os.path.join(project, "conftest.py"), textwrap.dedent("""
        import django
        from django.conf import settings

        if not settings.configured:
            settings.configure(
                INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.admin",
                                "django.contrib.sessions", "django.contrib.messages"],
                DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
                SECRET_KEY="bench", USE_TZ=True)
            django.setup()
        """).lstrip())
    write(os.path.join(project, "app", "__init__.py"), "")
    write(os.path.join(project, "app", "leaf.py"), "VALUE = 0\n\ndef value():\n    return VALUE\n")
    for k in range(APP_MODULES):
        extra = "from app import leaf\n" if k == 0 else ""
        write(os.path.join(project, "app", "mod%02d.py" % k), textwrap.dedent("""
            import heavydep
            from django.db import models
            from heavydep.m%04d import C%d_0, func1
            %s
            def compute(x):
                return func1(x)["sum"] + C%d_0().limit
            """ % (k, k, extra, k)).lstrip())
        tests = "".join("def test_%d():\n    assert compute(%d) == func1(%d)['sum'] + C%d_0().limit\n\n"
                        % (t, t, t, k) for t in range(TESTS_PER_FILE))
        write(os.path.join(project, "tests", "test_mod%02d.py" % k),
              "from app.mod%02d import compute, func1, C%d_0\n\n%s" % (k, k, tests))
    write(os.path.join(project, "tests", "test_leaf.py"), textwrap.dedent("""
        from app import leaf

        def test_leaf_value_is_an_int():
            assert isinstance(leaf.value(), int)
        """).lstrip())
    return project, site


def environment(build_dir, site):
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
            "PYTHONPATH": os.pathsep.join([os.path.join(build_dir, "python"), site])}


def cold_run(project, env):
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=project,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    summary_at = None
    summary = None
    for line in proc.stdout:
        if summary_at is None and SUMMARY.search(line):
            summary_at = time.perf_counter()
            summary = line.strip()
    proc.wait()
    ended = time.perf_counter()
    if proc.returncode != 0 or summary is None:
        raise SystemExit("the cold run failed (status %s): %s" % (proc.returncode, summary))
    return summary_at - started, ended - started, summary


class LoopProcess:
    def __init__(self, project, env, scope):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pyfresh.test", "--reload-scope", scope, "--", "-q", "-p", "no:cacheprovider",
             "tests"], cwd=project,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            start_new_session=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put((time.perf_counter(), line.rstrip("\n")))
        self.lines.put((time.perf_counter(), None))

    def until(self, pattern, timeout=120):
        regex = re.compile(pattern)
        got = []
        deadline = time.monotonic() + timeout
        while True:
            stamp, line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            if line is None:
                raise SystemExit("the loop ended: %s" % "\n".join(l for _, l in got[-30:]))
            got.append((stamp, line))
            if regex.search(line):
                return got

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def measure_loop(project, env, scope, saves):
    loop = LoopProcess(project, env, scope)
    try:
        first = loop.until(r"waiting for saves")
        first_summary = [line for _, line in first if SUMMARY.search(line)][-1].strip("= ")
        affected_times, round_times = [], []
        leaf = os.path.join(project, "app", "leaf.py")
        for n in range(1, saves + 1):
            text = "VALUE = %d\n\ndef value():\n    return VALUE\n" % n
            saved = time.perf_counter()
            with open(leaf, "w") as f:
                f.write(text)
            lines = loop.until(r"round \d+: exit status")
            summaries = [(stamp, line) for stamp, line in lines if SUMMARY.search(line)]
            if "exit status 0" not in lines[-1][1] or len(summaries) != 2:
                raise SystemExit("unexpected round:\n%s" % "\n".join(l for _, l in lines))
            affected_times.append(summaries[0][0] - saved)
            round_times.append(summaries[-1][0] - saved)
            sessions = [line.strip("= ") for _, line in summaries]
            reload_line = [line for _, line in lines if "reloaded the tests under" in line][0]
    finally:
        loop.stop()
    return {"first_summary": first_summary, "affected": affected_times, "round": round_times,
            "affected_median": statistics.median(affected_times), "round_median": statistics.median(round_times),
            "sessions": sessions, "reload_line": re.sub(r"^.* in ([\d.]+ ms)", r"\1", reload_line)}


def fmt(seconds):
    return "%.0f ms" % (seconds * 1000) if seconds < 1 else "%.2f s" % seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "build"))
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--dep-modules", type=int, default=1500)
    parser.add_argument("--scopes", nargs="+", default=["packages", "dependents"], choices=["packages", "dependents"])
    args = parser.parse_args()
    build_dir = os.path.abspath(args.build_dir)
    root = tempfile.mkdtemp(prefix="pyfresh-test-loop-bench-")
    try:
        load_at_start = os.getloadavg()[0]
        print("load average at the start: %.2f (2 CPUs, shared)" % load_at_start)
        project, site = generate(root, args.dep_modules)
        env = environment(build_dir, site)
        # What the dependencies alone cost to import (warm bytecode).
        subprocess.run([sys.executable, "-c", "import heavydep"], env=env, check=True)
        probe = ("import time; t = time.perf_counter(); import heavydep; h = time.perf_counter() - t; "
                 "import django; from django.conf import settings; "
                 "settings.configure(INSTALLED_APPS=['django.contrib.contenttypes', 'django.contrib.auth', "
                 "'django.contrib.admin', 'django.contrib.sessions', 'django.contrib.messages'], SECRET_KEY='bench'); "
                 "t = time.perf_counter(); django.setup(); d = time.perf_counter() - t; print(h, d)")
        deps = [tuple(map(float, subprocess.run([sys.executable, "-c", probe], env=env, check=True,
                                                capture_output=True, text=True).stdout.split()))
                for _ in range(3)]
        heavy_import = statistics.median(d[0] for d in deps)
        django_setup = statistics.median(d[1] for d in deps)
        print("dependencies: heavydep (%d modules) imports in %s, django.setup() in %s"
              % (args.dep_modules, fmt(heavy_import), fmt(django_setup)))

        cold_run(project, env)  # warm-up: bytecode, page cache
        cold = [cold_run(project, env) for _ in range(args.cold_runs)]
        cold_summary = statistics.median(c[0] for c in cold)
        cold_exit = statistics.median(c[1] for c in cold)
        print("cold pytest: start -> summary line %s (median of %d; min %s, max %s), -> exit %s; %s"
              % (fmt(cold_summary), len(cold), fmt(min(c[0] for c in cold)), fmt(max(c[0] for c in cold)),
                 fmt(cold_exit), cold[0][2]))

        loops = {}
        for scope in args.scopes:
            loops[scope] = measure_loop(project, env, scope, args.saves)
            m = loops[scope]
            print("loop (reload-scope %s): first run %s" % (scope, m["first_summary"]))
            print("  save -> affected tests' summary %s (median of %d; min %s, max %s); e.g. %s"
                  % (fmt(m["affected_median"]), args.saves, fmt(min(m["affected"])), fmt(max(m["affected"])),
                     m["sessions"][0]))
            print("  save -> the round's summary line %s (median; min %s, max %s); e.g. %s"
                  % (fmt(m["round_median"]), fmt(min(m["round"])), fmt(max(m["round"])), m["sessions"][1]))
            print("  ratio to the cold run (start -> summary): affected %.3f (1/%.0f), whole round %.3f (1/%.0f); "
                  "target <= 0.1" % (m["affected_median"] / cold_summary, cold_summary / m["affected_median"],
                                     m["round_median"] / cold_summary, cold_summary / m["round_median"]))
            print("  reload: %s" % m["reload_line"])
        result = {
            "date": time.strftime("%Y-%m-%d", time.gmtime()),
            "dep_modules": args.dep_modules,
            "heavydep_import_s": heavy_import,
            "django_setup_s": django_setup,
            "load_average_at_start": load_at_start,
            "cold_runs": [{"summary_s": c[0], "exit_s": c[1]} for c in cold],
            "cold_summary_median_s": cold_summary,
            "cold_exit_median_s": cold_exit,
            "cold_summary_line": cold[0][2],
            "saves": args.saves,
            "loop": {scope: {
                "save_to_affected_summary_s": m["affected"],
                "save_to_round_summary_s": m["round"],
                "save_to_affected_summary_median_s": m["affected_median"],
                "save_to_round_summary_median_s": m["round_median"],
                "round_summaries": m["sessions"],
                "reload_line": m["reload_line"],
                "ratio_round_to_cold": m["round_median"] / cold_summary,
                "ratio_affected_to_cold": m["affected_median"] / cold_summary,
            } for scope, m in loops.items()},
        }
        out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "test_loop.json")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            json.dump(result, f, indent=2)
        print("wrote %s" % out)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
