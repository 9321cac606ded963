#!/usr/bin/python3
"""pyfresh under uWSGI: what the plugin costs under wrk, how long a save
takes to reach a response compared with uWSGI's own reloading, and how much
memory a reload keeps.

    /usr/bin/python3 bench/uwsgi_bench.py            # after building into build/
    /usr/bin/python3 bench/uwsgi_bench.py --app flask --build-dir build-bench

Every uWSGI it starts (tests/support/pyfresh_testsupport/uwsgi_harness.py: own ini, pid file and
log in a temp dir, a free loopback port, a clean environment, the build
tree's plugin and pyfresh package) serves the same app from its own copy,
with `master`, `processes = 2`, `http-socket` (plus `Connection: close`, so
wrk reconnects instead of counting a read error per request) and
`disable-logging`; only how the app is served differs:

  off           plugins = python3                (uWSGI without pyfresh)
  disabled      plugins = python3,pyfresh + pyfresh-enabled = false
  pyfresh       plugins = python3,pyfresh + pyfresh-packages = <the app's package>
  naive         plugins = python3, module = a naive reloader (bench/naive_reloader.py)
                in front of the app: every request stats every module file of the package
  py-autoreload plugins = python3 + py-autoreload = 1
  touch-reload  plugins = python3 + touch-reload = <a file>

It prints
  (a) requests/s under wrk for off / disabled / pyfresh / naive: rounds of
      back-to-back runs, the order rotated each round; per variant the
      median, and its ratio to `off` as the median of the per-round ratios.
  (b) the time from saving a file (an editor's atomic rename of views.py)
      to the first response with the new code, by one keep-alive client
      polling as fast as it can, while other clients (a separate process, a
      fixed request rate) use the same instance: pyfresh over --saves saves,
      py-autoreload and touch-reload (save, then touch the file) over
      --reload-saves; median/min/max, failed requests and the slowest
      request of the polling client and of the other clients.
  (c) memory per reload: the RSS growth of the one worker of a
      `processes = 1` instance over --memory-reloads reloads (after a
      warm-up), for pyfresh and for uWSGI's own module loader (the python
      plugin's `module = pkg.mod:callable` loader, uwsgi_uwsgi_loader,
      called again after clearing the package from sys.modules).

Every loop is bounded in count and time; every uWSGI is stopped by its pid.
Its functions are reused by bench/report.py.
"""

import argparse
import os
import re
import shlex
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import apache_bench  # noqa: E402  (Poller, time_saves, run_wrk, BackgroundLoad)
import bench_apps  # noqa: E402

THROUGHPUT_VARIANTS = ("off", "disabled", "pyfresh", "naive")
HOST = "localhost"

# The python plugin's loader for `module = pkg.mod:callable`, called again
# after the package was cleared from sys.modules: what a reloader built on
# uWSGI's own loader does per reload. /__reload re-imports; / serves.
LOADER_ENTRY = '''\
import ctypes
import importlib
import sys

SPEC = {spec!r}
PACKAGE = {package!r}


def _python_plugin():
    try:
        return ctypes.PyDLL(None).uwsgi_uwsgi_loader
    except AttributeError:
        pass
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if path.endswith("_plugin.so") and "python" in path.rsplit("/", 1)[-1]:
                return ctypes.PyDLL(path).uwsgi_uwsgi_loader
    raise RuntimeError("the python plugin's uwsgi_uwsgi_loader was not found")


_loader = _python_plugin()
# It returns a borrowed reference; restype py_object would take it for a
# new one and drop it. Take our own reference from the address instead.
_loader.restype = ctypes.c_void_p


def _load():
    address = _loader(ctypes.create_string_buffer(SPEC.encode()))  # it writes into the string
    if not address:
        raise RuntimeError("uwsgi_uwsgi_loader(%r) failed (see the log)" % SPEC)
    return ctypes.cast(address, ctypes.py_object).value


_app = _load()


def application(environ, start_response):
    global _app
    if environ.get("PATH_INFO") == "/__reload":
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]
        importlib.invalidate_caches()
        _app = _load()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"reloaded"]
    return _app(environ, start_response)
'''


def load_harness(build_dir):
    return apache_bench.load_test_harness("uwsgi_harness", build_dir)


def uwsgi_binary():
    path = shutil.which("uwsgi", path="/usr/local/bin:/usr/bin:/bin")
    if path is None:
        sys.exit("uwsgi is not installed (scripts/install-deps.sh)")
    return path


def check_build(build_dir):
    for needed in ("uwsgi_plugin/pyfresh_plugin.so", "python/pyfresh/__init__.py", "python/pyfresh/hosts/uwsgi.py"):
        if not os.path.exists(os.path.join(build_dir, needed)):
            sys.exit("%s is missing: build with the uWSGI plugin first (bash scripts/build.sh %s)"
                     % (os.path.join(build_dir, needed), build_dir))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


class Server:
    """One uWSGI instance serving its own copy of app `kind` as `variant`;
    or, with `site`, the project that site.write(root) writes (it returns
    (packages, spec, views path, module count); site.path is the page that
    shows site.message, site.shows(body, message) says whether it does,
    site.exclude goes into pyfresh-exclude: bench/django_bench.py)."""

    def __init__(self, harness, build_dir, variant, kind="hello", processes=2, extra=(), site=None):
        self.variant = variant
        self.kind = kind
        self.site = site
        self.path = site.path if site else "/"
        self.dir = tempfile.mkdtemp(prefix="pyfresh-uwsgi-bench-%s-" % variant)
        self.uwsgi = None
        try:
            self.root = os.path.join(self.dir, "app")
            if site is None:
                self.message = "%s %s v0" % (kind, variant)
                self.package, self.spec, self.views, self.modules = bench_apps.write_app(self.root, kind,
                                                                                         self.message)
            else:
                self.package, self.spec, self.views, self.modules = site.write(self.root)
                self.message = site.message
            self.touch_file = os.path.join(self.dir, "reload.touch")
            open(self.touch_file, "w").close()
            plugins = "python3"
            module = self.spec
            options = [("master", "true"), ("processes", str(processes)), ("disable-logging", "true"),
                       ("add-header", "Connection: close"), ("need-app", "true")]
            if variant == "disabled":
                plugins = "python3,pyfresh"
                options.append(("pyfresh-enabled", "false"))
            elif variant == "pyfresh":
                plugins = "python3,pyfresh"
                options.append(("pyfresh-packages", self.package))
                if site is not None and site.exclude:
                    options.append(("pyfresh-exclude", site.exclude))
            elif variant == "naive":
                module = "naive_entry:application"
            elif variant == "py-autoreload":
                options.append(("py-autoreload", "1"))
            elif variant == "touch-reload":
                options.append(("touch-reload", self.touch_file))
            elif variant == "uwsgi-loader":
                with open(os.path.join(self.root, "loader_entry.py"), "w") as handle:
                    handle.write(LOADER_ENTRY.format(spec=self.spec, package=self.package))
                module = "loader_entry:application"
            elif variant != "off":
                raise ValueError(variant)
            options.append(("module", module))
            options.extend(extra)
            self.uwsgi = harness.Uwsgi(os.path.join(self.dir, "uwsgi"), uwsgi_binary(),
                                       os.path.join(build_dir, "uwsgi_plugin"), os.path.join(build_dir, "python"))
            self.uwsgi.start(options, wait=None, plugins=plugins, pythonpath=(self.root,))
            poller = apache_bench.Poller(0, HOST, timeout=10, path=self.path)
            try:
                deadline = time.monotonic() + 60
                while True:
                    if self.uwsgi.proc.poll() is not None:
                        raise RuntimeError("uWSGI (%s) exited:\n%s" % (variant, self.uwsgi.log()[-3000:]))
                    poller.port = self.uwsgi.port
                    status, body = poller.get()
                    if status == 200 and self.shows(body, self.message):
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError("uWSGI (%s) does not answer %r (last: %s %r):\n%s" % (
                            variant, self.message, status, body[:200], self.uwsgi.log()[-3000:]))
                    time.sleep(0.1)
            finally:
                poller.close()
        except BaseException:
            self.stop()
            raise

    def shows(self, body, message):
        return self.site.shows(body, message) if self.site else body == message

    @property
    def port(self):
        return self.uwsgi.port

    @property
    def session(self):
        return self.uwsgi.proc.pid  # the master leads its own session

    def worker_pids(self):
        return self.uwsgi.worker_pids()

    def log(self):
        return self.uwsgi.log() if self.uwsgi else ""

    def stop(self):
        if self.uwsgi is not None:
            self.uwsgi.stop()
            self.uwsgi = None
        shutil.rmtree(self.dir, ignore_errors=True)


def start_servers(harness, build_dir, variants, kind, processes=2):
    servers = {}
    try:
        for variant in variants:
            servers[variant] = Server(harness, build_dir, variant, kind, processes=processes)
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers


# -- (a) throughput ---------------------------------------------------------------------


def rotated(names, index):
    index %= len(names)
    return list(names[index:]) + list(names[:index])


def pin(args, session):
    """With --pin (the default), every thread of the server's processes onto
    the last CPU (wrk runs on the others: apache_bench.wrk_command), before
    each run: threads started since are caught too."""
    if getattr(args, "pin", None):
        apache_bench.pin_session(session, args.pin[1])


def measure_throughput(args, endpoints, baseline, log=print):
    """endpoints: {name: (port, host, session pid)}. Warms each up, then
    `args.runs` rounds of one wrk run per endpoint, the order rotated each
    round (a disturbed round is run again: apache_bench.run_round).
    summarize_throughput's summary, with "reruns" in each variant."""
    names = list(endpoints)
    for name in names:
        port, host, session = endpoints[name]
        pin(args, session)
        apache_bench.run_wrk(args, port, host, args.warmup)
    results = {name: [] for name in names}
    reruns = 0
    for index in range(args.runs):
        def show(name, result, index=index):
            log("    round %d %-9s %s" % (index + 1, name, apache_bench.describe_run(result)))

        round_results, repeats = apache_bench.run_round(args, rotated(names, index), endpoints.get, show, log=log,
                                                        quiet=DISTURBED_CPUS)
        reruns += repeats
        for name in names:
            results[name].append(round_results[name])
    summary = summarize_throughput(results, baseline)
    for variant in summary.values():
        variant["reruns"] = reruns
    return summary


# A round during whose runs other processes used more CPU than this is run
# again (apache_bench.run_round), and flagged as disturbed if it stays so.
DISTURBED_CPUS = 0.2


def summarize_throughput(results, baseline):
    """Per variant: median req/s and CPU/request, and the ratios to the
    baseline taken round by round (same round, back to back); also the
    ratio over the undisturbed rounds alone."""
    rounds = len(results[baseline])
    disturbed = [any(runs[i].get("others", 0.0) > DISTURBED_CPUS for runs in results.values())
                 for i in range(rounds)]
    summary = {}
    for name, runs in results.items():
        rps = [r["rps"] for r in runs]
        cpu = [r.get("cpu_us", 0.0) for r in runs]
        ratios = [r["rps"] / b["rps"] for r, b in zip(runs, results[baseline])]
        cpu_ratios = [b.get("cpu_us", 0.0) / r["cpu_us"] for r, b in zip(runs, results[baseline])
                      if r.get("cpu_us")]
        summary[name] = {
            "rps": rps, "rps_median": statistics.median(rps),
            "cpu_us": cpu, "cpu_us_median": statistics.median(cpu),
            "ratios": ratios, "ratio": statistics.median(ratios),
            "cpu_ratio": statistics.median(cpu_ratios) if cpu_ratios else None,
            "non2xx": sum(r.get("non2xx", 0) for r in runs),
            "socket_errors": [r["socket_errors"] for r in runs if r.get("socket_errors")],
            "others": [r.get("others", 0.0) for r in runs],
            "disturbed": disturbed,
            "ratio_undisturbed": statistics.median([r for r, d in zip(ratios, disturbed) if not d])
            if not all(disturbed) else None,
        }
    return summary


def uwsgi_throughput(args, harness, build_dir, kind, variants=THROUGHPUT_VARIANTS, log=print):
    servers = start_servers(harness, build_dir, variants, kind, processes=args.processes)
    try:
        endpoints = {name: (server.port, HOST, server.session) for name, server in servers.items()}
        summary = measure_throughput(args, endpoints, "off", log=log)
        for name, server in servers.items():
            summary[name]["modules"] = server.modules
            if "Segmentation" in server.log() or "DAMN ! worker" in server.log():
                summary[name]["crashes"] = True
        return summary
    finally:
        for server in servers.values():
            server.stop()


# -- (b) save -> new code -----------------------------------------------------------------


def summarize_saves(result):
    delays = result["delays"]
    load = result.get("load") or {}
    return {
        "saves": result["saves"], "seen": len(delays), "timeouts": result["timeouts"],
        "delays": delays,
        "median": statistics.median(delays) if delays else None,
        "min": min(delays) if delays else None, "max": max(delays) if delays else None,
        "polls": result["requests"], "failed": result["failed"], "worst": result["worst"],
        "first_old": result.get("first_old", 0), "errors": result.get("errors", []),
        "load_requests": load.get("requests"), "load_failed": load.get("failed"), "load_worst": load.get("worst"),
        "load_errors": load.get("errors", []),
    }


def time_server_saves(server, count, timeout, pause, clients, rate, touch=False, write=None, host=HOST,
                      failure_pause=0.0):
    """`count` saves of the server's views.py (or `write(message)`), timed
    by a polling client of server.path while `clients` others send `rate`
    requests/s each. Any server with port, path, views, variant, touch_file
    and shows(body, message) will do (bench/django_bench.py: httpd too)."""
    load = apache_bench.BackgroundLoad(server.port, host, clients, rate,
                                       max_seconds=count * (timeout + pause) + 30, path=server.path)
    poller = apache_bench.Poller(server.port, host, timeout=30, path=server.path)
    try:
        result = apache_bench.time_saves(poller, server.views, server.variant, count, timeout, pause,
                                         touch=server.touch_file if touch else None, write=write,
                                         shows=server.shows, failure_pause=failure_pause)
    finally:
        poller.close()
        result["load"] = load.stop()
    return summarize_saves(result)


SAVE_MECHANISMS = (
    # name, variant, touch the touch-reload file after the save, count option, pause after each save
    ("pyfresh", "pyfresh", False, "saves", 0.1),
    ("py-autoreload", "py-autoreload", False, "reload_saves", 2.0),
    ("touch-reload", "touch-reload", True, "reload_saves", 2.0),
)
# py-autoreload's thread in each worker takes the files' mtimes (whole
# seconds) as its baseline on its first scan, py-autoreload seconds after
# the worker started: a save before that is never noticed (seen here with a
# save right after startup). The series starts after this much idle time,
# and the pause after each save above leaves it the same margin.
SETTLE_AFTER_START = 2.0


def uwsgi_saves(args, harness, build_dir, kind, mechanisms=SAVE_MECHANISMS, log=print):
    results = {}
    for name, variant, touch, count_option, pause in mechanisms:
        server = Server(harness, build_dir, variant, kind, processes=args.processes)
        try:
            count = getattr(args, count_option)
            time.sleep(SETTLE_AFTER_START)
            results[name] = time_server_saves(server, count, args.save_timeout, pause, args.load_clients,
                                              args.load_rate, touch=touch)
            times = reload_times(server.log())
            if times:
                results[name]["reload_times"] = times
                results[name]["reload_median"] = statistics.median(times)
            if "Segmentation" in server.log() or "DAMN ! worker" in server.log():
                results[name]["crashes"] = True
        finally:
            server.stop()
        r = results[name]
        log("    %-14s %d/%d saves seen%s, failed %d (others %s), worst %s%s" % (
            name, r["seen"], r["saves"], ", median %s" % apache_bench.ms(r["median"]) if r["seen"] else "",
            r["failed"], r["load_failed"], apache_bench.ms(max(r["worst"], r["load_worst"] or 0.0)),
            "; pyfresh's reloads (log) median %s over %d" % (apache_bench.ms(r["reload_median"]),
                                                               len(r["reload_times"]))
            if r.get("reload_times") else ""))
    return results


# -- (c) memory per reload ----------------------------------------------------------------


MEMORY_VARIANTS = (("pyfresh", "pyfresh", ()), ("uwsgi-loader", "uwsgi-loader", ()))


def memory_per_reload(harness, build_dir, reloads, warmup, kind="hello", log=print, variants=MEMORY_VARIANTS):
    """KB of worker RSS kept per reload: pyfresh, and uWSGI's own loader
    (variants: (name, Server variant, extra uWSGI options))."""
    results = {}
    for name, variant, extra in variants:
        server = Server(harness, build_dir, variant, kind, processes=1, extra=extra)
        poller = apache_bench.Poller(server.port, HOST, timeout=30)
        trigger = apache_bench.Poller(server.port, HOST, timeout=30)
        try:
            workers = server.worker_pids()
            if len(workers) != 1:
                raise RuntimeError("expected one worker, found %r" % workers)
            worker = workers[0]

            def reload_once(index):
                # Consecutive saves differ in size: uWSGI's loader imports
                # through CPython's own bytecode check (whole-second mtime
                # and size), which would take a same-second, same-size save
                # for unchanged and run the old code.
                message = ("%s memory %d" % (name, index)).ljust(40, ".") + "!" * (index % 2)
                apache_bench.save(server.views, bench_apps.VIEWS_MODULE.format(message=message))
                if variant == "uwsgi-loader":
                    status, body = get_path(trigger, "/__reload")
                    if status != 200:
                        raise RuntimeError("uwsgi-loader reload failed: %s %r\n%s" % (status, body, server.log()))
                if not apache_bench.wait_for_body(poller, message, timeout=20):
                    raise RuntimeError("%s: reload %d not served:\n%s" % (name, index, server.log()[-3000:]))

            for index in range(warmup):
                reload_once(index)
            time.sleep(0.2)
            before = rss_kb(worker)
            samples = [before]
            started = time.monotonic()
            for index in range(warmup, warmup + reloads):
                reload_once(index)
                samples.append(rss_kb(worker))
            elapsed = time.monotonic() - started
            time.sleep(0.2)
            after = rss_kb(worker)
            if server.worker_pids() != [worker]:
                raise RuntimeError("the worker changed during the memory run")
            half = len(samples) // 2
            results[name] = {"reloads": reloads, "warmup": warmup, "rss_before_kb": before, "rss_after_kb": after,
                             "kb_per_reload": slope(samples), "endpoints_kb_per_reload": (after - before) / reloads,
                             "first_half_kb_per_reload": slope(samples[:half + 1]),
                             "second_half_kb_per_reload": slope(samples[half:]),
                             "samples_kb": samples, "seconds": elapsed}
            log("    %-13s RSS %d -> %d KB over %d reloads: %.1f KB/reload (least-squares slope; endpoints %.1f; "
                "first half %.1f, second half %.1f)" % (
                    name, before, after, reloads, results[name]["kb_per_reload"],
                    results[name]["endpoints_kb_per_reload"], results[name]["first_half_kb_per_reload"],
                    results[name]["second_half_kb_per_reload"]))
        finally:
            poller.close()
            trigger.close()
            server.stop()
    return results


def slope(values):
    """Least-squares slope of values against their index: the growth per
    step, less sensitive than the endpoints to when the garbage collector
    happened to run."""
    count = len(values)
    if count < 2:
        return 0.0
    mean_x = (count - 1) / 2.0
    mean_y = sum(values) / float(count)
    numerator = sum((index - mean_x) * (value - mean_y) for index, value in enumerate(values))
    denominator = sum((index - mean_x) ** 2 for index in range(count))
    return numerator / denominator


RELOADED = re.compile(r"reloaded \S+ in ([\d.]+) ms")


def reload_times(log_text):
    """Seconds of each reload pyfresh logged ("reloaded SPEC in N ms")."""
    return [float(value) / 1000.0 for value in RELOADED.findall(log_text)]


def get_path(poller, path):
    """GET `path` on a Poller's keep-alive connection: (status, body)."""
    import http.client
    for attempt in (0, 1):
        reused = poller.connection is not None
        if not reused:
            poller.connection = http.client.HTTPConnection("127.0.0.1", poller.port, timeout=poller.timeout)
        try:
            poller.connection.request("GET", path, headers={"Host": poller.host})
            response = poller.connection.getresponse()
            body = response.read().decode("utf-8", "replace")
            if response.will_close:
                poller.close()
            return response.status, body
        except (http.client.HTTPException, OSError) as error:
            poller.close()
            if reused and attempt == 0:
                continue
            return None, "%s: %s" % (type(error).__name__, error)
    return None, "unreachable"


# -- report --------------------------------------------------------------------------------

LABELS = {
    "off": "off (plugin not loaded)",
    "disabled": "plugin loaded, pyfresh-enabled = false",
    "pyfresh": "pyfresh",
    "naive": "naive: stat every module file per request",
}


def print_throughput(args, kind, summary, modules):
    print("(a) throughput under wrk, %s app (%d modules under the package), %d rounds of %d s runs, order rotated"
          % (kind, modules, args.runs, args.duration))
    print("    %-44s %s  %8s %9s %10s" % ("requests/s", "  ".join("%7s" % ("run %d" % (i + 1))
                                                                 for i in range(args.runs)),
                                         "median", "vs off", "CPU us/req"))
    for name, s in summary.items():
        print("    %-44s %s  %8.0f %9.3f %10.1f" % (LABELS.get(name, name), "  ".join("%7.0f" % v for v in s["rps"]),
                                                  s["rps_median"], s["ratio"], s["cpu_us_median"]))
    for name in ("disabled", "pyfresh"):
        if name in summary:
            ratio = summary[name]["ratio"]
            print("    RATIO %s / off: %.3f (per-round ratios %s; target >= 0.97: %s)" % (
                name, ratio, " ".join("%.3f" % r for r in summary[name]["ratios"]),
                "met" if ratio >= 0.97 else "NOT met"))
            if any(summary[name]["disturbed"]) and summary[name]["ratio_undisturbed"] is not None:
                print("      over the %d undisturbed rounds alone: %.3f" % (
                    summary[name]["disturbed"].count(False), summary[name]["ratio_undisturbed"]))
    others = [o for s in summary.values() for o in s["others"]]
    print("    non-2xx: %d; other processes used %.2f CPUs (median, max %.2f) of %d during the runs" % (
        sum(s["non2xx"] for s in summary.values()), statistics.median(others), max(others), os.cpu_count() or 0))


def print_saves(args, kind, results):
    print("(b) save -> first response with the new code, %s app; one polling client + %d other clients "
          "at %g req/s each" % (kind, args.load_clients, args.load_rate))
    print("    %-14s %6s %9s %9s %9s %6s %7s %10s %8s %7s %10s" % (
        "mechanism", "seen", "median", "min", "max", "polls", "failed", "worst req", "others", "failed",
        "worst req"))
    ms = apache_bench.ms
    for name, r in results.items():
        if r["seen"]:
            figures = (ms(r["median"]), ms(r["min"]), ms(r["max"]))
        else:
            figures = ("-", "-", "-")
        print("    %-14s %6s %9s %9s %9s %6d %7d %10s %8s %7s %10s" % (
            name, "%d/%d" % (r["seen"], r["saves"]), figures[0], figures[1], figures[2], r["polls"], r["failed"],
            ms(r["worst"]), r["load_requests"], r["load_failed"], ms(r["load_worst"] or 0.0)))
        for error in (r["errors"] + r["load_errors"])[:3]:
            print("      %s failed request: %s" % (name, error))
    pyfresh = results.get("pyfresh")
    if pyfresh and pyfresh["seen"]:
        line = "    pyfresh median %s (target <= 20 ms: %s)" % (
            ms(pyfresh["median"]), "met" if pyfresh["median"] <= 0.020 else "NOT met")
        for name, r in results.items():
            if name != "pyfresh" and r["seen"]:
                line += "; %s is %.0fx that" % (name, r["median"] / pyfresh["median"])
        print(line)


def print_memory(results):
    print("(c) memory kept per reload (RSS growth of the one worker, processes = 1: least-squares slope of the")
    print("    RSS read after every reload)")
    for name, r in results.items():
        print("    %-36s %6.1f KB/reload  (%d -> %d KB over %d reloads after %d warm-up)" % (
            {"pyfresh": "pyfresh", "uwsgi-loader": "uWSGI's module loader (uwsgi_uwsgi_loader)"}[name],
            r["kb_per_reload"], r["rss_before_kb"], r["rss_after_kb"], r["reloads"], r["warmup"]))


def add_arguments(parser):
    parser.add_argument("--build-dir", default=os.environ.get("PYFRESH_BUILD_DIR",
                                                              os.path.join(SOURCE_DIR, "build")))
    parser.add_argument("--runs", type=int, default=9, help="wrk rounds, each variant once per round (default 9)")
    parser.add_argument("--duration", type=int, default=2, help="seconds per wrk run (default 2)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of uncounted wrk per server (default 2)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--processes", type=int, default=2, help="uWSGI workers (default 2)")
    parser.add_argument("--no-pin", action="store_true",
                        help="during wrk runs, do not pin the server to the last CPU and wrk to the others")
    parser.add_argument("--saves", type=int, default=20, help="pyfresh saves timed (default 20)")
    parser.add_argument("--reload-saves", type=int, default=5,
                        help="py-autoreload and touch-reload saves timed, each (default 5)")
    parser.add_argument("--save-timeout", type=float, default=20.0,
                        help="give up on one save after this many seconds (default 20)")
    parser.add_argument("--load-clients", type=int, default=4,
                        help="other clients of the instance during the saves (default 4)")
    parser.add_argument("--load-rate", type=float, default=25.0, help="requests/s of each (default 25)")
    parser.add_argument("--memory-reloads", type=int, default=200,
                        help="reloads per memory measurement; 0 skips it (default 200)")
    parser.add_argument("--memory-warmup", type=int, default=20, help="uncounted reloads first (default 20)")


def check_arguments(parser, args):
    if not (1 <= args.runs <= 20 and 1 <= args.duration <= 60 and 1 <= args.warmup <= 30
            and 1 <= args.connections <= 1000 and 1 <= args.threads <= 64 and 1 <= args.processes <= 16
            and 1 <= args.saves <= 200 and 1 <= args.reload_saves <= 20 and 0 < args.save_timeout <= 120
            and 0 <= args.load_clients <= 32 and 0 < args.load_rate <= 1000
            and 0 <= args.memory_reloads <= 2000 and 0 <= args.memory_warmup <= 200):
        parser.error("keep the run bounded: runs 1-20, duration 1-60 s, warmup 1-30 s, processes 1-16, "
                     "saves 1-200, reload-saves 1-20, save-timeout up to 120 s, load-clients 0-32, "
                     "load-rate up to 1000, memory-reloads up to 2000")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    args.build_dir = os.path.abspath(args.build_dir)
    check_build(args.build_dir)
    args.pin = None
    if not args.no_pin and shutil.which("taskset") is not None:
        args.pin = apache_bench.cpu_split()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--app", choices=("hello", "flask"), default="hello",
                        help="hello: 3 modules; flask: a generated Flask app with about 1,000 modules")
    args = parser.parse_args()
    check_arguments(parser, args)
    harness = load_harness(args.build_dir)
    command = shlex.join([sys.executable] + sys.argv)
    print("pyfresh uWSGI benchmark: uWSGI master + %d processes, http-socket on 127.0.0.1, %d CPUs"
          % (args.processes, os.cpu_count() or 0))
    print("command: %s" % command, flush=True)

    print("(a) throughput", flush=True)
    throughput = uwsgi_throughput(args, harness, args.build_dir, args.app, log=lambda s: print(s, flush=True))
    print("(b) save -> new code", flush=True)
    saves = uwsgi_saves(args, harness, args.build_dir, args.app, log=lambda s: print(s, flush=True))
    memory = None
    if args.memory_reloads:
        print("(c) memory per reload", flush=True)
        memory = memory_per_reload(harness, args.build_dir, args.memory_reloads, args.memory_warmup,
                                   log=lambda s: print(s, flush=True))

    print()
    print("=" * 110)
    print("command: %s" % command)
    print("uWSGI:   master, processes = %d, http-socket 127.0.0.1 (Connection: close), disable-logging; "
          "wrk: %s" % (args.processes, shlex.join(apache_bench.wrk_command(args, 0, HOST, args.duration))
                       .replace("127.0.0.1:0", "127.0.0.1:<port>")))
    if args.pin:
        print("         during wrk runs uWSGI is pinned to CPU %s, wrk to CPU %s (--no-pin: not)"
              % (",".join(map(str, args.pin[1])), ",".join(map(str, args.pin[0]))))
    print()
    print_throughput(args, args.app, throughput, throughput["off"]["modules"])
    print()
    print_saves(args, args.app, saves)
    if memory:
        print()
        print_memory(memory)


if __name__ == "__main__":
    main()
