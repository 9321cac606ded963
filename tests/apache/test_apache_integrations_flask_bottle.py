"""Issue 18 through httpd + mod_wsgi + mod_pyfresh, Flask and Bottle
(tests/support/pyfresh_testsupport/framework_sites.py): one httpd, one virtual host and one daemon
process group (processes=2) per site, %{GLOBAL}, bytecode written, no
PyFreshWatch. Flask: each template edit of the app and its two blueprints
shows on the next requests. Bottle, in both styles: template edits show,
routes and TEMPLATE_PATH do not grow, a removed route stops answering.
"""

import os

import pytest

from pyfresh_testsupport import apache_harness as harness
from pyfresh_testsupport import framework_sites as sites

pytest.importorskip("flask")
pytest.importorskip("bottle")


VHOST = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName {site}.test
    WSGIDaemonProcess fw_{site} python-path=@APPS@/{site}:@PYTHON@ home=@APPS@/{site} processes=2 threads=4
    WSGIProcessGroup fw_{site}
    WSGIApplicationGroup %{{GLOBAL}}
    WSGIScriptAlias / @ENTRY@
    PyFreshApp {site}.wsgi:application
    PyFreshPackages {site}
</VirtualHost>
"""

SITES = {"flasksite": lambda root: sites.flask_site(root, "flasksite"),
         "bottleroute": lambda root: sites.bottle_site(root, "bottleroute", "route"),
         "bottleapp": lambda root: sites.bottle_site(root, "bottleapp", "explicit")}


@pytest.fixture(scope="module")
def server(workspace):
    for site, write in SITES.items():
        root = workspace.path("apps", site)
        os.makedirs(root, exist_ok=True)
        write(root)
        os.chmod(root, 0o755)
        workspace.give_to_run_user(root)
    os.chmod(workspace.path("apps"), 0o755)
    httpd = harness.Httpd(workspace, "\n".join(VHOST.format(site=s) for s in SITES), mpm="event")
    with httpd:
        yield httpd
    print(httpd.log()[-6000:])


def getter(server, site):
    def get(path):
        response = server.get("%s.test" % site, path)
        return response.status, response.body
    return get


def test_flask_template_edits_show_on_both_daemon_processes(server, workspace):
    sites.run_flask(getter(server, "flasksite"), workspace.path("apps", "flasksite"), "flasksite", repeat=4)
    assert "Flask integration on" in server.log()


@pytest.mark.parametrize("site", ["bottleroute", "bottleapp"])
def test_bottle_templates_show_nothing_piles_up_removed_route_404(server, workspace, site):
    sites.run_bottle(getter(server, site), workspace.path("apps", site), site, rounds=4, repeat=4)
    assert "Bottle integration on" in server.log()
