"""Issue 18, Flask and Bottle, on the engine (python3 -m pyfresh.serve, no
`watch` option): template edits show on the next request; Bottle's default
app and TEMPLATE_PATH do not grow; a removed route stops answering.

Each behaviour is also checked with the integration unregistered, where it
is what issue 18 reported (stale templates, piled-up routes), so these tests
fail without the integration.
"""

import pytest

from conftest import write

flask = pytest.importorskip("flask")
bottle = pytest.importorskip("bottle")

OFF = "import pyfresh.integrations as i; i.unregister(%r)"


def _serve_with(serve, app, *args, prelude=None):
    """pyfresh.serve with the README's configuration; `prelude` goes first
    in the app's wsgi.py (imported before the integrations are looked at)."""
    if prelude is not None:
        path = app.path("wsgi")
        with open(path) as handle:
            text = handle.read()
        write(path, prelude + "\n" + text)
    return serve(app, app.spec(), "--packages", app.name, *args)


def _append(app, module, text):
    with open(app.path(module)) as handle:
        source = handle.read()
    write(app.path(module), source + text)


# -- Flask ------------------------------------------------------------------------------------

FLASK_FILES = {
    "__init__": '''\
from flask import Flask


def create_app():
    app = Flask(__name__)  # templates/ next to this file; TEMPLATES_AUTO_RELOAD unset, debug off
    from .shop import shop
    from .blog import blog
    app.register_blueprint(shop, url_prefix="/shop")
    app.register_blueprint(blog, url_prefix="/blog")

    @app.route("/")
    def home():
        from flask import render_template
        return render_template("home.html")

    return app
''',
    "shop.__init__": '''\
from flask import Blueprint, render_template, request  # noqa: F401 (a proxy among the globals)

shop = Blueprint("shop", __name__, template_folder="templates")


@shop.route("/")
def index():
    return render_template("shop/index.html")
''',
    "blog.__init__": '''\
from flask import Blueprint, render_template

blog = Blueprint("blog", __name__, template_folder="templates")


@blog.route("/")
def index():
    return render_template("blog/index.html")
''',
    "wsgi": '''\
from PKG import create_app

application = create_app()
''',
}

FLASK_TEMPLATES = {
    "templates/base.html": "<html>{% block body %}{% endblock %} base-v1</html>\n",
    "templates/home.html": '{% extends "base.html" %}{% block body %}home-v1{% endblock %}\n',
    "shop/templates/shop/index.html": '{% extends "base.html" %}{% block body %}shop-v1{% endblock %}\n',
    "blog/templates/blog/index.html": '{% extends "base.html" %}{% block body %}blog-v1{% endblock %}\n',
}


def _flask_site(app):
    for module, text in FLASK_FILES.items():
        app.write(module, text)
    for relative, text in FLASK_TEMPLATES.items():
        write("%s/%s" % (app.dir, relative), text)


def _template_edits(app):
    """(file, old, new, path) of each template edit."""
    return [
        ("templates/home.html", "home-v1", "home-v2", "/"),
        ("shop/templates/shop/index.html", "shop-v1", "shop-v2", "/shop/"),
        ("blog/templates/blog/index.html", "blog-v1", "blog-v2", "/blog/"),
        ("templates/base.html", "base-v1", "base-v2", "/blog/"),
    ]


def _edit(app, relative, old, new):
    path = "%s/%s" % (app.dir, relative)
    with open(path) as handle:
        text = handle.read()
    write(path, text.replace(old, new))


def test_flask_template_edits_of_app_and_blueprints_show_without_watch(app, serve):
    _flask_site(app)
    server = _serve_with(serve, app)
    for _relative, old, _new, path in _template_edits(app):
        assert old in server.get(path)[2]  # cached by Jinja now
    for relative, old, new, path in _template_edits(app):
        _edit(app, relative, old, new)
        status, _headers, body = server.get(path)
        assert status == 200 and new in body, (relative, status, body, server.log())
    log = server.log()
    assert log.count("Flask integration on") == 1, log
    for folder in ("/templates", "/shop/templates", "/blog/templates"):
        assert app.dir + folder in log, log  # watched, and said so


def test_flask_without_the_integration_template_edits_are_missed(app, serve):
    _flask_site(app)
    server = _serve_with(serve, app, "--integrations", "off")
    _relative, old, new, path = _template_edits(app)[1]
    assert old in server.get(path)[2]
    _edit(app, "shop/templates/shop/index.html", old, new)
    assert old in server.get(path)[2]


# -- Bottle ------------------------------------------------------------------------------------

BOTTLE_ROUTES = '''\
import os

import bottle

HERE = os.path.dirname(os.path.abspath(__file__))
bottle.TEMPLATE_PATH.insert(0, os.path.join(HERE, "views"))


@bottle.route("/")
def home():
    return bottle.template("page", who="route-style")


@bottle.route("/count")
def count():
    return "routes=%d template_path=%d" % (len(bottle.default_app().routes), len(bottle.TEMPLATE_PATH))


@bottle.route("/old")
def old():
    return "old-route"
'''

BOTTLE_EXPLICIT = '''\
import os

import bottle

HERE = os.path.dirname(os.path.abspath(__file__))
app = bottle.Bottle()
bottle.TEMPLATE_PATH.append(os.path.join(HERE, "views"))


@app.route("/")
def home():
    return bottle.template("page", who="explicit-app")


@app.route("/count")
def count():
    return "routes=%d template_path=%d" % (len(app.routes), len(bottle.TEMPLATE_PATH))
'''


def _bottle_site(app, style):
    if style == "route":
        app.write("routes", BOTTLE_ROUTES)
        app.write("wsgi", "import bottle\nfrom PKG import routes  # noqa: F401\n\n"
                          "application = bottle.default_app()\n")
    else:
        app.write("routes", BOTTLE_EXPLICIT)
        app.write("wsgi", "from PKG.routes import app as application  # noqa: F401\n")
    write("%s/views/page.tpl" % app.dir, "page-v1 {{who}}\n")


@pytest.mark.parametrize("style", ["route", "explicit"])
def test_bottle_template_edits_show_and_nothing_piles_up(app, serve, style):
    _bottle_site(app, style)
    server = _serve_with(serve, app)
    assert "page-v1" in server.get("/")[2]
    first_count = server.get("/count")[2]
    for n in range(2, 8):
        write("%s/views/page.tpl" % app.dir, "page-v%d {{who}}\n" % n)
        status, _headers, body = server.get("/")
        assert status == 200 and "page-v%d" % n in body, (n, body, server.log())
        # A code edit too: the module is imported again.
        _append(app, "routes", "\n# edit %d\n" % n)
        assert server.get("/count")[2] == first_count, server.log()
    assert "Bottle integration on" in server.log()


def test_bottle_removed_route_stops_answering(app, serve):
    _bottle_site(app, "route")
    server = _serve_with(serve, app)
    assert server.get("/old")[2] == "old-route"
    with open(app.path("routes")) as handle:
        source = handle.read()
    write(app.path("routes"), source.replace('@bottle.route("/old")', "# removed"))
    assert server.get("/old")[0] == 404
    assert server.get("/")[0] == 200


def test_bottle_without_the_integration_routes_pile_up_and_templates_stay(app, serve):
    _bottle_site(app, "route")
    server = _serve_with(serve, app, prelude=OFF % "bottle")
    first_count = server.get("/count")[2]
    assert "page-v1" in server.get("/")[2]  # compiled and cached
    write("%s/views/page.tpl" % app.dir, "page-v2 {{who}}\n")
    _append(app, "routes", "\n# edit\n")
    assert server.get("/count")[2] != first_count
    assert "page-v1" in server.get("/")[2]
