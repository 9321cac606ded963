"""conf-examples/httpd-daemon.conf and httpd-embedded.conf work as written:
each is served by a real httpd with only its paths and port replaced (the
/srv sites by temp dirs, the installed module and entry script by the build
tree's)."""

import json
import os

import pytest

from pyfresh_testsupport import apache_harness as harness

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "conf-examples")

MYSITE_WSGI = """\
import json
import os

from blog import views as blog_views
from mysite import settings

TOKEN = os.urandom(8).hex()


def application(environ, start_response):
    body = {"blog": blog_views.MESSAGE, "settings": settings.TOKEN, "wsgi": TOKEN,
            "group": environ.get("mod_wsgi.process_group")}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]
"""

SHOP_APP = """\
import json
import os

TOKEN = os.urandom(8).hex()


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"shop": TOKEN, "group": environ.get("mod_wsgi.process_group")}).encode()]
"""

SETTINGS = "import os\nTOKEN = os.urandom(8).hex()\n"


def write_sites(workspace):
    apps = workspace.path("apps")
    files = {
        "mysite/mysite/__init__.py": "",
        "mysite/mysite/wsgi.py": MYSITE_WSGI,
        "mysite/mysite/settings.py": SETTINGS,
        "mysite/blog/__init__.py": "",
        "mysite/blog/views.py": "MESSAGE = 'blog v1'\n",
        "shop/shop/__init__.py": "",
        "shop/shop/app.py": SHOP_APP,
    }
    for relative, text in files.items():
        harness.write_file(os.path.join(apps, relative), text)
    os.chmod(apps, 0o755)
    for site in ("mysite", "shop"):
        os.chmod(os.path.join(apps, site), 0o755)
        workspace.give_to_run_user(os.path.join(apps, site))


def example(name):
    with open(os.path.join(EXAMPLES, name)) as handle:
        text = handle.read()
    for installed, placeholder in [
            ("127.0.0.1:8080", "127.0.0.1:@PORT@"),
            ("/usr/local/share/pyfresh/pyfresh.wsgi", "@ENTRY@"),
            ("/usr/local/share/pyfresh", "@ENTRY_DIR@"),
            ("/srv/", "@APPS@/")]:
        assert installed in text, (name, installed)
        text = text.replace(installed, placeholder)
    return text


def get_json(server, host):
    response = server.get(host)
    assert response.status == 200, (response, server.log()[-3000:])
    return json.loads(response.body)


@pytest.mark.parametrize("name,mpm", [("httpd-daemon.conf", "event"), ("httpd-embedded.conf", "worker")])
def test_example_serves_and_reloads(workspace, name, mpm):
    write_sites(workspace)
    # One child process in embedded mode, so module identity is comparable.
    mpm_config = ("ServerLimit 1\nStartServers 1\nThreadsPerChild 8\nMaxRequestWorkers 8\n"
                  "MinSpareThreads 1\nMaxSpareThreads 8\n")
    with harness.Httpd(workspace, example(name), mpm=mpm, mpm_config=mpm_config) as server:
        first = get_json(server, "mysite.localhost")
        assert first["blog"] == "blog v1"
        assert first["group"] == ("mysite" if name == "httpd-daemon.conf" else "")
        shop = get_json(server, "shop.localhost") if name == "httpd-daemon.conf" else None

        harness.write_file(workspace.path("apps", "mysite", "blog", "views.py"), "MESSAGE = 'blog v2'\n")
        # The first request may precede the monitor thread noticing the save
        # (see Httpd.get_after_save).
        server.get_after_save("mysite.localhost",
                              lambda r: r.status != 200 or json.loads(r.body)["blog"] != first["blog"])
        second = get_json(server, "mysite.localhost")
        assert second["blog"] == "blog v2" and second["wsgi"] != first["wsgi"]
        assert second["settings"] == first["settings"], "PyFreshExclude mysite.settings"
        if shop is not None:
            assert get_json(server, "shop.localhost") == shop
