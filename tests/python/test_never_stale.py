"""Issue 17 in the engine: the first request after a save runs the saved
code, whatever the save looked like and whatever the import was doing.

Called in-process with bytecode writing on; saves are made the way editors
and tools make them (rename of a temp file, truncate and write in place,
several chunks)."""

import os
import sys
import threading
import time
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
import PKG.views  # (views imports it: with reload-scope dependents, a dependent of views too)
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


# -- case 2: a fix saved during a failing reload ------------------------------


def test_a_fix_saved_while_the_failing_import_runs_is_served_next(app, gate):
    """views.py has a typo below a slow import; the fix is saved while that
    import runs. The failed reload must not take the fixed file for the
    broken one it read (before: the error page stayed for good)."""
    app.write("slow", SLOW.replace("GATE", gate.__name__))
    app.write("wsgi", WSGI)
    app.write("views", "import PKG.slow\n\ndef render():\n    return 'v1'\n")
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name])
    assert request(reloader) == (200, "v1")

    gate.entered.clear()
    gate.proceed.clear()
    save_by_rename(app.path("views"), ("import PKG.slow\n\ndef render():\n    return 'v2'\n\nrendr\n")
                   .replace("PKG", app.name))
    thread, first = _in_background(lambda: request(reloader))
    assert gate.entered.wait(10), "the reload did not start"
    save_in_place(app.path("views"), "import PKG.slow\n\ndef render():\n    return 'v2'\n".replace("PKG", app.name))
    gate.proceed.set()
    thread.join(10)
    assert first["value"][0] in (200, 500)
    assert request(reloader) == (200, "v2")


def test_a_file_written_in_two_chunks_with_a_request_between(app, gate):
    """An in-place save in two writes; a request arrives after the first,
    and the second lands while that request's import runs."""
    app.write("slow", SLOW.replace("GATE", gate.__name__))
    app.write("wsgi", WSGI)
    app.write("views", "import PKG.slow\n\ndef render():\n    return 'v1'\n")
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name])
    assert request(reloader) == (200, "v1")

    text = "import PKG.slow\n\ndef render():\n    return VERSION\n\nVERSION = 'v2'\n".replace("PKG", app.name)
    cut = text.index("VERSION = ") + len("VER")  # the first chunk ends inside a name: NameError
    gate.entered.clear()
    gate.proceed.clear()
    with open(app.path("views"), "w") as f:
        f.write(text[:cut])
        f.flush()
        thread, first = _in_background(lambda: request(reloader))
        assert gate.entered.wait(10), "the reload did not start"
        f.write(text[cut:])
    gate.proceed.set()
    thread.join(10)
    assert first["value"][0] in (200, 500)
    assert request(reloader) == (200, "v2")


def test_a_stale_file_the_failing_import_never_read_keeps_a_later_save(app, gate):
    """extra.py was stale but the import failed before reaching it, and it
    was saved again meanwhile: that save is a change still to apply, not a
    state already accepted (before: accepted by a fresh stat, unread)."""
    app.write("slow", SLOW.replace("GATE", gate.__name__))
    app.write("wsgi", WSGI + "\nimport PKG.extra\n")
    app.write("views", "import PKG.slow\n\ndef render():\n    return 'v1'\n")
    app.write("extra", "X = 1\n")
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name])
    assert request(reloader) == (200, "v1")

    gate.entered.clear()
    gate.proceed.clear()
    save_by_rename(app.path("extra"), "X = 2\n")
    save_by_rename(app.path("views"), "import PKG.slow\nrendr\n".replace("PKG", app.name))
    thread, _ = _in_background(lambda: request(reloader))
    assert gate.entered.wait(10), "the reload did not start"
    save_by_rename(app.path("extra"), "X = 3\n")
    gate.proceed.set()
    thread.join(10)
    # The save of X = 3 made during the failed import was imported again
    # (the same request's consistency re-check did it; it failed again on views).
    assert reloader.failure_count == 2
    assert request(reloader)[0] == 500 and reloader.failure_count == 2


# -- case 3: files stay tracked while their code may run ------------------------


def test_a_lazily_imported_module_stays_tracked_across_a_reload_that_did_not_import_it(app, on_path, tmp_path):
    """A framework outside the packages keeps the handler it imported on a
    request (as Django's URL resolver keeps views). A reload triggered by
    another file does not import that module again, and its code keeps
    running: its next edit must still reload (before: it was no longer
    tracked, and nothing happened)."""
    framework = "framework_" + uuid.uuid4().hex[:8]
    write(str(tmp_path / (framework + ".py")),
          "import importlib\n\n_handlers = {}\n\n"
          "def handler(name):\n"
          "    if name not in _handlers:\n"
          "        module, _, attr = name.partition(':')\n"
          "        _handlers[name] = getattr(importlib.import_module(module), attr)\n"
          "    return _handlers[name]\n")
    app.write("wsgi", "import FRAMEWORK\nfrom PKG.views import render\n\n"
              "def application(environ, start_response):\n"
              "    start_response('200 OK', [])\n"
              "    if environ['PATH_INFO'] == '/lazy':\n"
              "        return [FRAMEWORK.handler('PKG.lazy:page')().encode()]\n"
              "    return [render().encode()]\n".replace("FRAMEWORK", framework))
    app.write("views", "def render():\n    return 'v1'\n")
    app.write("lazy", "def page():\n    return 'lazy-1'\n")
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name])
    try:
        assert request(reloader, "/lazy") == (200, "lazy-1")
        tracked = reloader.detector.tracked_count
        app.write("views", "def render():\n    return 'v2'\n")
        assert call(reloader) == (200, "v2")
        assert reloader.reload_count == 1
        assert reloader.detector.tracked_count >= tracked
        # lazy's code still runs, held by the framework.
        assert request(reloader, "/lazy") == (200, "lazy-1")
        app.write("lazy", "def page():\n    return 'lazy-2'\n")
        call(reloader)
        assert reloader.reload_count == 2
        assert reloader.last_trigger == app.path("lazy")
    finally:
        sys.modules.pop(framework, None)


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


# -- case 9: half-written files -------------------------------------------------------


def test_a_request_during_an_in_place_save_gets_the_whole_new_code(app, on_path):
    """The writer truncates, writes half, pauses 50 ms with the file open,
    writes the rest and closes; a request made during the pause waits for
    the close and runs the complete new code (before: a 500 for a
    SyntaxError the saved file does not have)."""
    app.write("wsgi", WSGI)
    app.write("views", "def render():\n    return 'v1'\n")
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name])
    assert call(reloader) == (200, "v1")
    text = "def render():\n    return 'v2'\n"
    half_written = threading.Event()

    def writer():
        with open(app.path("views"), "w") as f:
            f.write(text[:len(text) // 2])
            f.flush()
            half_written.set()
            threading.Event().wait(0.05)
            f.write(text[len(text) // 2:])

    thread = threading.Thread(target=writer)
    thread.start()
    half_written.wait(10)
    reloader.detector.check()
    result = request(reloader)
    thread.join(10)
    assert result == (200, "v2")
    assert reloader.failure_count == 0


class _WriterKeepsWriting:
    """Stands in for the reloader's `time`: each sleep of the reload lets
    the writer make one more step, so a test can say deterministically that
    the file kept changing between two looks, then stopped."""

    def __init__(self, steps):
        self._steps = list(steps)
        self.monotonic = time.monotonic
        self.perf_counter = time.perf_counter

    def sleep(self, seconds):
        if self._steps:
            self._steps.pop(0)()
        time.sleep(seconds)


def test_with_polling_a_reload_waits_until_two_looks_agree(app, on_path, monkeypatch):
    """Polling cannot know who has a file open: a reload looks again a few
    ms later, and imports once two looks agree. Here the writer is still
    writing at the first two looks (before: the first half was imported)."""
    app.write("wsgi", WSGI)
    app.write("views", "def render():\n    return 'v1'\n")
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name], poll_interval=0.5)
    assert call(reloader) == (200, "v1")
    text = "def render():\n    return 'v2'\n"
    third = len(text) // 3
    f = open(app.path("views"), "w")
    f.write(text[:third])
    f.flush()

    def second_third():
        f.write(text[third:2 * third])
        f.flush()

    def last_third():
        f.write(text[2 * third:])
        f.close()

    monkeypatch.setattr(pyfresh.reloader, "time", _WriterKeepsWriting([second_third, last_third]))
    try:
        assert call(reloader) == (200, "v2")
    finally:
        f.close()
    assert reloader.detector.method == "polling" and reloader.failure_count == 0


# -- the promise, measured ---------------------------------------------------------------


def test_every_request_right_after_a_save_runs_the_saved_code(app, on_path):
    """300 saves, each followed at once by a request (no synchronous check
    first: the request's own check must see the save), alternating a
    rename over the file and an in-place rewrite; same-size contents, many
    within one second. Not one may run the previous code."""
    app.write("wsgi", WSGI)
    app.write("views", "def render():\n    return 'v0000'\n")
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name])
    assert request(reloader) == (200, "v0000")
    stale = []
    for number in range(1, 301):
        expected = "v%04d" % number
        save = save_by_rename if number % 2 else save_in_place
        save(app.path("views"), "def render():\n    return %r\n" % expected)
        status, body = request(reloader)
        if (status, body) != (200, expected):
            stale.append((number, save.__name__, status, body[:40]))
    assert stale == []
    assert reloader.reload_count == 300 and reloader.failure_count == 0


def test_a_namespace_package_imported_before_the_reloader_is_tracked_too(app, on_path):
    """A host that imported the app itself (uWSGI's loaded_app) hands over
    a namespace package; its __init__.py appearing reloads as well."""
    app.write("wsgi", "import PKG.parts.sub\n\ndef application(environ, start_response):\n"
              "    start_response('200 OK', [])\n"
              "    return [getattr(PKG.parts, 'LABEL', 'namespace').encode()]\n")
    app.write("parts.sub", "")
    module = __import__(app.name + ".wsgi", fromlist=["application"])
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name], loaded_app=module.application)
    assert call(reloader) == (200, "namespace")
    app.write("parts.__init__", "LABEL = 'regular'\n")
    assert call(reloader) == (200, "regular")


# -- case 6: polling with an interval, a save during the import --------------


def test_with_a_poll_interval_a_save_during_the_import_is_not_served_mixed(app, gate):
    """poll_interval 1 h: the next request imports views (v1 -> v2) and,
    while the import waits below it, `first` is saved again. The reload's
    consistency re-check must compare the files now, whatever the interval
    (before: nothing was compared within the interval, and the request got
    the first module as it was before that save: code never on disk
    together)."""
    app.write("slow", SLOW.replace("GATE", gate.__name__))
    app.write("first", "VALUE = 'a1'\n")
    app.write("wsgi", "from PKG import first\nfrom PKG.views import render\n\n"
                      "def application(environ, start_response):\n"
                      "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                      "    return [(first.VALUE + ' ' + render()).encode()]\n")
    app.write("views", "import PKG.slow\n\ndef render():\n    return 'v1'\n")
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name], poll_interval=3600)
    assert request(reloader) == (200, "a1 v1")

    gate.entered.clear()
    gate.proceed.clear()
    save_by_rename(app.path("views"), "import PKG.slow\n\ndef render():\n    return 'v2'\n".replace("PKG", app.name))
    # The interval has not passed: an explicit look, as the host's next
    # check after the interval would make.
    assert reloader.detector.check()
    thread, first = _in_background(lambda: request(reloader))
    assert gate.entered.wait(10), "the reload did not start"
    save_by_rename(app.path("first"), "VALUE = 'a2'\n")  # `first` was already imported
    gate.proceed.set()
    thread.join(10)
    assert first["value"] == (200, "a2 v2")
