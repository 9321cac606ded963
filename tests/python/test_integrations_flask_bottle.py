"""Issue 18, Flask and Bottle, on the engine (python3 -m pyfresh.serve, no
`watch` option; the sites are tests/support/pyfresh_testsupport/framework_sites.py): template edits
show on the next request; Bottle's default app and TEMPLATE_PATH do not
grow; a removed route stops answering.

Each behaviour is also checked with the integration off (the option, or
unregistered), where it is what issue 18 reported (stale templates,
piled-up routes), so these tests fail without the integration.
"""


import pytest

from pyfresh_testsupport import framework_sites as sites

from conftest import write

pytest.importorskip("flask")
pytest.importorskip("bottle")


OFF = "import pyfresh.integrations as i; i.unregister(%r)"


def _serve(serve, app, *args, prelude=None):
    """pyfresh.serve with the README's configuration; `prelude` goes first
    in the app's wsgi.py (imported before the integrations are looked at)."""
    if prelude is not None:
        path = app.path("wsgi")
        with open(path) as handle:
            text = handle.read()
        write(path, prelude + "\n" + text)
    server = serve(app, app.spec(), "--packages", app.name, *args)
    server.status_and_body = lambda path: server.get(path)[0::2]
    return server


def test_flask_template_edits_of_app_and_blueprints_show_without_watch(app, serve):
    sites.flask_site(app.root, app.name)
    server = _serve(serve, app)
    sites.run_flask(server.status_and_body, app.root, app.name)
    log = server.log()
    assert log.count("Flask integration on") == 1, log
    for folder in ("/templates", "/shop/templates", "/blog/templates"):
        assert app.dir + folder in log, log  # watched, and said so


def test_flask_without_the_integration_template_edits_are_missed(app, serve):
    sites.flask_site(app.root, app.name)
    server = _serve(serve, app, "--integrations", "off")
    relative, old, new, path = sites.FLASK_TEMPLATE_EDITS[1]
    assert old in server.get(path)[2]
    sites.edit(app.root, app.name, relative, old, new)
    assert old in server.get(path)[2]


@pytest.mark.parametrize("style", ["route", "explicit"])
def test_bottle_template_edits_show_nothing_piles_up_removed_route_404(app, serve, style):
    sites.bottle_site(app.root, app.name, style)
    server = _serve(serve, app)
    sites.run_bottle(server.status_and_body, app.root, app.name)
    assert "Bottle integration on" in server.log()


def test_bottle_without_the_integration_routes_pile_up_and_templates_stay(app, serve):
    sites.bottle_site(app.root, app.name, "route")
    server = _serve(serve, app, prelude=OFF % "bottle")
    first_count = server.get("/count")[2]
    assert "page-v1" in server.get("/")[2]  # compiled and cached
    sites.set_page(app.root, app.name, 2)
    sites.append(app.root, app.name, "routes.py", "\n# edit\n")
    assert server.get("/count")[2] != first_count
    assert "page-v1" in server.get("/")[2]
