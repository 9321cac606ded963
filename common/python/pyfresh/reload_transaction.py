"""One reload's work in progress, as an object.

A reload clears modules from ``sys.modules``, imports the app again and
either keeps the result or puts everything back. While it runs, the import
tracker (import_tracker.py) needs three answers about it, and is handed the
transaction to get them (``ImportTracker.begin``/``end``):

* which files the import read (``record``): they were tracked just before
  they were read, so the reload accepts them at exactly that state;
* which files must be compiled from source whatever their bytecode says
  (``force_source``: the ones found stale);
* which submodules of a re-imported package stay in ``sys.modules``
  (``kept_children``: excluded ones), to be set on the new package object.

On failure ``restore`` takes out what the attempt imported and puts back
what was cleared, package attributes included, and the hooks the cleared
modules had registered.
"""

import sys

from . import hooks


class ReloadTransaction:
    """What one reload (or one test-loop round) cleared, records and forces."""

    def __init__(self, force_source=()):
        self.saved = {}  # cleared module name -> the module it was
        self.after_clear = None  # sys.modules as the clearing left it
        self.recorded = set()  # files the import tracker tracked while this ran
        self.force_source = frozenset(force_source)
        self.kept_by_parent = {}  # package name -> its submodules left in sys.modules
        self.restored = 0  # modules put back by restore()
        self.error = None  # the exception of a failed attempt
        self.failed_importing = False  # it failed in the app's import (not in an integration's step)
        self._taken_hooks = None

    # -- asked by the import tracker -------------------------------------------

    def record(self, paths):
        self.recorded.update(paths)

    def kept_children(self, name):
        return self.kept_by_parent.get(name, ())

    # -- clearing and putting back -----------------------------------------------

    def clear(self, candidates, clears, in_place):
        """Removes from sys.modules each of `candidates` that `clears(name)`
        and keeps it for restore(). `in_place`: packages left in sys.modules
        keep their cleared submodules as attributes (the dependents scope),
        so `from pkg import sub` would take the old one without importing
        it: those attributes go (the import sets the new ones)."""
        saved = self.saved
        for name in candidates:
            if clears(name):
                module = sys.modules.pop(name, None)
                if module is not None:
                    saved[name] = module
        if in_place:
            for name, module in saved.items():
                _unset_parent_attribute(name, module)
        self.after_clear = dict(sys.modules)
        # The cleared modules register their hooks again as they are re-imported.
        self._taken_hooks = hooks.take_owned(lambda owner: owner in saved)

    def keep_excluded_children(self, is_excluded):
        """Excluded submodules stay attributes of a re-imported package (in
        the dependents scope the others go with their package:
        ImportGraph.dependents)."""
        kept_by_parent = {}
        for name in list(sys.modules):
            if "." in name and is_excluded(name):
                kept_by_parent.setdefault(name.rpartition(".")[0], []).append(name)
        self.kept_by_parent = kept_by_parent

    def imported(self, covers):
        """Names of the modules under `covers` that the attempt imported."""
        after_clear = self.after_clear or {}
        return {n for n, m in list(sys.modules.items()) if after_clear.get(n) is not m and covers(n)}

    def restore(self, covers):
        """Undoes the attempt: the modules under `covers` it imported go,
        the cleared ones come back (with their package attributes), and so
        do their hooks; the hooks the attempt registered go, whether their
        module was kept or not (a module that raised is out of sys.modules)."""
        saved = self.saved
        after_clear = self.after_clear or {}
        for name in self.imported(covers):
            module = sys.modules.pop(name, None)
            _unset_parent_attribute(name, module)
        sys.modules.update(saved)
        for name, module in saved.items():
            _set_parent_attribute(name, module)
        hooks.take_owned(lambda owner: owner is not None and owner not in after_clear and covers(owner))
        if self._taken_hooks is not None:
            hooks.put_back(self._taken_hooks)
        self.restored = len(saved)


def _set_parent_attribute(name, module):
    """Points the package's attribute for submodule `name` at `module`, as
    the import system does, when the package is loaded."""
    parent_name, _, tail = name.rpartition(".")
    parent = sys.modules.get(parent_name) if parent_name else None
    if parent is not None and getattr(parent, tail, None) is not module:
        try:
            setattr(parent, tail, module)
        except (AttributeError, TypeError):
            pass


def _unset_parent_attribute(name, module):
    """Removes the package's attribute for submodule `name` if it still
    is `module` (a cleared or discarded version)."""
    parent_name, _, tail = name.rpartition(".")
    parent = sys.modules.get(parent_name) if parent_name else None
    if parent is not None and module is not None and getattr(parent, tail, None) is module:
        try:
            delattr(parent, tail)
        except (AttributeError, TypeError):
            pass
