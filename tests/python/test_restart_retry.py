"""A restart handler that returns True says the process is being replaced
(uWSGI's graceful reload, a mod_wsgi daemon's shutdown): from then on the
process answers every request with a 307 to the same URL, never with the
old code, until it ends, or, if it does not within the grace period, serves
again (issue 18: a settings edit must not get one more old response per
process)."""

import os

from conftest import call, write
from pyfresh import Reloader, restart


def _site(app, tmp_path):
    app.write("views", "VERSION = 'v1'\n")
    app.write("wsgi", "from PKG import views\n\n"
                      "def application(environ, start_response):\n"
                      "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                      "    return [views.VERSION.encode()]\n")
    settings = os.path.join(str(tmp_path), "settings.conf")
    write(settings, "a")
    return settings


def _request(app, path="/polls/", query="x=1"):
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)

    body = b"".join(app({"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": "POST",
                         "SERVER_NAME": "example.test", "SERVER_PORT": "80", "HTTP_HOST": "example.test",
                         "wsgi.url_scheme": "http", "SCRIPT_NAME": ""}, start_response))
    return captured["status"], captured["headers"], body


def test_a_process_being_replaced_answers_with_retries_not_the_old_code(app, on_path, tmp_path):
    settings = _site(app, tmp_path)
    reasons = []
    reloader = Reloader(app.spec(), packages=[app.name], restart_on=[settings],
                        restart_handler=lambda reason: reasons.append(reason) or True)
    assert call(reloader) == (200, "v1")
    write(settings, "b")
    app.write("views", "VERSION = 'v2'\n")  # not reloaded: this process is on its way out
    reloader.detector.check()
    status, headers, body = _request(reloader)
    assert status.startswith("307")
    assert headers["Location"] == "http://example.test/polls/?x=1"
    assert headers["Connection"] == "close" and headers["Retry-After"] == "1"
    assert len(reasons) == 1 and "settings.conf changed" in reasons[0]
    # Every later request too, and no reload (views.py changed as well).
    assert _request(reloader)[0].startswith("307")
    assert reloader.reload_count == 0 and not reloader.enabled


def test_a_handler_that_returns_nothing_keeps_serving_and_reloads(app, on_path, tmp_path):
    settings = _site(app, tmp_path)
    reloader = Reloader(app.spec(), packages=[app.name], restart_on=[settings],
                        restart_handler=lambda reason: None)
    write(settings, "b")
    app.write("views", "VERSION = 'v2'\n")
    assert call(reloader) == (200, "v2")


def test_a_restart_that_never_comes_serves_again_after_the_grace_period(caplog):
    previous = lambda environ, start_response: (start_response("200 OK", []), [b"old"])[1]  # noqa: E731
    expired = []
    retrying = restart.RestartingApp(previous, "x changed", grace=0, on_expiry=lambda: expired.append(1))
    assert _request(retrying)[2] == b"old"
    assert _request(retrying)[2] == b"old"
    assert expired == [1]
    assert [r.getMessage() for r in caplog.records].count(
        "this process was to be replaced (x changed) but still runs; serving the current code again") == 1
