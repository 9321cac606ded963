"""Issue 17 through real uWSGI: the first request after a save runs the
saved code, always.

The scenarios (what is saved, how, and what the very next request must
show) are tests/support/pyfresh_testsupport/never_stale_scenarios.py, shared with the Apache tests.
Every instance writes bytecode (clean_env has no PYTHONDONTWRITEBYTECODE)
and has its own ini, pid file and log in the test's tmp dir.
"""

from pathlib import Path

from pyfresh_testsupport import never_stale_scenarios as scenarios


def start(uwsgi, root, pkg, processes=1, extra=(), pythonpath=None):
    """master, `processes` workers, pyfresh-packages = pkg."""
    options = [("master", "true"), ("processes", str(processes)), ("module", "%s.wsgi:application" % pkg),
               ("pyfresh-packages", pkg), ("add-header", "Connection: close")] + list(extra)
    uwsgi.start(options, pythonpath=[pythonpath or root])
    return uwsgi


def views_of(package):
    return str(Path(package) / "views.py")


# -- 1. freshness ---------------------------------------------------------------------------


def test_200_saves_each_served_by_the_next_request(uwsgi, app_root):
    """Case 1: 200 save -> immediate request pairs (atomic renames and
    in-place writes alternating) through two workers: every response shows
    the value just saved. Before the fix the check trusted a monitor
    thread's flag and about 1 % of the pairs got the previous code."""
    package = scenarios.make_package(app_root, "fresh")
    start(uwsgi, app_root, "fresh", processes=2)
    scenarios.run_freshness(uwsgi.get, views_of(package), count=200)
    uwsgi.assert_healthy()


def test_saves_served_by_the_next_request_under_load(uwsgi, app_root):
    """Case 1 under light load: a background client keeps two workers of two
    threads busy while 100 pairs are made: every pair is fresh and no
    request of either client fails."""
    package = scenarios.make_package(app_root, "loaded")
    start(uwsgi, app_root, "loaded", processes=2, extra=[("threads", "2")])
    scenarios.run_freshness_under_load(uwsgi.get, views_of(package), count=100)
    uwsgi.assert_healthy()


# -- 2. a fix saved while the failing reload runs ------------------------------------------


def test_fix_saved_during_a_failing_reload_is_served(uwsgi, app_root):
    """Case 2: the fix of a typo, saved while the reload that imports the
    typo is still running, is served by the next request. Before the fix
    the failure path accepted the file as it was after the import (the
    fixed state) and the error page stayed for good."""
    views = scenarios.typo_site(app_root, "typo")
    start(uwsgi, app_root, "typo")
    scenarios.run_typo_then_fix(uwsgi.get, views, "typo", rounds=4)


def test_file_written_in_two_chunks_with_a_request_between(uwsgi, app_root):
    """Case 2, two chunks: half of views.py is written, a request starts a
    failing reload, the rest is appended while it runs: the next request
    runs the complete file. Also half, request, rest, request in sequence."""
    views = scenarios.typo_site(app_root, "chunks")
    start(uwsgi, app_root, "chunks")
    scenarios.run_two_chunks(uwsgi.get, views, "chunks", rounds=3)


# -- 3. lazily imported modules --------------------------------------------------------------


def test_lazily_imported_modules_stay_tracked_after_a_reload(uwsgi, app_root):
    """Case 3: after a reload triggered by another file, a module imported
    lazily by a framework and still in use (lazyapp.plugin, kept by minifw)
    stays tracked: its edit reloads, and the framework's refresh shows the
    new code. Before the fix only the files imported during the reload
    stayed tracked and the edit triggered nothing. Also a module a view
    imports lazily (lazyapp.lazy)."""
    package = scenarios.lazy_site(app_root)
    start(uwsgi, app_root, "lazyapp")
    scenarios.run_lazy(uwsgi.get, package)
    uwsgi.assert_healthy()


# -- 4. a package directory briefly without __init__.py --------------------------------------


def test_namespace_package_moment_then_the_module_appears(uwsgi, app_root):
    """Case 4: views/ loses its __init__.py (views/__pycache__ is left, as
    in an rm -rf or a git checkout from a views/ branch to a views.py one),
    a request imports it as a namespace package, then views.py appears: the
    next request runs it. Then views.py goes, views/__init__.py appears."""
    package = scenarios.namespace_site(app_root, "nsapp")
    start(uwsgi, app_root, "nsapp")
    scenarios.run_namespace(uwsgi.get, package)
    uwsgi.assert_healthy()


# -- 5. symlinks ------------------------------------------------------------------------------


def test_edit_of_a_symlinked_modules_target(uwsgi, app_root):
    """Case 5a: linkapp/utils.py -> ../libs/utils.py; edits of the target, in
    place or by rename, reach the next request."""
    target = scenarios.symlinked_module_site(app_root, "linkapp")
    start(uwsgi, app_root, "linkapp")
    scenarios.run_symlinked_module(uwsgi.get, target)


def test_repointed_symlinked_package_directory(uwsgi, app_root):
    """Case 5b: the package directory widgetsite/widgets -> w1 is re-pointed
    at w2, then w3 (ln -sfn): the next request runs the new target's code."""
    link = scenarios.repointed_package_site(app_root, "widgetsite")
    start(uwsgi, app_root, "widgetsite")
    scenarios.run_repointed_package(uwsgi.get, link)


def test_release_switch_of_a_current_symlink(uwsgi, app_root):
    """Case 5c: the app is served from current -> releases/r1 (pythonpath is
    .../current); `ln -sfn releases/r2 current`: the next request runs r2."""
    current = scenarios.release_site(app_root, "relapp")
    start(uwsgi, app_root, "relapp", pythonpath=current)
    scenarios.run_release_switch(uwsgi.get, current)


# -- 8. editors' files ------------------------------------------------------------------------


def test_editor_files_in_a_watched_directory_trigger_nothing(uwsgi, app_root):
    """Case 8: in a pyfresh-watch directory, vim's swap file (created,
    rewritten, removed), 4913 and page.html~, emacs' .#page.html lock (a
    symlink) and #page.html#, JetBrains' ___jb_tmp___: no reload
    (pyfresh.stats()). A real edit of the template then reloads."""
    templates = scenarios.template_site(app_root, "tmplapp")
    start(uwsgi, app_root, "tmplapp", extra=[("pyfresh-watch", "templates")])
    scenarios.run_editor_files(uwsgi.get, templates)


# -- 9. half-written files -------------------------------------------------------------------


def test_request_during_an_in_place_save_gets_the_complete_file(uwsgi, app_root):
    """Case 9: a request arriving while an in-place save is half written
    (the writer keeps the file open 50 ms) gets 200 with the new value,
    never the partial module or the old value."""
    package = scenarios.make_package(app_root, "halfapp")
    start(uwsgi, app_root, "halfapp")
    scenarios.run_half_written(uwsgi.get, views_of(package), rounds=10)


# -- a git checkout -----------------------------------------------------------------------------


def test_git_checkout_of_twenty_modules(uwsgi, app_root):
    """A git checkout between branches that differ in 20 modules: the
    request right after it runs the new branch's code in all 20."""
    scenarios.git_site(app_root, "gitapp")
    start(uwsgi, app_root, "gitapp")
    scenarios.run_git_checkout(uwsgi.get, app_root)
    uwsgi.assert_healthy()
