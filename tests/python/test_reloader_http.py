"""The engine behind a real threaded WSGI server over HTTP on loopback, with
bytecode writing on: the scenarios users hit when they save a file."""

import os
import threading
import time

from conftest import fetch, wait_until

WSGI = """
import PKG.views as views

def application(environ, start_response):
    body = views.render(environ).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
"""


def test_plain_edit_is_served_on_next_request(app, serve):
    app.write("wsgi", WSGI)
    app.write("views", "def render(environ):\n    return 'v1'\n")
    server = serve(app, app.spec())
    status, _, body = server.get()
    assert (status, body) == (200, "v1")
    app.write("views", "def render(environ):\n    return 'v2'\n")
    status, _, body = server.get()
    assert (status, body) == (200, "v2")


def test_sibling_from_import_copy_is_refreshed(app, serve):
    app.write("wsgi", WSGI)
    app.write("helpers", "GREETING = 'hello'\n")
    app.write("views", "from PKG.helpers import GREETING\n\ndef render(environ):\n    return GREETING\n")
    server = serve(app, app.spec())
    assert server.get()[2] == "hello"
    app.write("helpers", "GREETING = 'howdy'\n")
    assert server.get()[2] == "howdy"


def test_subclass_in_other_module_sees_new_base(app, serve):
    app.write("wsgi", WSGI)
    app.write("base", "class Base:\n    def word(self):\n        return 'base-1'\n")
    app.write("views", "from PKG.base import Base\n\nclass Child(Base):\n    pass\n\n"
                       "def render(environ):\n    return Child().word()\n")
    server = serve(app, app.spec())
    assert server.get()[2] == "base-1"
    app.write("base", "class Base:\n    def word(self):\n        return 'base-2'\n")
    assert server.get()[2] == "base-2"


def test_excluded_module_keeps_identity_and_state(app, serve):
    app.write("wsgi", WSGI)
    app.write("settings", "HITS = []\n")
    app.write("views", "import PKG.settings as settings\n\ndef render(environ):\n"
                       "    settings.HITS.append(1)\n"
                       "    return 'v1 %d %d' % (id(settings), len(settings.HITS))\n")
    server = serve(app, app.spec(), "--exclude", app.name + ".settings")
    _, _, first = server.get()
    app.write("views", "import PKG.settings as settings\n\ndef render(environ):\n"
                       "    settings.HITS.append(1)\n"
                       "    return 'v2 %d %d' % (id(settings), len(settings.HITS))\n")
    _, _, second = server.get()
    v1, id1, hits1 = first.split()
    v2, id2, hits2 = second.split()
    assert (v1, v2) == ("v1", "v2")
    assert id1 == id2
    assert int(hits2) == int(hits1) + 1
    # An edit of the excluded module itself does not reload anything.
    app.write("settings", "HITS = []  # edited\n")
    _, _, third = server.get()
    assert third.split()[1] == id1 and int(third.split()[2]) == int(hits2) + 1


def test_module_created_after_start_is_imported(app, serve):
    app.write("wsgi", WSGI)
    app.write("views", "def render(environ):\n    return 'old'\n")
    server = serve(app, app.spec())
    assert server.get()[2] == "old"
    app.write("extra", "VALUE = 'from a new module'\n")
    app.write("views", "from PKG.extra import VALUE\n\ndef render(environ):\n    return VALUE\n")
    assert server.get()[2] == "from a new module"


def test_module_imported_before_it_exists_then_created(app, serve):
    app.write("wsgi", WSGI)
    app.write("views", "def render(environ):\n    return 'old'\n")
    server = serve(app, app.spec())
    assert server.get()[2] == "old"
    app.write("views", "from PKG.later import VALUE\n\ndef render(environ):\n    return VALUE\n")
    assert server.get()[0] == 500
    app.write("later", "VALUE = 'created later'\n")
    assert server.get()[:3:2] == (200, "created later")


def test_deleted_module(app, serve):
    app.write("wsgi", WSGI)
    app.write("helpers", "VALUE = 'helper'\n")
    app.write("views", "from PKG.helpers import VALUE\n\ndef render(environ):\n    return VALUE\n")
    server = serve(app, app.spec())
    assert server.get()[2] == "helper"
    os.remove(app.path("helpers"))
    # Still imported: the reload fails, the old modules are kept for later.
    status, _, _ = server.get()
    assert status == 500
    app.write("views", "def render(environ):\n    return 'no helper'\n")
    assert server.get()[:3:2] == (200, "no helper")


def test_broken_file_then_fixed_with_debug_page(app, serve):
    app.write("wsgi", WSGI)
    app.write("views", "def render(environ):\n    return 'good'\n")
    server = serve(app, app.spec(), "--debug")
    assert server.get()[2] == "good"
    app.write("views", "def render(environ):\n    return 'half\n")
    status, headers, body = server.get()
    assert status == 500
    assert "SyntaxError" in body
    assert app.path("views") in body and "line 2" in body
    assert "Traceback" in body
    # The server keeps serving the error, and the next good save recovers.
    assert server.get()[0] == 500
    app.write("views", "def render(environ):\n    return 'fixed'\n")
    assert server.get()[:3:2] == (200, "fixed")
    assert "failed" in server.log() and "views.py" in server.log()


def test_error_page_without_debug_leaks_nothing(app, serve):
    app.write("wsgi", WSGI)
    app.write("views", "SECRET_SOURCE_LINE = 1\ndef render(environ):\n    return 'good'\n")
    server = serve(app, app.spec())
    assert server.get()[2] == "good"
    app.write("views", "SECRET_SOURCE_LINE = 1\nraise RuntimeError('secret detail')\n")
    status, _, body = server.get()
    assert status == 500
    for leak in (app.root, "views.py", "Traceback", "secret detail", "SECRET_SOURCE_LINE", "line 2"):
        assert leak not in body
    # The log has the full story.
    assert wait_until(lambda: "secret detail" in server.log())


def test_concurrent_requests_during_reloads_see_one_version(app, serve):
    """A reload never runs while a request is inside the app: a handler that
    reads the version twice, 20 ms apart, always reads the same one."""
    app.write("wsgi", WSGI)
    app.write("version", "V = 0\n")
    app.write("views", "import importlib, time\n\ndef render(environ):\n"
                       "    a = importlib.import_module('PKG.version').V\n"
                       "    time.sleep(0.02)\n"
                       "    b = importlib.import_module('PKG.version').V\n"
                       "    return '%s %s' % (a, b)\n")
    server = serve(app, app.spec())
    assert server.get()[0] == 200
    results, errors = [], []
    stop = threading.Event()

    def hammer():
        deadline = time.monotonic() + 20
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                results.append(server.get(timeout=10)[:3:2])
            except Exception as exc:  # a refused or hung request is a failure
                errors.append(repr(exc))

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for t in threads:
        t.start()
    # Saved atomically, as editors do: an in-place write observed half-way
    # is broken code (500, then recovery), which is not what this tests.
    for version in range(1, 21):
        temp = app.path("version") + ".tmp"
        with open(temp, "w") as f:
            f.write("V = %d\n" % version)
        os.replace(temp, app.path("version"))
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(30)
    assert not errors
    assert results and all(status == 200 for status, _ in results), [r for r in results if r[0] != 200][:3]
    mixed = [body for _, body in results if body.split()[0] != body.split()[1]]
    assert not mixed
    assert server.get()[2] == "20 20"
