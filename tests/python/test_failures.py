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


# -- items 3 and 4: configuration that would make pyfresh silently wrong ------------------


@pytest.mark.parametrize("keywords, fragments", [
    ({"packages": ["PKG", "blog"], "exclude": ["PKG"]},
     ["exclude=: 'PKG' covers the app's own module 'PKG.wsgi'", "never reload"]),
    ({"exclude": ["PKG.wsgi"]}, ["exclude=: 'PKG.wsgi' covers the app's own module"]),
    ({"packages": ["blog", "shop"], "exclude": ["blog", "shop"]},
     ["exclude=: 'blog', 'shop' cover every package of packages= ('blog', 'shop')", "reload nothing"]),
    ({"packages": ["PKG", "pyfresh"]}, ["packages=: ", "'pyfresh' is pyfresh itself"]),
    ({"packages": ["PKG", "json"]}, ["packages=: 'json' is part of the standard library", "not your code"]),
    ({"packages": ["encodings"]}, ["packages=: 'encodings' is part of the standard library"]),
    ({"packages": ["PKG", "flask"]}, ["packages=: 'flask' is installed in ", "not your code"]),
    ({"packages": ["sys"]}, ["packages=: 'sys' is built into the interpreter"]),
], ids=["exclude-app-package", "exclude-app-module", "exclude-every-package", "pyfresh", "json", "encodings",
        "flask", "sys"])
def test_configuration_that_would_be_silently_wrong_is_refused(simple, keywords, fragments):
    keywords = {k: [v.replace("PKG", simple.name) for v in values] for k, values in keywords.items()}
    with pytest.raises(pyfresh.ConfigError) as error:
        pyfresh.Reloader(simple.spec(), **keywords)
    for fragment in fragments:
        assert fragment.replace("PKG", simple.name) in str(error.value)
    assert simple.name + ".views" not in sys.modules  # refused before anything was imported


def test_host_spelling_in_scope_errors(simple):
    pairs = [("app", simple.spec(), "pyfresh-app"), ("packages", simple.name, "pyfresh-packages"),
             ("exclude", simple.name, "pyfresh-exclude")]
    with pytest.raises(pyfresh.ConfigError, match="^pyfresh-exclude: '%s' covers the app's own module"
                       % simple.name):
        pyfresh.Reloader.from_config(pairs)
    with pytest.raises(pyfresh.ConfigError, match="^pyfresh-packages: 'json' is part of the standard library"):
        pyfresh.Reloader.from_config([("app", simple.spec()), ("packages", "json", "pyfresh-packages")])


def test_what_stays_accepted(simple):
    """Exclusions of the state modules, a package not importable yet, and
    exclusions outside every package are fine."""
    reloader = pyfresh.Reloader(simple.spec(), packages=[simple.name, "not_written_yet"],
                                exclude=[simple.name + ".settings", "otherlib"])
    assert call(reloader) == (200, "v1")


def test_non_ascii_module_names_with_zero_configuration(tmp_path, on_path):
    """PEP 3131: `import données` is legal; with zero configuration the
    package is inferred and reloads (it was a ConfigError at startup)."""
    name = "données_" + os.path.basename(str(tmp_path))[-6:].replace("-", "_")
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "vues.py").write_text("def rendu():\n    return 'été'\n", encoding="utf-8")
    (package / "wsgi.py").write_text(
        "from %s.vues import rendu\n\ndef application(environ, start_response):\n"
        "    start_response('200 OK', [])\n    return [rendu().encode('utf-8')]\n" % name, encoding="utf-8")
    reloader = pyfresh.Reloader(name + ".wsgi:application")
    assert reloader.packages == [name]
    assert call(reloader) == (200, "été")
    path = package / "vues.py"
    before = path.stat().st_mtime_ns
    path.write_text("def rendu():\n    return 'hiver'\n", encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))
    assert call(reloader) == (200, "hiver")
    explicit = pyfresh.Reloader(name + ".wsgi:application", packages=[name], exclude=[name + ".réglages"])
    assert explicit.packages == [name] and explicit.exclude == [name + ".réglages"]


def test_module_names_are_validated_as_python_does():
    """The core's identifier tables agree with str.isidentifier() for every
    code point, first and after the first."""
    from pyfresh import _core

    def core_accepts(name):
        try:
            _core.validate_module_name(name)
            return True
        except pyfresh.ConfigError:
            return False

    disagreements = []
    for code in range(0x80, 0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        for name in (char + "x", "x" + char):
            if core_accepts(name) != (name.isidentifier()):
                disagreements.append((hex(code), name))
        if len(disagreements) > 10:
            break
    assert not disagreements


# -- item 6: a long request never stalls a save for long --------------------------------------

STREAMING_WSGI = """
import threading
from PKG.views import render

release = threading.Event()

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ.get("PATH_INFO") == "/stream":
        return stream()
    return [render().encode()]

def stream():
    yield b"first chunk"
    release.wait(60)
    yield b"last chunk"
"""


def _request_during_open_stream(reloader, app):
    """Opens /stream (one chunk read, then left open like an event stream),
    saves a change, and times a request. Returns (seconds, response)."""
    import threading
    import time

    stream = reloader({"PATH_INFO": "/stream", "REQUEST_METHOD": "GET"}, lambda *a: None)
    assert next(iter(stream)) == b"first chunk"
    module = sys.modules[app.name + ".wsgi"]
    app.write("views", "def render():\n    return 'v2'\n")
    try:
        started = time.monotonic()
        result = call(reloader)
        return time.monotonic() - started, result
    finally:
        module.release.set()
        threading.Thread(target=lambda: (list(stream), stream.close())).start()


def test_an_open_stream_delays_a_save_by_the_drain_timeout_only(app, on_path, pyfresh_log):
    app.write("wsgi", STREAMING_WSGI)
    app.write("views", "def render():\n    return 'v1'\n")
    reloader = pyfresh.Reloader(app.spec())
    assert reloader.drain_timeout == 1.0
    seconds, result = _request_during_open_stream(reloader, app)
    assert result == (200, "v2")
    assert seconds < 5.0, "the save stalled the request %.1f s (default drain timeout is 1 s)" % seconds
    warnings = [r.getMessage() for r in pyfresh_log.records if r.levelno == logging.WARNING]
    assert any("1 requests still run the old code" in m and "within 1 s (drain-timeout)" in m for m in warnings), warnings


def test_drain_timeout_option(app, on_path, pyfresh_log):
    app.write("wsgi", STREAMING_WSGI)
    app.write("views", "def render():\n    return 'v1'\n")
    reloader = pyfresh.Reloader(app.spec(), drain_timeout=0.2)
    assert reloader.drain_timeout == 0.2
    seconds, result = _request_during_open_stream(reloader, app)
    assert result == (200, "v2") and seconds < 5.0
    assert any("within 0.2 s (drain_timeout=)" in r.getMessage() for r in pyfresh_log.records)
    from_host = pyfresh.Reloader.from_config([("app", app.spec()), ("drain-timeout", "250ms", "PyFreshDrainTimeout")])
    assert from_host.drain_timeout == 0.25
    with pytest.raises(pyfresh.ConfigError, match="drain_timeout=: invalid value '-1"):
        pyfresh.Reloader(app.spec(), drain_timeout=-1)


# -- item 5: the host's wsgi.file_wrapper passes through the gate -----------------------------

FILE_WSGI = """
import io

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    path = environ["PATH_INFO"]
    if path == "/file":
        return environ["wsgi.file_wrapper"](open(environ["test.file"], "rb"), 4096)
    if path == "/read-only":
        class ReadOnly:  # PEP 3333: a file-like object needs only read()
            def __init__(self):
                self.data = io.BytesIO(b"x" * 10000)
            def read(self, size=-1):
                return self.data.read(size)
        return environ["wsgi.file_wrapper"](ReadOnly())
    return [b"plain"]
"""


class UwsgiLikeHost:
    """uWSGI's file_wrapper: remembers the object and returns it; the
    server then sends it itself when the app returns that very object."""

    def __init__(self):
        self.sendfile = None

    def file_wrapper(self, filelike, blksize=8192):
        self.sendfile = filelike
        return filelike

    def serve(self, app, path, environ_extra):
        environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.file_wrapper": self.file_wrapper}
        environ.update(environ_extra)
        result = app(environ, lambda *a: None)
        return result, result is self.sendfile


def test_the_hosts_file_response_passes_through_and_counts_until_closed(app, on_path, tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"0123456789" * 1000)
    app.write("wsgi", FILE_WSGI)
    reloader = pyfresh.Reloader(app.spec())
    host = UwsgiLikeHost()
    result, recognised = host.serve(reloader, "/file", {"test.file": str(data)})
    assert recognised, "the host would not recognise its file response (no sendfile): %r" % (result,)
    assert result.fileno() >= 0 and result.read(4) == b"0123"  # the file's own methods
    assert reloader.in_flight == 1
    result.close()
    assert reloader.in_flight == 0 and host.sendfile.closed

    result, recognised = host.serve(reloader, "/read-only", {})
    assert recognised and not hasattr(result, "fileno")
    assert len(result.read()) == 10000 and reloader.in_flight == 1
    result.close()
    assert reloader.in_flight == 0

    # A plain response and an app that never uses the wrapper are unaffected.
    result, recognised = host.serve(reloader, "/", {})
    assert result == [b"plain"] and reloader.in_flight == 0


def test_a_wrapper_object_of_the_host_passes_through(app, on_path, tmp_path):
    """A host whose file_wrapper returns its own object (wsgiref's
    FileWrapper, mod_wsgi's): that object is returned untouched, and closing
    it (which closes the file) ends the request."""
    import wsgiref.util

    data = tmp_path / "data.bin"
    data.write_bytes(b"abc" * 5000)
    app.write("wsgi", FILE_WSGI)
    reloader = pyfresh.Reloader(app.spec())
    environ = {"PATH_INFO": "/file", "REQUEST_METHOD": "GET", "wsgi.file_wrapper": wsgiref.util.FileWrapper,
               "test.file": str(data)}
    result = reloader(environ, lambda *a: None)
    assert isinstance(result, wsgiref.util.FileWrapper)
    assert b"".join(result) == b"abc" * 5000
    assert reloader.in_flight == 1
    result.close()
    assert reloader.in_flight == 0


def test_a_reload_waits_for_an_open_file_response(app, on_path, tmp_path, pyfresh_log):
    data = tmp_path / "data.bin"
    data.write_bytes(b"z" * 100)
    app.write("wsgi", FILE_WSGI)
    reloader = pyfresh.Reloader(app.spec(), drain_timeout=0.2)
    host = UwsgiLikeHost()
    result, _ = host.serve(reloader, "/file", {"test.file": str(data)})
    app.write("wsgi", FILE_WSGI.replace('[b"plain"]', '[b"new"]'))
    assert call(reloader) == (200, "new")
    assert any("1 requests still run the old code" in r.getMessage() for r in pyfresh_log.records)
    result.close()
    assert reloader.in_flight == 0


# -- item 2: started with broken code -------------------------------------------------------


def test_serve_started_with_broken_code_answers_the_error_then_the_fix(app, serve):
    """python3 -m pyfresh.serve used to exit; now it serves the error
    response, and the fix as soon as it is saved."""
    from conftest import wait_until

    app.write("wsgi", WSGI)
    app.write("views", "def render(:\n")
    server = serve(app, app.spec(), "--debug")
    status, headers, body = server.get()
    assert status == 500 and headers.get("X-PyFresh-Error") == "load-failed"
    assert "SyntaxError" in body
    app.write("views", "def render():\n    return 'fixed'\n")
    assert wait_until(lambda: server.get()[::2] == (200, "fixed"))
    assert "SyntaxError" in server.log()


def test_an_environ_served_twice_does_not_nest_file_wrappers(app, on_path, tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"q" * 10)
    app.write("wsgi", FILE_WSGI)
    reloader = pyfresh.Reloader(app.spec())
    host = UwsgiLikeHost()
    environ = {"PATH_INFO": "/file", "REQUEST_METHOD": "GET", "wsgi.file_wrapper": host.file_wrapper,
               "test.file": str(data)}
    import gc

    for _ in range(3):
        result = reloader(environ, lambda *a: None)
        assert result is host.sendfile and result.read() == b"q" * 10
        # The host got a FileResponse for the file itself, not for another one.
        assert not [r for r in gc.get_referents(result) if type(r) is type(result)]
        result.close()
    assert reloader.in_flight == 0
