"""reload-scope = dependents under Apache + mod_wsgi: the first reload of
each process already clears only the changed module and its importers.

mod_wsgi runs pyfresh's .wsgi entry script, which imports pyfresh and then
has the Reloader import the app: the import graph is recorded from the
app's first import on (unlike uWSGI, whose python plugin imports the app
itself; tests/uwsgi/test_dependents_first_reload.py). Embedded mode in the
worker MPM's one child, and daemon mode with two processes.
"""

import re

import pytest

from pyfresh_testsupport import apache_harness as harness

SERVER_CONFIG = harness.embedded_config("@APPS@/appde:@PYTHON@", threads=4)

VHOSTS = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName embedded.test
    WSGIScriptAlias / @ENTRY@
    PyFreshApp appde.main:application
    PyFreshPackages appde
    PyFreshReloadScope dependents
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName daemon.test
    WSGIDaemonProcess site_dd processes=2 threads=2 python-path=@APPS@/appdd:@PYTHON@ home=@APPS@/appdd
    WSGIProcessGroup site_dd
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
    PyFreshApp appdd.main:application
    PyFreshPackages appdd
    PyFreshReloadScope dependents
</VirtualHost>
"""

RELOADED = re.compile(r"appd(?:e|d)\.main:application in [\d.]+ ms \((\d+) modules cleared, (\d+) imported([^,)]*)")


@pytest.fixture(scope="module")
def server(workspace):
    for name in ("appde", "appdd"):
        harness.write_app(workspace, name)
    httpd = harness.Httpd(workspace, VHOSTS, mpm="worker", mpm_config=SERVER_CONFIG)
    with httpd:
        yield httpd
    print(httpd.log())


@pytest.mark.parametrize("host, name, processes", [("embedded.test", "appde", 1), ("daemon.test", "appdd", 2)],
                         ids=["embedded", "daemon"])
def test_the_first_leaf_edit_of_each_process_clears_only_the_dependents(server, workspace, host, name, processes):
    pids = set()
    for _ in range(40):  # every process of the group has imported the app
        pids.add(harness.get_ok(server, host)["pid"])
        if len(pids) == processes:
            break
    assert len(pids) == processes, pids
    before = len(RELOADED.findall(server.log()))

    harness.write_views(workspace, name, "%s v2" % name)
    answered = set()
    for _ in range(400):
        body = harness.get_ok(server, host)
        assert body["message"] == "%s v2" % name, body  # never the old code
        answered.add(body["pid"])
        if answered >= pids:
            break
    assert answered >= pids, (answered, pids)

    log = server.log()
    reloads = RELOADED.findall(log)[before:]
    assert len(reloads) == processes, log
    for cleared, imported, scope in reloads:
        # appX.views and appX.main; not the package nor appX.settings.
        assert (cleared, imported) == ("2", "2"), log
        assert "the changed modules and their importers" in scope, log
    assert "dependents scope (" not in log, log
    assert "imported before pyfresh tracked imports" not in log, log
