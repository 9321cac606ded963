"""Shared pieces of the reliability suite: scale (short/full), the figures
report, the two servers behind one interface, an HTTP load generator, and
atomic / in-place saves.

Every loop here is bounded in count and in time, and stops by itself.
"""

import ctypes
import http.client
import json
import os
import pwd
import shutil
import signal
import threading
import time

from pyfresh_testsupport import apache_harness, uwsgi_harness

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)

# -- scale ------------------------------------------------------------------------

# short (ctest -L reliability, in CI) or full (scripts/run-reliability.sh).
MODE = os.environ.get("PYFRESH_RELIABILITY_MODE", "short")
if MODE not in ("short", "full"):
    raise RuntimeError("PYFRESH_RELIABILITY_MODE must be 'short' or 'full', not %r" % MODE)


def scaled(short, full, variable):
    """The figure for this mode, or the integer in $variable."""
    value = os.environ.get(variable)
    if value:
        return int(value)
    return full if MODE == "full" else short


# Edit steps per server under load, Flask reloads in the memory test,
# seconds of fuzzing.
EDITS = scaled(30, 150, "PYFRESH_RELIABILITY_EDITS")
RELOADS = scaled(200, 1000, "PYFRESH_RELIABILITY_RELOADS")
FUZZ_SECONDS = scaled(20, 300, "PYFRESH_RELIABILITY_FUZZ_SECONDS")

# -- report -------------------------------------------------------------------------


def report_dir():
    directory = os.environ.get("PYFRESH_RELIABILITY_REPORT")
    if not directory:
        build = os.environ.get("PYFRESH_BUILD_DIR")
        directory = os.path.join(build, "reliability-report") if build else os.path.join(HERE, ".report")
    os.makedirs(directory, exist_ok=True)
    return directory


def report(name, figures):
    """Writes this test's figures (JSON) for scripts/run-reliability.sh and
    prints them (shown by pytest -s or on failure)."""
    figures = dict(figures, mode=MODE, test=name)
    with open(os.path.join(report_dir(), name + ".json"), "w") as handle:
        json.dump(figures, handle, indent=1, sort_keys=True)
    print("reliability figures %s: %s" % (name, json.dumps(figures, sort_keys=True)))


# -- saving files -------------------------------------------------------------------

AT_FDCWD = -100
RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(None, use_errno=True)


def exchange(a, b):
    """Swaps two paths atomically (renameat2 RENAME_EXCHANGE): how a change
    to several files becomes visible at one instant."""
    if _libc.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) != 0:
        error = ctypes.get_errno()
        raise OSError(error, "renameat2(%s, %s, RENAME_EXCHANGE): %s" % (a, b, os.strerror(error)))


def atomic_write(path, text, mtime=None):
    """An editor's save: a temporary file renamed over the original, so a
    reader sees the old or the new file, never a partial one. `mtime`
    (seconds) sets an older modification time first, as `cp -p` or
    `rsync -t` restore one."""
    temp = os.path.join(os.path.dirname(path), ".%s.tmp" % os.path.basename(path))
    with open(temp, "w") as handle:
        handle.write(text)
    os.chmod(temp, 0o644)
    if mtime is not None:
        os.utime(temp, (mtime, mtime))
    os.replace(temp, path)


def append_in_place(path, text):
    """One write(2) with O_APPEND to the existing file (same inode)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        data = text.encode()
        assert os.write(fd, data) == len(data)
    finally:
        os.close(fd)


def overwrite_in_place(path, text):
    """One pwrite(2) at offset 0 of the existing file, without truncating
    (same inode; the caller keeps the size)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        data = text.encode()
        assert os.pwrite(fd, data, 0) == len(data)
    finally:
        os.close(fd)


# -- servers ------------------------------------------------------------------------



class UwsgiTarget:
    """uWSGI with the build tree's plugin: master, `processes` workers of
    `threads` threads, http-socket on loopback."""

    name = "uwsgi"
    keep_alive = False  # http-socket answers one request per connection
    host = None

    def __init__(self, directory, processes=2, threads=4):
        self.directory = str(directory)
        self.app_root = os.path.join(self.directory, "apps")
        os.makedirs(self.app_root, exist_ok=True)
        self.processes = processes
        self.threads = threads
        binary = shutil.which("uwsgi", path="/usr/local/bin:/usr/bin:/bin")
        build = uwsgi_harness.build_dir_from_env()
        self.instance = uwsgi_harness.Uwsgi(os.path.join(self.directory, "uwsgi"), binary,
                                           build / "uwsgi_plugin", build / "python")

    def start(self, spec, options=()):
        base = [("master", "true"), ("processes", str(self.processes)), ("threads", str(self.threads)),
                ("module", spec), ("need-app", "true"), ("listen", "128"),
                ("disable-logging", "true")]
        self.instance.start(base + list(options), pythonpath=[self.app_root])
        # Every worker forked and accepting.
        deadline = time.monotonic() + 30
        while len(self.instance.worker_pids()) < self.processes and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    @property
    def port(self):
        return self.instance.port

    def worker_pids(self):
        return set(self.instance.worker_pids())

    def alive(self):
        return self.instance.proc is not None and self.instance.proc.poll() is None

    def log(self):
        return self.instance.log()

    def problems(self):
        """Crash and restart signs in the log."""
        log = self.log().lower()
        return [bad for bad in ("segmentation fault", "damn ! worker", "fatal python error",
                                "pyfresh: internal error", "respawned uwsgi worker", "gracefully killing",
                                "reloading the uwsgi instance")
                if bad in log]

    def own(self, path):
        pass

    def stop(self):
        self.instance.stop()


APACHE_LOAD_CONFIG = """\
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 2
    ThreadsPerChild 32
    MaxRequestWorkers 64
    MinSpareThreads 8
    MaxSpareThreads 64
</IfModule>
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 60
<VirtualHost 127.0.0.1:@PORT@>
    ServerName rel.test
    WSGIDaemonProcess rel python-path=@APPS@/rel:@PYTHON@ home=@APPS@/rel threads=@THREADS@ display-name=rel-@TAG@
    WSGIProcessGroup rel
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
    PyFreshApp @SPEC@
@DIRECTIVES@
</VirtualHost>
"""


class ApacheTarget:
    """Debian's apache2 (event MPM) with mod_wsgi and the build tree's
    mod_pyfresh: one virtual host, one mod_wsgi daemon process of `threads`
    threads, %{GLOBAL}. Run as root, the daemon runs as www-data."""

    name = "apache"
    keep_alive = True
    host = "rel.test"
    processes = 1

    def __init__(self, threads=4):
        self.workspace = apache_harness.Workspace(prefix="pyfresh-rel-")
        self.app_root = self.workspace.path("apps", "rel")
        os.makedirs(self.app_root)
        for directory in (self.workspace.path("apps"), self.app_root):
            os.chmod(directory, 0o755)
        self.threads = threads
        self.tag = os.urandom(3).hex()  # display-name is cut to len(argv[0])
        self.httpd = None

    def start(self, spec, directives=()):
        self.own(self.app_root)
        body = (APACHE_LOAD_CONFIG.replace("@THREADS@", str(self.threads)).replace("@TAG@", self.tag)
                .replace("@SPEC@", spec).replace("@DIRECTIVES@", "\n".join("    " + d for d in directives)))
        self.httpd = apache_harness.Httpd(self.workspace, body)
        self.httpd.start()
        return self

    @property
    def port(self):
        return self.httpd.port

    def worker_pids(self):
        """The mod_wsgi daemon processes of this server (by display-name)."""
        wanted = ("rel-%s" % self.tag).encode()
        pids = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open("/proc/%s/cmdline" % entry, "rb") as handle:
                        if handle.read().startswith(wanted):
                            pids.add(int(entry))
                except OSError:
                    pass
        return pids

    def alive(self):
        return self.httpd is not None and self.httpd.process is not None and self.httpd.process.poll() is None

    def log(self):
        return self.httpd.log() if self.httpd else ""

    def problems(self):
        log = self.log()
        found = [bad for bad in ("Segmentation fault", "segmentation fault", "Fatal Python error", "exit signal",
                                 "terminated by signal", "has died", "pyfresh: internal error") if bad in log]
        # mod_wsgi logs this once per daemon process start: more is a restart.
        starts = log.count("Starting process 'rel'")
        if starts > self.processes:
            found.append("daemon process started %d times" % starts)
        return found

    def own(self, path):
        """Files the server's user must be able to write (bytecode caches)."""
        if os.geteuid() != 0:
            return
        entry = pwd.getpwnam(apache_harness.RUN_USER)
        if os.path.isdir(path):
            self.workspace.give_to_run_user(path)
        else:
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def stop(self):
        if self.httpd is not None:
            self.httpd.stop()

    def cleanup(self):
        self.stop()
        self.workspace.cleanup()


def make_target(kind, tmp_path):
    if kind == "uwsgi":
        return UwsgiTarget(tmp_path)
    return ApacheTarget()


# -- load -----------------------------------------------------------------------------

class Record:
    __slots__ = ("sent", "received", "status", "body", "error_header", "error", "headers")

    def __init__(self, sent, received, status=None, body=b"", error_header=None, error=None, headers=None):
        self.headers = headers
        self.sent = sent
        self.received = received
        self.status = status
        self.body = body
        self.error_header = error_header
        self.error = error

    def json(self):
        return json.loads(self.body)


class LoadGenerator:
    """`connections` threads, each with its own http.client connection
    (kept alive when the server allows), sending GET `path` back to back
    until stop() or `max_seconds`, each request bounded by `timeout`."""

    def __init__(self, port, host=None, connections=16, path="/", timeout=10.0, max_seconds=900.0,
                 keep_alive=True, max_requests_per_connection=2_000_000):
        self.port = port
        self.host = host or "127.0.0.1"
        self.connections = connections
        self.path = path
        self.timeout = timeout
        self.max_seconds = max_seconds
        self.keep_alive = keep_alive
        self.max_requests = max_requests_per_connection
        self._stop = threading.Event()
        self._threads = []
        self._records = [[] for _ in range(connections)]

    def _run(self, index):
        records = self._records[index]
        headers = {"Host": self.host}
        if not self.keep_alive:
            headers["Connection"] = "close"
        deadline = time.monotonic() + self.max_seconds
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        count = 0
        while not self._stop.is_set() and time.monotonic() < deadline and count < self.max_requests:
            count += 1
            sent = time.monotonic()
            try:
                connection.request("GET", self.path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                records.append(Record(sent, time.monotonic(), response.status, body,
                                      response.getheader("X-PyFresh-Error")))
                if response.will_close or not self.keep_alive:
                    connection.close()
            except Exception as error:  # refused, reset, timed out: all failures
                records.append(Record(sent, time.monotonic(), error="%s: %s" % (type(error).__name__, error)))
                connection.close()
                time.sleep(0.01)
        connection.close()

    def start(self):
        for index in range(self.connections):
            thread = threading.Thread(target=self._run, args=(index,), name="load-%d" % index, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        stuck = [t.name for t in self._threads if t.is_alive()]
        assert not stuck, "load threads still running (a request hangs): %s" % stuck
        records = [r for per_thread in self._records for r in per_thread]
        records.sort(key=lambda r: r.sent)
        return records


def request(port, path="/", host=None, timeout=10.0, method="GET", headers=None, body=None):
    """One request on a new connection: Record."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sent = time.monotonic()
    try:
        all_headers = {"Host": host or "127.0.0.1", "Connection": "close"}
        all_headers.update(headers or {})
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        return Record(sent, time.monotonic(), response.status, data, response.getheader("X-PyFresh-Error"),
                      headers=response.getheaders())
    except Exception as error:
        return Record(sent, time.monotonic(), error="%s: %s" % (type(error).__name__, error))
    finally:
        connection.close()


def wait_until(predicate, timeout, interval=0.05):
    """The first truthy value of predicate() within `timeout` s, else the last."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
