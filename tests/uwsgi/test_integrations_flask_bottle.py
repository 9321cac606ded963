"""Issue 18 through real uWSGI, Flask and Bottle (tests/support/pyfresh_testsupport/framework_sites.py):
master and two workers, bytecode written, no pyfresh-watch. Flask: each
template edit of the app and its two blueprints shows on the next requests.
Bottle, in both styles: template edits show, routes and TEMPLATE_PATH do
not grow across reloads, a removed route stops answering.
"""


import pytest

from pyfresh_testsupport import framework_sites as sites

pytest.importorskip("flask")
pytest.importorskip("bottle")


def start(uwsgi, root, name):
    options = [("master", "true"), ("processes", "2"), ("module", "%s.wsgi:application" % name),
               ("pyfresh-packages", name), ("add-header", "Connection: close")]
    uwsgi.start(options, pythonpath=[str(root)])

    def get(path):
        response = uwsgi.get(path)
        return response.status, response.text
    return get


def test_flask_template_edits_show_on_both_workers(uwsgi, app_root):
    sites.flask_site(app_root, "flasksite")
    get = start(uwsgi, app_root, "flasksite")
    sites.run_flask(get, app_root, "flasksite", repeat=4)
    assert "Flask integration on" in uwsgi.log()
    uwsgi.assert_healthy()


@pytest.mark.parametrize("style", ["route", "explicit"])
def test_bottle_templates_show_nothing_piles_up_removed_route_404(uwsgi, app_root, style):
    sites.bottle_site(app_root, "bottlesite", style)
    get = start(uwsgi, app_root, "bottlesite")
    sites.run_bottle(get, app_root, "bottlesite", rounds=4, repeat=4)
    assert "Bottle integration on" in uwsgi.log()
    uwsgi.assert_healthy()
