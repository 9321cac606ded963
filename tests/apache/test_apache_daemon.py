"""mod_wsgi daemon mode under the event MPM (threads), one process group per
virtual host, %{GLOBAL} application group: the recommended setup."""

import os
import time

import pytest

from pyfresh_testsupport import apache_harness as harness
import pyfresh

SERVER_CONFIG = """\
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 2
    ThreadsPerChild 16
    MaxRequestWorkers 32
    MinSpareThreads 4
    MaxSpareThreads 32
</IfModule>
# Inherited by every virtual host that does not set them.
PyFreshDebug On
PyFreshPackages shared
"""

VHOSTS = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName a.test
    WSGIDaemonProcess site_a python-path=@APPS@/appa:@PYTHON@ home=@APPS@/appa threads=4 display-name=pyfresh-site-a
    WSGIProcessGroup site_a
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
    PyFreshApp appa.main:application
    PyFreshPackages appa
    PyFreshPackages appa_extra
    PyFreshExclude appa.settings
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName b.test
    WSGIDaemonProcess site_b python-path=@APPS@/appb:@PYTHON@ home=@APPS@/appb threads=4
    WSGIProcessGroup site_b
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
    PyFresh On
    PyFreshApp appb.main:application
    PyFreshPackages appb
    PyFreshDebug Off
    PyFreshPollInterval 0
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName off.test
    WSGIDaemonProcess site_off python-path=@APPS@/appoff:@PYTHON@ home=@APPS@/appoff threads=4
    WSGIProcessGroup site_off
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
    PyFresh Off
    PyFreshApp appoff.main:application
    PyFreshPackages appoff
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName broken.test
    WSGIDaemonProcess site_broken python-path=@APPS@/appbroken:@PYTHON@ home=@APPS@/appbroken threads=2
    WSGIProcessGroup site_broken
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
    PyFreshApp appbroken.main:application
    PyFreshPackages appbroken
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName mysite.test
    WSGIDaemonProcess site_mysite python-path=@APPS@/mysite:@PYTHON@ home=@APPS@/mysite threads=2
    WSGIProcessGroup site_mysite
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
    PyFreshApp mysite.wsgi:application
    PyFreshPackages mysite
    PyFreshExclude mysite.settings
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName noapp.test
    WSGIDaemonProcess site_noapp python-path=@PYTHON@ home=@STATE@ threads=2
    WSGIProcessGroup site_noapp
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
</VirtualHost>
"""


@pytest.fixture(scope="module")
def server(workspace):
    for name in ("appa", "appb", "appoff", "appbroken"):
        harness.write_app(workspace, name)
    harness.write_app(workspace, "mysite", wsgi_module="wsgi")
    # broken.test's app cannot be imported when the server starts.
    harness.write_views(workspace, "appbroken", "unused")
    harness.write_file(harness.views_path(workspace, "appbroken"), "raise ImportError('not yet')\n")
    httpd = harness.Httpd(workspace, VHOSTS, mpm="event", mpm_config=SERVER_CONFIG)
    with httpd:
        yield httpd
    print(httpd.log())


get_ok = harness.get_ok
get_message_after_save = harness.get_message_after_save


def get_error_after_save(server, host):
    """The engine's error response once a broken save is seen."""
    return server.get_after_save(host, lambda r: r.status != 200)


def test_each_host_runs_in_its_own_daemon_process_with_threads(server):
    a = get_ok(server, "a.test")
    b = get_ok(server, "b.test")
    assert a["message"] == "appa v1" and b["message"] == "appb v1"
    assert a["process_group"] == "site_a" and b["process_group"] == "site_b"
    assert a["application_group"] == "" and b["application_group"] == ""
    assert a["multithread"] is True
    assert a["pid"] != b["pid"]
    assert a["pid"] != server.process.pid


def test_bytecode_is_written_as_in_production(server, workspace):
    info = get_ok(server, "a.test")
    assert info["dont_write_bytecode"] is False and info["pythondontwritebytecode"] is None
    cache = workspace.path("apps", "appa", "appa", "__pycache__")
    assert any(name.startswith("views.") for name in os.listdir(cache))
    if harness.running_as_root():
        assert os.stat(cache).st_uid == harness.run_user_ids()[0]


def test_directives_merge_with_the_main_server(server):
    """A virtual host inherits what it leaves unset; a list it sets replaces
    the main server's list; a list directive repeated in one host appends."""
    a = pyfresh.parse_serialized_config(get_ok(server, "a.test", "/config"))
    b = pyfresh.parse_serialized_config(get_ok(server, "b.test", "/config"))
    off = pyfresh.parse_serialized_config(get_ok(server, "off.test", "/config"))
    if harness.RELOAD_SCOPE:  # the harness set PyFreshReloadScope next to each PyFreshApp
        for config in (a, b, off):
            assert config.pop("reload_scope") == harness.RELOAD_SCOPE
    assert a == {"app": "appa.main:application", "packages": ["appa", "appa_extra"],
                 "exclude": ["appa.settings"], "debug": True}
    assert b == {"enabled": True, "app": "appb.main:application", "packages": ["appb"], "debug": False,
                 "poll_interval": 0.0}
    assert off == {"enabled": False, "app": "appoff.main:application", "packages": ["appoff"],
                   "debug": True}


def test_an_edit_reloads_only_the_host_whose_packages_it_touches(server, workspace):
    a1 = get_ok(server, "a.test")
    b1 = get_ok(server, "b.test")

    harness.write_views(workspace, "appa", "appa v2")
    a2 = get_message_after_save(server, "a.test", "appa v2")
    b2 = get_ok(server, "b.test")
    assert a2["message"] == "appa v2"
    assert a2["views"] != a1["views"] and a2["wsgi"] != a1["wsgi"]
    assert a2["settings"] == a1["settings"], "PyFreshExclude appa.settings: kept across reloads"
    assert b2 == b1, "host B's modules keep their identity"

    # And the other way round, with B's forced stat polling (interval 0).
    harness.write_views(workspace, "appb", "appb v2")
    b3 = get_message_after_save(server, "b.test", "appb v2")
    a3 = get_ok(server, "a.test")
    assert b3["message"] == "appb v2" and b3["views"] != b1["views"]
    assert a3 == a2


def test_threads_keep_being_served_while_the_host_reloads(server, workspace):
    before = get_ok(server, "a.test")["message"]
    results, errors, hung = harness.edits_under_requests(server, "a.test", workspace, "appa")
    assert not hung
    assert not errors
    assert {status for status, _ in results} == {200}
    messages = {message for _, message in results}
    assert messages <= {before} | {"appa concurrent %d" % i for i in range(3)}
    assert get_message_after_save(server, "a.test", "appa concurrent 2")["message"] == "appa concurrent 2"


def test_broken_code_answers_the_engine_error_then_a_save_recovers(server, workspace):
    b_before = get_ok(server, "b.test")
    path = harness.views_path(workspace, "appa")
    harness.write_file(path, "MESSAGE = 'unterminated\n")

    for attempt in range(2):  # the error is remembered until the next save
        response = get_error_after_save(server, "a.test") if attempt == 0 else server.get("a.test")
        assert response.status == 500, response
        assert response.headers.get("x-pyfresh-error") == "load-failed"
        assert "SyntaxError" in response.body and "views.py" in response.body  # PyFreshDebug On
        assert get_ok(server, "b.test") == b_before, "the other host keeps serving"

    harness.write_views(workspace, "appa", "appa fixed")
    assert get_message_after_save(server, "a.test", "appa fixed")["message"] == "appa fixed"
    assert "SyntaxError" in server.log()


def test_without_debug_the_error_response_shows_no_traceback(server, workspace):
    harness.write_file(harness.views_path(workspace, "appb"), "MESSAGE = undefined_name\n")
    response = get_error_after_save(server, "b.test")
    assert response.status == 500
    assert "NameError" not in response.body and "views.py" not in response.body  # PyFreshDebug Off
    assert "NameError" in server.log()
    harness.write_views(workspace, "appb", "appb fixed")
    assert get_message_after_save(server, "b.test", "appb fixed")["message"] == "appb fixed"


def test_an_app_that_fails_at_startup_is_served_once_fixed(server, workspace):
    response = server.get("broken.test")
    assert response.status == 500 and response.headers.get("x-pyfresh-error") == "load-failed"
    assert "not yet" in response.body
    harness.write_views(workspace, "appbroken", "appbroken fixed")
    assert get_message_after_save(server, "broken.test", "appbroken fixed")["message"] == "appbroken fixed"


def test_pyfresh_off_runs_the_app_untouched(server, workspace):
    first = get_ok(server, "off.test")
    harness.write_views(workspace, "appoff", "appoff v2")
    for _ in range(3):
        assert get_ok(server, "off.test") == first, "no reload with PyFresh Off"


def test_the_django_style_spec_from_the_docs_names_a_module(server, workspace):
    """`PyFreshApp mysite.wsgi:application` (Django's layout) is the module
    mysite/wsgi.py, not a file called "mysite.wsgi"."""
    first = get_ok(server, "mysite.test")
    harness.write_views(workspace, "mysite", "mysite v2")
    second = get_message_after_save(server, "mysite.test", "mysite v2")
    assert second["message"] == "mysite v2" and second["settings"] == first["settings"]


def test_a_host_without_pyfresh_app_gets_a_clear_error(server):
    response = server.get("noapp.test")
    assert response.status == 500
    assert response.headers.get("x-pyfresh-error") == "config-missing"
    assert "PyFreshApp" in response.body
    assert "PyFreshApp" in server.log()


def test_a_graceful_restart_applies_changed_directives(server, workspace):
    """httpd re-reads the config; mod_pyfresh resolves it again and the new
    daemon processes build their apps from the new PYFRESH_CONFIG."""
    before = pyfresh.parse_serialized_config(get_ok(server, "b.test", "/config"))
    assert before["debug"] is False
    server.body = server.body.replace("PyFreshDebug Off", "PyFreshDebug On")
    try:
        server.graceful_restart()
        deadline = time.monotonic() + 20
        while True:
            response = server.get("b.test", "/config")
            if response.status == 200:
                after = pyfresh.parse_serialized_config(response.body)
                if after.get("debug") or time.monotonic() > deadline:
                    break
            assert time.monotonic() < deadline, (response, server.log()[-3000:])
            time.sleep(0.1)
        assert after == dict(before, debug=True)
        assert get_ok(server, "a.test")["message"].startswith("appa")
    finally:
        server.body = server.body.replace("PyFreshDebug On", "PyFreshDebug Off")
