"""The generic WSGI entry point behind Apache's mod_pyfresh.

pyfresh installs a one-line ``pyfresh.wsgi`` that imports :func:`application`
from here; users point ``WSGIScriptAlias`` at it and name their app with
``PyFreshApp`` in httpd.conf, so no application file is edited.

mod_pyfresh puts the virtual host's resolved options into each request's
environment as ``PYFRESH_CONFIG`` (the text of ``pyfresh::SerializeConfig``);
mod_wsgi hands it to the WSGI environ in embedded and daemon mode. This module
keeps one app per distinct config text in the interpreter that runs it:

* ``PyFresh On`` (or unset): a :class:`pyfresh.Reloader` built from the
  options, with ``raise_on_load_error=False`` so an app that fails to import
  at startup answers the engine's error response until a save fixes it, and
  the restart handler of this mod_wsgi mode (see restart.py);
* ``PyFresh Off``: the app's callable imported once, without pyfresh, and
  called directly: requests run the app untouched.

Without ``PYFRESH_CONFIG`` (mod_pyfresh not loaded, or no PyFresh* directive
for this virtual host) or without ``PyFreshApp`` every request gets a 500
response saying which directive is missing.
"""

import sys
import threading

from .. import app_loader, restart
from ..config import ConfigError, Options
from ..error_page import ErrorApp
from ..log import ensure_handler, logger
from ..reloader import Reloader

ENVIRON_KEY = "PYFRESH_CONFIG"

# One entry per distinct PYFRESH_CONFIG text: a WSGI callable. Lives as long
# as this interpreter (a daemon process or an Apache child), like the apps.
_apps = {}
_apps_lock = threading.Lock()
_build_locks = {}
_warned_groups = set()


def application(environ, start_response):
    """The WSGI callable mod_wsgi calls for every request."""
    text = environ.get(ENVIRON_KEY)
    app = _apps.get(text)
    if app is None:
        app = _app_for(text, environ)
    return app(environ, start_response)


def _app_for(text, environ):
    if text is None:
        with _apps_lock:
            if None not in _apps:
                _apps[None] = _ConfigErrorApp(
                    "config-missing",
                    "pyfresh: the request has no %s. Load mod_pyfresh (LoadModule pyfresh_module "
                    ".../mod_pyfresh.so, or `a2enmod pyfresh`) and set PyFreshApp in this virtual "
                    "host (or the main server), e.g. `PyFreshApp mysite.wsgi:application`."
                    % ENVIRON_KEY)
            return _apps[None]
    _warn_if_sub_interpreter(environ)
    with _apps_lock:
        app = _apps.get(text)
        if app is not None:
            return app
        build_lock = _build_locks.setdefault(text, threading.Lock())
    # Building imports the app, which can take long; other configs (virtual
    # hosts sharing this interpreter) are not held up meanwhile.
    with build_lock:
        app = _apps.get(text)
        if app is None:
            app, cache = _build(text)
            if cache:
                with _apps_lock:
                    _apps[text] = app
                    _build_locks.pop(text, None)
    return app


def _build(text):
    """(wsgi callable, whether to keep it for this config text)."""
    try:
        options = _parse_options(text)
    except ConfigError as error:
        # Cannot happen with a matching mod_pyfresh: it validated the same
        # text at startup. Say so rather than guess.
        return _ConfigErrorApp("config-invalid", "pyfresh: %s is not valid (%s); is mod_pyfresh "
                               "from the same pyfresh version as this package?" % (ENVIRON_KEY, error)), True
    if not options.app:
        return _ConfigErrorApp(
            "config-missing",
            "pyfresh: no app to serve: set PyFreshApp in this virtual host (or the main server), "
            "e.g. `PyFreshApp mysite.wsgi:application` or `PyFreshApp /srv/site/app.wsgi`."), True
    if options.enabled is False:
        return _load_untouched(options.app, bool(options.debug))
    try:
        # Daemon mode: a restart ends this daemon process gracefully and
        # Apache starts another; embedded mode: logged, never done.
        return Reloader.from_config(options, raise_on_load_error=False,
                                    restart_handler=restart.mod_wsgi_handler()), True
    except ConfigError as error:
        return _ConfigErrorApp("config-invalid", "pyfresh: %s" % error), True


def _parse_options(text):
    """The one parse of a config text (its app is then kept per text): the
    core reads mod_pyfresh's text into the Options the Reloader consumes,
    every option named as httpd.conf spells it (PyFreshWatch)."""
    return Options.from_serialized(_config_bytes_as_text(text), spelling="apache")


def _config_bytes_as_text(text):
    """mod_wsgi hands environ values over as latin-1 text (PEP 3333): one
    character per byte of httpd.conf. The config's bytes are UTF-8 (or any
    bytes, for paths): decode them as such, non-UTF-8 bytes as surrogates,
    which the core turns back into the same bytes."""
    try:
        return text.encode("latin-1").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # not latin-1 text: already decoded
        return text


def _load_untouched(spec_text, debug):
    """PyFresh Off: import the app as mod_wsgi would and call it directly. A
    failed import is retried by the next request, as mod_wsgi does."""
    try:
        spec = app_loader.AppSpec(spec_text)
        return app_loader.load(spec), True
    except ConfigError as error:
        return _ConfigErrorApp("config-invalid", "pyfresh: %s" % error), True
    except Exception as error:
        ensure_handler()
        logger.error("PyFresh Off: loading %s failed; the next request tries again", spec_text,
                     exc_info=error)
        return ErrorApp(error, spec_text, debug), False


def _warn_if_sub_interpreter(environ):
    group = environ.get("mod_wsgi.application_group")
    if not group or group in _warned_groups:
        return
    _warned_groups.add(group)
    ensure_handler()
    logger.warning(
        "serving in the mod_wsgi sub-interpreter %r. Recommended: `WSGIApplicationGroup %%{GLOBAL}` "
        "with a WSGIDaemonProcess per virtual host: C extensions that do not support "
        "sub-interpreters hang or fail there, and embedded-mode children that created one can "
        "hang on a graceful restart.", group)


class _ConfigErrorApp:
    """500 with a message naming the missing or bad directive; logged once."""

    def __init__(self, kind, message):
        self.kind = kind
        self.message = message
        self.body = (message + "\n").encode("utf-8")
        self._logged = False

    def __call__(self, environ, start_response):
        if not self._logged:
            self._logged = True
            errors = environ.get("wsgi.errors") or sys.stderr
            try:
                errors.write(self.message + "\n")
                errors.flush()
            except Exception:  # a broken log stream must not break the response
                pass
        start_response("500 Internal Server Error", [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(self.body))),
            ("Cache-Control", "no-store"),
            ("X-PyFresh-Error", self.kind),
        ])
        return [self.body]
