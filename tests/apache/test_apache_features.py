"""Issue 7 features through httpd + mod_wsgi + mod_pyfresh: zero-config
scope, PyFreshWatch (and PyFreshWatchIgnore), PyFreshRestartOn and compiled extensions (restart of
the daemon process; logged only in embedded mode), reload hooks and
statistics."""

import os
import shutil
import subprocess
import sysconfig
import time

import pytest

from pyfresh_testsupport import apache_harness as harness

DAEMON_CONFIG = """\
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 2
    ThreadsPerChild 16
    MaxRequestWorkers 32
    MinSpareThreads 4
    MaxSpareThreads 32
</IfModule>
"""

VHOSTS = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName features.test
    WSGIDaemonProcess features python-path=@APPS@/feat:@PYTHON@ home=@APPS@/feat threads=4 shutdown-timeout=2
    WSGIProcessGroup features
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
    PyFreshApp feat.main:application
    PyFreshExclude feat.events
    PyFreshWatch templates ".env*"
    PyFreshWatchIgnore "*.bak"
    PyFreshWatchIgnore draft-*
    PyFreshRestartOn restart.txt
    PyFreshDebug On
</VirtualHost>
"""

MAIN = '''\
import json
import os

import pyfresh
import feat_lib.words
from feat import events, fast

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = open(os.path.join(ROOT, "templates", "page.txt")).read()
NAMES = sorted(os.listdir(os.path.join(ROOT, "templates")))
ENV_FILE = os.path.join(ROOT, ".env")
ENV = open(ENV_FILE).read() if os.path.exists(ENV_FILE) else ""
RELOADING = pyfresh.currently_reloading()
TOKEN = os.urandom(8).hex()


@pyfresh.before_reload
def before():
    events.LOG.append("before:" + TOKEN)


@pyfresh.after_reload
def after():
    events.LOG.append("after:" + TOKEN)


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/my-stats":
        # Mounted on purpose by the app: pyfresh never serves them itself.
        body = pyfresh.stats()
    else:
        body = {
            "word": feat_lib.words.WORD, "page": PAGE, "names": NAMES, "env": ENV,
            "pid": os.getpid(), "reloading_at_import": RELOADING, "events": list(events.LOG),
            "token": TOKEN, "fast": fast.VERSION, "path": environ.get("PATH_INFO"),
        }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]
'''

EXTENSION_C = r"""
#include <Python.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "fast", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_fast(void) {
  PyObject* m = PyModule_Create(&def);
  if (m) PyModule_AddIntConstant(m, "VERSION", NUMBER);
  return m;
}
"""


def build_extension(package_dir, version):
    """Compiles feat/fast.<EXT_SUFFIX> (a tiny C extension) atomically."""
    source = os.path.join(package_dir, "..", "fast_src.c")
    with open(source, "w") as f:
        f.write(EXTENSION_C.replace("NUMBER", str(version)))
    target = os.path.join(package_dir, "fast" + sysconfig.get_config_var("EXT_SUFFIX"))
    temp = os.path.join(package_dir, "..", "fast.tmp.so")
    subprocess.run(["gcc", "-shared", "-fPIC", "-I" + sysconfig.get_paths()["include"], source, "-o", temp],
                   check=True)
    os.chmod(temp, 0o755)
    os.replace(temp, target)
    return target


def site_path(workspace, *parts):
    return workspace.path("apps", "feat", *parts)


def write_site(workspace, name="feat"):
    root = workspace.path("apps", name)
    harness.write_file(os.path.join(root, "feat", "__init__.py"), "")
    harness.write_file(os.path.join(root, "feat", "events.py"), "LOG = []\n")
    harness.write_file(os.path.join(root, "feat", "main.py"), MAIN)
    harness.write_file(os.path.join(root, "feat_lib", "__init__.py"), "")
    harness.write_file(os.path.join(root, "feat_lib", "words.py"), "WORD = 'one'\n")
    harness.write_file(os.path.join(root, "templates", "page.txt"), "page-1")
    harness.write_file(os.path.join(root, ".env"), "A=1")
    harness.write_file(os.path.join(root, "restart.txt"), "0")
    build_extension(os.path.join(root, "feat"), 1)
    os.chmod(workspace.path("apps"), 0o755)
    workspace.give_to_run_user(root)
    return root


@pytest.fixture(scope="module")
def server(workspace):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the test extension")
    write_site(workspace)
    httpd = harness.Httpd(workspace, VHOSTS, mpm="event", mpm_config=DAEMON_CONFIG)
    with httpd:
        yield httpd
    print(httpd.log()[-5000:])


def get(server, path="/"):
    response = server.get("features.test", path)
    assert response.status == 200, (response, server.log()[-3000:])
    return response.json()


def after_save(server, ready, path="/"):
    response = server.get_after_save("features.test", lambda r: r.status == 200 and ready(r.json()), path)
    assert response.status == 200 and ready(response.json()), (response, server.log()[-3000:])
    return response.json()


def test_zero_config_infers_the_sites_own_packages(server, workspace):
    first = get(server)
    assert first["word"] == "one" and first["reloading_at_import"] is False
    assert "inferred packages: feat, feat_lib" in server.log()
    harness.write_file(site_path(workspace, "feat_lib", "words.py"), "WORD = 'two'\n")
    after_save(server, lambda body: body["word"] == "two")


def test_watch_template_edit_new_file_and_dotenv_glob(server, workspace):
    harness.write_file(site_path(workspace, "templates", "page.txt"), "page-2")
    after_save(server, lambda body: body["page"] == "page-2")
    harness.write_file(site_path(workspace, "templates", "new.txt"), "x")
    after_save(server, lambda body: body["names"] == ["new.txt", "page.txt"])
    harness.write_file(site_path(workspace, ".env"), "A=2")
    after_save(server, lambda body: body["env"] == "A=2")


def test_watch_ignore_skips_matching_names_in_a_watched_directory(server, workspace):
    """PyFreshWatchIgnore (repeated): files named *.bak or draft-* appearing,
    rewritten and removed in a PyFreshWatch directory reload nothing, and
    the built-in editor list still holds (a vim swap file); a new template
    reloads."""
    reloads = get(server, "/my-stats")["reloads"]
    for name in ("page.txt.bak", "draft-1.txt", ".page.txt.swp"):
        harness.write_file(site_path(workspace, "templates", name), "noise")
    time.sleep(0.1)
    for _ in range(3):
        assert get(server, "/my-stats")["reloads"] == reloads, server.log()[-3000:]
    harness.write_file(site_path(workspace, "templates", "page.txt.bak"), "rewritten")
    os.remove(site_path(workspace, "templates", "draft-1.txt"))
    time.sleep(0.1)
    for _ in range(3):
        assert get(server, "/my-stats")["reloads"] == reloads, server.log()[-3000:]
    harness.write_file(site_path(workspace, "templates", "other.txt"), "x")
    body = after_save(server, lambda b: "other.txt" in b["names"])
    earlier = {"new.txt"}  # from the test above, when it ran
    assert [n for n in body["names"] if n not in earlier] == [".page.txt.swp", "other.txt", "page.txt",
                                                                "page.txt.bak"]
    assert get(server, "/my-stats")["reloads"] == reloads + 1


def test_hooks_run_around_reloads_without_piling_up(server, workspace):
    before = get(server)
    harness.write_file(site_path(workspace, "feat_lib", "words.py"), "WORD = 'three'\n")
    body = after_save(server, lambda b: b["word"] == "three")
    assert body["reloading_at_import"] is True
    assert body["events"][-2:] == ["before:" + before["token"], "after:" + body["token"]]
    assert len(body["events"]) == len(before["events"]) + 2


def test_stats_are_counted_and_only_served_where_the_app_mounts_them(server):
    stats = get(server, "/my-stats")
    assert stats["reloads"] >= 5 and stats["failures"] == 0 and stats["restarts"] == 0
    assert stats["last_trigger"].endswith("words.py") and stats["last_reload_ms"] > 0
    for path in ("/stats", "/pyfresh/stats", "/__pyfresh__", "/__pyfresh__/stats", "/_pyfresh", "/pyfresh",
                 "/server-status"):
        body = get(server, path)
        assert body["path"] == path and "reloads" not in body, (path, body)
    assert "totals: " in server.log()


def wait_for_new_pid(server, old_pid, timeout=40):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = server.get("features.test")
            if response.status == 200 and response.json()["pid"] != old_pid:
                return response.json()
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the daemon process was not restarted:\n%s" % server.log()[-4000:])


def test_restart_on_file_restarts_the_daemon_process(server, workspace):
    old = get(server)
    harness.write_file(site_path(workspace, "restart.txt"), "1")
    new = wait_for_new_pid(server, old["pid"])
    assert new["word"] == "three"
    log = server.log()
    assert "restart needed: " in log and "restart.txt changed; it is on the restart-on list" in log
    assert "restarting this mod_wsgi daemon process (pid %d)" % old["pid"] in log


def test_changed_extension_restarts_the_daemon_process(server, workspace):
    old = get(server)
    assert old["fast"] == 1
    build_extension(site_path(workspace, "feat"), 2)
    new = wait_for_new_pid(server, old["pid"])
    assert new["fast"] == 2
    assert "a compiled extension cannot be reloaded in-process" in server.log()


# -- embedded mode: a restart is logged, never done ------------------------------------------

EMBEDDED_CONFIG = harness.embedded_config("@APPS@/feat:@PYTHON@")

EMBEDDED_VHOSTS = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName features.test
    WSGIScriptAlias / @ENTRY@
    PyFreshApp feat.main:application
    PyFreshExclude feat.events
    PyFreshRestartOn restart.txt
</VirtualHost>
"""


def test_embedded_mode_logs_that_a_restart_is_needed_and_keeps_serving(tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the test extension")
    workspace = harness.Workspace()
    try:
        write_site(workspace)
        httpd = harness.Httpd(workspace, EMBEDDED_VHOSTS, mpm="worker", mpm_config=EMBEDDED_CONFIG)
        with httpd:
            old = get(httpd)
            harness.write_file(site_path(workspace, "restart.txt"), "1")
            deadline = time.monotonic() + 20
            while "cannot be done from mod_wsgi embedded mode" not in httpd.log():
                assert time.monotonic() < deadline, httpd.log()[-3000:]
                assert get(httpd)["pid"] == old["pid"]
                time.sleep(0.05)
            # Still the same process and code; Python edits still reload in-process.
            assert get(httpd)["token"] == old["token"]
            harness.write_file(site_path(workspace, "feat_lib", "words.py"), "WORD = 'embedded'\n")
            body = httpd.get_after_save("features.test", lambda r: r.json()["word"] == "embedded").json()
            assert body["pid"] == old["pid"]
    finally:
        workspace.cleanup()
