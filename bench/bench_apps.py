"""The apps the server benchmarks serve, written into a directory that goes
on the server's Python path.

hello  package `benchapp` (3 modules): the app bench/apache_bench.py
       serves: main.application answers views.MESSAGE.
flask  package `flaskapp` with about 1,000 modules: 20 sub-packages of 49
       modules, each module a view function, a class and helpers, each
       sub-package a Blueprint whose route dispatches to its modules; `/` answers
       views.MESSAGE (the module the save benchmarks edit).

Next to the package, for the naive baseline, `naive_entry.py` (for uWSGI's
`module = naive_entry:application`) and `naive.wsgi` (for mod_wsgi) wrap
the app in bench/naive_reloader.py's NaiveReloader, copied alongside; and
`plain.wsgi` imports the app without any reloader.
"""

import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))

# The hello app; bench/apache_bench.py serves it too, so its save-timing helpers apply.
HELLO_MAIN = """\
from benchapp import views


def application(environ, start_response):
    body = views.MESSAGE.encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
"""

VIEWS_MODULE = "MESSAGE = {message!r}\n"

FLASK_MAIN = """\
from flask import Flask

from flaskapp import parts, views

app = Flask(__name__)
for blueprint in parts.BLUEPRINTS:
    app.register_blueprint(blueprint)


@app.route("/")
def index():
    return views.MESSAGE


application = app
"""

FLASK_MODULE = '''\
"""Module {index} of the generated app."""
from flask import jsonify, request
{previous_import}
LIMIT = {limit}
NAME = {name!r}


class Item{index}:
    def __init__(self, name, count=0):
        self.name = name
        self.count = count

    def total(self):
        return self.count * LIMIT

    def __repr__(self):
        return "Item{index}(%r, %r)" % (self.name, self.count)


def helper(value):
    return [value * i for i in range(LIMIT % 7 + 1)]


def describe(value):
    item = Item{index}(NAME, value)
    return {{"item": repr(item), "total": item.total(), "previous": {previous_call}}}


def view():
    return jsonify(module=NAME, data=describe(len(request.path)), helper=helper(3))
'''

FLASK_SUBPACKAGE = '''\
from flask import Blueprint, abort

from . import {modules}

MODULES = {{module.__name__.rsplit(".", 1)[1]: module for module in ({modules},)}}
bp = Blueprint({name!r}, __name__, url_prefix="/{name}")


@bp.route("/<name>")
def dispatch(name):
    module = MODULES.get(name)
    if module is None:
        abort(404)
    return module.view()
'''

NAIVE_ENTRY = """\
from naive_reloader import NaiveReloader

application = NaiveReloader({spec!r}, [{package!r}])
"""

PLAIN_WSGI = """\
# The app imported once, no reloader.
from {module} import application  # noqa: F401
"""

SPECS = {"hello": ("benchapp", "benchapp.main:application"),
         "flask": ("flaskapp", "flaskapp.main:application")}


def write(path, text):
    """An editor's atomic save: a temp file renamed over the original."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    temp = os.path.join(directory, ".%s.bench-tmp" % os.path.basename(path))
    with open(temp, "w") as handle:
        handle.write(text)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


def write_hello(root, message):
    package = os.path.join(root, "benchapp")
    write(os.path.join(package, "__init__.py"), "")
    write(os.path.join(package, "main.py"), HELLO_MAIN)
    write(os.path.join(package, "views.py"), VIEWS_MODULE.format(message=message))
    return 3


def write_flask(root, message, subpackages=20, modules_per_subpackage=49):
    package = os.path.join(root, "flaskapp")
    write(os.path.join(package, "__init__.py"), "")
    write(os.path.join(package, "main.py"), FLASK_MAIN)
    write(os.path.join(package, "views.py"), VIEWS_MODULE.format(message=message))
    names = ["p%02d" % i for i in range(subpackages)]
    write(os.path.join(package, "parts", "__init__.py"),
          "from . import %s\n\nBLUEPRINTS = [%s]\n" % (", ".join(names), ", ".join("%s.bp" % n for n in names)))
    count = 4
    for sub_index, sub in enumerate(names):
        modules = ["m%02d" % i for i in range(modules_per_subpackage)]
        for index, module in enumerate(modules):
            number = sub_index * modules_per_subpackage + index
            previous = modules[index - 1] if index else None
            write(os.path.join(package, "parts", sub, module + ".py"), FLASK_MODULE.format(
                index=number, limit=number % 97 + 1, name="flaskapp.parts.%s.%s" % (sub, module),
                previous_import="from flaskapp.parts.%s import %s as previous\n" % (sub, previous) if previous else "",
                previous_call="previous.helper(value)" if previous else "None"))
        write(os.path.join(package, "parts", sub, "__init__.py"),
              FLASK_SUBPACKAGE.format(modules=", ".join(modules), name=sub))
        count += len(modules) + 1
    return count


def write_app(root, kind, message):
    """Writes app `kind` ("hello" or "flask") and the naive/plain entry
    points into `root`; returns (package, spec, views path, module count)."""
    package, spec = SPECS[kind]
    os.makedirs(root, exist_ok=True)
    count = (write_hello if kind == "hello" else write_flask)(root, message)
    shutil.copyfile(os.path.join(HERE, "naive_reloader.py"), os.path.join(root, "naive_reloader.py"))
    entry = NAIVE_ENTRY.format(spec=spec, package=package)
    write(os.path.join(root, "naive_entry.py"), entry)
    write(os.path.join(root, "naive.wsgi"), entry)
    write(os.path.join(root, "plain.wsgi"), PLAIN_WSGI.format(module=spec.split(":")[0]))
    return package, spec, os.path.join(root, package, "views.py"), count
