"""Issue 17 through httpd + mod_wsgi + mod_pyfresh: the first request after
a save runs the saved code, always.

The scenarios (what is saved, how, and what the very next request must
show) are tests/support/pyfresh_testsupport/never_stale_scenarios.py, shared with the uWSGI tests.
Daemon mode: one httpd (event MPM) with one virtual host and one daemon
process group per scenario, %{GLOBAL}. Embedded mode (worker MPM, one
child): freshness, a fix during a failing reload, half-written files.
Bytecode is written (clean_env has no PYTHONDONTWRITEBYTECODE); as root the
apps belong to www-data, who runs them.
"""

import os

import pytest

from pyfresh_testsupport import apache_harness as harness
from pyfresh_testsupport import never_stale_scenarios as scenarios


DAEMON_MPM = """\
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 2
    ThreadsPerChild 16
    MaxRequestWorkers 32
    MinSpareThreads 4
    MaxSpareThreads 32
</IfModule>
"""

DAEMON_VHOST = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName {site}.test
    WSGIDaemonProcess ns_{site} python-path={path}:@PYTHON@ home=@APPS@/{site} threads=4
    WSGIProcessGroup ns_{site}
    WSGIApplicationGroup %{{GLOBAL}}
    WSGIScriptAlias / @ENTRY@
    PyFreshApp {site}.wsgi:application
    PyFreshPackages {site}
{extra}</VirtualHost>
"""


def site_root(workspace, site):
    return workspace.path("apps", site)


class Sites:
    """Writes each scenario's app under apps/<site>/ and remembers what its
    run needs; `vhosts()` is the config serving them all."""

    def __init__(self, workspace):
        self.workspace = workspace
        self.config = []
        self.info = {}

    def add(self, site, setup, path=None, extra=""):
        root = site_root(self.workspace, site)
        os.makedirs(root, exist_ok=True)
        self.info[site] = setup(root)
        self.config.append(DAEMON_VHOST.format(site=site, path=path or "@APPS@/%s" % site, extra=extra))

    def vhosts(self):
        for site in self.info:
            os.chmod(site_root(self.workspace, site), 0o755)
            self.workspace.give_to_run_user(site_root(self.workspace, site))
        os.chmod(self.workspace.path("apps"), 0o755)
        return "\n".join(self.config)


@pytest.fixture(scope="module")
def daemon(workspace):
    sites = Sites(workspace)
    views = lambda root, site: os.path.join(scenarios.make_package(root, site), "views.py")  # noqa: E731
    sites.add("fresh", lambda root: views(root, "fresh"))
    sites.add("loaded", lambda root: views(root, "loaded"))
    sites.add("typo", lambda root: scenarios.typo_site(root, "typo"))
    sites.add("chunks", lambda root: scenarios.typo_site(root, "chunks"))
    sites.add("lazyapp", scenarios.lazy_site)
    sites.add("nsapp", lambda root: scenarios.namespace_site(root, "nsapp"))
    sites.add("linkapp", lambda root: scenarios.symlinked_module_site(root, "linkapp"))
    sites.add("widgetsite", lambda root: scenarios.repointed_package_site(root, "widgetsite"))
    sites.add("relapp", lambda root: scenarios.release_site(root, "relapp"), path="@APPS@/relapp/current")
    sites.add("tmplapp", lambda root: scenarios.template_site(root, "tmplapp"), extra="    PyFreshWatch templates\n")
    sites.add("halfapp", lambda root: views(root, "halfapp"))
    sites.add("gitapp", lambda root: scenarios.git_site(root, "gitapp"))
    httpd = harness.Httpd(workspace, sites.vhosts(), mpm="event", mpm_config=DAEMON_MPM)
    with httpd:
        yield httpd, sites.info
    print(httpd.log())


def getter(server, site):
    def get(path="/"):
        return server.get("%s.test" % site, path)
    return get


def run(daemon, site, scenario, *args, **kwargs):
    server, info = daemon
    try:
        scenario(getter(server, site), info[site], *args, **kwargs)
    except AssertionError as error:
        raise AssertionError("%s\n---- error log (tail) ----\n%s" % (error, server.log()[-4000:])) from None


# -- 1. freshness ------------------------------------------------------------------------------


def test_200_saves_each_served_by_the_next_request(daemon):
    """Case 1, daemon mode: 200 save -> immediate request pairs (atomic
    renames and in-place writes alternating): every response shows the
    value just saved. Before the fix about 1-3 % of the pairs were stale."""
    run(daemon, "fresh", scenarios.run_freshness, count=200)


def test_saves_served_by_the_next_request_under_load(daemon):
    """Case 1 under load: three background clients request continuously
    (the daemon process's four threads busy) while 200 pairs are made:
    every pair fresh, no request fails. Before the fix, daemon mode was
    rarely stale when idle (a request's trip through the Apache child gave
    the monitor thread time); under this load it was."""
    run(daemon, "loaded", scenarios.run_freshness_under_load, count=200, clients=3)


# -- 2. a fix saved while the failing reload runs -----------------------------------------------


def test_fix_saved_during_a_failing_reload_is_served(daemon):
    """Case 2: the fix of a typo, saved while the reload that imports the
    typo is still running, is served by the next request (before the fix
    the error page stayed for good)."""
    run(daemon, "typo", lambda get, views: scenarios.run_typo_then_fix(get, views, "typo", rounds=4))


def test_file_written_in_two_chunks_with_a_request_between(daemon):
    """Case 2, two chunks: the rest of views.py, appended while the reload
    of its first half fails, is served by the next request."""
    run(daemon, "chunks", lambda get, views: scenarios.run_two_chunks(get, views, "chunks", rounds=3))


# -- 3. lazily imported modules ------------------------------------------------------------------


def test_lazily_imported_modules_stay_tracked_after_a_reload(daemon):
    """Case 3: a module imported lazily and still in use after a reload
    triggered by another file stays tracked: its edit reloads."""
    run(daemon, "lazyapp", scenarios.run_lazy)


# -- 4. a package directory briefly without __init__.py ---------------------------------------


def test_namespace_package_moment_then_the_module_appears(daemon):
    """Case 4: views/ imported as a namespace package (only __pycache__
    left), then views.py appears: the next request runs it; and back."""
    run(daemon, "nsapp", scenarios.run_namespace)


# -- 5. symlinks -----------------------------------------------------------------------------------


def test_edit_of_a_symlinked_modules_target(daemon):
    """Case 5a: linkapp/utils.py -> ../libs/utils.py; edits of the target."""
    run(daemon, "linkapp", scenarios.run_symlinked_module)


def test_repointed_symlinked_package_directory(daemon):
    """Case 5b: a symlinked package directory re-pointed (ln -sfn)."""
    run(daemon, "widgetsite", scenarios.run_repointed_package)


def test_release_switch_of_a_current_symlink(daemon):
    """Case 5c: python-path=.../current, current -> releases/r1;
    `ln -sfn releases/r2 current`: the next request runs r2."""
    run(daemon, "relapp", scenarios.run_release_switch)


# -- 8. editors' files --------------------------------------------------------------------------------


def test_editor_files_in_a_watched_directory_trigger_nothing(daemon):
    """Case 8: editors' swap, backup, lock and auto-save files in a
    PyFreshWatch directory reload nothing; a real edit reloads."""
    run(daemon, "tmplapp", scenarios.run_editor_files)


# -- 9. half-written files ----------------------------------------------------------------------------


def test_request_during_an_in_place_save_gets_the_complete_file(daemon):
    """Case 9: a request arriving while an in-place save is half written
    (file open 50 ms) gets 200 with the complete new code."""
    run(daemon, "halfapp", scenarios.run_half_written, rounds=10)


# -- a git checkout --------------------------------------------------------------------------------------


def test_git_checkout_of_twenty_modules(daemon):
    """git checkout between branches differing in 20 modules: the next
    request runs the new branch in all 20."""
    server, _info = daemon
    root = site_root(server.workspace, "gitapp")
    run(daemon, "gitapp", lambda get, _none: scenarios.run_git_checkout(get, root))


# -- embedded mode -----------------------------------------------------------------------------------------

EMBEDDED_MPM = harness.embedded_config("@APPS@/efresh:@APPS@/etypo:@APPS@/ehalf:@PYTHON@")

EMBEDDED_VHOST = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName {site}.test
    WSGIScriptAlias / @ENTRY@
    PyFreshApp {site}.wsgi:application
    PyFreshPackages {site}
</VirtualHost>
"""


@pytest.fixture(scope="module")
def embedded():
    workspace = harness.Workspace(prefix="pyfresh-emb-")
    try:
        sites = Sites(workspace)
        sites.add("efresh", lambda root: os.path.join(scenarios.make_package(root, "efresh"), "views.py"))
        sites.add("etypo", lambda root: scenarios.typo_site(root, "etypo"))
        sites.add("ehalf", lambda root: os.path.join(scenarios.make_package(root, "ehalf"), "views.py"))
        vhosts = "\n".join(EMBEDDED_VHOST.format(site=site) for site in sites.info)
        sites.vhosts()
        httpd = harness.Httpd(workspace, vhosts, mpm="worker", mpm_config=EMBEDDED_MPM)
        with httpd:
            yield httpd, sites.info
        print(httpd.log())
    finally:
        workspace.cleanup()


def test_embedded_200_saves_each_served_by_the_next_request(embedded):
    """Case 1, embedded mode (the app runs in the Apache child)."""
    run(embedded, "efresh", scenarios.run_freshness, count=200)


def test_embedded_fix_saved_during_a_failing_reload_is_served(embedded):
    """Case 2, embedded mode."""
    run(embedded, "etypo", lambda get, views: scenarios.run_typo_then_fix(get, views, "etypo", rounds=3))


def test_embedded_request_during_an_in_place_save_gets_the_complete_file(embedded):
    """Case 9, embedded mode."""
    run(embedded, "ehalf", scenarios.run_half_written, rounds=10)
