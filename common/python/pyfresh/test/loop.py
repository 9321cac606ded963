"""The test loop: pytest rounds in one process, again after every save.

A round is one or two in-process pytest sessions (``pytest.main``): a new
config, collection and fixtures each time, so new test files are collected,
deleted ones are gone, conftest.py changes apply, and session-scoped
fixtures are set up again every round. Everything imported outside the
packages (pytest, Django, numpy, ...) stays imported: that is the saving.

Between rounds the loop sleeps in the change detector (``Detector.wait``:
inotify, or polling where it must). A save is reloaded by a Reloader whose
"app" is the suite (:class:`SuiteReloader`): the same transaction, hooks,
framework integrations and exclusions as a server's reload; the modules it
clears are imported again by the next round's collection, through the
import tracker (first on ``sys.meta_path``, ahead of pytest's assertion
rewriter, whose spec it passes on unchanged).
"""

import fnmatch
import os
import sys
import time

import pytest

from .. import scope
from ..config import Options
from ..log import logger
from ..reload_transaction import ReloadTransaction
from ..reloader import Reloader, _describe_paths
from . import affected as affected_module
from .session import RoundPlugin

# pytest's exit statuses (pytest.ExitCode).
OK = 0
TESTS_FAILED = 1
INTERRUPTED = 2
NO_TESTS_COLLECTED = 5

# How long one wait in the detector sleeps before it is asked again (it
# wakes at once on a change or on Ctrl-C).
_WAIT_STEP = 3600.0


class SuiteSpec:
    """What a SuiteReloader stands for instead of an app: the tests under a
    directory. It has no module of its own and nothing to import up front."""

    kind = "directory"
    callable = None
    module_name = None

    def __init__(self, rootdir):
        self.target = os.path.abspath(rootdir)
        self.text = "the tests under %s" % self.target

    def __repr__(self):
        return "SuiteSpec(%r)" % self.target


def _no_app(environ, start_response):  # pragma: no cover - never served
    raise RuntimeError("the test loop's reloader serves no requests")


class SuiteReloader(Reloader):
    """A Reloader whose app is the test suite. A reload clears the modules
    as for a server (packages, exclusions, hooks, integrations, the
    `reload-scope`); the next round's collection imports them again.

    Scope: without `packages`, inferred as for a server (every top-level
    package or module the session imports from outside the standard library
    and site-/dist-packages: your packages, the test modules, conftest.py).
    With `packages`, those plus the test side: the modules pytest imports as
    test files or conftest.py, and the modules next to them (helpers)."""

    def __init__(self, rootdir, packages=None, exclude=None, watch=None, poll_interval=None, reload_scope=None):
        options = Options(spelling="command-line", packages=packages, exclude=exclude, watch=watch,
                          poll_interval=poll_interval, reload_scope=reload_scope)
        self._explicit_packages = bool(options.packages)
        self._test_patterns = ["test_*.py", "*_test.py"]
        self._test_dirs = set()
        self.changes = []  # stale files reloaded since the loop last took them
        self.on_changes = None  # called with each reload's stale files, before it clears anything
        self._setup(options, None, True, spec=SuiteSpec(rootdir))
        # The import tracker asks an inferring reloader about every import:
        # with explicit packages too, test modules must be adopted.
        self._inferring = True

    def _import_app(self):
        return _no_app

    def _log_started(self):
        pass  # the loop says what it covers after the first round

    def _is_test_side(self, origin):
        name = os.path.basename(origin)
        if name == "conftest.py" or any(_match(name, p) for p in self._test_patterns):
            self._test_dirs.add(os.path.dirname(origin))
            return True
        return os.path.dirname(origin) in self._test_dirs

    def adopt_module(self, name, origin):
        if not self._explicit_packages or self._is_test_side(origin):
            return super().adopt_module(name, origin)
        return False

    def _reload(self, stale):
        # Before the modules are cleared: the graph answers for loaded ones.
        if self.on_changes is not None:
            self.on_changes(stale)
        self.changes.extend(stale)
        super()._reload(stale)

    def _fail(self, exc, started, restored, stale=()):
        # Only a framework integration's step can fail here (the suite's
        # import is the round's). The old modules are back, but the round
        # must not pass on them: it imports the code as it is on disk, and
        # pytest reports the error.
        super()._fail(exc, started, restored, stale)
        if stale:
            for name in [n for n in list(sys.modules) if self._policy.covers(n)]:
                sys.modules.pop(name, None)
            logger.info("the round imports the code as it is on disk; pytest reports the error")

    def reload_changes(self):
        """Reloads what is stale, as a server's first request after a save
        would (restarts included); returns the files reloaded, none when
        the change was noise (an editor's swap file in a watched directory)."""
        self.changes = []
        self._on_stale()
        return list(dict.fromkeys(self.changes))

    def begin_round(self):
        # The round imports what the reload cleared: the changed files are
        # compiled from source, whatever bytecode says.
        self._begin_transaction(ReloadTransaction(force_source=self.changes))

    def end_round(self):
        self._end_transaction()

    def set_test_patterns(self, patterns):
        self._test_patterns = list(patterns)

    def watch_test_files(self, roots, patterns):
        """New test files under the collected directories are a change."""
        entries = []
        for root in roots:
            if os.path.isdir(root):
                entries.extend(os.path.join(root, "**", p) for p in list(patterns) + ["conftest.py"])
        if entries and self._watch.add(entries):
            self._track_new_watched()

    def watched_files(self):
        return self._watch.files


def _match(name, pattern):
    return fnmatch.fnmatch(name, pattern)


class TestLoop:
    """Runs the rounds; `run()` returns the exit status of the last one."""

    __test__ = False  # a test runner, not a test class

    def __init__(self, pytest_args=(), packages=None, exclude=None, watch=None, poll_interval=None,
                 reload_scope=None, affected_only=False, rootdir=None):
        self.pytest_args = list(pytest_args)
        self.affected_only = affected_only
        self.reloader = SuiteReloader(rootdir or os.getcwd(), packages=packages, exclude=exclude, watch=watch,
                                      poll_interval=poll_interval, reload_scope=reload_scope)
        self.test_modules = {}  # test file -> module name, as the last full collection saw it
        self.rounds = 0
        self.status = None
        self._interrupted = False
        self._seen_at = None
        self._recorded = {}  # test or conftest file -> the module whose imports the graph has
        self._affected = (None, None)  # (test files or None, why every test) for the next round
        self.reloader.on_changes = self._note_changes

    def forget_modules_imported_before(self):
        """Drops from sys.modules the user code imported before the loop
        existed (`pytest --reload-loop`: the outer session's conftest.py
        files and what they import), so that the first round imports it
        through the import tracker and it is tracked like the rest."""
        for name, module in list(sys.modules.items()):
            if module is not None and scope.can_infer(name) and scope.is_user_file(scope.module_file(module)):
                sys.modules.pop(name, None)

    # -- the loop ----------------------------------------------------------------

    def run(self):
        # Ctrl-C anywhere (in the wait, between two log lines, in a reload)
        # ends the loop; pytest handles it inside a session and reports the
        # round as interrupted (status 2).
        try:
            self.status = self._session_round(None)
            self._log_scope()
            while not self._interrupted:
                changed = self._wait_for_change()
                self.status = self._round(changed)
                logger.info("round %d: exit status %d, %.0f ms after the save was seen; waiting for saves",
                            self.rounds, self.status, (time.perf_counter() - self._seen_at) * 1000.0)
        except KeyboardInterrupt:
            pass
        if self.status is None:
            self.status = INTERRUPTED
        logger.info("test loop ends after %d rounds; exit status %d", self.rounds, self.status)
        return self.status

    def _wait_for_change(self):
        """Sleeps in the detector until a save, reloads it (the Reloader's
        transaction), and returns the stale files. Changes that the reload
        found to be noise (an editor's swap file in a watched directory)
        put it back to sleep."""
        while True:
            if self.reloader.detector.wait(_WAIT_STEP):
                self._seen_at = time.perf_counter()
                changed = self.reloader.reload_changes()
                if changed:
                    return changed

    # -- one round ---------------------------------------------------------------

    def _note_changes(self, stale):
        """Called by the reloader before each reload clears anything: which
        test files the stale files affect (added up over the reloads of one
        wait; None once any of them says every test)."""
        new_files = [p for p in self.reloader.watched_files()
                     if p not in self.test_modules and self._is_test_file(p)]
        graph = getattr(self.reloader, "import_graph", None)
        files, reason = affected_module.affected_test_files(graph, stale, self.test_modules, new_files)
        pending_files, pending_reason = self._affected
        if pending_reason is not None:
            return
        if files is None:
            self._affected = (None, reason)
        else:
            self._affected = ((pending_files or set()) | files, None)

    def _round(self, changed):
        files, reason = self._affected
        self._affected = (None, None)
        what = _describe_paths(changed)
        if files is None:
            logger.info("%s changed; running every test (%s)", what, reason or "no affected test files known")
            return self._session_round(None)
        if not files:
            logger.info("%s changed; no test module imports it%s", what,
                        "" if self.affected_only else ": running every test")
            if self.affected_only:
                return self._session_round(frozenset())
            return self._session_round(None)
        names = ", ".join(sorted(os.path.relpath(f) for f in files))
        logger.info("%s changed; running the affected tests%s: %s", what, "" if self.affected_only else " first", names)
        status = self._session_round(files)
        if self.affected_only or self._interrupted or status not in (OK, NO_TESTS_COLLECTED):
            return status
        if set(self.test_modules) <= set(files):
            return status  # the affected tests were all of them
        logger.info("the affected tests pass; running the rest")
        rest = self._session(skip=files)
        if rest == NO_TESTS_COLLECTED:
            return status
        return rest

    def _session_round(self, select):
        self.rounds += 1
        return self._session(select=select)

    def _session(self, select=None, skip=None):
        plugin = RoundPlugin(select=select, skip=skip)
        _remove_rewritten_bytecode(self.reloader.changes)
        self.reloader.begin_round()
        try:
            status = int(pytest.main(list(self.pytest_args), plugins=[plugin]))
        except KeyboardInterrupt:  # before or after pytest's own handling
            plugin.interrupted = True
            status = INTERRUPTED
        finally:
            self.reloader.end_round()
            sys.stdout.flush()
        self._interrupted = self._interrupted or plugin.interrupted
        self.reloader.set_test_patterns(plugin.patterns)
        self._record_roots(plugin)
        if select is None and skip is None:
            self.test_modules = dict(plugin.test_files)
        else:
            self.test_modules.update(plugin.test_files)
            # A part of the suite does not see deleted files go.
            self.test_modules = {p: n for p, n in self.test_modules.items() if os.path.exists(p)}
        self.reloader.watch_test_files(plugin.roots, plugin.patterns)
        self._restore_sys_path()
        return status

    def _record_roots(self, plugin):
        """Test modules and conftest.py files are the roots of the import
        graph, as an app's module is for a server: pytest imports them by
        name (which the graph would otherwise mark as importers it cannot
        tell), and through its assertion rewriter, whose loader the import
        tracker does not replace, so their import statements are scanned
        here, once per import."""
        graph = getattr(self.reloader, "import_graph", None)
        if graph is None:
            return
        modules = [(path, sys.modules.get(name)) for path, name in plugin.test_files.items()]
        modules.extend(plugin.conftests.items())
        for path, module in modules:
            if module is None or self._recorded.get(path) is module:
                continue
            name = module.__name__
            try:
                with open(path, "rb") as source:
                    code = compile(source.read(), path, "exec", dont_inherit=True)
            except (OSError, SyntaxError, ValueError):
                continue  # the next save brings it back
            package = name if hasattr(module, "__path__") else name.rpartition(".")[0]
            graph.record_code(name, code, package)
            graph.forget_unknown(name)
            self._recorded[path] = module

    def _is_test_file(self, path):
        name = os.path.basename(path)
        return any(_match(name, p) for p in self.reloader._test_patterns)

    def _restore_sys_path(self):
        """pytest's prepend import mode inserts test directories into
        sys.path for good; one entry each is enough, round after round."""
        seen = set()
        sys.path[:] = [p for p in sys.path if not (p in seen or seen.add(p))]

    def _log_scope(self):
        reloader = self.reloader
        reloader.detector.check()  # starts watching (logged) before the loop says it waits
        logger.info("test loop: %s; reloading %s%s; waiting for saves (%s, %d files tracked; Ctrl-C ends)",
                    "packages inferred" if not reloader._explicit_packages else "packages given",
                    ", ".join(reloader.packages) or "nothing yet",
                    " (kept: %s)" % ", ".join(reloader.exclude) if reloader.exclude else "",
                    reloader.detector.method,
                    reloader.detector.tracked_count)


def _remove_rewritten_bytecode(paths):
    """pytest's assertion rewriter caches a rewritten test module in
    __pycache__ keyed on the source's mtime in whole seconds and its size,
    as CPython does: two same-size saves within a second would run the old
    test. The changed files' cached copies are removed before they are
    imported again."""
    try:
        from _pytest.assertion.rewrite import PYC_TAIL, get_cache_dir
    except ImportError:  # another pytest: its cache is its own business
        return
    from pathlib import Path

    for path in paths:
        if path.endswith(".py"):
            source = Path(path)
            try:
                (get_cache_dir(source) / (source.name[:-3] + PYC_TAIL)).unlink()
            except OSError:
                pass
