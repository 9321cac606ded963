"""The import graph (pyfresh/import_graph.py): what it records and what
dependents() answers, on its own and fed by the import tracker."""

import importlib
import sys

import pytest

from pyfresh import import_graph
from pyfresh.import_graph import ImportGraph, resolve_name, scan_imports


def _code(source):
    return compile(source, "<test>", "exec")


# -- scanning import statements --------------------------------------------------------------


@pytest.mark.parametrize("name, package, level, expected", [
    ("x", "a.b", 0, "x"),
    ("", "a.b", 1, "a.b"),          # from . import x (inside package a.b)
    ("c", "a.b", 1, "a.b.c"),        # from .c import y
    ("", "a.b", 2, "a"),             # from .. import y
    ("d", "a.b", 2, "a.d"),
    ("x", "a", 2, None),             # above the top-level package
    ("x", "", 1, None),
])
def test_resolve_name(name, package, level, expected):
    assert resolve_name(name, package, level) == expected


def test_scan_finds_every_form_of_import():
    found = scan_imports(_code(
        "import a.b.c\n"
        "from d import e, f\n"
        "from . import sibling\n"
        "from .sub import thing\n"
        "from .. import up\n"
        "from g import *\n"
        "import h as alias\n"), "pkg.inner")
    assert {"a", "a.b", "a.b.c", "d", "d.e", "d.f", "pkg.inner", "pkg.inner.sibling",
            "pkg.inner.sub", "pkg.inner.sub.thing", "pkg", "pkg.up", "g", "h"} == found
    assert "g.*" not in found
    # `from .sub import thing` binds nothing of the package itself.
    assert "pkg" not in scan_imports(_code("from .sub import thing\n"), "pkg")


def test_scan_sees_imports_inside_functions_classes_and_nested_code():
    found = scan_imports(_code(
        "def view():\n"
        "    import lazy.one\n"
        "    def inner():\n"
        "        from .deep import two\n"
        "    return inner\n"
        "class K:\n"
        "    def m(self):\n"
        "        from three import x\n"
        "f = lambda: __import__('not_a_statement')\n"), "pkg")
    assert {"lazy.one", "pkg.deep", "pkg.deep.two", "three", "three.x"} <= found
    # A call of __import__ with a string is not an import statement.
    assert "not_a_statement" not in found


def test_scan_of_a_module_with_many_names_uses_extended_args():
    source = "".join("v%d = %d\n" % (i, i) for i in range(400)) + "from far.away import z\n"
    assert {"far.away", "far.away.z"} <= scan_imports(_code(source), "")


# -- dependents, on a graph fed by hand --------------------------------------------------------


class _Modules:
    """Puts placeholder modules into sys.modules (dependents() answers with
    loaded modules only)."""

    def __init__(self, monkeypatch):
        self._monkeypatch = monkeypatch

    def load(self, *names):
        for name in names:
            self._monkeypatch.setitem(sys.modules, name, type(sys)(name))


@pytest.fixture
def loaded(monkeypatch):
    return _Modules(monkeypatch)


def _graph(edges, covers=None):
    """edges: importer -> source text of its imports."""
    graph = ImportGraph(covers or (lambda n: n.startswith("g_")))
    for importer, source in edges.items():
        graph.record_code(importer, _code(source), importer.rpartition(".")[0])
    return graph


def test_diamond(loaded):
    loaded.load("g_top", "g_left", "g_right", "g_base", "g_other")
    graph = _graph({"g_top": "import g_left, g_right", "g_left": "import g_base",
                    "g_right": "from g_base import thing", "g_other": "import g_right"})
    assert graph.dependents({"g_base"}) == ({"g_base", "g_left", "g_right", "g_top", "g_other"}, None)
    assert graph.dependents({"g_left"}) == ({"g_left", "g_top"}, None)
    assert graph.importers("g_base") == {"g_left", "g_right"}


def test_cycle_is_cleared_whole(loaded):
    loaded.load("g_a", "g_b", "g_c", "g_user")
    graph = _graph({"g_a": "import g_b", "g_b": "import g_c", "g_c": "import g_a", "g_user": "import g_b"})
    assert graph.dependents({"g_c"}) == ({"g_a", "g_b", "g_c", "g_user"}, None)


def test_only_loaded_importers_are_answered(loaded):
    loaded.load("g_leaf", "g_loaded")
    graph = _graph({"g_loaded": "import g_leaf", "g_gone": "import g_leaf"})
    assert graph.dependents({"g_leaf"}) == ({"g_leaf", "g_loaded"}, None)


def test_a_new_version_of_a_module_replaces_its_static_edges(loaded):
    loaded.load("g_leaf", "g_user", "g_new")
    graph = _graph({"g_user": "import g_leaf"})
    graph.record_code("g_user", _code("import g_new"), "")
    assert graph.importers("g_leaf") == set()
    assert graph.importers("g_new") == {"g_user"}


def test_unknown_importers_make_the_answer_untrusted(loaded):
    loaded.load("g_leaf", "g_mid", "g_top")
    graph = _graph({"g_mid": "import g_leaf", "g_top": "import g_mid"})
    graph.mark_unknown("g_mid", "imported before pyfresh tracked imports")
    names, why = graph.dependents({"g_leaf"})
    assert names == {"g_leaf", "g_mid", "g_top"}
    assert why == "g_mid: imported before pyfresh tracked imports"
    graph.forget_unknown("g_mid")
    assert graph.dependents({"g_leaf"})[1] is None


def test_runtime_importer_is_the_nearest_module_of_the_packages_on_the_stack(loaded):
    loaded.load("g_plugin", "g_urls", "g_loader")
    graph = ImportGraph(lambda n: n.startswith("g_"))
    # The module running the import itself.
    graph.record_import("g_plugin", ["/x/g_plugin.py"], ["g_loader", "somelib"])
    # Through a library (Django's include() called by the URL conf).
    graph.record_import("g_views", ["/x/g_views.py"], ["django.urls.conf", "g_urls", "somelib"])
    assert graph.importers("g_plugin") == {"g_loader"}
    assert graph.importers("g_views") == {"g_urls"}
    # Edges add up over imports: a module that imported it by name later
    # never reaches a finder again.
    graph.record_import("g_plugin", ["/x/g_plugin.py"], ["g_urls"])
    assert graph.importers("g_plugin") == {"g_loader", "g_urls"}


def test_a_module_imported_by_name_from_outside_the_packages_is_unknown(loaded):
    loaded.load("g_conf")
    graph = ImportGraph(lambda n: n.startswith("g_"))
    graph.record_import("g_conf", ["/x/g_conf.py"], ["django.urls.resolvers", "django.core.handlers.base"])
    names, why = graph.dependents({"g_conf"})
    assert names == {"g_conf"}
    assert "imported by name from django.urls.resolvers" in why
    # The app's own module, imported by pyfresh's app loader, is the root.
    graph.record_import("g_app", ["/x/g_app.py"], ["pyfresh.app_loader", "pyfresh.reloader", "g_conf"])
    loaded.load("g_app")
    assert graph.dependents({"g_app"}) == ({"g_app"}, None)


def test_modules_of_files_and_missing_modules(loaded):
    loaded.load("g_views")
    graph = ImportGraph(lambda n: n.startswith("g_"))
    graph.record_import("g_util", ["/x/g_util.py"], ["g_views"])
    graph.record_import("g_local", ["/x/g_local.py", "/x/g_local"], ["g_views"], found=False)
    assert graph.modules_of_files(["/x/g_util.py", "/elsewhere.py"]) == {"g_util"}
    # Creating a module that was not found reloads the module that tried.
    assert graph.modules_of_files(["/x/g_local"]) == {"g_local"}
    assert graph.dependents({"g_local"}) == ({"g_local", "g_views"}, None)


def test_rollback_puts_back_what_a_failed_reload_recorded(loaded):
    loaded.load("g_leaf", "g_user", "g_new")
    graph = _graph({"g_user": "import g_leaf"})
    graph.record_import("g_user", ["/x/g_user.py"], ["g_app"])
    graph.begin()
    graph.record_code("g_user", _code("import g_new"), "")
    graph.record_import("g_user", ["/y/g_user.py"], ["django.x"])
    graph.record_import("g_new", ["/x/g_new.py"], ["g_user"])
    graph.rollback()
    assert graph.importers("g_leaf") == {"g_user"}
    assert graph.importers("g_new") == set()
    assert graph.modules_of_files(["/x/g_user.py"]) == {"g_user"}
    assert graph.modules_of_files(["/y/g_user.py", "/x/g_new.py"]) == set()
    assert graph.unknown_reason("g_user") is None
    graph.begin()
    graph.record_code("g_user", _code("import g_new"), "")
    graph.commit()
    graph.rollback()  # nothing to undo after commit
    assert graph.importers("g_new") == {"g_user"}


# -- fed by the import tracker -----------------------------------------------------------------


@pytest.fixture
def tracked(tmp_path, monkeypatch):
    """A standalone graph covering one fresh package in tmp_path."""
    name = "gpkg_%d" % id(tmp_path)
    root = tmp_path / name
    (root / "sub").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = import_graph.track(ImportGraph(lambda n: n == name or n.startswith(name + ".")))
    yield name, root, graph
    import_graph.untrack(graph)
    for module in [n for n in sys.modules if n == name or n.startswith(name + ".")]:
        del sys.modules[module]


def test_tracker_records_static_relative_lazy_and_by_name_imports(tracked):
    name, root, graph = tracked
    (root / "__init__.py").write_text("from . import views\n")
    (root / "leaf.py").write_text("VALUE = 1\n")
    (root / "helper.py").write_text("from .leaf import VALUE\n")
    (root / "sub" / "__init__.py").write_text("from .. import helper\n")
    (root / "sub" / "deep.py").write_text("from ..leaf import VALUE\n")
    (root / "plugin.py").write_text("X = 1\n")
    (root / "lazy.py").write_text("Y = 1\n")
    (root / "views.py").write_text(
        "import importlib\n"
        "from . import sub\n"
        "from %s.sub import deep\n"
        "def handler():\n"
        "    from . import lazy\n"
        "    return lazy.Y\n"
        "PLUGIN = importlib.import_module('%s.' + 'plugin')\n" % (name, name))
    importlib.import_module(name)
    assert graph.importers(name + ".leaf") == {name + ".helper", name + ".sub.deep"}
    assert graph.importers(name + ".helper") == {name + ".sub"}
    # `from pkg.sub import deep`: deep was imported before by nobody else.
    assert name + ".views" in graph.importers(name + ".sub.deep")
    # The lazy import inside a function that never ran.
    assert graph.importers(name + ".lazy") == {name + ".views"}
    # import_module with a computed name: the module that called it.
    assert graph.importers(name + ".plugin") == {name + ".views"}
    names, why = graph.dependents({name + ".leaf"})
    # ... and, the package being among them, its loaded submodules.
    everything = {name, name + ".leaf", name + ".helper", name + ".sub", name + ".sub.deep", name + ".views",
                  name + ".plugin"}
    assert names == everything
    # The package itself was imported by this test, by name, from outside.
    assert why == "%s: imported by name from %s, with no module of the packages on the stack" % (name, __name__)
    assert graph.dependents({name + ".plugin"}) == (everything, why)
    # The submodules of a package in the set: sub.deep with sub.
    assert graph.dependents({name + ".sub.deep"})[0] >= {name + ".sub.deep", name + ".views", name}
    assert name + ".sub.deep" in graph.dependents({name + ".helper"})[0]  # helper -> sub -> sub.deep
    assert graph.modules_of_files([str(root / "leaf.py")]) == {name + ".leaf"}
    assert graph.recorded_ns > 0


def test_tracker_marks_a_module_imported_by_name_from_outside_the_packages(tracked):
    name, root, graph = tracked
    (root / "__init__.py").write_text("")
    (root / "conf.py").write_text("")
    importlib.import_module(name)
    importlib.import_module(name + ".conf")   # this test module is outside the package
    names, why = graph.dependents({name + ".conf"})
    assert names == {name + ".conf"}
    assert why is not None and "imported by name from" in why and __name__ in why


# -- imports recorded before any graph existed (a host that imports the app first) -------------


def test_a_graph_adopts_the_startup_recording_as_if_it_had_recorded_itself(tmp_path, monkeypatch):
    """uWSGI imports the app before the Reloader exists: the recording
    started before that is replayed into the Reloader's graph, limited to
    what it covers; the app module and its packages (imported by the host,
    no frame of ours on the stack) are not unknown."""
    name = "spkg_%d" % id(tmp_path)
    root = tmp_path / name
    root.mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    (root / "__init__.py").write_text("")
    (root / "leaf.py").write_text("VALUE = 1\n")
    (root / "helper.py").write_text("X = 2\n")
    (root / "wsgi.py").write_text("import importlib\nfrom .leaf import VALUE\n"
                                  "H = importlib.import_module(__package__ + '.helper')\n")
    (root / "plugin.py").write_text("")
    recording = import_graph.record_startup_imports([name])
    try:
        assert import_graph.record_startup_imports() is recording  # once per interpreter
        # The host's loader: no frame of the packages on the stack.
        importlib.import_module(name + ".wsgi")
        importlib.import_module(name + ".plugin")  # by name, from outside the packages
        graph = ImportGraph(lambda n: n == name or n.startswith(name + "."))
        assert not graph.knows(name + ".leaf")
        import_graph.adopt_startup_imports(graph, root=name + ".wsgi")
        assert graph.knows(name + ".leaf")
        assert graph.importers(name + ".leaf") == {name + ".wsgi"}  # the import statement
        assert graph.modules_of_files([str(root / "leaf.py")]) == {name + ".leaf"}
        assert graph.dependents({name + ".leaf"}) == ({name + ".leaf", name + ".wsgi"}, None)
        # By name from a module of the packages: its importer.
        assert graph.importers(name + ".helper") == {name + ".wsgi"}
        # By name from outside the packages: unknown, as for a graph that recorded itself.
        assert "imported by name from" in graph.dependents({name + ".plugin"})[1]
        other = ImportGraph(lambda n: n == "elsewhere")
        import_graph.adopt_startup_imports(other)
        assert len(other) == 0
    finally:
        import_graph.end_startup_imports()
        for module in [n for n in sys.modules if n == name or n.startswith(name + ".")]:
            del sys.modules[module]
    assert import_graph._startup is None
    fresh = ImportGraph()
    import_graph.adopt_startup_imports(fresh)
    assert len(fresh) == 0
