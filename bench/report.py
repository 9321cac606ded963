#!/usr/bin/python3
"""Runs every pyfresh benchmark in one go and writes the report:
docs/benchmarks.md, the plots in docs/img/ (gnuplot) and the raw figures
in bench/results/benchmarks.json.

    bash bench/run-all.sh [BUILD_DIR]          # builds, then runs this
    /usr/bin/python3 bench/report.py --build-dir build [--quick]

What it measures (every comparison is taken in the same run; times are
medians of repeated runs):

  1. the per-request check when nothing changed, 10-10,000 tracked files:
     the C++ core (bench/check_bench: inotify, stat polling, naive stat of
     every file) and a whole WSGI call in Python (bench/check_cost_python.py);
  2. requests/s under wrk, uWSGI (bench/uwsgi_bench.py) and Apache + mod_wsgi
     daemon mode (bench/apache_variants.py), hello app and a generated Flask
     app with about 1,000 modules: without a reloader / pyfresh / naive;
  3. save -> first response with the new code, under light load: pyfresh vs
     uWSGI py-autoreload and touch-reload, and vs mod_wsgi's daemon-mode
     script touching (bench/apache_bench.py);
  4. memory kept per reload: pyfresh vs uWSGI's own module loader;
  5. the Django project of the tests (bench/django_bench.py): save -> new
     code vs py-autoreload, mod_wsgi's restart and manage.py runserver, and
     memory per reload; a failure there leaves sections 1-4 as they are.

Every loop is bounded, every server listens on 127.0.0.1 only and is
stopped by its pid. About 13 minutes on 2 CPUs.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import apache_bench  # noqa: E402
import apache_variants  # noqa: E402
import django_bench  # noqa: E402
import uwsgi_bench  # noqa: E402

CHECK_NAMES = {
    "BM_CheckInotify": "inotify",
    "BM_CheckPollEveryRequest": "poll0",
    "BM_CheckPollInterval1s": "poll1s",
    "BM_CheckNaiveStatAll": "naive",
}
CHECK_LABELS = {
    "inotify": "pyfresh, inotify (default)",
    "poll0": "pyfresh, stat polling every request",
    "poll1s": "pyfresh, stat polling, 1 s interval",
    "naive": "naive: stat every file per request",
}
PY_LABELS = {
    "pyfresh": "pyfresh, inotify (default)",
    "pyfresh poll 0": "pyfresh, poll_interval=0",
    "pyfresh poll 1s": "pyfresh, poll_interval=1",
    "naive": "naive middleware",
}


def log(text=""):
    print(text, flush=True)


# -- formatting ---------------------------------------------------------------------------


def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns < 10:
        return "%.1f ns" % ns
    if ns < 1000:
        return "%.0f ns" % ns
    if ns < 1e6:
        return "%.1f µs" % (ns / 1e3) if ns < 1e4 else "%.0f µs" % (ns / 1e3)
    return "%.1f ms" % (ns / 1e6) if ns < 1e8 else "%.0f ms" % (ns / 1e6)


def fmt_extra(ns):
    """An extra cost that noise can make slightly negative."""
    if ns < 10:
        return "+%s (≈ 0)" % fmt_ns(max(ns, 0.0)) if ns >= 0 else "≈ 0 (%.0f ns)" % ns
    return "+" + fmt_ns(ns)


def fmt_kb(kb):
    if abs(kb) >= 1024:
        return "{:,.1f} MB".format(kb / 1024)
    return "%.1f KB" % kb


def fmt_s(seconds):
    if seconds is None:
        return "-"
    if seconds < 0.01:
        return "%.1f ms" % (seconds * 1e3)
    if seconds < 1:
        return "%.0f ms" % (seconds * 1e3)
    return "%.2f s" % seconds


def fmt_ratio(value):
    if value is None:
        return "-"
    if value >= 10:
        return "{:,.0f}×".format(value)
    return "%.1f×" % value


def table(header, rows, align=None):
    align = align or ["l"] + ["r"] * (len(header) - 1)
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


# -- the machine --------------------------------------------------------------------------


def run_text(command):
    try:
        return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
                              stdin=subprocess.DEVNULL).stdout.decode("utf-8", "replace").strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine():
    cpu = ""
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory = "%.1f GiB" % (int(line.split()[1]) / 1024 / 1024)
    versions = run_text(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "uwsgi-core", "uwsgi-plugin-python3",
                         "apache2", "libapache2-mod-wsgi-py3", "python3-flask", "wrk", "gnuplot-nox"])
    commit = run_text(["git", "-C", SOURCE_DIR, "rev-parse", "--short", "HEAD"])
    dirty = run_text(["git", "-C", SOURCE_DIR, "status", "--porcelain", "--untracked-files=no"])
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "memory": memory,
        "debian": open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else "",
        "python": run_text(["/usr/bin/python3", "--version"]),
        "packages": versions.splitlines(),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def busy_cpus(seconds=2.0):
    """CPUs in use by anything on the machine over `seconds`."""
    first = apache_bench.machine_busy_seconds()
    time.sleep(seconds)
    return (apache_bench.machine_busy_seconds() - first) / seconds


def wait_for_quiet(limit, threshold, max_wait):
    """Waits (bounded) until the machine's other load is below threshold."""
    deadline = time.monotonic() + max_wait
    samples = []
    while True:
        busy = busy_cpus()
        samples.append(busy)
        if busy <= threshold or time.monotonic() >= deadline:
            return busy, samples
        log("  the machine is busy (%.2f of %d CPUs in use by other processes); waiting up to %.0f s more"
            % (busy, limit, deadline - time.monotonic()))
        time.sleep(3)


# -- 1. check cost -------------------------------------------------------------------------


def run_check_bench(build_dir, repetitions, min_time):
    binary = os.path.join(build_dir, "bench", "check_bench")
    command = [binary, "--benchmark_format=json", "--benchmark_repetitions=%d" % repetitions,
               "--benchmark_min_time=%g" % min_time, "--benchmark_report_aggregates_only=true"]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError("check_bench failed:\n%s" % result.stderr.decode("utf-8", "replace"))
    data = json.loads(result.stdout)
    rows = {}
    syscall_ns = None
    for entry in data["benchmarks"]:
        if entry.get("aggregate_name") != "median":
            continue
        base, _, rest = entry["name"].partition("/")
        if base.startswith("BM_EmptySyscall"):
            scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[entry.get("time_unit", "ns")]
            syscall_ns = entry["cpu_time"] * scale
            continue
        files = int(rest.split("_")[0])
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[entry.get("time_unit", "ns")]
        rows.setdefault(files, {})[CHECK_NAMES[base]] = {
            "real_ns": entry["real_time"] * scale, "cpu_ns": entry["cpu_time"] * scale}
    shown = [os.path.relpath(binary, SOURCE_DIR)] + command[2:]
    return {"command": shlex.join(shown), "rows": rows, "syscall_ns": syscall_ns}


def run_check_python(build_dir, min_seconds, repeat):
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.path.join(build_dir, "python")
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = ["/usr/bin/python3", os.path.join(HERE, "check_cost_python.py"), "--json", out.name,
                   "--min-seconds", str(min_seconds), "--repeat", str(repeat)]
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600,
                                stdin=subprocess.DEVNULL, env=env)
        if result.returncode != 0:
            raise RuntimeError("check_cost_python failed:\n%s" % result.stdout.decode("utf-8", "replace"))
        for line in result.stdout.decode("utf-8", "replace").splitlines():
            if "extra per request" in line:
                log(line)
        with open(out.name) as handle:
            return json.load(handle)


# -- plots ----------------------------------------------------------------------------------

Y_TICS = ('("1 ns" 1, "10 ns" 10, "100 ns" 100, "1 µs" 1e3, "10 µs" 1e4, "100 µs" 1e5, '
          '"1 ms" 1e6, "10 ms" 1e7, "100 ms" 1e8, "1 s" 1e9)')


def gnuplot(script):
    result = subprocess.run(["gnuplot"], input=script.encode("utf-8"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=60)
    if result.returncode != 0:
        raise RuntimeError("gnuplot failed:\n%s" % result.stdout.decode("utf-8", "replace"))


def plot_check_cost(check, check_python, path):
    with tempfile.TemporaryDirectory() as directory:
        core = os.path.join(directory, "core.dat")
        with open(core, "w") as handle:
            for files in sorted(check["rows"]):
                row = check["rows"][files]
                handle.write("%d %s\n" % (files, " ".join("%.6g" % row[k]["cpu_ns"]
                                                         for k in ("inotify", "poll0", "poll1s", "naive"))))
        wsgi = os.path.join(directory, "wsgi.dat")
        with open(wsgi, "w") as handle:
            for row in check_python:
                handle.write("%d %s %.6g\n" % (row["files"], " ".join(
                    "%.6g" % row["total_ns"][k] for k in ("pyfresh", "pyfresh poll 0", "pyfresh poll 1s", "naive")),
                    row["bare_ns"]))
        gnuplot("""
set terminal pngcairo size 1100,560 font "DejaVu Sans,10" noenhanced
set output '%(path)s'
set multiplot layout 1,2 title "Per-request cost when nothing changed (log-log; lower is better)" font ",12"
set logscale xy
set xrange [7:14000]
set yrange [1:3e10]
set xtics ("10" 10, "100" 100, "1,000" 1000, "10,000" 10000)
set ytics %(ytics)s
set grid
set key top left box opaque
set xlabel "tracked module files"
set title "C++ core: ChangeDetector::Check() (bench/check_bench.cc)"
set ylabel "cost per request"
set arrow from 7,500 to 14000,500 nohead dashtype 2 lc rgb "#888888"
set label "target for pyfresh: 0.5 µs" at 9,900 tc rgb "#666666"
plot '%(core)s' using 1:5 with linespoints lw 2 pt 7 lc rgb "#d62728" title "naive: stat every file", \\
     '%(core)s' using 1:3 with linespoints lw 2 pt 5 lc rgb "#ff7f0e" title "pyfresh, stat polling every request", \\
     '%(core)s' using 1:4 with linespoints lw 2 pt 9 lc rgb "#9467bd" title "pyfresh, stat polling, 1 s interval", \\
     '%(core)s' using 1:2 with linespoints lw 3 pt 13 lc rgb "#2ca02c" title "pyfresh, inotify (default)"
unset arrow
unset label
set title "Whole WSGI call in Python (bench/check_cost_python.py)"
set ylabel "time per request (app included)"
plot '%(wsgi)s' using 1:5 with linespoints lw 2 pt 7 lc rgb "#d62728" title "naive middleware (os.stat per module)", \\
     '%(wsgi)s' using 1:3 with linespoints lw 2 pt 5 lc rgb "#ff7f0e" title "pyfresh, poll_interval=0", \\
     '%(wsgi)s' using 1:4 with linespoints lw 2 pt 9 lc rgb "#9467bd" title "pyfresh, poll_interval=1", \\
     '%(wsgi)s' using 1:2 with linespoints lw 3 pt 13 lc rgb "#2ca02c" title "pyfresh, inotify (default)", \
     '%(wsgi)s' using 1:6 with lines lw 1 dashtype 2 lc rgb "#444444" title "the bare app, no reloader"
unset multiplot
""" % {"path": path, "core": core, "wsgi": wsgi, "ytics": Y_TICS})


def plot_saves(saves, path):
    """Bars, log y: save -> first response with the new code, medians."""
    bars = []
    for server, mechanisms in (("uWSGI", saves.get("uwsgi_hello") or {}), ("Apache", saves.get("apache") or {})):
        for name, result in mechanisms.items():
            if result.get("median"):
                bars.append(("%s\\n%s" % (server, name), result["median"] * 1000, name == "pyfresh"))
    if not bars:
        return False
    with tempfile.TemporaryDirectory() as directory:
        data = os.path.join(directory, "saves.dat")
        with open(data, "w") as handle:
            for index, (label, value, ours) in enumerate(bars):
                handle.write('%d "%s" %.6g %d\n' % (index, label, value, 1 if ours else 0))
        gnuplot("""
set terminal pngcairo size 900,460 font "DejaVu Sans,10" noenhanced
set output '%(path)s'
set bmargin 5
set title "Save -> first response with the new code (median, hello app, light load; log scale, lower is better)"
set logscale y
set yrange [0.5:20000]
set ytics ("1 ms" 1, "10 ms" 10, "100 ms" 100, "1 s" 1000, "10 s" 10000)
set grid ytics
set style fill solid 0.8 border -1
set boxwidth 0.6
set xrange [-0.6:%(right)g]
unset key
plot '%(data)s' using 1:($4 == 1 ? $3 : 1/0):xtic(2) with boxes lc rgb "#2ca02c", \\
     '%(data)s' using 1:($4 == 0 ? $3 : 1/0) with boxes lc rgb "#d62728", \\
     '%(data)s' using 1:($3*1.35):(sprintf($3 < 10 ? "%%.1f ms" : $3 < 1000 ? "%%.0f ms" : "%%.2f s", $3 < 1000 ? $3 : $3/1000)) with labels
""" % {"path": path, "data": data, "right": len(bars) - 0.4})
    return True


# -- the report -----------------------------------------------------------------------------


def disturbed_note(summary, baseline):
    """A sentence on the rounds that other processes disturbed, if any."""
    flags = summary[baseline].get("disturbed") or []
    reruns = summary[baseline].get("reruns", 0)
    rerun_text = ("%d round%s during which other processes used more than %.1f CPUs %s run again" % (
        reruns, "" if reruns == 1 else "s", uwsgi_bench.DISTURBED_CPUS, "was" if reruns == 1 else "were")
        if reruns else "")
    if not any(flags):
        return rerun_text + "." if rerun_text else ""
    undisturbed = summary["pyfresh"].get("ratio_undisturbed")
    text = "%d of %d rounds stayed disturbed (other processes used more than %.1f CPUs during a run)" % (
        flags.count(True), len(flags), uwsgi_bench.DISTURBED_CPUS)
    if rerun_text:
        text = rerun_text + "; " + text
    if undisturbed is not None:
        text += "; over the undisturbed rounds alone pyfresh's ratio is %.3f" % undisturbed
    return text + "."


def others_note(values):
    if not values:
        return ""
    return "other processes used %.2f CPUs (median; max %.2f) of %d during these runs" % (
        statistics.median(values), max(values), os.cpu_count() or 0)


def pin_text(args):
    if not args.get("pin"):
        return ""
    return ("During the runs the server's processes are pinned to CPU %s and wrk to CPU %s (`taskset`; as "
            "`bench/apache_bench.py` does), so they do not disturb each other. " % (
                ",".join(map(str, args["pin"][1])), ",".join(map(str, args["pin"][0]))))


def throughput_rows(summary, labels, baseline):
    rows = []
    for name, s in summary.items():
        ratio = "1 (baseline)" if name == baseline else "**%.3f**" % s["ratio"] if name == "pyfresh" else \
            "%.3f" % s["ratio"]
        cpu_ratio = "1" if name == baseline else "%.3f" % s["cpu_ratio"] if s.get("cpu_ratio") else "-"
        rows.append([labels.get(name, name), " / ".join("%.0f" % v for v in s["rps"]), "%.0f" % s["rps_median"],
                     ratio, " ".join("%.3f" % r for r in s["ratios"]), "%.0f" % s["cpu_us_median"], cpu_ratio])
    return rows


UWSGI_LABELS = {
    "off": "off: `plugins = python3`",
    "disabled": "plugin loaded, `pyfresh-enabled = false`",
    "pyfresh": "**pyfresh** (`plugins = python3,pyfresh`)",
    "naive": "naive baseline (stat every module file per request)",
}
APACHE_LABELS = {
    "plain": "plain mod_wsgi (.wsgi imports the app)",
    "pyfresh": "**pyfresh** (`PyFresh On`, entry script)",
    "naive": "naive baseline (stat every module file per request)",
}
SAVE_LABELS = {
    "pyfresh": "**pyfresh** (save views.py)",
    "py-autoreload": "uWSGI `py-autoreload = 1` (save views.py)",
    "touch-reload": "uWSGI `touch-reload` (save, then touch the file)",
    "mod_wsgi": "mod_wsgi daemon mode (save, then touch the .wsgi)",
}


def saves_rows(results):
    rows = []
    pyfresh = results.get("pyfresh")
    for name, r in results.items():
        if r["seen"]:
            times = (fmt_s(r["median"]), fmt_s(r["min"]), fmt_s(r["max"]))
        else:
            times = ("-", "-", "-")
        if name == "pyfresh":
            ratio = "1"
        elif r["seen"] and pyfresh and pyfresh["seen"]:
            ratio = fmt_ratio(r["median"] / pyfresh["median"])
        else:
            ratio = "-"
        worst = max(r["worst"], r.get("load_worst") or 0.0)
        rows.append([SAVE_LABELS.get(name, name), "%d/%d" % (r["seen"], r["saves"]), times[0], times[1], times[2],
                     ratio, fmt_s(r.get("reload_median")), "%d of %d" % (r["failed"], r["polls"]),
                     "%s of %s" % (r.get("load_failed", "-"), r.get("load_requests", "-")), fmt_s(worst)])
    return rows


def apache_saves_summary(result):
    """apache_bench.time_saves' raw result -> uwsgi_bench.summarize_saves form."""
    return uwsgi_bench.summarize_saves(result)


def verdict(ok):
    return "met" if ok else "**not met**"


def result_notes(data):
    """Sentences on what the figures say beyond the tables, from the data."""
    notes = []
    flask = data["saves"].get("uwsgi_flask", {}).get("pyfresh")
    hello = data["saves"].get("uwsgi_hello", {}).get("pyfresh")
    if flask and flask.get("reload_median") and hello and hello.get("reload_median"):
        modules = data["throughput"].get("uwsgi_flask", {}).get("off", {}).get("modules", 1004)
        auto = data["saves"]["uwsgi_flask"].get("py-autoreload", {})
        notes.append(
            "A reload costs what re-importing the package costs: pyfresh clears and re-imports *every* module "
            "of the package (by design, so that `from x import y` copies and subclasses are refreshed). For "
            "the hello app that is %s; for the Flask app's %s modules %s per worker, so save → new code "
            "there is %s%s, and requests that arrive meanwhile wait for it (slowest request %s). No request "
            "failed." % (fmt_s(hello["reload_median"]), "{:,}".format(modules), fmt_s(flask["reload_median"]),
                         fmt_s(flask["median"]),
                         " — %s faster than py-autoreload, short of the 50× that the small app shows" %
                         fmt_ratio(auto["median"] / flask["median"]) if auto.get("median") else "",
                         fmt_s(max(flask["worst"], flask.get("load_worst") or 0.0))))
    apache = data["throughput"].get("apache_hello", {}).get("pyfresh")
    plain = data["throughput"].get("apache_hello", {}).get("plain")
    if apache and plain and apache.get("cpu_ratio") and apache["cpu_ratio"] < 0.99:
        share = 1 / apache["cpu_ratio"] - 1
        ratios = [base / own for base, own in zip(plain["cpu_us"], apache["cpu_us"]) if own]
        notes.append(
            "Under Apache the hello app's CPU per request is %.1f%% higher with `PyFresh On` (about %.0f µs of "
            "%.0f µs; per-round CPU ratios %s), while the Reloader's own check and call add about 0.05 µs "
            "(section 1): that cost lies outside change detection, in the Apache path (mod_pyfresh's "
            "per-request hook, the configuration carried in the environ to the daemon process, the entry "
            "script); it is not broken down here." % (
                share * 100, share * plain["cpu_us_median"], plain["cpu_us_median"],
                " ".join("%.3f" % r for r in ratios)))
    modwsgi = data["saves"].get("apache", {}).get("mod_wsgi")
    if modwsgi and modwsgi.get("median") and modwsgi["median"] < 3.0:
        notes.append(
            "mod_wsgi's daemon-mode restart after touching the script took %s here (median), much less than "
            "the 5.3-5.8 s in the project's field notes, which were taken with another setup; the difference "
            "was not investigated here." % fmt_s(modwsgi["median"]))
    spans, cpu, control = [], [], ""
    for key, title in (("uwsgi_hello", "uWSGI hello"), ("uwsgi_flask", "uWSGI Flask"),
                       ("apache_hello", "Apache hello"), ("apache_flask", "Apache Flask")):
        summary = data["throughput"].get(key)
        if not summary or len(summary["pyfresh"]["ratios"]) < 2:
            continue
        ratios = summary["pyfresh"]["ratios"]
        spans.append((title, min(ratios), max(ratios)))
        cpu.append("%s %.3f" % (title, summary["pyfresh"]["cpu_ratio"] or 0.0))
        if key == "uwsgi_hello" and summary.get("disabled"):
            off = summary["disabled"]["ratios"]
            control = (" (the plugin loaded but switched off, which adds no per-request work at all, spans "
                       "%.3f-%.3f against the same baseline)" % (min(off), max(off)))
    if any(high - low > 0.1 for _, low, high in spans):
        notes.append(
            "Noise: pyfresh's per-round throughput ratios span %s%s. A single run on this shared VM cannot "
            "resolve a few per cent, and repeated runs move the medians by as much; the CPU-per-request "
            "ratios are steadier: %s." % (
                ", ".join("%s %.3f-%.3f" % span for span in spans), control, ", ".join(cpu)))
    memory = data.get("memory", {}).get("flask", {}).get("pyfresh")
    if memory and memory.get("second_half_kb_per_reload") is not None:
        notes.append(
            "Memory, Flask app: pyfresh's worker grew %s per reload over the first half of the series and %s "
            "over the second; uWSGI's loader keeps every old copy of the app (%s per reload, steady)." % (
                fmt_kb(memory["first_half_kb_per_reload"]), fmt_kb(memory["second_half_kb_per_reload"]),
                fmt_kb(data["memory"]["flask"]["uwsgi-loader"]["kb_per_reload"])))
    return notes


def write_markdown(path, data, plots):
    m = data["machine"]
    check = data["check"]["rows"]
    lines = []
    add = lines.append
    add("# Benchmarks")
    add("")
    add("pyfresh against what users run today, measured in one run of `%s` on %s (commit %s). "
        "Every comparison below was taken in that same run; times are medians of repeated runs. "
        "The machine is a shared 2-CPU VM: the load that other work put on it during the "
        "measurements is reported next to each table." % (data["command"], m["date"], m["commit"]))
    add("")
    if data["args"].get("quick"):
        add("> **A `--quick` smoke run: one short round, few saves. Not for quoting.**")
        add("")
    add("**Machine:** %d CPUs (`nproc`), %s, %s RAM, Linux %s, Debian %s, %s. %s." % (
        m["nproc"], m["cpu"], m["memory"], m["kernel"], m["debian"], m["python"],
        "; ".join(m["packages"])))
    add("")
    add("**Reproduce:** after the README's setup (`bash scripts/install-deps.sh`, which includes "
        "`gnuplot-nox`), `%s` (about %d minutes; it builds first). Raw figures: "
        "[bench/results/benchmarks.json](../bench/results/benchmarks.json)." % (
            data["command"], max(1, round(data["elapsed"] / 60))))
    add("")

    # -- at a glance
    add("## At a glance")
    add("")
    glance = []
    inotify_10k = check.get(10000, {}).get("inotify", {}).get("cpu_ns")
    naive_10k = check.get(10000, {}).get("naive", {}).get("cpu_ns")
    syscall_ns = data["check"].get("syscall_ns")
    glance.append(["Check when nothing changed, 10,000 files (C++ core)", "≤ 0.5 µs, flat",
                   "%s (naive: %s)" % (fmt_ns(inotify_10k), fmt_ns(naive_10k)),
                   verdict(inotify_10k is not None and inotify_10k <= 500)])
    if syscall_ns and inotify_10k:
        glance.append(["Check, 10,000 files / an empty syscall (getppid) on the same day", "-",
                       "%s / %s = %s" % (fmt_ns(inotify_10k), fmt_ns(syscall_ns), fmt_ratio(inotify_10k / syscall_ns)),
                       ""])
    python_rows = {row["files"]: row for row in data["check_python"]}
    if 10000 in python_rows:
        glance.append(["Whole WSGI call, extra over the bare app, 10,000 modules (Python)", "-",
                       "%s (10 modules: %s; naive: %s)" % (
                           fmt_extra(python_rows[10000]["pyfresh"]),
                           fmt_extra(python_rows.get(10, python_rows[10000])["pyfresh"]),
                           fmt_extra(python_rows[10000]["naive"])), ""])
    for key, label in (("uwsgi_hello", "uWSGI, hello app"), ("uwsgi_flask", "uWSGI, Flask app, ~1,000 modules"),
                       ("apache_hello", "Apache daemon mode, hello app"),
                       ("apache_flask", "Apache daemon mode, Flask app, ~1,000 modules")):
        s = data["throughput"].get(key)
        if not s:
            continue
        ratio = s["pyfresh"]["ratio"]
        glance.append(["Throughput pyfresh / no reloader: %s" % label, "≥ 0.97",
                       "%.3f (naive: %.3f)" % (ratio, s["naive"]["ratio"]), verdict(ratio >= 0.97)])
    for key, label, alternatives in (("uwsgi_hello", "uWSGI", ("py-autoreload", "touch-reload")),
                                     ("apache", "Apache", ("mod_wsgi",)),
                                     ("uwsgi_flask", "uWSGI, Flask app ~1,000 modules",
                                      ("py-autoreload", "touch-reload"))):
        r = data["saves"].get(key)
        if not r or not r["pyfresh"]["seen"]:
            continue
        p = r["pyfresh"]
        factors = [(a, r[a]["median"] / p["median"]) for a in alternatives if r.get(a) and r[a]["seen"]]
        failed = p["failed"] + (p.get("load_failed") or 0)
        if key == "uwsgi_flask":  # issue 3's 20 ms is for its own (small) app
            glance.append(["Save → new code, %s: pyfresh median" % label, "-",
                           "%s (the reload itself: %s)" % (fmt_s(p["median"]), fmt_s(p.get("reload_median"))), ""])
        else:
            glance.append(["Save → new code, %s: pyfresh median" % label, "≤ 20 ms", fmt_s(p["median"]),
                           verdict(p["median"] <= 0.020)])
        glance.append(["Save → new code, %s: alternatives / pyfresh" % label, "≥ 50×",
                       ", ".join("%s %s" % (a, fmt_ratio(f)) for a, f in factors),
                       verdict(factors and all(f >= 50 for _, f in factors))])
        glance.append(["Failed requests around pyfresh's reloads, %s" % label, "0", str(failed), verdict(failed == 0)])
    for kind, label in (("hello", "hello app"), ("flask", "Flask app, ~1,000 modules")):
        mem = data.get("memory", {}).get(kind)
        if mem:
            glance.append(["Memory kept per reload, %s (uWSGI worker RSS)" % label, "-",
                           "pyfresh %s, uWSGI's loader %s" % (
                               fmt_kb(mem["pyfresh"]["kb_per_reload"]), fmt_kb(mem["uwsgi-loader"]["kb_per_reload"])),
                           ""])
    add(table(["measurement", "target", "result", ""], glance, ["l", "l", "l", "l"]))
    add("")
    for plot in plots:
        add("![%s](img/%s)" % (plot[1], os.path.basename(plot[0])))
        add("")

    # -- 1. check cost
    add("## 1. The per-request check when nothing changed")
    add("")
    add("The C++ core's `ChangeDetector::Check()` at 10 to 10,000 tracked files (directories of 50), "
        "`%s`; median of the repetitions, CPU time (wall time in brackets where it differs by more than 20 %%). "
        "inotify: the request asks the kernel whether events are queued (one `ioctl(FIONREAD)` on the "
        "inotify descriptor, no lock), so a request that starts after a save has completed always sees it; "
        "its floor is the cost of one syscall on the day (`getppid`: %s in this run). "
        "Stat polling every request: one `stat()` per tracked file (`pyfresh-poll-interval = 0`). "
        "Polling with a 1 s interval: one clock read until the interval has passed (the full check "
        "then runs inside one request). Naive: the baseline in `bench/check_bench.cc`, not part of "
        "pyfresh — `stat()` every file and compare, on every request." % (
            data["check"]["command"], fmt_ns(data["check"].get("syscall_ns"))))
    add("")
    rows = []
    for files in sorted(check):
        row = check[files]
        cells = []
        for key in ("inotify", "poll1s", "poll0", "naive"):
            cpu, real = row[key]["cpu_ns"], row[key]["real_ns"]
            cell = fmt_ns(cpu)
            if real > cpu * 1.2:
                cell += " (%s)" % fmt_ns(real)
            cells.append(cell)
        ratio = row["naive"]["cpu_ns"] / row["inotify"]["cpu_ns"] if row["inotify"]["cpu_ns"] else None
        rows.append(["{:,}".format(files)] + cells + [fmt_ratio(ratio)])
    add(table(["tracked files", CHECK_LABELS["inotify"], CHECK_LABELS["poll1s"], CHECK_LABELS["poll0"],
               CHECK_LABELS["naive"], "naive / inotify"], rows))
    add("")
    add("The whole WSGI call in Python (`bench/check_cost_python.py`): what `pyfresh.Reloader` and the naive "
        "middleware (`bench/naive_reloader.py`: walk `sys.modules`, `os.stat()` every module file of the "
        "package) add to a trivial app's call, with that many real modules imported; median over %d pairs "
        "of timings (the variant, and the bare app right before it)." % data["check_python_repeat"])
    add("")
    rows = []
    for row in data["check_python"]:
        rows.append(["{:,}".format(row["files"]), "%.0f ns" % row["bare_ns"]] +
                    [fmt_extra(row[k]) for k in ("pyfresh", "pyfresh poll 1s", "pyfresh poll 0", "naive")])
    add(table(["module files", "bare app call", PY_LABELS["pyfresh"], PY_LABELS["pyfresh poll 1s"],
               PY_LABELS["pyfresh poll 0"], PY_LABELS["naive"]], rows))
    add("")

    # -- 2. throughput
    add("## 2. Throughput under wrk")
    add("")
    args = data["args"]
    add("%s`wrk -t%d -c%d -d%ds` per run after a %d s warm-up of each server; %d rounds, each variant once per "
        "round, back to back, the order rotated every round. The ratio is the median of the per-round "
        "ratios to the baseline (same round). *CPU µs/req*: CPU time of the server's processes per request; "
        "*CPU ratio*: baseline's CPU per request / the variant's (median of the rounds). A round during "
        "which other processes used more than %.1f CPUs is run again (at most %d times). This VM reports no "
        "steal time: phases in which other VMs on the host slow it down (seen: every variant's CPU per request "
        "50 %% higher for several seconds) do not show as other load, so rounds are short and the figure is "
        "a median. "
        "Apps: *hello* (3 modules, answers a string) and *Flask* (%s modules under one package: 20 blueprints "
        "of 49 modules, `/` answers a string; generated by `bench/bench_apps.py`)." % (
            pin_text(args), args["threads"], args["connections"], args["duration"], args["warmup"], args["runs"],
            uwsgi_bench.DISTURBED_CPUS, apache_bench.RERUNS,
            "{:,}".format(data["throughput"].get("uwsgi_flask", {}).get("off", {}).get("modules", 1004))))
    add("")
    add("**uWSGI** 2.0.21: `master`, `processes = %d`, `http-socket` on 127.0.0.1 (with `add-header = "
        "Connection: close`, so wrk reconnects instead of counting a read error per request), "
        "`disable-logging`; each variant its own instance and copy of the app "
        "(`bench/uwsgi_bench.py`)." % args["processes"])
    add("")
    def throughput_tables(server, keys, labels, baseline):
        for key, title in zip(keys, ("hello app", "Flask app, ~1,000 modules")):
            s = data["throughput"].get(key)
            if not s:
                continue
            add("*%s* — %s." % (title, others_note([o for v in s.values() for o in v["others"]])))
            add("")
            add(table(["%s, %s" % (server, title), "requests/s per round", "median", "ratio to %s" % baseline,
                       "per-round ratios", "CPU µs/req", "CPU ratio"], throughput_rows(s, labels, baseline)))
            add("")
            if disturbed_note(s, baseline):
                add(disturbed_note(s, baseline))
                add("")

    throughput_tables("uWSGI", ("uwsgi_hello", "uwsgi_flask"), UWSGI_LABELS, "off")
    add("**Apache** 2.4 + mod_wsgi 4.9.4 daemon mode: event MPM, one `WSGIDaemonProcess threads=4` per "
        "virtual host, `WSGIApplicationGroup %{GLOBAL}`, keep-alive; three virtual hosts per httpd, one per "
        "variant. Two alike virtual hosts of one httpd differ by a few per cent by themselves "
        "(`bench/apache_bench.py`), so the rounds are spread over three httpds with the roles moved on by one "
        "host (`bench/apache_variants.py`, server settings from `bench/apache_bench.py`).")
    add("")
    throughput_tables("Apache", ("apache_hello", "apache_flask"), APACHE_LABELS, "plain")

    # -- 3. saves
    add("## 3. Save → first response with the new code")
    add("")
    add("An editor's save (temp file renamed over `views.py`), then one keep-alive client polls as fast as it "
        "can until a 200 response carries the new text; meanwhile %d other clients (a separate process) send "
        "%g requests/s each to the same site (light load). *failed*: requests not answered 200 (or not at all) "
        "— by the polling client, and by the other clients over the whole series. *worst request*: the "
        "slowest single request of either during the series. *ratio*: the mechanism's median / pyfresh's "
        "median in the same run. *pyfresh's reload*: the median time of the reloads pyfresh logged "
        "(`reloaded ... in N ms`: re-importing the package in one worker), part of the time to the new "
        "code." % (args["load_clients"], args["load_rate"]))
    add("")
    for key, title in (("uwsgi_hello", "uWSGI (master, processes = %d), hello app" % args["processes"]),
                       ("uwsgi_flask", "uWSGI (master, processes = %d), Flask app, ~1,000 modules"
                        % args["processes"]),
                       ("apache", "Apache + mod_wsgi daemon mode (threads=4), hello app "
                                  "(`bench/apache_bench.py`'s servers and timing)")):
        r = data["saves"].get(key)
        if not r:
            continue
        add("*%s*" % title)
        add("")
        add(table(["mechanism", "seen", "median", "min", "max", "ratio", "pyfresh's reload", "failed (polling)",
                   "failed (others)", "worst request"], saves_rows(r)))
        add("")
    add("uWSGI's `py-autoreload` thread takes the files' mtimes (whole seconds) as its baseline on its "
        "first scan, one interval after a worker starts: a save in that first second after a (re)start is "
        "never noticed (it happened in a trial run with a save right after startup). The series here "
        "starts %.0f s after startup and waits as long after each reload; see `bench/uwsgi_bench.py`."
        % uwsgi_bench.SETTLE_AFTER_START)
    add("")

    # -- 4. memory
    add("## 4. Memory kept per reload")
    add("")
    add("RSS growth of the single worker of a `processes = 1` uWSGI instance over N reloads (each: save "
        "`views.py` with a new message, then requests until it is served), after a warm-up: the "
        "least-squares slope of the RSS read after every reload (garbage the cycle collector has not yet "
        "freed counts too; the first and last RSS are in brackets; *1st / 2nd half*: the slope over each half "
        "of the series — growth that levels off is the allocator settling, growth that keeps its pace is "
        "memory kept for good). *uWSGI's "
        "loader*: the python plugin's own `module = pkg.mod:callable` loader (`uwsgi_uwsgi_loader`, called "
        "through ctypes from a bench-only entry module) after clearing the package from `sys.modules` — "
        "what a reloader built on uWSGI's loader does. It takes a new reference to the module it imports "
        "and never releases it, so every old version of the module stays alive.")
    add("")
    rows = []
    for kind, title in (("hello", "hello app (3 modules)"), ("flask", "Flask app, ~1,000 modules")):
        r = data.get("memory", {}).get(kind)
        if not r:
            continue
        p, u = r["pyfresh"], r["uwsgi-loader"]
        rows.append([title, "%d (+%d warm-up)" % (p["reloads"], p["warmup"]),
                     "**%s** (%s → %s KB)" % (fmt_kb(p["kb_per_reload"]), "{:,}".format(p["rss_before_kb"]),
                                              "{:,}".format(p["rss_after_kb"])),
                     "%s (%s → %s KB)" % (fmt_kb(u["kb_per_reload"]), "{:,}".format(u["rss_before_kb"]),
                                          "{:,}".format(u["rss_after_kb"])),
                     fmt_ratio(u["kb_per_reload"] / p["kb_per_reload"]) if p["kb_per_reload"] > 0.05 else "-",
                     "%s / %s" % (fmt_kb(p.get("first_half_kb_per_reload", 0.0)),
                                  fmt_kb(p.get("second_half_kb_per_reload", 0.0))),
                     "%s / %s" % (fmt_kb(u.get("first_half_kb_per_reload", 0.0)),
                                  fmt_kb(u.get("second_half_kb_per_reload", 0.0)))])
    add(table(["app", "reloads", "pyfresh, per reload", "uWSGI's loader, per reload", "loader / pyfresh",
               "pyfresh: 1st / 2nd half", "loader: 1st / 2nd half"], rows, ["l", "r", "r", "r", "r", "r", "r"]))
    add("")

    # -- notes
    notes = result_notes(data)
    if notes:
        add("## Notes on these results")
        add("")
        for note in notes:
            add("- " + note)
        add("")

    # -- method
    add("## How it was measured")
    add("")
    add("- Servers: real uWSGI and Apache from Debian, started by the test harnesses "
        "(`tests/support/pyfresh_testsupport/uwsgi_harness.py`, `tests/support/pyfresh_testsupport/apache_harness.py`) with their own config, pid and "
        "log files in temp dirs, on free 127.0.0.1 ports, with the build tree's plugin, module and package; "
        "stopped by pid. Bytecode is written as on a real deployment (Apache: the app belongs to www-data).")
    add("- Both CPUs are shared by wrk, the servers and the clients: absolute requests/s are low and "
        "depend on the rest of the machine; compare within a table. Ratios come from runs taken back to "
        "back, medians of per-round ratios.")
    add("- At the start of the run other processes used %.2f CPUs%s." % (
        data["quiet"]["busy_at_start"],
        "" if data["quiet"]["busy_at_start"] <= 0.3 else " (the run had waited up to %.0f s for less)"
        % min(60.0, data["quiet"]["max_wait"])))
    add("- Sections and how long they took: %s; %.0f s in all." % (
        ", ".join("%s %.0f s" % (name, seconds) for name, seconds in data["timings"]), data["elapsed"]))
    add("")
    if data.get("django"):
        add(django_bench.markdown(data["django"]))
    elif data.get("django_error"):
        add("## Django project\n\nNot measured in this run: %s\n" % data["django_error"])
    text = "\n".join(lines)
    with open(path, "w") as handle:
        handle.write(text + sections_kept_from(path, text))


def sections_kept_from(path, text):
    """The "## " sections of the report at `path` that this script does not
    write (bench/live_reload_bench.py, bench/test_loop_bench.py, ... append
    their own), in their order, so a full run does not drop them."""
    try:
        with open(path) as handle:
            old = handle.read()
    except FileNotFoundError:
        return ""
    own = set(re.findall(r"^## (.*)$", text, re.M))
    kept = [section for section in re.split(r"(?m)^(?=## )", old)[1:]
            if section.split("\n", 1)[0][3:] not in own]
    return "".join("\n" + section.rstrip("\n") + "\n" for section in kept)


# -- main -------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    uwsgi_bench.add_arguments(parser)
    parser.add_argument("--quick", action="store_true",
                        help="a short smoke run (1 round of 2 s, few saves); the report says so")
    parser.add_argument("--check-repetitions", type=int, default=5)
    parser.add_argument("--flask-saves", type=int, default=10, help="pyfresh saves of the Flask app (default 10)")
    parser.add_argument("--modwsgi-saves", type=int, default=5, help="mod_wsgi reloads timed (default 5)")
    parser.add_argument("--flask-memory-reloads", type=int, default=60)
    parser.add_argument("--quiet-wait", type=float, default=120.0,
                        help="in all, wait at most this long for other load to fall below 0.3 CPUs before "
                             "the measurements (default 120 s)")
    parser.add_argument("--out", default=os.path.join(SOURCE_DIR, "docs", "benchmarks.md"))
    parser.add_argument("--img-dir", default=os.path.join(SOURCE_DIR, "docs", "img"))
    parser.add_argument("--json", default=os.path.join(HERE, "results", "benchmarks.json"))
    parser.add_argument("--from-json", metavar="FILE",
                        help="measure nothing: write the report and plots again from a results file")
    args = parser.parse_args()
    if args.from_json:
        with open(args.from_json) as handle:
            data = json.load(handle)
        data["check"]["rows"] = {int(files): row for files, row in data["check"]["rows"].items()}
        write_outputs(args, data)
        return
    if args.quick:
        args.runs, args.duration, args.warmup = 1, 2, 1
        args.saves, args.reload_saves, args.flask_saves, args.modwsgi_saves = 5, 2, 3, 2
        args.memory_reloads, args.memory_warmup, args.flask_memory_reloads = 30, 5, 3
        args.check_repetitions = 2
        args.quiet_wait = 0
    uwsgi_bench.check_arguments(parser, args)
    if not (1 <= args.check_repetitions <= 20 and 1 <= args.flask_saves <= 100 and 1 <= args.modwsgi_saves <= 20
            and 0 <= args.flask_memory_reloads <= 200 and 0 <= args.quiet_wait <= 900):
        parser.error("keep the run bounded")
    if shutil.which("gnuplot") is None:
        sys.exit("gnuplot is not installed (apt-get install gnuplot-nox; scripts/install-deps.sh installs it)")
    for needed in ("bench/check_bench", "apache_module/mod_pyfresh.so", "apache_module/pyfresh.wsgi"):
        if not os.path.exists(os.path.join(args.build_dir, needed)):
            sys.exit("%s is missing: build everything first (bash bench/run-all.sh builds)"
                     % os.path.join(args.build_dir, needed))
    command = os.environ.get("PYFRESH_BENCH_COMMAND") or shlex.join(["/usr/bin/python3", "bench/report.py"] +
                                                                    sys.argv[1:])
    started = time.monotonic()
    timings = []
    data = {"command": command, "machine": machine(), "args": {
        k: getattr(args, k) for k in ("runs", "duration", "warmup", "connections", "threads", "processes", "saves",
                                      "reload_saves", "flask_saves", "modwsgi_saves", "save_timeout",
                                      "load_clients", "load_rate", "memory_reloads", "memory_warmup",
                                      "flask_memory_reloads", "quick", "pin")},
        "throughput": {}, "saves": {}, "memory": {}, "check_python_repeat": 5}
    log("pyfresh benchmarks: %s" % command)
    log("machine: %(nproc)s CPUs, %(cpu)s, Linux %(kernel)s" % data["machine"])

    def section(name):
        section.started = time.monotonic()
        section.name = name
        log()
        log("== %s" % name)

    def done():
        timings.append((section.name, time.monotonic() - section.started))
        log("   (%.0f s)" % timings[-1][1])

    # The waits for a quiet machine share one budget (--quiet-wait).
    quiet_deadline = time.monotonic() + args.quiet_wait

    def quiet_budget(most):
        return max(0.0, min(most, quiet_deadline - time.monotonic()))

    section("waiting for a quiet machine")
    busy, samples = wait_for_quiet(os.cpu_count() or 1, 0.3, quiet_budget(60.0))
    data["quiet"] = {"busy_at_start": busy, "samples": samples, "max_wait": args.quiet_wait}
    log("  other processes use %.2f CPUs" % busy)
    done()

    section("1. check cost: C++ core (check_bench)")
    data["check"] = run_check_bench(args.build_dir, args.check_repetitions, 0.1)
    for files, row in sorted(data["check"]["rows"].items()):
        log("  %6d files: %s" % (files, ", ".join("%s %s" % (k, fmt_ns(v["cpu_ns"])) for k, v in row.items())))
    done()

    section("1. check cost: whole WSGI call in Python")
    repeat = 3 if args.quick else 5
    data["check_python_repeat"] = repeat
    data["check_python"] = run_check_python(args.build_dir, 0.05 if args.quick else 0.15, repeat)
    done()

    uwsgi_harness = uwsgi_bench.load_harness(args.build_dir)
    apache_harness = apache_bench.load_harness(args.build_dir)
    for kind in ("hello", "flask"):
        wait_for_quiet(os.cpu_count() or 1, 0.3, quiet_budget(45.0))
        section("2. throughput: uWSGI, %s app" % kind)
        data["throughput"]["uwsgi_%s" % kind] = uwsgi_bench.uwsgi_throughput(args, uwsgi_harness, args.build_dir,
                                                                            kind, log=log)
        done()
        wait_for_quiet(os.cpu_count() or 1, 0.3, quiet_budget(45.0))
        section("2. throughput: Apache daemon mode, %s app" % kind)
        data["throughput"]["apache_%s" % kind] = apache_variants.apache_throughput(args, apache_harness, kind,
                                                                                  log=log)
        done()

    section("3. save -> new code: uWSGI, hello app")
    data["saves"]["uwsgi_hello"] = uwsgi_bench.uwsgi_saves(args, uwsgi_harness, args.build_dir, "hello", log=log)
    done()
    section("3. save -> new code: uWSGI, Flask app")
    flask_args = argparse.Namespace(**vars(args))
    flask_args.saves = args.flask_saves
    data["saves"]["uwsgi_flask"] = uwsgi_bench.uwsgi_saves(flask_args, uwsgi_harness, args.build_dir, "flask",
                                                           log=log)
    done()
    section("3. save -> new code: Apache daemon mode, hello app")
    apache_args = argparse.Namespace(saves=args.saves, modwsgi_saves=args.modwsgi_saves,
                                     save_timeout=args.save_timeout, load_rate=args.load_rate)
    server = apache_bench.Server(apache_harness, "a")
    try:
        raw = apache_bench.measure_saves(apache_args, server, args.load_clients)
        times = uwsgi_bench.reload_times(server.httpd.log())
    finally:
        server.stop()
    data["saves"]["apache"] = {name: apache_saves_summary(result) for name, result in raw.items()}
    if times:
        data["saves"]["apache"]["pyfresh"]["reload_times"] = times
        data["saves"]["apache"]["pyfresh"]["reload_median"] = statistics.median(times)
    done()

    section("4. memory per reload (uWSGI)")
    data["memory"]["hello"] = uwsgi_bench.memory_per_reload(uwsgi_harness, args.build_dir, args.memory_reloads,
                                                            args.memory_warmup, "hello", log=log)
    if args.flask_memory_reloads:
        data["memory"]["flask"] = uwsgi_bench.memory_per_reload(
            uwsgi_harness, args.build_dir, args.flask_memory_reloads, 3 if args.quick else 10, "flask", log=log)
    done()

    section("5. Django project (bench/django_bench.py)")
    django_section(args, data, command)
    done()

    data["timings"] = timings
    data["elapsed"] = time.monotonic() - started
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(data, handle, indent=1, default=str)
    write_outputs(args, data)


def django_section(args, data, command):
    """bench/django_bench.py's figures into data["django"]; a failure there
    is logged and noted, and the rest of the report is written as usual."""
    try:
        data["django"] = django_bench.run(django_bench.report_arguments(args.build_dir, args.quick, command), log=log)
    except Exception as error:  # noqa: BLE001 (any failure: the other sections stand)
        log("  the Django benchmark failed: %s: %s" % (type(error).__name__, error))
        data["django_error"] = "%s: %s" % (type(error).__name__, error)


def write_outputs(args, data):
    os.makedirs(args.img_dir, exist_ok=True)
    plots = []
    check_png = os.path.join(args.img_dir, "check-cost.png")
    plot_check_cost(data["check"], data["check_python"], check_png)
    plots.append((check_png, "Per-request check cost against tracked files, log-log"))
    saves_png = os.path.join(args.img_dir, "save-to-new-code.png")
    if plot_saves(data["saves"], saves_png):
        plots.append((saves_png, "Save to first response with the new code, log scale"))
    write_markdown(args.out, data, plots)
    log()
    log("wrote %s and %s (the run took %.0f s)" % (args.out, ", ".join(p[0] for p in plots), data["elapsed"]))


if __name__ == "__main__":
    main()
