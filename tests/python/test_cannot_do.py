"""README "What in-process reloading cannot do": each side effect of
re-importing modules, measured without its remedy, and the remedy the
README gives, shown working (issue 11, item 8)."""

import json
import logging
import sys
import threading

import pytest

import pyfresh
from conftest import call

RELOADS = 5

WSGI = """
from PKG import side

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def reload_times(app, reloader, count=RELOADS):
    """Saves side.py `count` times (appending a comment), a request each."""
    path = app.path("side")
    for i in range(count):
        with open(path) as f:
            text = f.read()
        app.write("side", text + "\n# save %d\n" % i)
        assert call(reloader) == (200, "ok")
    assert reloader.reload_count == count


@pytest.fixture
def make(app, on_path):
    def build(side_code):
        app.write("wsgi", WSGI)
        app.write("side", side_code)
        return pyfresh.Reloader(app.spec())
    return build


# Threads -------------------------------------------------------------------------------

THREAD_NAIVE = """
import threading
stop = threading.Event()
worker = threading.Thread(target=stop.wait, name="PKG-worker", daemon=True)
worker.stop = stop  # for the test's cleanup only
worker.start()
"""

THREAD_REMEDY = THREAD_NAIVE + """
import pyfresh

@pyfresh.before_reload
def stop_worker():
    stop.set()
    worker.join(5)
"""


def _threads(app):
    return [t for t in threading.enumerate() if t.name == app.name + "-worker"]


@pytest.fixture
def stop_workers(app):
    """The naive version leaks a thread per reload: they are stopped when the
    test ends, since a later test that forks (test_module_globals.py) must
    not inherit them (Python 3.12+ warns that a multi-threaded fork may
    deadlock the child)."""
    yield
    for thread in _threads(app):
        thread.stop.set()
        thread.join(5)


@pytest.mark.parametrize("remedy", [False, True], ids=["naive", "remedy"])
def test_threads_started_at_import(make, app, remedy, stop_workers):
    reloader = make((THREAD_REMEDY if remedy else THREAD_NAIVE).replace("PKG", app.name))
    reload_times(app, reloader)
    threads = _threads(app)
    assert len(threads) == (1 if remedy else RELOADS + 1)


# atexit ----------------------------------------------------------------------------------

ATEXIT_NAIVE = """
import atexit
def flush():
    print("flushed", flush=True)
atexit.register(flush)
"""

ATEXIT_REMEDY = """
import atexit
import pyfresh

def flush():
    print("flushed", flush=True)

_old = pyfresh.previous_module(__name__)
if _old is not None:
    atexit.unregister(_old.flush)
atexit.register(flush)
"""

ATEXIT_DRIVER = """
import os, sys
sys.path.insert(0, sys.argv[1])
import pyfresh
reloader = pyfresh.Reloader(sys.argv[2])
path = os.path.join(sys.argv[1], sys.argv[3], "side.py")
for i in range(int(sys.argv[4])):
    with open(path, "a") as f:
        f.write("\\n# save %d\\n" % i)
    reloader.detector.check()
    reloader({"PATH_INFO": "/", "REQUEST_METHOD": "GET"}, lambda *a: None)
print("reloads", reloader.reload_count, flush=True)
"""


@pytest.mark.parametrize("remedy", [False, True], ids=["naive", "remedy"])
def test_atexit_callbacks(app, remedy, tmp_path):
    """Each reload registers the callback again: it runs once per generation
    at exit. Measured in a child process, at its real exit."""
    import os
    import subprocess

    app.write("wsgi", WSGI)
    app.write("side", ATEXIT_REMEDY if remedy else ATEXIT_NAIVE)
    driver = tmp_path / "driver.py"
    driver.write_text(ATEXIT_DRIVER)
    out = subprocess.run([sys.executable, str(driver), app.root, app.spec(), app.name, str(RELOADS)],
                         capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert "reloads %d" % RELOADS in out.stdout, out.stdout + out.stderr
    assert out.stdout.count("flushed") == (1 if remedy else RELOADS + 1)


# logging handlers ------------------------------------------------------------------------

LOGGING_NAIVE = """
import logging
handler = logging.StreamHandler()
logging.getLogger("PKG.audit").addHandler(handler)
"""

LOGGING_REMEDY = LOGGING_NAIVE + """
import pyfresh

@pyfresh.before_reload
def detach():
    logging.getLogger("PKG.audit").removeHandler(handler)
    handler.close()
"""


@pytest.mark.parametrize("remedy", [False, True], ids=["naive", "remedy"])
def test_logging_handlers(make, app, remedy):
    reloader = make((LOGGING_REMEDY if remedy else LOGGING_NAIVE).replace("PKG", app.name))
    reload_times(app, reloader)
    handlers = logging.getLogger(app.name + ".audit").handlers
    assert len(handlers) == (1 if remedy else RELOADS + 1)
    del handlers[:]


# monkeypatches ---------------------------------------------------------------------------

PATCH_NAIVE = """
import json
_original = json.dumps
def dumps(*args, **kwargs):
    dumps.depth = getattr(_original, "depth", 0) + 1
    return _original(*args, **kwargs)
dumps.depth = getattr(_original, "depth", 0) + 1
json.dumps = dumps
"""

PATCH_REMEDY = """
import json
import pyfresh

_old = pyfresh.previous_module(__name__)
_original = _old._original if _old is not None else json.dumps
def dumps(*args, **kwargs):
    return _original(*args, **kwargs)
dumps.depth = getattr(_original, "depth", 0) + 1
json.dumps = dumps
"""


@pytest.mark.parametrize("remedy", [False, True], ids=["naive", "remedy"])
def test_monkeypatches(make, app, remedy):
    original = json.dumps
    try:
        reloader = make(PATCH_REMEDY if remedy else PATCH_NAIVE)
        reload_times(app, reloader)
        assert json.dumps.depth == (1 if remedy else RELOADS + 1)
        assert json.dumps({"a": 1}) == '{"a": 1}'
    finally:
        json.dumps = original


# sys.path --------------------------------------------------------------------------------

PATH_NAIVE = """
import os, sys
sys.path.append(os.path.join(os.path.dirname(__file__), "vendor"))
"""

PATH_REMEDY = """
import os, sys
_vendor = os.path.join(os.path.dirname(__file__), "vendor")
if _vendor not in sys.path:
    sys.path.append(_vendor)
"""


@pytest.mark.parametrize("remedy", [False, True], ids=["naive", "remedy"])
def test_sys_path(make, app, remedy):
    saved = list(sys.path)
    try:
        reloader = make(PATH_REMEDY if remedy else PATH_NAIVE)
        reload_times(app, reloader)
        added = len(sys.path) - len(saved)
        assert added == (1 if remedy else RELOADS + 1)
    finally:
        sys.path[:] = saved


# objects kept in excluded modules ----------------------------------------------------------

MODELS = "class Order:\n    pass\n"
CACHE = "orders = []\n"
SIDE_CACHE_NAIVE = """
from PKG import cache, models
if not cache.orders:
    cache.orders.append(models.Order())
"""
SIDE_CACHE_REMEDY = """
import pyfresh
from PKG import cache, models

@pyfresh.after_reload
def rebuild():
    cache.orders[:] = [models.Order() for _ in cache.orders]

if not cache.orders:
    cache.orders.append(models.Order())
"""


@pytest.mark.parametrize("remedy", [False, True], ids=["naive", "remedy"])
def test_objects_kept_in_excluded_modules(app, on_path, remedy):
    app.write("wsgi", WSGI)
    app.write("models", MODELS)
    app.write("cache", CACHE)
    app.write("side", (SIDE_CACHE_REMEDY if remedy else SIDE_CACHE_NAIVE).replace("PKG", app.name))
    reloader = pyfresh.Reloader(app.spec(), packages=[app.name], exclude=[app.name + ".cache"])
    reload_times(app, reloader, count=2)
    # The class itself reloaded (with reload-scope dependents, saving side.py
    # alone leaves models loaded, and the old instances fit).
    app.write("models", MODELS + "# edited\n")
    assert call(reloader) == (200, "ok")
    order = sys.modules[app.name + ".cache"].orders[0]
    assert isinstance(order, sys.modules[app.name + ".models"].Order) == remedy
