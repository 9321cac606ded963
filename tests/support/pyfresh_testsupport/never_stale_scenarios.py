"""Issue 17's scenarios ("never serve stale code"), shared by the uWSGI and
the Apache integration tests (tests/uwsgi/test_never_stale.py,
tests/apache/test_apache_never_stale.py), which import it from here.

Each scenario has a set-up function that writes an app under a directory
(the directory the host puts on sys.path) and a run function that drives a
running server through `get(path="/") -> response` (a response has
`.status`, `.body` and `.json()`) and fails with an AssertionError.

Unlike the rest of the suites, no save here waits for the server to notice
it and no assertion retries: a save completes (its close() or rename() has
returned), then one request is sent, and that request must show the saved
code. Where a run polls after a failure, it is only to say in the message
whether the server caught up later ("late") or never did ("stuck").
Saved values keep the module's size, so a reload that trusted a .pyc
stamped within the same second would show too.
"""

import os
import subprocess
import threading
import time

# How long a failure message waits to tell "late" from "stuck".
CATCH_UP_SECONDS = 2.0


# -- saving like editors and tools do ---------------------------------------------------


def save_atomic(path, text):
    """A temporary file renamed over the original (vim, JetBrains, most tools)."""
    path = str(path)
    temporary = os.path.join(os.path.dirname(path), ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(temporary, "w") as handle:
        handle.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def save_in_place(path, text):
    """Truncate and write the same inode (VS Code, vim backupcopy=yes, echo >)."""
    with open(str(path), "w") as handle:
        handle.write(text)


SAVERS = (("atomic", save_atomic), ("in-place", save_in_place))


def write(path, text):
    """Set-up writes (not under test); creates the directory if needed."""
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    save_atomic(path, text)


def write_bytes(path, data):
    with open(path, "wb") as handle:
        handle.write(data)


def relink(link, target):
    """`ln -sfn target link` done atomically: a new link renamed over the old."""
    temporary = link + ".new"
    os.symlink(target, temporary)
    os.replace(temporary, link)


# -- asking the server ---------------------------------------------------------------------


def value_of(response):
    """The app's "value", or "<HTTP nnn>" for an error response."""
    if response.status != 200:
        return "<HTTP %d>" % response.status
    try:
        return response.json().get("value")
    except ValueError:
        return "<not JSON: %r>" % (response.body[:100],)


def assert_next_request_shows(get, expected, what):
    """The very next request must show `expected`; on failure the message
    says whether later requests did."""
    response = get()
    got = value_of(response)
    if got == expected:
        return response
    started = time.monotonic()
    late = None
    while time.monotonic() - started < CATCH_UP_SECONDS:
        time.sleep(0.05)
        if value_of(get()) == expected:
            late = time.monotonic() - started
            break
    verdict = ("served %.2f s later" % late if late is not None
               else "still not served %.1f s later (stuck)" % CATCH_UP_SECONDS)
    raise AssertionError("%s: the first request after the save got %r, expected %r; %s"
                         % (what, got, expected, verdict))


# -- the apps ----------------------------------------------------------------------------------

# The WSGI module of package {pkg}: GET / answers views.VALUE; "reloads" and
# "failures" are this process's pyfresh.stats().
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


def views_text(value):
    return "VALUE = %r\n" % value


def make_package(root, pkg, imports=None, routes=DEFAULT_ROUTES, views=views_text("v1")):
    """root/pkg/{__init__,wsgi,views}.py (app pkg.wsgi:application); returns
    the package directory."""
    package = os.path.join(str(root), pkg)
    write(os.path.join(package, "__init__.py"), "")
    write(os.path.join(package, "wsgi.py"),
          WSGI.format(imports=imports if imports is not None else "from %s import views" % pkg, routes=routes))
    if views is not None:
        write(os.path.join(package, "views.py"), views)
    return package


# -- 1. freshness -------------------------------------------------------------------------------


def save_request_pairs(get, views, count, first=0):
    """`count` save -> immediate request pairs, alternating an atomic and an
    in-place save. Returns the pairs whose response did not show the value
    just saved: [(index, how, expected, got)]."""
    stale = []
    for index in range(first, first + count):
        how, save = SAVERS[index % 2]
        value = "s%05d" % index
        save(views, views_text(value))
        got = value_of(get())
        if got != value:
            stale.append((index, how, value, got))
    return stale


def run_freshness(get, views, count=200):
    """`count` save -> request pairs on an idle server: 0 stale."""
    assert value_of(get()) == "v1"
    stale = save_request_pairs(get, views, count)
    assert not stale, "%d of %d save->request pairs were stale: %s" % (len(stale), count, stale[:10])


def run_freshness_under_load(get, views, count=100, clients=1):
    """`count` pairs while `clients` background clients keep requesting;
    every pair is fresh and no request of any client fails."""
    stop = threading.Event()
    background = {"requests": 0, "errors": []}
    lock = threading.Lock()

    def client():
        while not stop.is_set():
            try:
                status = get().status
                error = None if status == 200 else status
            except Exception as exc:  # reported by the assertion below
                error = repr(exc)
            with lock:
                background["requests"] += 1
                if error is not None:
                    background["errors"].append(error)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        stale = save_request_pairs(get, views, count)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not stale, "%d of %d pairs under load were stale: %s" % (len(stale), count, stale[:10])
    assert background["requests"] >= count // 4, background
    assert not background["errors"], "background client: %d of %d requests failed: %s" % (
        len(background["errors"]), background["requests"], background["errors"][:10])


# -- 2. a fix saved while the failing reload runs ----------------------------------------------

# views.py first imports slow.py, which takes 0.3 s: a fix saved 0.1 s after
# the reload started lands after the typo'd views.py was read and before
# its import fails.
SLOW = '''\
import time

time.sleep(0.3)


def render(value):
    return value
'''


def typo_site(root, pkg):
    """Returns views.py of an app whose views import a slow module first."""
    package = make_package(root, pkg, views=None)
    write(os.path.join(package, "slow.py"), SLOW)
    views = os.path.join(package, "views.py")
    write(views, good_views(pkg, "g0000"))
    return views


def good_views(pkg, value):
    return "from %s.slow import render\nVALUE = render(%r)\n" % (pkg, value)


class TypoThenFix:
    """A typo (rendr) saved atomically; its fix saved while the import fails."""

    def __init__(self, views, pkg):
        self.views, self.pkg = views, pkg

    def first(self, index):
        save_atomic(self.views, "from %s.slow import render\nVALUE = rendr(%r)\n" % (self.pkg, "t%04d" % index))

    def fix(self, value):
        save_atomic(self.views, good_views(self.pkg, value))


class TwoChunks:
    """views.py written in two chunks, each closed: the first imports as a
    NameError ("VALUE = rend"), the second completes it."""

    def __init__(self, views, pkg):
        self.views, self.pkg = views, pkg

    def first(self, index):
        with open(self.views, "w") as handle:
            handle.write("from %s.slow import render\nVALUE = rend" % self.pkg)

    def fix(self, value):
        with open(self.views, "a") as handle:
            handle.write("er(%r)\n" % value)


def fix_during_failing_reload(get, scenario, rounds):
    """Per round: a good save (waited for), then `scenario.first()` (code that
    fails to import), a request in a thread (it starts the failing reload),
    `scenario.fix()` 0.1 s later, then one request that must show the fix.
    Returns (rounds whose request did not show it, rounds in which the
    failing code was actually imported)."""
    stuck, exercised = [], 0
    for index in range(rounds):
        good = "g%04d" % index
        save_atomic(scenario.views, good_views(scenario.pkg, good))
        deadline = time.monotonic() + 10
        while True:
            response = get()
            if value_of(response) == good:
                break
            assert time.monotonic() < deadline, "round %d: the good save was never served" % index
            time.sleep(0.05)
        failures = response.json()["failures"]
        scenario.first(index)
        during = {}
        thread = threading.Thread(target=lambda: during.update(response=get()))
        thread.start()
        time.sleep(0.1)
        fixed = "f%04d" % index
        scenario.fix(fixed)
        thread.join(timeout=60)
        response = get()
        got = value_of(response)
        # The failing code was imported: an error answered, or a failed
        # reload counted (a fixed engine may reload again at once and
        # answer the waiting request with the fix).
        if (during["response"].status != 200 or got != fixed
                or response.json()["failures"] > failures):
            exercised += 1
        if got != fixed:
            caught_up = False
            deadline = time.monotonic() + CATCH_UP_SECONDS
            while time.monotonic() < deadline and not caught_up:
                time.sleep(0.1)
                caught_up = value_of(get()) == fixed
            stuck.append((index, got, "late" if caught_up else "stuck"))
    return stuck, exercised


def run_typo_then_fix(get, views, pkg, rounds=4):
    stuck, exercised = fix_during_failing_reload(get, TypoThenFix(views, pkg), rounds)
    assert exercised, "no round imported the typo: the test did not hit the window"
    assert not stuck, "%d of %d rounds did not serve the fix: %s" % (len(stuck), rounds, stuck)


def run_two_chunks(get, views, pkg, rounds=3):
    chunks = TwoChunks(views, pkg)
    stuck, exercised = fix_during_failing_reload(get, chunks, rounds)
    assert exercised, "no round imported the first chunk: the test did not hit the window"
    assert not stuck, "%d of %d rounds did not serve the complete file: %s" % (len(stuck), rounds, stuck)
    # Sequential: the request between the chunks completes first.
    chunks.first(99)
    assert value_of(get()) != "f0099"
    chunks.fix("f0099")
    assert_next_request_shows(get, "f0099", "the second chunk, written after a request")


# -- 3. lazily imported modules stay tracked -----------------------------------------------------

# minifw stands for a framework outside the app's packages that imports
# modules lazily by name and keeps them, as Django's URL resolver and
# template engine do. Its after-reload refresh drops only the modules whose
# file changed since they were imported; the others stay in use although
# the reload removed them from sys.modules.
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


def lazy_site(root):
    """Package lazyapp (explicitly the only package) and minifw beside it."""
    package = make_package(root, "lazyapp", imports=LAZY_IMPORTS, routes=LAZY_ROUTES)
    write(os.path.join(str(root), "minifw.py"), MINIFW)
    write(os.path.join(package, "lazy.py"), views_text("L1"))
    write(os.path.join(package, "plugin.py"), views_text("P1"))
    return package


def run_lazy(get, package):
    views, lazy, plugin = (os.path.join(package, name + ".py") for name in ("views", "lazy", "plugin"))

    def get_lazy():
        return get("/lazy")

    def get_plugin():
        return get("/plugin")

    assert value_of(get_lazy()) == "L1" and value_of(get_plugin()) == "P1"
    for round_ in range(2):
        save_atomic(views, views_text("V%d" % round_))
        assert_next_request_shows(get, "V%d" % round_, "round %d: the other file" % round_)
        # That reload did not import the plugin again, but the framework
        # still runs it: an edit of it must reload.
        assert value_of(get_plugin()) == "P%d" % (round_ + 1)
        before = get().json()["reloads"]
        save_in_place(plugin, views_text("P%d" % (round_ + 2)))
        assert_next_request_shows(get_plugin, "P%d" % (round_ + 2),
                                  "round %d: the plugin module still in use after a reload" % round_)
        assert get().json()["reloads"] == before + 1
        # A module a view imports lazily, edited before and after a request
        # imports it again.
        save_atomic(lazy, views_text("L%da" % round_))
        assert_next_request_shows(get_lazy, "L%da" % round_,
                                  "round %d: the lazy module, not imported again yet" % round_)
        save_in_place(lazy, views_text("L%db" % round_))
        assert_next_request_shows(get_lazy, "L%db" % round_, "round %d: the lazy module, imported again" % round_)


# -- 4. a package directory briefly without __init__.py ------------------------------------------


def namespace_site(root, pkg):
    """An app whose views are a package views/ (views/__init__.py)."""
    package = make_package(root, pkg, views=None)
    write(os.path.join(package, "views", "__init__.py"), views_text("pkg1"))
    return package


def assert_namespace_moment(get, what):
    moment = value_of(get())
    assert moment == "<no VALUE>" or moment.startswith("<HTTP"), (
        "%s: not served as a namespace package: %r" % (what, moment))


def run_namespace(get, package):
    assert value_of(get()) == "pkg1"
    assert os.path.isdir(os.path.join(package, "views", "__pycache__")), "bytecode was not written"
    # rm -rf views/ caught half way, or a git checkout from the views/
    # branch to the views.py one: only views/__pycache__ is left.
    os.unlink(os.path.join(package, "views", "__init__.py"))
    assert_namespace_moment(get, "views/ without __init__.py")
    save_atomic(os.path.join(package, "views.py"), views_text("mod2"))
    assert_next_request_shows(get, "mod2", "views.py after the namespace moment")
    # The other way round: views.py goes, views/ is (still) there with only
    # __pycache__, then views/__init__.py appears.
    os.unlink(os.path.join(package, "views.py"))
    os.makedirs(os.path.join(package, "views", "__pycache__"), exist_ok=True)
    assert_namespace_moment(get, "views.py removed, views/__pycache__ left")
    save_in_place(os.path.join(package, "views", "__init__.py"), views_text("pkg3"))
    assert_next_request_shows(get, "pkg3", "views/__init__.py after the namespace moment")


# -- 5. symlinks ------------------------------------------------------------------------------------


def symlinked_module_site(root, pkg):
    """pkg/utils.py -> ../libs/utils.py (relative); returns the target."""
    package = make_package(root, pkg, imports="from %s import utils as views" % pkg, views=None)
    target = os.path.join(str(root), "libs", "utils.py")
    write(target, views_text("u0000"))
    os.symlink(os.path.join("..", "libs", "utils.py"), os.path.join(package, "utils.py"))
    return target


def run_symlinked_module(get, target):
    assert value_of(get()) == "u0000"
    for index in range(1, 7):
        how, save = SAVERS[index % 2]
        save(target, views_text("u%04d" % index))
        assert_next_request_shows(get, "u%04d" % index, "%s save of the symlink's target" % how)


def repointed_package_site(root, pkg):
    """pkg/widgets -> ../widget_versions/w1, a package; w2 and w3 beside it.
    Returns the link."""
    versions = os.path.join(str(root), "widget_versions")
    for name in ("w1", "w2", "w3"):
        write(os.path.join(versions, name, "__init__.py"), "")
        write(os.path.join(versions, name, "views.py"), views_text(name))
    make_package(root, pkg, imports="from %s.widgets import views" % pkg, views=None)
    link = os.path.join(str(root), pkg, "widgets")
    os.symlink(os.path.join("..", "widget_versions", "w1"), link)
    return link


def run_repointed_package(get, link):
    assert value_of(get()) == "w1"
    for name in ("w2", "w3"):
        relink(link, os.path.join("..", "widget_versions", name))
        assert_next_request_shows(get, name, "the package link re-pointed at %s" % name)


def release_site(root, pkg):
    """root/releases/r1..r3/pkg and root/current -> releases/r1; returns
    `current` (the directory to put on sys.path)."""
    releases = os.path.join(str(root), "releases")
    for name in ("r1", "r2", "r3"):
        make_package(os.path.join(releases, name), pkg, views=views_text(name))
    current = os.path.join(str(root), "current")
    os.symlink(os.path.join("releases", "r1"), current)
    return current


def run_release_switch(get, current):
    assert value_of(get()) == "r1"
    for name in ("r2", "r3"):
        relink(current, os.path.join("releases", name))
        assert_next_request_shows(get, name, "the release switch to %s" % name)


# -- 8. editors' files in watched directories ------------------------------------------------------

TEMPLATE_IMPORTS = '''\
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(HERE, "templates", "page.html")
with open(TEMPLATE) as _f:
    PAGE = _f.read().strip()  # read at import: a change needs a reload
'''

TEMPLATE_ROUTES = '''\
    with open(TEMPLATE) as handle:
        value = "%s|%s" % (PAGE, handle.read().strip())
'''


def template_site(root, pkg):
    """An app that reads templates/page.html at import (watch "templates");
    returns the templates directory."""
    make_package(root, pkg, imports=TEMPLATE_IMPORTS, routes=TEMPLATE_ROUTES, views=None)
    templates = os.path.join(str(root), "templates")
    write(os.path.join(templates, "page.html"), "page1")
    return templates


def editor_sessions(templates):
    """What vim, emacs and JetBrains leave next to page.html while the user
    types, and their clean-up: (what, action) pairs."""
    page = os.path.join(templates, "page.html")
    swap = os.path.join(templates, ".page.html.swp")
    lock = os.path.join(templates, ".#page.html")
    probe = os.path.join(templates, "4913")

    def vim_probe():
        write_bytes(probe, b"")
        os.unlink(probe)

    return [
        ("vim swap .page.html.swp created", lambda: write_bytes(swap, b"b0VIM 9.0" + b"\0" * 4000)),
        ("vim swap rewritten", lambda: write_bytes(swap, b"b0VIM 9.0" + b"\1" * 4000)),
        ("vim 4913 probe", vim_probe),
        ("vim backup page.html~", lambda: write_bytes(page + "~", b"page1")),
        ("emacs lock .#page.html (a symlink)", lambda: os.symlink("root@host.4242:1700000000", lock)),
        ("emacs auto-save #page.html#", lambda: write_bytes(os.path.join(templates, "#page.html#"), b"draft")),
        ("JetBrains page.html___jb_tmp___", lambda: write_bytes(page + "___jb_tmp___", b"draft")),
        ("vim swap removed", lambda: os.unlink(swap)),
        ("emacs lock removed", lambda: os.unlink(lock)),
    ]


def run_editor_files(get, templates):
    first = get().json()
    assert first["value"] == "page1|page1", first
    reloads = first["reloads"]
    noisy = []
    for what, act in editor_sessions(templates):
        act()
        time.sleep(0.05)  # any event has arrived: this checks that it is ignored
        for _ in range(2):
            data = get().json()
            if data["reloads"] != reloads:
                noisy.append((what, data["reloads"] - reloads))
                reloads = data["reloads"]
    assert not noisy, "editor files reloaded the app: %s" % noisy
    save_in_place(os.path.join(templates, "page.html"), "page2")
    data = assert_next_request_shows(get, "page2|page2", "a real template edit").json()
    assert data["reloads"] == reloads + 1, data


# -- 9. half-written files -------------------------------------------------------------------------


def slow_in_place_save(path, text, hold, opened):
    """Truncates, writes the first half, keeps the file open `hold` seconds
    (setting `opened`), writes the rest, closes."""
    half = len(text) // 2
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, text[:half].encode())
        opened.set()
        time.sleep(hold)
        os.write(fd, text[half:].encode())
    finally:
        os.close(fd)


def run_half_written(get, views, rounds=10):
    """Per round: an in-place save kept open 50 ms between its halves, and a
    request sent 10 ms after the first half reached the file: it must get
    the complete new code."""
    assert value_of(get()) == "v1"
    bad = []
    for index in range(rounds):
        value = "h%04d" % index
        text = "# %s\nFIRST = 1\nVALUE = %r\nLAST = 2\n" % ("-" * 40, value)
        opened = threading.Event()
        writer = threading.Thread(target=slow_in_place_save, args=(views, text, 0.05, opened))
        writer.start()
        opened.wait(5)
        time.sleep(0.01)
        got = value_of(get())
        writer.join(timeout=10)
        if got != value:
            bad.append((index, got))
    assert not bad, "%d of %d requests during a half-written save were wrong: %s" % (len(bad), rounds, bad)


# -- a git checkout of many files ----------------------------------------------------------------------

GIT_MODULES = ["m%02d" % i for i in range(20)]


def git(cwd, *args):
    # safe.directory: under Apache the repository belongs to the server's user.
    command = ["git", "-c", "safe.directory=*", "-c", "user.name=t", "-c", "user.email=t@t",
               "-c", "init.defaultBranch=a"] + list(args)
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def git_expected(branch):
    return "-".join(branch + name[1:] for name in GIT_MODULES)


def git_site(root, pkg):
    """A git repository at `root` with branches a, b, c that differ in all
    20 modules pkg/m00..m19; branch a checked out."""
    routes = '    value = "-".join(m.VALUE for m in (%s,))\n' % ", ".join(GIT_MODULES)
    package = make_package(root, pkg, imports="from %s import %s" % (pkg, ", ".join(GIT_MODULES)),
                           routes=routes, views=None)
    root = str(root)
    write(os.path.join(root, ".gitignore"), "__pycache__/\n")
    git(root, "init", "-q")
    for branch in ("a", "b", "c"):
        if branch != "a":
            git(root, "checkout", "-q", "-b", branch)
        for name in GIT_MODULES:
            write(os.path.join(package, name + ".py"), views_text(branch + name[1:]))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", branch)
    git(root, "checkout", "-q", "a")


def run_git_checkout(get, root):
    assert value_of(get()) == git_expected("a")
    for branch in ("b", "c", "a", "c"):
        git(str(root), "checkout", "-q", branch)
        assert_next_request_shows(get, git_expected(branch), "after git checkout %s" % branch)
