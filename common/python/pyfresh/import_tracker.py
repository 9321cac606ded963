"""Sees every import of a module under a reloader's packages, as it happens.

One finder per interpreter sits first on ``sys.meta_path``. For a name that
some reloader covers it asks the other finders for the spec and then:

* tracks the module's file, statted *before* the loader reads it, so an edit
  made while the import runs is still seen as a change; this is also how
  modules imported lazily during requests become tracked, without scanning
  ``sys.modules`` per request, and how a file that fails to import is
  tracked although it never finished;
* tracks where a module that was not found would have been, so creating it
  later reloads (``try: import app.local_settings``, or a module the code
  imports before it is saved); likewise for a namespace package, the files
  that would replace it (see :func:`_namespace_candidates`);
* tracks the archive of a module imported from a zip file, whose inner
  path no stat can see;
* loads sources with :class:`FreshSourceLoader`, whose bytecode check cannot
  accept a stale ``.pyc``;
* while a reloader's reload runs, records the files it tracks in the
  :class:`~pyfresh.reload_transaction.ReloadTransaction` the reloader handed
  over (:meth:`ImportTracker.begin`), and takes from it which files to
  compile from source and which submodules a re-imported package keeps;
* feeds the import graphs (import_graph.py) that cover the name: the
  importing frames at this first import, and the module's code object, whose
  import statements are the rest of the graph.

A reloader given no package list is *inferring*: for every import the
finder resolves the spec itself (returning what the other finders would
have) and offers the module's file to the reloader, which adopts the
top-level package when the file is user code (see scope.py).
"""

import importlib.machinery
import os
import sys
import threading
import weakref
import zipimport

from . import import_graph

_SOURCE_SUFFIXES = tuple(importlib.machinery.SOURCE_SUFFIXES)


class FreshSourceLoader(importlib.machinery.SourceFileLoader):
    """A source loader that never runs stale bytecode.

    CPython accepts a ``.pyc`` whose recorded source mtime (whole seconds)
    and size match: two same-size edits within one second would run the old
    code. This loader stamps and checks bytecode with the nanosecond mtime
    instead (the ``.pyc`` format keeps its low 32 bits), and compiles from
    source any file the current reload found stale.
    """

    def __init__(self, fullname, path, force_source, kept_children, graphs=()):
        # kept_children: submodules of this module that stay in sys.modules
        # (excluded ones; in the dependents scope, those not cleared)
        super().__init__(fullname, path)
        self._force_source = force_source
        self._kept_children = kept_children
        self._graphs = graphs

    def path_stats(self, path):
        st = os.stat(path)
        return {"mtime": st.st_mtime_ns, "size": st.st_size}

    def get_code(self, fullname):
        if self.path in self._force_source:
            code = self.source_to_code(self.get_data(self.path), self.path)
        else:
            code = super().get_code(fullname)
        if self._graphs and code is not None:
            package = fullname if self.is_package(fullname) else fullname.rpartition(".")[0]
            for graph in self._graphs:
                graph.record_code(fullname, code, package)
        return code

    def exec_module(self, module):
        # Excluded submodules stay in sys.modules while their package is
        # re-imported; put them back as attributes of the new package object
        # so `import pkg.settings; pkg.settings.X` keeps working.
        for child in self._kept_children:
            kept = sys.modules.get(child)
            if kept is not None:
                setattr(module, child.rpartition(".")[2], kept)
        super().exec_module(module)


class ImportTracker:
    """The per-interpreter finder; reloaders register with it."""

    def __init__(self):
        self._reloaders = weakref.WeakSet()
        self._graphs = weakref.WeakSet()
        self._transactions = weakref.WeakKeyDictionary()  # reloader -> its ReloadTransaction in progress
        self._local = threading.local()

    # -- registration ------------------------------------------------------

    def register(self, reloader):
        self._reloaders.add(reloader)

    def unregister(self, reloader):
        self._reloaders.discard(reloader)

    def begin(self, reloader, transaction):
        """From now until end(reloader), imports for `reloader` are recorded
        in `transaction` and loaded as it says (forced sources, kept children)."""
        self._transactions[reloader] = transaction

    def end(self, reloader):
        self._transactions.pop(reloader, None)

    def add_graph(self, graph):
        """Feeds an ImportGraph (import_graph.py) from now on."""
        self._graphs.add(graph)

    def remove_graph(self, graph):
        self._graphs.discard(graph)

    # -- the finder protocol -------------------------------------------------

    def find_spec(self, name, path=None, target=None):
        if getattr(self._local, "busy", False):
            return None
        reloaders = list(self._reloaders)
        covering = [r for r in reloaders if r.covers(name)]
        # Reloaders without a package list adopt user code as it is imported.
        inferring = [r for r in reloaders if r.inferring and r not in covering]
        graphs = list(self._graphs)
        if not covering and not inferring and not any(g.covers(name) for g in graphs):
            return None
        self._local.busy = True
        try:
            spec = self._find_with_other_finders(name, path, target)
        finally:
            self._local.busy = False
        if spec is None:
            candidates = _missing_candidates(name, path)
            if covering:
                self._track(covering, candidates)
            graphs = [g for g in graphs if g.covers(name)]
            if graphs:
                # Who tried: creating the module must reload that importer.
                frame = sys._getframe(1)
                for graph in graphs:
                    graph.record_import(name, candidates, import_graph.stack_modules(frame), found=False)
            return None
        origin = spec.origin if spec.has_location else None
        if origin and inferring:
            covering.extend(r for r in inferring if r.adopt_module(name, origin))
        tracked = _files_behind(spec, name, path)
        if covering:
            self._track(covering, tracked)
        graphs = [g for g in graphs if g.covers(name)]
        if graphs:
            frame = sys._getframe(1)
            for graph in graphs:
                graph.record_import(name, tracked, import_graph.stack_modules(frame))
        if (covering or graphs) and type(spec.loader) is importlib.machinery.SourceFileLoader:
            force_source = set()
            kept = []
            for reloader in covering:
                transaction = self._transactions.get(reloader)
                if transaction is not None:
                    force_source |= transaction.force_source
                    kept.extend(transaction.kept_children(name))
            spec.loader = FreshSourceLoader(name, origin, force_source, kept, tuple(graphs))
            spec.loader_state = None
        return spec

    def invalidate_caches(self):
        pass

    def _track(self, reloaders, paths):
        for reloader in reloaders:
            reloader.track_files(paths)
            transaction = self._transactions.get(reloader)
            if transaction is not None:
                transaction.record(paths)

    def _find_with_other_finders(self, name, path, target):
        for finder in list(sys.meta_path):
            if finder is self:
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec = find_spec(name, path, target)
            if spec is not None:
                return spec
        return None


def source_file(spec):
    """The file whose change means the module of `spec` changed: its
    origin, or for a module imported from a zip archive (origin
    ``/srv/deps.zip/pkg/mod.py``, which no stat can see) the archive itself.
    None for a module without a file (built-in, namespace package)."""
    if spec is None or not spec.has_location or not spec.origin:
        return None
    archive = getattr(spec.loader, "archive", None)
    if isinstance(spec.loader, zipimport.zipimporter) and isinstance(archive, str):
        return archive
    return spec.origin


def _files_behind(spec, name, path):
    """The files to track for a module that was found: its source file,
    or for a namespace package (a directory without ``__init__.py``, which
    has no file of its own) the files whose creation would make the name
    import something else."""
    source = source_file(spec)
    if source is not None:
        return (source,)
    locations = spec.submodule_search_locations
    if spec.origin not in (None, "namespace") or locations is None:
        return ()
    return _namespace_candidates(name, path, locations)


def files_of_loaded_module(name, module):
    """What the finder would have tracked for a module imported before any
    reloader watched (a host that imported the app itself)."""
    spec = getattr(module, "__spec__", None)
    if spec is not None:
        parent = sys.modules.get(name.rpartition(".")[0]) if "." in name else None
        found = _files_behind(spec, name, getattr(parent, "__path__", None) if "." in name else None)
        if found:
            return found
    path = getattr(module, "__file__", None)
    return (path,) if isinstance(path, str) else ()


def _namespace_candidates(name, path, locations):
    """A namespace package is what an import finds only while no path entry
    holds a regular package or a module of that name: ``__init__.py`` in
    one of its directories turns it into a regular package, and ``name.py``
    or ``name/__init__.py`` in any entry of the parent's path (``sys.path``
    for a top-level name) shadows it. A directory left without its
    ``__init__.py`` for a moment (``rm -rf``, a ``git checkout`` between
    ``views/`` and ``views.py``, a leftover ``__pycache__``) is imported
    this way, and the reload that follows its repair must happen."""
    tail = name.rpartition(".")[2]
    entries = sys.path if path is None else path
    candidates = [os.path.join(location, "__init__.py") for location in list(locations)
                  if isinstance(location, str)]
    for entry in list(entries):
        if isinstance(entry, str):
            directory = entry or os.getcwd()
            candidates.append(os.path.join(directory, tail + ".py"))
            candidates.append(os.path.join(directory, tail, "__init__.py"))
    return tuple(dict.fromkeys(candidates))


def _missing_candidates(name, path):
    """Files whose creation would make `name` importable."""
    if path is None:
        return ()
    tail = name.rpartition(".")[2]
    candidates = []
    for directory in path:
        if isinstance(directory, str) and directory:
            candidates.append(os.path.join(directory, tail + ".py"))
            candidates.append(os.path.join(directory, tail))
    return candidates


_install_lock = threading.Lock()


def tracker():
    """The ImportTracker of this interpreter, installed first on sys.meta_path."""
    with _install_lock:
        for finder in sys.meta_path:
            if type(finder).__name__ == "ImportTracker" and hasattr(finder, "register"):
                if sys.meta_path[0] is not finder:
                    sys.meta_path.remove(finder)
                    sys.meta_path.insert(0, finder)
                return finder
        finder = ImportTracker()
        sys.meta_path.insert(0, finder)
        return finder
