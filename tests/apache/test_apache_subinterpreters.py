"""Default application groups: without WSGIApplicationGroup mod_wsgi runs
each (virtual host, script) in its own sub-interpreter. pyfresh must work
there or answer a clear error naming the fix; never hang. Every request is
bounded by a timeout, and so is stopping the server."""

import pytest

from pyfresh_testsupport import apache_harness as harness

SERVER_CONFIG = """\
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 1
    ThreadsPerChild 16
    MaxRequestWorkers 16
    MinSpareThreads 1
    MaxSpareThreads 16
</IfModule>
WSGIPythonPath @APPS@/appsc:@PYTHON@
"""

# No WSGIApplicationGroup anywhere: mod_wsgi's default %{RESOURCE}.
VHOSTS = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName daemon.test
    WSGIDaemonProcess site_sub python-path=@APPS@/appsd:@PYTHON@ home=@APPS@/appsd threads=4
    WSGIProcessGroup site_sub
    WSGIScriptAlias / @ENTRY@
    PyFreshApp appsd.main:application
    PyFreshPackages appsd
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName embedded.test
    WSGIScriptAlias / @ENTRY@
    PyFreshApp appsc.main:application
    PyFreshPackages appsc
</VirtualHost>
"""

REQUEST_TIMEOUT = 20


@pytest.fixture(scope="module")
def server(workspace):
    for name in ("appsd", "appsc"):
        harness.write_app(workspace, name)
    httpd = harness.Httpd(workspace, VHOSTS, mpm="event", mpm_config=SERVER_CONFIG)
    httpd.start()
    yield httpd
    httpd.stop()
    print(httpd.log())


def works_or_names_the_fix(server, host):
    """Returns the app's JSON if it is served; otherwise the response must
    be an error that names WSGIApplicationGroup %{GLOBAL}."""
    response = server.get(host, timeout=REQUEST_TIMEOUT)  # raises on a hang
    if response.status == 200:
        return response.json()
    assert response.status == 500, response
    assert "WSGIApplicationGroup %{GLOBAL}" in response.body, response
    return None


@pytest.mark.parametrize("host,name", [("daemon.test", "appsd"), ("embedded.test", "appsc")])
def test_default_application_group_serves_and_reloads(server, workspace, host, name):
    first = works_or_names_the_fix(server, host)
    if first is None:
        return
    assert first["application_group"] not in ("", None), "a sub-interpreter, not %{GLOBAL}"
    harness.write_views(workspace, name, "%s v2" % name)
    # The first request after the save may precede the serving process's
    # monitor thread noticing it (see Httpd.get_after_save).
    server.get_after_save(host, lambda r: r.status != 200 or r.json()["message"] != first["message"],
                          timeout=REQUEST_TIMEOUT)
    second = works_or_names_the_fix(server, host)
    assert second["message"] == "%s v2" % name and second["views"] != first["views"]
    assert second["pid"] == first["pid"]


def test_the_log_recommends_the_global_group(server):
    works_or_names_the_fix(server, "daemon.test")
    assert "WSGIApplicationGroup %{GLOBAL}" in server.log()


def test_the_server_stops_without_hanging(server):
    works_or_names_the_fix(server, "daemon.test")
    works_or_names_the_fix(server, "embedded.test")
    elapsed, _ = server.stopped_in()
    assert elapsed < harness.STOP_TIMEOUT, server.log()[-3000:]
