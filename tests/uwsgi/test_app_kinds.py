"""Every kind of WSGI app uWSGI loads passes through the engine: module=,
wsgi-file=, mount= (sub-interpreters and single-interpreter), eval= named by
pyfresh-app, and an app only pyfresh-app names."""

import os

import pytest

from pyfresh_testsupport.uwsgi_harness import App, wait_for, write_file


def assert_reloads(instance, app, path="/", new_version="v2"):
    """The app serves v1, then the saved v2 from the next request on."""
    before = instance.get_json(path)
    assert before["version"] == "v1", before
    app.set_version(new_version)
    after = instance.get_json(path)
    assert after["version"] == new_version, (after, instance.log())
    return before, after


def test_module_app(uwsgi, app_root):
    app = App(app_root)
    uwsgi.start([("master", "true"), ("module", app.spec)], pythonpath=[app_root])
    before, after = assert_reloads(uwsgi, app)
    assert before["reloaders"] == [""], "the main app is not wrapped by pyfresh"
    assert "reloaded shop.wsgi:application" in uwsgi.log()
    uwsgi.assert_healthy()


def test_module_with_callable_option(uwsgi, app_root):
    app = App(app_root)
    (app.package / "wsgi.py").write_text((app.package / "wsgi.py").read_text() + "\nsite = application\n")
    uwsgi.start([("master", "true"), ("module", "shop.wsgi"), ("callable", "site")], pythonpath=[app_root])
    assert_reloads(uwsgi, app)
    assert "serving shop.wsgi:site" in uwsgi.log()


def test_wsgi_file_app(uwsgi, app_root):
    app = App(app_root)
    wsgi_file = app_root / "site.wsgi"
    wsgi_file.write_text(
        "import json, sys\n"
        "from shop import views\n"
        "MARK = 'file-v1'\n"
        "def application(environ, start_response):\n"
        "    host = sys.modules.get('pyfresh.hosts.uwsgi')\n"
        "    body = json.dumps({'version': views.version(), 'mark': MARK,\n"
        "                       'reloaders': sorted(host.reloaders()) if host else None}).encode()\n"
        "    start_response('200 OK', [('Content-Type', 'application/json')])\n"
        "    return [body]\n")
    # A relative path: uWSGI resolves it in its working directory.
    uwsgi.start([("master", "true"), ("chdir", str(app_root)), ("wsgi-file", "site.wsgi"),
                 ("pyfresh-packages", "shop")], pythonpath=[app_root])
    first = uwsgi.get_json()
    assert (first["version"], first["mark"]) == ("v1", "file-v1")
    assert first["reloaders"] == [""]
    # The file itself...
    write_file(wsgi_file, wsgi_file.read_text().replace("file-v1", "file-v2"))
    assert uwsgi.get_json()["mark"] == "file-v2"
    # ...and a module of pyfresh-packages it imports.
    app.set_version("v2")
    second = uwsgi.get_json()
    assert (second["version"], second["mark"]) == ("v2", "file-v2")
    assert "serving %s:application" % wsgi_file in uwsgi.log()
    uwsgi.assert_healthy()


MOUNT_MODES = {
    "prefork": [("master", "true"), ("processes", "2")],
    "lazy-apps": [("master", "true"), ("processes", "2"), ("lazy-apps", "true")],
    "threads": [("master", "true"), ("processes", "1"), ("threads", "4")],
    "no-master": [("master", "false"), ("processes", "1")],
}


@pytest.mark.parametrize("mode", sorted(MOUNT_MODES))
@pytest.mark.parametrize("single_interpreter", [False, True], ids=["sub-interpreters", "single-interpreter"])
def test_mounts(uwsgi, app_root, mode, single_interpreter):
    alpha = App(app_root, "alpha")
    beta = App(app_root, "beta")
    options = MOUNT_MODES[mode] + [
        ("manage-script-name", "true"),
        ("mount", "/alpha=%s" % alpha.spec),
        ("mount", "/beta=%s" % beta.spec),
    ]
    if single_interpreter:
        options.append(("single-interpreter", "true"))
    uwsgi.start(options, wait="/alpha/", pythonpath=[app_root])

    a = uwsgi.get_json("/alpha/")
    b = uwsgi.get_json("/beta/")
    assert (a["app"], b["app"]) == ("alpha", "beta")
    if single_interpreter:
        assert a["interpreter"] == b["interpreter"]
        assert a["reloaders"] == ["/alpha", "/beta"]
    else:
        assert a["interpreter"] != b["interpreter"], "the mounts should run in separate interpreters"
        assert (a["reloaders"], b["reloaders"]) == (["/alpha"], ["/beta"])

    alpha.set_version("v2")
    assert uwsgi.get_json("/alpha/")["version"] == "v2"
    assert uwsgi.get_json("/beta/")["version"] == "v1"
    beta.set_version("v3")
    assert uwsgi.get_json("/beta/")["version"] == "v3"
    assert uwsgi.get_json("/alpha/")["version"] == "v2"
    # Each worker serves the new code from its own next request on.
    for _ in range(6):
        assert uwsgi.get_json("/alpha/")["version"] == "v2"
        assert uwsgi.get_json("/beta/")["version"] == "v3"
    uwsgi.assert_healthy()


def inotify_instances(pid):
    count = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:inotify":
                count += 1
        except OSError:
            pass
    return count


def test_mounts_share_one_inotify_instance(uwsgi, app_root):
    """Each mount has its own reloader (and sub-interpreter); the worker has
    one inotify instance for all of them (the kernel allows 128 per user)."""
    names = ["alpha", "beta", "gamma", "delta", "epsilon"]
    apps = [App(app_root, name) for name in names]
    options = [("master", "true"), ("processes", "1"), ("manage-script-name", "true")]
    options += [("mount", "/%s=%s" % (app.name, app.spec)) for app in apps]
    uwsgi.start(options, wait="/alpha/", pythonpath=[app_root])
    answers = [uwsgi.get_json("/%s/" % name) for name in names]
    assert len({answer["interpreter"] for answer in answers}) == len(names)
    assert inotify_instances(answers[0]["pid"]) == 1
    apps[2].set_version("v2")
    versions = [uwsgi.get_json("/%s/" % name)["version"] for name in names]
    assert versions == ["v1", "v1", "v2", "v1", "v1"]
    assert inotify_instances(answers[0]["pid"]) == 1
    uwsgi.assert_healthy()


def test_main_app_and_mounts(uwsgi, app_root):
    main = App(app_root, "shop")
    blog = App(app_root, "blog")
    uwsgi.start([("master", "true"), ("processes", "2"), ("manage-script-name", "true"),
                 ("module", main.spec), ("mount", "/blog=%s" % blog.spec)], pythonpath=[app_root])
    assert uwsgi.get_json("/")["app"] == "shop"
    assert uwsgi.get_json("/blog/")["app"] == "blog"
    blog.set_version("v2")
    main.set_version("v3")
    assert uwsgi.get_json("/blog/")["version"] == "v2"
    assert uwsgi.get_json("/")["version"] == "v3"
    uwsgi.assert_healthy()


def test_eval_app_named_by_pyfresh_app(uwsgi, app_root):
    app = App(app_root)
    uwsgi.start([("master", "true"), ("eval", "from shop.wsgi import application"),
                 ("pyfresh-app", app.spec)], pythonpath=[app_root])
    assert_reloads(uwsgi, app)
    assert "serving shop.wsgi:application" in uwsgi.log()


def test_pyfresh_app_alone_loads_the_app(uwsgi, app_root):
    """Without module=, pyfresh-app mounts the app; uWSGI loads it."""
    app = App(app_root)
    uwsgi.start([("master", "true"), ("processes", "2"), ("pyfresh-app", app.spec)], pythonpath=[app_root])
    before, _ = assert_reloads(uwsgi, app)
    assert before["reloaders"] == [""]
    assert "WSGI app 0 (mountpoint='') ready" in uwsgi.log()


def test_pyfresh_app_for_a_mountpoint(uwsgi, app_root):
    shop = App(app_root, "shop")
    blog = App(app_root, "blog")
    uwsgi.start([("master", "true"), ("manage-script-name", "true"), ("module", shop.spec),
                 ("pyfresh-app", "/blog=%s" % blog.spec)], wait="/blog/", pythonpath=[app_root])
    data = uwsgi.get_json("/blog/")
    assert (data["app"], data["reloaders"]) == ("blog", ["/blog"])
    blog.set_version("v2")
    assert uwsgi.get_json("/blog/")["version"] == "v2"
    assert uwsgi.get_json("/")["version"] == "v1"


def test_requests_in_threads_while_saving(uwsgi, app_root):
    """threads = N: requests in flight while a save lands all succeed."""
    import concurrent.futures

    app = App(app_root)
    uwsgi.start([("master", "true"), ("processes", "2"), ("threads", "4"), ("module", app.spec)],
                pythonpath=[app_root])
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(uwsgi.get, "/slow") for _ in range(8)]
        app.set_version("v2")
        futures += [pool.submit(uwsgi.get, "/") for _ in range(16)]
        responses = [f.result(timeout=30) for f in futures]
    assert all(r.status == 200 for r in responses), responses
    wait_for(lambda: all(uwsgi.get_json()["version"] == "v2" for _ in range(4)), message="v2 everywhere")
    threads = {r.json()["thread"] for r in responses}
    assert len(threads) > 1, "requests should have run in several threads"
    uwsgi.assert_healthy()


def test_mount_of_a_wsgi_file(uwsgi, app_root):
    app = App(app_root)
    site = app_root / "site.wsgi"
    site.write_text("from shop.wsgi import application\n")
    uwsgi.start([("master", "true"), ("processes", "2"), ("manage-script-name", "true"),
                 ("mount", "/site=%s" % site), ("pyfresh-packages", "shop")], wait="/site/", pythonpath=[app_root])
    assert uwsgi.get_json("/site/")["reloaders"] == ["/site"]
    app.set_version("v2")
    assert uwsgi.get_json("/site/")["version"] == "v2"
    assert "serving %s:application" % site in uwsgi.log()
