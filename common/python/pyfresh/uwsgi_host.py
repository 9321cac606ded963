"""The Python side of pyfresh_plugin.so, the uWSGI host.

The plugin calls wrap() once per WSGI app, in that app's interpreter, right
after uWSGI loaded the app: in the master before fork, or in each worker
with lazy-apps. The Reloader it returns becomes the app's callable, so every
request of the app passes through the engine.

Not meant to be imported outside uWSGI, except by tests.
"""

import logging
import os
import signal
import sys
import time

from .log import logger
from .reloader import Reloader

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


# The core's option names as uWSGI spells them, for messages about options
# left at their defaults.
OPTION_NAMES = {name: "pyfresh-" + name for name in ("packages", "exclude", "drain-timeout")}


def wrap(pairs, loaded_app, mountpoint="", app_id=0, load_started_ns=None):
    """The Reloader for one uWSGI app.

    pairs: (name, value, display_name) text in the core vocabulary, the
    pyfresh-* options as the plugin validated them plus ("app", spec).
    loaded_app: the callable uWSGI loaded; served until the first change.
    load_started_ns: CLOCK_REALTIME_COARSE (the clock file timestamps come
    from) before uWSGI started importing the apps in this process.
    """
    route_logging()
    reloader = Reloader.from_config(pairs, loaded_app=loaded_app, restart_handler=restart_instance,
                                    labels=OPTION_NAMES)
    if load_started_ns is not None:
        _reload_if_saved_during_load(reloader, load_started_ns)
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
    reloader = Reloader.from_config(pairs, raise_on_load_error=False, restart_handler=restart_instance,
                                    labels=OPTION_NAMES)
    reloader.uwsgi_mountpoint = mountpoint
    reloader.uwsgi_app_id = None
    _reloaders[mountpoint] = reloader
    return reloader


def _reload_if_saved_during_load(reloader, load_started_ns):
    """The Reloader takes the files' identities now, after uWSGI imported
    the app: a file saved in between (a lazy-apps worker starting while the
    user saves) would look unchanged and its old code would be served until
    the next save. Reload now when a file the app was imported from changed
    since the load began (at worst one needless reload)."""
    paths = set()
    for name, module in list(sys.modules.items()):
        if module is not None and reloader._covers(name):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                paths.add(path)
    if reloader.spec.kind == "file":
        paths.add(reloader.spec.target)
    stale = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue  # tracked as absent by the engine: creating it reloads
        if max(st.st_mtime_ns, st.st_ctime_ns) >= load_started_ns:
            stale.append(path)
    if stale:
        reloader._reload(sorted(stale))


def restart_instance(reason):
    """The Reloader's restart handler under uWSGI (a changed compiled
    extension, or a file of pyfresh-restart-on): a graceful reload of the
    whole instance, as touch-reload does. Restarting only this worker would
    not do: a preforked worker is respawned from the master, which still has
    the old code. The request that noticed it is served by the current code."""
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
