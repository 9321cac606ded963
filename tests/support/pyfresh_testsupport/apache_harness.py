"""A real httpd (Debian's /usr/sbin/apache2) with mod_wsgi and mod_pyfresh
from the build tree, on 127.0.0.1, with its own config and state files.

Nothing of the system's Apache is used: not /etc/apache2, not its service,
not its pid, lock, socket or log files. Every wait is bounded; the server is
stopped by its pid (SIGTERM, then SIGKILL of the process group it leads).
"""

import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import threading
import time

APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
RUN_USER = "www-data"

START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
REQUEST_TIMEOUT = 20.0
SAVE_TIMEOUT = 10.0


def build_dir():
    path = os.environ.get("PYFRESH_BUILD_DIR")
    if not path:
        raise RuntimeError("PYFRESH_BUILD_DIR is not set: run these tests through ctest "
                           "(or set it to the CMake build directory)")
    return os.path.abspath(path)


def module_path():
    return os.path.join(build_dir(), "apache_module", "mod_pyfresh.so")


def entry_script():
    """The build tree's copy of the generic entry script (pyfresh.wsgi)."""
    return os.path.join(build_dir(), "apache_module", "pyfresh.wsgi")


def python_dir():
    return os.path.join(build_dir(), "python")


def running_as_root():
    return os.geteuid() == 0


def run_user_ids():
    entry = pwd.getpwnam(RUN_USER)
    return entry.pw_uid, entry.pw_gid


def clean_env():
    """httpd's environment: no pyenv or virtualenv leakage into mod_wsgi's
    embedded Python, and no PYTHONDONTWRITEBYTECODE, so bytecode is written
    as on a real deployment."""
    return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Workspace:
    """A temp dir the server's user can read (and write where it must)."""

    def __init__(self, prefix="pyfresh-apache-"):
        self.root = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.root, 0o755)
        self.state = self.path("state")
        os.makedirs(self.state)
        os.chmod(self.state, 0o755)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def give_to_run_user(self, path):
        """Package dirs must be writable by the server's user for bytecode."""
        if running_as_root():
            uid, gid = run_user_ids()
            for directory, _dirs, files in os.walk(path):
                os.chown(directory, uid, gid)
                for name in files:
                    os.chown(os.path.join(directory, name), uid, gid)

    def runtime(self):
        """(entry script, python dir) copied from the build tree into this
        workspace, which the server's user can read: the build tree may lie
        where it cannot (a clone in /root, mode 0700 on Debian)."""
        target = self.path("pyfresh-runtime")
        entry = os.path.join(target, "pyfresh.wsgi")
        python = os.path.join(target, "python")
        if not os.path.exists(entry):
            os.makedirs(target, exist_ok=True)
            shutil.copytree(os.path.join(python_dir(), "pyfresh"), os.path.join(python, "pyfresh"),
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            shutil.copy(entry_script(), entry)
            for directory, _dirs, files in os.walk(target):
                os.chmod(directory, 0o755)
                for name in files:
                    os.chmod(os.path.join(directory, name), 0o644)
        return entry, python

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


# CTest runs the suite a second time with PYFRESH_TEST_RELOAD_SCOPE=dependents
# (tests/apache/CMakeLists.txt): every Httpd then sets PyFreshReloadScope
# next to each PyFreshApp (where it has the same reach).
RELOAD_SCOPE = os.environ.get("PYFRESH_TEST_RELOAD_SCOPE") or None


def with_reload_scope(body):
    if not RELOAD_SCOPE or "PyFreshReloadScope" in body:
        return body
    lines = []
    for line in body.splitlines(keepends=True):
        lines.append(line)
        stripped = line.lstrip()
        if stripped.startswith("PyFreshApp "):
            lines.append("%sPyFreshReloadScope %s\n" % (line[:len(line) - len(stripped)], RELOAD_SCOPE))
    return "".join(lines)


def embedded_config(python_path, threads=8):
    """mod_wsgi embedded mode in one Apache child of the worker MPM, with
    `threads` threads, every app in the main interpreter (%{GLOBAL}): every
    request of a host meets the same interpreter, so module identity can be
    compared across requests. For Httpd(..., mpm="worker", mpm_config=...)."""
    return ("<IfModule mpm_worker_module>\n"
            "    ServerLimit 1\n"
            "    StartServers 1\n"
            "    ThreadsPerChild %d\n"
            "    MaxRequestWorkers %d\n"
            "    MinSpareThreads 1\n"
            "    MaxSpareThreads %d\n"
            "    MaxConnectionsPerChild 0\n"
            "</IfModule>\n"
            "WSGIPythonPath %s\n"
            "WSGIApplicationGroup %%{GLOBAL}\n" % (threads, threads, threads, python_path))


def write_file(path, text):
    """Saves like an editor that writes a temp file and renames it over the
    original: readers see the old or the new file, never a partial one."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    temp = os.path.join(directory, ".%s.tmp" % os.path.basename(path))
    with open(temp, "w") as handle:
        handle.write(textwrap.dedent(text))
    os.chmod(temp, 0o644)
    os.replace(temp, path)


# The app every test virtual host serves: a package `<name>` with a WSGI
# module `main` (PyFreshApp <name>.main:application), a views module (the message tests edit) and a settings module.
# Each module draws a random token when it is executed, so "the same token"
# means "the same module object, not re-imported".
WSGI_MODULE = '''\
import json
import os
import sys
import time

from {name} import settings, views

TOKEN = os.urandom(8).hex()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/config":
        body = environ.get("PYFRESH_CONFIG", "<missing>")
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        return [body.encode("utf-8")]
    if path == "/slow":
        time.sleep(0.2)
    info = {{
        "message": views.MESSAGE,
        "wsgi": TOKEN,
        "views": views.TOKEN,
        "settings": settings.TOKEN,
        "pid": os.getpid(),
        "application_group": environ.get("mod_wsgi.application_group"),
        "process_group": environ.get("mod_wsgi.process_group"),
        "multithread": environ.get("wsgi.multithread"),
        "dont_write_bytecode": sys.dont_write_bytecode,
        "pythondontwritebytecode": os.environ.get("PYTHONDONTWRITEBYTECODE"),
    }}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(info).encode("utf-8")]
'''

VIEWS_MODULE = '''\
import os

TOKEN = os.urandom(8).hex()
MESSAGE = {message!r}
'''

SETTINGS_MODULE = '''\
import os

TOKEN = os.urandom(8).hex()
'''


def write_app(workspace, name, message=None, wsgi_module="main"):
    """Creates <root>/apps/<name>/<name>/ and returns the dir to put on
    sys.path (python-path)."""
    site = workspace.path("apps", name)
    package = os.path.join(site, name)
    write_file(os.path.join(package, "__init__.py"), "")
    write_file(os.path.join(package, "%s.py" % wsgi_module), WSGI_MODULE.format(name=name))
    write_file(os.path.join(package, "settings.py"), SETTINGS_MODULE)
    write_views(workspace, name, message or "%s v1" % name)
    for directory in (workspace.path("apps"), site):
        os.chmod(directory, 0o755)
    workspace.give_to_run_user(site)
    return site


def write_views(workspace, name, message):
    write_file(workspace.path("apps", name, name, "views.py"), VIEWS_MODULE.format(message=message))


def views_path(workspace, name):
    return workspace.path("apps", name, name, "views.py")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %s %r>" % (self.status, self.body[:300])


def substitute(text, values):
    """Replaces @NAME@ placeholders (httpd's own syntax uses $ and %{})."""
    for name, value in values.items():
        text = text.replace("@%s@" % name, value)
    return text


class Httpd:
    """One httpd instance. `body` is the config after the common preamble;
    it may use @PORT@, @STATE@, @ENTRY@ (the entry script), @PYTHON@ (the
    build tree's python dir) and @APPS@."""

    def __init__(self, workspace, body, mpm="event", mpm_config="", preamble_extra=""):
        self.workspace = workspace
        self.body = body
        self.mpm = mpm
        self.mpm_config = mpm_config
        self.preamble_extra = preamble_extra
        self.port = None
        self.process = None
        self.config_path = workspace.path("state", "httpd.conf")
        self.error_log_path = workspace.path("state", "error.log")

    # -- configuration --------------------------------------------------------------

    def render(self, port):
        user = "User %s\nGroup %s" % (RUN_USER, RUN_USER) if running_as_root() else ""
        preamble = textwrap.dedent('''\
            ServerRoot "@STATE@"
            ServerName 127.0.0.1
            Listen 127.0.0.1:@PORT@
            PidFile "@STATE@/httpd.pid"
            Mutex file:@STATE@ default
            ScoreBoardFile "@STATE@/scoreboard"
            DefaultRuntimeDir "@STATE@"
            ErrorLog "@STATE@/error.log"
            LogLevel info
            @USER@
            LoadModule mpm_@MPM@_module @MODULES@/mod_mpm_@MPM@.so
            LoadModule authz_core_module @MODULES@/mod_authz_core.so
            LoadModule mime_module @MODULES@/mod_mime.so
            LoadModule alias_module @MODULES@/mod_alias.so
            LoadModule wsgi_module @MODULES@/mod_wsgi.so
            LoadModule pyfresh_module @MOD_PYFRESH@
            TypesConfig /etc/mime.types
            WSGISocketPrefix "@STATE@/wsgi"
            <Directory />
                Require all denied
            </Directory>
            <Directory "@ENTRY_DIR@">
                Require all granted
            </Directory>
            ''')
        text = "\n".join([preamble, textwrap.dedent(self.mpm_config), textwrap.dedent(self.preamble_extra),
                          with_reload_scope(textwrap.dedent(self.body))])
        entry, python = self.workspace.runtime()
        return substitute(text, {
            "PORT": str(port),
            "STATE": self.workspace.state,
            "USER": user,
            "MPM": self.mpm,
            "MODULES": MODULES,
            "MOD_PYFRESH": module_path(),
            "ENTRY": entry,
            "ENTRY_DIR": os.path.dirname(entry),
            "PYTHON": python,
            "APPS": self.workspace.path("apps"),
        })

    def write_config(self, port):
        with open(self.config_path, "w") as handle:
            handle.write(self.render(port))

    # -- lifecycle ------------------------------------------------------------------

    def start(self, attempts=5):
        """Starts on a free port; retries with another port on a bind race."""
        last_log = ""
        for _ in range(attempts):
            port = free_port()
            self.write_config(port)
            if os.path.exists(self.error_log_path):
                os.unlink(self.error_log_path)
            with open(self.workspace.path("state", "stderr.log"), "ab") as stderr:
                self.process = subprocess.Popen(
                    [APACHE, "-f", self.config_path, "-DFOREGROUND"],
                    env=clean_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=stderr, start_new_session=True)
            self.port = port
            if self._wait_ready():
                return self
            last_log = self.log()
            self.stop()
            if "Address already in use" not in last_log:
                break
        raise RuntimeError("httpd did not start; error log:\n%s\nstderr:\n%s"
                           % (last_log, self._read(self.workspace.path("state", "stderr.log"))))

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if "resuming normal operations" in self.log():
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        return True
                except OSError:
                    pass
            time.sleep(0.05)
        return False

    def stop(self):
        """SIGTERM to the parent (immediate shutdown), bounded; then SIGKILL
        to the process group it leads (children and WSGI daemons included)."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def graceful_restart(self):
        """Rewrites the config from `body` and sends SIGUSR1 (apachectl
        graceful); returns when the new generation serves."""
        generations = self.log().count("resuming normal operations")
        self.write_config(self.port)
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.log().count("resuming normal operations") > generations:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("graceful restart did not complete:\n%s" % self.log()[-3000:])

    def stopped_in(self):
        """Stops the server and returns how long the parent took to exit."""
        started = time.monotonic()
        process = self.process
        self.stop()
        return time.monotonic() - started, process.returncode

    # -- requests and logs ----------------------------------------------------------

    def get(self, host, path="/", timeout=REQUEST_TIMEOUT):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", path, headers={"Host": host, "Connection": "close"})
            response = connection.getresponse()
            body = response.read().decode("utf-8", "replace")
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
        finally:
            connection.close()

    def get_after_save(self, host, ready, path="/", timeout=SAVE_TIMEOUT):
        """The first response for which `ready(response)` is true, asking
        again for at most `timeout` seconds; else the last one (for the
        caller's assertion to show).

        The very next request after a save must already run the saved
        code; test_apache_never_stale.py asserts exactly that, without
        asking again. Tests about what else a save does (hooks, restarts,
        other processes of a group) ask again, so that a freshness
        regression fails there once, with its own message, rather than in
        every test."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.get(host, path)
            if ready(response) or time.monotonic() >= deadline:
                return response
            time.sleep(0.01)

    def log(self):
        return self._read(self.error_log_path)

    @staticmethod
    def _read(path):
        try:
            with open(path, errors="replace") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# -- what tests ask of a running server ------------------------------------------------


def get_ok(server, host, path="/"):
    """A 200 response's JSON (the body, for the test apps' /config)."""
    response = server.get(host, path)
    assert response.status == 200, (host, response, server.log()[-3000:])
    return response.json() if path != "/config" else response.body


def get_message_after_save(server, host, message):
    """The app's JSON once it serves `message` (see Httpd.get_after_save)."""
    response = server.get_after_save(host, lambda r: r.status == 200 and r.json()["message"] == message)
    assert response.status == 200, (host, response, server.log()[-3000:])
    return response.json()


def edits_under_requests(server, host, workspace, app, clients=6, requests=15, saves=3):
    """`clients` threads each send `requests` GET /slow to `host` while the
    app's views.py is saved `saves` times, 0.3 s apart, with the message
    "<app> concurrent <i>". Returns ([(status, message)...], [exception...],
    threads still running after 120 s)."""
    results, errors = [], []

    def client():
        try:
            for _ in range(requests):
                response = server.get(host, "/slow")
                results.append((response.status, response.json()["message"]))
        except Exception as exc:  # returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for index in range(saves):
        write_views(workspace, app, "%s concurrent %d" % (app, index))
        threading.Event().wait(0.3)
    for thread in threads:
        thread.join(timeout=120)
    return results, errors, sum(1 for thread in threads if thread.is_alive())

def config_test(config_text, workspace, flag="-t"):
    """`apache2 -t` (or another checking flag such as -L) on a config text;
    (returncode, combined output)."""
    path = workspace.path("state", "configtest.conf")
    with open(path, "w") as handle:
        handle.write(config_text)
    result = subprocess.run([APACHE, flag, "-f", path], env=clean_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return result.returncode, result.stdout.decode("utf-8", "replace")
