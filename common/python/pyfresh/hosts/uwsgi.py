"""The Python side of pyfresh_plugin.so, the uWSGI host.

The plugin calls wrap() once per WSGI app, in that app's interpreter, right
after uWSGI loaded the app: in the master before fork, or in each worker
with lazy-apps. The Reloader it returns becomes the app's callable, so every
request of the app passes through the engine.

Not meant to be imported outside uWSGI, except by tests.
"""

import contextlib
import logging
import os
import signal
import tempfile
import time

from ..config import Options
from ..log import logger
from ..reloader import Reloader

# mountpoint -> Reloader, for this interpreter (each uWSGI mountpoint has its
# own interpreter unless single-interpreter is set).
_reloaders = {}


class UwsgiLogHandler(logging.Handler):
    """Writes records with uwsgi.log(), i.e. into uWSGI's log (logto,
    log-master, loggers) as one entry each."""

    def __init__(self, uwsgi_module):
        super().__init__()
        self._uwsgi = uwsgi_module

    def emit(self, record):
        try:
            # Paths may carry undecodable bytes (surrogates): escape them
            # rather than lose the line.
            line = self.format(record)
            line = line.encode("utf-8", "backslashreplace").decode("utf-8")
            self._uwsgi.log(line)
        except Exception:
            self.handleError(record)


def route_logging():
    """Without logging configured (by the app, before uWSGI loaded it),
    the `pyfresh` logger writes to uWSGI's log at INFO, with the pid: each
    worker reloads by itself. Configured logging wins."""
    if logger.handlers or logging.getLogger().handlers:
        return
    try:
        import uwsgi  # only inside uWSGI
    except ImportError:
        return
    handler = UwsgiLogHandler(uwsgi)
    handler.setFormatter(logging.Formatter("pyfresh: [pid %(process)d] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def wrap(pairs, loaded_app, mountpoint="", app_id=0, load_started_ns=None):
    """The Reloader for one uWSGI app.

    pairs: (name, value, display_name) text in the core vocabulary, the
    pyfresh-* options as the plugin validated them plus ("app", spec).
    loaded_app: the callable uWSGI loaded; served until the first change.
    load_started_ns: CLOCK_REALTIME_COARSE (the clock file timestamps come
    from) before uWSGI started importing the apps in this process.
    """
    route_logging()
    # load_started_ns: a file saved while uWSGI imported the app is reloaded
    # at once (the engine's loaded_since_ns).
    reloader = UwsgiReloader.from_config(_options(pairs), loaded_app=loaded_app, restart_handler=restart_instance,
                                         loaded_since_ns=load_started_ns)
    if load_started_ns is not None:
        _warn_if_harakiri_is_shorter(reloader, (time.time_ns() - load_started_ns) / 1e9)
    reloader.uwsgi_mountpoint = mountpoint
    reloader.uwsgi_app_id = app_id
    _reloaders[mountpoint] = reloader
    return reloader


def serve_unloaded(pairs, mountpoint=""):
    """The Reloader for an app uWSGI could not load (its code was broken at
    startup; uWSGI logged "unable to load app"). It imports the app itself
    and answers with the error response until a save fixes the code. The
    plugin adds it as the app at `mountpoint`."""
    route_logging()
    logger.warning("uWSGI could not load the app at mountpoint %r: pyfresh answers with the error "
                   "response until a save fixes the code", mountpoint)
    reloader = UwsgiReloader.from_config(_options(pairs), raise_on_load_error=False,
                                         restart_handler=restart_instance)
    reloader.uwsgi_mountpoint = mountpoint
    reloader.uwsgi_app_id = None
    _reloaders[mountpoint] = reloader
    return reloader


def _options(pairs):
    """The plugin's pairs, read once by the core; options are named as
    uwsgi.ini spells them (pyfresh-watch), those left unset too."""
    return Options.from_pairs(pairs, spelling="uwsgi")


class UwsgiReloader(Reloader):
    """A Reloader that notices when a reload in this worker slot was killed.

    uWSGI kills a worker whose request outlives `harakiri`, and a reload
    (which imports the app again) runs inside a request. The respawned
    worker forks from the master's old code, so its first request reloads
    again and is killed again: the app never answers. Each reload leaves a
    marker (worker id, pid, start) while it runs; a reload that finds one
    from a dead process says why, with the numbers."""

    @contextlib.contextmanager
    def reload_guard(self):
        marker = _reload_marker()
        if marker is None:
            yield
            return
        _report_killed_reload(self, marker)
        try:
            with open(marker, "w") as f:
                f.write("%d %f\n" % (os.getpid(), time.time()))
        except OSError:
            marker = None
        try:
            yield
        finally:
            if marker is not None:
                try:
                    os.unlink(marker)
                except OSError:
                    pass


def _harakiri():
    """uWSGI's harakiri in seconds (0: off)."""
    try:
        import uwsgi

        value = uwsgi.opt.get("harakiri", 0)
        if isinstance(value, (list, tuple)):
            value = value[-1]
        if isinstance(value, bytes):
            value = value.decode()
        return int(value or 0)
    except Exception:
        return 0


def _reload_marker():
    """This worker slot's marker file, or None outside a uWSGI worker."""
    try:
        import uwsgi

        worker, master = uwsgi.worker_id(), uwsgi.masterpid() or os.getppid()
    except Exception:
        return None
    if not worker:
        return None
    return os.path.join(tempfile.gettempdir(), "pyfresh-reload-%d-%d" % (master, worker))


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _report_killed_reload(reloader, marker):
    try:
        with open(marker) as f:
            pid_text, started_text = f.read().split()
        pid, started = int(pid_text), float(started_text)
    except (OSError, ValueError):
        return
    if pid == os.getpid() or _pid_alive(pid):
        return
    harakiri = _harakiri()
    spent = time.time() - started
    cause = ("uWSGI's harakiri = %d s is the likely cause: it kills a request (a reload runs inside one) "
             "that takes longer" % harakiri) if harakiri else "it died (out of memory? a crash?)"
    logger.error("a reload of %s in this worker slot (pid %d, %.1f s ago) never finished: the worker was killed "
                 "while importing the app; %s. A respawned worker starts from the master's old code and "
                 "reloads again, so while the import takes that long the app never answers (reverting the "
                 "file does not help). %s", reloader.spec.text, pid, spent, cause,
                 "Raise harakiri above the time the app's import now takes (more than %d s), or make the "
                 "import faster." % harakiri if harakiri else "")


def _warn_if_harakiri_is_shorter(reloader, import_seconds):
    """At startup: a reload imports the app again, inside a request."""
    reloader.uwsgi_import_seconds = import_seconds
    harakiri = _harakiri()
    if harakiri and import_seconds > harakiri / 2.0:
        logger.warning("importing %s took %.1f s and uWSGI's harakiri is %d s: a reload imports it again inside "
                       "a request and may be killed; raise harakiri (e.g. harakiri = %d)",
                       reloader.spec.text, import_seconds, harakiri, int(import_seconds * 3) + 1)


def restart_instance(reason):
    """The Reloader's restart handler under uWSGI (a changed compiled
    extension, or a file of pyfresh-restart-on): a graceful reload of the
    whole instance, as touch-reload does. Restarting only this worker would
    not do: a preforked worker is respawned from the master, which still has
    the old code. Returns True once the reload is asked for: the Reloader then
    answers the requests still reaching this worker with a retry
    (restart.RestartingApp), never with the old code."""
    import uwsgi

    master = uwsgi.masterpid()
    if not master:
        # uwsgi.reload() signals the master; without one it would signal
        # this whole process group.
        logger.error("a restart is needed (%s) but uWSGI runs without a master process; "
                     "restart uWSGI to load it (or set master = true). Serving the current code.", reason)
        return
    # Until its main loop starts, the master ignores SIGHUP: a change seen by
    # a worker's first requests would be lost.
    deadline = time.monotonic() + MASTER_READY_TIMEOUT
    while _ignores_sighup(master) and time.monotonic() < deadline:
        time.sleep(0.05)
    logger.warning("reloading the uWSGI instance (graceful, as touch-reload): %s", reason)
    uwsgi.reload()
    return True


MASTER_READY_TIMEOUT = 10.0


def _ignores_sighup(pid):
    try:
        with open("/proc/%d/status" % pid) as status:
            for line in status:
                if line.startswith("SigIgn:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGHUP - 1)))
    except (OSError, ValueError, IndexError):
        pass
    return False


def reloaders():
    """This interpreter's Reloaders by uWSGI mountpoint ("" is the main
    app), e.g. to switch one off at runtime: reloaders()[""].enabled = False."""
    return dict(_reloaders)
