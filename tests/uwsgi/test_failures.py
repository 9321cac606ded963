"""Issue 11 under uWSGI: failures are answered, never silently wrong."""

import time

import pytest

from pyfresh_testsupport import uwsgi_harness
from pyfresh_testsupport.uwsgi_harness import App, write_file

UNPRINTABLE = """
class Unprintable(Exception):
    def __str__(self):
        raise ValueError("no text for you")

raise Unprintable()
"""


@pytest.fixture
def lang_c(monkeypatch):
    """uWSGI started as Debian's init scripts do: LANG=C."""
    plain = uwsgi_harness.clean_env

    def env():
        values = plain()
        values["LANG"] = "C"
        return values

    monkeypatch.setattr(uwsgi_harness, "clean_env", env)


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
def test_exception_whose_str_raises_is_answered_with_the_error_page(uwsgi, app_root, debug):
    app = App(app_root)
    options = [("master", "true"), ("module", app.spec), ("pyfresh-debug", "on" if debug else "off")]
    uwsgi.start(options, pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    write_file(app.views, UNPRINTABLE)
    response = uwsgi.get()
    assert response.status == 500, response
    assert response.headers.get("X-PyFresh-Error") == "load-failed"
    assert ("Unprintable" in response.text) == debug
    assert uwsgi.log_lines("Unprintable"), "the original error is not in the log"
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"
    uwsgi.assert_healthy()


def test_debug_page_of_a_project_under_a_non_ascii_path_with_lang_c(uwsgi, tmp_path, lang_c):
    """/home/josé/site under LANG=C: Python sees the path as undecodable
    bytes; the debug page is still built (it was a bare 500 before)."""
    root = tmp_path / "home" / "josé" / "site"
    root.mkdir(parents=True)
    app = App(root)
    script = root / "site.wsgi"
    script.write_text("import os, sys\nsys.path.insert(0, os.path.dirname(__file__))\n"
                      "from shop.wsgi import application\n")
    uwsgi.start([("master", "true"), ("wsgi-file", str(script)), ("pyfresh-packages", "shop"),
                 ("pyfresh-debug", "on")])
    assert uwsgi.get_json()["version"] == "v1"
    write_file(app.views, "raise RuntimeError('half saved')\n")
    response = uwsgi.get()
    assert response.status == 500, response
    assert "RuntimeError" in response.text and "half saved" in response.text
    assert "/home/jos\u00e9/site/shop/views.py" in response.text, response.text
    assert uwsgi.log_lines("half saved")
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"
    uwsgi.assert_healthy()


# -- items 3 and 4: configuration --------------------------------------------------------


@pytest.mark.parametrize("options, message", [
    ([("pyfresh-packages", "shop blog"), ("pyfresh-exclude", "shop")],
     "pyfresh-exclude: 'shop' covers the app's own module 'shop.wsgi'"),
    ([("pyfresh-packages", "blog"), ("pyfresh-exclude", "blog")],
     "pyfresh-exclude: 'blog' covers every package of pyfresh-packages ('blog')"),
    ([("pyfresh-packages", "shop pyfresh")], "pyfresh-packages: package 'pyfresh' is pyfresh itself"),
    ([("pyfresh-packages", "shop json")], "pyfresh-packages: 'json' is part of the standard library"),
    ([("pyfresh-packages", "shop flask")], "pyfresh-packages: 'flask' is installed in"),
], ids=["exclude-app", "exclude-every-package", "pyfresh", "json", "flask"])
def test_silently_wrong_configuration_stops_uwsgi_naming_the_option(uwsgi, app_root, options, message):
    app = App(app_root)
    uwsgi.start([("master", "true"), ("module", app.spec)] + options, pythonpath=[app_root], wait=None)
    assert uwsgi.wait_exit() != 0
    assert message in uwsgi.log(), uwsgi.log()


def test_non_ascii_package_with_zero_configuration(uwsgi, app_root):
    """PEP 3131 names (`import données`) are inferred and reload; this was a
    ConfigError that kept the app from loading."""
    app = App(app_root, name="données")
    uwsgi.start([("master", "true"), ("module", app.spec)], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    assert uwsgi.log_lines("inferred packages: données"), uwsgi.log()
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"
    uwsgi.assert_healthy()


def test_non_ascii_option_values_round_trip_under_lang_c(uwsgi, app_root, lang_c):
    """Under LANG=C (ASCII filesystem encoding) module names in options are
    still text: the exclusion is the module `shop.réglages`, and it keeps its
    state across a reload."""
    app = App(app_root)
    (app.package / "réglages.py").write_text("import time\nSTARTED = time.time()\n", encoding="utf-8")
    uwsgi.start([("master", "true"), ("module", app.spec), ("pyfresh-packages", "shop"),
                 ("pyfresh-exclude", "shop.réglages")], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    assert uwsgi.log_lines("(kept: shop.réglages)"), uwsgi.log()
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"
    uwsgi.assert_healthy()


# -- item 6: drain timeout ------------------------------------------------------------------

STREAMING_WSGI = '''\
import json
import time

from {package} import views


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/stream":
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        return stream()
    body = json.dumps({{"version": views.version()}}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def stream():
    yield b"data: first\\n\\n"
    time.sleep(30)
    yield b"data: last\\n\\n"
'''


def _open_stream(port):
    """A dashboard tab: an event stream read up to its first event, left open."""
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    sock.sendall(b"GET /stream HTTP/1.0\r\nHost: localhost\r\n\r\n")
    received = b""
    while b"data: first" not in received:
        chunk = sock.recv(4096)
        assert chunk, "the stream closed: %r" % received
        received += chunk
    return sock


def _stall_after_save(uwsgi, app):
    import time

    stream = _open_stream(uwsgi.port)
    try:
        app.set_version("v2")
        started = time.monotonic()
        version = uwsgi.get_json()["version"]
        return time.monotonic() - started, version
    finally:
        stream.close()


@pytest.mark.parametrize("drain_timeout", [None, "0.3"], ids=["default", "option"])
def test_an_open_event_stream_stalls_a_save_by_the_drain_timeout_only(uwsgi, app_root, drain_timeout):
    app = App(app_root)
    (app.package / "wsgi.py").write_text(STREAMING_WSGI.format(package=app.name))
    options = [("master", "true"), ("processes", "1"), ("threads", "4"), ("module", app.spec)]
    if drain_timeout:
        options.append(("pyfresh-drain-timeout", drain_timeout))
    uwsgi.start(options, pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    seconds, version = _stall_after_save(uwsgi, app)
    print("stall after a save with an open stream: %.2f s" % seconds)
    assert version == "v2"
    assert seconds < 5.0, "a save stalled the next request %.1f s" % seconds
    expected = "within %s s (pyfresh-drain-timeout)" % (drain_timeout or "1")
    uwsgi.wait_log(r"reloading while 1 requests still run the old code.*" + expected.replace("(", r"\(")
                   .replace(")", r"\)").replace(".", r"\."), timeout=10)
    uwsgi.assert_healthy()


# -- item 5: uWSGI's wsgi.file_wrapper --------------------------------------------------------

FILE_WSGI = '''\
import json
import os

from {package} import views

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data.bin")


class ReadOnly:
    """PEP 3333: a file-like object for wsgi.file_wrapper needs only read()."""

    def __init__(self, path):
        self.file = open(path, "rb")

    def read(self, size=-1):
        return self.file.read(size)

    def close(self):
        self.file.close()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path in ("/file", "/read-only"):
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(os.path.getsize(DATA)))])
        filelike = open(DATA, "rb") if path == "/file" else ReadOnly(DATA)
        return environ["wsgi.file_wrapper"](filelike, 65536)
    body = json.dumps({{"version": views.version()}}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
'''

FILE_BYTES = 48 * 1024 * 1024


def _download(port, path):
    import urllib.request

    total = 0
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=60) as reply:
        while True:
            chunk = reply.read(1 << 20)
            if not chunk:
                break
            total += len(chunk)
    return total


def _peak_rss_kb(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM for %d" % pid)


def _file_app(app_root):
    app = App(app_root)
    (app.package / "wsgi.py").write_text(FILE_WSGI.format(package=app.name))
    # No newline: iterated line by line (what happens when uWSGI does not
    # recognise its file response) the whole file is one "line" in memory.
    block = b"x" * (1 << 20)
    with open(app.package / "data.bin", "wb") as data:
        for _ in range(FILE_BYTES // len(block)):
            data.write(block)
    return app


@pytest.mark.parametrize("pyfresh_on", [True, False], ids=["pyfresh", "plain-uwsgi"])
def test_file_wrapper_responses_are_sent_by_uwsgi(uwsgi, app_root, pyfresh_on):
    """uWSGI recognises its own file response (sendfile, or read() of a
    read()-only object) through pyfresh: all 48 MB arrive, and the worker's
    peak memory stays as without pyfresh (it was +97 MB: the file iterated
    line by line; a read()-only object was answered with 0 bytes)."""
    app = _file_app(app_root)
    options = [("master", "true"), ("processes", "1"), ("module", app.spec)]
    if not pyfresh_on:
        options.append(("pyfresh-enabled", "false"))
    uwsgi.start(options, pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    worker = uwsgi.worker_pids()[0]
    before = _peak_rss_kb(worker)
    assert _download(uwsgi.port, "/file") == FILE_BYTES
    assert _download(uwsgi.port, "/read-only") == FILE_BYTES
    growth_mb = (_peak_rss_kb(worker) - before) / 1024.0
    print("worker peak RSS: %.1f MB before, +%.1f MB after two 48 MB downloads"
          % (before / 1024.0, growth_mb))
    assert growth_mb < 24, "the worker's peak RSS grew by %.0f MB serving the file" % growth_mb
    if pyfresh_on:
        # Both requests were closed: a save reloads at once, nothing drains.
        app.set_version("v2")
        assert uwsgi.get_json()["version"] == "v2"
        assert not uwsgi.log_lines("still run the old code")
    assert not uwsgi.log_lines("TypeError")
    uwsgi.assert_healthy()


# -- item 2: started with broken code -------------------------------------------------------


@pytest.mark.parametrize("kind", ["syntax", "import-error", "missing-callable", "lazy-apps"])
def test_uwsgi_started_with_broken_code_answers_the_error_then_serves_the_fix(uwsgi, app_root, kind):
    """uWSGI logs "unable to load app"; pyfresh serves the error response (not
    uWSGI's bare 500 "no python application found") and the fix once saved."""
    app = App(app_root)
    if kind in ("syntax", "lazy-apps"):
        app.break_code()
    elif kind == "import-error":
        write_file(app.views, "raise RuntimeError('settings missing')\n")
    else:
        (app.package / "wsgi.py").write_text("def app(environ, start_response):\n    pass\n")
    options = [("master", "true"), ("processes", "2"), ("module", app.spec), ("pyfresh-debug", "on")]
    if kind == "lazy-apps":
        options.append(("lazy-apps", "true"))
    uwsgi.start(options, pythonpath=[app_root])
    response = uwsgi.get()
    assert response.status == 500, response
    assert response.headers.get("X-PyFresh-Error") == "load-failed", response
    expected = {"syntax": "SyntaxError", "import-error": "settings missing", "missing-callable": "has no attribute",
                "lazy-apps": "SyntaxError"}
    assert expected[kind] in response.text
    assert uwsgi.log_lines("uWSGI could not load the app at mountpoint ''"), uwsgi.log()
    if kind == "missing-callable":
        (app.package / "wsgi.py").write_text(uwsgi_harness.WSGI_TEMPLATE.format(package=app.name))
    else:
        app.set_version("v2")
    for _ in range(4):  # both workers
        assert uwsgi.get_json()["version"] == ("v1" if kind == "missing-callable" else "v2")
    uwsgi.assert_healthy()


MOUNT_MODES = {
    "prefork": [("master", "true"), ("processes", "2")],
    "lazy-apps": [("master", "true"), ("processes", "2"), ("lazy-apps", "true")],
    "threads": [("master", "true"), ("processes", "1"), ("threads", "4")],
}


@pytest.mark.parametrize("mode", sorted(MOUNT_MODES))
def test_a_mount_in_its_own_interpreter_started_broken_answers_the_error_then_serves_the_fix(uwsgi, app_root, mode):
    """A mount runs in a sub-interpreter of its own, which uWSGI ends when the
    import fails: pyfresh sets up another, answers with the error response
    there (the other mount keeps working) and serves the fix once saved
    (before: only logged, a bare 500 until uWSGI was restarted)."""
    alpha = App(app_root, "alpha")
    beta = App(app_root, "beta")
    alpha.break_code()
    options = MOUNT_MODES[mode] + [("manage-script-name", "true"), ("mount", "/alpha=%s" % alpha.spec),
                                   ("mount", "/beta=%s" % beta.spec), ("pyfresh-debug", "on")]
    uwsgi.start(options, wait="/beta/", pythonpath=[app_root])
    response = uwsgi.get("/alpha/")
    assert response.status == 500, (response, uwsgi.log())
    assert response.headers.get("X-PyFresh-Error") == "load-failed", response
    assert "SyntaxError" in response.text
    assert uwsgi.get_json("/beta/")["version"] == "v1"
    assert uwsgi.log_lines("uWSGI could not load the app at mountpoint '/alpha'"), uwsgi.log()
    alpha.set_version("v2")
    for _ in range(4):  # every worker (or thread)
        answer = uwsgi.get_json("/alpha/")
        assert (answer["app"], answer["version"]) == ("alpha", "v2"), answer
        assert answer["reloaders"] == ["/alpha"], "not in its own interpreter"
        assert uwsgi.get_json("/beta/")["version"] == "v1"
    beta.set_version("v3")
    assert uwsgi.get_json("/beta/")["version"] == "v3"
    uwsgi.assert_healthy()


# -- item 7: harakiri shorter than the import -------------------------------------------------


def test_a_reload_killed_by_harakiri_is_reported_with_the_numbers(uwsgi, app_root):
    """A save makes the import take longer than harakiri: each worker is
    killed mid-reload and respawned with the old code. The next reload says
    so in the log (before: nothing but uWSGI's HARAKIRI lines), and a fast
    save recovers."""
    import urllib.error

    app = App(app_root)
    uwsgi.start([("master", "true"), ("processes", "1"), ("harakiri", "2"), ("module", app.spec)],
                pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    write_file(app.views, "import time\ntime.sleep(5)\n\ndef version():\n    return 'slow'\n")

    def ask():
        try:
            uwsgi.get()
        except (OSError, urllib.error.URLError):
            pass  # killed while reloading
        return uwsgi.log_lines("never finished")

    lines = uwsgi_harness.wait_for(ask, timeout=40, interval=0.2, message="the killed reload reported")
    assert "harakiri = 2 s is the likely cause" in lines[0] and "shop.wsgi:application" in lines[0], lines
    assert "HARAKIRI" in uwsgi.log()
    app.set_version("v2")
    assert uwsgi_harness.wait_for(lambda: _version_or_none(uwsgi) == "v2", timeout=40)


def _version_or_none(uwsgi):
    import urllib.error

    try:
        response = uwsgi.get()
    except (OSError, urllib.error.URLError):
        return None
    return response.json()["version"] if response.status == 200 else None
