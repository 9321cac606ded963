"""What a Reloader does when a change cannot be applied in-process.

A changed compiled extension (``.so``) under the packages, or a change to a
file on the ``restart-on`` list, needs a fresh process. The Reloader logs
why and calls its ``restart_handler(reason)``; the handler belongs to the
host:

* plain Python (:func:`exit_for_restart`, the default): exit with status 75
  (``EX_TEMPFAIL``) at once, so that ``python3 -m pyfresh.run -- CMD…`` (or
  any supervisor told that 75 means "start me again") relaunches it;
* mod_wsgi daemon mode (:func:`mod_wsgi_handler`): signal the daemon
  process to shut down gracefully, the way mod_wsgi's documentation does it;
  Apache starts a new one;
* mod_wsgi embedded mode: an Apache child cannot restart itself safely, so
  pyfresh logs that a restart is needed and keeps serving;
* uWSGI: set by the uWSGI host.

A handler that returns lets the Reloader go on: the files that asked for the
restart are accepted as they are (the handler is not called again for the
same change), other changed Python files are reloaded in-process. A handler
that returns True says this process is being replaced (uWSGI's graceful
reload, mod_wsgi's daemon shutdown): the request that noticed the change,
and any other that still reaches this process, is then answered by
:class:`RestartingApp` with a retry, so that no response comes from the old
code once the change was seen (a browser repeats the request, and the new
process answers it).
"""

import importlib.machinery
import logging
import os
import signal
import sys
import threading
import time
import wsgiref.util

from ._core import RESTART_EXIT_STATUS  # 75, EX_TEMPFAIL: "try again"
from .log import logger

# A changed file with one of these endings cannot be reloaded in-process.
EXTENSION_SUFFIXES = tuple(sorted(set(importlib.machinery.EXTENSION_SUFFIXES) | {".so", ".pyd"}))


def needs_restart(path, restart_on):
    """Whether a change of `path` needs a new process: a compiled
    extension, or a file of `restart_on` (the restart-on paths)."""
    return path in restart_on or path.endswith(EXTENSION_SUFFIXES)


def why_restart(causes, restart_on):
    """Why the changed files `causes` need a new process, for the log."""
    extensions = [p for p in causes if p.endswith(EXTENSION_SUFFIXES) and p not in restart_on]
    return "a compiled extension cannot be reloaded in-process" if extensions else "it is on the restart-on list"


def _flush_logs():
    for handler in list(logger.handlers) + list(logging.getLogger().handlers):
        try:
            handler.flush()
        except Exception:
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def exit_for_restart(reason):
    """Exit the process with status 75 now.

    ``os._exit``, not ``sys.exit``: in a WSGI server this runs in a request
    thread, where SystemExit would only end that thread, and a clean
    interpreter shutdown could wait for ever on the server's other threads.
    The request that noticed the change gets no response (its connection
    closes); the supervisor starts the new process."""
    logger.warning("exiting with status %d so that the supervisor starts a new process (%s)",
                   RESTART_EXIT_STATUS, reason)
    _flush_logs()
    os._exit(RESTART_EXIT_STATUS)


def mod_wsgi_daemon_restart(reason):
    """mod_wsgi daemon mode: SIGINT to this daemon process makes mod_wsgi
    shut it down gracefully (requests in progress finish) and Apache start a
    new one. Returns True: this process is being replaced, so the Reloader
    answers this request and any later one here with a retry
    (:class:`RestartingApp`)."""
    logger.warning("restarting this mod_wsgi daemon process (pid %d): %s", os.getpid(), reason)
    _flush_logs()
    os.kill(os.getpid(), signal.SIGINT)
    return True


# How long a process being replaced answers with retries before it gives up
# waiting for its end and serves again (with an error logged): a restart
# that never comes must not turn into an endless redirect.
RESTART_GRACE_SECONDS = 30.0


class RestartingApp:
    """The WSGI app of a process that is being replaced: every request gets
    ``307 Temporary Redirect`` to its own URL (method and body kept), with
    ``Retry-After: 1`` and ``Connection: close``, so the client asks again
    and the new process answers. After RESTART_GRACE_SECONDS without the
    process ending, requests go to `previous` again, and `on_expiry()` is
    called once (the Reloader checks for changes again)."""

    def __init__(self, previous, reason, grace=RESTART_GRACE_SECONDS, on_expiry=None):
        self.previous = previous
        self.reason = reason
        self.deadline = time.monotonic() + grace
        self.on_expiry = on_expiry
        self._expired_logged = False
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if time.monotonic() >= self.deadline:
            with self._lock:
                if not self._expired_logged:
                    self._expired_logged = True
                    logger.error("this process was to be replaced (%s) but still runs; serving the "
                                 "current code again", self.reason)
                    if self.on_expiry is not None:
                        self.on_expiry()
            return self.previous(environ, start_response)
        location = wsgiref.util.request_uri(environ, include_query=True)
        body = b"Restarting to load a change; retrying.\n"
        start_response("307 Temporary Redirect", [
            ("Location", location), ("Retry-After", "1"), ("Connection", "close"),
            ("Cache-Control", "no-store"), ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body)))])
        return [body]


def mod_wsgi_embedded_restart(reason):
    """mod_wsgi embedded mode: an Apache child is not ours to kill (it serves
    other sites and requests). Log loudly and keep serving."""
    logger.error("a restart is needed but cannot be done from mod_wsgi embedded mode: %s. "
                 "Restart Apache (apachectl graceful) to load it, or use daemon mode "
                 "(WSGIDaemonProcess), where pyfresh restarts the daemon process itself. "
                 "Serving the current code meanwhile.", reason)


def mod_wsgi_handler():
    """The handler for the mod_wsgi process this runs in."""
    try:
        import mod_wsgi  # only importable inside mod_wsgi
    except ImportError:
        return exit_for_restart
    if getattr(mod_wsgi, "process_group", ""):
        return mod_wsgi_daemon_restart
    return mod_wsgi_embedded_restart
