"""`cmake --install` puts the plugin where uWSGI looks for it, and the demo
configuration in conf-examples/ serves the demo with pyfresh on."""

import os
import re
import shutil
import signal
import subprocess
import urllib.request

import pytest

from pyfresh_testsupport.uwsgi_harness import SOURCE_DIR, clean_env, free_port, wait_for, write_file


def compiled_plugin_dir(uwsgi_binary):
    flags = subprocess.run([uwsgi_binary, "--cflags"], capture_output=True, text=True, check=True).stdout
    match = re.search(r'-DUWSGI_PLUGIN_DIR="\\?"([^"\\]+)', flags)
    assert match, flags
    return match.group(1)


def test_cmake_install_puts_the_plugin_in_uwsgis_plugin_dir(build_dir, uwsgi_binary, uwsgi, tmp_path):
    destdir = tmp_path / "destdir"
    env = dict(os.environ, DESTDIR=str(destdir))
    result = subprocess.run(["cmake", "--install", str(build_dir)], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

    plugin_dir = compiled_plugin_dir(uwsgi_binary)  # /usr/lib/uwsgi/plugins on Debian
    installed = destdir / plugin_dir.lstrip("/") / "pyfresh_plugin.so"
    assert installed.is_file(), "not installed into uWSGI's plugin dir %s:\n%s" % (plugin_dir, result.stdout)

    # Only the entry symbol is exported, and the section that makes uWSGI
    # load python3 first is there.
    exported = subprocess.run(["nm", "-D", "--defined-only", str(installed)], capture_output=True, text=True,
                              check=True).stdout.split()
    assert [name for name in exported if not re.fullmatch(r"[0-9a-f]+|[A-Za-z]", name)] == ["pyfresh_plugin"]
    section = subprocess.run(["objdump", "-s", "-j", "uwsgi", str(installed)], capture_output=True, text=True,
                             check=True).stdout
    assert "requires=python3" in section

    # The installed plugin and package serve an app (uWSGI would find the
    # plugin in its plugin dir; here the same dir under DESTDIR).
    package = next(destdir.rglob("pyfresh/hosts/uwsgi.py")).parent.parent.parent
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "hello.py").write_text("def application(environ, start_response):\n"
                                   "    start_response('200 OK', [])\n"
                                   "    return [b'v1']\n")
    uwsgi.plugin_dir = installed.parent
    uwsgi.python_dir = package
    uwsgi.start([("module", "hello:application")], pythonpath=[apps])
    assert uwsgi.get().body == b"v1"
    write_file(apps / "hello.py", (apps / "hello.py").read_text().replace("v1", "v2"))
    assert uwsgi.get().body == b"v2"
    assert str(package) in uwsgi.log()


def test_demo_configuration(uwsgi, build_dir, tmp_path):
    """conf-examples/uwsgi.ini as the README runs it (from a copy, with
    `build` pointing at this build tree), edited the way the README says."""
    copy = tmp_path / "checkout"
    shutil.copytree(SOURCE_DIR / "conf-examples", copy / "conf-examples",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "build").symlink_to(build_dir)
    ini = copy / "conf-examples" / "uwsgi.ini"
    uwsgi.start(None, ini=False, args=["--set-ph", "port={port}", "--ini", str(ini)])
    page = uwsgi.get()
    assert page.status == 200 and "Hello, pyfresh!" in page.text, page
    assert "http://127.0.0.1:%d/" % uwsgi.port in uwsgi.log(), "the URL is not printed"
    assert "serving demo_site.wsgi:application" in uwsgi.log()

    greeting = copy / "conf-examples" / "demo" / "demo_site" / "greeting.py"
    write_file(greeting, greeting.read_text().replace("Hello", "Howdy"))
    for _ in range(4):  # both workers
        assert "Howdy, pyfresh!" in uwsgi.get().text
    uwsgi.assert_healthy()


def test_environment_is_clean():
    """The instances run without pyenv's variables and write bytecode."""
    env = clean_env()
    assert "PYTHONPATH" not in env and "PYTHONHOME" not in env and "PYTHONDONTWRITEBYTECODE" not in env
    assert ".pyenv" not in env["PATH"]


def test_bytecode_is_written(uwsgi, app_root):
    from pyfresh_testsupport.uwsgi_harness import App

    app = App(app_root)
    uwsgi.start([("module", app.spec)], pythonpath=[app_root])
    uwsgi.get_json()
    wait_for(lambda: list((app.package / "__pycache__").glob("views.*.pyc")), message="views.pyc written")
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"
    app.set_version("v3")  # same size, within the same second
    assert uwsgi.get_json()["version"] == "v3"


def test_run_demo_script_as_the_readme_runs_it(build_dir):
    """`PORT=N bash scripts/run-demo.sh`: serves on N with live reload on,
    logs no alarming "No such file" lines, and stops on SIGTERM (kill,
    systemd)."""
    if os.path.realpath(str(build_dir)) != os.path.realpath(str(SOURCE_DIR / "build")):
        pytest.skip("run-demo.sh builds and serves ./build; this run uses %s" % build_dir)
    port = free_port()
    log = open(os.path.join(str(build_dir), "run-demo-test.log"), "w+")
    process = subprocess.Popen(["bash", str(SOURCE_DIR / "scripts" / "run-demo.sh")],
                               env=dict(clean_env(), PORT=str(port)), stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        url = "http://127.0.0.1:%d/" % port
        wait_for(lambda: _get_ok(url), timeout=240, message="the demo answering on port %d" % port)
        log.seek(0)
        output = log.read()
        assert url in output
        assert "No such file" not in output, output
        # Live reload is on: the Flask page carries the script.
        with urllib.request.urlopen(url, timeout=5) as response:
            page = response.read()
        assert b'data-pyfresh-url="/_pyfresh/token"' in page, page
        assert "live reload on" in output, output
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.seek(0)
        assert "goodbye to uWSGI" in log.read()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _get_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False
