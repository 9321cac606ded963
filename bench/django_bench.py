#!/usr/bin/python3
"""A real Django project under pyfresh, uWSGI's `py-autoreload`, mod_wsgi's
daemon restart and `manage.py runserver`: how long a save takes to reach a
response, and how much memory a reload keeps (issue 18).

    /usr/bin/python3 bench/django_bench.py --build-dir build            # about 3 min
    /usr/bin/python3 bench/django_bench.py --build-dir build --quick    # a smoke run

The project is tests/support/pyfresh_testsupport/django_project.py's, made once by Django's own tools
(`django-admin startproject mysite`, `manage.py startapp polls`, models
with a foreign key, admin with an inline, include()d URL confs, templates
with {% extends %}, template tags, a middleware, migrations to sqlite,
DEBUG = False so the cached template loader is on) and copied for every
server. The page timed is /polls/: a function view rendering an app
template that extends the project's base template, with a model method's
value, a helper module's and a template tag's.

Save -> first response with the new code, under light load (a polling
client as fast as it can, --load-clients others at --load-rate requests/s
each on the same page: bench/apache_bench.py's time_saves and
BackgroundLoad); each save is an editor's atomic rename:

  uWSGI pyfresh         master, processes = 2, pyfresh-packages = mysite polls,
                        pyfresh-exclude = mysite.settings (uwsgi_bench.Server)
  uWSGI py-autoreload   the same uWSGI without pyfresh, py-autoreload = 1
  Apache pyfresh        mod_wsgi daemon mode (one process, threads=4,
                        %{GLOBAL}), PyFresh On, PyFreshPackages mysite polls,
                        PyFreshExclude mysite.settings (apache_variants.Server)
  Apache mod_wsgi       the same daemon mode without pyfresh, WSGIScriptAlias to
                        a .wsgi importing mysite.wsgi; the save, then a touch
                        of the .wsgi (WSGIScriptReloading On is mod_wsgi's
                        default): the daemon process restarts
  runserver             /usr/bin/python3 manage.py runserver (Django's own
                        autoreloader, no --noreload: the reloader process
                        restarts the server process on a change)

A view edit for every mechanism; a template edit and a model-method edit
for pyfresh as well. Bytecode is written by every server (clean
environment, no PYTHONDONTWRITEBYTECODE).

Memory kept per reload: the one worker of a `processes = 1` uWSGI with
pyfresh over --memory-reloads view saves (after a warm-up): its RSS, the
objects the garbage collector tracks and the interpreter's allocated
blocks, read after each reload (a gc.collect() first), as least-squares
slopes. Against it uWSGI's own reload (py-autoreload): it restarts the
instance, so each reload starts a new worker and nothing is kept, at the
price of the restart; its figures are those of the fresh worker after each
reload. The memory server's app is a bench-only entry module in front of
mysite.wsgi's application that answers /__memory with those counts.

Writes bench/results/django.json and, unless --no-docs, the "Django
project" section at the end of docs/benchmarks.md (replacing an earlier one).
Every server is stopped by its pid; every wait is bounded.
"""

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))  # pyfresh_testsupport, as in the tests

import apache_bench  # noqa: E402
import apache_variants  # noqa: E402
import uwsgi_bench  # noqa: E402
from pyfresh_testsupport import django_project  # noqa: E402  (the project the tests edit)

PYTHON = "/usr/bin/python3"
PAGE = "/polls/"
# Edit kind: (file, its text on the page before the first save).
EDITS = {
    "view": ("polls/views.py", "view-v1"),
    "template": ("polls/templates/polls/index.html", "index-template-v1"),
    "model method": ("polls/models.py", "model-method-v1"),
}
EDIT_LABELS = {
    "view": "view (polls/views.py)",
    "template": "app template (polls/templates/polls/index.html)",
    "model method": "model method (polls/models.py)",
}

MEMORY_ENTRY = '''\
"""bench/django_bench.py's memory server: the Django project's application,
and /__memory answering what the garbage collector tracks."""
import gc
import json
import sys

from mysite.wsgi import application as django_application


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/__memory":
        gc.collect()
        body = json.dumps({"gc_objects": len(gc.get_objects()),
                           "allocated_blocks": sys.getallocatedblocks()}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    return django_application(environ, start_response)
'''


class DjangoSite:
    """One copy of the project, for the servers of uwsgi_bench and
    apache_variants (their `site`): write(root) copies it, writer(kind)
    saves an edit of that kind with a given message."""

    path = PAGE
    host = "localhost"  # in the project's ALLOWED_HOSTS
    message = EDITS["view"][1]
    exclude = " ".join(django_project.EXCLUDE)

    def __init__(self, template, memory_entry=False):
        self.template = template
        self.memory_entry = memory_entry
        self.root = None
        self.current = {kind: text for kind, (_path, text) in EDITS.items()}

    def write(self, root):
        shutil.copytree(self.template, root, ignore=shutil.ignore_patterns("__pycache__"))
        self.root = root
        django_project.save(os.path.join(root, "plain.wsgi"), "from mysite.wsgi import application  # noqa: F401\n")
        spec = "mysite.wsgi:application"
        if self.memory_entry:
            django_project.save(os.path.join(root, "bench_memory_entry.py"), MEMORY_ENTRY)
            spec = "bench_memory_entry:application"
        return " ".join(django_project.PACKAGES), spec, os.path.join(root, EDITS["view"][0]), None

    @staticmethod
    def shows(body, message):
        return message in body

    def writer(self, kind):
        def write(message):
            django_project.replace_in(self.root, EDITS[kind][0], self.current[kind], message)
            self.current[kind] = message
        return write


class Runserver:
    """`manage.py runserver` with its autoreloader, in its own session."""

    variant = "runserver"
    touch_file = None

    def __init__(self, harness, site, timeout=60.0):
        self.site = site
        self.path = site.path
        self.dir = tempfile.mkdtemp(prefix="pyfresh-django-runserver-")
        self.process = None
        try:
            self.root = os.path.join(self.dir, "app")
            _packages, _spec, self.views, _modules = site.write(self.root)
            self.reloader = subprocess.run(
                [PYTHON, "-c", "import django.utils.autoreload as a; print(type(a.get_reloader()).__name__)"],
                cwd=self.root, env=harness.clean_env(), capture_output=True, text=True, timeout=60).stdout.strip()
            self.port = harness.free_port()
            self.log_path = os.path.join(self.dir, "runserver.log")
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [PYTHON, "manage.py", "runserver", "127.0.0.1:%d" % self.port], cwd=self.root,
                    env=harness.clean_env(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)
            poller = apache_bench.Poller(self.port, site.host, timeout=10, path=self.path)
            try:
                if not apache_bench.wait_for_body(poller, site.message, timeout, shows=site.shows):
                    raise RuntimeError("runserver does not answer:\n%s" % self.log()[-3000:])
            finally:
                poller.close()
        except BaseException:
            self.stop()
            raise

    def shows(self, body, message):
        return self.site.shows(body, message)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as handle:
                return handle.read()
        except (OSError, AttributeError):
            return ""

    def stop(self):
        process, self.process = self.process, None
        if process is not None:
            for sig, grace in ((signal.SIGINT, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(process.pid, sig)  # the reloader and its server process
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        shutil.rmtree(self.dir, ignore_errors=True)


# -- save -> new code -------------------------------------------------------------------------


def p90(values):
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


# After a refused connection (runserver between its server processes), the
# polling client waits this long instead of spinning on a CPU the new
# server process needs; it adds at most this much to a measured time.
FAILURE_PAUSE = 0.005


def timed(server, args, count, pause, kind="view", touch=False, host=uwsgi_bench.HOST):
    """uwsgi_bench.time_server_saves for one edit kind, plus the p90."""
    result = uwsgi_bench.time_server_saves(server, count, args.save_timeout, pause, args.load_clients,
                                           args.load_rate, touch=touch, write=server.site.writer(kind), host=host,
                                           failure_pause=FAILURE_PAUSE)
    result["p90"] = p90(result["delays"])
    return result


# (name, host, variant, edit kinds, count option, pause after each save, touch the .wsgi)
MECHANISMS = (
    ("uwsgi-pyfresh", "uwsgi", "pyfresh", ("view", "template", "model method"), "saves", 0.1, False),
    ("uwsgi-py-autoreload", "uwsgi", "py-autoreload", ("view",), "restart_saves", 2.0, False),
    ("apache-pyfresh", "apache", "pyfresh", ("view", "template", "model method"), "saves", 0.1, False),
    ("apache-mod_wsgi-restart", "apache", "plain", ("view",), "restart_saves", 1.0, True),
    ("runserver", "runserver", None, ("view",), "restart_saves", 2.0, False),
)
MECHANISM_LABELS = {
    "uwsgi-pyfresh": "**pyfresh** under uWSGI (processes = 2)",
    "uwsgi-py-autoreload": "uWSGI `py-autoreload = 1` (processes = 2, no pyfresh)",
    "apache-pyfresh": "**pyfresh** under Apache + mod_wsgi daemon mode",
    "apache-mod_wsgi-restart": "mod_wsgi daemon mode restart (save, then touch the .wsgi)",
    "runserver": "`manage.py runserver` (Django's autoreloader)",
}


def start(name, host, variant, args, harnesses, template):
    site = DjangoSite(template)
    if host == "uwsgi":
        server = uwsgi_bench.Server(harnesses["uwsgi"], args.build_dir, variant, processes=2, site=site)
        server.variant = name
        return server, server.log
    if host == "apache":
        server = apache_variants.Server(harnesses["apache"], "django", {"a": variant}, site=site)
        server.variant = name
        return server, lambda: server.httpd.log() if server.httpd else ""
    server = Runserver(harnesses["uwsgi"], site)
    return server, server.log


def measure_saves(args, harnesses, template, log=print):
    results = {}
    for name, host, variant, kinds, count_option, pause, touch in MECHANISMS:
        server, server_log = start(name, host, variant, args, harnesses, template)
        try:
            if pause >= 1.0:
                # py-autoreload and runserver's StatReloader take the files'
                # mtimes as their baseline on their first scan after a
                # (re)start: a save before it goes unnoticed.
                time.sleep(uwsgi_bench.SETTLE_AFTER_START)
            results[name] = {"host": host, "edits": {}}
            if isinstance(server, Runserver):
                results[name]["reloader"] = server.reloader
            for kind in kinds:
                count = getattr(args, count_option) if kind == "view" else args.other_saves
                result = timed(server, args, count, pause, kind, touch,
                               host=DjangoSite.host)
                results[name]["edits"][kind] = result
                log("    %-24s %-13s %d/%d seen%s, failed %d (others %s), worst %s" % (
                    name, kind, result["seen"], result["saves"],
                    ", median %s, p90 %s" % (apache_bench.ms(result["median"]), apache_bench.ms(result["p90"]))
                    if result["seen"] else "", result["failed"], result["load_failed"],
                    apache_bench.ms(max(result["worst"], result["load_worst"] or 0.0))))
            text = server_log()
            times = uwsgi_bench.reload_times(text)
            if times:
                results[name]["reload_times"] = times
                results[name]["reload_median"] = statistics.median(times)
                results[name].update(first_reloads(text))
            results[name]["integration_on"] = "Django integration on" in text
            results[name]["already_registered"] = len(django_project.warnings_in(text))
            results[name]["crashes"] = any(bad in text for bad in ("Segmentation", "DAMN ! worker",
                                                                   "Fatal Python error"))
        finally:
            server.stop()
    return results


# The process: pyfresh's "[pid N]" under uWSGI, Apache's "[pid N:tid M]".
RELOADED_IN = re.compile(r"\[pid (\d+)[:\]][^\n]*?reloaded \S+ in ([\d.]+) ms")


def first_reloads(log_text):
    """Each process's first reload (seconds) and the median of the later
    ones, from pyfresh's log lines."""
    first, later = {}, []
    for pid, value in RELOADED_IN.findall(log_text):
        if pid in first:
            later.append(float(value) / 1000.0)
        else:
            first[pid] = float(value) / 1000.0
    return {"first_reloads": sorted(first.values()),
            "later_reload_median": statistics.median(later) if later else None}


# -- memory per reload ---------------------------------------------------------------------


def memory(args, harness, template, log=print):
    """pyfresh over args.memory_reloads reloads of one worker; uWSGI's
    py-autoreload over args.restart_memory_reloads restarts."""
    results = {}
    for name, variant, reloads, warmup in (
            ("pyfresh", "pyfresh", args.memory_reloads, args.memory_warmup),
            ("py-autoreload", "py-autoreload", args.restart_memory_reloads, 0)):
        site = DjangoSite(template, memory_entry=True)
        server = uwsgi_bench.Server(harness, args.build_dir, variant, processes=1, site=site)
        poller = apache_bench.Poller(server.port, site.host, timeout=30, path=site.path)
        probe = apache_bench.Poller(server.port, site.host, timeout=30, path="/__memory")
        write = site.writer("view")
        try:
            if variant != "pyfresh":
                time.sleep(uwsgi_bench.SETTLE_AFTER_START)

            def sample():
                status, body = probe.get()
                if status != 200:
                    raise RuntimeError("/__memory: %s %r\n%s" % (status, body[:300], server.log()[-3000:]))
                counts = json.loads(body)
                workers = server.worker_pids()
                if len(workers) != 1:
                    raise RuntimeError("expected one worker, found %r" % workers)
                counts["rss_kb"] = uwsgi_bench.rss_kb(workers[0])
                counts["pid"] = workers[0]
                return counts

            def reload_once(index):
                message = "%s memory %d" % (name, index)
                write(message)
                if not apache_bench.wait_for_body(poller, message, args.save_timeout, shows=site.shows):
                    raise RuntimeError("%s: reload %d not served:\n%s" % (name, index, server.log()[-3000:]))
                if variant != "pyfresh":
                    time.sleep(uwsgi_bench.SETTLE_AFTER_START)  # py-autoreload's next baseline (see above)

            for index in range(warmup):
                reload_once(index)
            samples = [sample()]
            started = time.monotonic()
            for index in range(warmup, warmup + reloads):
                reload_once(index)
                samples.append(sample())
            elapsed = time.monotonic() - started
            pids = sorted(set(s["pid"] for s in samples))
            result = {"reloads": reloads, "warmup": warmup, "seconds": elapsed, "samples": samples,
                      "workers": len(pids)}
            for key in ("rss_kb", "gc_objects", "allocated_blocks"):
                values = [s[key] for s in samples]
                result[key] = {"before": values[0], "after": values[-1], "per_reload": uwsgi_bench.slope(values)}
            results[name] = result
            log("    %-13s %d reloads (%d worker process%s): RSS %d -> %d KB, %.1f KB/reload; gc objects %d -> %d, "
                "%.1f/reload; allocated blocks %.1f/reload" % (
                    name, reloads, len(pids), "" if len(pids) == 1 else "es", result["rss_kb"]["before"],
                    result["rss_kb"]["after"], result["rss_kb"]["per_reload"], result["gc_objects"]["before"],
                    result["gc_objects"]["after"], result["gc_objects"]["per_reload"],
                    result["allocated_blocks"]["per_reload"]))
        finally:
            poller.close()
            probe.close()
            server.stop()
    return results


# -- report ---------------------------------------------------------------------------------


def fmt(seconds):
    if seconds is None:
        return "-"
    if seconds < 0.1:
        return "%.1f ms" % (seconds * 1000.0)
    if seconds < 1.0:
        return "%.0f ms" % (seconds * 1000.0)
    return "%.2f s" % seconds


def baseline_of(name, results):
    """The pyfresh result a mechanism is compared with: the same host's
    view edit; runserver against pyfresh under uWSGI."""
    key = "apache-pyfresh" if results[name]["host"] == "apache" else "uwsgi-pyfresh"
    return results.get(key, {}).get("edits", {}).get("view")


def save_rows(results):
    """(mechanism, edit, result, ratio to pyfresh)."""
    rows = []
    for name, entry in results.items():
        for kind, result in entry["edits"].items():
            base = baseline_of(name, results)
            ratio = None
            if base and base["median"] and result["median"] is not None and (kind == "view" or base is result):
                ratio = result["median"] / base["median"]
            rows.append((name, kind, result, ratio))
    return rows


def print_report(data):
    print("command: %s" % data["command"])
    print("date:    %s; %d CPUs; load average %.1f at the start, %.1f at the end" % (
        data["date"], data["cpus"], data.get("load_average_at_start", float("nan")),
        data.get("load_average_at_end", float("nan"))))
    print("project: tests/support/pyfresh_testsupport/django_project.py (startproject mysite + startapp polls, %d modules in mysite and polls),"
          " page %s" % (data["modules"], PAGE))
    print("(1) save -> first response with the new code; one polling client + %d other clients at %g req/s each"
          % (data["args"]["load_clients"], data["args"]["load_rate"]))
    print("    %-26s %-13s %6s %9s %9s %9s %8s %7s %8s %7s %10s" % (
        "mechanism", "edit", "seen", "median", "p90", "max", "ratio", "failed", "others", "failed", "worst req"))
    for name, kind, r, ratio in save_rows(data["saves"]):
        print("    %-26s %-13s %6s %9s %9s %9s %8s %7d %8s %7s %10s" % (
            name, kind, "%d/%d" % (r["seen"], r["saves"]), fmt(r["median"]), fmt(r["p90"]), fmt(r["max"]),
            "%.1fx" % ratio if ratio is not None else "-", r["failed"], r["load_requests"], r["load_failed"],
            fmt(max(r["worst"], r["load_worst"] or 0.0))))
        for error in (r["errors"] + r["load_errors"])[:2]:
            print("      failed request: %s" % error)
    for name, entry in data["saves"].items():
        extra = []
        if entry.get("reload_median") is not None:
            extra.append("pyfresh's reloads (log) median %s over %d" % (fmt(entry["reload_median"]),
                                                                        len(entry["reload_times"])))
        if entry.get("reloader"):
            extra.append("autoreloader: %s" % entry["reloader"])
        if entry.get("already_registered"):
            extra.append("%d 'already registered' warnings" % entry["already_registered"])
        if entry.get("crashes"):
            extra.append("CRASHES in the log")
        if extra:
            print("    %s: %s" % (name, "; ".join(extra)))
    if data.get("memory"):
        print("(2) memory per reload, uWSGI processes = 1 (least-squares slope over the reloads)")
        for name, r in data["memory"].items():
            print("    %-13s %3d reloads, %d worker process(es): RSS %6.1f KB/reload (%d -> %d KB), "
                  "gc objects %7.1f/reload (%d -> %d), allocated blocks %7.1f/reload" % (
                      name, r["reloads"], r["workers"], r["rss_kb"]["per_reload"], r["rss_kb"]["before"],
                      r["rss_kb"]["after"], r["gc_objects"]["per_reload"], r["gc_objects"]["before"],
                      r["gc_objects"]["after"], r["allocated_blocks"]["per_reload"]))


def markdown(data):
    """The "Django project" section of docs/benchmarks.md."""
    args = data["args"]
    lines = ["## Django project", ""]
    lines.append("Measured %s with `%s`%s; %d CPUs, shared with other builds and tests (load average %.1f at the "
                 "start, %.1f at the end: figures move between runs; compare within the table)." % (
                     data["date"], data["command"], " (a quick smoke run)" if args["quick"] else "", data["cpus"],
                     data.get("load_average_at_start", float("nan")), data.get("load_average_at_end", float("nan"))))
    lines.append("")
    lines.append("The project of the framework tests (`tests/support/pyfresh_testsupport/django_project.py`): `django-admin startproject mysite`, "
                 "`manage.py startapp polls`, models with a foreign key, admin with an inline, `include()`d URL "
                 "confs, templates with `{%% extends %%}`, template tags, a middleware, sqlite after `migrate`, "
                 "`DEBUG = False` (Django's cached template loader on); %d modules in `mysite` and `polls`, "
                 "configured as in the README (`packages mysite polls`, `exclude mysite.settings`). Each save "
                 "renames a temporary file over the original, as vim does; then one keep-alive client asks for "
                 "`%s` as fast as it can until the page shows the new text, while %d other clients (a separate "
                 "process) ask for the same page at %g requests/s each. Bytecode is written by every server. "
                 "*ratio*: the median over pyfresh's median for a view on the same host (`runserver`: over "
                 "pyfresh under uWSGI). *failed*: requests not answered 200, by the polling client and by the "
                 "others over the series; *worst request*: the slowest of either." % (
                     data["modules"], PAGE, args["load_clients"], args["load_rate"]))
    lines.append("")
    lines.append("| mechanism | edit | seen | median | p90 | ratio to pyfresh (view) | failed (polling) | failed (others) "
                 "| worst request |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, kind, r, ratio in save_rows(data["saves"]):
        label, edit = MECHANISM_LABELS[name], EDIT_LABELS[kind]
        lines.append("| %s | %s | %d/%d | %s | %s | %s | %d of %d | %s of %s | %s |" % (
            label, edit, r["seen"], r["saves"], fmt(r["median"]), fmt(r["p90"]),
            "1" if ratio is not None and abs(ratio - 1.0) < 1e-9 else ("%.0f×" % ratio if ratio else "–"),
            r["failed"], r["polls"], r["load_failed"], r["load_requests"],
            fmt(max(r["worst"], r["load_worst"] or 0.0))))
    lines.append("")
    notes = []
    for name in ("uwsgi-pyfresh", "apache-pyfresh"):
        entry = data["saves"].get(name)
        if entry and entry.get("reload_median") is not None:
            notes.append("%s: pyfresh's reloads themselves (its log, `reloaded ... in N ms`, one per process and "
                         "save) took %s (median of %d); the rest of the time to the new code is the first "
                         "request re-importing the URL conf and views, which Django imports lazily. The first "
                         "reload of each process took %s, the later ones %s (median)%s." % (
                             "uWSGI" if name.startswith("uwsgi") else "Apache", fmt(entry["reload_median"]),
                             len(entry["reload_times"]), ", ".join(fmt(v) for v in entry["first_reloads"]),
                             fmt(entry["later_reload_median"]),
                             "; each uWSGI worker was forked from the master, which had imported the project: "
                             "its first reload writes to pages it still shares with the master, and each such "
                             "write copies a page (README, *What happens on a request*; "
                             "bench/prefork_first_reload.py)"
                             if name.startswith("uwsgi") else ""))
    runserver = data["saves"].get("runserver")
    if runserver:
        notes.append("`runserver` is Django's development server: `/usr/bin/python3 manage.py runserver` without "
                     "`--noreload`; its autoreloader here is `%s` (pywatchman is not installed, so Django polls "
                     "the mtimes of every imported module once a second) and restarts the server process on a "
                     "change, which then runs Django's start-up and system checks again; requests in between "
                     "are refused (the failed requests)." % runserver.get("reloader", "?"))
    if "uwsgi-py-autoreload" in data["saves"]:
        notes.append("`py-autoreload = 1` checks once a second and then reloads the whole instance (every "
                     "worker, the app imported again); mod_wsgi's restart (`WSGIScriptReloading On`, its "
                     "default; the .wsgi imports `mysite.wsgi`) replaces the daemon process, whose first request "
                     "imports Django and the project again. The restarting mechanisms' series wait %.0f–%.0f s "
                     "after each save (their mtime baselines)." % (1.0, uwsgi_bench.SETTLE_AFTER_START))
    warnings = sum(entry.get("already_registered", 0) for entry in data["saves"].values())
    crashes = [name for name, entry in data["saves"].items() if entry.get("crashes")]
    notes.append("No \"Model … was already registered\" warning in any server log%s%s." % (
        "" if not warnings else " (but %d were logged)" % warnings,
        "" if not crashes else "; crashes logged by %s" % ", ".join(crashes)))
    for note in notes:
        lines.append("- " + note)
    if data.get("memory"):
        mem = data["memory"]
        lines.append("")
        lines.append("**Memory per reload** (uWSGI, `processes = 1`): the worker's RSS, the objects the garbage "
                     "collector tracks and the interpreter's allocated blocks (`sys.getallocatedblocks()`), read "
                     "after each reload (a view saved, then served; `gc.collect()` first) through a bench-only "
                     "entry module in front of `mysite.wsgi`'s application; least-squares slope over the reloads.")
        lines.append("")
        lines.append("| mechanism | reloads | worker processes | RSS per reload | RSS first → last | gc objects "
                     "per reload | gc objects first → last | allocated blocks per reload |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, label in (("pyfresh", "**pyfresh** (in-process reload)"),
                            ("py-autoreload", "uWSGI `py-autoreload` (restarts the instance)")):
            r = mem.get(name)
            if not r:
                continue
            lines.append("| %s | %d%s | %d | %.1f KB | %s → %s KB | %.1f | %s → %s | %.1f |" % (
                label, r["reloads"], " (+%d warm-up)" % r["warmup"] if r["warmup"] else "", r["workers"],
                r["rss_kb"]["per_reload"], "{:,}".format(r["rss_kb"]["before"]), "{:,}".format(r["rss_kb"]["after"]),
                r["gc_objects"]["per_reload"], "{:,}".format(r["gc_objects"]["before"]),
                "{:,}".format(r["gc_objects"]["after"]), r["allocated_blocks"]["per_reload"]))
        lines.append("")
        lines.append("uWSGI's own reload keeps nothing because it throws the process away: every reload is a new "
                     "worker (the *worker processes* column) that imports Django and the project again, so its "
                     "per-reload figures are the differences between fresh workers, and its cost is the restart "
                     "time in the table above.")
    lines.append("")
    return "\n".join(lines)


def write_section(path, text):
    """Appends the section to the end of `path`, or replaces an earlier
    "## Django project" section in place (up to the next "## " heading:
    the sections after it stay)."""
    with open(path) as handle:
        doc = handle.read()
    marker = "\n## Django project\n"
    if marker in doc:
        start = doc.index(marker)
        end = doc.find("\n## ", start + len(marker))
        after = doc[end:].lstrip("\n") if end >= 0 else ""
        doc = doc[:start].rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n" + ("\n" + after if after else "")
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    with open(path, "w") as handle:
        handle.write(doc)


# -- main -----------------------------------------------------------------------------------


def run(args, log=print):
    """Everything; the results as a dict (bench/report.py calls this too)."""
    if not django_project.django_available():
        raise RuntimeError("python3-django is not installed (scripts/install-deps.sh)")
    harnesses = {"uwsgi": uwsgi_bench.load_harness(args.build_dir),
                 "apache": apache_bench.load_harness(args.build_dir)}
    workdir = tempfile.mkdtemp(prefix="pyfresh-django-bench-")
    try:
        template = os.path.join(workdir, "project")
        started = time.monotonic()
        django_project.make_project(template)
        log("  made the project with Django's tools in %.1f s" % (time.monotonic() - started))
        modules = sum(1 for package in django_project.PACKAGES
                      for _dir, _dirs, files in os.walk(os.path.join(template, package))
                      for name in files if name.endswith(".py"))
        data = {"command": args.command, "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"), "cpus": os.cpu_count() or 0, "modules": modules,
            "load_average_at_start": os.getloadavg()[0],
            "args": {k: getattr(args, k) for k in ("saves", "other_saves", "restart_saves", "save_timeout",
                                                    "load_clients", "load_rate", "memory_reloads",
                                                    "memory_warmup", "restart_memory_reloads", "quick")}}
        log("  save -> new code")
        data["saves"] = measure_saves(args, harnesses, template, log=log)
        if args.memory_reloads:
            log("  memory per reload")
            data["memory"] = memory(args, harnesses["uwsgi"], template, log=log)
        data["load_average_at_end"] = os.getloadavg()[0]
        return data
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def add_arguments(parser):
    parser.add_argument("--saves", type=int, default=20, help="pyfresh view saves timed per host (default 20)")
    parser.add_argument("--other-saves", type=int, default=10,
                        help="pyfresh template and model-method saves, each (default 10)")
    parser.add_argument("--restart-saves", type=int, default=5,
                        help="py-autoreload, mod_wsgi restart and runserver saves, each (default 5)")
    parser.add_argument("--save-timeout", type=float, default=30.0,
                        help="give up on one save after this many seconds (default 30)")
    parser.add_argument("--load-clients", type=int, default=4, help="other clients during the saves (default 4)")
    parser.add_argument("--load-rate", type=float, default=25.0, help="requests/s of each (default 25)")
    parser.add_argument("--memory-reloads", type=int, default=50,
                        help="pyfresh reloads of the memory measurement; 0 skips it (default 50)")
    parser.add_argument("--memory-warmup", type=int, default=5, help="uncounted pyfresh reloads first (default 5)")
    parser.add_argument("--restart-memory-reloads", type=int, default=4,
                        help="py-autoreload restarts of the memory measurement (default 4)")


def apply_quick(args):
    if args.quick:
        args.saves, args.other_saves, args.restart_saves = 5, 3, 2
        args.memory_reloads, args.memory_warmup, args.restart_memory_reloads = 20, 2, 2


def report_arguments(build_dir, quick, command):
    """The defaults (or --quick's figures), for bench/report.py."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    args.build_dir, args.quick, args.command = build_dir, quick, command
    apply_quick(args)
    return args


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.environ.get("PYFRESH_BUILD_DIR",
                                                              os.path.join(SOURCE_DIR, "build")))
    add_arguments(parser)
    parser.add_argument("--quick", action="store_true", help="few saves and reloads: a smoke run")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "django.json"))
    parser.add_argument("--docs", default=os.path.join(SOURCE_DIR, "docs", "benchmarks.md"))
    parser.add_argument("--no-docs", action="store_true", help="do not write the section of docs/benchmarks.md")
    args = parser.parse_args()
    apply_quick(args)
    if not (1 <= args.saves <= 200 and 1 <= args.other_saves <= 100 and 1 <= args.restart_saves <= 20
            and 0 < args.save_timeout <= 120 and 0 <= args.load_clients <= 32 and 0 < args.load_rate <= 1000
            and 0 <= args.memory_reloads <= 500 and 0 <= args.memory_warmup <= 50
            and 1 <= args.restart_memory_reloads <= 20):
        parser.error("keep the run bounded: saves 1-200, other-saves 1-100, restart-saves 1-20, save-timeout up "
                     "to 120 s, load-clients 0-32, load-rate up to 1000, memory-reloads up to 500")
    args.build_dir = os.path.abspath(args.build_dir)
    uwsgi_bench.check_build(args.build_dir)
    args.command = shlex.join(["/usr/bin/python3", os.path.relpath(os.path.abspath(__file__), SOURCE_DIR)]
                              + sys.argv[1:])
    print("pyfresh Django benchmark: %s" % args.command, flush=True)
    data = run(args, log=lambda text: print(text, flush=True))
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(data, handle, indent=1)
    print()
    print("=" * 110)
    print_report(data)
    if not args.no_docs:
        write_section(args.docs, markdown(data))
        print("wrote %s and the \"Django project\" section of %s" % (args.json, args.docs))
    else:
        print("wrote %s" % args.json)


if __name__ == "__main__":
    main()
