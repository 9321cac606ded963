"""Bytecode safety and tracking done by the import tracker (bytecode writing on)."""

import importlib.util
import os
import shutil
import sys
import time

import pyfresh
from conftest import call

WSGI = """
from PKG.views import VERSION

def application(environ, start_response):
    start_response("200 OK", [])
    return [VERSION.encode()]
"""


def _same_second_ns():
    """A whole second far enough in the past that edits can be stamped
    within it deterministically."""
    return (int(time.time()) - 10) * 1_000_000_000


def _set_mtime(path, ns):
    os.utime(path, ns=(ns, ns))


def test_two_same_size_edits_within_one_second_run_the_new_code(app, on_path):
    """CPython's own .pyc check (whole-second mtime + size) would run 'aaa'."""
    app.write("wsgi", WSGI)
    app.write("views", "VERSION = 'aaa'\n")
    base = _same_second_ns()
    _set_mtime(app.path("views"), base + 100_000_000)
    reloader = pyfresh.Reloader(app.spec())
    assert call(reloader) == (200, "aaa")
    cached = importlib.util.cache_from_source(app.path("views"))
    assert os.path.exists(cached), "bytecode writing must be on in this test"
    app.write("views", "VERSION = 'bbb'\n")
    _set_mtime(app.path("views"), base + 600_000_000)
    assert call(reloader) == (200, "bbb")
    # And once more, now that 'bbb' may have been cached within that second.
    app.write("views", "VERSION = 'ccc'\n")
    _set_mtime(app.path("views"), base + 900_000_000)
    assert call(reloader) == (200, "ccc")


def test_stale_pyc_from_another_process_is_not_used(app, on_path):
    """A .pyc written by plain CPython for the old source in the same second
    (another worker, a manage.py run) is not trusted."""
    app.write("wsgi", WSGI)
    app.write("views", "VERSION = 'old'\n")
    base = _same_second_ns()
    _set_mtime(app.path("views"), base + 100_000_000)
    reloader = pyfresh.Reloader(app.spec())
    assert call(reloader) == (200, "old")
    import py_compile
    py_compile.compile(app.path("views"), doraise=True)  # CPython's own stamp
    app.write("views", "VERSION = 'new'\n")
    _set_mtime(app.path("views"), base + 500_000_000)
    assert call(reloader) == (200, "new")


def test_restored_older_mtime_is_a_change(app, on_path, tmp_path):
    app.write("wsgi", WSGI)
    app.write("views", "VERSION = 'one'\n")
    backup = tmp_path / "views.backup"
    shutil.copy2(app.path("views"), backup)
    _set_mtime(backup, _same_second_ns() - 3600 * 1_000_000_000)
    reloader = pyfresh.Reloader(app.spec())
    app.write("views", "VERSION = 'two'\n")
    assert call(reloader) == (200, "two")
    shutil.copy2(backup, app.path("views"))  # cp -p: content and an older mtime
    assert call(reloader) == (200, "one")


def test_atomic_rename_save_is_a_change(app, on_path):
    app.write("wsgi", WSGI)
    app.write("views", "VERSION = 'before'\n")
    reloader = pyfresh.Reloader(app.spec())
    call(reloader)
    temp = app.path("views") + ".tmp~"
    with open(temp, "w") as f:
        f.write("VERSION = 'renamed'\n")
    os.replace(temp, app.path("views"))
    assert call(reloader) == (200, "renamed")


def test_bytecode_and_swap_files_do_not_cause_reloads(app, on_path):
    app.write("wsgi", WSGI)
    app.write("views", "VERSION = 'v'\n")
    reloader = pyfresh.Reloader(app.spec())
    call(reloader)
    app.write("views", "VERSION = 'w'\n")
    call(reloader)  # reloads and writes __pycache__/*.pyc
    count = reloader.reload_count
    with open(os.path.join(app.dir, ".views.py.swp"), "w") as f:
        f.write("swap")
    with open(os.path.join(app.dir, "__pycache__", "junk.pyc"), "wb") as f:
        f.write(b"junk")
    for _ in range(3):
        assert call(reloader) == (200, "w")
    assert reloader.reload_count == count


def test_excluded_submodule_stays_reachable_as_attribute(app, on_path):
    app.write("settings", "NAME = 'kept'\n")
    app.write("wsgi", "import PKG.settings\nimport PKG.views\n\n"
                      "def application(environ, start_response):\n"
                      "    start_response('200 OK', [])\n"
                      "    import PKG\n"
                      "    return [(PKG.settings.NAME + ' ' + PKG.views.VERSION).encode()]\n")
    app.write("views", "VERSION = 'v1'\n")
    reloader = pyfresh.Reloader(app.spec(), exclude=[app.name + ".settings"])
    settings = sys.modules[app.name + ".settings"]
    assert call(reloader) == (200, "kept v1")
    app.write("views", "VERSION = 'v2'\n")
    assert call(reloader) == (200, "kept v2")
    assert sys.modules[app.name + ".settings"] is settings
