"""Issue 17 through real uWSGI: the first request after a save runs the
saved code, always.

Unlike the rest of this suite, no save here waits SAVE_SETTLE_SECONDS and
no assertion retries: a save completes (its close() or rename() has
returned), then one request is sent, and that request must show the saved
code. Where a test polls after a failure, it is only to say in the message
whether the server caught up later ("stale for one request") or never did
("stuck").

Every instance runs with bytecode written (clean_env has no
PYTHONDONTWRITEBYTECODE), and the saved values keep the module's size, so a
reload that trusted a .pyc stamped within the same second would show too.
"""

import os
import subprocess
import threading
import time


from uwsgi_harness import wait_for

# How long a failure message waits to tell "late" from "stuck".
CATCH_UP_SECONDS = 2.0


# -- saving like editors and tools do ---------------------------------------------


def save_atomic(path, text):
    """A temporary file renamed over the original (vim, JetBrains, most tools)."""
    path = str(path)
    temporary = os.path.join(os.path.dirname(path), ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(temporary, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def save_in_place(path, text):
    """Truncate and write the same inode (VS Code, vim backupcopy=yes, echo >)."""
    with open(str(path), "w") as handle:
        handle.write(text)


SAVERS = (("atomic", save_atomic), ("in-place", save_in_place))


def write(path, text):
    """Set-up writes (not under test): the directory is created if needed."""
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    save_atomic(path, text)


def value_of(response):
    if response.status != 200:
        return "<HTTP %d>" % response.status
    try:
        return response.json().get("value")
    except ValueError:
        return "<not JSON: %r>" % response.body[:100]


def assert_next_request_shows(get, expected, what):
    """The very next request must show `expected`; on failure, says whether
    later requests did."""
    response = get()
    got = value_of(response)
    if got == expected:
        return response
    deadline = time.monotonic() + CATCH_UP_SECONDS
    late = None
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if value_of(get()) == expected:
            late = CATCH_UP_SECONDS - (deadline - time.monotonic())
            break
    verdict = ("served after %.2f s" % late) if late is not None else ("still not served after %.1f s (stuck)"
                                                                          % CATCH_UP_SECONDS)
    raise AssertionError("%s: the first request after the save got %r, expected %r; %s"
                         % (what, got, expected, verdict))


def save_request_pairs(get, path, render, count, first=0):
    """`count` save -> immediate request pairs, alternating an atomic and an
    in-place save. Returns the pairs whose response did not show the value
    just saved: [(index, how, expected, got)]."""
    stale = []
    for index in range(first, first + count):
        how, save = SAVERS[index % 2]
        value = "s%05d" % index
        save(path, render(value))
        got = value_of(get())
        if got != value:
            stale.append((index, how, value, got))
    return stale


# -- the apps ---------------------------------------------------------------------

# A WSGI module for package {pkg}: GET / answers views.VALUE; the counters
# come from pyfresh.stats() (this worker's reloads and failed reloads).
WSGI = '''\
import json
import os

import pyfresh
{imports}


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
{routes}
    stats = pyfresh.stats()
    body = json.dumps({{"value": value, "pid": os.getpid(), "reloads": stats["reloads"],
                       "failures": stats["failures"]}}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
'''

DEFAULT_ROUTES = '    value = getattr(views, "VALUE", "<no VALUE>")\n'


def make_package(root, pkg, imports=None, routes=DEFAULT_ROUTES, views="VALUE = 'v1'\n"):
    """root/pkg/{__init__,wsgi,views}.py; returns the package directory."""
    package = os.path.join(str(root), pkg)
    write(os.path.join(package, "__init__.py"), "")
    write(os.path.join(package, "wsgi.py"),
          WSGI.format(imports=imports if imports is not None else "from %s import views" % pkg, routes=routes))
    if views is not None:
        write(os.path.join(package, "views.py"), views)
    return package


def views_text(value):
    return "VALUE = %r\n" % value


def start(uwsgi, root, pkg, processes=1, extra=(), pythonpath=None):
    options = [("master", "true"), ("processes", str(processes)), ("module", "%s.wsgi:application" % pkg),
               ("pyfresh-packages", pkg), ("add-header", "Connection: close")] + list(extra)
    uwsgi.start(options, pythonpath=[pythonpath or root])
    return uwsgi


# -- 1. freshness ---------------------------------------------------------------------


def test_200_saves_each_served_by_the_next_request(uwsgi, app_root):
    """Case 1: 200 save -> immediate request pairs (half atomic renames, half
    in-place writes) through two workers: every response shows the value
    just saved. Before the fix the check trusted a monitor thread's flag and
    1-3 % of such pairs got the previous code."""
    package = make_package(app_root, "fresh")
    start(uwsgi, app_root, "fresh", processes=2)
    assert value_of(uwsgi.get()) == "v1"
    stale = save_request_pairs(uwsgi.get, os.path.join(package, "views.py"), views_text, 200)
    assert not stale, "%d of 200 save->request pairs were stale: %s" % (len(stale), stale[:10])
    uwsgi.assert_healthy()


def test_saves_served_by_the_next_request_under_load(uwsgi, app_root):
    """Case 1 under light concurrent load: a background client keeps both
    workers busy while 100 save -> request pairs are made; every pair is
    fresh and no request of either client fails."""
    package = make_package(app_root, "loaded")
    start(uwsgi, app_root, "loaded", processes=2, extra=[("threads", "2")])
    stop = threading.Event()
    background = {"requests": 0, "errors": []}

    def client():
        while not stop.is_set():
            try:
                response = uwsgi.get()
                background["requests"] += 1
                if response.status != 200:
                    background["errors"].append(response.status)
            except Exception as exc:  # reported by the assertion below
                background["errors"].append(repr(exc))

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    try:
        stale = save_request_pairs(uwsgi.get, os.path.join(package, "views.py"), views_text, 100)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not stale, "%d of 100 pairs under load were stale: %s" % (len(stale), stale[:10])
    assert background["requests"] > 50
    assert not background["errors"], "background client: %d of %d failed: %s" % (
        len(background["errors"]), background["requests"], background["errors"][:10])
    uwsgi.assert_healthy()


# -- 2. a fix saved while the failing reload runs --------------------------------------

# The typo'd module first imports a module that takes 0.3 s to import, so a
# fix saved 0.1 s after the reload started lands after the typo'd source was
# read and before its import fails.
SLOW = '''\
import time

time.sleep(0.3)


def render(value):
    return value
'''


def typo_app(root, pkg):
    package = make_package(root, pkg, views=None)
    write(os.path.join(package, "slow.py"), SLOW)
    write(os.path.join(package, "views.py"), good_views(pkg, "g0000"))
    return os.path.join(package, "views.py")


def good_views(pkg, value):
    return "from %s.slow import render\nVALUE = render(%r)\n" % (pkg, value)


def typo_views(pkg, value):
    return "from %s.slow import render\nVALUE = rendr(%r)\n" % (pkg, value)


def fix_during_failing_reload(get, scenario, rounds):
    """Per round: a good save (waited for), then `scenario.first()` (code
    that fails to import), a request in a thread (it starts the failing
    reload), `scenario.fix()` 0.1 s later, then one request that must show
    the fix. Returns (rounds not served the fix by that request, rounds in
    which the failing code was actually imported)."""
    stuck, exercised = [], 0
    for index in range(rounds):
        save_atomic(scenario.views, good_views(scenario.pkg, "g%04d" % index))
        wait_for(lambda: value_of(get()) == "g%04d" % index, timeout=10, message="round %d's good save" % index)
        scenario.first(index)
        during = {}
        thread = threading.Thread(target=lambda: during.update(response=get()))
        thread.start()
        time.sleep(0.1)
        fixed = "f%04d" % index
        scenario.fix(fixed)
        thread.join(timeout=30)
        if value_of(during["response"]) != fixed:
            exercised += 1
        got = value_of(get())
        if got != fixed:
            caught_up = False
            deadline = time.monotonic() + CATCH_UP_SECONDS
            while time.monotonic() < deadline and not caught_up:
                time.sleep(0.1)
                caught_up = value_of(get()) == fixed
            stuck.append((index, got, "late" if caught_up else "stuck"))
    return stuck, exercised


class TypoThenFix:
    """A typo saved (atomically), its fix saved while the import fails."""

    def __init__(self, views, pkg):
        self.views, self.pkg = views, pkg

    def first(self, index):
        save_atomic(self.views, typo_views(self.pkg, "t%04d" % index))

    def fix(self, value):
        save_atomic(self.views, good_views(self.pkg, value))


class TwoChunks:
    """A file written in two chunks, each closed: the first imports as a
    NameError ("VALUE = rend"), the second completes it."""

    def __init__(self, views, pkg):
        self.views, self.pkg = views, pkg

    def first(self, index):
        with open(self.views, "w") as handle:
            handle.write("from %s.slow import render\nVALUE = rend" % self.pkg)

    def fix(self, value):
        with open(self.views, "a") as handle:
            handle.write("er(%r)\n" % value)


def test_fix_saved_during_a_failing_reload_is_served(uwsgi, app_root):
    """Case 2: the fix of a typo, saved while the reload that imports the
    typo is still running, is served by the next request. Before the fix
    the failure path accepted the files as they were after the import (the
    fixed state), and the error page stayed for good."""
    views = typo_app(app_root, "typo")
    start(uwsgi, app_root, "typo")
    stuck, exercised = fix_during_failing_reload(uwsgi.get, TypoThenFix(views, "typo"), rounds=4)
    assert exercised, "no round imported the typo: the test did not hit the window"
    assert not stuck, "%d of 4 rounds did not serve the fix: %s" % (len(stuck), stuck)


def test_file_written_in_two_chunks_with_a_request_between(uwsgi, app_root):
    """Case 2, two chunks: the first half of views.py is written, a request
    starts a (failing) reload, the rest is appended while it runs; the next
    request must run the complete file. Also the plain sequence: half,
    request, rest, request."""
    views = typo_app(app_root, "chunks")
    start(uwsgi, app_root, "chunks")
    chunks = TwoChunks(views, "chunks")
    stuck, exercised = fix_during_failing_reload(uwsgi.get, chunks, rounds=3)
    assert exercised, "no round imported the first chunk: the test did not hit the window"
    assert not stuck, "%d of 3 rounds did not serve the complete file: %s" % (len(stuck), stuck)
    # Sequential: the request between the chunks completes first.
    chunks.first(99)
    assert value_of(uwsgi.get()) != "f0099"
    chunks.fix("f0099")
    assert_next_request_shows(uwsgi.get, "f0099", "the second chunk")


# -- 3. lazily imported modules stay tracked -------------------------------------------

# minifw stands for a framework outside the app's packages that imports
# modules lazily by name and keeps them, as Django's URL resolver and
# template engine do. Its after-reload refresh drops only the modules whose
# file changed since they were imported; the others stay in use although a
# reload removed them from sys.modules.
MINIFW = '''\
import importlib
import os

_CACHE = {}


def _identity(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def resolve(name):
    entry = _CACHE.get(name)
    if entry is None:
        module = importlib.import_module(name)
        entry = _CACHE[name] = (module, _identity(module.__file__))
    return entry[0]


def drop_changed():
    for name, (module, identity) in list(_CACHE.items()):
        if _identity(module.__file__) != identity:
            del _CACHE[name]
'''

LAZY_IMPORTS = '''\
import minifw
from lazyapp import views


@pyfresh.after_reload
def _refresh_framework():
    minifw.drop_changed()
'''

LAZY_ROUTES = '''\
    if path == "/lazy":
        from lazyapp import lazy
        value = lazy.VALUE
    elif path == "/plugin":
        value = minifw.resolve("lazyapp.plugin").VALUE
    else:
        value = views.VALUE
'''


def lazy_app(root):
    package = make_package(root, "lazyapp", imports=LAZY_IMPORTS, routes=LAZY_ROUTES)
    write(os.path.join(str(root), "minifw.py"), MINIFW)
    write(os.path.join(package, "lazy.py"), views_text("L1"))
    write(os.path.join(package, "plugin.py"), views_text("P1"))
    return package


def lazy_scenario(get, package):
    """Case 3 against any host's `get(path)`."""
    views, lazy, plugin = (os.path.join(package, name + ".py") for name in ("views", "lazy", "plugin"))
    get_lazy, get_plugin = (lambda: get("/lazy")), (lambda: get("/plugin"))
    assert value_of(get_lazy()) == "L1" and value_of(get_plugin()) == "P1"
    for round_ in range(2):
        save_atomic(views, views_text("V%d" % round_))
        assert_next_request_shows(get, "V%d" % round_, "round %d: the other file" % round_)
        # The plugin was not imported by that reload, but the framework
        # still runs it; so an edit of it must reload.
        assert value_of(get_plugin()) == "P%d" % (round_ + 1)
        before = get().json()["reloads"]
        save_in_place(plugin, views_text("P%d" % (round_ + 2)))
        assert_next_request_shows(get_plugin, "P%d" % (round_ + 2),
                                  "round %d: the plugin module still in use after a reload" % round_)
        assert get().json()["reloads"] == before + 1
        # A module imported lazily by a view, edited before and after a
        # request imports it again.
        save_atomic(lazy, views_text("L%da" % round_))
        assert_next_request_shows(get_lazy, "L%da" % round_, "round %d: the lazy module, not re-imported yet"
                                  % round_)
        save_in_place(lazy, views_text("L%db" % round_))
        assert_next_request_shows(get_lazy, "L%db" % round_, "round %d: the lazy module, re-imported" % round_)


def test_lazily_imported_modules_stay_tracked_after_a_reload(uwsgi, app_root):
    """Case 3: after a reload triggered by another file, a module imported
    lazily by a framework and still in use (lazyapp.plugin, kept by
    minifw) stays tracked: its edit reloads, and the framework's refresh
    then shows the new code. Before the fix only files imported during
    the reload stayed tracked, and the edit triggered nothing. Also a
    module a view imports lazily (lazyapp.lazy)."""
    package = lazy_app(app_root)
    start(uwsgi, app_root, "lazyapp")
    lazy_scenario(uwsgi.get, package)
    uwsgi.assert_healthy()


# -- 4. a package directory briefly without __init__.py --------------------------------


def test_namespace_package_moment_then_the_module_appears(uwsgi, app_root):
    """Case 4: views/ loses its __init__.py (only __pycache__ is left, as
    during an rm -rf or a git checkout from a views/ branch to a views.py
    one); a request imports it as a namespace package; then views.py
    appears: the next request runs it. Then the other way round: views.py
    is removed, an empty views/__pycache__ is left, and views/__init__.py
    appears."""
    package = make_package(app_root, "nsapp", views=None)
    write(os.path.join(package, "views", "__init__.py"), views_text("pkg1"))
    start(uwsgi, app_root, "nsapp")
    assert value_of(uwsgi.get()) == "pkg1"
    assert os.path.isdir(os.path.join(package, "views", "__pycache__")), "bytecode was not written"

    os.unlink(os.path.join(package, "views", "__init__.py"))
    moment = value_of(uwsgi.get())
    assert moment == "<no VALUE>" or moment.startswith("<HTTP"), "not served as a namespace package: %r" % moment
    save_atomic(os.path.join(package, "views.py"), views_text("mod2"))
    assert_next_request_shows(uwsgi.get, "mod2", "views.py after the namespace moment")

    os.unlink(os.path.join(package, "views.py"))
    os.makedirs(os.path.join(package, "views", "__pycache__"), exist_ok=True)
    moment = value_of(uwsgi.get())
    assert moment == "<no VALUE>" or moment.startswith("<HTTP"), "not served as a namespace package: %r" % moment
    save_in_place(os.path.join(package, "views", "__init__.py"), views_text("pkg3"))
    assert_next_request_shows(uwsgi.get, "pkg3", "views/__init__.py after the namespace moment")
    uwsgi.assert_healthy()


# -- 5. symlinks -------------------------------------------------------------------------


def test_edit_of_a_symlinked_modules_target(uwsgi, app_root):
    """Case 5a: linkapp/utils.py -> ../libs/utils.py (a monorepo's shared
    code); editing the target, in place or by rename, reaches the next
    request."""
    package = make_package(app_root, "linkapp", imports="from linkapp import utils as views")
    target = os.path.join(str(app_root), "libs", "utils.py")
    write(target, views_text("u0000"))
    os.symlink(os.path.join("..", "libs", "utils.py"), os.path.join(package, "utils.py"))
    start(uwsgi, app_root, "linkapp")
    assert value_of(uwsgi.get()) == "u0000"
    for index in range(1, 7):
        how, save = SAVERS[index % 2]
        save(target, views_text("u%04d" % index))
        assert_next_request_shows(uwsgi.get, "u%04d" % index, "%s save of the symlink's target" % how)


def relink(link, target):
    """ln -sfn done atomically: a new link renamed over the old one."""
    temporary = link + ".new"
    os.symlink(target, temporary)
    os.replace(temporary, link)


def test_repointed_symlinked_package_directory(uwsgi, app_root):
    """Case 5b: the package dir widgets -> ../widget_versions/w1 is
    re-pointed at w2 (ln -sfn): the next request runs w2's code."""
    versions = os.path.join(str(app_root), "widget_versions")
    for name in ("w1", "w2", "w3"):
        write(os.path.join(versions, name, "__init__.py"), "")
        write(os.path.join(versions, name, "views.py"), views_text(name))
    make_package(app_root, "widgetsite", imports="from widgetsite.widgets import views", views=None)
    link = os.path.join(str(app_root), "widgetsite", "widgets")
    os.symlink(os.path.join("..", "widget_versions", "w1"), link)
    start(uwsgi, app_root, "widgetsite")
    assert value_of(uwsgi.get()) == "w1"
    relink(link, os.path.join("..", "widget_versions", "w2"))
    assert_next_request_shows(uwsgi.get, "w2", "the package link re-pointed at w2")
    relink(link, os.path.join("..", "widget_versions", "w3"))
    assert_next_request_shows(uwsgi.get, "w3", "the package link re-pointed at w3")


def test_release_switch_of_a_current_symlink(uwsgi, app_root):
    """Case 5c: the app is served from current -> releases/v1 (pythonpath
    is .../current); `ln -sfn releases/v2 current`: the next request runs
    v2's code. The releases' files are older than the switch, as a deploy
    tool leaves them."""
    releases = os.path.join(str(app_root), "releases")
    for name in ("r1", "r2", "r3"):
        make_package(os.path.join(releases, name), "relapp", views=views_text(name))
    current = os.path.join(str(app_root), "current")
    os.symlink(os.path.join("releases", "r1"), current)
    start(uwsgi, app_root, "relapp", pythonpath=current)
    assert value_of(uwsgi.get()) == "r1"
    relink(current, os.path.join("releases", "r2"))
    assert_next_request_shows(uwsgi.get, "r2", "the release switch to r2")
    relink(current, os.path.join("releases", "r3"))
    assert_next_request_shows(uwsgi.get, "r3", "the release switch to r3")


# -- 8. editors' files in watched directories --------------------------------------------

TEMPLATE_ROUTES = '''\
    with open(TEMPLATE) as handle:
        value = "%s|%s" % (PAGE, handle.read().strip())
'''

TEMPLATE_IMPORTS = '''\
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(HERE, "templates", "page.html")
with open(TEMPLATE) as _f:
    PAGE = _f.read().strip()  # read at import: a change needs a reload
'''


def editor_sessions(templates):
    """What vim, emacs and JetBrains leave next to page.html while the user
    types, then clean up."""
    page = os.path.join(templates, "page.html")
    swap = os.path.join(templates, ".page.html.swp")
    yield "vim swap created", lambda: write_bytes(swap, b"b0VIM 9.0" + b"\0" * 4000)
    yield "vim swap written", lambda: write_bytes(swap, b"b0VIM 9.0" + b"\1" * 4000)
    yield "vim 4913 probe", lambda: (write_bytes(os.path.join(templates, "4913"), b""),
                                     os.unlink(os.path.join(templates, "4913")))
    yield "vim backup page.html~", lambda: write_bytes(page + "~", open(page, "rb").read())
    yield "emacs lock .#page.html", lambda: os.symlink("root@host.4242:1700000000",
                                                      os.path.join(templates, ".#page.html"))
    yield "emacs auto-save #page.html#", lambda: write_bytes(os.path.join(templates, "#page.html#"), b"draft")
    yield "JetBrains temp", lambda: write_bytes(page + "___jb_tmp___", b"draft")
    yield "vim swap removed", lambda: os.unlink(swap)
    yield "emacs lock removed", lambda: os.unlink(os.path.join(templates, ".#page.html"))


def write_bytes(path, data):
    with open(path, "wb") as handle:
        handle.write(data)


def test_editor_files_in_a_watched_directory_trigger_nothing(uwsgi, app_root):
    """Case 8: vim swap (.page.html.swp) created and rewritten, 4913, the
    page.html~ backup, emacs .#page.html (a symlink) and #page.html#, a
    JetBrains ___jb_tmp___: no reload (pyfresh.stats()). Then a real edit
    of the template reloads at the next request."""
    make_package(app_root, "tmplapp", imports=TEMPLATE_IMPORTS, routes=TEMPLATE_ROUTES, views=None)
    templates = os.path.join(str(app_root), "templates")
    write(os.path.join(templates, "page.html"), "page1")
    start(uwsgi, app_root, "tmplapp", extra=[("pyfresh-watch", "templates")])
    first = uwsgi.get().json()
    assert first["value"] == "page1|page1"
    reloads = first["reloads"]
    noisy = []
    for what, act in editor_sessions(templates):
        act()
        time.sleep(0.05)  # let any event arrive: this checks it is ignored
        for _ in range(2):
            data = uwsgi.get().json()
            if data["reloads"] != reloads:
                noisy.append((what, data["reloads"] - reloads))
                reloads = data["reloads"]
    assert not noisy, "editor files reloaded the app: %s" % noisy
    save_in_place(os.path.join(templates, "page.html"), "page2")
    data = assert_next_request_shows(uwsgi.get, "page2|page2", "a real template edit").json()
    assert data["reloads"] == reloads + 1


# -- 9. half-written files -------------------------------------------------------------------


def slow_in_place_save(path, text, hold, opened):
    """Truncates, writes the first half, keeps the file open for `hold`
    seconds (setting `opened`), writes the rest, closes."""
    half = len(text) // 2
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, text[:half].encode())
        opened.set()
        time.sleep(hold)
        os.write(fd, text[half:].encode())
    finally:
        os.close(fd)


def half_written_rounds(get, path, rounds):
    """Per round: a slow in-place save (open 50 ms between its halves) and a
    request sent 10 ms after the first half. Returns the bad responses."""
    bad = []
    for index in range(rounds):
        value = "h%04d" % index
        text = "# %s\nFIRST = 1\nVALUE = %r\nLAST = 2\n" % ("-" * 40, value)
        opened = threading.Event()
        writer = threading.Thread(target=slow_in_place_save, args=(path, text, 0.05, opened))
        writer.start()
        opened.wait(5)
        time.sleep(0.01)
        got = value_of(get())
        writer.join(timeout=10)
        if got != value:
            bad.append((index, got))
    return bad


def test_request_during_an_in_place_save_gets_the_complete_file(uwsgi, app_root):
    """Case 9: a request that arrives while an in-place save is half
    written (file open, first half on disk) gets the complete new code: 200
    with the new value, never a 500 or the old value."""
    package = make_package(app_root, "halfapp")
    start(uwsgi, app_root, "halfapp")
    assert value_of(uwsgi.get()) == "v1"
    bad = half_written_rounds(uwsgi.get, os.path.join(package, "views.py"), rounds=10)
    assert not bad, "%d of 10 requests during a half-written save were wrong: %s" % (len(bad), bad)


# -- a git checkout of many files ---------------------------------------------------------------


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=a"] + list(args),
                   cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_git_checkout_of_twenty_modules(uwsgi, app_root):
    """A git checkout between two branches that differ in 20 modules: the
    request right after it runs the new branch's code, all 20 modules."""
    names = ["m%02d" % i for i in range(20)]
    imports = "from gitapp import %s" % ", ".join(names)
    routes = '    value = "-".join(m.VALUE for m in (%s,))\n' % ", ".join(names)
    package = make_package(app_root, "gitapp", imports=imports, routes=routes, views=None)
    root = str(app_root)
    with open(os.path.join(root, ".gitignore"), "w") as handle:
        handle.write("__pycache__/\n")
    git(root, "init", "-q")
    for branch in ("a", "b", "c"):
        if branch != "a":
            git(root, "checkout", "-q", "-b", branch)
        for name in names:
            write(os.path.join(package, name + ".py"), views_text(branch + name[1:]))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", branch)
    git(root, "checkout", "-q", "a")
    start(uwsgi, app_root, "gitapp")
    expected = lambda b: "-".join(b + n[1:] for n in names)  # noqa: E731
    assert value_of(uwsgi.get()) == expected("a")
    for branch in ("b", "c", "a", "c"):
        git(root, "checkout", "-q", branch)
        assert_next_request_shows(uwsgi.get, expected(branch), "after git checkout %s" % branch)
    uwsgi.assert_healthy()
