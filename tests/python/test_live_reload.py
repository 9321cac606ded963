"""Live reload in the engine (pyfresh/live_reload.py): which responses get
the script and how, the /_pyfresh/ endpoint, and the change token's rules.
The browser side: tests/browser."""

import os
import re
import threading
import time
import urllib.request
import wsgiref.util

import pytest

import pyfresh
from pyfresh import live_reload
from pyfresh.live_reload_client import SCRIPT

# One app, a response kind per path.
KINDS_WSGI = r'''
import gzip

PAGE = b"<html><head><title>t</title></head><body><p>PKG</p></body></html>"


def _html(extra=()):
    return [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(PAGE)))] + list(extra)


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path in ("/", "/_pyfresh/token"):
        start_response("200 OK", _html())
        return [PAGE]
    if path == "/tuple":
        start_response("404 Not Found", _html())
        return (PAGE[:10], PAGE[10:])
    if path == "/no-body-tag":
        body = b"<p>fragment</p>"
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/upper-case":
        body = b"<HTML><BODY>x</BODY ></HTML>"
        start_response("200 OK", [("content-type", "TEXT/HTML"), ("content-length", str(len(body)))])
        return [body]
    if path == "/two-body-tags":
        body = b"<body><pre>&lt;/body&gt; </body> in text</pre></body>"
        start_response("200 OK", [("Content-Type", "text/html")])
        return [body]
    if path == "/iterable-with-length":
        start_response("200 OK", _html())
        return iter([PAGE[:5], PAGE[5:]])
    if path == "/iterable-too-big":
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(5 * 1024 * 1024))])
        return iter([PAGE])
    if path == "/iterable-without-length":
        start_response("200 OK", [("Content-Type", "text/html")])
        return iter([PAGE])
    if path == "/generator":
        def chunks():
            start_response("200 OK", _html())
            yield PAGE
        return chunks()
    if path == "/gzip":
        body = gzip.compress(PAGE, mtime=0)
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Encoding", "gzip"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    if path == "/range":
        start_response("206 Partial Content", [("Content-Type", "text/html"), ("Content-Range", "bytes 0-9/66"),
                                               ("Content-Length", "10")])
        return [PAGE[:10]]
    if path == "/json":
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    if path == "/utf-16":
        body = PAGE.decode().encode("utf-16")
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-16"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/file":
        import io
        start_response("200 OK", _html())
        return environ["wsgi.file_wrapper"](io.BytesIO(PAGE))
    if path == "/write":
        write = start_response("200 OK", _html())
        write(PAGE)
        return []
    if path == "/csp-nonce":
        start_response("200 OK", _html([("Content-Security-Policy", "default-src 'self'; script-src 'nonce-r4nd0m+/='")]))
        return [PAGE]
    if path == "/csp-default-nonce":
        start_response("200 OK", _html([("Content-Security-Policy", "default-src 'nonce-d3f'")]))
        return [PAGE]
    if path == "/csp-self":
        start_response("200 OK", _html([("Content-Security-Policy", "script-src 'self'")]))
        return [PAGE]
    if path == "/error-then-page":
        try:
            raise ValueError("late")
        except ValueError:
            import sys
            start_response("200 OK", [("Content-Type", "text/plain")])
            start_response("500 Internal Server Error", _html(), sys.exc_info())
        return [PAGE]
    start_response("204 No Content", [("Content-Type", "text/html")])
    return []
'''

PATHS = ["/", "/tuple", "/no-body-tag", "/upper-case", "/two-body-tags", "/iterable-with-length", "/iterable-too-big",
         "/iterable-without-length", "/generator", "/gzip", "/range", "/json", "/utf-16", "/file", "/write",
         "/csp-nonce", "/csp-default-nonce", "/csp-self", "/error-then-page", "/empty", "/_pyfresh/token"]
UNTOUCHED = ["/iterable-too-big", "/iterable-without-length", "/generator", "/gzip", "/range", "/json", "/utf-16",
             "/file", "/write", "/empty"]
TAG = re.compile(rb'<script (?:nonce="([^"]*)" )?(?:async src="([^"]*)" )?data-pyfresh-url="([^"]*)" '
                 rb'data-pyfresh-token="(\d+)">(.*?)</script>', re.S)


def request(app, path="/", method="GET", script_name=""):
    """Calls the WSGI app as a server would: (status, headers, body, result)."""
    captured = {}
    written = []

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = list(headers)
        return written.append

    environ = {"PATH_INFO": path, "REQUEST_METHOD": method, "SCRIPT_NAME": script_name,
               "wsgi.file_wrapper": wsgiref.util.FileWrapper}
    wsgiref.util.setup_testing_defaults(environ)
    result = app(environ, start_response)
    try:
        body = b"".join(written) + b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return captured["status"], captured["headers"], body, result


def header(headers, name):
    values = [v for k, v in headers if k.lower() == name.lower()]
    return values[0] if values else None


@pytest.fixture
def kinds(app, on_path):
    app.write("wsgi", KINDS_WSGI)
    return app


def plain_app(kinds):
    module = __import__(kinds.name + ".wsgi", fromlist=["application"])
    return module.application


def test_option_off_every_response_is_the_apps_bytes(kinds):
    reloader = pyfresh.Reloader(kinds.spec())
    assert type(reloader) is pyfresh.Reloader
    assert type(reloader).__call__ is pyfresh._core.Gate.__call__  # the C fast path, nothing in front
    app = plain_app(kinds)
    for path in PATHS:
        status, headers, body, _ = request(reloader, path)
        expected = request(app, path)
        assert (status, headers, body) == expected[:3], path


def test_html_bodies_seen_whole_get_the_script_before_body_end(kinds):
    reloader = pyfresh.Reloader(kinds.spec(), live_reload=True)
    app = plain_app(kinds)
    for path in ("/", "/tuple", "/iterable-with-length", "/csp-self"):
        status, headers, body, result = request(reloader, path)
        original = request(app, path)
        tag = TAG.search(body)
        assert tag is not None, path
        assert body.replace(tag.group(0), b"") == original[2], path
        assert body.index(tag.group(0)) + len(tag.group(0)) == body.rindex(b"</body>"), path
        assert tag.group(2) == b"/_pyfresh/live-reload.js?v=" + live_reload.SCRIPT_VERSION.encode()
        assert tag.group(5) == b""
        assert tag.group(3) == b"/_pyfresh/token" and tag.group(4) == b"0"
        assert header(headers, "Content-Length") == str(len(body)), path
        assert status == original[0]
        assert isinstance(result, list)
    # No </body>: at the end; several: before the last; any case.
    body = request(reloader, "/no-body-tag")[2]
    assert body.startswith(b"<p>fragment</p><script async src=") and body.endswith(b"</script>")
    body = request(reloader, "/upper-case")[2]
    assert body.startswith(b"<HTML><BODY>x<script async src=") and body.endswith(b"</script></BODY ></HTML>")
    status, headers, body, _ = request(reloader, "/two-body-tags")
    assert body.startswith(b"<body><pre>&lt;/body&gt; </body> in text</pre><script")
    assert header(headers, "Content-Length") is None  # the app gave none: none is made up
    # The second start_response (with exc_info) is the one that counts.
    status, headers, body, _ = request(reloader, "/error-then-page")
    assert status.startswith("500") and TAG.search(body) and header(headers, "Content-Length") == str(len(body))


def test_compressed_ranged_streamed_and_other_responses_are_untouched(kinds):
    reloader = pyfresh.Reloader(kinds.spec(), live_reload=True)
    app = plain_app(kinds)
    for path in UNTOUCHED:
        assert request(reloader, path)[:3] == request(app, path)[:3], path
    # HEAD: the headers describe a body that is not sent.
    status, headers, body, _ = request(reloader, "/", method="HEAD")
    assert header(headers, "Content-Length") == str(len(request(app, "/")[2]))


def test_the_servers_file_wrapper_object_is_returned_as_is(kinds):
    reloader = pyfresh.Reloader(kinds.spec(), live_reload=True)
    result = request(reloader, "/file")[3]
    assert isinstance(result, wsgiref.util.FileWrapper)


def test_a_csp_nonce_is_used_for_an_inline_script(kinds):
    reloader = pyfresh.Reloader(kinds.spec(), live_reload=True)
    for path, nonce in (("/csp-nonce", b"r4nd0m+/="), ("/csp-default-nonce", b"d3f")):
        status, headers, body, _ = request(reloader, path)
        tag = TAG.search(body)
        assert tag.group(1) == nonce and tag.group(2) is None, path
        assert tag.group(5) == SCRIPT.encode()
        assert header(headers, "Content-Length") == str(len(body))


def test_urls_follow_the_mount_point(kinds):
    reloader = pyfresh.Reloader(kinds.spec(), live_reload=True)
    tag = TAG.search(request(reloader, "/", script_name="/shop/")[2])
    assert tag.group(2).startswith(b"/shop/_pyfresh/live-reload.js?v=") and tag.group(3) == b"/shop/_pyfresh/token"


def test_endpoint_answers_the_token_and_nothing_else(kinds):
    reloader = pyfresh.Reloader(kinds.spec(), live_reload=True)
    status, headers, body, _ = request(reloader, "/_pyfresh/token")
    assert status == "200 OK" and body == b"0"
    assert header(headers, "Content-Type").startswith("text/plain")
    assert header(headers, "Cache-Control") == "no-store"
    status, headers, body, _ = request(reloader, "/_pyfresh/live-reload.js")
    assert status == "200 OK" and body == SCRIPT.encode() and "javascript" in header(headers, "Content-Type")
    for path in ("/_pyfresh/", "/_pyfresh/stats", "/_pyfresh/token/x"):
        assert request(reloader, path)[0] == "404 Not Found", path
    assert reloader.in_flight == 0


def test_a_poll_that_need_not_wait_reloads_and_answers_the_changes_token(kinds):
    reloader = pyfresh.Reloader(kinds.spec(), live_reload=True)
    kinds.write("wsgi", KINDS_WSGI.replace("<p>PKG</p>", "<p>changed</p>"))
    reloader.detector.check()  # the save is seen (see conftest.call)
    ctime = os.stat(kinds.path("wsgi")).st_ctime_ns
    assert request(reloader, "/_pyfresh/token")[2] == b"%d" % ctime
    assert reloader.reload_count == 1
    status, headers, body, _ = request(reloader, "/")
    assert b"<p>changed</p>" in body and reloader.reload_count == 1
    assert TAG.search(body).group(4) == b"%d" % ctime


def test_a_poll_while_a_request_is_in_flight_only_reports_the_change(kinds):
    reloader = pyfresh.Reloader(kinds.spec(), live_reload=True, drain_timeout=30)
    streaming = reloader({"PATH_INFO": "/generator", "REQUEST_METHOD": "GET"}, lambda s, h, e=None: None)
    assert reloader.in_flight == 1
    kinds.write("wsgi", KINDS_WSGI.replace("<p>PKG</p>", "<p>changed</p>"))
    reloader.detector.check()
    started = time.monotonic()
    token = request(reloader, "/_pyfresh/token")[2]
    assert time.monotonic() - started < 10  # did not wait out the 30 s drain
    assert token == b"%d" % os.stat(kinds.path("wsgi")).st_ctime_ns
    assert reloader.reload_count == 0 and reloader.in_flight == 1
    streaming.close()
    assert b"<p>changed</p>" in request(reloader, "/")[2] and reloader.reload_count == 1


def test_polls_are_never_in_flight_and_never_wait_for_a_reload(kinds):
    reloader = pyfresh.Reloader(kinds.spec(), live_reload=True)
    seen = []
    original = live_reload.change_token

    def recording(paths):
        seen.append(reloader.in_flight)
        return original(paths)

    kinds.write("wsgi", KINDS_WSGI.replace("<p>PKG</p>", "<p>changed</p>"))
    reloader.detector.check()
    live_reload.change_token = recording
    try:
        owner, drained = reloader.begin_reload(0)  # a reload in progress
        assert owner and drained and reloader.reloading
        answered = {}
        poll = threading.Thread(target=lambda: answered.update(token=request(reloader, "/_pyfresh/token")[2]))
        poll.start()
        poll.join(5)
        alive = poll.is_alive()
        reloader.end_reload()
        poll.join(5)
    finally:
        live_reload.change_token = original
    assert not alive, "the poll waited for the reload"
    assert answered["token"] == b"%d" % os.stat(kinds.path("wsgi")).st_ctime_ns
    assert seen == [0]
    assert reloader.reload_count == 0


def test_option_off_leaves_the_prefix_to_the_app(kinds):
    reloader = pyfresh.Reloader(kinds.spec())
    assert request(reloader, "/_pyfresh/token")[2].startswith(b"<html>")


def test_failed_reload_error_pages_carry_the_script_and_a_token(kinds):
    for debug in (True, False):
        reloader = pyfresh.Reloader(kinds.spec(), live_reload=True, debug=debug)
        kinds.write("wsgi", "def application(:\n")
        reloader.detector.check()
        status, headers, body, _ = request(reloader, "/")
        assert status.startswith("500") and reloader.failure_count == 1
        tag = TAG.search(body)
        assert tag is not None and tag.group(4) == b"%d" % os.stat(kinds.path("wsgi")).st_ctime_ns
        assert (b"SyntaxError" in body) == debug
        kinds.write("wsgi", KINDS_WSGI)
        reloader.detector.check()
        assert b"<p>" in request(reloader, "/")[2]


def test_processes_tracking_different_files_report_the_same_token_for_a_save(app, serve):
    """Two processes of one app (as uWSGI or mod_wsgi workers): one also
    watches a file the other does not track. A save gives both the same
    token, whether it reloaded for a request or for the page's check; a
    later save a greater one, even with its mtime set back."""
    app.write("__init__", "")
    app.write("wsgi", KINDS_WSGI)
    page = app.path("wsgi")
    notes = os.path.join(app.dir, "notes.txt")
    with open(notes, "w") as handle:
        handle.write("notes\n")
    first = serve(app, app.spec(), "--live-reload")
    second = serve(app, app.spec(), "--live-reload", "--watch", notes)
    assert first.get("/_pyfresh/token")[2] == second.get("/_pyfresh/token")[2] == "0"

    app.write("wsgi", KINDS_WSGI + "\n# 1\n")
    ctime = os.stat(page).st_ctime_ns
    assert first.get("/")[0] == 200  # this one reloads on a request, the other on its check
    tokens = [server.get("/_pyfresh/token")[2] for server in (first, second)]
    assert tokens == [str(ctime)] * 2

    time.sleep(0.01)
    app.write("wsgi", KINDS_WSGI + "\n# 2\n")
    os.utime(page, ns=(1, 1))  # cp -p, an archive: an old mtime
    later = [server.get("/_pyfresh/token")[2] for server in (first, second)]
    assert later[0] == later[1] and int(later[0]) > ctime
    assert second.get("/")[0] == 200 and second.get("/_pyfresh/token")[2] == later[0]


def test_change_token_of_a_deleted_file_is_its_directorys(tmp_path):
    gone = tmp_path / "gone.py"
    assert live_reload.change_token([str(gone)]) == os.stat(tmp_path).st_ctime_ns
    kept = tmp_path / "kept.py"
    kept.write_text("")
    assert live_reload.change_token([str(kept), str(gone)]) == max(
        os.stat(kept).st_ctime_ns, os.stat(tmp_path).st_ctime_ns)
    assert live_reload.change_token([]) == 0
    # An mtime in the future (touch -d) does not count: it would hide later saves.
    future = time.time_ns() + 10 ** 18
    os.utime(kept, ns=(future, future))
    assert live_reload.change_token([str(kept)]) == os.stat(kept).st_ctime_ns < future


def test_option_reaches_the_reloader_from_host_text(kinds):
    reloader = pyfresh.Reloader.from_config([("app", kinds.spec()), ("live-reload", "on", "PyFreshLiveReload")])
    assert isinstance(reloader, live_reload.LiveReloading)
    with pytest.raises(pyfresh.ConfigError, match="PyFreshLiveReload.*'sometimes'"):
        pyfresh.Reloader.from_config([("app", kinds.spec()), ("live-reload", "sometimes", "PyFreshLiveReload")])


FLASK_WSGI = '''
from flask import Flask

application = Flask(__name__)


@application.route("/")
def index():
    return "<!DOCTYPE html><html><body><h1>flask page</h1></body></html>"


@application.route("/stream")
def stream():
    return application.response_class(iter(["<html><body>", "streamed", "</body></html>"]), mimetype="text/html")
'''


def test_flask_pages_get_the_script_and_streams_do_not(app, on_path):
    pytest.importorskip("flask")
    app.write("wsgi", FLASK_WSGI)
    reloader = pyfresh.Reloader(app.spec(), live_reload=True)
    status, headers, body, _ = request(reloader, "/")
    assert status == "200 OK" and TAG.search(body)
    assert body.startswith(b"<!DOCTYPE html><html><body><h1>flask page</h1><script async")
    assert header(headers, "Content-Length") == str(len(body))
    status, headers, body, _ = request(reloader, "/stream")
    assert body == b"<html><body>streamed</body></html>"


def test_django_pages_get_the_script(tmp_path, serve):
    """A startproject + startapp project (pyfresh_testsupport.django_project): Django's
    CommonMiddleware declares Content-Length, so its pages get the script."""
    from pyfresh_testsupport import django_project as project

    if not project.django_available():
        pytest.skip("python3-django is not installed (scripts/install-deps.sh)")
    root = project.make_project(tmp_path / "site")

    class Site:
        pass

    site = Site()
    site.root = str(root)
    server = serve(site, "mysite.wsgi:application", "--live-reload", "--exclude", "mysite.settings")
    with urllib.request.urlopen(server.url + "/admin/login/", timeout=30) as reply:
        body, length = reply.read(), reply.headers["Content-Length"]
    assert TAG.search(body), body[-500:]
    assert int(length) == len(body)
    assert body.rstrip().endswith(b"</html>")
