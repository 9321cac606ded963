"""Many reloaders in one process (uWSGI mounts, mod_wsgi application groups,
several middleware instances) share one inotify instance: the kernel allows
128 per user by default, and an instance per reloader ran out."""

import os

import pyfresh
from conftest import App

WSGI = """
from PKG.views import render

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [render().encode()]
"""


def inotify_instances():
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + fd) == "anon_inode:inotify":
                count += 1
        except OSError:
            pass  # the listing's own descriptor, closed meanwhile
    return count


def request(reloader):
    """A request as a server makes it: the per-request check only."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status

    body = b"".join(reloader({"PATH_INFO": "/", "REQUEST_METHOD": "GET"}, start_response))
    return int(captured["status"].split()[0]), body.decode()


def test_two_hundred_reloaders_share_one_inotify_instance(tmp_path, on_path):
    apps = []
    for _ in range(200):
        app = App(tmp_path)
        app.write("__init__", "")
        app.write("wsgi", WSGI)
        app.write("views", "def render():\n    return 'v1'\n")
        apps.append(app)
    # packages= named: in one interpreter, zero configuration would infer the
    # other apps' packages too (they are imported there).
    reloaders = [pyfresh.Reloader(app.spec(), packages=[app.name]) for app in apps]
    assert all(request(reloader) == (200, "v1") for reloader in reloaders)
    assert sorted({reloader.detector.method for reloader in reloaders}) == ["inotify"]
    assert inotify_instances() == 1

    edited = {}
    for index in (0, 127, 128, 199):
        apps[index].write("views", "def render():\n    return 'v2-%d'\n" % index)
        edited[index] = "v2-%d" % index
        # Every reloader answers its own request; only the edited ones reload.
        answers = [request(reloader)[1] for reloader in reloaders]
        assert answers == [edited.get(i, "v1") for i in range(200)]
        assert [reloader.reload_count for reloader in reloaders] == [int(i in edited) for i in range(200)]
    assert inotify_instances() == 1
