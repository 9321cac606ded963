"""reload-scope = dependents on the engine: what a save clears and
re-imports, what stays, and when the whole packages scope is used instead.
(Every other engine test also runs in this scope: tests/python/CMakeLists.txt.)"""

import os
import sys

import pytest

import pyfresh
from conftest import call

WSGI = """
from PKG import views

def application(environ, start_response):
    start_response("200 OK", [])
    return [views.render().encode()]
"""


@pytest.fixture
def log(pyfresh_log):
    return pyfresh_log


def _modules(app, *names):
    return {name: sys.modules.get(app.name + "." + name if name else app.name) for name in names}


def _reloaded(app, before):
    """The names of `before` whose module object changed (or went)."""
    return {name for name, module in before.items()
            if sys.modules.get(app.name + "." + name if name else app.name) is not module}


@pytest.fixture
def site(app, on_path):
    """wsgi -> views -> (helpers -> base), (models -> base); other -> nothing."""
    app.write("base", "class Base:\n    KIND = 'base-1'\n")
    app.write("helpers", "from .base import Base\n\ndef shout(x):\n    return x.upper()\n")
    app.write("models", "from PKG.base import Base\n\nclass Model(Base):\n    pass\n")
    app.write("other", "VALUE = 'other'\n")
    app.write("views", "from . import helpers, models\nfrom PKG import other\n\n"
                       "def render():\n    return helpers.shout(models.Model.KIND)\n")
    app.write("wsgi", WSGI)
    return app


def test_a_leaf_edit_reloads_the_leaf_and_its_importers_only(site, log):
    reloader = pyfresh.Reloader(site.spec(), reload_scope="dependents")
    assert call(reloader) == (200, "BASE-1")
    before = _modules(site, "", "base", "helpers", "models", "other", "views", "wsgi")
    site.write("helpers", "from .base import Base\n\ndef shout(x):\n    return x.upper() + '!'\n")
    assert call(reloader) == (200, "BASE-1!")
    assert _reloaded(site, before) == {"helpers", "views", "wsgi"}
    # The package's attribute points at the new submodule.
    assert getattr(sys.modules[site.name], "helpers") is sys.modules[site.name + ".helpers"]
    assert any("(3 modules cleared, 3 imported; the changed modules and their importers" in r.getMessage()
               for r in log.records), log.text


def test_diamond_subclasses_and_from_import_copies_are_refreshed(site):
    reloader = pyfresh.Reloader(site.spec(), reload_scope="dependents")
    call(reloader)
    before = _modules(site, "", "base", "helpers", "models", "other", "views", "wsgi")
    site.write("base", "class Base:\n    KIND = 'base-2'\n")
    assert call(reloader) == (200, "BASE-2")
    assert _reloaded(site, before) == {"base", "helpers", "models", "views", "wsgi"}
    models = sys.modules[site.name + ".models"]
    base = sys.modules[site.name + ".base"]
    assert models.Base is base.Base and issubclass(models.Model, base.Base)


def test_a_cycle_is_reloaded_whole(app, on_path):
    app.write("ping", "from . import pong\n\ndef render():\n    return 'ping-1 ' + pong.NAME\n")
    app.write("pong", "from . import ping\nNAME = 'pong-1'\n")
    app.write("views", "from .ping import render\n")
    app.write("wsgi", WSGI)
    reloader = pyfresh.Reloader(app.spec(), reload_scope="dependents")
    assert call(reloader) == (200, "ping-1 pong-1")
    before = _modules(app, "ping", "pong")
    app.write("pong", "from . import ping\nNAME = 'pong-2'\n")
    assert call(reloader) == (200, "ping-1 pong-2")
    assert _reloaded(app, before) == {"ping", "pong"}


def test_a_lazy_import_inside_a_function_makes_its_module_a_dependent(app, on_path):
    app.write("lazy", "TEXT = 'lazy-1'\n")
    app.write("views", "def render():\n    from .lazy import TEXT\n    return TEXT\n")
    app.write("wsgi", WSGI)
    reloader = pyfresh.Reloader(app.spec(), reload_scope="dependents")
    assert call(reloader) == (200, "lazy-1")
    app.write("lazy", "TEXT = 'lazy-2'\n")
    assert call(reloader) == (200, "lazy-2")
    assert app.name + ".views" in reloader.import_graph.importers(app.name + ".lazy")


def test_relative_imports_of_every_kind(app, on_path):
    app.write("sub.__init__", "from .. import top\n")
    app.write("sub.inner", "from .leaf import WORD\nfrom .. import top\n\ndef render():\n"
                           "    return WORD + ' ' + top.WORD\n")
    app.write("sub.leaf", "WORD = 'leaf-1'\n")
    app.write("top", "WORD = 'top-1'\n")
    app.write("views", "from .sub import inner\n\ndef render():\n    return inner.render()\n")
    app.write("wsgi", WSGI)
    reloader = pyfresh.Reloader(app.spec(), reload_scope="dependents")
    assert call(reloader) == (200, "leaf-1 top-1")
    before = _modules(app, "sub", "sub.inner", "sub.leaf", "top", "views")
    app.write("sub.leaf", "WORD = 'leaf-2'\n")
    assert call(reloader) == (200, "leaf-2 top-1")
    assert _reloaded(app, before) == {"sub.inner", "sub.leaf", "views"}
    before = _modules(app, "sub", "sub.inner", "sub.leaf", "top", "views")
    app.write("top", "WORD = 'top-2'\n")
    assert call(reloader) == (200, "leaf-2 top-2")
    # `from .. import top` reads the package: sub and inner import it; a
    # package reloaded takes its submodules along (`import a.b.c` would
    # find a.b.c loaded and never import the new a.b).
    assert _reloaded(app, before) == {"top", "sub", "sub.inner", "sub.leaf", "views"}
    assert sys.modules[app.name + ".sub"].leaf is sys.modules[app.name + ".sub.leaf"]


def test_from_package_import_submodule(app, on_path):
    app.write("parts.__init__", "")
    app.write("parts.piece", "WORD = 'piece-1'\n")
    app.write("views", "from %s.parts import piece\n\ndef render():\n    return piece.WORD\n" % app.name)
    app.write("wsgi", WSGI)
    reloader = pyfresh.Reloader(app.spec(), reload_scope="dependents")
    assert call(reloader) == (200, "piece-1")
    parts = sys.modules[app.name + ".parts"]
    app.write("parts.piece", "WORD = 'piece-2'\n")
    assert call(reloader) == (200, "piece-2")
    assert sys.modules[app.name + ".parts"] is parts  # the package was not reloaded
    assert parts.piece is sys.modules[app.name + ".parts.piece"]


def write_by_name_loader_app(app, tmp_path):
    """An app whose wsgi module gets its plugin module through a loader
    outside the packages (`importlib.import_module` with a name): the
    loader's module name."""
    loader = "%s_loader" % app.name
    (tmp_path / (loader + ".py")).write_text(
        "import importlib\n\ndef load(name):\n    return importlib.import_module(name)\n")
    app.write("plugin", "WORD = 'plugin-1'\n")
    app.write("wsgi", "import %s\n\ndef application(environ, start_response):\n"
                      "    start_response('200 OK', [])\n    return [%s.load('PKG.plugin').WORD.encode()]\n"
                      % (loader, loader))
    return loader


def test_a_module_imported_by_name_from_outside_the_packages_falls_back(app, on_path, tmp_path, log):
    """Code outside the packages (a framework's dispatch: here this test)
    imports a module of the packages by name, with no module of the
    packages on the stack: who holds it cannot be told, so the whole scope
    is reloaded, and the log says why."""
    loader = write_by_name_loader_app(app, tmp_path)
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name], reload_scope="dependents")
    __import__(loader).load(app.name + ".plugin")
    assert call(reloader) == (200, "plugin-1")
    app.write("plugin", "WORD = 'plugin-2'\n")
    assert call(reloader) == (200, "plugin-2")
    assert ("dependents scope (reload_scope=): reloading every module of the packages instead: %s.plugin: "
            "imported by name from %s, with no module of the packages on the stack" % (app.name, loader)) in log.text


def test_import_module_through_a_library_called_by_the_packages_is_a_known_importer(app, on_path, tmp_path):
    """The same loader called from the app's code: the nearest module of the
    packages on the stack (as Django's include('app.urls') in a URL conf)."""
    loader = write_by_name_loader_app(app, tmp_path)
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name], reload_scope="dependents")
    assert call(reloader) == (200, "plugin-1")
    assert reloader.import_graph.importers(app.name + ".plugin") == {app.name + ".wsgi"}
    app.write("plugin", "WORD = 'plugin-2'\n")
    assert call(reloader) == (200, "plugin-2")


def test_import_module_with_a_computed_name_from_the_packages_is_a_known_importer(app, on_path):
    app.write("plugins.__init__", "")
    app.write("plugins.one", "WORD = 'one-1'\n")
    app.write("views", "import importlib\nPLUGIN = importlib.import_module(__package__ + '.plugins.' + 'one')\n\n"
                       "def render():\n    return PLUGIN.WORD\n")
    app.write("wsgi", WSGI)
    reloader = pyfresh.Reloader(app.spec(), reload_scope="dependents")
    assert call(reloader) == (200, "one-1")
    app.write("plugins.one", "WORD = 'one-2'\n")
    assert call(reloader) == (200, "one-2")
    assert reloader.import_graph.importers(app.name + ".plugins.one") == {app.name + ".views"}


def test_deleted_and_new_modules(app, on_path):
    app.write("extra", "WORD = 'extra-1'\n")
    app.write("views", "try:\n    from .local import WORD\nexcept ImportError:\n    WORD = 'none'\n"
                       "from .extra import WORD as EXTRA\n\ndef render():\n    return WORD + ' ' + EXTRA\n")
    app.write("wsgi", WSGI)
    reloader = pyfresh.Reloader(app.spec(), reload_scope="dependents")
    assert call(reloader) == (200, "none extra-1")
    # A module the code tried to import is created: its importer reloads.
    app.write("local", "WORD = 'local-1'\n")
    assert call(reloader) == (200, "local-1 extra-1")
    # A module deleted: its importer fails to import; the old code stays in sys.modules.
    os.remove(app.path("extra"))
    status, _body = call(reloader)
    assert status == 500
    assert sys.modules[app.name + ".views"].EXTRA == "extra-1"
    app.write("extra", "WORD = 'extra-2'\n")
    assert call(reloader) == (200, "local-1 extra-2")


def test_a_failed_reload_puts_back_exactly_what_was_cleared(site):
    reloader = pyfresh.Reloader(site.spec(), reload_scope="dependents")
    call(reloader)
    names = [n for n in sys.modules if n == site.name or n.startswith(site.name + ".")]
    before = {n: sys.modules[n] for n in names}
    attributes = {n: getattr(sys.modules[site.name], n.rpartition(".")[2], None) for n in names if "." in n}
    importers = reloader.import_graph.importers(site.name + ".base")
    site.write("helpers", "from .base import Base\nfrom .newmod import X\n\nraise RuntimeError('broken')\n")
    site.write("newmod", "X = 1\n")
    assert call(reloader)[0] == 500
    assert {n: sys.modules.get(n) for n in names} == before
    assert site.name + ".newmod" not in sys.modules
    assert {n: getattr(sys.modules[site.name], n.rpartition(".")[2], None) for n in names if "." in n} == attributes
    assert not hasattr(sys.modules[site.name], "newmod")
    assert reloader.import_graph.importers(site.name + ".base") == importers
    assert reloader.import_graph.importers(site.name + ".newmod") == set()
    site.write("helpers", "from .base import Base\n\ndef shout(x):\n    return x.lower()\n")
    assert call(reloader) == (200, "base-1")


def test_a_registry_in_a_module_left_in_place_gets_the_whole_scope(app, on_path, log):
    """views registers into a registry module it imports; the registry
    refuses a second registration: the smaller reload fails, the whole
    scope is what the user gets."""
    app.write("registry", "ROUTES = {}\n\ndef route(name):\n    def add(fn):\n"
                          "        if name in ROUTES:\n            raise ValueError('already registered: ' + name)\n"
                          "        ROUTES[name] = fn\n        return fn\n    return add\n")
    app.write("views", "from .registry import route, ROUTES\n\n@route('home')\ndef render():\n    return 'one'\n")
    app.write("wsgi", WSGI)
    reloader = pyfresh.Reloader(app.spec(), reload_scope="dependents")
    assert call(reloader) == (200, "one")
    app.write("views", "from .registry import route, ROUTES\n\n@route('home')\ndef render():\n    return 'two'\n")
    assert call(reloader) == (200, "two")
    assert any("reloading every module of the packages instead" in r.getMessage() and "already registered" in
               r.getMessage() for r in log.records), log.text


def test_a_watched_file_reloads_the_whole_scope(app, on_path, tmp_path, log):
    (tmp_path / "site.toml").write_text("a = 1\n")
    app.write("views", "def render():\n    return open(%r).read().strip()\n" % str(tmp_path / "site.toml"))
    app.write("wsgi", WSGI)
    reloader = pyfresh.Reloader(app.spec(), reload_scope="dependents", watch=[str(tmp_path / "site.toml")])
    assert call(reloader) == (200, "a = 1")
    (tmp_path / "site.toml").write_text("a = 22\n")
    assert call(reloader) == (200, "a = 22")
    assert any("reloading every module of the packages instead" in r.getMessage() and "site.toml" in r.getMessage()
               for r in log.records), log.text


def test_modules_imported_before_the_reloader_fall_back_once(app, on_path, log):
    app.write("views", "def render():\n    return 'v1'\n")
    app.write("wsgi", WSGI)
    __import__(app.name + ".wsgi")
    reloader = pyfresh.Reloader(app.spec(), reload_scope="dependents")
    app.write("views", "def render():\n    return 'v2'\n")
    assert call(reloader) == (200, "v2")
    assert "imported before pyfresh tracked imports" in log.text
    log.clear()
    app.write("views", "def render():\n    return 'v3'\n")
    assert call(reloader) == (200, "v3")
    assert "instead" not in log.text and "the changed modules and their importers" in log.text


def test_bad_reload_scope_is_refused_naming_the_option():
    with pytest.raises(pyfresh.ConfigError, match="reload_scope=: invalid value 'modules'"):
        pyfresh.Reloader("x.wsgi:application", reload_scope="modules")
    with pytest.raises(pyfresh.ConfigError, match="PyFreshReloadScope: invalid value 'all'"):
        pyfresh.Reloader.from_config([("app", "x.wsgi:application"), ("reload-scope", "all", "PyFreshReloadScope")])
    assert pyfresh.parse_config([("reload-scope", "Dependents")]) == {"reload_scope": "dependents"}


def test_after_a_failed_reload_a_save_of_another_module_does_not_serve_the_old_one(site):
    """views.py is broken; a save of helpers.py (which views imports, so
    views would be re-imported anyway) and one of other.py (which it does
    not need re-importing for) both try the broken file again."""
    reloader = pyfresh.Reloader(site.spec(), reload_scope="dependents")
    assert call(reloader) == (200, "BASE-1")
    site.write("views", "from . import helpers, models\n\ndef render(:\n")
    assert call(reloader)[0] == 500
    site.write("base", "class Base:\n    KIND = 'base-2'\n")
    assert call(reloader)[0] == 500
    site.write("other", "VALUE = 'other-2'\n")
    assert call(reloader)[0] == 500
    site.write("views", "from . import helpers, models\n\ndef render():\n    return helpers.shout(models.Model.KIND)\n")
    assert call(reloader) == (200, "BASE-2")
