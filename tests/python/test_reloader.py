"""Reloader behaviour, called in-process."""

import logging
import os
import sys

import pytest

import pyfresh
from conftest import call

WSGI = """
from PKG.views import render

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [render().encode()]
"""


@pytest.fixture
def simple(app, on_path):
    app.write("wsgi", WSGI)
    app.write("views", "def render():\n    return 'v1'\n")
    return app


def test_serves_the_app(simple):
    reloader = pyfresh.Reloader(simple.spec())
    assert call(reloader) == (200, "v1")
    assert reloader.packages == [simple.name]


def test_nothing_changed_means_no_reload(simple):
    reloader = pyfresh.Reloader(simple.spec())
    module = sys.modules[simple.name + ".views"]
    for _ in range(5):
        call(reloader)
    assert reloader.reload_count == 0
    assert sys.modules[simple.name + ".views"] is module


def test_clears_every_module_of_the_prefix_on_one_change(simple):
    """The packages scope's rule (the dependents scope: test_reload_scope.py)."""
    simple.write("other", "X = 1\n")
    reloader = pyfresh.Reloader(simple.spec(), reload_scope="packages")
    __import__(simple.name + ".other")
    old_other = sys.modules[simple.name + ".other"]
    old_package = sys.modules[simple.name]
    simple.write("views", "def render():\n    return 'v2'\n")
    assert call(reloader) == (200, "v2")
    assert reloader.reload_count == 1
    assert sys.modules[simple.name] is not old_package
    # `other` was not imported by the app, so it is simply gone: cleared too.
    assert sys.modules.get(simple.name + ".other") is not old_other


def test_does_not_touch_modules_outside_the_prefix(simple, tmp_path):
    os.makedirs(tmp_path / (simple.name + "_lib"))
    (tmp_path / (simple.name + "_lib") / "__init__.py").write_text("")
    simple.write("views", "import %s_lib\n\ndef render():\n    return 'v1'\n" % simple.name)
    # An explicit list (without it, the sibling package would be inferred as user code).
    reloader = pyfresh.Reloader(simple.spec(), packages=[simple.name])
    lib = sys.modules[simple.name + "_lib"]
    simple.write("views", "import %s_lib\n\ndef render():\n    return 'v2'\n" % simple.name)
    assert call(reloader) == (200, "v2")
    assert sys.modules[simple.name + "_lib"] is lib


def test_lazily_imported_module_becomes_tracked(simple):
    simple.write("lazy", "VALUE = 'lazy-1'\n")
    simple.write("views", "def render():\n    from PKG.lazy import VALUE\n    return VALUE\n")
    reloader = pyfresh.Reloader(simple.spec())
    tracked_before = reloader.detector.tracked_count
    assert call(reloader) == (200, "lazy-1")
    assert reloader.detector.tracked_count > tracked_before
    simple.write("lazy", "VALUE = 'lazy-2'\n")
    assert call(reloader) == (200, "lazy-2")


def test_same_broken_state_is_not_reimported_per_request(simple, tmp_path):
    counter = tmp_path / "imports.txt"
    reloader = pyfresh.Reloader(simple.spec())
    simple.write("views", "open(%r, 'a').write('x')\nraise RuntimeError('boom')\n" % str(counter))
    for _ in range(4):
        status, body = call(reloader)
        assert status == 500
    assert counter.read_text() == "x"
    assert reloader.failure_count == 1
    assert "RuntimeError: boom" in reloader.last_error


def test_failed_reload_restores_the_cleared_modules(simple):
    reloader = pyfresh.Reloader(simple.spec())
    before = {n: m for n, m in sys.modules.items() if n == simple.name or n.startswith(simple.name + ".")}
    simple.write("views", "def render(:\n")
    assert call(reloader)[0] == 500
    after = {n: m for n, m in sys.modules.items() if n == simple.name or n.startswith(simple.name + ".")}
    assert after == before


def test_missing_callable_is_an_error_then_recovers(simple):
    reloader = pyfresh.Reloader(simple.spec(), debug=True)
    simple.write("wsgi", "def app(environ, start_response):\n    pass\n")
    status, body = call(reloader)
    assert status == 500 and "has no attribute" in body and "application" in body
    simple.write("wsgi", WSGI.replace("PKG", simple.name))
    assert call(reloader) == (200, "v1")


def test_failing_file_is_tracked_although_never_imported(simple):
    reloader = pyfresh.Reloader(simple.spec())
    simple.write("broken", "raise ValueError('not yet')\n")
    simple.write("views", "import PKG.broken\n\ndef render():\n    return 'v2'\n")
    assert call(reloader)[0] == 500
    # Requests keep the error without re-importing until the file changes.
    assert call(reloader)[0] == 500 and reloader.failure_count == 1
    simple.write("broken", "OK = True\n")
    assert call(reloader) == (200, "v2")


def test_enabled_can_be_switched_at_runtime(simple):
    reloader = pyfresh.Reloader(simple.spec())
    reloader.enabled = False
    simple.write("views", "def render():\n    return 'v2'\n")
    assert call(reloader) == (200, "v1")
    reloader.enabled = True
    assert call(reloader) == (200, "v2")


def test_enabled_false_from_the_start(simple):
    reloader = pyfresh.Reloader(simple.spec(), enabled=False)
    simple.write("views", "def render():\n    return 'v2'\n")
    assert call(reloader) == (200, "v1")


def test_polling_detects_changes(simple):
    reloader = pyfresh.Reloader(simple.spec(), poll_interval=0)
    call(reloader)
    assert reloader.detector.method == "polling"
    simple.write("views", "def render():\n    return 'v2'\n")
    assert call(reloader) == (200, "v2")


def test_inotify_is_the_default_method(simple):
    reloader = pyfresh.Reloader(simple.spec())
    call(reloader)
    assert reloader.detector.method == "inotify"


def test_loaded_app_is_served_and_its_modules_tracked(simple):
    module = __import__(simple.name + ".wsgi", fromlist=["application"])
    reloader = pyfresh.Reloader(simple.spec(), loaded_app=module.application)
    assert reloader.app is module.application
    assert reloader.detector.tracked_count >= 3
    simple.write("views", "def render():\n    return 'v2'\n")
    assert call(reloader) == (200, "v2")


def test_unloadable_app_raises_app_load_error(simple):
    with pytest.raises(pyfresh.AppLoadError, match="no_such_module"):
        pyfresh.Reloader(simple.name + ".no_such_module:application")
    with pytest.raises(pyfresh.AppLoadError, match="has no attribute 'nope'"):
        pyfresh.Reloader(simple.name + ".wsgi:nope")


def test_unloadable_app_can_serve_the_error_until_fixed(simple):
    simple.write("views", "raise ImportError('half saved')\n")
    reloader = pyfresh.Reloader(simple.spec(), raise_on_load_error=False)
    assert call(reloader)[0] == 500
    simple.write("views", "def render():\n    return 'fine now'\n")
    assert call(reloader) == (200, "fine now")


def test_file_spec_is_reexecuted(app, on_path, tmp_path):
    app.write("views", "def render():\n    return 'v1'\n")
    script = tmp_path / "site.wsgi"
    script.write_text(WSGI.replace("PKG", app.name))
    reloader = pyfresh.Reloader(str(script), packages=[app.name])
    assert call(reloader) == (200, "v1")
    app.write("views", "def render():\n    return 'v2'\n")
    assert call(reloader) == (200, "v2")
    script.write_text("def application(environ, start_response):\n"
                      "    start_response('200 OK', [])\n    return [b'script-2']\n")
    os.utime(script, ns=(os.stat(script).st_mtime_ns + 1000,) * 2)
    assert call(reloader) == (200, "script-2")


def test_reload_is_logged_with_file_count_and_time(simple, caplog):
    reloader = pyfresh.Reloader(simple.spec())
    simple.write("views", "def render():\n    return 'v2'\n")
    with caplog.at_level(logging.INFO, logger="pyfresh"):
        logging.getLogger("pyfresh").propagate = True
        call(reloader)
    messages = [r.getMessage() for r in caplog.records if r.name == "pyfresh"]
    reload_lines = [m for m in messages if "reloaded" in m]
    assert reload_lines, messages
    assert simple.path("views") in reload_lines[0]
    assert "modules cleared" in reload_lines[0] and " ms " in reload_lines[0]


def test_failure_is_logged_with_traceback(simple, caplog):
    reloader = pyfresh.Reloader(simple.spec())
    simple.write("views", "raise KeyError('missing-key')\n")
    with caplog.at_level(logging.INFO, logger="pyfresh"):
        logging.getLogger("pyfresh").propagate = True
        call(reloader)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "pyfresh"]
    assert errors and errors[0].exc_info is not None
    assert "missing-key" in errors[0].getMessage()
