import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"

# CTest runs this suite twice: as is, and with the reload scope set to
# "dependents" (tests/python/CMakeLists.txt). Every Reloader a test builds
# without choosing a scope, in-process or served, then gets that scope.
RELOAD_SCOPE = os.environ.get("PYFRESH_TEST_RELOAD_SCOPE") or None


def _default_reload_scope(scope):
    from pyfresh import reloader

    original = reloader.Reloader._setup

    def _setup(self, options, *args, **kwargs):
        options = reloader.Options(reload_scope=scope).merged(options)
        return original(self, options, *args, **kwargs)

    reloader.Reloader._setup = _setup


if RELOAD_SCOPE:
    _default_reload_scope(RELOAD_SCOPE)


def clean_env(pythonpath):
    """The server's environment: no pyenv leakage, bytecode writing on."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONPATH": pythonpath,
        "PYTHONUNBUFFERED": "1",
    }
    return env


def write(path, text):
    """Writes in place and makes sure the stat identity changes even when
    the previous write was within the filesystem's timestamp granularity."""
    before = os.stat(path).st_mtime_ns if os.path.exists(path) else None
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    if before is not None and os.stat(path).st_mtime_ns == before:
        os.utime(path, ns=(before + 1000, before + 1000))


def fetch(url, timeout=10):
    """(status, headers, body text) of a GET, 5xx included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


class App:
    """A package in a temp dir with a unique name, for one test."""

    def __init__(self, root):
        self.root = str(root)
        self.name = "app_" + uuid.uuid4().hex[:10]
        self.dir = os.path.join(self.root, self.name)
        os.makedirs(self.dir)

    def path(self, module):
        parts = module.split(".")
        return os.path.join(self.dir, *parts[:-1], parts[-1] + ".py")

    def write(self, module, text):
        write(self.path(module), text.replace("PKG", self.name))

    def spec(self, module="wsgi", callable_name="application"):
        return "%s.%s:%s" % (self.name, module, callable_name)


@pytest.fixture
def pyfresh_log(caplog):
    """pyfresh's log records at INFO and above (its logger does not
    propagate by default: a host's log channel is its only output)."""
    logger = logging.getLogger("pyfresh")
    saved = logger.propagate
    logger.propagate = True
    with caplog.at_level(logging.INFO, logger="pyfresh"):
        yield caplog
    logger.propagate = saved


@pytest.fixture
def app(tmp_path):
    a = App(tmp_path)
    a.write("__init__", "")
    return a


class Server:
    def __init__(self, app, *args):
        pythonpath = os.pathsep.join([p for p in [os.environ.get("PYTHONPATH", "")] if p])
        self.process = subprocess.Popen(
            [PYTHON, "-m", "pyfresh.serve", "--port", "0", "--path", app.root, *args,
             *(["--reload-scope", RELOAD_SCOPE] if RELOAD_SCOPE and "--reload-scope" not in args else [])],
            stdout=subprocess.PIPE, stderr=open(os.path.join(app.root, "server.log"), "w"),
            env=clean_env(pythonpath), text=True)
        self.log_path = os.path.join(app.root, "server.log")
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError("server did not start: %r\n%s" % (line, self.log()))
        self.url = "http://127.0.0.1:%d" % int(line.split()[1])

    def get(self, path="/", timeout=10):
        return fetch(self.url + path, timeout)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture
def serve():
    servers = []

    def start(app, *args):
        server = Server(app, *args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def on_path(tmp_path):
    """Puts the temp dir on sys.path for in-process tests, with bytecode
    writing on as on users' machines."""
    sys.path.insert(0, str(tmp_path))
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    yield
    sys.dont_write_bytecode = saved
    sys.path.remove(str(tmp_path))


def call(app, path="/"):
    """Calls a WSGI app in-process: (status, body text).

    A request over the network reaches the app after the detector's monitor
    thread has seen a save made just before; a call from the very thread
    that saved may come first. Settle that race here with the synchronous
    check, so each test says what happens on the *next* request."""
    detector = getattr(app, "detector", None)
    if detector is not None and getattr(app, "enabled", False):
        detector.check()
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = headers

    result = app({"PATH_INFO": path, "REQUEST_METHOD": "GET"}, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return int(captured["status"].split()[0]), body.decode("utf-8", "replace")


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
