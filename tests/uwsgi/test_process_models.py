"""With and without master, processes = N, threads = N, lazy-apps: every
worker serves the new code from its own next request on, a respawned worker
serves the current code (never what the master imported), and a save made
while uWSGI imports the app is not lost."""

import concurrent.futures
import os
import signal
import time

import pytest

from pyfresh_testsupport.uwsgi_harness import App, wait_for

MODES = {
    "master": [("master", "true")],
    "no-master": [("master", "false")],
    "no-master-2-processes": [("master", "false"), ("processes", "2")],
    "master-4-processes": [("master", "true"), ("processes", "4")],
    "threads": [("master", "true"), ("processes", "2"), ("threads", "4")],
    "lazy-apps": [("master", "true"), ("processes", "2"), ("lazy-apps", "true")],
    "lazy-apps-threads": [("master", "true"), ("processes", "2"), ("threads", "2"), ("lazy-apps", "true")],
    "lazy-apps-no-master": [("master", "false"), ("processes", "2"), ("lazy-apps", "true")],
    # The python plugin then releases the GIL in the master while loading.
    "fork-hooks": [("master", "true"), ("processes", "2"), ("enable-threads", "true"),
                   ("py-call-uwsgi-fork-hooks", "true")],
}


def pids_answering(instance, path="/slow", requests=None):
    """Concurrent slow requests, so that every worker (and thread) takes
    some: twice as many as the instance has cores."""
    if requests is None:
        options = dict(instance.options)
        requests = 2 * int(options.get("processes", "1")) * int(options.get("threads", "1"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=requests) as pool:
        return [f.result(timeout=60).json() for f in [pool.submit(instance.get, path) for _ in range(requests)]]


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_worker_serves_the_new_code(uwsgi, app_root, mode):
    app = App(app_root)
    uwsgi.start(MODES[mode] + [("module", app.spec)], pythonpath=[app_root])
    first = pids_answering(uwsgi)
    assert {r["version"] for r in first} == {"v1"}
    assert all(r["reloaders"] == [""] for r in first)
    expected_processes = int(dict(MODES[mode]).get("processes", "1"))
    if expected_processes > 1:
        wait_for(lambda: len({r["pid"] for r in pids_answering(uwsgi)}) > 1, timeout=30,
                 message="requests reaching more than one worker")

    for version in ("v2", "v3"):
        app.set_version(version)
        answers = pids_answering(uwsgi)
        assert {r["version"] for r in answers} == {version}, answers
    uwsgi.assert_healthy()
    # Reloads happen in the workers, never in the master.
    reload_pids = {int(line.split("[pid ")[1].split("]")[0]) for line in uwsgi.log_lines("reloaded shop.wsgi")}
    assert reload_pids
    if dict(MODES[mode])["master"] == "true":
        assert uwsgi.proc.pid not in reload_pids


@pytest.mark.parametrize("lazy", [False, True], ids=["preforked", "lazy-apps"])
def test_respawned_worker_serves_the_current_code(uwsgi, app_root, lazy):
    app = App(app_root)
    options = [("master", "true"), ("processes", "2"), ("module", app.spec)]
    if lazy:
        options.append(("lazy-apps", "true"))
    uwsgi.start(options, pythonpath=[app_root])
    workers = wait_for(lambda: len(uwsgi.worker_pids()) == 2 and uwsgi.worker_pids(), message="two workers")
    assert {r["version"] for r in pids_answering(uwsgi)} == {"v1"}

    # The master imported v1. After the save, kill every worker: the
    # respawned ones fork from the master and must not serve its v1.
    app.set_version("v2")
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    respawned = wait_for(lambda: (lambda p: len(p) == 2 and not set(p) & set(workers) and p)(uwsgi.worker_pids()),
                         timeout=30, message="two respawned workers")
    answers = pids_answering(uwsgi)
    assert {r["version"] for r in answers} == {"v2"}, answers
    assert {r["pid"] for r in answers} <= set(respawned)
    wait_for(lambda: {r["pid"] for r in pids_answering(uwsgi)} == set(respawned), timeout=30,
             message="both respawned workers answering")
    assert {r["version"] for r in pids_answering(uwsgi)} == {"v2"}

    # And the next save reaches them too.
    app.set_version("v3")
    assert {r["version"] for r in pids_answering(uwsgi)} == {"v3"}
    assert "Segmentation Fault" not in uwsgi.log()


SLOW_IMPORT = '''\
import time
from {package} import views  # noqa: F401  (read before the pause)
open("{marker}", "w").close()
time.sleep(1.5)
'''


@pytest.mark.parametrize("lazy", [False, True], ids=["preforked", "lazy-apps"])
def test_save_while_the_app_is_imported(uwsgi, app_root, tmp_path, lazy):
    """The engine takes the files' identities when the app is wrapped, after
    uWSGI imported it; a save in between must still be noticed."""
    app = App(app_root)
    marker = tmp_path / "imported-views"
    (app.package / "slow.py").write_text(SLOW_IMPORT.format(package=app.name, marker=marker))
    (app.package / "wsgi.py").write_text("from shop import slow  # noqa: F401\n" + (app.package / "wsgi.py").read_text())
    options = [("master", "true"), ("processes", "1"), ("module", app.spec)]
    if lazy:
        options.append(("lazy-apps", "true"))
    uwsgi.start(options, wait=None, pythonpath=[app_root])
    wait_for(marker.exists, timeout=30, message="views.py imported")
    app.set_version("v2")  # while slow.py still sleeps
    uwsgi.wait_ready()
    assert uwsgi.get_json()["version"] == "v2", uwsgi.log()
    uwsgi.assert_healthy()


def test_threads_serve_concurrently_through_a_reload(uwsgi, app_root):
    app = App(app_root)
    uwsgi.start([("master", "true"), ("processes", "1"), ("threads", "8"), ("module", app.spec)],
                pythonpath=[app_root])
    started = time.monotonic()
    answers = pids_answering(uwsgi, requests=8)
    assert time.monotonic() - started < 8 * 0.4, "the 8 slow requests did not run in parallel threads"
    assert len({r["thread"] for r in answers}) > 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        in_flight = [pool.submit(uwsgi.get, "/slow") for _ in range(6)]
        time.sleep(0.1)
        app.set_version("v2")
        during = [pool.submit(uwsgi.get, "/") for _ in range(6)]
        results = [f.result(timeout=60) for f in in_flight + during]
    assert all(r.status == 200 for r in results), results
    assert {r.json()["version"] for r in results[6:]} == {"v2"}
    uwsgi.assert_healthy()
