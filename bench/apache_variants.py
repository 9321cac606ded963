#!/usr/bin/python3
"""Apache + mod_wsgi daemon mode under wrk: plain mod_wsgi / pyfresh /
the naive baseline, for the hello app or the generated ~1,000-module Flask
app (bench/bench_apps.py).

    /usr/bin/python3 bench/apache_variants.py --app flask --build-dir build

Each httpd (bench/apache_bench.py's server settings and virtual host
template: event MPM, one WSGIDaemonProcess threads=4 per virtual host,
%{GLOBAL}) has three virtual hosts a.test, b.test, c.test, alike but for
how the app is served:

  plain    WSGIScriptAlias to a .wsgi that imports the app
  pyfresh  WSGIScriptAlias to pyfresh's entry script, PyFresh On, PyFreshApp, PyFreshPackages
  naive    WSGIScriptAlias to a .wsgi that wraps the app in bench/naive_reloader.py

bench/apache_bench.py found that two alike virtual hosts of one httpd
differ by a few per cent by themselves, so the rounds are spread over three
httpds with the roles moved on by one host (first: a plain, b pyfresh,
c naive; second: a naive, b plain, c pyfresh; third: ...), round i on the
(i mod 3)th, with the wrk order rotated every round; ratios to plain are
the medians of the per-round ratios. As in apache_bench.py, httpd
is pinned to the last CPU and wrk to the others during the runs.
"""

import argparse
import os
import shlex
import shutil
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import apache_bench  # noqa: E402
import bench_apps  # noqa: E402
import uwsgi_bench  # noqa: E402

SLOTS = ("a", "b", "c")
VARIANTS = ("plain", "pyfresh", "naive")

SERVING = {
    "plain": "    WSGIScriptAlias / @APPS@/@SLOT@/plain.wsgi\n",
    "naive": "    WSGIScriptAlias / @APPS@/@SLOT@/naive.wsgi\n",
    "pyfresh": ("    WSGIScriptAlias / @ENTRY@\n"
                "    PyFresh On\n"
                "    PyFreshApp {spec}\n"
                "    PyFreshPackages {package}\n"),
}


class Server(apache_bench.HttpdServer):
    """One httpd; roles: {slot: variant}. With `site` (one role only: the
    project answers whatever Host its ALLOWED_HOSTS allows, site.host),
    the project that site.write(root) writes instead of app `kind`, as
    uwsgi_bench.Server takes it; then the server also offers what
    uwsgi_bench.time_server_saves needs (path, views, variant, touch_file:
    the .wsgi script, shows)."""

    def __init__(self, harness, kind, roles, site=None):
        self.roles = dict(roles)
        self.site = site
        if site is not None and len(self.roles) != 1:
            raise ValueError("a site is served by one virtual host")
        self.workspace = harness.Workspace(prefix="pyfresh-apache-variants-")
        self.httpd = None
        try:
            blocks = []
            self.messages = {}
            for slot, variant in self.roles.items():
                root = self.workspace.path("apps", slot)
                if site is None:
                    message = "%s %s v0" % (kind, variant)
                    package, spec, _views, self.modules = bench_apps.write_app(root, kind, message)
                else:
                    package, spec, self.views, self.modules = site.write(root)
                    message = site.message
                    self.variant, self.path = variant, site.path
                    self.touch_file = os.path.join(root, "plain.wsgi")
                for directory in (self.workspace.path("apps"), root):
                    os.chmod(directory, 0o755)
                self.workspace.give_to_run_user(root)  # bytecode is written, as in production
                self.messages[slot] = message
                serve = SERVING[variant].format(spec=spec, package=package)
                if site is not None and site.exclude and variant == "pyfresh":
                    serve += "    PyFreshExclude %s\n" % site.exclude
                blocks.append(apache_bench.VHOST.replace("@SERVE@", serve.rstrip("\n")).replace("@SLOT@", slot))
            body = '<Directory "@APPS@">\n    Require all granted\n</Directory>\n\n' + "\n".join(blocks)
            self.httpd = harness.Httpd(self.workspace, body, mpm="event", mpm_config=apache_bench.SERVER_CONFIG)
            self.httpd.start()
            for slot in self.roles:
                if site is None:
                    poller = apache_bench.Poller(self.port, host_of(slot), timeout=60)
                    ok = apache_bench.wait_for_body(poller, self.messages[slot], timeout=90)
                else:
                    poller = apache_bench.Poller(self.port, site.host, timeout=60, path=site.path)
                    ok = apache_bench.wait_for_body(poller, self.messages[slot], timeout=90, shows=site.shows)
                poller.close()
                if not ok:
                    raise RuntimeError("%s (%s) does not answer as expected:\n%s" % (
                        host_of(slot), self.roles[slot], self.httpd.log()[-3000:]))
        except BaseException:
            self.stop()
            raise

    def shows(self, body, message):
        return self.site.shows(body, message)


def host_of(slot):
    return "%s.test" % slot


def apache_throughput(args, harness, kind, log=print):
    """`args.runs` rounds on up to three httpds, one per arrangement of the
    roles (round i on arrangement i % 3, with the wrk order rotated by i)."""
    results = {variant: [None] * args.runs for variant in VARIANTS}
    modules = None
    reruns = 0
    for arrangement in range(min(args.runs, len(SLOTS))):
        roles = dict(zip(SLOTS, uwsgi_bench.rotated(VARIANTS, -arrangement)))
        server = Server(harness, kind, roles)
        modules = server.modules
        try:
            endpoints = {variant: (server.port, host_of(slot), server.session) for slot, variant in roles.items()}
            for variant in VARIANTS:
                port, host, session = endpoints[variant]
                uwsgi_bench.pin(args, session)
                apache_bench.run_wrk(args, port, host, args.warmup)
            for index in range(arrangement, args.runs, len(SLOTS)):
                def show(variant, result, index=index):
                    log("    round %d %-8s (%s) %s" % (index + 1, variant, endpoints[variant][1],
                                                   apache_bench.describe_run(result)))

                round_results, repeats = apache_bench.run_round(
                    args, uwsgi_bench.rotated(VARIANTS, index), endpoints.get, show, log=log,
                    quiet=uwsgi_bench.DISTURBED_CPUS)
                reruns += repeats
                for variant in VARIANTS:
                    results[variant][index] = round_results[variant]
        finally:
            server.stop()
    summary = uwsgi_bench.summarize_throughput(results, "plain")
    for variant in summary.values():
        variant["modules"] = modules
        variant["reruns"] = reruns
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.environ.get("PYFRESH_BUILD_DIR",
                                                              os.path.join(apache_bench.SOURCE_DIR, "build")))
    parser.add_argument("--app", choices=("hello", "flask"), default="hello")
    parser.add_argument("--runs", type=int, default=9,
                        help="rounds, spread over three httpds with the roles rotated (default 9)")
    parser.add_argument("--duration", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin httpd to the last CPU and wrk to the others during the runs")
    args = parser.parse_args()
    if not (1 <= args.runs <= 12 and 1 <= args.duration <= 60 and 1 <= args.warmup <= 30
            and 1 <= args.connections <= 1000 and 1 <= args.threads <= 64):
        parser.error("keep the run bounded: runs 1-12, duration 1-60 s, warmup 1-30 s")
    args.pin = None if args.no_pin or shutil.which("taskset") is None else apache_bench.cpu_split()
    harness = apache_bench.load_harness(os.path.abspath(args.build_dir))
    print("command: %s" % shlex.join([sys.executable] + sys.argv), flush=True)
    summary = apache_throughput(args, harness, args.app, log=lambda s: print(s, flush=True))
    for variant, s in summary.items():
        print("  %-8s median %8.0f req/s, %.3f of plain (rounds: %s), %.1f us CPU/request" % (
            variant, s["rps_median"], s["ratio"], " ".join("%.3f" % r for r in s["ratios"]), s["cpu_us_median"]))
    print("  other processes used %.2f CPUs (median) during the runs" % statistics.median(
        [o for s in summary.values() for o in s["others"]]))


if __name__ == "__main__":
    main()
