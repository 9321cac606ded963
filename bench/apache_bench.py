#!/usr/bin/python3
"""pyfresh under Apache + mod_wsgi (daemon mode, threads=4, %{GLOBAL}): what
`PyFresh On` costs under wrk, and how long a save takes to reach a response.

    /usr/bin/python3 bench/apache_bench.py            # after building into build/

Each httpd it starts (tests/support/pyfresh_testsupport/apache_harness.py: own config, pid and
state in a temp dir, free loopback port, clean environment, bytecode writing
on, served as www-data when run as root) has two virtual hosts, a.test and
b.test, alike in everything (a WSGIDaemonProcess threads=4 each, %{GLOBAL},
the same small app in their own directories) except how the app is served:

  pyfresh  WSGIScriptAlias to pyfresh's entry script, `PyFresh On`,
           PyFreshApp benchapp.main:application, PyFreshPackages benchapp
  plain    WSGIScriptAlias to a .wsgi that imports the app (no PyFresh*
           directive applies there): mod_wsgi without pyfresh

It prints
  (a) requests/s under wrk, and the server's CPU time per request (httpd and
      its daemon processes, from /proc), for both. Runs go in back-to-back
      pairs (on, plain | plain, on | ...) so that drift affects both alike,
      and on two servers with the roles of a.test and b.test swapped, so that
      a difference between the two virtual hosts themselves cancels out (an
      A/A run, both plain, showed a few per cent, as much as the target
      allows): each ratio is the
      geometric mean of the two servers' medians of the pair ratios. httpd
      (all its processes and threads) runs pinned to the last CPU and wrk to
      the others, which keeps them from disturbing each other. A pair
      during which other processes used CPU is run again (at most twice);
      pairs still disturbed are flagged, and the ratio is also given over
      the undisturbed pairs alone. Contention from outside this VM does not
      show in /proc (no steal time here): many short pairs, and the
      median of their ratios, keep a slow phase from deciding the figure.
  (b) the time from saving a file to the first response with the new code,
      measured by one keep-alive client polling as fast as it can: pyfresh
      (atomic save of views.py) vs. mod_wsgi's own daemon-mode reloading
      (the same save, then touch the .wsgi script; WSGIScriptReloading On is
      mod_wsgi's default); with the failed (non-200 or no answer) requests
      and the slowest single request of the polling window. Measured twice:
      with the polling client alone, and while other clients (a separate
      process, fixed request rate) use the same site; their failed requests
      and slowest request over the series are reported too.

Every loop is bounded in count and time; each server is stopped by its pid.
"""

import argparse
import http.client
import importlib
import math
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(HERE)
sys.path.insert(0, HERE)
# The harnesses the tests use, imported the same way (pyfresh_testsupport).
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))

import bench_apps  # noqa: E402

PACKAGE = "benchapp"
SLOTS = ("a", "b")

MAIN_MODULE = bench_apps.HELLO_MAIN
VIEWS_MODULE = bench_apps.VIEWS_MODULE

PLAIN_WSGI = """\
# Plain mod_wsgi: the app imported once, no pyfresh.
from benchapp.main import application  # noqa: F401
"""

# Enough Apache threads for wrk's connections; keep-alive connections are
# never closed by the server in the middle of a wrk run.
SERVER_CONFIG = """\
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 2
    ThreadsPerChild 32
    MaxRequestWorkers 64
    MinSpareThreads 4
    MaxSpareThreads 64
</IfModule>
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
WSGIRestrictEmbedded On
"""

VHOST = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName @SLOT@.test
    WSGIDaemonProcess bench_@SLOT@ python-path=@APPS@/@SLOT@:@PYTHON@ home=@APPS@/@SLOT@ threads=4 display-name=pyfresh-bench-@SLOT@
    WSGIProcessGroup bench_@SLOT@
    WSGIApplicationGroup %{GLOBAL}
@SERVE@
</VirtualHost>
"""

PYFRESH_SERVING = """\
    WSGIScriptAlias / @ENTRY@
    PyFresh On
    PyFreshApp benchapp.main:application
    PyFreshPackages benchapp
"""

PLAIN_SERVING = """\
    WSGIScriptAlias / @APPS@/@SLOT@/plain.wsgi
"""


def load_test_harness(name, build_dir):
    """The server harness pyfresh_testsupport.`name` of the tests (it finds
    the build through PYFRESH_BUILD_DIR)."""
    os.environ["PYFRESH_BUILD_DIR"] = build_dir
    return importlib.import_module("pyfresh_testsupport." + name)


def load_harness(build_dir):
    return load_test_harness("apache_harness", build_dir)


# -- the app on disk -----------------------------------------------------------------


def save(path, text):
    """An editor's atomic save: a temp file renamed over the original."""
    temp = os.path.join(os.path.dirname(path), ".%s.bench-tmp" % os.path.basename(path))
    with open(temp, "w") as handle:
        handle.write(text)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


def write_site(workspace, slot):
    """<apps>/<slot>/benchapp/{__init__,main,views}.py and
    <apps>/<slot>/plain.wsgi; returns the path of views.py."""
    root = workspace.path("apps", slot)
    package = os.path.join(root, PACKAGE)
    os.makedirs(package)
    save(os.path.join(package, "__init__.py"), "")
    save(os.path.join(package, "main.py"), MAIN_MODULE)
    views = os.path.join(package, "views.py")
    save(views, VIEWS_MODULE.format(message="%s v0" % slot))
    save(os.path.join(root, "plain.wsgi"), PLAIN_WSGI)
    for directory in (workspace.path("apps"), root):
        os.chmod(directory, 0o755)
    workspace.give_to_run_user(root)  # bytecode is written, as in production
    return views


def vhosts(pyfresh_slot):
    """Both slots alike but for how the app is served."""
    blocks = []
    for slot in SLOTS:
        serve = PYFRESH_SERVING if slot == pyfresh_slot else PLAIN_SERVING
        blocks.append(VHOST.replace("@SERVE@", serve.rstrip("\n")).replace("@SLOT@", slot))
    return '<Directory "@APPS@">\n    Require all granted\n</Directory>\n\n' + "\n".join(blocks)


class HttpdServer:
    """What every benchmark httpd offers: its port, its session (its
    processes, for pinning and CPU accounting) and a stop that also removes
    its workspace. Subclasses set self.workspace and self.httpd."""

    workspace = None
    httpd = None

    @property
    def port(self):
        return self.httpd.port

    @property
    def session(self):
        return self.httpd.process.pid  # it leads its own session

    def stop(self):
        if self.httpd is not None:
            self.httpd.stop()
            self.httpd = None
        if self.workspace is not None:
            self.workspace.cleanup()


class Server(HttpdServer):
    """One httpd with the two slots; pyfresh serves `pyfresh_slot`."""

    def __init__(self, harness, pyfresh_slot):
        self.pyfresh_slot = pyfresh_slot
        self.plain_slot = [slot for slot in SLOTS if slot != pyfresh_slot][0]
        self.workspace = harness.Workspace(prefix="pyfresh-apache-bench-")
        self.httpd = None
        try:
            self.views = {slot: write_site(self.workspace, slot) for slot in SLOTS}
            self.httpd = harness.Httpd(self.workspace, vhosts(pyfresh_slot), mpm="event", mpm_config=SERVER_CONFIG)
            self.httpd.start()
            for slot in SLOTS:
                poller = Poller(self.port, host_of(slot), timeout=20)
                ok = wait_for_body(poller, "%s v0" % slot, timeout=30)
                poller.close()
                if not ok:
                    raise RuntimeError("%s does not answer as expected:\n%s" % (host_of(slot), self.httpd.log()[-3000:]))
        except BaseException:
            self.stop()
            raise

    def plain_script(self):
        return self.workspace.path("apps", self.plain_slot, "plain.wsgi")


def host_of(slot):
    return "%s.test" % slot


# -- a light HTTP client ---------------------------------------------------------------


class Poller:
    """One keep-alive connection, reopened when the server closed it; GETs
    `path` (bench/django_bench.py asks for a page of the Django project)."""

    def __init__(self, port, host, timeout, path="/"):
        self.port = port
        self.host = host
        self.timeout = timeout
        self.path = path
        self.connection = None

    def get(self):
        """(status, body) or (None, error text)."""
        for attempt in (0, 1):
            reused = self.connection is not None
            if not reused:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.connection.request("GET", self.path, headers={"Host": self.host})
                response = self.connection.getresponse()
                body = response.read().decode("utf-8", "replace")
                if response.will_close:
                    self.close()
                return response.status, body
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
                self.close()
                if reused and attempt == 0:
                    continue  # a keep-alive connection the server had closed: not a failure
                return None, "%s: %s" % (type(error).__name__, error)
            except (OSError, http.client.HTTPException) as error:
                self.close()
                return None, "%s: %s" % (type(error).__name__, error)
        return None, "unreachable"

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def wait_for_body(poller, expected, timeout, shows=str.__eq__):
    """Polls until the body is `expected` (or shows(body, expected));
    bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = poller.get()
        if status == 200 and shows(body, expected):
            return True
        time.sleep(0.05)
    return False


def time_saves(poller, views_path, label, count, timeout, pause, touch=None, write=None, shows=None,
               failure_pause=0.0):
    """For each of `count` saves: seconds from the save to the first 200
    response with the new text; also failed requests, the slowest one, and
    how often the first request after a save still got the old text.
    By default a save writes VIEWS_MODULE into `views_path` and the body
    must be the message; `write(message)` and `shows(body, message)` replace
    both (another file, a page that contains the message). After a request
    that got no answer (a refused connection while a server restarts), it
    waits `failure_pause` seconds rather than spinning on the CPU the
    restarting server needs."""
    if shows is None:
        shows = str.__eq__
    delays, failed, worst, requests, timeouts, errors, first_old = [], 0, 0.0, 0, 0, [], 0
    for index in range(1, count + 1):
        message = "%s save %d %s" % (label, index, os.urandom(4).hex())
        started = time.perf_counter()
        if write is None:
            save(views_path, VIEWS_MODULE.format(message=message))
        else:
            write(message)
        if touch is not None:
            os.utime(touch)  # mod_wsgi: the script's mtime changed
        deadline = started + timeout
        seen = False
        first = True
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            status, body = poller.get()
            now = time.perf_counter()
            requests += 1
            worst = max(worst, now - sent)
            if first and status == 200 and not shows(body, message):
                first_old += 1
            first = False
            if status != 200:
                failed += 1
                if len(errors) < 3:
                    errors.append("%s %s" % (status, body.strip()[:120]))
                if status is None and failure_pause:
                    time.sleep(failure_pause)
                continue
            if shows(body, message):
                delays.append(now - started)
                seen = True
                break
        if not seen:
            timeouts += 1
        time.sleep(pause)
    return {"delays": delays, "failed": failed, "worst": worst, "requests": requests,
            "timeouts": timeouts, "saves": count, "errors": errors, "first_old": first_old}


# -- wrk -------------------------------------------------------------------------------


def wrk_command(args, port, host, duration):
    command = ["wrk", "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % duration,
               "-H", "Host: %s" % host, "http://127.0.0.1:%d/" % port]
    if args.pin:
        command = ["taskset", "-c", ",".join(str(cpu) for cpu in args.pin[0])] + command
    return command


def cpu_split():
    """(client CPUs, server CPUs): the last CPU for httpd, the others for
    wrk; None with fewer than 2 CPUs."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return cpus[:-1], cpus[-1:]


def process_stats():
    """(pid text, fields) of every process; fields[0] is /proc/PID/stat's
    field 3 (state), so field N is fields[N - 3]."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                data = handle.read()
        except OSError:
            continue  # it ended meanwhile
        yield entry, data[data.rindex(")") + 2:].split()


def pin_session(session, cpus):
    """Every thread of every process of the httpd session onto `cpus`
    (processes forked later inherit it from the parent)."""
    for entry, fields in process_stats():
        if int(fields[3]) != session:  # field 6: session
            continue
        try:
            threads = os.listdir("/proc/%s/task" % entry)
        except OSError:
            continue
        for thread in threads:
            try:
                os.sched_setaffinity(int(thread), cpus)
            except OSError:
                pass  # it ended meanwhile


def process_cpu_seconds(session):
    """CPU time (user + system) used so far by (1) the processes of the
    httpd session: the parent, its children and the WSGI daemon processes,
    and (2) kernel threads (ksoftirqd and kworkers carry part of the
    loopback traffic)."""
    server = kernel = 0
    for entry, fields in process_stats():
        ticks = int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
        if int(fields[3]) == session:  # field 6: session
            server += ticks
        elif entry == "2" or fields[1] == "2":  # kthreadd and its children
            kernel += ticks
    hz = os.sysconf("SC_CLK_TCK")
    return server / hz, kernel / hz


def machine_busy_seconds():
    """CPU time spent so far in processes on all CPUs, plus time the
    hypervisor took (/proc/stat user, nice, system, steal). Interrupt and
    softirq time is left out: loopback networking for the benchmark itself
    is accounted there, not to any process."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = fields
    return (user + nice + system + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    """This process and its reaped children (wrk)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_wrk(args, port, host, duration, session=None):
    command = wrk_command(args, port, host, duration)
    cpu_before, kernel_before = process_cpu_seconds(session)
    busy_before, own_before, wall_before = machine_busy_seconds(), own_cpu_seconds(), time.monotonic()
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, timeout=duration + 60)
    cpu_after, kernel_after = process_cpu_seconds(session)
    cpu = cpu_after - cpu_before
    # CPU used meanwhile by other processes (not httpd, wrk, this script or
    # kernel threads): noise.
    others = (machine_busy_seconds() - busy_before - (own_cpu_seconds() - own_before) - cpu
              - (kernel_after - kernel_before)) / max(time.monotonic() - wall_before, 1e-3)
    output = result.stdout.decode("utf-8", "replace")
    match = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    count = re.search(r"^\s*(\d+) requests in", output, re.M)
    if result.returncode != 0 or not match or not count:
        raise RuntimeError("wrk failed (%d):\n%s" % (result.returncode, output))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    requests = int(count.group(1))
    return {"rps": float(match.group(1)), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": socket_errors.group(0) if socket_errors else "",
            "cpu_us": cpu / requests * 1e6 if requests else 0.0, "others": max(others, 0.0)}


# A run during which processes other than the server, wrk and this script
# used more CPUs than this counts as disturbed, and its round is run again.
QUIET = 0.1
# At most this many repeats of one disturbed round: on a busy machine the
# benchmark ends anyway, with the disturbed rounds flagged.
RERUNS = 2


def describe_run(result):
    """One wrk run's figures, for the progress lines."""
    return "%8.0f req/s %7.1f us server CPU/request, other processes %.2f CPUs%s" % (
        result["rps"], result.get("cpu_us", 0.0), result.get("others", 0.0),
        ("  non-2xx: %d" % result["non2xx"] if result.get("non2xx") else "") +
        ("  " + result["socket_errors"] if result.get("socket_errors") else ""))


def run_round(args, order, endpoint, show, log=print, quiet=QUIET):
    """One wrk run per name in `order` (endpoint(name) -> (port, host,
    session)), the server pinned before each. While other processes used more
    than `quiet` CPUs during any run of the round, the whole round again, at
    most RERUNS times: the pair ratios compare runs made under the same
    conditions. show(name, result) prints a run. ({name: result}, repeats)."""
    for attempt in range(RERUNS + 1):
        results = {}
        for name in order:
            port, host, session = endpoint(name)
            if args.pin:
                pin_session(session, args.pin[1])  # threads started since are caught too
            results[name] = run_wrk(args, port, host, args.duration, session)
            show(name, results[name])
        busy = max(result["others"] for result in results.values())
        if busy <= quiet or attempt == RERUNS:
            return results, attempt
        log("    other processes used %.2f CPUs during that round: running it again" % busy)
    raise AssertionError("unreachable")


def throughput(args, server):
    """`args.runs` back-to-back pairs (on, plain | plain, on | ...) on one
    server; {"on": [result...], "plain": [result...], "reruns": rounds run
    again}, index i = pair i."""
    hosts = {"on": host_of(server.pyfresh_slot), "plain": host_of(server.plain_slot)}
    if args.pin:
        pin_session(server.session, args.pin[1])
    for kind in ("on", "plain"):  # warm-up, not counted
        run_wrk(args, server.port, hosts[kind], args.warmup)
    results = {"on": [], "plain": [], "reruns": 0}

    def show(kind, result):
        print("  %-5s (%s) %s" % (kind, hosts[kind], describe_run(result)), flush=True)

    for index in range(args.runs):
        order = ("on", "plain") if index % 2 == 0 else ("plain", "on")
        pair, reruns = run_round(args, order, lambda kind: (server.port, hosts[kind], server.session), show)
        results["reruns"] += reruns
        for kind in order:
            results[kind].append(pair[kind])
    if args.pin:
        pin_session(server.session, os.sched_getaffinity(0))  # (b) runs unpinned
    return results


# -- background users of the site during (b) ---------------------------------------------


def load_child(port, host, clients, rate, max_seconds, path="/"):
    """`--load-child`: `clients` threads, each sending `rate` requests/s to
    `host` until stdin closes (or max_seconds); prints a JSON summary."""
    import json
    import threading

    stop = threading.Event()
    lock = threading.Lock()
    totals = {"requests": 0, "failed": 0, "worst": 0.0, "errors": []}

    def client():
        poller = Poller(port, host, timeout=20, path=path)
        interval = 1.0 / rate
        next_at = time.perf_counter()
        while not stop.is_set():
            sent = time.perf_counter()
            status, body = poller.get()
            elapsed = time.perf_counter() - sent
            with lock:
                totals["requests"] += 1
                totals["worst"] = max(totals["worst"], elapsed)
                if status != 200:
                    totals["failed"] += 1
                    if len(totals["errors"]) < 3:
                        totals["errors"].append("%s %s" % (status, body.strip()[:120]))
            next_at = max(next_at + interval, time.perf_counter())
            stop.wait(next_at - time.perf_counter())
        poller.close()

    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    stop.wait(max_seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=25)
    print(json.dumps(totals), flush=True)


class BackgroundLoad:
    """The load child, started and stopped around one series of saves."""

    def __init__(self, port, host, clients, rate, max_seconds, path="/"):
        self.process = None
        if clients > 0:
            self.process = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--load-child", str(port), host, str(clients),
                 str(rate), str(max_seconds), path],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # its clients are connected and sending

    def stop(self):
        if self.process is None:
            return None
        import json
        try:
            out, _ = self.process.communicate(input=b"", timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate(timeout=10)
        try:
            return json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"requests": 0, "failed": 0, "worst": 0.0, "errors": ["load child reported nothing"]}


def measure_saves(args, server, clients):
    results = {}
    for name, slot, count, pause, touch in (
            ("pyfresh", server.pyfresh_slot, args.saves, 0.1, None),
            ("mod_wsgi", server.plain_slot, args.modwsgi_saves, 1.0, server.plain_script())):
        host, views = host_of(slot), server.views[slot]
        load = BackgroundLoad(server.port, host, clients, args.load_rate,
                              max_seconds=count * (args.save_timeout + pause) + 30)
        poller = Poller(server.port, host, timeout=20)
        try:
            result = time_saves(poller, views, name, count, args.save_timeout, pause, touch=touch)
        finally:
            poller.close()
            result_load = load.stop()
        result["load"] = result_load
        results[name] = result
        print("  %-9s %s, %d/%d saves seen%s" % (
            name, "polling client alone" if not clients else "with %d other clients" % clients,
            len(result["delays"]), count,
            ", median %s" % ms(statistics.median(result["delays"])) if result["delays"] else ""), flush=True)
    return results


# -- report ----------------------------------------------------------------------------


def ms(seconds):
    return "%.1f ms" % (seconds * 1000.0) if seconds < 1.0 else "%.2f s" % seconds


def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def summary_row(name, result):
    delays = result["delays"]
    if delays:
        figures = (ms(statistics.median(delays)), ms(min(delays)), ms(max(delays)))
    else:
        figures = ("-", "-", "-")
    seen = "%d/%d" % (len(delays), result["saves"])
    row = "  %-24s %6s %9s %9s %9s %6d %7d %10s %8d" % (
        name, seen, figures[0], figures[1], figures[2], result["requests"], result["failed"], ms(result["worst"]),
        result["first_old"])
    load = result.get("load")
    if load is not None:
        row += "  %7d %7d %10s" % (load["requests"], load["failed"], ms(load["worst"]))
    return row


def print_throughput(args, arrangements):
    """arrangements: [(pyfresh_slot, plain_slot, {"on": [...], "plain": [...]})]."""
    print("(a) throughput under wrk: %d back-to-back pairs of %d s runs per server, 2 servers "
          "(the pyfresh host swapped)" % (args.runs, args.duration))
    runs = "  ".join("%7s" % ("run %d" % (i + 1)) for i in range(args.runs))
    medians = {"all": ([], []), "quiet": ([], [])}  # per server: (requests/s ratios, CPU ratios)
    errors, others, quiet_count, reruns = 0, [], 0, 0
    for pyfresh_slot, plain_slot, results in arrangements:
        print("  server with pyfresh on %s, plain mod_wsgi on %s" % (host_of(pyfresh_slot), host_of(plain_slot)))
        for title, key, form in (("requests/s", "rps", "%7.0f"), ("server CPU us/request", "cpu_us", "%7.1f"),
                                 ("other processes, CPUs", "others", "%7.2f")):
            print("    %-36s %s  %7s" % (title, runs, "median"))
            for kind, label in (("on", "PyFresh On (pyfresh entry script)"),
                                ("plain", "plain mod_wsgi (no pyfresh)")):
                values = [r[key] for r in results[kind]]
                print("    %-36s %s  %s" % (label, "  ".join(form % v for v in values),
                                           form % statistics.median(values)))
        pairs = list(zip(results["on"], results["plain"]))
        quiet = [(on, plain) for on, plain in pairs if max(on["others"], plain["others"]) <= QUIET]
        quiet_count += len(quiet)
        for name, chosen in (("all", pairs), ("quiet", quiet)):
            if chosen:
                medians[name][0].append(statistics.median(on["rps"] / plain["rps"] for on, plain in chosen))
                medians[name][1].append(statistics.median(plain["cpu_us"] / on["cpu_us"] for on, plain in chosen))
        print("    pairs On/plain, requests/s: %s; CPU/request plain/On: %s" % (
            " ".join("%.3f" % (on["rps"] / plain["rps"]) for on, plain in pairs),
            " ".join("%.3f" % (plain["cpu_us"] / on["cpu_us"]) for on, plain in pairs)))
        others += [r["others"] for kind in ("on", "plain") for r in results[kind]]
        errors += sum(r["non2xx"] for kind in ("on", "plain") for r in results[kind])
        reruns += results["reruns"]
    print("  Each ratio: per server the median of its pairs, then the geometric mean of the two servers.")
    total = len(arrangements) * args.runs
    choices = [("all %d pairs" % total, "all")]
    if len(medians["quiet"][0]) == len(arrangements) and quiet_count < total:
        choices.append(("the %d undisturbed pairs" % quiet_count, "quiet"))
    for label, name in choices:
        rps_ratio, cpu_ratio = geometric_mean(medians[name][0]), geometric_mean(medians[name][1])
        print("  RATIO PyFresh On / plain mod_wsgi, %s: requests/s %.3f (target >= 0.97: %s); "
              "from CPU per request %.3f" % (label, rps_ratio, "met" if rps_ratio >= 0.97 else "NOT met", cpu_ratio))
    print("  non-2xx responses: %d. Runs disturbed by other processes (> %.1f of %d CPUs): %d of %d kept; "
          "%d disturbed pairs were run again." % (errors, QUIET, os.cpu_count() or 0,
                                                   sum(1 for value in others if value > QUIET), len(others), reruns))
    if quiet_count < total:
        print("  Other processes were busy during some runs: their pairs can be off by 10 % or more; rerun on an")
        print("  idle machine.")


def print_saves(title, results, args, with_load):
    print(title)
    header = "  %-24s %6s %9s %9s %9s %6s %7s %10s %8s" % (
        "mechanism", "seen", "median", "min", "max", "polls", "failed", "worst req", "1st old")
    if with_load:
        header += "  %7s %7s %10s" % ("others", "failed", "worst req")
    print(header)
    print(summary_row("pyfresh (save views.py)", results["pyfresh"]))
    print(summary_row("mod_wsgi (+ touch .wsgi)", results["mod_wsgi"]))
    for name, result in results.items():
        if result["timeouts"]:
            print("  %s: %d saves not seen within %.0f s" % (name, result["timeouts"], args.save_timeout))
        for error in result["errors"]:
            print("  %s, polling client, failed request: %s" % (name, error))
        for error in (result.get("load") or {}).get("errors", []):
            print("  %s, other clients, failed request: %s" % (name, error))
    pyfresh, modwsgi = results["pyfresh"]["delays"], results["mod_wsgi"]["delays"]
    if pyfresh:
        line = "  pyfresh median %s (target <= 20 ms: %s)" % (
            ms(statistics.median(pyfresh)), "met" if statistics.median(pyfresh) <= 0.020 else "NOT met")
        if modwsgi:
            line += "; mod_wsgi median is %.0fx that" % (statistics.median(modwsgi) / statistics.median(pyfresh))
        print(line)


def main():
    if len(sys.argv) == 8 and sys.argv[1] == "--load-child":
        port, host, clients, rate, max_seconds, path = sys.argv[2:]
        load_child(int(port), host, int(clients), float(rate), float(max_seconds), path)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.environ.get("PYFRESH_BUILD_DIR",
                                                              os.path.join(SOURCE_DIR, "build")))
    parser.add_argument("--runs", type=int, default=10,
                        help="back-to-back wrk pairs per server, 2 servers (default 10: 20 runs per configuration)")
    parser.add_argument("--duration", type=int, default=2, help="seconds per wrk run (default 2)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of uncounted wrk per host (default 2)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--saves", type=int, default=20, help="pyfresh saves timed per pass (default 20)")
    parser.add_argument("--modwsgi-saves", type=int, default=5, help="mod_wsgi reloads timed per pass (default 5)")
    parser.add_argument("--save-timeout", type=float, default=30.0,
                        help="give up on one save after this many seconds (default 30)")
    parser.add_argument("--no-pin", action="store_true",
                        help="in (a), do not pin httpd to the last CPU and wrk to the others")
    parser.add_argument("--load-clients", type=int, default=4,
                        help="other clients of the site in the second pass of (b); 0: no second pass (default 4)")
    parser.add_argument("--load-rate", type=float, default=25.0,
                        help="requests/s of each of those clients (default 25)")
    args = parser.parse_args()
    if not (1 <= args.runs <= 20 and 1 <= args.duration <= 60 and 1 <= args.warmup <= 30
            and 1 <= args.connections <= 1000 and 1 <= args.threads <= 64 and 1 <= args.saves <= 200
            and 1 <= args.modwsgi_saves <= 20 and 0 < args.save_timeout <= 120
            and 0 <= args.load_clients <= 32 and 0 < args.load_rate <= 1000):
        parser.error("keep the run bounded: runs 1-20, duration 1-60 s, warmup 1-30 s, saves 1-200, "
                     "modwsgi-saves 1-20, save-timeout up to 120 s, load-clients 0-32, load-rate up to 1000")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    args.pin = None if args.no_pin or shutil.which("taskset") is None else cpu_split()

    harness = load_harness(os.path.abspath(args.build_dir))
    for path in (harness.module_path(), harness.entry_script()):
        if not os.path.exists(path):
            sys.exit("%s is missing: build first (cmake --build %s)" % (path, args.build_dir))

    command = shlex.join([sys.executable] + sys.argv)
    print("pyfresh Apache benchmark: mod_wsgi daemon mode (threads=4, %%{GLOBAL}), event MPM, 127.0.0.1, "
          "%d CPUs" % (os.cpu_count() or 0))
    print("command: %s" % command)
    arrangements, saves = [], []
    for index, pyfresh_slot in enumerate(SLOTS):
        server = Server(harness, pyfresh_slot)
        try:
            print()
            print("server %d: pyfresh on %s, plain mod_wsgi on %s, port %d" % (
                index + 1, host_of(server.pyfresh_slot), host_of(server.plain_slot), server.port), flush=True)
            arrangements.append((server.pyfresh_slot, server.plain_slot, throughput(args, server)))
            if index == len(SLOTS) - 1:
                print("(b) save -> first response with the new code", flush=True)
                for clients in ([0, args.load_clients] if args.load_clients else [0]):
                    saves.append((clients, measure_saves(args, server, clients)))
        finally:
            server.stop()

    print()
    print("=" * 110)
    print("command: %s" % command)
    print("servers: httpd (event MPM) on 127.0.0.1 with a.test and b.test, each its own WSGIDaemonProcess "
          "threads=4,")
    print("         WSGIApplicationGroup %{GLOBAL}; one serves the app through pyfresh's entry script with "
          "PyFresh On,")
    print("         the other through a plain .wsgi importing the same app")
    print("wrk:     %s" % shlex.join(wrk_command(args, 0, "a.test|b.test", args.duration)).replace(
        "127.0.0.1:0", "127.0.0.1:<port>"))
    if args.pin:
        print("         in (a) httpd and its daemon processes are pinned to CPU %s, wrk to CPU %s (--no-pin: not)"
              % (",".join(map(str, args.pin[1])), ",".join(map(str, args.pin[0]))))
    print()
    print_throughput(args, arrangements)
    for clients, result in saves:
        print()
        print_saves("(b) save -> first response with the new code, %s" % (
            "one polling client alone" if not clients else
            "one polling client + %d other clients at %g req/s each" % (clients, args.load_rate)),
            result, args, with_load=bool(clients))
    print()
    print("  seen: saves whose new code was served within %.0f s. Times run from just before the save to the"
          % args.save_timeout)
    print("  first response with the new code. polls/failed/worst req: the polling client's requests, those")
    print("  not 200 (or unanswered), and its slowest one. 1st old: saves whose first request still got the")
    print("  old code. others: the other clients' requests during the series, failed ones, slowest one.")


if __name__ == "__main__":
    main()
