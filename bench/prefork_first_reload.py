#!/usr/bin/python3
"""Why a preforked uWSGI worker's first reload of the Django project costs
more than its later ones: each reload timed from inside the process.

    /usr/bin/python3 bench/prefork_first_reload.py --build-dir build      # about 2 min

The project is bench/django_bench.py's (tests/support/pyfresh_testsupport/django_project.py). Its app is
an entry module that imports a probe (outside the packages, so it survives
reloads) and then mysite.wsgi's application. The probe's before_reload and
after_reload hooks write one line per reload to the server's log: wall
time, CPU time of the process (time.process_time), minor page faults
(getrusage: a write to a page still shared with the master copies it),
and the garbage collector's time and collections per generation
(gc.callbacks). Page faults and CPU time do not depend on how busy the
machine is; the wall time does.

Servers (each with --load-clients clients at --load-rate requests/s, the
saves of bench/django_bench.py: a view, atomic rename):
  uwsgi-preforked  master, processes = 2: the master imports the project, the
                   workers are forked from it (bench/uwsgi_bench.Server)
  uwsgi-one-worker the same with processes = 1: one reload per save, as
                   under Apache
  uwsgi-lazy-apps  processes = 2, lazy-apps = true: each worker imports it
  uwsgi-gc-freeze  preforked, plus a module (`import = gcfreeze`) that sets
                   uwsgi.post_fork_hook to gc.freeze(): the collector then
                   never walks (and never copies) the objects inherited from
                   the master
  apache-daemon    mod_wsgi daemon mode, one process (the Django section's)

Writes bench/results/prefork_first_reload.json.
"""

import argparse
import json
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
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))  # pyfresh_testsupport, as in the tests

import apache_bench  # noqa: E402
import apache_variants  # noqa: E402
import django_bench  # noqa: E402
import uwsgi_bench  # noqa: E402
from pyfresh_testsupport import django_project  # noqa: E402

PROBE = '''\
"""bench/prefork_first_reload.py's probe: one log line per reload."""
import gc
import os
import resource
import sys
import time

import pyfresh

_collector = {"seconds": 0.0, "collections": [0, 0, 0], "started": 0.0}
_before = {}


def _on_collection(phase, info):
    if phase == "start":
        _collector["started"] = time.perf_counter()
    else:
        _collector["seconds"] += time.perf_counter() - _collector["started"]
        _collector["collections"][info["generation"]] += 1


gc.callbacks.append(_on_collection)


def _sample():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (time.perf_counter(), time.process_time(), usage.ru_minflt, _collector["seconds"],
            list(_collector["collections"]))


@pyfresh.before_reload
def _reload_starts():
    _before["sample"] = _sample()


@pyfresh.after_reload
def _reload_ended():
    before, after = _before.pop("sample", None), _sample()
    if before is None:
        return
    sys.stderr.write("FIRST-RELOAD-PROBE pid=%d wall_ms=%.2f cpu_ms=%.2f page_faults=%d gc_ms=%.2f "
                     "collections=%s frozen=%d\\n" % (
                         os.getpid(), (after[0] - before[0]) * 1e3, (after[1] - before[1]) * 1e3,
                         after[2] - before[2], (after[3] - before[3]) * 1e3,
                         ",".join(str(a - b) for a, b in zip(after[4], before[4])), gc.get_freeze_count()))
    sys.stderr.flush()
'''

ENTRY = '''\
import reload_probe  # noqa: F401  (outside the packages: kept across reloads)
from mysite.wsgi import application  # noqa: F401
'''

GC_FREEZE = '''\
"""Loaded by uWSGI (`import = gcfreeze`) in the master: every worker moves
the objects it inherited into the collector's permanent generation right
after the fork, so no collection in the worker writes to (and copies) the
master's pages."""
import gc

import uwsgi


def _freeze_inherited_objects():
    gc.freeze()


uwsgi.post_fork_hook = _freeze_inherited_objects
'''

LINE = re.compile(r"FIRST-RELOAD-PROBE pid=(\d+) wall_ms=([\d.]+) cpu_ms=([\d.]+) page_faults=(\d+) "
                  r"gc_ms=([\d.]+) collections=(\d+),(\d+),(\d+) frozen=(\d+)")

CONFIGS = (
    # name, host, uWSGI processes, extra uWSGI options
    ("uwsgi-preforked", "uwsgi", 2, ()),
    ("uwsgi-one-worker", "uwsgi", 1, ()),
    ("uwsgi-lazy-apps", "uwsgi", 2, (("lazy-apps", "true"),)),
    ("uwsgi-gc-freeze", "uwsgi", 2, (("import", "gcfreeze"),)),
    ("apache-daemon", "apache", 1, ()),
)


class ProbeSite(django_bench.DjangoSite):
    def write(self, root):
        packages, _spec, views, modules = super().write(root)
        django_project.save(os.path.join(root, "reload_probe.py"), PROBE)
        django_project.save(os.path.join(root, "probe_entry.py"), ENTRY)
        django_project.save(os.path.join(root, "gcfreeze.py"), GC_FREEZE)
        return packages, "probe_entry:application", views, modules


def reloads_in(log_text):
    """{pid: [reload, ...]} in log order; a reload is a dict."""
    by_pid = {}
    for match in LINE.finditer(log_text):
        pid, wall, cpu, faults, gc_ms, gen0, gen1, gen2, frozen = match.groups()
        by_pid.setdefault(int(pid), []).append({
            "wall_ms": float(wall), "cpu_ms": float(cpu), "page_faults": int(faults), "gc_ms": float(gc_ms),
            "full_collections": int(gen2), "frozen": int(frozen)})
    return by_pid


def run_config(args, harnesses, template, name, host, processes, extra, log=print):
    site = ProbeSite(template)
    if host == "uwsgi":
        server = uwsgi_bench.Server(harnesses["uwsgi"], args.build_dir, "pyfresh", processes=processes, site=site,
                                    extra=extra)
        server_log = server.log
    else:
        server = apache_variants.Server(harnesses["apache"], "django", {"a": "pyfresh"}, site=site)
        server_log = lambda: server.httpd.log() if server.httpd else ""  # noqa: E731
    load = poller = None
    try:
        load = apache_bench.BackgroundLoad(server.port, site.host, args.load_clients, args.load_rate,
                                           max_seconds=args.saves * (args.pause + 30) + 30, path=site.path)
        poller = apache_bench.Poller(server.port, site.host, timeout=30, path=site.path)
        write = site.writer("view")
        for index in range(args.saves):
            message = "first-reload %s %d" % (name, index)
            write(message)
            if not apache_bench.wait_for_body(poller, message, 30, shows=site.shows):
                raise RuntimeError("%s: save %d not served:\n%s" % (name, index, server_log()[-3000:]))
            time.sleep(args.pause)  # the other process reloads on its next request (the load's)
        text = server_log()
    finally:
        if poller is not None:
            poller.close()
        if load is not None:
            load.stop()
        server.stop()
    by_pid = reloads_in(text)
    first = [entries[0] for entries in by_pid.values()]
    later = [entry for entries in by_pid.values() for entry in entries[1:]]
    result = {"processes": len(by_pid), "first": first, "later": later}
    for key in ("wall_ms", "cpu_ms", "page_faults", "gc_ms"):
        result["later_median_" + key] = statistics.median(e[key] for e in later) if later else None
    log("    %-16s first: %s; later (median of %d): wall %s ms, CPU %s ms, %s page faults" % (
        name, "; ".join("wall %.0f ms, CPU %.0f ms, %d page faults, gc %.0f ms%s" % (
            e["wall_ms"], e["cpu_ms"], e["page_faults"], e["gc_ms"],
            " (a full collection)" if e["full_collections"] else "") for e in first),
        len(later), _fmt(result["later_median_wall_ms"]), _fmt(result["later_median_cpu_ms"]),
        _fmt(result["later_median_page_faults"], "%.0f")))
    return result


def _fmt(value, pattern="%.1f"):
    return "-" if value is None else pattern % value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.environ.get("PYFRESH_BUILD_DIR", os.path.join(SOURCE_DIR, "build")))
    parser.add_argument("--saves", type=int, default=8, help="view saves per server (default 8)")
    parser.add_argument("--rounds", type=int, default=2, help="servers started per configuration (default 2)")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds after each save is seen (default 0.5)")
    parser.add_argument("--load-clients", type=int, default=4, help="other clients (default 4)")
    parser.add_argument("--load-rate", type=float, default=25.0, help="requests/s of each (default 25)")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "prefork_first_reload.json"))
    args = parser.parse_args()
    if not (1 <= args.saves <= 50 and 1 <= args.rounds <= 10 and 0 <= args.pause <= 5
            and 1 <= args.load_clients <= 32 and 0 < args.load_rate <= 1000):
        parser.error("keep the run bounded: saves 1-50, rounds 1-10, pause up to 5 s, load-clients 1-32")
    args.build_dir = os.path.abspath(args.build_dir)
    uwsgi_bench.check_build(args.build_dir)
    if not django_project.django_available():
        raise SystemExit("python3-django is not installed (scripts/install-deps.sh)")
    command = shlex.join(["/usr/bin/python3", os.path.relpath(os.path.abspath(__file__), SOURCE_DIR)] + sys.argv[1:])
    print("pyfresh first-reload benchmark: %s" % command, flush=True)
    harnesses = {"uwsgi": uwsgi_bench.load_harness(args.build_dir),
                 "apache": apache_bench.load_harness(args.build_dir)}
    workdir = tempfile.mkdtemp(prefix="pyfresh-first-reload-")
    data = {"command": command, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "cpus": os.cpu_count() or 0, "load_average_at_start": os.getloadavg()[0], "configs": {}}
    try:
        template = os.path.join(workdir, "project")
        django_project.make_project(template)
        for round_index in range(args.rounds):
            for name, host, processes, extra in CONFIGS:
                result = run_config(args, harnesses, template, name, host, processes, extra,
                                    log=lambda text: print(text, flush=True))
                data["configs"].setdefault(name, []).append(result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    data["load_average_at_end"] = os.getloadavg()[0]
    print()
    print("per configuration, over %d rounds: first reloads (each process's) and the later ones (median)" % args.rounds)
    summary = {}
    for name, rounds in data["configs"].items():
        first = [e for r in rounds for e in r["first"]]
        later = [e for r in rounds for e in r["later"]]
        summary[name] = {
            "first_cpu_ms": [e["cpu_ms"] for e in first], "first_wall_ms": [e["wall_ms"] for e in first],
            "first_page_faults": [e["page_faults"] for e in first],
            "first_full_collections": sum(1 for e in first if e["full_collections"]),
            "first_gc_ms": [e["gc_ms"] for e in first],
            "later_median_cpu_ms": statistics.median(e["cpu_ms"] for e in later) if later else None,
            "later_median_wall_ms": statistics.median(e["wall_ms"] for e in later) if later else None,
            "later_median_page_faults": statistics.median(e["page_faults"] for e in later) if later else None,
        }
        s = summary[name]
        print("  %-16s first: CPU %s ms, wall %s ms, page faults %s, %d with a full collection | later: CPU %s ms, "
              "wall %s ms, page faults %s" % (
                  name, "/".join("%.0f" % v for v in s["first_cpu_ms"]),
                  "/".join("%.0f" % v for v in s["first_wall_ms"]),
                  "/".join("%d" % v for v in s["first_page_faults"]), s["first_full_collections"],
                  _fmt(s["later_median_cpu_ms"]), _fmt(s["later_median_wall_ms"]),
                  _fmt(s["later_median_page_faults"], "%.0f")))
    data["summary"] = summary
    print("load average %.1f at the start, %.1f at the end" % (data["load_average_at_start"],
                                                               data["load_average_at_end"]))
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(data, handle, indent=1)
    print("wrote %s" % args.json)


if __name__ == "__main__":
    main()
