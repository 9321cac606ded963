"""The WSGI reloader: serves each request with the code as it is on disk."""

import importlib
import sys
import time

from . import _core, app_loader, import_tracker
from .app_loader import AppLoadError, AppSpec
from .config import ConfigError, keyword_pairs, parse_config
from .error_page import ErrorApp, summarize
from .log import ensure_handler, log_core_message, logger

# How long a reload waits for requests still inside the app (streaming
# responses included) before it goes ahead anyway.
DEFAULT_DRAIN_TIMEOUT = 10.0


class Reloader(_core.Gate):
    """A WSGI application that reloads `app` when its code changes.

    Per request (the C type's __call__): when a file of a module under
    `packages` is stale, every module under `packages` (except `exclude`)
    is removed from sys.modules and the app spec is imported again, after
    the requests inside the app have finished; then the request is served
    with the new callable. If the new code fails to import, the old modules
    are put back and requests get a 500 response (with the traceback when
    `debug`) until the next save.
    """

    drain_timeout = DEFAULT_DRAIN_TIMEOUT

    def __init__(self, app, packages=None, exclude=None, debug=False, poll_interval=None, enabled=True,
                 loaded_app=None, raise_on_load_error=True):
        if not isinstance(app, str):
            raise TypeError("app must be a spec string such as 'mysite.wsgi:application', not %s"
                            % type(app).__name__)
        options = parse_config(keyword_pairs(app=app, packages=packages, exclude=exclude, debug=debug,
                                             poll_interval=poll_interval, enabled=enabled))
        self._setup(options, loaded_app, raise_on_load_error)

    @classmethod
    def from_config(cls, pairs, loaded_app=None, raise_on_load_error=True):
        """A Reloader from host option text: (name, value[, display_name]) pairs."""
        options = parse_config(pairs)
        reloader = cls.__new__(cls)
        reloader._setup(options, loaded_app, raise_on_load_error)
        return reloader

    # -- set-up ----------------------------------------------------------------

    def _setup(self, options, loaded_app, raise_on_load_error):
        ensure_handler()
        if not options.get("app"):
            raise ConfigError("no app given: say which WSGI callable to serve, e.g. 'mysite.wsgi:application'")
        self.spec = AppSpec(options["app"])
        packages = list(options.get("packages") or ())
        if not packages and self.spec.kind == "module":
            packages = [self.spec.target.partition(".")[0]]
        # The spec's own module is always re-imported, or the callable would
        # keep the old code whatever else is cleared.
        policy_packages = packages + [self.spec.module_name]
        self.packages = packages
        self.exclude = list(options.get("exclude") or ())
        self._policy = _core.PackagePolicy(policy_packages, self.exclude)
        self.debug = bool(options.get("debug", False))
        self.poll_interval = options.get("poll_interval")
        self.detector = _core.Detector(self.poll_interval, log=log_core_message)
        self.enabled = options.get("enabled", True)

        self.reload_count = 0
        self.failure_count = 0
        self.last_error = None
        self.last_reload_ms = None
        self._force_source = frozenset()
        self._kept_by_parent = {}
        self._recording = None

        import_tracker.tracker().register(self)
        if loaded_app is not None:
            self.app = loaded_app
            self._track_loaded_modules()
        else:
            self._load_initial(raise_on_load_error)
        logger.info("serving %s; a change under %s reloads it%s; %d files tracked",
                    self.spec.text, ", ".join(packages) or self.spec.target,
                    " (kept: %s)" % ", ".join(self.exclude) if self.exclude else "",
                    self.detector.tracked_count)

    def _load_initial(self, raise_on_load_error):
        before = set(sys.modules)
        self._recording = set()
        try:
            self.app = self._import_app()
        except Exception as exc:
            for name in [n for n in list(sys.modules) if n not in before and self._policy.covers(n)]:
                sys.modules.pop(name, None)
            if raise_on_load_error:
                raise AppLoadError("cannot load app %r: %s" % (self.spec.text, summarize(exc))) from exc
            self._fail(exc, time.perf_counter(), restored=0)
        finally:
            self._recording = None
        # Modules of the packages imported before this Reloader existed (a
        # wsgi.py that imports the app, then wraps it) are tracked too.
        self._track_loaded_modules()

    def _import_app(self):
        if self.spec.kind == "file":
            # Executed, not imported: the finder never sees it.
            self._track_paths((self.spec.target,))
        return app_loader.load(self.spec)

    def _track_loaded_modules(self):
        """The host imported the app already: track what it imported, once."""
        paths = []
        for name, module in list(sys.modules.items()):
            if module is not None and self._policy.covers(name):
                path = getattr(module, "__file__", None)
                if isinstance(path, str):
                    paths.append(path)
        if self.spec.kind == "file":
            paths.append(self.spec.target)
        self.detector.track(paths)

    # -- hooks used by the import tracker ----------------------------------------

    def _covers(self, name):
        return self._policy.covers(name)

    def _kept_children(self, name):
        return self._kept_by_parent.get(name, ())

    def _track_paths(self, paths):
        self.detector.track(paths)
        recording = self._recording
        if recording is not None:
            recording.update(paths)

    # -- reloading -----------------------------------------------------------------

    def _on_stale(self):
        """Called by Gate.__call__ when a tracked file is stale."""
        owner, drained = self.begin_reload(self.drain_timeout)
        if not owner:
            return  # another thread reloaded while this one waited
        try:
            stale = self.detector.stale_paths()
            if not stale:
                return
            if not drained:
                logger.warning("%d requests still inside the app after %.1f s; reloading anyway",
                               self.in_flight, self.drain_timeout)
            self._reload(stale)
        finally:
            self.end_reload()

    def _reload(self, stale):
        started = time.perf_counter()
        policy = self._policy
        saved = {}
        for name in [n for n in list(sys.modules) if policy.covers(n)]:
            module = sys.modules.pop(name, None)
            if module is not None:
                saved[name] = module
        kept_by_parent = {}
        for name in list(sys.modules):
            if policy.is_excluded(name) and "." in name:
                kept_by_parent.setdefault(name.rpartition(".")[0], []).append(name)
        self._kept_by_parent = kept_by_parent
        self._force_source = frozenset(stale)
        self._recording = set()
        importlib.invalidate_caches()
        try:
            new_app = self._import_app()
        except BaseException as exc:
            for name in [n for n in list(sys.modules) if policy.covers(n)]:
                sys.modules.pop(name, None)
            sys.modules.update(saved)
            # Accept the current state of the files that caused this: the
            # same broken code is not imported again on every request.
            self.detector.track(stale)
            self._end_recording()
            if not isinstance(exc, (Exception, SystemExit)):
                raise
            self._fail(exc, started, restored=len(saved), stale=stale)
            return
        recorded = self._end_recording()
        self.detector.retain_only(recorded)
        self.app = new_app
        self.reload_count += 1
        self.last_error = None
        self.last_reload_ms = (time.perf_counter() - started) * 1000.0
        imported = sum(1 for n in list(sys.modules) if policy.covers(n))
        logger.info("%s changed; reloaded %s in %.1f ms (%d modules cleared, %d imported, %d files tracked)",
                    _describe_paths(stale), self.spec.text, self.last_reload_ms, len(saved), imported,
                    self.detector.tracked_count)

    def _end_recording(self):
        recorded = self._recording or set()
        self._recording = None
        self._force_source = frozenset()
        self._kept_by_parent = {}
        return recorded

    def _fail(self, exc, started, restored, stale=()):
        self.failure_count += 1
        error_app = ErrorApp(exc, self.spec.text, self.debug)
        self.app = error_app
        self.last_error = error_app.summary
        elapsed = (time.perf_counter() - started) * 1000.0
        cause = "%s changed; " % _describe_paths(stale) if stale else ""
        logger.error("%sloading %s failed after %.1f ms (%d modules restored); answering 500 until the next save: %s",
                     cause, self.spec.text, elapsed, restored, error_app.summary, exc_info=exc)

    def __repr__(self):
        return "<pyfresh.Reloader %s packages=%s>" % (self.spec.text, self.packages)


def _describe_paths(paths):
    names = list(paths)
    if len(names) > 5:
        return "%s and %d more files" % (", ".join(names[:5]), len(names) - 5)
    return ", ".join(names)
