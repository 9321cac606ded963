"""`cmake --install` of the Apache component (into a DESTDIR, never the
system) puts the module in apxs' LIBEXECDIR, pyfresh.load/pyfresh.conf in
mods-available so `a2enmod pyfresh` works, and the entry script at the
documented path; and mod_pyfresh.so exports nothing but pyfresh_module."""

import os
import re
import shutil
import subprocess

import pytest

from pyfresh_testsupport import apache_harness as harness


def apxs(variable):
    return subprocess.run(["apxs", "-q", variable], capture_output=True, text=True, timeout=60,
                          check=True).stdout.strip()


def cache_value(name):
    with open(os.path.join(harness.build_dir(), "CMakeCache.txt")) as handle:
        for line in handle:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    raise KeyError(name)


@pytest.fixture(scope="module")
def destdir(workspace):
    root = workspace.path("destdir")
    env = dict(os.environ, DESTDIR=root)
    result = subprocess.run(["cmake", "--install", harness.build_dir(), "--component", "apache"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def installed(destdir, path):
    return os.path.join(destdir, path.lstrip("/"))


def test_the_module_goes_to_apaches_module_directory(destdir):
    module = installed(destdir, os.path.join(apxs("LIBEXECDIR"), "mod_pyfresh.so"))
    assert os.path.isfile(module)


def test_pyfresh_load_and_conf_go_to_mods_available(destdir):
    available = installed(destdir, os.path.join(apxs("SYSCONFDIR"), "mods-available"))
    with open(os.path.join(available, "pyfresh.load")) as handle:
        load = handle.read()
    assert "LoadModule pyfresh_module %s/mod_pyfresh.so" % apxs("LIBEXECDIR") in load
    assert re.search(r"^# Depends: wsgi$", load, re.M)
    with open(os.path.join(available, "pyfresh.conf")) as handle:
        conf = handle.read()
    prefix = cache_value("CMAKE_INSTALL_PREFIX")
    assert "Define PYFRESH_WSGI_SCRIPT %s/share/pyfresh/pyfresh.wsgi" % prefix in conf


def test_the_entry_script_is_installed_at_the_documented_path(destdir):
    prefix = cache_value("CMAKE_INSTALL_PREFIX")
    script = installed(destdir, os.path.join(prefix, "share", "pyfresh", "pyfresh.wsgi"))
    with open(script) as handle:
        text = handle.read()
    assert "from pyfresh.hosts.mod_wsgi import application" in text
    compile(text, script, "exec")  # valid Python


def test_a2enmod_enables_pyfresh_and_its_mod_wsgi_dependency(destdir, workspace):
    """a2enmod honours APACHE_CONFDIR, so it runs on the DESTDIR copy."""
    a2enmod = shutil.which("a2enmod", path="/usr/sbin:/usr/bin")
    if a2enmod is None:
        pytest.skip("a2enmod (Debian's apache2) is not installed")
    confdir = installed(destdir, apxs("SYSCONFDIR"))
    os.makedirs(os.path.join(confdir, "mods-enabled"), exist_ok=True)
    shutil.copy("/etc/apache2/mods-available/wsgi.load", os.path.join(confdir, "mods-available"))
    env = dict(harness.clean_env(), APACHE_CONFDIR=confdir,
               APACHE_STATE_DIRECTORY=workspace.path("a2enmod-state"))
    result = subprocess.run([a2enmod, "pyfresh"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("pyfresh.load", "pyfresh.conf", "wsgi.load"):
        link = os.path.join(confdir, "mods-enabled", name)
        assert os.path.islink(link), (name, result.stdout)
        assert os.path.realpath(link) == os.path.realpath(os.path.join(confdir, "mods-available", name))


def test_the_module_exports_only_its_module_record():
    result = subprocess.run(["nm", "-D", "--defined-only", harness.module_path()],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    symbols = [line.split()[-1] for line in result.stdout.splitlines() if line.strip()]
    assert symbols == ["pyfresh_module"]


def test_pyfresh_conf_defines_the_entry_script_path_for_httpd(destdir, workspace):
    """Included after the module is loaded (as Debian's mods-enabled does),
    pyfresh.conf lets sites write `WSGIScriptAlias / ${PYFRESH_WSGI_SCRIPT}`."""
    conf = installed(destdir, os.path.join(apxs("SYSCONFDIR"), "mods-available", "pyfresh.conf"))
    config = harness.substitute("""\
ServerRoot "@STATE@"
ServerName 127.0.0.1
Listen 127.0.0.1:8
PidFile "@STATE@/httpd.pid"
ErrorLog "@STATE@/error.log"
LoadModule mpm_event_module @MODULES@/mod_mpm_event.so
LoadModule authz_core_module @MODULES@/mod_authz_core.so
LoadModule wsgi_module @MODULES@/mod_wsgi.so
LoadModule pyfresh_module @MOD_PYFRESH@
Include "@CONF@"
WSGIScriptAlias / ${PYFRESH_WSGI_SCRIPT}
""", {"STATE": workspace.state, "MODULES": harness.MODULES, "MOD_PYFRESH": harness.module_path(),
      "CONF": conf})
    returncode, output = harness.config_test(config, workspace)
    assert returncode == 0 and "Syntax OK" in output, output
    assert "not defined" not in output, output
