"""The WSGI reloader: serves each request with the code as it is on disk."""

import contextlib
import importlib
import os
import sys
import time
import weakref

from . import _core, app_loader, counters, hooks, import_graph, import_tracker, integrations, live_reload, restart, scope
from .app_loader import AppLoadError, AppSpec
from .config import ConfigError, Options
from .error_page import ErrorApp, summarize
from .log import ensure_handler, log_core_message, logger
from .reload_transaction import ReloadTransaction
from .watch import PathSet, app_directory

# How long a reload waits for requests still inside the app (streaming
# responses included) before it goes ahead anyway (option drain-timeout).
# New requests wait meanwhile, so this bounds how long a save stalls them:
# one open event stream must not hold every other request for long. The
# requests still running then finish with the old code (logged).
DEFAULT_DRAIN_TIMEOUT = 1.0

# Reloads in a row when files kept changing while the app was imported
# (see _on_stale); then the next request takes over.
MAX_CONSISTENCY_RELOADS = 5

# How long a reload waits for a changed file that is still being written
# (an in-place save caught between its truncate and its last write) before
# it imports what is there; and how long it sleeps between looks.
MAX_WRITER_WAIT = 0.1
_WRITER_WAIT_STEP = 0.005

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
                 loaded_app=None, raise_on_load_error=True, watch=None, restart_on=None,
                 restart_handler=None, drain_timeout=None, integrations=None, watch_ignore=None, live_reload=None,
                 reload_scope=None, loaded_since_ns=None):
        if not isinstance(app, str):
            raise TypeError("app must be a spec string such as 'mysite.wsgi:application', not %s"
                            % type(app).__name__)
        # The typed values go to the core as they are; messages name them
        # as passed here ("drain_timeout=").
        options = Options(app=app, packages=packages, exclude=exclude, debug=debug, poll_interval=poll_interval,
                          enabled=enabled, watch=watch, restart_on=restart_on, watch_ignore=watch_ignore,
                          live_reload=live_reload, drain_timeout=drain_timeout, integrations=integrations,
                          reload_scope=reload_scope)
        self._setup(options, loaded_app, raise_on_load_error, restart_handler, loaded_since_ns=loaded_since_ns)

    @classmethod
    def from_config(cls, options, loaded_app=None, raise_on_load_error=True, restart_handler=None,
                    loaded_since_ns=None):
        """A Reloader from an :class:`pyfresh.Options` a host built once
        (its values keep the host's spelling for messages), or from host
        option text: (name, value[, display_name]) pairs.
        loaded_since_ns: when the host began importing `loaded_app`
        (time.time_ns()); a file saved since then is reloaded at once."""
        if not isinstance(options, Options):
            options = Options.from_pairs(options)
        reloader = cls.__new__(cls)
        reloader._setup(options, loaded_app, raise_on_load_error, restart_handler, loaded_since_ns=loaded_since_ns)
        return reloader

    # -- set-up ----------------------------------------------------------------

    def _setup(self, options, loaded_app, raise_on_load_error, restart_handler=None, spec=None,
               loaded_since_ns=None):
        # options: a pyfresh.Options. spec: what a subclass re-imports
        # instead of an app (the test loop's suite: kind "directory",
        # module_name None, its own _import_app).
        # loaded_since_ns: when the host began importing loaded_app (time.time_ns(),
        # the clock of file timestamps); see _reload_if_saved_since.
        ensure_handler()
        self._starting = True
        self.options = options
        if spec is None:
            if not options.app:
                raise ConfigError("no app given: say which WSGI callable to serve, e.g. 'mysite.wsgi:application'")
            spec = AppSpec(options.app)
        self.spec = spec
        self.exclude = options.exclude or []
        _check_scope(options, self.spec)
        # No package list: the user's own code is inferred from what the app
        # imports (see scope.py); an explicit list wins.
        self._inferring = not options.packages
        self._set_packages(options.packages or [])
        self.debug = bool(options.debug)
        self.poll_interval = options.poll_interval
        self.drain_timeout = DEFAULT_DRAIN_TIMEOUT if options.drain_timeout is None else options.drain_timeout
        self._drain_label = options.origin_of("drain-timeout")
        # "packages": every module of the packages is cleared on a reload;
        # "dependents": the changed ones and their importers (see _dependents).
        self.reload_scope = options.reload_scope or "packages"
        self._scope_label = options.origin_of("reload-scope")
        self._integration_watch = ()  # watch entries the integrations added (template folders)
        self.detector = _core.Detector(self.poll_interval, log=log_core_message)
        # What the Gate calls, with itself, when a request finds a stale file.
        # A plain function, not the bound method: that would make every
        # Reloader a reference cycle, alive (and in the registry whose hook
        # ownership it takes part in) until a collection.
        self.on_stale = _run_on_stale
        self.enabled = options.enabled is not False
        # Called with a reason string when a change needs a new process.
        self.restart_handler = restart_handler or restart.exit_for_restart
        if options.live_reload:
            # Before the app is imported: a failed first import gets a token too.
            live_reload.enable(self)
        self.reload_count = 0
        self.failure_count = 0
        self.restart_count = 0
        self.last_error = None
        self.last_reload_ms = None
        self.last_reload_ok = None
        self.last_trigger = None
        self.last_trigger_files = []
        self.last_restart_reason = None
        self._last_event = 0.0
        self._failed_paths = frozenset()  # stale files of failed reloads since the last success
        self._transaction = None  # the ReloadTransaction in progress (see _begin_transaction)
        # Every file the import tracker ever tracked for this reloader (see
        # track_files): never dropped, as code from it may still run.
        self._module_files = set()
        self._watched_tracked = frozenset()  # see _track_new_watched
        self._watch = PathSet((), "")
        self._restart_on = PathSet((), "")

        # Who imports whom under the packages (the dependents scope; public
        # as reloader.import_graph, see import_graph.py).
        # A weak reference: the graph must not keep a dropped Reloader alive
        # (the hooks of others are judged by the Reloaders still alive).
        self.import_graph = import_graph.ImportGraph(covers=_weak_covers(self))

        counters.register(self)
        finder = import_tracker.tracker()
        finder.register(self)
        finder.add_graph(self.import_graph)
        already_imported = self.spec.kind == "module" and self.spec.module_name in sys.modules
        before = set(sys.modules)
        if loaded_app is not None:
            self.app = loaded_app
        else:
            self._load_initial(raise_on_load_error)
        if self._inferring:
            # Imported before this Reloader existed (a host's loaded_app, or a
            # wsgi.py that imported the app first): judge everything loaded.
            if loaded_app is not None or already_imported:
                candidates = list(sys.modules.items())
            else:
                candidates = [(n, m) for n, m in list(sys.modules.items()) if n not in before]
            self._add_packages(scope.infer_prefixes(candidates))
        # Modules of the packages imported before this Reloader existed (a
        # wsgi.py that imports the app, then wraps it) are tracked too.
        self._track_loaded_modules()
        base = app_directory(self.spec)
        ignore = options.watch_ignore or ()
        self._watch = PathSet(options.watch or (), base, options.origin_of("watch"), ignore)
        self._restart_on = PathSet(options.restart_on or (), base, options.origin_of("restart-on"), ignore)
        self._track_new_watched()
        self._integrations = integrations.Session(options.integrations)
        self._add_integration_paths()
        self._starting = False
        self._log_started()
        if loaded_app is not None and loaded_since_ns is not None:
            self._reload_if_saved_since(loaded_since_ns)

    def _log_started(self):
        if self._inferring:
            logger.info("inferred packages: %s", ", ".join(self.packages) or
                        "none outside the standard library and site-packages (only %s reloads)"
                        % self.spec.module_name)
        logger.info("serving %s; a change under %s reloads it%s%s%s; %d files tracked",
                    self.spec.text, ", ".join(self.packages) or self.spec.target,
                    " (kept: %s)" % ", ".join(self.exclude) if self.exclude else "",
                    "; watching %s" % ", ".join(self._watch.entries) if self._watch else "",
                    "; restart on %s" % ", ".join(self._restart_on.entries) if self._restart_on else "",
                    self.detector.tracked_count)

    def _reload_if_saved_since(self, load_started_ns):
        """The files' identities are taken now, after the host imported the
        app: a file saved in between (a uWSGI lazy-apps worker starting while
        the user saves) would look unchanged and its old code would be served
        until the next save. Reload now when a file the app was imported from
        changed since the load began (at worst one needless reload)."""
        paths = set()
        for name, module in list(sys.modules.items()):
            if module is not None and self._policy.covers(name):
                path = getattr(module, "__file__", None)
                if isinstance(path, str):
                    paths.add(path)
        if self.spec.kind == "file":
            paths.add(self.spec.target)
        stale = []
        for path in paths:
            try:
                st = os.stat(path)
            except OSError:
                continue  # tracked as absent: creating it reloads
            if max(st.st_mtime_ns, st.st_ctime_ns) >= load_started_ns:
                stale.append(path)
        if stale:
            self._reload(sorted(stale))

    def _set_packages(self, packages):
        # The spec's own module is always re-imported, or the callable would
        # keep the old code whatever else is cleared.
        self.packages = packages
        own = [self.spec.module_name] if self.spec.module_name else []
        self._policy = _core.PackagePolicy(packages + own, self.exclude)

    def _add_packages(self, names):
        new = [n for n in names if n not in self.packages]
        if new:
            self._set_packages(sorted(self.packages + new))
        return new

    def adopt_module(self, name, origin):
        """Called by the import tracker while inferring, for a module no
        reloader covers: adopts its top-level package if it is user code;
        True when this reloader now covers it."""
        if not (scope.can_infer(name) and scope.is_user_file(origin)):
            return False
        added = self._add_packages([name.partition(".")[0]])
        if added and not self._starting:
            # Not during the startup import (logged once at its end).
            logger.info("inferred package: %s (imported from %s)", added[0], origin)
        return self._policy.covers(name)

    def _load_initial(self, raise_on_load_error):
        before = set(sys.modules)
        self._begin_transaction(ReloadTransaction())
        try:
            self.app = self._import_app()
        except Exception as exc:
            for name in [n for n in list(sys.modules) if n not in before and self._policy.covers(n)]:
                sys.modules.pop(name, None)
            if raise_on_load_error:
                raise AppLoadError("cannot load app %r: %s" % (self.spec.text, summarize(exc))) from exc
            self._fail(exc, time.perf_counter(), restored=0)
        finally:
            self._end_transaction()

    def _import_app(self):
        if self.spec.kind == "file":
            # Executed, not imported: the finder never sees it.
            self.track_files((self.spec.target,))
            if self._transaction is not None:
                self._transaction.record((self.spec.target,))
        return app_loader.load(self.spec)

    def _track_loaded_modules(self):
        """The host imported the app already: track what it imported, once."""
        paths = []
        graph = self.import_graph
        # What a host recorded while it imported the app (uWSGI's master).
        import_graph.adopt_startup_imports(graph, self.spec.module_name)
        for name, module in list(sys.modules.items()):
            if module is not None and self._policy.covers(name):
                files = import_tracker.files_of_loaded_module(name, module)
                paths.extend(files)
                if not graph.knows(name):
                    graph.mark_unknown(name, "imported before pyfresh tracked imports", files)
        if self.spec.kind == "file":
            paths.append(self.spec.target)
        self.detector.track(paths)
        self._module_files.update(paths)

    # -- what the import tracker asks ---------------------------------------------

    def covers(self, name):
        """Whether a reload clears (and re-imports) module `name`."""
        return self._policy.covers(name)

    @property
    def inferring(self):
        """True while the packages are inferred from what the app imports
        (no package list given): the import tracker then offers this
        reloader every module it sees (see adopt_module)."""
        return self._inferring


    def track_files(self, paths):
        """Tracks files of modules as they are imported (or would be): the
        detector's baseline is their identity now, before they are read."""
        self.detector.track(paths)
        self._module_files.update(paths)

    def _begin_transaction(self, transaction):
        """Hands `transaction` to the import tracker: the imports from now
        on are recorded in it and see its forced sources and kept children."""
        self._transaction = transaction
        import_tracker.tracker().begin(self, transaction)

    def _end_transaction(self):
        """Takes the transaction back from the import tracker; returns it."""
        transaction = self._transaction
        self._transaction = None
        import_tracker.tracker().end(self)
        return transaction

    # -- reloading -----------------------------------------------------------------

    def _on_stale(self):
        """The Gate's on_stale: called by a request that finds a tracked file
        stale."""
        owner, drained = self.begin_reload(self.drain_timeout)
        if not owner:
            return  # another thread reloaded while this one waited
        try:
            stale = self._relevant(self.detector.stale_paths())
            if not stale:
                return
            if not drained:
                logger.warning("reloading while %d requests still run the old code (streaming responses "
                               "count until closed): they did not finish within %g s (%s)",
                               self.in_flight, self.drain_timeout, self._drain_label)
            causes = [p for p in stale if self._needs_restart(p)]
            if causes:
                stale = self._restart(stale, causes)
                if not stale:
                    return
            self._reload(stale)
            # A save that landed while the app was being imported (an IDE's
            # "save all", a git checkout: several files in a row) can leave
            # this generation with one file as it was before the save and
            # another as it is after it: code that was never on disk together.
            # The files were stat'ed before they were read, so a synchronous
            # check now sees it; import again before any request (the waiting
            # ones included) is served by that generation.
            for _ in range(MAX_CONSISTENCY_RELOADS):
                if not self.detector.check():
                    break
                stale = self._relevant(self.detector.stale_paths())
                if not stale or any(self._needs_restart(p) for p in stale):
                    break  # a restart is the next request's business
                self._reload(stale)
        finally:
            self.end_reload()

    def _relevant(self, stale):
        """Drops watched directories whose change added or removed no
        watched file (an editor's swap file, a temp file renamed away)."""
        noise = []
        for paths in (self._watch, self._restart_on):
            directories = [p for p in stale if p in paths.directories or p in paths.absent]
            if directories and not paths.refresh():
                noise.extend(directories)
        if not noise:
            return stale
        # As they were when found stale, not as they are now: a file created
        # since the look above is a change still to come.
        self.detector.accept_seen(noise)
        return [p for p in stale if p not in noise]

    def _needs_restart(self, path):
        return restart.needs_restart(path, self._restart_on)

    def _restart(self, stale, causes):
        """A change that cannot be applied in-process. Returns the stale
        paths left to reload when the handler returns."""
        self.restart_count += 1
        self._last_event = time.monotonic()
        reason = "%s changed; %s" % (_describe_paths(causes), restart.why_restart(causes, self._restart_on))
        self.last_restart_reason = reason
        logger.warning("restart needed: %s [%s]", reason, self._totals())
        # Accepted as they were when found stale: a handler that returns is
        # not called again for the same change, but is for a save made since.
        self.detector.accept_seen(causes)
        self._restart_on.refresh()
        self._track_new_watched()
        replaced = None
        try:
            replaced = self.restart_handler(reason)
        except Exception:
            logger.error("the restart handler %r failed", self.restart_handler, exc_info=True)
        if replaced is True:
            # This process is on its way out: retries, never the old code,
            # and no reloads (they would run without what needs the restart).
            self.app = restart.RestartingApp(self.app, reason, on_expiry=lambda: setattr(self, "enabled", True))
            self.enabled = False
            return []
        return [p for p in stale if p not in causes]

    def _wait_for_writers(self, stale):
        """Waits, at most MAX_WRITER_WAIT, while a stale file is still being
        written, so that an in-place save (truncate, write, close) caught in
        the middle is imported whole rather than as an empty or partial
        module. With inotify the detector knows which files are open for
        writing; polling can only compare two looks a step apart, so it
        takes one step before the first."""
        deadline = time.monotonic() + MAX_WRITER_WAIT
        if self.detector.method == "polling":
            time.sleep(_WRITER_WAIT_STEP)
        writing = self.detector.unsettled(stale)
        while writing:
            if time.monotonic() >= deadline:
                logger.warning("%s still being written after %d ms; importing it as it is",
                               _describe_paths(writing), MAX_WRITER_WAIT * 1000)
                return
            time.sleep(_WRITER_WAIT_STEP)  # releases the GIL: the writer may be in this process
            writing = self.detector.unsettled(writing)

    def reload_guard(self):
        """A context manager entered around every reload; hosts override it
        (the uWSGI host leaves a marker that tells a reload killed midway)."""
        return contextlib.nullcontext()

    def _reload(self, stale):
        with self.reload_guard():
            self._reload_in_guard(stale)

    def _reload_in_guard(self, stale):
        started = time.perf_counter()
        self._wait_for_writers(stale)
        self._last_event = time.monotonic()
        self.last_trigger_files = list(stale)
        self.last_trigger = self.last_trigger_files[0] if stale else None
        scope = None
        if self.reload_scope == "dependents":
            # The files of a failed reload are still to import: a save of
            # another file must not serve the old modules in their place.
            scope, why = self._dependents(list(stale) + [p for p in self._failed_paths if p not in stale])
            if scope is None:
                logger.info("dependents scope (%s): reloading every module of the packages instead: %s",
                            self._scope_label, why)
        transaction = self._clear_and_import(stale, started, scope)
        if (transaction.error is not None and scope is not None and transaction.failed_importing
                and not _raised_by_changed_code(transaction.error, stale)):
            # A module left in place may hold what the cleared ones put into
            # it at import (a blueprint's routes, a registry): the whole
            # scope is what the user would get without this option.
            logger.warning("dependents scope (%s): the reload of %d modules failed (%s); reloading every "
                           "module of the packages instead", self._scope_label, len(scope),
                           summarize(transaction.error))
            transaction = self._clear_and_import(stale, started, None)
        if transaction.error is not None:
            self._failed_paths = set(self._failed_paths) | set(stale)
            self._fail(transaction.error, started, restored=transaction.restored, stale=stale)
        else:
            self._failed_paths = frozenset()

    def _dependents(self, stale):
        """(module names to clear, None) for the dependents scope: the
        modules of the stale files, the app's module and every module of
        the packages that imports one of them, directly or transitively,
        with what the integrations add; or (None, why) when that set could
        be wrong."""
        graph = self.import_graph
        names = {self.spec.module_name} if self.spec.module_name else set()  # the test loop's suite has none
        for path in stale:
            found = graph.modules_of_files((path,))
            if found:
                names |= found
            elif path == self.spec.target:
                continue  # a file app: its module is in already
            elif not _under(path, self._integration_watch):
                what = "a watched file" if path in self._watch or path in self._watch.directories else "a file"
                return None, ("%s changed, %s no module is known to come from; which modules read it "
                              "cannot be told" % (path, what))
        accounted = self._integrations.accounted_for(self._policy, self.app)
        for _ in range(4):
            found, why = graph.dependents(names, accounted)
            if why is not None:
                return None, why
            cleared = {n for n in found if self._policy.covers(n)}
            why = self._integrations.scope(_Scope(self._policy, cleared), self.app, stale, cleared)
            if why is not None:
                return None, why
            if cleared <= names:
                return cleared, None
            names |= cleared
        return None, "the integrations kept adding modules"

    def _clear_and_import(self, stale, started, scope):
        """One reload transaction: clears `scope` (a set of module names, or
        None for every module of the packages), imports the app again and,
        on success, swaps it in. Returns the ReloadTransaction: its `error`
        is the exception of a failed attempt (everything cleared is back
        then), None on success."""
        clears = self._policy.covers if scope is None else scope.__contains__
        policy = self._policy if scope is None else _Scope(self._policy, scope)
        transaction = ReloadTransaction(force_source=stale)
        graph = self.import_graph
        with hooks.reloading(transaction.saved):
            self._run_hooks("before")
            self._integrations.before(policy, self.app, stale)
            transaction.clear(list(sys.modules) if scope is None else list(scope), clears,
                              in_place=scope is not None)
            graph.begin()
            transaction.keep_excluded_children(self._policy.is_excluded)
            self._begin_transaction(transaction)
            self._watch.refresh()
            self._restart_on.refresh()
            transaction.record(self._track_new_watched())
            importlib.invalidate_caches()
            phase = "integrations"
            try:
                self._integrations.before_import()  # these raise: undone like a failed import
                phase = "import"
                new_app = self._import_app()
                phase = "integrations"
                self._integrations.after(new_app)
            except BaseException as exc:
                transaction.failed_importing = phase == "import"
                transaction.restore(self._policy.covers)
                graph.rollback()
                self._integrations.undo()
                # The same broken code is not imported again on every request.
                self._accept_what_was_seen(stale, self._end_transaction().recorded)
                if not isinstance(exc, (Exception, SystemExit)):
                    raise
                transaction.error = exc
                return transaction
            graph.commit()
            self._accept_what_was_seen(stale, self._end_transaction().recorded)
            # Only watched paths that no longer match are dropped. A module
            # file stays tracked although this import did not reach it: code
            # imported lazily (Django's views, on the first request) or held
            # by live objects may still run from it.
            self.detector.retain_only(self._module_files | self._watch.paths() | self._restart_on.paths())
            self.app = new_app
            self.reload_count += 1
            self.last_error = None
            self.last_reload_ok = True
            self.last_reload_ms = (time.perf_counter() - started) * 1000.0
            imported = len(transaction.imported(self._policy.covers))
            logger.info("%s changed; reloaded %s in %.1f ms (%d modules cleared, %d imported%s, %d files "
                        "tracked) [%s]", _describe_paths(stale), self.spec.text, self.last_reload_ms,
                        len(transaction.saved), imported, "; the changed modules and their importers"
                        if scope is not None else "", self.detector.tracked_count, self._totals())
            self._integrations.done()
            self._add_integration_paths()
            self._run_hooks("after")
        return transaction

    def _add_integration_paths(self):
        """Turns on the framework integrations now in use, and watches
        (or restarts on) the files they name: template folders, settings."""
        self._integrations.detect(self._policy, self.app)
        watch, restart_on = self._integrations.paths(self._policy, self.app)
        self._integration_watch = tuple(watch)
        if self._watch.add(watch) | self._restart_on.add(restart_on):
            self._track_new_watched()

    def _track_new_watched(self):
        """Tracks the watched and restart-on paths the detector does not
        track yet (new files in watched directories), before the app reads
        them; returns them. The others keep their baselines: a save that
        landed since they were found stale or not (while the before_reload
        hooks ran, say) is still a change, a restart-on one included."""
        paths = self._watch.paths() | self._restart_on.paths()
        new = paths - self._watched_tracked
        self.detector.track(new)
        self._watched_tracked = paths
        return new

    def _accept_what_was_seen(self, stale, read):
        """Makes the files that caused a reload fresh again, at exactly the
        state that reload dealt with, never at a fresh stat: a save made
        while the import ran must stay a change (a fix saved during a
        failing import would otherwise be taken for the broken file, and the
        error page would stay). The files the import read were tracked just
        before they were read (by the import tracker); the stale ones it
        never reached (a lazily imported module; anything after the failure)
        are accepted as they were when found stale."""
        self.detector.accept_seen([p for p in stale if p not in read])

    def _owns(self, module_name):
        return self._policy.covers(module_name) or self._policy.is_excluded(module_name)

    def _run_hooks(self, which):
        """Runs this reloader's hooks; a failing one is logged and skipped."""
        hooks.run(which, self._owns, [r._owns for r in counters.other_reloaders(self)])

    def _totals(self):
        return counters.totals(self)

    def stats(self):
        """This reloader's counters (a new dict; never served over HTTP)."""
        return counters.reloader_stats(self)

    def _fail(self, exc, started, restored, stale=()):
        """Installs the error response and logs `exc`. Never raises: it runs
        while a reload is undone, and an exception here would leave the old
        code serving (the modules are already back)."""
        self.failure_count += 1
        try:
            error_app = ErrorApp(exc, self.spec.text, self.debug)
        except Exception:  # ErrorApp falls back by itself; this is the last line
            error_app = ErrorApp.minimal()
        self.app = error_app
        self.last_error = error_app.summary
        elapsed = (time.perf_counter() - started) * 1000.0
        if stale:
            self.last_reload_ms = elapsed
            self.last_reload_ok = False
        try:
            cause = "%s changed; " % _describe_paths(stale) if stale else ""
            logger.error("%sloading %s failed after %.1f ms (%d modules restored); answering 500 until the "
                         "next save: %s [%s]", cause, self.spec.text, elapsed, restored, error_app.summary,
                         self._totals(), exc_info=exc)
            page_error = getattr(error_app, "page_error", None)
            if page_error:
                logger.error("the debug error page could not be built (%s); serving the generic one",
                             page_error)
        except Exception:
            pass  # logging reports its own failures on stderr

    def __repr__(self):
        return "<pyfresh.Reloader %s packages=%s>" % (self.spec.text, self.packages)


class _Scope:
    """The package policy as integrations see it in the dependents scope:
    `covers` is true for the modules this reload clears only."""

    def __init__(self, policy, names):
        self._policy = policy
        self._names = names

    def covers(self, name):
        return name in self._names

    def is_excluded(self, name):
        return self._policy.is_excluded(name)

    def in_packages(self, name):
        return self._policy.covers(name)


def _under(path, entries):
    """True when `path` is one of `entries` (files, directories, glob
    patterns) or lies under one."""
    for entry in entries:
        base = entry
        for i, char in enumerate(entry):
            if char in "*?[":
                base = os.path.dirname(entry[:i])
                break
        base = base.rstrip(os.sep)
        if base and (path == base or path.startswith(base + os.sep)):
            return True
    return False


def _raised_by_changed_code(exc, paths):
    """True when the changed code itself is broken (a syntax error in a
    changed file, or an exception raised by a changed file's own line):
    the whole scope would fail alike, and importing it twice per save
    helps nobody. An exception raised inside a library (a registry refusing
    a second registration) is not."""
    paths = set(paths)
    if isinstance(exc, SyntaxError) and getattr(exc, "filename", None) in paths:
        return True
    tb = exc.__traceback__
    innermost = None
    while tb is not None:
        innermost = tb
        tb = tb.tb_next
    return innermost is not None and innermost.tb_frame.f_code.co_filename in paths


def _run_on_stale(reloader):
    """Gate.on_stale for every Reloader: its current _on_stale, looked up
    per call, so a subclass's (the test loop's, live reload's) is honoured."""
    return reloader._on_stale()


def _weak_covers(reloader):
    covers = weakref.WeakMethod(reloader.covers)

    def weakly_covers(name):
        method = covers()
        return method is not None and method(name)
    return weakly_covers


def _check_scope(options, spec):
    """Refuses packages/exclude under which reloading would be silently
    wrong (the core's check_scope), and packages that are not the user's
    code: the standard library or installed libraries would be re-imported
    on every reload while other code keeps their old objects."""
    options.check_scope(spec.module_name or "")
    for name in options.packages or ():
        where = scope.not_user_code(name)
        if where:
            raise ConfigError("%s: %r is %s, not your code; pyfresh reloads your own packages only "
                              "(remove it; an editable install, pip install -e, counts as yours)"
                              % (options.origin_of("packages"), name, where))


def _describe_paths(paths):
    names = list(paths)
    if len(names) > 5:
        return "%s and %d more files" % (", ".join(names[:5]), len(names) - 5)
    return ", ".join(names)
