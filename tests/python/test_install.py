"""`cmake --install` puts the pyfresh package where Debian's python3 finds it."""

import os
import subprocess
import sys

import pytest

BUILD = os.environ.get("PYFRESH_BUILD_DIR")


@pytest.mark.skipif(not BUILD, reason="needs PYFRESH_BUILD_DIR (run through ctest)")
def test_installed_package_is_on_debians_path_and_imports(tmp_path):
    cache = open(os.path.join(BUILD, "CMakeCache.txt")).read()
    prefix = [l.split("=", 1)[1] for l in cache.splitlines() if l.startswith("CMAKE_INSTALL_PREFIX:")][0]
    subdir = [l.split("=", 1)[1] for l in cache.splitlines() if l.startswith("PYFRESH_PYTHON_INSTALL_DIR:")][0]
    target = os.path.join(prefix, subdir)
    debian_path = subprocess.run(["/usr/bin/python3", "-c", "import sys; print('\\n'.join(sys.path))"],
                                 env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                                 check=True).stdout.split()
    assert target in debian_path, (target, debian_path)

    env = dict(os.environ, DESTDIR=str(tmp_path))
    subprocess.run(["cmake", "--install", BUILD], env=env, check=True, capture_output=True)
    staged = str(tmp_path) + target
    names = os.listdir(os.path.join(staged, "pyfresh"))
    assert "reloader.py" in names and any(n.startswith("_core.") and n.endswith(".so") for n in names)
    result = subprocess.run(
        ["/usr/bin/python3", "-c", "import pyfresh, pyfresh._core as c; print(pyfresh.__file__)"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": staged}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(staged)
    # pytest finds `--reload-loop` through the installed dist-info's entry point.
    dist_info = os.path.join(staged, "pyfresh-%s.dist-info" % __import__("pyfresh").__version__)
    assert "pyfresh = pytest_pyfresh" in open(os.path.join(dist_info, "entry_points.txt")).read()
    assert os.path.exists(os.path.join(staged, "pyfresh", "test", "loop.py"))
    assert os.path.exists(os.path.join(staged, "pytest_pyfresh.py"))
    result = subprocess.run(["/usr/bin/python3", "-m", "pytest", "--help"],
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": staged}, capture_output=True, text=True)
    assert "--reload-loop" in result.stdout, result.stderr


def test_core_exports_only_its_init_symbol():
    import pyfresh._core as core
    out = subprocess.run(["nm", "-D", "--defined-only", core.__file__], capture_output=True, text=True,
                         check=True).stdout
    exported = [line.split()[-1] for line in out.splitlines() if line.split()[1] in ("T", "D", "B", "W")]
    assert exported == ["PyInit__core"], exported
