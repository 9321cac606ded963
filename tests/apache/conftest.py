import os

import pytest

from pyfresh_testsupport import apache_harness as harness


def pytest_configure(config):
    missing = [path for path in (harness.APACHE, os.path.join(harness.MODULES, "mod_wsgi.so"))
               if not os.path.exists(path)]
    if missing:
        raise pytest.UsageError("missing %s: run scripts/install-deps.sh" % ", ".join(missing))


@pytest.fixture(scope="session", autouse=True)
def built_module():
    """The suite tests the build tree: mod_pyfresh.so, the entry script and
    the pyfresh package must be there (ctest sets PYFRESH_BUILD_DIR)."""
    for path in (harness.module_path(), harness.entry_script(),
                 os.path.join(harness.python_dir(), "pyfresh", "hosts", "mod_wsgi.py")):
        assert os.path.exists(path), "%s is missing: build the project first" % path


@pytest.fixture(scope="module")
def workspace():
    space = harness.Workspace()
    yield space
    space.cleanup()
