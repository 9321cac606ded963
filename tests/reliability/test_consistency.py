"""A save that lands while a reload imports the app (an IDE's "save all",
a git checkout) must not leave a generation that mixes files from before
and after it. Deterministic, in-process: a module of the app itself saves
two sibling modules during the import, one already imported and one not
yet, which is exactly the race edits under load can hit."""

import os
import sys
import uuid
import wsgiref.util

import pytest

import pyfresh
import pyfresh.reloader
from rel_common import atomic_write

WSGI = """\
from PKG import first, saver, second


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s %s" % (first.V, second.V)).encode()]
"""

# Imported between `first` and `second`: when the trigger file exists, it
# saves both (first, then second) with version 2, once.
SAVER = """\
import os

_here = os.path.dirname(__file__)
_trigger = os.path.join(_here, "SAVE_NOW")
if os.path.exists(_trigger):
    os.unlink(_trigger)
    for _name in ("first", "second"):
        _temp = os.path.join(_here, "._%s.tmp" % _name)
        with open(_temp, "w") as _f:
            _f.write("V = 2\\n")
        os.replace(_temp, os.path.join(_here, _name + ".py"))
"""


def call(app):
    environ = {}
    wsgiref.util.setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = status

    body = b"".join(app(environ, start_response))
    return answer["status"], body.decode()


@pytest.fixture
def package(tmp_path):
    name = "cons_" + uuid.uuid4().hex[:8]
    directory = tmp_path / name
    directory.mkdir()
    atomic_write(str(directory / "__init__.py"), "")
    atomic_write(str(directory / "wsgi.py"), WSGI.replace("PKG", name))
    atomic_write(str(directory / "saver.py"), SAVER)
    atomic_write(str(directory / "first.py"), "V = 1\n")
    atomic_write(str(directory / "second.py"), "V = 1\n")
    sys.path.insert(0, str(tmp_path))
    yield name, directory
    sys.path.remove(str(tmp_path))
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


@pytest.mark.parametrize("consistency_reloads", [pyfresh.reloader.MAX_CONSISTENCY_RELOADS, 0],
                         ids=["engine", "without-the-check"])
def test_save_during_import_is_never_served_mixed(package, consistency_reloads, monkeypatch):
    name, directory = package
    monkeypatch.setattr(pyfresh.reloader, "MAX_CONSISTENCY_RELOADS", consistency_reloads)
    app = pyfresh.Reloader("%s.wsgi:application" % name, packages=[name])
    assert call(app) == ("200 OK", "1 1")
    (directory / "SAVE_NOW").write_text("")
    atomic_write(str(directory / "saver.py"), SAVER + "# saved again\n")
    assert app.detector.check()
    status, body = call(app)
    if consistency_reloads:
        # first.py was read as 1, then both were saved as 2, then second.py
        # was read as 2: "1 2" was never on disk. The engine imports again.
        assert (status, body) == ("200 OK", "2 2")
        assert app.stats()["reloads"] == 2
    else:
        # The control: without the check the race is real.
        assert (status, body) == ("200 OK", "1 2")
    assert not os.path.exists(directory / "SAVE_NOW")
