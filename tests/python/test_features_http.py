"""Issue 7 features over real HTTP (`python3 -m pyfresh.serve`), and the
`python3 -m pyfresh.run` supervisor."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import PYTHON, RELOAD_SCOPE, clean_env, fetch, wait_until, write

ECHO_WSGI = """
import json, os
import LIB.words

PAGE = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates", "page.txt")).read()

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s %s %s %s" % (LIB.words.WORD, PAGE, os.getpid(), environ.get("PATH_INFO"))).encode()]
"""


@pytest.fixture
def site(app, tmp_path):
    lib = app.name + "_lib"
    write(str(tmp_path / lib / "__init__.py"), "")
    write(str(tmp_path / lib / "words.py"), "WORD = 'one'\n")
    write(str(tmp_path / "templates" / "page.txt"), "page-1")
    app.write("wsgi", ECHO_WSGI.replace("LIB", lib))
    app.lib_words = str(tmp_path / lib / "words.py")
    return app


def test_zero_config_and_watch_over_http(site, serve, tmp_path):
    server = serve(site, site.spec(), "--watch", "templates")
    assert server.get()[2].startswith("one page-1 ")
    assert wait_until(lambda: "inferred packages: %s, %s_lib" % (site.name, site.name) in server.log())
    write(site.lib_words, "WORD = 'two'\n")
    assert server.get()[2].startswith("two page-1 ")
    write(str(tmp_path / "templates" / "page.txt"), "page-2")
    assert server.get()[2].startswith("two page-2 ")


def test_watch_ignore_on_the_command_line(site, serve, tmp_path):
    """--watch-ignore takes several patterns: matching files in a --watch
    directory reload nothing; the template's own edit does."""
    server = serve(site, site.spec(), "--watch", "templates", "--watch-ignore", "*.bak", "draft-*")
    assert server.get()[2].startswith("one page-1 ")
    write(str(tmp_path / "templates" / "page.txt.bak"), "page-1 backup")
    write(str(tmp_path / "templates" / "draft-1.txt"), "draft")
    for _ in range(3):
        assert server.get()[2].startswith("one page-1 ")
    assert "reloaded" not in server.log(), server.log()
    write(str(tmp_path / "templates" / "page.txt"), "page-2")
    assert server.get()[2].startswith("one page-2 ")
    assert wait_until(lambda: "templates/page.txt changed; reloaded" in server.log()), server.log()


def test_stats_are_never_served_over_http(site, serve):
    server = serve(site, site.spec())
    write(site.lib_words, "WORD = 'two'\n")
    server.get()
    for path in ("/stats", "/pyfresh/stats", "/__pyfresh__", "/__pyfresh__/stats", "/_pyfresh",
                 "/pyfresh", "/.pyfresh", "/server-status", "/?pyfresh-stats=1"):
        status, headers, body = server.get(path)
        # Every path reaches the app, which echoes it; nothing else answers.
        assert status == 200 and body.startswith("two page-1 "), (path, body)
        assert "reloads" not in body and "restarts" not in body and "X-PyFresh-Stats" not in headers


def start_supervised(site, *args):
    process = subprocess.Popen(
        [PYTHON, "-m", "pyfresh.run", "--", PYTHON, "-m", "pyfresh.serve", "--port", "0", "--path", site.root,
         site.spec(), *args, *(["--reload-scope", RELOAD_SCOPE] if RELOAD_SCOPE else [])],
        stdout=subprocess.PIPE, stderr=open(os.path.join(site.root, "server.log"), "w"),
        env=clean_env(os.environ.get("PYTHONPATH", "")), text=True, start_new_session=True)
    return process


def read_port(process):
    line = process.stdout.readline()
    assert line.startswith("PORT "), line
    return int(line.split()[1])


def test_restart_on_exits_75_and_the_supervisor_relaunches(site, tmp_path):
    write(str(tmp_path / "requirements.txt"), "flask\n")
    process = start_supervised(site, "--restart-on", "requirements.txt")
    try:
        url = "http://127.0.0.1:%d" % read_port(process)
        first_pid = fetch(url)[2].split()[2]
        write(str(tmp_path / "requirements.txt"), "flask\ndjango\n")
        # The first request that sees the change ends the process: no answer.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                fetch(url, timeout=5)
            except Exception:
                break
            time.sleep(0.05)
        url = "http://127.0.0.1:%d" % read_port(process)  # the relaunched server
        status, _, body = fetch(url)
        assert status == 200 and body.split()[2] != first_pid
        log = open(os.path.join(site.root, "server.log")).read()
        assert "restart needed: " in log and "requirements.txt changed" in log
        assert "exiting with status 75" in log and "pyfresh.run: the child asked for a restart" in log
        assert process.poll() is None
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    # SIGTERM reached the server through the supervisor; it is gone.
    assert process.returncode != 75


# -- the supervisor on its own ------------------------------------------------------------

CHILD = """
import os, sys, time
counter = sys.argv[1]
runs = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
open(counter, "w").write(str(runs))
open(counter + ".times", "a").write("%f\\n" % time.monotonic())
plan = sys.argv[2].split(",")
code = plan[min(runs, len(plan)) - 1]
if code == "sleep":
    import signal
    def on_term(signum, frame):
        open(counter + ".signal", "w").write(str(signum))
        sys.exit(7)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print("READY", flush=True)
    time.sleep(60)
time.sleep(float(os.environ.get("CHILD_UPTIME", "0")))
sys.exit(int(code))
"""


def supervise(tmp_path, plan, *options, env=None, wait=True):
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    counter = str(tmp_path / "runs")
    command = [PYTHON, "-m", "pyfresh.run", *options, "--", PYTHON, str(child), counter, plan]
    environment = clean_env(os.environ.get("PYTHONPATH", ""))
    environment.update(env or {})
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment)
    if wait:
        process.communicate(timeout=60)
    return process, counter


def runs(counter):
    return int(open(counter).read())


def test_supervisor_relaunches_on_75_and_propagates_other_status(tmp_path):
    process, counter = supervise(tmp_path, "75,75,3", "--min-uptime", "0")
    assert process.returncode == 3
    assert runs(counter) == 3


def test_supervisor_stops_on_success(tmp_path):
    process, counter = supervise(tmp_path, "0")
    assert process.returncode == 0 and runs(counter) == 1


def test_supervisor_backs_off_when_the_child_keeps_failing_quickly(tmp_path):
    started = time.monotonic()
    process, counter = supervise(tmp_path, "75,75,75,75,5")
    elapsed = time.monotonic() - started
    assert process.returncode == 5 and runs(counter) == 5
    # Delays 0.5 + 1 + 2 + 4 s between the quick restarts.
    times = [float(t) for t in open(counter + ".times").read().split()]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[0] >= 0.45 and gaps[1] >= 0.95 and gaps[2] >= 1.9 and gaps[3] >= 3.8, gaps
    assert elapsed < 30


def test_supervisor_without_backoff_for_a_child_that_ran_long_enough(tmp_path):
    process, counter = supervise(tmp_path, "75,75,0", "--min-uptime", "0.2", env={"CHILD_UPTIME": "0.3"})
    assert process.returncode == 0 and runs(counter) == 3
    times = [float(t) for t in open(counter + ".times").read().split()]
    assert all(b - a < 0.45 + 0.3 + 0.4 for a, b in zip(times, times[1:])), times


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_supervisor_forwards_signals_and_does_not_relaunch(tmp_path, signum):
    process, counter = supervise(tmp_path, "sleep", wait=False)
    try:
        assert process.stdout.readline().strip() == "READY"
        process.send_signal(signum)
        process.wait(20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 7  # the child's status
    assert open(counter + ".signal").read() == str(int(signum))
    assert runs(counter) == 1


def test_supervisor_needs_a_command(tmp_path):
    result = subprocess.run([PYTHON, "-m", "pyfresh.run", "--"], capture_output=True, text=True,
                            env=clean_env(os.environ.get("PYTHONPATH", "")), timeout=30)
    assert result.returncode == 2 and "no command given" in result.stderr
