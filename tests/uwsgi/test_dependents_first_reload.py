"""reload-scope = dependents through real uWSGI: a worker's FIRST reload
already clears only the changed module and its importers.

uWSGI's python plugin imports the app in the master (or, with lazy-apps, in
each worker) before any Reloader exists. The plugin starts recording the
import graph just before that ("pre app"), and each Reloader adopts the
recording; without it every module of the app counted as "imported before
pyfresh tracked imports" and each worker's first reload cleared the whole
packages.
"""

import re

import pytest

from pyfresh_testsupport.uwsgi_harness import App, wait_for, write_file

RELOADED = re.compile(r"\[pid (\d+)\].*changed; reloaded .*\((\d+) modules cleared, (\d+) imported([^,)]*)")


def make_app(app_root):
    """shop.wsgi imports shop.views (the leaf that is edited) and
    shop.catalog (which does not import views): a views edit clears views
    and wsgi, the packages scope would clear all four modules."""
    app = App(app_root)
    write_file(app.package / "catalog.py", "ITEMS = ('tea', 'cake')\n")
    wsgi = app.package / "wsgi.py"
    write_file(wsgi, wsgi.read_text().replace("from shop import views\n", "from shop import catalog, views\n"))
    return app


@pytest.mark.parametrize("lazy_apps", [False, True], ids=["preforked", "lazy-apps"])
def test_each_workers_first_leaf_edit_clears_only_the_dependents(uwsgi, app_root, lazy_apps):
    app = make_app(app_root)
    options = [("master", "true"), ("processes", "2"), ("module", app.spec), ("pyfresh-packages", "shop"),
               ("pyfresh-reload-scope", "dependents"), ("add-header", "Connection: close")]
    if lazy_apps:
        options.append(("lazy-apps", "true"))
    uwsgi.start(options, pythonpath=[app_root])
    workers = set(uwsgi.worker_pids())
    assert len(workers) == 2, uwsgi.log()

    app.set_version("v2")
    # Each worker reloads on its own first request after the save: ask
    # until both have answered with the new code.
    answered = set()

    def both_answered_v2():
        body = uwsgi.get_json()
        assert body["version"] == "v2", (body, uwsgi.log())  # never the old code
        answered.add(body["pid"])
        return answered >= workers

    wait_for(both_answered_v2, timeout=30, interval=0.01, message="both workers serving v2")

    log = uwsgi.log()
    assert "dependents scope (" not in log, log  # no fallback to the whole packages
    assert "imported before pyfresh tracked imports" not in log, log
    reloads = [m.groups() for m in RELOADED.finditer(log)]
    assert {int(pid) for pid, *_ in reloads} == workers, log
    for pid, cleared, imported, scope in reloads:
        assert (cleared, imported) == ("2", "2"), (pid, log)  # shop.views and shop.wsgi, not shop, shop.catalog
        assert "the changed modules and their importers" in scope, log
    uwsgi.assert_healthy()


def test_a_later_edit_of_an_untracked_importer_still_reloads_it(uwsgi, app_root):
    """The recording ends once the apps are wrapped: modules the Reloader
    imports itself afterwards are recorded by its own graph, so an edit of
    catalog (imported by wsgi) after a views reload clears catalog and wsgi."""
    app = make_app(app_root)
    uwsgi.start([("master", "true"), ("processes", "1"), ("module", app.spec), ("pyfresh-packages", "shop"),
                 ("pyfresh-reload-scope", "dependents"), ("add-header", "Connection: close")],
                pythonpath=[app_root])
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"
    write_file(app.package / "catalog.py", "ITEMS = ('tea',)\n")
    app.set_version("v3")
    assert uwsgi.get_json()["version"] == "v3"
    log = uwsgi.log()
    assert "dependents scope (" not in log, log
    reloads = [m.groups() for m in RELOADED.finditer(log)]
    assert [(cleared, imported) for _pid, cleared, imported, _scope in reloads] == [("2", "2"), ("3", "3")], log
