"""The harness of the uWSGI integration tests: real uWSGI on loopback with
the build tree's pyfresh_plugin.so and pyfresh package, real files, real
HTTP.

Every wait is bounded; every uWSGI started here is stopped by its pid
(SIGINT, then SIGKILL of its own process group).
"""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
REQUEST_TIMEOUT = 15.0
PORT_ATTEMPTS = 5

SOURCE_DIR = Path(os.environ.get("PYFRESH_SOURCE_DIR") or Path(__file__).resolve().parents[3])


def build_dir_from_env():
    value = os.environ.get("PYFRESH_BUILD_DIR")
    if not value:
        pytest.fail("PYFRESH_BUILD_DIR is not set: run these tests through ctest, or set it to the build tree",
                    pytrace=False)
    path = Path(value).resolve()
    for needed in ("uwsgi_plugin/pyfresh_plugin.so", "python/pyfresh/__init__.py", "python/pyfresh/hosts/uwsgi.py"):
        if not (path / needed).exists():
            pytest.fail("%s is missing: build the targets pyfresh_uwsgi_plugin and pyfresh_python first"
                        % (path / needed), pytrace=False)
    return path


def clean_env():
    """No pyenv, no PYTHONPATH/PYTHONHOME, and bytecode is written (no
    PYTHONDONTWRITEBYTECODE), as on a real deployment."""
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
    }


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:300])


def http_get(port, path="/", timeout=REQUEST_TIMEOUT):
    url = "http://127.0.0.1:%d%s" % (port, path)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return Response(reply.status, reply.read(), dict(reply.headers))
    except urllib.error.HTTPError as error:
        return Response(error.code, error.read(), dict(error.headers))


class UwsgiError(AssertionError):
    pass


class Uwsgi:
    """One uWSGI instance with its own ini, pid file and log in a tmp dir."""

    def __init__(self, directory, binary, plugin_dir, python_dir):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.binary = binary
        self.plugin_dir = plugin_dir
        self.python_dir = python_dir
        self.ini_path = self.dir / "uwsgi.ini"
        self.pid_path = self.dir / "uwsgi.pid"
        self.log_path = self.dir / "uwsgi.log"
        self.proc = None
        self.options = []
        self.port = None
        self.returncode = None

    # -- configuration --------------------------------------------------------

    def write_ini(self, options, plugins="python3,pyfresh", plugins_dir=True, pythonpath=(), socket_line=True):
        self.options = list(options)
        lines = ["[uwsgi]"]
        if plugins_dir:
            lines.append("plugins-dir = %s" % self.plugin_dir)
        if plugins:
            lines.append("plugins = %s" % plugins)
        if socket_line:
            lines.append("http-socket = 127.0.0.1:%d" % self.port)
        lines.append("pidfile = %s" % self.pid_path)
        lines.append("pythonpath = %s" % self.python_dir)
        for path in pythonpath:
            lines.append("pythonpath = %s" % path)
        for key, value in options:
            lines.append("%s = %s" % (key, value))
        # CTest runs the suite a second time with PYFRESH_TEST_RELOAD_SCOPE=dependents.
        scope = os.environ.get("PYFRESH_TEST_RELOAD_SCOPE")
        if scope and plugins and "pyfresh" in plugins and all(k != "pyfresh-reload-scope" for k, _ in options):
            lines.append("pyfresh-reload-scope = %s" % scope)
        self.ini_path.write_text("\n".join(lines) + "\n")

    # -- process ----------------------------------------------------------------

    def start(self, options, wait="/", plugins="python3,pyfresh", plugins_dir=True, pythonpath=(), args=(),
              ini=True):
        """Starts uWSGI; with `wait`, until that path answers (any status)."""
        for _ in range(PORT_ATTEMPTS):
            self.port = free_port()
            if ini:
                self.write_ini(options, plugins=plugins, plugins_dir=plugins_dir, pythonpath=pythonpath)
                command = [self.binary, "--ini", str(self.ini_path)] + list(args)
            else:
                command = [self.binary] + [a.replace("{port}", str(self.port)) for a in args]
            self.log_path.write_bytes(b"")
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(command, cwd=str(self.dir), env=clean_env(), stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            if wait is None:
                return self
            try:
                self.wait_ready(wait)
                return self
            except UwsgiError:
                if "Address already in use" in self.log():
                    self.stop()
                    continue
                raise
        raise UwsgiError("no free port after %d attempts" % PORT_ATTEMPTS)

    def wait_ready(self, path="/", timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise UwsgiError("uWSGI exited with %s before answering:\n%s" % (self.proc.returncode, self.log()))
            try:
                return http_get(self.port, path, timeout=max(0.5, min(5.0, deadline - time.monotonic())))
            except (OSError, urllib.error.URLError) as error:
                last_error = error
                time.sleep(0.1)
        raise UwsgiError("uWSGI did not answer %s within %.0f s (%s):\n%s" % (path, timeout, last_error, self.log()))

    def wait_exit(self, timeout=START_TIMEOUT):
        """For instances that must fail: the exit code, within `timeout`."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log = self.log()
            self.stop()
            raise UwsgiError("uWSGI still runs after %.0f s:\n%s" % (timeout, log))
        return self.returncode

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            for sig, grace in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGQUIT, 5.0)):
                try:
                    os.kill(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # Whatever is left of this instance (workers too): its own group.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        self.returncode = self.proc.returncode

    # -- observation --------------------------------------------------------------

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_lines(self, needle):
        return [line for line in self.log().splitlines() if needle in line]

    def wait_log(self, pattern, timeout=START_TIMEOUT, count=1):
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            if len(regex.findall(self.log())) >= count:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise UwsgiError("log never matched %r %d times:\n%s" % (pattern, count, self.log()))

    def get(self, path="/"):
        return http_get(self.port, path)

    def get_json(self, path="/"):
        response = self.get(path)
        assert response.status == 200, "%s: %r\n%s" % (path, response, self.log())
        return response.json()

    def worker_pids(self):
        """The live worker pids, from the master's children."""
        children = Path("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid))
        try:
            return sorted(int(p) for p in children.read_text().split())
        except FileNotFoundError:
            return []

    def assert_healthy(self):
        log = self.log()
        for bad in ("Segmentation Fault", "segmentation fault", "DAMN ! worker", "Fatal Python error",
                    "pyfresh: internal error"):
            assert bad not in log, "%r in the log:\n%s" % (bad, log)


# -- the test apps --------------------------------------------------------------

WSGI_TEMPLATE = '''\
import json
import os
import sys
import threading
import time

from {package} import views


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.endswith("/slow"):
        time.sleep(0.4)
    host = sys.modules.get("pyfresh.hosts.uwsgi")
    body = json.dumps({{
        "app": "{package}",
        "version": views.version(),
        "pid": os.getpid(),
        "interpreter": id(sys.modules),
        "thread": threading.get_ident(),
        "reloaders": sorted(host.reloaders()) if host else None,
        "script_name": environ.get("SCRIPT_NAME", ""),
    }}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
'''


class App:
    """A package `name` under `root`: name/wsgi.py (application) imports
    name/views.py, whose version() the response reports."""

    def __init__(self, root, name="shop", version="v1"):
        self.root = Path(root)
        self.name = name
        self.package = self.root / name
        self.package.mkdir(parents=True, exist_ok=True)
        (self.package / "__init__.py").write_text("")
        (self.package / "wsgi.py").write_text(WSGI_TEMPLATE.format(package=name))
        self.set_version(version)

    @property
    def spec(self):
        return "%s.wsgi:application" % self.name

    @property
    def views(self):
        return self.package / "views.py"

    def set_version(self, version):
        write_file(self.views, 'def version():\n    return %r\n' % version)

    def break_code(self):
        write_file(self.views, "def version(:\n    return 'broken'\n")


def write_file(path, text):
    """Saves like an editor that writes a temporary file and renames it.
    No waiting after it: the next request must run the saved code
    (change_detector.h's guarantee)."""
    path = Path(path)
    temporary = path.with_name("." + path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def wait_for(predicate, timeout=10.0, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1f s waiting for %s (last: %r)" % (timeout, message, last))


