"""Issue 18 through httpd + mod_wsgi + mod_pyfresh: the startproject/startapp
project of tests/support/pyfresh_testsupport/django_project.py in daemon mode (processes=2 threads=4,
%{GLOBAL}), configured like the README (PyFreshPackages mysite polls,
PyFreshExclude mysite.settings), bytecode written, served as www-data when
run as root. Every edit kind shows on every request after its save until
both daemon processes have answered (X-Pid), the admin's change form GETs and POSTs, no
model is registered twice, and a settings edit restarts the daemon
processes, then shows. Embedded mode (worker MPM, one child): a
representative subset of the edits.
"""

import os
import time

import pytest

from pyfresh_testsupport import apache_harness as harness
from pyfresh_testsupport import django_project as project


pytestmark = pytest.mark.skipif(not project.django_available(),
                                reason="python3-django is not installed (scripts/install-deps.sh)")

VHOST = """\
<VirtualHost 127.0.0.1:@PORT@>
    WSGIDaemonProcess {group} python-path={root}:@PYTHON@ home={root} processes={processes} threads=4
    WSGIProcessGroup {group}
    WSGIApplicationGroup %{{GLOBAL}}
    WSGIScriptAlias / @ENTRY@
    PyFresh On
    PyFreshApp mysite.wsgi:application
    PyFreshPackages {packages}
    PyFreshExclude {exclude}
</VirtualHost>
"""


EMBEDDED_VHOST = """\
<VirtualHost 127.0.0.1:@PORT@>
    WSGIScriptAlias / @ENTRY@
    PyFreshApp mysite.wsgi:application
    PyFreshPackages {packages}
    PyFreshExclude {exclude}
</VirtualHost>
"""


@pytest.fixture
def django_httpd(workspace):
    servers = []

    def start(name, processes, embedded=False):
        root = project.make_project(workspace.path("apps", name))
        os.chmod(workspace.path("apps"), 0o755)
        workspace.give_to_run_user(str(root))
        names = dict(group="dj_" + name, root=root, processes=processes,
                     packages=" ".join(project.PACKAGES), exclude=" ".join(project.EXCLUDE))
        if embedded:
            httpd = harness.Httpd(workspace, EMBEDDED_VHOST.format(**names), mpm="worker",
                                  mpm_config=harness.embedded_config("%s:@PYTHON@" % root)).start()
        else:
            httpd = harness.Httpd(workspace, VHOST.format(**names), mpm="event").start()
        servers.append(httpd)
        client = project.Client(httpd.port)
        deadline = time.monotonic() + 30
        while client.get("/about/").status != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        return httpd, root, client

    yield start
    for httpd in servers:
        print(httpd.log()[-8000:])
        httpd.stop()


def test_django_edits_show_on_both_daemon_processes_and_the_admin_works(django_httpd):
    httpd, root, client = django_httpd("edits", processes=2)
    admin = project.Client(httpd.port)
    admin.login()
    passed, failed = project.run_edits(root, client, admin, repeat=2, processes=2)
    print("Apache daemon, 2 processes: %d of %d edit kinds shown by every request after the save until both processes answered: %s"
          % (len(passed), len(passed) + len(failed), ", ".join(passed)))
    assert not failed, project.report_failures(failed) + "\n" + httpd.log()[-6000:]
    project.admin_round_trip(admin, "posted-apache")
    for _ in range(4):
        assert "[posted-apache]" in client.get("/polls/1/").text
    log = httpd.log()
    assert "Django integration on" in log, log[-6000:]
    assert not project.warnings_in(log), project.warnings_in(log)


def test_django_settings_edit_restarts_the_daemon_then_shows(django_httpd):
    httpd, root, client = django_httpd("settings", processes=2)
    for _ in range(6):  # both daemon processes have served the old settings
        assert "settings-v1" in client.get("/about/").text
    answers = project.watch_settings_edit(client, root)
    print("answers after the settings edit:", answers)
    # Each daemon process that notices the edit answers with a retry while
    # it shuts down (before, each served the old value once more).
    assert "old" not in answers and answers[-1] == "new", (answers, httpd.log()[-6000:])
    assert "settings.py changed; it is on the restart-on list" in httpd.log()


def test_django_representative_edits_in_embedded_mode(django_httpd):
    httpd, root, client = django_httpd("embedded", processes=1, embedded=True)
    admin = project.Client(httpd.port)
    admin.login()
    chosen = project.representative()
    passed, failed = project.run_edits(root, client, admin, chosen=chosen, repeat=2)
    print("Apache embedded: %d of %d edit kinds shown: %s" % (len(passed), len(chosen), ", ".join(passed)))
    assert not failed, project.report_failures(failed) + "\n" + httpd.log()[-6000:]
    project.admin_round_trip(admin, "posted-embedded")
    assert not project.warnings_in(httpd.log())


def test_the_readmes_daemon_vhost_as_written_reloads_edits_and_restarts_on_a_settings_edit(workspace):
    """Exactly the README's <VirtualHost>, but for where it runs: this port,
    this project's directory (plus the build tree's pyfresh package on the
    python-path) and the build tree's entry script."""
    root = project.make_project(workspace.path("apps", "readme"))
    os.chmod(workspace.path("apps"), 0o755)
    workspace.give_to_run_user(str(root))
    vhost = project.readme_example("apache", "WSGIDaemonProcess mysite")
    body = (vhost.replace("<VirtualHost *:80>", "<VirtualHost 127.0.0.1:@PORT@>")
            .replace("python-path=/srv/mysite", "python-path=%s:@PYTHON@" % root)
            .replace("home=/srv/mysite", "home=%s" % root)
            .replace("${PYFRESH_WSGI_SCRIPT}", "@ENTRY@"))
    assert "/srv/" not in body and "PyFreshPackages mysite polls" in body and "PyFreshExclude mysite.settings" in body
    httpd = harness.Httpd(workspace, body, mpm="event").start()
    try:
        client = project.Client(httpd.port)
        deadline = time.monotonic() + 30
        while client.get("/about/").status != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        admin = project.Client(httpd.port)
        admin.login()
        passed, failed = project.run_edits(root, client, admin, chosen=project.representative())
        assert not failed, project.report_failures(failed) + "\n" + httpd.log()[-6000:]
        answers = project.watch_settings_edit(client, root)
        assert "old" not in answers and answers[-1] == "new", (answers[:20], httpd.log()[-4000:])
    finally:
        httpd.stop()
