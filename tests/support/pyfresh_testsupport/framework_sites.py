"""Flask and Bottle sites for issue 18's tests, shared by the engine, uWSGI
and Apache tests (imported from pyfresh_testsupport). Each writer puts a package
`name` under `root` (the directory the host puts on sys.path) with a
`name.wsgi:application`, and returns what the tests edit.

Flask: an app factory, two blueprints with their own template folders, a
base template extended by all; TEMPLATES_AUTO_RELOAD unset and debug off,
so Jinja caches templates. Bottle: the `@bottle.route` style (the default
app) or an explicit `Bottle()`, a template directory added to
TEMPLATE_PATH at import, and /count telling how many routes the serving app
has and how long TEMPLATE_PATH is.
"""

import os


def _write(path, text):
    """A temporary file renamed over the original, as editors save."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = os.path.join(os.path.dirname(path), ".%s.tmp" % os.path.basename(path))
    with open(temporary, "w") as handle:
        handle.write(text)
    os.chmod(temporary, 0o666)
    os.replace(temporary, path)


def package_dir(root, name):
    return os.path.join(str(root), name)


# -- Flask ------------------------------------------------------------------------------------

FLASK_FILES = {
    "__init__.py": '''\
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
    "shop/__init__.py": '''\
from flask import Blueprint, render_template, request  # noqa: F401 (a proxy among the globals)

shop = Blueprint("shop", __name__, template_folder="templates")


@shop.route("/")
def index():
    return render_template("shop/index.html")
''',
    "blog/__init__.py": '''\
from flask import Blueprint, render_template

blog = Blueprint("blog", __name__, template_folder="templates")


@blog.route("/")
def index():
    return render_template("blog/index.html")
''',
    "wsgi.py": '''\
from PKG import create_app

application = create_app()
''',
    "templates/base.html": "<html>{% block body %}{% endblock %} base-v1</html>\n",
    "templates/home.html": '{% extends "base.html" %}{% block body %}home-v1{% endblock %}\n',
    "shop/templates/shop/index.html": '{% extends "base.html" %}{% block body %}shop-v1{% endblock %}\n',
    "blog/templates/blog/index.html": '{% extends "base.html" %}{% block body %}blog-v1{% endblock %}\n',
}

# (file under the package, old text, new text, path showing it)
FLASK_TEMPLATE_EDITS = [
    ("templates/home.html", "home-v1", "home-v2", "/"),
    ("shop/templates/shop/index.html", "shop-v1", "shop-v2", "/shop/"),
    ("blog/templates/blog/index.html", "blog-v1", "blog-v2", "/blog/"),
    ("templates/base.html", "base-v1", "base-v2", "/blog/"),
]


def flask_site(root, name):
    for relative, text in FLASK_FILES.items():
        _write(os.path.join(package_dir(root, name), relative), text.replace("PKG", name))
    return FLASK_TEMPLATE_EDITS


def edit(root, name, relative, old, new):
    path = os.path.join(package_dir(root, name), relative)
    with open(path) as handle:
        text = handle.read()
    if old not in text:
        raise AssertionError("%r not in %s" % (old, path))
    _write(path, text.replace(old, new))


def append(root, name, relative, text):
    path = os.path.join(package_dir(root, name), relative)
    with open(path) as handle:
        source = handle.read()
    _write(path, source + text)


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


@app.route("/old")
def old():
    return "old-route"
'''


def bottle_site(root, name, style):
    directory = package_dir(root, name)
    _write(os.path.join(directory, "__init__.py"), "")
    if style == "route":
        _write(os.path.join(directory, "routes.py"), BOTTLE_ROUTES)
        _write(os.path.join(directory, "wsgi.py"),
               "import bottle\nfrom %s import routes  # noqa: F401\n\napplication = bottle.default_app()\n" % name)
    else:
        _write(os.path.join(directory, "routes.py"), BOTTLE_EXPLICIT)
        _write(os.path.join(directory, "wsgi.py"), "from %s.routes import app as application  # noqa: F401\n" % name)
    set_page(root, name, 1)


def set_page(root, name, version):
    _write(os.path.join(package_dir(root, name), "views", "page.tpl"), "page-v%d {{who}}\n" % version)


def remove_old_route(root, name):
    path = os.path.join(package_dir(root, name), "routes.py")
    with open(path) as handle:
        source = handle.read()
    _write(path, source.replace('@bottle.route("/old")', "# removed").replace('@app.route("/old")', "# removed"))


def run_bottle(get, root, name, rounds=6, repeat=1):
    """Template saves and code saves in turn: each template version shows
    on the next request(s) and /count never changes. `get(path)` returns
    (status, body text)."""
    first_count = get("/count")[1]
    assert "page-v1" in get("/")[1]
    for version in range(2, 2 + rounds):
        set_page(root, name, version)
        for _ in range(repeat):
            status, body = get("/")
            assert status == 200 and "page-v%d" % version in body, (version, status, body)
        append(root, name, "routes.py", "\n# edit %d\n" % version)
        for _ in range(repeat):
            assert get("/count")[1] == first_count
    remove_old_route(root, name)
    for _ in range(repeat):
        assert get("/old")[0] == 404
        assert get("/")[0] == 200


def run_flask(get, root, name, repeat=1):
    """Each template edit shows on the next request(s), without `watch`."""
    for _relative, old, _new, path in FLASK_TEMPLATE_EDITS:
        for _ in range(repeat):
            assert old in get(path)[1]  # compiled and cached by Jinja
    for relative, old, new, path in FLASK_TEMPLATE_EDITS:
        edit(root, name, relative, old, new)
        for _ in range(repeat):
            status, body = get(path)
            assert status == 200 and new in body, (relative, status, body)
