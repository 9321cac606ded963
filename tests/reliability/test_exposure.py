"""Nothing exposed: no URL, method, query or header makes pyfresh reload,
answer for the app, or show its configuration or statistics; without
debug, an error page contains no traceback, source line or filesystem
path (with debug it does: the control that the check can see them)."""

import json
import os
import sys
import uuid
import wsgiref.util

import pytest

import pyfresh
from leaks import leaks
from rel_common import atomic_write, make_target, report, request, wait_until

APP = '''\
import json
import os

TOKEN = os.urandom(8).hex()


def application(environ, start_response):
    body = json.dumps({"app": "exposure-app", "token": TOKEN, "path": environ.get("PATH_INFO", "")}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
'''

PATHS = ["/", "/__pyfresh__", "/__pyfresh__/reload", "/pyfresh", "/pyfresh/reload", "/pyfresh/stats",
         "/pyfresh/config", "/_pyfresh", "/.pyfresh", "/reload", "/_reload", "/stats", "/config", "/status",
         "/__reload__", "/?pyfresh=reload", "/?reload=1&pyfresh_stats=1", "/?PYFRESH_CONFIG=app%3Devil.wsgi",
         "/a/../pyfresh", "/pyfresh.wsgi", "/server-status", "/debug", "/__debug__"]
METHODS = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "RELOAD", "PURGE"]
HEADERS = [{}, {"X-PyFresh-Reload": "1"}, {"PyFresh-Config": "app=evil.wsgi:application"},
           {"X-PyFresh": "reload"}, {"Pyfresh-Debug": "on"}, {"Cache-Control": "no-cache"}]
# What a response must never contain: config text, stats keys, pyfresh's own headers.
FORBIDDEN = ("packages", "PYFRESH", "reloads", "failures", "last_reload", "last_trigger", "restart",
             "poll_interval", "exposure_secret")


@pytest.mark.parametrize("server", ["uwsgi", "apache"])
def test_no_url_reloads_or_reads_config(server, tmp_path):
    target = make_target(server, tmp_path)
    package = os.path.join(target.app_root, "expapp")
    os.makedirs(package)
    atomic_write(os.path.join(package, "__init__.py"), "")
    atomic_write(os.path.join(package, "wsgi.py"), APP)
    atomic_write(os.path.join(package, "exposure_secret.py"), "VALUE = 1\n")
    target.own(package)
    options = [("pyfresh-exclude", "expapp.exposure_secret")] if server == "uwsgi" else []
    directives = ["PyFreshExclude expapp.exposure_secret", "PyFreshDebug Off"] if server == "apache" else []
    try:
        target.start("expapp.wsgi:application", options if server == "uwsgi" else directives)
        first = wait_until(lambda: (lambda r: r if r.status == 200 else None)(
            request(target.port, host=target.host)), timeout=30)
        assert first, target.log()[-3000:]
        tokens = set()
        count = 0
        for path in PATHS:
            for method in METHODS:
                for headers in HEADERS:
                    count += 1
                    body = b"x=1" if method in ("POST", "PUT", "PATCH") else None
                    answer = request(target.port, path, host=target.host, method=method, headers=headers, body=body)
                    assert answer.error is None, (path, method, headers, answer.error)
                    assert answer.status == 200, (path, method, headers, answer.status, answer.body[:300])
                    data = json.loads(answer.body)
                    assert data["app"] == "exposure-app", (path, method, data)
                    tokens.add(data["token"])
                    text = answer.body.decode() + json.dumps(answer.headers)
                    assert not [word for word in FORBIDDEN if word in text], (path, method, text[:500])
                    assert not [name for name, _ in answer.headers if name.lower().startswith("x-pyfresh")]
        # One token: the app was never imported again.
        assert len(tokens) == 1, tokens
        log = target.log()
        assert "reloaded expapp" not in log and "changed;" not in log, log[-3000:]
        report("exposure_%s" % server, {"server": server, "requests": count, "reloads": 0, "app_tokens": len(tokens)})
    finally:
        target.stop()
        if server == "apache":
            target.cleanup()


# -- error pages, in-process (every kind of broken code) --------------------------------

SECRET = "exposure-secret-" + uuid.uuid4().hex[:8]
BROKEN = {
    "syntax error": {"views.py": "def render(:\n    return '%s'\n" % SECRET},
    "exception at import": {"views.py": "raise RuntimeError('%s: ' + __file__)\n" % SECRET},
    "name error at import": {"views.py": "VALUE = %s_undefined\n" % SECRET.replace("-", "_")},
    "removed callable": {"wsgi.py": "from PKG import views\n\ndef not_application(environ, start_response):\n"
                                    "    pass  # %s\n" % SECRET},
    "import cycle": {"cyc_a.py": "from PKG.cyc_b import B\nA = 1\n",
                     "cyc_b.py": "from PKG.cyc_a import A  # %s\nB = 2\n" % SECRET,
                     "views.py": "from PKG.cyc_a import A\n\ndef render():\n    return 'x'\n"},
    "failing import of a missing module": {"views.py": "import %s_missing\n" % SECRET.replace("-", "_")},
    "non-callable app": {"wsgi.py": "application = '%s'\n" % SECRET},
}
GOOD = {
    "wsgi.py": "from PKG import views\n\ndef application(environ, start_response):\n"
               "    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [views.render().encode()]\n",
    "views.py": "def render():\n    return 'good'\n",
}


def call(app):
    environ = {}
    wsgiref.util.setup_testing_defaults(environ)
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


@pytest.fixture
def package(tmp_path):
    name = "exp_" + uuid.uuid4().hex[:8]
    directory = tmp_path / name
    directory.mkdir()
    sys.path.insert(0, str(tmp_path))
    yield name, directory
    sys.path.remove(str(tmp_path))
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


@pytest.mark.parametrize("debug", [False, True], ids=["no-debug", "debug"])
@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_error_page(kind, debug, package):
    name, directory = package

    def save(files):
        for filename, text in files.items():
            atomic_write(str(directory / filename), text.replace("PKG", name))

    save({"__init__.py": ""})
    save(GOOD)
    app = pyfresh.Reloader("%s.wsgi:application" % name, packages=[name], debug=debug)
    assert call(app)[2] == b"good"
    save(BROKEN[kind])
    assert app.detector.check()
    status, headers, body = call(app)
    assert status.startswith("500"), (status, body[:300])
    assert ("X-PyFresh-Error", "load-failed") in headers
    found = leaks(body + json.dumps(headers).encode(), [SECRET, str(directory), name + "/", "cyc_"])
    if debug:
        # The control: the same check sees the traceback.
        assert "Traceback" in found, found
    else:
        assert not found, "the error page without debug shows %s:\n%s" % (found, body.decode()[:2000])
    # Recovery on the next good save.
    save(GOOD)
    if kind == "import cycle":
        atomic_write(str(directory / "views.py"), GOOD["views.py"])
    assert app.detector.check()
    assert call(app)[2] == b"good"
