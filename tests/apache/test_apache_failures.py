"""Issue 11 under mod_wsgi (daemon mode, event MPM): the host's
wsgi.file_wrapper passes through pyfresh, and PyFreshDrainTimeout bounds how
long an open stream stalls a save."""

import os
import socket
import time

import pytest

from pyfresh_testsupport import apache_harness as harness

FILE_BYTES = 8 * 1024 * 1024

VHOST = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName files.test
    WSGIDaemonProcess files python-path=@APPS@/files:@PYTHON@ home=@APPS@/files threads=4
    WSGIProcessGroup files
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
    PyFreshApp files.main:application
    PyFreshDrainTimeout 0.5
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName jose.test
    WSGIDaemonProcess jose python-path=@APPS@/jos\u00e9/site:@PYTHON@ home=@APPS@/jos\u00e9/site threads=2
    WSGIProcessGroup jose
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
    PyFreshApp jsite.main:application
    PyFreshDebug On
    PyFreshExclude jsite.r\u00e9glages
</VirtualHost>
"""

# The harness's app, plus a file download (a real file, and a PEP 3333
# object with only read()) and an event stream.
EXTRA = '''

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data.bin")


class ReadOnly:
    def __init__(self, path):
        self.file = open(path, "rb")

    def read(self, size=-1):
        return self.file.read(size)

    def close(self):
        self.file.close()


def stream():
    yield b"data: first\\n\\n"
    time.sleep(30)
    yield b"data: last\\n\\n"


_plain = application


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path in ("/file", "/read-only"):
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(os.path.getsize(DATA)))])
        filelike = open(DATA, "rb") if path == "/file" else ReadOnly(DATA)
        result = environ["wsgi.file_wrapper"](filelike, 65536)
        environ["wsgi.errors"].write("file_wrapper result: %s\\n" % type(result).__name__)
        return result
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        return stream()
    return _plain(environ, start_response)
'''


@pytest.fixture(scope="module")
def server(workspace):
    site = harness.write_app(workspace, "files")
    main = os.path.join(site, "files", "main.py")
    with open(main, "a") as handle:
        handle.write(EXTRA)
    with open(os.path.join(site, "files", "data.bin"), "wb") as data:
        data.write(b"y" * FILE_BYTES)
    workspace.give_to_run_user(site)
    # /…/apps/josé/site: Debian's Apache runs with LANG=C, where Python sees
    # this path as undecodable bytes.
    jose = workspace.path("apps", "jos\u00e9", "site")
    package = os.path.join(jose, "jsite")
    harness.write_file(os.path.join(package, "__init__.py"), "")
    harness.write_file(os.path.join(package, "main.py"), harness.WSGI_MODULE.format(name="jsite"))
    harness.write_file(os.path.join(package, "settings.py"), harness.SETTINGS_MODULE)
    harness.write_file(os.path.join(package, "views.py"), harness.VIEWS_MODULE.format(message="jose v1"))
    harness.write_file(os.path.join(package, "r\u00e9glages.py"), "STATE = []\n")
    for directory in (workspace.path("apps", "jos\u00e9"), jose):
        os.chmod(directory, 0o755)
    workspace.give_to_run_user(jose)
    httpd = harness.Httpd(workspace, VHOST, mpm="event")
    with httpd:
        yield httpd
    print(httpd.log())


def _download(server, path):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request("GET", path, headers={"Host": "files.test", "Connection": "close"})
        response = connection.getresponse()
        total = 0
        while True:
            chunk = response.read(1 << 20)
            if not chunk:
                return response.status, total
            total += len(chunk)
    finally:
        connection.close()


def test_file_wrapper_responses_arrive_whole(server):
    assert harness.get_ok(server, "files.test")["message"] == "files v1"
    assert _download(server, "/file") == (200, FILE_BYTES)
    assert _download(server, "/read-only") == (200, FILE_BYTES)
    # mod_wsgi's own file wrapper object (mod_wsgi.FileWrapper) was returned.
    assert "file_wrapper result: FileWrapper" in server.log()
    assert "TypeError" not in server.log()


def test_an_open_stream_stalls_a_save_by_the_drain_timeout_only(server, workspace):
    harness.get_ok(server, "files.test")
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    try:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: files.test\r\nConnection: close\r\n\r\n")
        received = b""
        while b"data: first" not in received:
            chunk = sock.recv(4096)
            assert chunk, received
            received += chunk
        harness.write_views(workspace, "files", "files v2")
        started = time.monotonic()
        data = harness.get_message_after_save(server, "files.test", "files v2")
        seconds = time.monotonic() - started
    finally:
        sock.close()
    assert data["message"] == "files v2"
    assert seconds < 5.0, "a save stalled the next request %.1f s" % seconds
    deadline = time.monotonic() + 10
    while "within 0.5 s (PyFreshDrainTimeout)" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "reloading while 1 requests still run the old code" in server.log(), server.log()[-3000:]
    assert "within 0.5 s (PyFreshDrainTimeout)" in server.log()


def test_debug_page_of_a_project_under_a_non_ascii_path(server, workspace):
    """Issue 11, item 1: with LANG=C the debug page could not be built (the
    old code kept serving, the first request got a bare 500)."""
    assert harness.get_ok(server, "jose.test")["message"] == "jose v1"
    views = workspace.path("apps", "jos\u00e9", "site", "jsite", "views.py")
    harness.write_file(views, "raise RuntimeError('half saved')\n")
    response = server.get_after_save("jose.test", lambda r: r.status != 200)
    assert response.status == 500, response
    assert "RuntimeError" in response.body and "half saved" in response.body, response.body[:2000]
    assert "/jos\u00e9/site/jsite/views.py" in response.body
    harness.write_file(views, harness.VIEWS_MODULE.format(message="jose v2"))
    assert harness.get_message_after_save(server, "jose.test", "jose v2")["message"] == "jose v2"


def test_a_non_ascii_module_name_in_a_directive_round_trips_under_lang_c(server):
    """Issue 11, item 4: PyFreshExclude jsite.r\u00e9glages reaches the engine
    as that module name (not as undecodable bytes)."""
    harness.get_ok(server, "jose.test")
    lines = [line for line in server.log().splitlines() if "serving jsite.main:application" in line]
    assert lines, server.log()[-3000:]
    # Apache's error log escapes non-ASCII bytes: these are the UTF-8 of
    # "\u00e9" (an undecodable name would show as Python's \\udcc3\\udca9).
    assert "(kept: jsite.r\\xc3\\xa9glages)" in lines[-1], lines[-1]
