"""Fixtures for the uWSGI integration tests (the harness is uwsgi_harness.py)."""

import shutil

import pytest

from pyfresh_testsupport.uwsgi_harness import Uwsgi, build_dir_from_env


@pytest.fixture(scope="session")
def build_dir():
    return build_dir_from_env()


@pytest.fixture(scope="session")
def plugin_dir(build_dir):
    return build_dir / "uwsgi_plugin"


@pytest.fixture(scope="session")
def python_dir(build_dir):
    return build_dir / "python"


@pytest.fixture(scope="session")
def uwsgi_binary():
    path = shutil.which("uwsgi", path="/usr/local/bin:/usr/bin:/bin")
    if path is None:
        pytest.fail("uwsgi is not installed (scripts/install-deps.sh)", pytrace=False)
    return path


@pytest.fixture
def uwsgi_factory(tmp_path, uwsgi_binary, plugin_dir, python_dir):
    """make(name) -> a Uwsgi in its own tmp dir; all are stopped afterwards."""
    instances = []

    def make(name="uwsgi"):
        instance = Uwsgi(tmp_path / name, uwsgi_binary, plugin_dir, python_dir)
        instances.append(instance)
        return instance

    yield make
    for instance in instances:
        instance.stop()
        # Shown by pytest only when the test failed.
        print("==== uWSGI log of %s (exit %s) ====\n%s" % (instance.dir.name, instance.returncode, instance.log()))


@pytest.fixture
def uwsgi(uwsgi_factory):
    return uwsgi_factory()


@pytest.fixture
def app_root(tmp_path):
    root = tmp_path / "apps"
    root.mkdir()
    return root
