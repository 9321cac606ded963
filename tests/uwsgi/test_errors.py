"""Broken code gets the engine's error response, the next good save
recovers, and no worker crashes."""

import pytest

from pyfresh_testsupport.uwsgi_harness import App


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
def test_broken_code_then_fix(uwsgi, app_root, debug):
    app = App(app_root)
    options = [("master", "true"), ("processes", "2"), ("module", app.spec)]
    if debug:
        options.append(("pyfresh-debug", "true"))
    uwsgi.start(options, pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    workers = uwsgi.worker_pids()
    assert len(workers) == 2

    app.break_code()
    for _ in range(6):  # every worker answers with the error, none dies
        response = uwsgi.get()
        assert response.status == 500, response
        assert response.headers.get("X-PyFresh-Error") == "load-failed"
        if debug:
            assert "SyntaxError" in response.text and "views.py" in response.text
        else:
            assert "SyntaxError" not in response.text and "views.py" not in response.text
    assert uwsgi.log_lines("SyntaxError"), "the load error is not in uWSGI's log"

    app.set_version("v3")
    for _ in range(6):
        assert uwsgi.get_json()["version"] == "v3"
    assert uwsgi.worker_pids() == workers, "a worker was respawned"
    uwsgi.assert_healthy()
    assert "respawned" not in uwsgi.log()


def test_error_raised_at_import_then_fix(uwsgi, app_root):
    """Not only syntax: an exception while the new code is imported."""
    app = App(app_root)
    uwsgi.start([("master", "true"), ("module", app.spec), ("pyfresh-debug", "on")], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    from pyfresh_testsupport.uwsgi_harness import write_file

    write_file(app.views, "raise RuntimeError('config missing')\n")
    response = uwsgi.get()
    assert response.status == 500 and "config missing" in response.text
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"
    uwsgi.assert_healthy()


def test_broken_mount_leaves_the_other_mount_alone(uwsgi, app_root):
    alpha = App(app_root, "alpha")
    beta = App(app_root, "beta")
    uwsgi.start([("master", "true"), ("processes", "2"), ("manage-script-name", "true"),
                 ("mount", "/alpha=%s" % alpha.spec), ("mount", "/beta=%s" % beta.spec)],
                wait="/alpha/", pythonpath=[app_root])
    alpha.break_code()
    assert uwsgi.get("/alpha/").status == 500
    assert uwsgi.get_json("/beta/")["version"] == "v1"
    alpha.set_version("v2")
    assert uwsgi.get_json("/alpha/")["version"] == "v2"
    uwsgi.assert_healthy()
