"""The pyfresh-* options: each one takes effect, and bad configuration stops
uWSGI at startup with a non-zero exit and one line naming the option and
the bad value."""

import shutil

import pytest

from pyfresh_testsupport.uwsgi_harness import App, wait_for, write_file


def pyfresh_lines(instance):
    return [line for line in instance.log().splitlines() if line.startswith("pyfresh: ")]


def assert_fails_at_startup(instance, options, *needles, app_root=None, exit_code=None, **start):
    instance.start(options, wait=None, pythonpath=[app_root] if app_root else [], **start)
    code = instance.wait_exit()
    assert code != 0, instance.log()
    if exit_code is not None:
        assert code == exit_code, (code, instance.log())
    lines = pyfresh_lines(instance)
    assert len(lines) == 1, instance.log()
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


BAD_OPTIONS = [
    ("pyfresh-packages", "my-app", "'my-app'"),
    ("pyfresh-packages", "shop 2fast", "'2fast'"),
    ("pyfresh-exclude", "shop.settings!", "'shop.settings!'"),
    ("pyfresh-app", "shop.wsgi:", "'shop.wsgi:'"),
    ("pyfresh-app", "not a spec", "'not a spec'"),
    ("pyfresh-app", "/blog=blog wsgi:app", "'blog wsgi:app'"),
    ("pyfresh-poll-interval", "soon", "'soon'"),
    ("pyfresh-poll-interval", "-1", "'-1'"),
    ("pyfresh-debug", "maybe", "'maybe'"),
    ("pyfresh-enabled", "perhaps", "'perhaps'"),
    ("pyfresh-watch", "", "pyfresh-watch"),
    ("pyfresh-watch-ignore", "templates/*.bak", "'templates/*.bak'"),
    ("pyfresh-reload-scope", "modules", "'modules'"),
    ("pyfresh-watch-ignore", "", "pyfresh-watch-ignore"),
    ("pyfresh-drain-timeout", "forever", "'forever'"),
    ("pyfresh-drain-timeout", "-1", "'-1'"),
    ("pyfresh-drain-timeout", "86401", "86400"),
    ("pyfresh-integrations", "dj/ango", "'dj/ango'"),
    ("pyfresh-integrations", ",", "','"),  # the ini parser trims spaces
]


@pytest.mark.parametrize("option,value,quoted", BAD_OPTIONS, ids=["%s=%s" % o[:2] for o in BAD_OPTIONS])
def test_bad_option_stops_uwsgi(uwsgi, app_root, option, value, quoted):
    app = App(app_root)
    line = assert_fails_at_startup(uwsgi, [("master", "true"), ("module", app.spec), (option, value)],
                                   option, quoted, app_root=app_root, exit_code=1)
    assert "WSGI app 0" not in uwsgi.log(), "the app was loaded before the configuration was checked"
    assert line.startswith("pyfresh: ")


def test_same_mountpoint_twice(uwsgi, app_root):
    App(app_root)
    assert_fails_at_startup(uwsgi, [("pyfresh-app", "/a=shop.wsgi:application"),
                                     ("pyfresh-app", "/a/=shop.wsgi:other")],
                            "pyfresh-app", "'/a/'", "given twice", app_root=app_root, exit_code=1)


def test_eval_app_needs_pyfresh_app(uwsgi, app_root):
    App(app_root)
    assert_fails_at_startup(uwsgi, [("eval", "from shop.wsgi import application")],
                            "`eval = from shop.wsgi import application`", "pyfresh-app", app_root=app_root,
                            exit_code=1)


def test_factory_callable_needs_pyfresh_app(uwsgi, app_root):
    app = App(app_root)
    (app.package / "wsgi.py").write_text((app.package / "wsgi.py").read_text() +
                                         "\ndef create():\n    return application\n")
    assert_fails_at_startup(uwsgi, [("module", "shop.wsgi:create()")],
                            "`module = shop.wsgi:create()`", "pyfresh-app", app_root=app_root, exit_code=1)


def test_factory_callable_with_pyfresh_app(uwsgi, app_root):
    app = App(app_root)
    (app.package / "wsgi.py").write_text((app.package / "wsgi.py").read_text() +
                                         "\ndef create():\n    return application\n")
    uwsgi.start([("module", "shop.wsgi:create()"), ("pyfresh-app", app.spec)], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"


def test_without_the_python3_plugin(uwsgi, app_root, plugin_dir, tmp_path):
    """`plugins = pyfresh` where python3 cannot be loaded (simulated by a
    python3_plugin.so that is not a python plugin) says what is missing."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    shutil.copy(plugin_dir / "pyfresh_plugin.so", plugins / "pyfresh_plugin.so")
    shutil.copy("/usr/lib/uwsgi/plugins/echo_plugin.so", plugins / "python3_plugin.so")
    uwsgi.plugin_dir = plugins
    App(app_root)
    assert_fails_at_startup(uwsgi, [("master", "true")], "python3 plugin is not loaded",
                            "plugins = python3,pyfresh", plugins="pyfresh", app_root=app_root, exit_code=1)


@pytest.mark.parametrize("plugins", ["pyfresh", "pyfresh,python3", "python3,pyfresh"])
def test_plugin_load_order_does_not_matter(uwsgi, app_root, plugins):
    app = App(app_root)
    uwsgi.start([("master", "true"), ("module", app.spec)], plugins=plugins, pythonpath=[app_root])
    assert uwsgi.get_json()["reloaders"] == [""]
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"


def test_pyfresh_package_not_importable(uwsgi, app_root):
    """The plugin is there but the pyfresh Python package is not on sys.path."""
    app = App(app_root)
    uwsgi.python_dir = app_root  # instead of the build tree's package dir
    uwsgi.start([("master", "true"), ("module", app.spec)], wait=None, pythonpath=[app_root])
    assert uwsgi.wait_exit() == 22  # uWSGI's "failed app" code
    assert "No module named 'pyfresh'" in uwsgi.log()
    line = [l for l in pyfresh_lines(uwsgi)][-1]
    assert "app 0" in line and "ModuleNotFoundError" in line


def test_pyfresh_package_not_importable_lazy_apps(uwsgi, app_root):
    app = App(app_root)
    uwsgi.python_dir = app_root
    line = assert_fails_at_startup(uwsgi, [("master", "true"), ("lazy-apps", "true"), ("module", app.spec)],
                                   "'pyfresh' is not importable", "pythonpath", app_root=app_root, exit_code=1)
    assert "sys.path" in line


def test_unimportable_pyfresh_app_is_reported_like_a_failed_app(uwsgi, app_root):
    App(app_root)
    uwsgi.start([("master", "true"), ("need-app", "true"), ("pyfresh-app", "nonexistent.wsgi:application")],
                wait=None, pythonpath=[app_root])
    assert uwsgi.wait_exit() == 22
    log = uwsgi.log()
    assert "unable to load app 0 (mountpoint='') (callable not found or import error)" in log
    assert "ModuleNotFoundError: No module named 'nonexistent'" in log


def test_unimportable_mount_without_need_app(uwsgi, app_root):
    """Without need-app uWSGI keeps the apps that loaded, as always."""
    app = App(app_root)
    uwsgi.start([("master", "true"), ("manage-script-name", "true"), ("module", app.spec),
                 ("pyfresh-app", "/gone=gone.wsgi:application")], pythonpath=[app_root])
    log = uwsgi.log()
    assert "unable to load app 1 (mountpoint='/gone') (callable not found or import error)" in log
    assert "No module named 'gone'" in log
    assert uwsgi.get_json()["reloaders"] == [""]
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"


def test_py_autoreload_warning(uwsgi, app_root):
    app = App(app_root)
    uwsgi.start([("master", "true"), ("module", app.spec), ("py-autoreload", "3")], pythonpath=[app_root])
    warnings = [line for line in pyfresh_lines(uwsgi) if "py-autoreload" in line]
    assert len(warnings) == 1, uwsgi.log()
    assert "WARNING" in warnings[0] and "restart" in warnings[0]
    assert uwsgi.get_json()["version"] == "v1"


def test_disabled_plugin_serves_the_app_as_loaded(uwsgi, app_root):
    app = App(app_root)
    uwsgi.start([("master", "true"), ("module", app.spec), ("pyfresh-enabled", "false")], pythonpath=[app_root])
    assert "pyfresh: off (pyfresh-enabled = false)" in uwsgi.log()
    first = uwsgi.get_json()
    assert first["reloaders"] is None
    app.set_version("v2")
    for _ in range(4):
        assert uwsgi.get_json()["version"] == "v1"


def test_disabled_plugin_still_loads_pyfresh_app(uwsgi, app_root):
    app = App(app_root)
    uwsgi.start([("pyfresh-app", app.spec), ("pyfresh-enabled", "off")], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"


def test_flag_without_value_means_on(uwsgi, app_root):
    """`--pyfresh-debug` on the command line, as uWSGI's own flags."""
    app = App(app_root)
    uwsgi.start([("master", "true"), ("module", app.spec)], args=["--pyfresh-debug"], pythonpath=[app_root])
    app.break_code()
    assert "SyntaxError" in uwsgi.get().text


def test_packages_lists(uwsgi, app_root):
    """pyfresh-packages: space and comma separated, repeatable; a module of
    any listed package reloads the app."""
    app = App(app_root)
    for name in ("helpers", "extras"):
        (app_root / name).mkdir()
        (app_root / name / "__init__.py").write_text("")
        (app_root / name / "text.py").write_text("SUFFIX = ''\n")
    write_file(app.views, "from helpers import text as h\nfrom extras import text as e\n"
                          "def version():\n    return 'v1' + h.SUFFIX + e.SUFFIX\n")
    uwsgi.start([("master", "true"), ("module", app.spec), ("pyfresh-packages", "shop, helpers"),
                 ("pyfresh-packages", "extras")], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    write_file(app_root / "helpers" / "text.py", "SUFFIX = '-h'\n")
    assert uwsgi.get_json()["version"] == "v1-h"
    write_file(app_root / "extras" / "text.py", "SUFFIX = '-e'\n")
    assert uwsgi.get_json()["version"] == "v1-h-e"


def test_exclude_keeps_module_state(uwsgi, app_root):
    app = App(app_root)
    (app.package / "state.py").write_text("HITS = []\n")
    write_file(app.views, "from shop import state\n"
                          "def version():\n    state.HITS.append(1)\n    return 'v1:%d' % len(state.HITS)\n")
    uwsgi.start([("master", "true"), ("module", app.spec), ("pyfresh-exclude", "shop.state")],
                pythonpath=[app_root])
    hits = [uwsgi.get_json()["version"] for _ in range(3)]
    write_file(app.views, "from shop import state\n"
                          "def version():\n    state.HITS.append(1)\n    return 'v2:%d' % len(state.HITS)\n")
    after = uwsgi.get_json()["version"]
    count = int(hits[-1].split(":")[1])
    assert after == "v2:%d" % (count + 1), (hits, after)


def test_poll_interval_forces_polling(uwsgi, app_root):
    app = App(app_root)
    uwsgi.start([("master", "true"), ("module", app.spec), ("pyfresh-poll-interval", "0")], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    wait_for(lambda: uwsgi.log_lines("pyfresh: [pid") and any("polling" in l for l in uwsgi.log_lines("pyfresh")),
             message="the polling log line")
    assert not any("with inotify" in line for line in uwsgi.log_lines("pyfresh"))
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"


def test_poll_interval_waits_for_the_interval(uwsgi, app_root):
    app = App(app_root)
    uwsgi.start([("master", "true"), ("module", app.spec), ("pyfresh-poll-interval", "2s")], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    app.set_version("v2")
    wait_for(lambda: uwsgi.get_json()["version"] == "v2", timeout=10, message="v2 after the poll interval")


WATCHING_APP = '''\
import os

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(HERE, "templates", "page.txt")) as f:
    PAGE = f.read().strip()
with open(os.path.join(HERE, "settings.ini")) as f:
    SETTING = f.read().strip()


def version():
    return "%s/%s" % (PAGE, SETTING)
'''


def watching_app(app_root):
    app = App(app_root)
    (app_root / "templates").mkdir()
    (app_root / "templates" / "page.txt").write_text("page1\n")
    (app_root / "settings.ini").write_text("setting1\n")
    write_file(app.views, WATCHING_APP)
    return app


def test_watch_reloads_on_non_python_files(uwsgi, app_root):
    """pyfresh-watch: a directory (relative to the app's directory) and a glob."""
    app = watching_app(app_root)
    uwsgi.start([("master", "true"), ("processes", "2"), ("module", app.spec), ("pyfresh-watch", "templates"),
                 ("pyfresh-watch", str(app_root / "*.ini"))], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "page1/setting1"
    write_file(app_root / "templates" / "page.txt", "page2\n")
    for _ in range(4):
        assert uwsgi.get_json()["version"] == "page2/setting1"
    write_file(app_root / "settings.ini", "setting2\n")
    assert uwsgi.get_json()["version"] == "page2/setting2"


def test_watch_reaching_too_far_stops_uwsgi_with_one_line(uwsgi, app_root):
    """A watch entry over the bound (watch=/usr: 138,000 files) is refused by
    name, without a traceback through the engine."""
    app = watching_app(app_root)
    line = assert_fails_at_startup(uwsgi, [("master", "true"), ("module", app.spec), ("pyfresh-watch", "/usr")],
                                   "pyfresh-watch '/usr' reaches more than 20,000 files", app_root=app_root)
    assert "mountpoint=" in line
    assert "Traceback" not in uwsgi.log()


def test_restart_on_reloads_the_instance(uwsgi, app_root):
    app = watching_app(app_root)
    uwsgi.start([("master", "true"), ("processes", "2"), ("module", app.spec),
                 ("pyfresh-restart-on", "settings.ini")], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "page1/setting1"
    workers = uwsgi.worker_pids()
    write_file(app_root / "settings.ini", "setting2\n")
    uwsgi.get()  # notices it; answered with a retry (307) while the instance reloads
    uwsgi.wait_log(r"reloading the uWSGI instance \(graceful")
    wait_for(lambda: uwsgi.get_json()["version"] == "page1/setting2", timeout=30, message="the reloaded instance")
    assert not set(uwsgi.worker_pids()) & set(workers)
    assert uwsgi.proc.poll() is None
    uwsgi.assert_healthy()


def test_restart_on_without_master_keeps_serving(uwsgi, app_root):
    app = watching_app(app_root)
    uwsgi.start([("master", "false"), ("module", app.spec), ("pyfresh-restart-on", "settings.ini")],
                pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "page1/setting1"
    write_file(app_root / "settings.ini", "setting2\n")
    assert uwsgi.get_json()["version"] == "page1/setting1"
    assert any("without a master process" in line for line in pyfresh_lines(uwsgi)), uwsgi.log()
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"
    assert uwsgi.proc.poll() is None


def test_pyfresh_app_file_with_another_callable(uwsgi, app_root):
    """uWSGI takes a mounted file's callable from `callable`: a pyfresh-app
    naming another one cannot be mounted as written."""
    App(app_root)
    assert_fails_at_startup(uwsgi, [("pyfresh-app", "/x=./site.wsgi:other")], "pyfresh-app",
                            "'/x=./site.wsgi:other'", "callable = other", app_root=app_root, exit_code=1)
