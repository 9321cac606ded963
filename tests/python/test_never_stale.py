"""Issue 17 in the engine: the first request after a save runs the saved
code, whatever the save looked like and whatever the import was doing.

Called in-process with bytecode writing on; saves are made the way editors
and tools make them (rename of a temp file, truncate and write in place,
several chunks)."""

import os
import sys
import threading
import uuid
import zipfile

import pytest

import pyfresh
from conftest import call, write

WSGI = """
from PKG.views import render

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [render().encode()]
"""


def save_by_rename(path, text):
    """vim, JetBrains, most tools: a temp file renamed over the original."""
    temp = os.path.join(os.path.dirname(path), ".%s.%s.tmp" % (os.path.basename(path), uuid.uuid4().hex[:6]))
    with open(temp, "w") as f:
        f.write(text)
    os.replace(temp, path)


def save_in_place(path, text):
    """VS Code, `echo >`: truncate, write, close (conftest.write makes the
    identity change even within the filesystem's timestamp granularity)."""
    write(path, text)


def request(reloader, path="/"):
    """A request exactly as a host makes it: no synchronous check first."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status

    result = reloader({"PATH_INFO": path, "REQUEST_METHOD": "GET"}, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return int(captured["status"].split()[0]), body.decode("utf-8", "replace")


@pytest.fixture
def gate(tmp_path, on_path):
    """A module outside the app's packages whose events a module of the app
    waits on while it is imported: `entered` is set when the import reaches
    it, and it goes on when `proceed` is set. It lets a test save a file at
    a chosen moment *during* an import."""
    name = "gate_" + uuid.uuid4().hex[:8]
    write(str(tmp_path / (name + ".py")),
          "import threading\nentered = threading.Event()\nproceed = threading.Event()\nproceed.set()\n")
    module = __import__(name)
    yield module
    module.proceed.set()
    sys.modules.pop(name, None)


SLOW = """
import GATE
GATE.entered.set()
GATE.proceed.wait(10)
"""


def _in_background(fn):
    result = {}

    def run():
        result["value"] = fn()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


# -- case 4: a package directory briefly without __init__.py ----------------------


@pytest.mark.parametrize("repaired_by", ["views/__init__.py", "views.py"])
def test_a_package_directory_without_init_is_tracked_until_repaired(app, on_path, repaired_by):
    """A git checkout from a branch with views.py to one with views/: for a
    moment there is only views/__pycache__, which imports as a namespace
    package. When the real module appears, the next request runs it (before:
    views/__init__.py was never tracked, so nothing reloaded)."""
    app.write("wsgi", WSGI)
    app.write("views", "def render():\n    return 'module'\n")
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name])
    assert call(reloader) == (200, "module")
    os.remove(app.path("views"))
    os.makedirs(os.path.join(app.dir, "views", "__pycache__"))
    assert call(reloader)[0] == 500
    assert call(reloader)[0] == 500 and reloader.failure_count == 1
    save_by_rename(os.path.join(app.dir, repaired_by), "def render():\n    return 'repaired'\n")
    assert call(reloader) == (200, "repaired")


def test_a_namespace_package_that_imports_fine_is_replaced_by_its_init(app, on_path):
    """`import pkg.sub` works through a namespace package; adding its
    __init__.py changes what the package is, and reloads."""
    app.write("wsgi", "import PKG.parts.sub\n\ndef application(environ, start_response):\n"
              "    start_response('200 OK', [])\n"
              "    return [getattr(PKG.parts, 'LABEL', 'namespace').encode()]\n")
    app.write("parts.sub", "")
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name])
    assert call(reloader) == (200, "namespace")
    app.write("parts.__init__", "LABEL = 'regular'\n")
    assert call(reloader) == (200, "regular")


# -- case 7: a zipped dependency ----------------------------------------------------


def _build_zip(path, files):
    temp = path + ".tmp"
    with zipfile.ZipFile(temp, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    os.replace(temp, path)


def test_a_rebuilt_zip_dependency_reloads(app, on_path, tmp_path):
    """A package imported from a zip on sys.path is tracked by the archive
    itself (its origin /…/deps.zip/pkg/mod.py is no file): rebuilding the
    zip reloads, and the process keeps inotify."""
    package = "zipped_" + uuid.uuid4().hex[:8]
    archive = str(tmp_path / "deps.zip")
    _build_zip(archive, {package + "/__init__.py": "", package + "/mod.py": "VALUE = 'zip-1'\n"})
    sys.path.insert(0, archive)
    try:
        app.write("wsgi", "from ZIPPED.mod import VALUE\n\ndef application(environ, start_response):\n"
                  "    start_response('200 OK', [])\n    return [VALUE.encode()]\n".replace("ZIPPED", package))
        reloader = pyfresh.Reloader(app.spec(), packages=[app.name, package])
        assert call(reloader) == (200, "zip-1")
        _build_zip(archive, {package + "/__init__.py": "", package + "/mod.py": "VALUE = 'zip-2'\n"})
        assert call(reloader) == (200, "zip-2")
        assert reloader.last_trigger == archive
        assert reloader.detector.method == "inotify"
    finally:
        sys.path.remove(archive)
        sys.path_importer_cache.pop(archive, None)
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]
