"""The reload transaction (pyfresh/reload_transaction.py): what a reload
cleared comes back on failure, package attributes and hooks included; the
import tracker records into the transaction it is handed and loads as it
says; and the engine options a host relies on instead of private methods
(loaded_since_ns, reload_guard)."""

import contextlib
import sys
import time

import pyfresh
from conftest import call
from pyfresh import hooks, import_tracker
from pyfresh.reload_transaction import ReloadTransaction

WSGI = """
from PKG.views import render

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [render().encode()]
"""


def _package(app):
    app.write("__init__", "")
    app.write("views", "import pyfresh\n\n@pyfresh.before_reload\ndef hook():\n    pass\n\nVALUE = 1\n")
    __import__(app.name + ".views")
    return sys.modules[app.name], sys.modules[app.name + ".views"]


def test_restore_puts_back_the_cleared_modules_their_attributes_and_hooks(app, on_path):
    package, views = _package(app)
    covers = lambda name: name == app.name or name.startswith(app.name + ".")  # noqa: E731
    transaction = ReloadTransaction()
    try:
        transaction.clear(list(sys.modules), lambda name: name == app.name + ".views", in_place=True)
        assert transaction.saved == {app.name + ".views": views}
        assert app.name + ".views" not in sys.modules and not hasattr(package, "views")
        assert hooks.hooks_for("before", lambda owner: owner == app.name + ".views") == []

        __import__(app.name + ".views")  # the attempt's own version
        assert transaction.imported(covers) == {app.name + ".views"}
        transaction.restore(covers)
        assert sys.modules[app.name + ".views"] is views and package.views is views
        assert transaction.restored == 1
        assert hooks.hooks_for("before", lambda owner: owner == app.name + ".views") == [views.hook]
    finally:
        hooks.remove_hook(views.hook)


def test_the_tracker_records_into_the_transaction_it_is_handed_and_forces_its_sources(app, on_path):
    app.write("wsgi", WSGI)
    app.write("views", "def render():\n    return 'v1'\n")
    reloader = pyfresh.Reloader(app.spec())
    app.write("extra", "X = 1\n")
    transaction = ReloadTransaction(force_source=[app.path("extra")])
    finder = import_tracker.tracker()
    finder.begin(reloader, transaction)
    try:
        __import__(app.name + ".extra")
    finally:
        finder.end(reloader)
    assert transaction.recorded == {app.path("extra")}
    loader = sys.modules[app.name + ".extra"].__spec__.loader
    assert isinstance(loader, import_tracker.FreshSourceLoader) and app.path("extra") in loader._force_source

    app.write("later", "X = 2\n")
    __import__(app.name + ".later")  # after end(): nothing recorded
    assert transaction.recorded == {app.path("extra")}


def test_a_file_saved_while_the_host_loaded_the_app_is_reloaded_at_once(app, on_path):
    """loaded_since_ns: the rule the uWSGI host relies on (a lazy-apps
    worker starting while the user saves)."""
    app.write("wsgi", WSGI)
    app.write("views", "def render():\n    return 'v1'\n")
    loaded = pyfresh.Reloader(app.spec())  # the host's import of the app
    started_ns = time.time_ns()
    time.sleep(0.01)
    app.write("views", "def render():\n    return 'v2'\n")  # saved after the load began
    reloader = pyfresh.Reloader(app.spec(), loaded_app=loaded.app, loaded_since_ns=started_ns)
    assert reloader.reload_count == 1
    assert call(reloader) == (200, "v2")

    untouched = pyfresh.Reloader(app.spec(), loaded_app=reloader.app, loaded_since_ns=time.time_ns() + 10**9)
    assert untouched.reload_count == 0


def test_the_reload_guard_is_entered_around_every_reload(app, on_path):
    app.write("wsgi", WSGI)
    app.write("views", "def render():\n    return 'v1'\n")
    entered = []

    class Guarded(pyfresh.Reloader):
        @contextlib.contextmanager
        def reload_guard(self):
            entered.append("in")
            yield
            entered.append("out")

    reloader = Guarded(app.spec())
    assert entered == []
    app.write("views", "def render():\n    return 'v2'\n")
    assert call(reloader) == (200, "v2")
    assert entered == ["in", "out"]
