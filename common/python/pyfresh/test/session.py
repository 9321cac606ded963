"""The plugin one round's pytest session runs with: keeps pyfresh's import
tracker ahead of the session's assertion rewriter, selects the part of the
suite the round runs, and reports what the session collected."""

import fnmatch
import os

import pytest

from .. import import_tracker


class RoundPlugin:
    """One pytest session of a round.

    `select`: run only these test files (absolute paths); `skip`: run all but
    these; neither: everything. Afterwards `test_files` maps each collected
    test file to its module name, `conftests` lists the conftest.py files
    the session loaded (path -> module), `roots` the paths it was asked to collect, and
    `interrupted` says whether Ctrl-C stopped it."""

    def __init__(self, select=None, skip=None):
        self.select = None if select is None else frozenset(select)
        self.skip = frozenset(skip or ())
        self.test_files = {}
        self.conftests = {}  # path -> module
        self.roots = []
        self.patterns = ["test_*.py", "*_test.py"]
        self.interrupted = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_load_initial_conftests(self, early_config):
        # This session's AssertionRewritingHook was just put first on
        # sys.meta_path. The tracker goes before it again: it sees every
        # import (a test module is tracked before it is read) and hands the
        # spec the rewriter found back unchanged, so asserts are rewritten.
        import_tracker.tracker()
        self.patterns = list(early_config.getini("python_files")) or self.patterns

    def is_test_file(self, path):
        name = os.path.basename(path)
        return any(fnmatch.fnmatch(name, pattern) for pattern in self.patterns)

    def _excluded(self, path):
        if path in self.skip:
            return True
        return self.select is not None and path not in self.select and self.is_test_file(path)

    def pytest_ignore_collect(self, collection_path):
        # Not importing the other part's modules is the point of running
        # the affected tests first.
        path = str(collection_path)
        if path.endswith(".py") and self._excluded(path):
            return True
        return None

    def pytest_plugin_registered(self, plugin):
        path = getattr(plugin, "__file__", None)
        if isinstance(path, str) and os.path.basename(path) == "conftest.py":
            self.conftests[os.path.abspath(path)] = plugin

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        self.roots = _roots(config)
        kept, dropped = [], []
        for item in items:
            module = item.getparent(pytest.Module)
            path = str(module.path) if module is not None else str(item.path)
            if module is not None:
                self.test_files[path] = module.obj.__name__
            # Files named on the command line are collected whatever
            # pytest_ignore_collect says.
            (dropped if self._excluded(path) else kept).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept

    def pytest_keyboard_interrupt(self, excinfo):
        # Collection errors end a session with Session.Interrupted, a
        # KeyboardInterrupt too: only the real one ends the loop.
        if excinfo.errisinstance(KeyboardInterrupt) and not excinfo.errisinstance(pytest.Session.Interrupted):
            self.interrupted = True


def _roots(config):
    """The paths the session collects (its arguments, or testpaths, or the
    invocation directory), absolute, without ::test selections."""
    roots = []
    base = str(config.invocation_params.dir)
    for arg in config.args:
        path = str(arg).split("::", 1)[0]
        if path and not path.startswith("-"):
            path = os.path.normpath(os.path.join(base, path))
            if os.path.exists(path):
                roots.append(path)
    return roots
