"""Fixtures of the browser tests: headless Chromium (Debian's chromium,
chromium-driver, python3-selenium), one per test module."""

import os

import pytest

from pyfresh_testsupport import live_sites


@pytest.fixture(scope="session")
def build_dir():
    value = os.environ.get("PYFRESH_BUILD_DIR")
    if not value:
        pytest.fail("PYFRESH_BUILD_DIR is not set: run these tests through ctest", pytrace=False)
    return value


@pytest.fixture(scope="module")
def browser():
    missing = live_sites.chromium_missing()
    if missing:
        pytest.skip("no headless Chromium: " + missing)
    driver = live_sites.start_browser()
    yield driver
    driver.quit()
