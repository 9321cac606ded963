"""What the engine takes from the core rather than defining again: making
a file spec absolute (as os.path.abspath does) and the restart exit status."""

import os

import pytest

from pyfresh import _core, app_loader, restart, run


@pytest.mark.parametrize("path", [
    "app.wsgi", "./app.wsgi", "sub/../app.py", "../../../../../../x.py", "a//b/./c.py",
    "/abs/./x/../y.wsgi", "//net/share/app.py", "///many/app.py", "caf\udce9/app.py",
])
def test_absolute_path_is_what_os_path_abspath_gives(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _core.absolute_path(path, os.getcwd()) == os.path.abspath(path)


def test_a_relative_file_spec_is_made_absolute_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = app_loader.AppSpec("./sub/../site.wsgi:app")
    assert (spec.kind, spec.target, spec.callable) == ("file", str(tmp_path / "site.wsgi"), "app")


def test_one_restart_exit_status():
    assert restart.RESTART_EXIT_STATUS == run.RESTART_STATUS == _core.RESTART_EXIT_STATUS == 75
