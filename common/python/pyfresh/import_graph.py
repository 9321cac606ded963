"""Who imported whom among the modules under the packages.

Public, stable for now (the ``dependents`` reload scope and the test loop
build on it)::

    graph = reloader.import_graph            # or ImportGraph(covers=fn), track(graph)
    names, why_not = graph.dependents({"app.util"})
    # names: "app.util" and every recorded module that imports it, directly
    # or transitively; why_not: None, or a short text saying why the answer
    # cannot be trusted (then use the whole package scope instead)
    graph.importers("app.util")              # the direct importers (a set)
    graph.modules_of_files(["/srv/app/util.py"])   # module names of those files

How the graph is recorded, at import time only (nothing per request):

* **Import statements.** When a module under the packages is loaded from
  source, the import tracker hands its code object here; every
  ``IMPORT_NAME`` in it and in its nested functions and classes (a lazy
  import inside a view counts, whether or not it ran) is resolved against
  the module's package (``from . import x``, ``from .a import b``,
  ``from .. import y``) and gives edges to the module and, for
  ``from a import b``, to ``a.b`` too (``b`` may be a submodule). This
  also sees ``from a import b`` of a module imported long before, which
  never reaches a finder.
* **The importing frame at first import.** For an import that reaches the
  finder, the nearest frame of a module under the packages is the
  importer: the module running an import statement, or the one that called
  ``importlib.import_module``/``__import__`` (directly, with a computed
  name, or through a library such as Django's ``include('app.urls')``).
  These edges are kept until the imported module is imported again.
* **Unknown importers.** A module whose importers cannot be told is marked
  with the reason, and ``dependents`` reaching it answers with that reason:
  imported before tracking began (``mark_unknown``), or imported by name by
  code outside the packages with no module of the packages on the stack
  (a framework's ``import_module`` during a request). The app's own module,
  imported by pyfresh's app loader, is the root and never unknown.

Cycles need no order: the set is closed under "imports", so every member of
a cycle that reaches a stale module is in it. The loaded submodules of a
package in the set are in it too: ``import a.b.c`` finds ``a.b.c`` loaded
and would never import the new ``a.b``.

Changes made while a reload imports can be undone: ``begin()`` starts a
journal, ``rollback()`` puts back what was recorded before, ``commit()``
keeps the new edges.
"""

import dis
import sys
import threading
import types
from time import perf_counter_ns as _now

__all__ = ["ImportGraph", "scan_imports", "resolve_name", "track", "untrack", "record_startup_imports",
           "adopt_startup_imports", "end_startup_imports"]

_IMPORT_NAME = dis.opmap["IMPORT_NAME"]
_LOAD_CONST = dis.opmap["LOAD_CONST"]
_LOAD_SMALL_INT = dis.opmap.get("LOAD_SMALL_INT", -1)  # 3.14: small ints (the level) without a constant
_EXTENDED_ARG = dis.opmap["EXTENDED_ARG"]
_CACHE = dis.opmap.get("CACHE", -1)

# Modules whose frames are the import machinery, not an importer.
_MACHINERY_MODULES = frozenset(("importlib", "importlib._bootstrap", "importlib._bootstrap_external",
                                "_frozen_importlib", "_frozen_importlib_external", "pyfresh.import_tracker",
                                "pyfresh.import_graph"))
# A module imported from these frames is the app itself: always re-imported.
_ROOT_IMPORTERS = frozenset(("pyfresh.app_loader",))
_MAX_FRAMES = 200


def resolve_name(name, package, level):
    """The absolute name of ``name`` imported with ``level`` dots from a
    module whose ``__package__`` is ``package``; None when it goes above
    the top-level package (the import would raise)."""
    if not level:
        return name
    if not package:
        return None
    bits = package.rsplit(".", level - 1)
    if len(bits) < level:
        return None
    base = bits[0]
    return "%s.%s" % (base, name) if name else base


def scan_imports(code, package):
    """The absolute module names the code object (and every code object
    nested in it) may import: for ``import a.b.c`` a, a.b and a.b.c (it
    binds ``a``); for ``from a.b import c, d`` a.b, a.b.c and a.b.d (a name
    in a fromlist may be a submodule), not ``a``; a star import gives its
    module."""
    found = set()
    stack = [code]
    while stack:
        current = stack.pop()
        for const in current.co_consts:
            if isinstance(const, types.CodeType):
                stack.append(const)
        for name, level, fromlist in _import_instructions(current):
            absolute = resolve_name(name, package, level)
            if absolute is None:
                continue
            if fromlist is None:
                # `import a.b.c` binds `a` and reaches the rest as attributes.
                parts = absolute.split(".")
                for i in range(1, len(parts)):
                    found.add(".".join(parts[:i]))
            found.add(absolute)
            for item in fromlist or ():
                if isinstance(item, str) and item != "*":
                    found.add("%s.%s" % (absolute, item))
    found.discard("")
    return found


def _import_instructions(code):
    """(name, level, fromlist) of each IMPORT_NAME of one code object, from
    the raw bytecode: found with bytes.find (most code has a few imports or
    none), then the two instructions before it, which load level and
    fromlist, read backwards. Microseconds per module, where walking every
    instruction (dis.get_instructions) costs a hundred times more."""
    raw = code.co_code
    names = code.co_names
    consts = code.co_consts
    result = []
    position = raw.find(_IMPORT_NAME_BYTE)
    while position != -1:
        if position % 2 == 0:
            arg, start = _arg_at(raw, position)
            fromlist_op, fromlist_arg, start = _instruction_before(raw, start)
            level_op, level_arg, _start = _instruction_before(raw, start)
            level = _constant((level_op, level_arg), consts)
            fromlist = _constant((fromlist_op, fromlist_arg), consts)
            if not isinstance(level, int):
                level = 0
            if not isinstance(fromlist, tuple):
                fromlist = None
            if arg < len(names):
                result.append((names[arg], level, fromlist))
        position = raw.find(_IMPORT_NAME_BYTE, position + 1)
    return result


_IMPORT_NAME_BYTE = bytes((_IMPORT_NAME,))


def _arg_at(raw, position):
    """The full argument of the instruction at `position` (its
    EXTENDED_ARG prefixes included) and where its first prefix starts."""
    arg = raw[position + 1]
    shift = 8
    start = position
    while start >= 2 and raw[start - 2] == _EXTENDED_ARG:
        start -= 2
        arg |= raw[start + 1] << shift
        shift += 8
    return arg, start


def _instruction_before(raw, start):
    """(op, arg, where it starts) of the instruction that ends at `start`;
    (None, None, start) at the beginning."""
    if start < 2:
        return None, None, start
    position = start - 2
    arg, first = _arg_at(raw, position)
    return raw[position], arg, first


def _constant(instruction, consts):
    op, arg = instruction
    if op == _LOAD_CONST and arg is not None and arg < len(consts):
        return consts[arg]
    if op == _LOAD_SMALL_INT:
        return arg
    return None


class ImportGraph:
    """The import graph of the modules `covers(name)` says yes to.

    Recorded through the import tracker (see import_tracker.py): a
    Reloader's graph covers its packages; a standalone one is handed to
    ``track(graph)``. Thread-safe; every method is cheap except
    ``dependents``, which is linear in the edges it walks."""

    def __init__(self, covers=None):
        self._covers = covers if covers is not None else (lambda name: True)
        self._lock = threading.RLock()
        self._static = {}           # importer -> frozenset of names its code imports
        self._static_importers = {}  # name -> set of importers (reverse of _static)
        self._runtime = {}          # name -> set of importers seen at its first import
        self._unknown = {}          # name -> why its importers cannot be told
        self._files = {}            # path -> set of module names loaded (or missed) from it
        self._paths = {}            # name -> tuple of its paths
        self._journal = None        # during a transaction: key -> value before it
        self._seen = set()          # names whose import the tracker saw
        self.recorded_ns = 0        # time spent recording, for the benchmark

    def covers(self, name):
        try:
            return bool(self._covers(name))
        except Exception:
            return False

    # -- queries -------------------------------------------------------------------

    def importers(self, name):
        """The modules recorded as importing `name` directly."""
        with self._lock:
            return set(self._static_importers.get(name, ())) | set(self._runtime.get(name, ()))

    def knows(self, name):
        """True once the import of `name` was recorded."""
        with self._lock:
            return name in self._seen

    def unknown_reason(self, name):
        with self._lock:
            return self._unknown.get(name)

    def modules_of_files(self, paths):
        """The module names whose source file (or, for a module not found or
        a namespace package, a file whose creation would change what the
        import finds) is one of `paths`."""
        found = set()
        with self._lock:
            for path in paths:
                found.update(self._files.get(path, ()))
        return found

    def dependents(self, names, accounted_for=()):
        """(set, fallback_reason): `names` plus every recorded module that
        imports one of them, directly or transitively, and the submodules of
        every package among them, limited to modules
        loaded now (an importer that is not loaded holds nothing old);
        fallback_reason is None, or why the set cannot be trusted: one of
        them (loaded) has importers that could not be told. Names in
        `accounted_for` are not asked that (a framework integration knows
        who imports them)."""
        names = set(names)
        modules = sys.modules
        with self._lock:
            seen = set(names)
            todo = list(names)
            while todo:
                # The names this round adds; only a package among them (or a
                # name not loaded) can have loaded submodules to add.
                added = set(todo)
                while todo:
                    name = todo.pop()
                    for importer in self._static_importers.get(name, ()):
                        if importer not in seen:
                            seen.add(importer)
                            added.add(importer)
                            todo.append(importer)
                    for importer in self._runtime.get(name, ()):
                        if importer not in seen:
                            seen.add(importer)
                            added.add(importer)
                            todo.append(importer)
                if not any(_may_have_submodules(modules.get(name)) for name in added):
                    break  # a scan of every loaded module (~0.5 ms at 1,300) would find nothing
                # The loaded submodules of a package in the set: `import
                # a.b.c` finds a.b.c loaded and never imports a new a.b.
                for name in list(modules):
                    if "." not in name or name in seen:
                        continue
                    parent = name.rpartition(".")[0]
                    while parent:
                        if parent in seen:
                            if self.covers(name):
                                seen.add(name)
                                todo.append(name)
                            break
                        parent = parent.rpartition(".")[0]
            result = {n for n in seen if n in names or n in modules}
            for name in sorted(result):
                reason = self._unknown.get(name)
                if reason is not None and name in modules and name not in accounted_for:
                    return result, "%s: %s" % (name, reason)
        return result, None

    def __len__(self):
        with self._lock:
            return len(self._paths.keys() | self._static.keys() | self._runtime.keys())

    # -- recording (called by the import tracker) ----------------------------------

    def record_code(self, name, code, package):
        """The import statements of module `name` (whose __package__ is
        `package`), replacing what its previous version imported."""
        started = _now()
        self._record_targets(name, frozenset(t for t in scan_imports(code, package) if t != name))
        self.recorded_ns += _now() - started

    def _record_targets(self, name, targets):
        with self._lock:
            self._save(("static", name), self._static.get(name))
            old = self._static.get(name, frozenset())
            for target in old - targets:
                importers = self._static_importers.get(target)
                if importers is not None:
                    self._save_importers(target)
                    importers.discard(name)
            for target in targets - old:
                self._save_importers(target)
                self._static_importers.setdefault(target, set()).add(name)
            self._static[name] = targets

    def record_import(self, name, paths, stack_modules, found=True):
        """The first import of `name` (or an attempt, `found` False), from
        files `paths`, with `stack_modules` the ``__name__`` of each frame
        from the import request outwards (the machinery's frames left out).
        The importer adds to those seen at earlier imports of `name`: a
        module that imported it by name and was re-imported while `name`
        stayed loaded reaches no finder again, so an edge is never dropped
        (at worst a reload clears one module too many). The unknown mark is
        that of this import."""
        started = _now()
        importer, reason = self._importer_of(name, stack_modules)
        with self._lock:
            self._seen.add(name)
            self._save(("runtime", name), self._runtime.get(name))
            self._save(("unknown", name), self._unknown.get(name))
            self._set_paths(name, tuple(paths))
            if importer is not None:
                self._runtime[name] = set(self._runtime.get(name, ())) | {importer}
            if reason is not None and found:
                self._unknown[name] = reason
            else:
                self._unknown.pop(name, None)
        self.recorded_ns += _now() - started

    def add_importer(self, name, importer):
        """Records an edge the tracker could not see (an integration's)."""
        with self._lock:
            self._save(("runtime", name), self._runtime.get(name))
            self._runtime[name] = set(self._runtime.get(name, ())) | {importer}

    def mark_unknown(self, name, reason, paths=()):
        """`name`'s importers cannot be told (imported before tracking began)."""
        with self._lock:
            self._save(("unknown", name), self._unknown.get(name))
            self._unknown[name] = reason
            if paths:
                self._set_paths(name, tuple(paths))

    def forget_unknown(self, name):
        """An integration accounts for `name`'s importers."""
        with self._lock:
            if name in self._unknown:
                self._save(("unknown", name), self._unknown.get(name))
                del self._unknown[name]

    def _importer_of(self, name, stack_modules):
        # An iterator: the frames further out are only looked at when the
        # requester is not a module of the packages (rare).
        frames = iter(stack_modules)
        requester = next(frames, None)
        if requester is not None and requester != name and self.covers(requester):
            return requester, None
        if requester in _ROOT_IMPORTERS:
            return None, None
        for module_name in frames:
            if module_name in _ROOT_IMPORTERS:
                break
            if module_name != name and self.covers(module_name):
                return module_name, None
        if requester is None:
            return None, "imported with no Python code on the stack"
        return None, ("imported by name from %s, with no module of the packages on the stack"
                      % requester)

    def _set_paths(self, name, paths):
        old = self._paths.get(name, ())
        if old == paths:
            return
        self._save(("paths", name), old)
        for path in old:
            self._save_files(path)
            names = self._files.get(path)
            if names is not None:
                names.discard(name)
                if not names:
                    del self._files[path]
        for path in paths:
            self._save_files(path)
            self._files.setdefault(path, set()).add(name)
        self._paths[name] = paths

    # -- transactions ----------------------------------------------------------------

    def begin(self):
        """Starts recording what changes, so that rollback() can undo it."""
        with self._lock:
            self._journal = {}

    def commit(self):
        with self._lock:
            self._journal = None

    def rollback(self):
        """Puts back every edge, mark and path as they were at begin()."""
        with self._lock:
            journal, self._journal = self._journal, None
            if not journal:
                return
            for (kind, key), value in journal.items():
                if kind == "static":
                    _put(self._static, key, value)
                elif kind == "static_importers":
                    _put(self._static_importers, key, value)
                elif kind == "runtime":
                    _put(self._runtime, key, value)
                elif kind == "unknown":
                    _put(self._unknown, key, value)
                elif kind == "paths":
                    _put(self._paths, key, value or None)
                elif kind == "files":
                    _put(self._files, key, value)

    def _save(self, key, value):
        journal = self._journal
        if journal is not None and key not in journal:
            journal[key] = set(value) if isinstance(value, set) else value

    def _save_importers(self, target):
        journal = self._journal
        key = ("static_importers", target)
        if journal is not None and key not in journal:
            old = self._static_importers.get(target)
            journal[key] = set(old) if old is not None else None

    def _save_files(self, path):
        journal = self._journal
        key = ("files", path)
        if journal is not None and key not in journal:
            old = self._files.get(path)
            journal[key] = set(old) if old is not None else None


def _may_have_submodules(module):
    """A loaded package, or a name not loaded (whose submodules a failed
    import may have left behind)."""
    return module is None or getattr(module, "__path__", None) is not None


def _put(mapping, key, value):
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value


def stack_modules(start_frame):
    """The ``__name__`` of each frame from `start_frame` outwards, the
    import machinery's frames (importlib, the tracker) left out; a
    generator, walked only as far as needed."""
    frame = start_frame
    depth = 0
    while frame is not None and depth < _MAX_FRAMES:
        module_name = frame.f_globals.get("__name__")
        if module_name not in _MACHINERY_MODULES and not frame.f_code.co_filename.startswith("<frozen importlib"):
            yield module_name if isinstance(module_name, str) else "?"
        frame = frame.f_back
        depth += 1


def track(graph):
    """Records imports into a standalone ImportGraph from now on."""
    from . import import_tracker
    import_tracker.tracker().add_graph(graph)
    return graph


def untrack(graph):
    from . import import_tracker
    import_tracker.tracker().remove_graph(graph)


# -- imports made before any Reloader exists ---------------------------------------
#
# A host that imports the app itself (uWSGI's python plugin, in the master
# before fork) creates the Reloader afterwards: every module of the app would
# be "imported before pyfresh tracked imports", and each worker's first
# reload in the dependents scope would clear the whole packages. The host
# starts a recording just before it loads its apps; each Reloader created
# afterwards replays into its own graph the records of the modules it
# covers, as if it had existed all along.


class _StartupRecording(ImportGraph):
    """Keeps what the tracker reports, in order, for the user's own modules
    (outside the standard library and site-packages, or under `packages`):
    which packages a Reloader will cover is not known yet. Covering only
    those keeps the standard library's imports on their own loader."""

    def __init__(self, packages=()):
        super().__init__(covers=self._is_user_module)
        self._packages = tuple(packages)
        self._user_tops = {}  # top-level name -> bool
        self.events = []

    def _is_user_module(self, name):
        for package in self._packages:
            if name == package or name.startswith(package + "."):
                return True
        top = name.partition(".")[0]
        user = self._user_tops.get(top)
        if user is None:
            from . import scope
            user = scope.can_infer(top) and scope.not_user_code(top) is None
            self._user_tops[top] = user
        return user

    def record_code(self, name, code, package):
        started = _now()
        targets = frozenset(t for t in scan_imports(code, package) if t != name)
        with self._lock:
            self.events.append(("code", name, targets))
        self.recorded_ns += _now() - started

    def record_import(self, name, paths, stack_modules, found=True):
        started = _now()
        frames = []
        for module_name in stack_modules:
            frames.append(module_name)
            # A Reloader's graph looks no further than the first root frame.
            if module_name in _ROOT_IMPORTERS or len(frames) >= _MAX_FRAMES:
                break
        with self._lock:
            self.events.append(("import", name, tuple(paths), tuple(frames), found))
        self.recorded_ns += _now() - started


_startup = None
_startup_lock = threading.Lock()


def record_startup_imports(packages=()):
    """Starts recording imports for the Reloaders still to be created in
    this interpreter (a host calls it before it imports its apps; calling it
    again while recording does nothing)."""
    global _startup
    with _startup_lock:
        if _startup is None:
            _startup = track(_StartupRecording(packages))
        return _startup


def adopt_startup_imports(graph, root=None):
    """Replays into `graph` the recorded imports of the modules it covers.
    `root`: the app's module, imported by the host (its loader has no Python
    frame of ours on the stack): like the app loader's import, its importers
    are not unknown, nor those of its parent packages, imported with it."""
    recording = _startup
    if recording is None:
        return
    with recording._lock:
        events = list(recording.events)
    roots = set()
    while root:
        roots.add(root)
        root = root.rpartition(".")[0]
    for event in events:
        name = event[1]
        if not graph.covers(name):
            continue
        if event[0] == "code":
            graph._record_targets(name, event[2])
        else:
            graph.record_import(name, event[2], iter(event[3]), found=event[4])
            if name in roots:
                graph.forget_unknown(name)


def end_startup_imports():
    """Stops the recording (the host created its Reloaders) and drops it."""
    global _startup
    with _startup_lock:
        recording, _startup = _startup, None
    if recording is not None:
        untrack(recording)
