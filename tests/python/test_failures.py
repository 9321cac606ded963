"""Issue 11: failures and configuration are never silently wrong (engine)."""

import logging
import os
import sys

import pytest

import pyfresh
from conftest import App, call

WSGI = """
from PKG.views import render

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [render().encode()]
"""

UNPRINTABLE = """
class Unprintable(Exception):
    def __str__(self):
        raise ValueError("no text for you")

raise Unprintable()
"""


@pytest.fixture
def simple(app, on_path):
    app.write("wsgi", WSGI)
    app.write("views", "def render():\n    return 'v1'\n")
    return app


@pytest.fixture
def pyfresh_log(caplog):
    logger = logging.getLogger("pyfresh")
    saved = logger.propagate
    logger.propagate = True
    with caplog.at_level(logging.INFO, logger="pyfresh"):
        yield caplog
    logger.propagate = saved


def _reload_failed(reloader, app, text):
    old_views = sys.modules[app.name + ".views"]
    app.write("views", text)
    status, body = call(reloader)
    assert sys.modules[app.name + ".views"] is old_views, "the old modules are not back"
    return status, body


# -- item 1: the error page itself can fail -------------------------------------------


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
def test_exception_whose_str_raises_gets_the_error_page(simple, pyfresh_log, debug):
    reloader = pyfresh.Reloader(simple.spec(), debug=debug)
    assert call(reloader) == (200, "v1")
    status, body = _reload_failed(reloader, simple, UNPRINTABLE)
    assert status == 500, body  # not the old code
    assert reloader.failure_count == 1 and "Unprintable" in reloader.last_error
    if debug:
        assert "Unprintable" in body and "views.py" in body
    errors = [r for r in pyfresh_log.records if r.levelno == logging.ERROR]
    assert errors and errors[0].exc_info and errors[0].exc_info[0].__name__ == "Unprintable"
    simple.write("views", "def render():\n    return 'fixed'\n")
    assert call(reloader) == (200, "fixed")


def test_debug_page_for_a_project_in_an_undecodable_directory(tmp_path, pyfresh_log):
    """A directory name that is not valid text (here a Latin-1 byte; under
    LANG=C any non-ASCII name): the debug page is still served."""
    root = os.fsdecode(os.path.join(os.fsencode(str(tmp_path)), b"site-jos\xe9"))
    os.makedirs(root)
    app = App(root)
    app.write("__init__", "")
    app.write("wsgi", WSGI)
    app.write("views", "def render():\n    return 'v1'\n")
    sys.path.insert(0, root)
    try:
        reloader = pyfresh.Reloader(app.spec(), debug=True)
        assert call(reloader) == (200, "v1")
        status, body = _reload_failed(reloader, app, "raise RuntimeError('half saved')\n")
        assert status == 500
        assert "RuntimeError" in body and "half saved" in body and "site-jos\ufffd" in body, body
        assert any(r.exc_info and "half saved" in str(r.exc_info[1]) for r in pyfresh_log.records)
    finally:
        sys.path.remove(root)


def test_a_failing_error_page_falls_back_to_the_generic_one(simple, pyfresh_log, monkeypatch):
    """Whatever breaks while the page is built, a response is installed and
    the log has the original error."""
    from pyfresh import error_page

    def broken(*args):
        raise MemoryError("no page")

    monkeypatch.setattr(error_page, "_debug_body", broken)
    reloader = pyfresh.Reloader(simple.spec(), debug=True)
    status, body = _reload_failed(reloader, simple, "raise RuntimeError('original')\n")
    assert status == 500 and "Internal Server Error" in body
    messages = [r.getMessage() for r in pyfresh_log.records]
    assert any("original" in m for m in messages), messages
    assert any("could not be built" in m and "MemoryError" in m for m in messages), messages


def test_debug_traceback_shows_the_users_frames_and_folds_the_machinery(simple):
    simple.write("helpers", "def load_settings():\n    raise KeyError('DATABASE_URL')\n")
    reloader = pyfresh.Reloader(simple.spec(), debug=True)
    status, body = _reload_failed(
        reloader, simple, "from PKG.helpers import load_settings\nload_settings()\n".replace("PKG", simple.name))
    assert status == 500
    traceback_text = body.split("<h2>Traceback</h2>", 1)[1]
    assert "views.py" in traceback_text and "helpers.py" in traceback_text and "load_settings" in traceback_text
    assert "folded]" in traceback_text
    for machinery in ("importlib/__init__.py", "_bootstrap", "<frozen", "reloader.py", "app_loader.py",
                      "import_tracker.py"):
        assert machinery not in traceback_text, machinery
