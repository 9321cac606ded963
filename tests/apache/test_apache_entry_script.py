"""pyfresh.hosts.mod_wsgi, called the way mod_wsgi calls the installed
pyfresh.wsgi, in this process (no httpd): what it does with PYFRESH_CONFIG."""

import sys
import time
import uuid

import pytest

from pyfresh_testsupport import apache_harness as harness
import pyfresh
from pyfresh.hosts import mod_wsgi as mod_wsgi_entry

APP = """\
import os
TOKEN = os.urandom(8).hex()
MESSAGE = {message!r}

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s %s" % (MESSAGE, TOKEN)).encode()]
"""


@pytest.fixture
def package(tmp_path):
    name = "entry_" + uuid.uuid4().hex[:10]
    directory = tmp_path / name
    directory.mkdir()
    (directory / "__init__.py").write_text("")
    sys.path.insert(0, str(tmp_path))
    yield name, directory
    sys.path.remove(str(tmp_path))
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def save(directory, message, broken=False):
    harness.write_file(str(directory / "main.py"), "raise RuntimeError('broken on purpose')\n"
                       if broken else APP.format(message=message))


def call(environ, app=mod_wsgi_entry.application):
    """Calls the entry point as mod_wsgi does: (status, headers, body text).

    A Reloader's per-request check learns of a save from its detector's
    monitor thread, microseconds after the write; a call from the very
    thread that saved can come first and get the old code. Settle that race
    with the synchronous check (as tests/python's conftest.call does), so
    each test says what happens on the next request after a save."""
    reloader = mod_wsgi_entry._apps.get(environ.get(mod_wsgi_entry.ENVIRON_KEY))
    if isinstance(reloader, pyfresh.Reloader) and reloader.enabled:
        reloader.detector.check()
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = dict(headers)

    body = b"".join(app(dict(environ), start_response)).decode()
    return int(captured["status"].split()[0]), captured["headers"], body


def environ_for(**options):
    pairs = [(name.replace("_", "-"), value) for name, value in options.items()]
    return {"PATH_INFO": "/", "REQUEST_METHOD": "GET", "mod_wsgi.application_group": "",
            "PYFRESH_CONFIG": pyfresh.serialize_config(pairs)}


def test_the_installed_script_exposes_the_entry_application():
    namespace = {}
    with open(harness.entry_script()) as handle:
        exec(compile(handle.read(), harness.entry_script(), "exec"), namespace)
    assert namespace["application"] is mod_wsgi_entry.application


def test_without_pyfresh_config_the_answer_says_to_load_mod_pyfresh():
    status, headers, body = call({"PATH_INFO": "/"})
    assert status == 500 and headers["X-PyFresh-Error"] == "config-missing"
    assert "mod_pyfresh" in body and "PyFreshApp" in body


def test_without_an_app_the_answer_names_pyfresh_app():
    status, headers, body = call(environ_for(packages="mysite", debug="on"))
    assert status == 500 and headers["X-PyFresh-Error"] == "config-missing"
    assert "PyFreshApp" in body


def test_one_reloader_per_distinct_config_text(package):
    name, directory = package
    save(directory, "v1")
    on = environ_for(app=name + ".main:application")
    debug = environ_for(app=name + ".main:application", debug="on")
    assert call(on)[0] == 200 and call(debug)[0] == 200
    first = mod_wsgi_entry._apps[on["PYFRESH_CONFIG"]]
    assert isinstance(first, pyfresh.Reloader)
    assert mod_wsgi_entry._apps[debug["PYFRESH_CONFIG"]] is not first
    call(on)
    assert mod_wsgi_entry._apps[on["PYFRESH_CONFIG"]] is first

    save(directory, "v2")
    assert call(on)[2].startswith("v2 ")


def test_pyfresh_off_calls_the_app_directly_without_reloading(package):
    name, directory = package
    save(directory, "v1")
    off = environ_for(enabled="off", app=name + ".main:application")
    status, _, body = call(off)
    assert status == 200 and body.startswith("v1 ")
    assert mod_wsgi_entry._apps[off["PYFRESH_CONFIG"]] is sys.modules[name + ".main"].application
    save(directory, "v2")
    assert call(off)[2] == body


def test_pyfresh_off_costs_next_to_nothing(package):
    name, directory = package
    save(directory, "v1")
    off = environ_for(enabled="off", app=name + ".main:application")
    call(off)
    app = sys.modules[name + ".main"].application

    def start_response(status, headers, exc_info=None):
        pass

    def best_of(callable_, rounds=5, calls=2000):
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(calls):
                callable_(off, start_response)
            best = min(best, (time.perf_counter() - started) / calls)
        return best

    overhead = best_of(mod_wsgi_entry.application) - best_of(app)
    assert overhead < 2e-6, "PyFresh Off adds %.2f us per request" % (overhead * 1e6)


def test_pyfresh_off_retries_an_app_that_failed_to_import(package):
    name, directory = package
    save(directory, "", broken=True)
    off = environ_for(enabled="off", app=name + ".main:application", debug="on")
    status, headers, body = call(off)
    assert status == 500 and "broken on purpose" in body
    save(directory, "fixed")
    status, _, body = call(off)
    assert status == 200 and body.startswith("fixed ")


def test_a_sub_interpreter_gets_a_warning_naming_the_global_group(package, caplog):
    name, directory = package
    save(directory, "v1")
    environ = environ_for(app=name + ".main:application", exclude=name + ".nothing")
    environ["mod_wsgi.application_group"] = "site.test|"
    assert call(environ)[0] == 200
    warnings = [r.getMessage() for r in caplog.records if r.name == "pyfresh" and r.levelname == "WARNING"]
    assert any("WSGIApplicationGroup %{GLOBAL}" in message for message in warnings)
