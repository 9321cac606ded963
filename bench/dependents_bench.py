#!/usr/bin/python3
"""reload-scope = dependents on the generated ~1,000-module Flask app
(bench/bench_apps.py): save -> first response with the new code under
uWSGI and Apache, against reload-scope = packages and the servers' own
reloading, measured in the same run; memory kept per reload; and what
recording the import graph costs at import time.

    /usr/bin/python3 bench/dependents_bench.py --build-dir build

The edit is the one the other save benchmarks make: an atomic save of
flaskapp/views.py, a leaf module that only flaskapp.main imports (in the
dependents scope views and main are re-imported; main builds a new Flask
app from the 20 blueprint packages, which stay loaded).

  (a) uWSGI (master, --processes workers, a polling client plus
      --load-clients others: bench/uwsgi_bench.py's Server and
      time_server_saves): dependents and packages over --saves saves each,
      after --warmup-saves uncounted ones (a worker's first reload also
      pays for its copy-on-write pages); py-autoreload and touch-reload over
      --restart-saves.
  (b) Apache + mod_wsgi daemon mode (bench/apache_variants.py's server, one
      virtual host per variant: dependents, packages, plain mod_wsgi whose
      .wsgi is touched after the save for its restart), the same way
      (apache_bench.time_saves).
  (c) memory kept per reload in the one worker of a processes = 1 uWSGI
      (uwsgi_bench.memory_per_reload), dependents and packages.
  (e) memory kept per reload inside one process, with and without a full
      garbage collection after each reload (see KEPT_PROBE).
  (d) import-time cost: starting the app in-process with a Reloader, with
      and without the import graph recorded (--import-runs runs each, in
      fresh interpreters, alternating).

Writes bench/results/dependents_bench.json. Every server is stopped by its pid.
"""

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import apache_bench  # noqa: E402
import apache_variants  # noqa: E402
import bench_apps  # noqa: E402
import uwsgi_bench  # noqa: E402

DEPENDENTS = [("pyfresh-reload-scope", "dependents")]
CLEARED = re.compile(r"\((\d+) modules cleared, (\d+) imported")
FALLBACK = "dependents scope ("

# Apache: the pyfresh virtual host with the scope set (apache_variants'
# own serving block, plus one directive).
apache_variants.SERVING["dependents"] = apache_variants.SERVING["pyfresh"] + "    PyFreshReloadScope dependents\n"


def reload_figures(log_text, marker=None):
    """pyfresh's own reload times and module counts from its log lines
    (only lines containing `marker`, when given)."""
    lines = [line for line in log_text.splitlines() if "changed; reloaded" in line and (marker is None or marker in line)]
    times = uwsgi_bench.reload_times("\n".join(lines))
    counts = [tuple(int(x) for x in m.groups()) for m in (CLEARED.search(line) for line in lines) if m]
    return {"reload_times": times, "reload_median": statistics.median(times) if times else None,
            "cleared_imported": counts, "fallbacks": log_text.count(FALLBACK)}


def describe(name, r):
    return "    %-14s %d/%d saves seen, median %s (min %s, max %s), failed %d (others %s)%s" % (
        name, r["seen"], r["saves"], apache_bench.ms(r["median"]) if r["median"] is not None else "-",
        apache_bench.ms(r["min"]) if r["min"] is not None else "-",
        apache_bench.ms(r["max"]) if r["max"] is not None else "-", r["failed"], r.get("load_failed"),
        "; reloads (log) median %s, modules cleared/imported %s" % (
            apache_bench.ms(r["reload_median"]), _counts(r["cleared_imported"]))
        if r.get("reload_median") is not None else "")


def _counts(pairs):
    distinct = sorted(set(pairs))
    return ", ".join("%d/%d" % pair for pair in distinct[:4]) + (" ..." if len(distinct) > 4 else "")


# -- (a) uWSGI ---------------------------------------------------------------------------------


def uwsgi_part(args, harness):
    mechanisms = (
        # name, uwsgi_bench.Server variant, extra options, touch, count, pause, warm-up saves
        ("dependents", "pyfresh", DEPENDENTS, False, args.saves, 0.1, args.warmup_saves),
        ("packages", "pyfresh", (), False, args.saves, 0.1, args.warmup_saves),
        ("py-autoreload", "py-autoreload", (), False, args.restart_saves, 2.0, 0),
        ("touch-reload", "touch-reload", (), True, args.restart_saves, 2.0, 0),
    )
    results = {}
    for name, variant, extra, touch, count, pause, warmup in mechanisms:
        server = uwsgi_bench.Server(harness, args.build_dir, variant, "flask", processes=args.processes, extra=extra)
        try:
            time.sleep(uwsgi_bench.SETTLE_AFTER_START)
            warm = None
            if warmup:
                warm = uwsgi_bench.time_server_saves(server, warmup, args.save_timeout, 0.5, args.load_clients,
                                                     args.load_rate)
                warm_log = len(server.log())
            result = uwsgi_bench.time_server_saves(server, count, args.save_timeout, pause, args.load_clients,
                                                   args.load_rate, touch=touch)
            log_text = server.log()
            result.update(reload_figures(log_text[warm_log:] if warmup else log_text))
            if warm is not None:
                result["warmup"] = dict(warm, **reload_figures(log_text[:warm_log]))
            results[name] = result
        finally:
            server.stop()
        print(describe(name, results[name]), flush=True)
        if results[name].get("warmup"):
            w = results[name]["warmup"]
            print("    %-14s warm-up: %d saves, median %s, reloads %s, %d fallbacks to the whole scope" % (
                "", w["saves"], apache_bench.ms(w["median"]) if w["median"] else "-",
                " ".join(apache_bench.ms(t) for t in w["reload_times"]), w["fallbacks"]), flush=True)
    return results


# -- (b) Apache --------------------------------------------------------------------------------


def apache_part(args, harness):
    roles = {"a": "dependents", "b": "pyfresh", "c": "plain"}
    server = apache_variants.Server(harness, "flask", roles)
    results = {}
    try:
        for slot, name, count, pause, warmup in (("a", "dependents", args.saves, 0.1, args.warmup_saves),
                                                 ("b", "packages", args.saves, 0.1, args.warmup_saves),
                                                 ("c", "mod_wsgi restart", args.restart_saves, 1.0, 0)):
            host = apache_variants.host_of(slot)
            views = server.workspace.path("apps", slot, "flaskapp", "views.py")
            touch = server.workspace.path("apps", slot, "plain.wsgi") if roles[slot] == "plain" else None
            load = apache_bench.BackgroundLoad(server.port, host, args.load_clients, args.load_rate,
                                               max_seconds=(count + warmup) * (args.save_timeout + pause) + 30)
            poller = apache_bench.Poller(server.port, host, timeout=30)
            try:
                warm = None
                if warmup:
                    warm = apache_bench.time_saves(poller, views, name + " warm-up", warmup, args.save_timeout, 0.5)
                log_before = len(server.httpd.log())
                raw = apache_bench.time_saves(poller, views, name, count, args.save_timeout, pause, touch=touch)
            finally:
                poller.close()
                raw["load"] = load.stop()
            result = uwsgi_bench.summarize_saves(raw)
            if roles[slot] != "plain":
                marker = os.path.join("apps", slot, "flaskapp")
                result.update(reload_figures(server.httpd.log()[log_before:], marker))
                result["fallbacks"] = server.httpd.log()[log_before:].count(FALLBACK)
            if warm is not None:
                result["warmup"] = uwsgi_bench.summarize_saves(dict(warm, load=None))
            results[name] = result
            print(describe(name, result), flush=True)
    finally:
        server.stop()
    return results


# -- (d) import-time cost of the graph ---------------------------------------------------------

IMPORT_PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
record = sys.argv[2] == "on"
import pyfresh
from pyfresh import import_tracker
if not record:
    import_tracker.ImportTracker.add_graph = lambda self, graph: None
started = time.perf_counter()
reloader = pyfresh.Reloader("flaskapp.main:application", packages=["flaskapp"], reload_scope="dependents")
elapsed = time.perf_counter() - started
graph = reloader.import_graph
print(json.dumps({"seconds": elapsed, "recorded_ns": graph.recorded_ns, "modules": len(graph),
                  "edges": sum(len(graph.importers(n)) for n in list(sys.modules) if n.startswith("flaskapp"))}))
"""


# (e): what a reload keeps, seen from inside one process. The worker's RSS
# in (c) also counts the previous apps, which are reference cycles (Flask
# app <-> url_map <-> rules) that only CPython's full collection frees, and
# that collection waits until the long-lived objects grew by a quarter
# (gc's rule): with ~60,000 of them it runs only every few dozen reloads.
# Collecting after each reload here shows what is kept for good.
KEPT_PROBE = r"""
import gc, json, logging, os, sys, time
root, scope, reloads, collect = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "collect"
sys.path.insert(0, root)
import pyfresh
logging.getLogger("pyfresh").setLevel(logging.WARNING)
reloader = pyfresh.Reloader("flaskapp.main:application", packages=["flaskapp"], reload_scope=scope)
views = os.path.join(root, "flaskapp", "views.py")
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "bench", "SERVER_PORT": "80",
           "wsgi.url_scheme": "http", "wsgi.input": None, "wsgi.errors": sys.stderr, "SCRIPT_NAME": "",
           "QUERY_STRING": ""}

def rss_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))

def reload_once(index):
    message = ("kept %d" % index).ljust(40, ".") + "!" * (index % 2)
    with open(views + ".tmp", "w") as handle:
        handle.write("MESSAGE = %r\n" % message)
    os.replace(views + ".tmp", views)
    body = b"".join(reloader(dict(environ), lambda status, headers, exc_info=None: None))
    assert message.encode() in body, body[:300]

for index in range(10):
    reload_once(index)
gc.collect()
samples, blocks, collect_ms = [rss_kb()], sys.getallocatedblocks(), []
for index in range(10, 10 + reloads):
    reload_once(index)
    if collect:
        started = time.perf_counter()
        gc.collect()
        collect_ms.append((time.perf_counter() - started) * 1000)
    samples.append(rss_kb())
gc.collect()
print(json.dumps({"samples_kb": samples, "blocks_per_reload": (sys.getallocatedblocks() - blocks) / reloads,
                  "collect_ms": collect_ms}))
"""


def kept_per_reload(args):
    root = tempfile.mkdtemp(prefix="pyfresh-dependents-kept-")
    results = {}
    try:
        bench_apps.write_app(root, "flask", "kept")
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": os.path.join(args.build_dir, "python")}
        for scope in ("dependents", "packages"):
            for collect in ("no-collect", "collect"):
                out = subprocess.run([sys.executable, "-c", KEPT_PROBE, root, scope, str(args.kept_reloads), collect],
                                     env=env, capture_output=True, text=True, timeout=600)
                if out.returncode != 0:
                    raise RuntimeError(out.stderr[-3000:])
                r = json.loads(out.stdout.strip().splitlines()[-1])
                samples = r["samples_kb"]
                half = len(samples) // 2
                r.update(kb_per_reload=uwsgi_bench.slope(samples), first_half_kb_per_reload=uwsgi_bench.slope(
                    samples[:half + 1]), second_half_kb_per_reload=uwsgi_bench.slope(samples[half:]),
                    collect_median_ms=statistics.median(r["collect_ms"]) if r["collect_ms"] else None)
                results["%s, %s" % (scope, collect)] = r
                print("    %-26s RSS %d -> %d KB over %d reloads: %.1f KB/reload (first half %.1f, second half "
                      "%.1f); live blocks %+.1f/reload%s" % (
                          "%s, %s" % (scope, collect), samples[0], samples[-1], args.kept_reloads,
                          r["kb_per_reload"], r["first_half_kb_per_reload"], r["second_half_kb_per_reload"],
                          r["blocks_per_reload"], "; gc.collect() median %.1f ms" % r["collect_median_ms"]
                          if r["collect_median_ms"] is not None else ""), flush=True)
    finally:
        subprocess.run(["rm", "-rf", root], check=False)
    return results


def import_cost(args):
    root = tempfile.mkdtemp(prefix="pyfresh-dependents-import-")
    try:
        bench_apps.write_app(root, "flask", "import cost")
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": os.path.join(args.build_dir, "python")}
        runs = {"on": [], "off": []}
        # One uncounted run writes the bytecode; then alternate.
        for mode in ["on"] + ["on", "off"] * args.import_runs:
            out = subprocess.run([sys.executable, "-c", IMPORT_PROBE, root, mode], env=env, capture_output=True,
                                 text=True, timeout=120)
            if out.returncode != 0:
                raise RuntimeError(out.stderr[-3000:])
            runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
        runs["on"] = runs["on"][1:]
    finally:
        subprocess.run(["rm", "-rf", root], check=False)
    on = statistics.median(r["seconds"] for r in runs["on"])
    off = statistics.median(r["seconds"] for r in runs["off"])
    recorded = statistics.median(r["recorded_ns"] for r in runs["on"]) / 1e9
    result = {"runs": args.import_runs, "with_graph_s": on, "without_graph_s": off, "difference_s": on - off,
              "recording_s": recorded, "modules": runs["on"][0]["modules"], "edges": runs["on"][0]["edges"],
              "raw": runs}
    print("    start-up import with the graph %s, without %s (median of %d each): %+.1f ms (%+.1f%%); "
          "time inside the graph's recording %s; %d modules, %d edges" % (
              apache_bench.ms(on), apache_bench.ms(off), args.import_runs, (on - off) * 1000,
              (on - off) / off * 100, apache_bench.ms(recorded), result["modules"], result["edges"]), flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.environ.get("PYFRESH_BUILD_DIR", os.path.join(uwsgi_bench.SOURCE_DIR,
                                                                                                "build")))
    parser.add_argument("--saves", type=int, default=20, help="dependents and packages saves timed, each (default 20)")
    parser.add_argument("--warmup-saves", type=int, default=2, help="uncounted saves first (default 2)")
    parser.add_argument("--restart-saves", type=int, default=3,
                        help="py-autoreload, touch-reload and mod_wsgi restart saves timed, each (default 3)")
    parser.add_argument("--save-timeout", type=float, default=30.0)
    parser.add_argument("--processes", type=int, default=2, help="uWSGI workers (default 2)")
    parser.add_argument("--load-clients", type=int, default=2, help="other clients during the saves (default 2)")
    parser.add_argument("--load-rate", type=float, default=10.0, help="requests/s of each (default 10)")
    parser.add_argument("--memory-reloads", type=int, default=60, help="0 skips (c) (default 60)")
    parser.add_argument("--memory-warmup", type=int, default=10)
    parser.add_argument("--import-runs", type=int, default=5, help="0 skips (d) (default 5)")
    parser.add_argument("--kept-reloads", type=int, default=80,
                        help="in-process reloads of (e), with and without a full collection after each (default 80)")
    parser.add_argument("--skip", nargs="*", default=(), choices=("uwsgi", "apache", "memory", "import", "kept"))
    parser.add_argument("--json", default=os.path.join(HERE, "results", "dependents_bench.json"))
    args = parser.parse_args()
    if not (1 <= args.saves <= 200 and 0 <= args.warmup_saves <= 10 and 1 <= args.restart_saves <= 20
            and 0 < args.save_timeout <= 120 and 1 <= args.processes <= 8 and 0 <= args.load_clients <= 16
            and 0 < args.load_rate <= 500 and 0 <= args.memory_reloads <= 1000 and 0 <= args.import_runs <= 20
            and 1 <= args.kept_reloads <= 1000):
        parser.error("keep the run bounded")
    args.build_dir = os.path.abspath(args.build_dir)
    uwsgi_bench.check_build(args.build_dir)
    command = shlex.join([sys.executable] + sys.argv)
    data = {"command": command, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "cpus": os.cpu_count(), "args": {k: v for k, v in vars(args).items() if k != "skip"}}
    print("command: %s" % command, flush=True)
    if "uwsgi" not in args.skip:
        print("(a) uWSGI, master + %d workers, Flask app ~1,000 modules: save -> new code" % args.processes, flush=True)
        data["uwsgi"] = uwsgi_part(args, uwsgi_bench.load_harness(args.build_dir))
    if "apache" not in args.skip:
        print("(b) Apache + mod_wsgi daemon mode (threads=4), Flask app: save -> new code", flush=True)
        data["apache"] = apache_part(args, apache_bench.load_harness(args.build_dir))
    if "memory" not in args.skip and args.memory_reloads:
        print("(c) memory kept per reload, uWSGI processes = 1, Flask app", flush=True)
        data["memory"] = uwsgi_bench.memory_per_reload(
            uwsgi_bench.load_harness(args.build_dir), args.build_dir, args.memory_reloads, args.memory_warmup,
            "flask", log=lambda s: print(s, flush=True),
            variants=(("dependents", "pyfresh", DEPENDENTS), ("packages", "pyfresh", ())))
    if "import" not in args.skip and args.import_runs:
        print("(d) import-time cost of recording the import graph (in-process start-up of the Flask app)", flush=True)
        data["import"] = import_cost(args)
    if "kept" not in args.skip:
        print("(e) memory kept per reload inside one process (the app served in-process, no server)", flush=True)
        data["kept"] = kept_per_reload(args)
    summary(data)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(data, handle, indent=1, default=str)
    print("wrote %s" % args.json)


def summary(data):
    print()
    print("=" * 100)
    for server, baselines in (("uwsgi", ("packages", "py-autoreload", "touch-reload")),
                              ("apache", ("packages", "mod_wsgi restart"))):
        results = data.get(server)
        if not results or not results.get("dependents", {}).get("median"):
            continue
        dependents = results["dependents"]["median"]
        ratios = {name: results[name]["median"] / dependents for name in baselines
                  if results.get(name, {}).get("median")}
        data.setdefault("ratios", {})[server] = ratios
        print("%-7s dependents median %s; %s" % (server, apache_bench.ms(dependents), ", ".join(
            "%s %s (%.0fx)" % (name, apache_bench.ms(results[name]["median"]), ratio)
            for name, ratio in ratios.items())))
    for name, r in (data.get("memory") or {}).items():
        print("memory  %-10s %.1f KB/reload (%d -> %d KB over %d reloads)" % (
            name, r["kb_per_reload"], r["rss_before_kb"], r["rss_after_kb"], r["reloads"]))
    for name, r in (data.get("kept") or {}).items():
        print("kept    %-26s %.1f KB/reload (in-process RSS slope)" % (name, r["kb_per_reload"]))


if __name__ == "__main__":
    main()
