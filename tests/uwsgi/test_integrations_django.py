"""Issue 18 through real uWSGI: the startproject/startapp project of
tests/support/pyfresh_testsupport/django_project.py served with the README's ini (pyfresh-packages =
mysite polls, pyfresh-exclude = mysite.settings), master and two workers,
bytecode written. Every edit kind shows on every request after its save
until both workers have answered (X-Pid), the admin's change form GETs and POSTs, no model
is registered twice, and a settings edit reloads the instance, then shows.
With `pyfresh-integrations = off` the same edits keep the old code.
"""


import pytest

from pyfresh_testsupport import django_project as project


pytestmark = pytest.mark.skipif(not project.django_available(),
                                reason="python3-django is not installed (scripts/install-deps.sh)")


def start(uwsgi, root, processes=2, extra=()):
    options = list(extra) + [("master", "true"), ("processes", str(processes)), ("module", "mysite.wsgi:application"),
               ("pyfresh-packages", " ".join(project.PACKAGES)), ("pyfresh-exclude", " ".join(project.EXCLUDE)),
               ("add-header", "Connection: close")]
    uwsgi.start(options, wait="/about/", pythonpath=[str(root)])
    return project.Client(uwsgi.port)


def test_django_edits_show_on_both_workers_and_the_admin_works(uwsgi, app_root):
    root = project.make_project(app_root / "site")
    client = start(uwsgi, root)
    admin = project.Client(uwsgi.port)
    admin.login()
    passed, failed = project.run_edits(root, client, admin, repeat=2, processes=2)
    print("uWSGI, 2 workers: %d of %d edit kinds shown by every request after the save until both workers answered: %s"
          % (len(passed), len(passed) + len(failed), ", ".join(passed)))
    assert not failed, project.report_failures(failed) + "\n" + uwsgi.log()
    project.admin_round_trip(admin, "posted-uwsgi")
    for _ in range(4):
        assert "[posted-uwsgi]" in client.get("/polls/1/").text
    log = uwsgi.log()
    assert "Django integration on" in log, log
    assert not project.warnings_in(log), project.warnings_in(log)
    uwsgi.assert_healthy()


def test_django_settings_edit_reloads_the_instance_then_shows(uwsgi, app_root):
    root = project.make_project(app_root / "site")
    client = start(uwsgi, root)
    for _ in range(6):  # both workers have served the old settings
        assert "settings-v1" in client.get("/about/").text
    answers = project.watch_settings_edit(client, root)
    print("answers after the settings edit:", answers)
    # The workers that notice the edit answer with a retry while the
    # instance reloads; none answers from the old code.
    assert "old" not in answers and answers[-1] == "new", (answers, uwsgi.log())
    assert "settings.py changed; it is on the restart-on list" in uwsgi.log()
    uwsgi.assert_healthy()


def readme_ini_options():
    """The README's uWSGI example as key/value options; the harness writes
    `plugins` (the same) and `http-socket` (its own port) itself."""
    options = []
    for line in project.readme_example("ini", "module = mysite.wsgi:application").splitlines():
        if "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            if key not in ("plugins", "http-socket"):
                options.append((key, value))
    return options


def test_the_readmes_ini_as_written_reloads_edits_and_restarts_on_a_settings_edit(uwsgi, app_root):
    """Exactly the README's ini (nothing added but the port and paths): the
    edits show and a settings edit restarts the instance, which needs the
    master process the example sets."""
    options = readme_ini_options()
    assert ("pyfresh-packages", "mysite polls") in options and ("pyfresh-exclude", "mysite.settings") in options
    root = project.make_project(app_root / "site")
    uwsgi.start(options, wait="/about/", pythonpath=[str(root)])
    client = project.Client(uwsgi.port)
    admin = project.Client(uwsgi.port)
    admin.login()
    passed, failed = project.run_edits(root, client, admin, chosen=project.representative())
    assert not failed, project.report_failures(failed) + "\n" + uwsgi.log()
    answers = project.watch_settings_edit(client, root)
    assert "old" not in answers and answers[-1] == "new", (answers[:20], uwsgi.log_lines("pyfresh")[-4:])
    uwsgi.assert_healthy()


def test_pyfresh_integrations_off_leaves_django_stale(uwsgi, app_root):
    """The option reaches the engine; and without the integration the
    edits above are missed, so that test fails without it."""
    root = project.make_project(app_root / "site")
    client = start(uwsgi, root, processes=1, extra=[("pyfresh-integrations", "off")])
    chosen = [e for e in project.edits() if e.name in ("function view body", "app template")]
    passed, failed = project.run_edits(root, client, client, chosen=chosen)
    assert passed == [], passed
    assert "integration on" not in uwsgi.log()


def test_dependents_scope_a_view_edit_reimports_the_url_confs_and_not_the_rest(uwsgi, app_root):
    """reload-scope = dependents: an edited view is re-imported with its
    importers, among them polls.urls (which imports it) and the root URL
    conf (whose include('polls.urls') Django imported by name); the models,
    admin and everything else stay. The first reload of a worker falls back
    to the whole packages scope (uWSGI imported the app before pyfresh
    tracked imports), and says so."""
    root = project.make_project(app_root / "site")
    client = start(uwsgi, root, processes=1, extra=[("pyfresh-reload-scope", "dependents")])
    chosen = {e.name: e for e in project.edits()}
    for name, expected in (("function view body", "view-v2"), ("module a view imports", "helper-v2")):
        edit = chosen[name]
        client.get(edit.path)  # the views are imported (lazily, by Django) before the edit
        edit.apply(root)
        assert expected in client.get(edit.path).text, uwsgi.log()
    log = uwsgi.log()
    reloads = [line for line in log.splitlines() if "changed; reloaded" in line]
    assert len(reloads) == 2, log
    assert "imported before pyfresh tracked imports" in log  # the first: the whole scope
    assert "the changed modules and their importers" in reloads[1], log
    cleared = int(reloads[1].split("(")[1].split(" modules cleared")[0])
    assert 0 < cleared < int(reloads[0].split("(")[1].split(" modules cleared")[0]), reloads
    assert "dependents scope" not in log.split(reloads[0])[1], log  # no fallback after the first
    assert not project.warnings_in(log), project.warnings_in(log)
