"""The test loop as a user runs it: `python3 -m pyfresh.test` and `pytest
--reload-loop` in a subprocess on a generated project, files saved for
real, the output read line by line (with timeouts), the process killed at
the end."""

import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

BUILD_PYTHON = os.path.join(os.environ["PYFRESH_BUILD_DIR"], "python") if os.environ.get(
    "PYFRESH_BUILD_DIR") else None
pytestmark = pytest.mark.skipif(not BUILD_PYTHON, reason="needs PYFRESH_BUILD_DIR (run through ctest)")

# pytest's own summary line, -q or not: "1 failed, 2 passed in 0.03s",
# "no tests ran in 0.01s", "1 error in 0.05s", "==== 3 passed in 0.1s ====".
SUMMARY = re.compile(r"^=*\s*(?:\d+ \w+(?:, \d+ \w+)*|no tests ran) in [\d.]+s")
TIMEOUT = 60


class Loop:
    """A running loop: its output, line by line, through a queue."""

    def __init__(self, argv, cwd):
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": BUILD_PYTHON, "LANG": "C.UTF-8"}
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1, start_new_session=True)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def until(self, pattern, timeout=TIMEOUT):
        """The lines up to and including the first matching `pattern`."""
        regex = re.compile(pattern)
        got = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no line matching %r within %s s; got:\n%s"
                                     % (pattern, timeout, "\n".join(self.seen[-60:])))
            if line is None:
                raise AssertionError("the loop ended (status %s) before %r; got:\n%s"
                                     % (self.proc.wait(), pattern, "\n".join(self.seen[-60:])))
            self.seen.append(line)
            got.append(line)
            if regex.search(line):
                return got

    def round(self, timeout=TIMEOUT):
        """The lines of one pytest session, up to its summary line."""
        return self.until(SUMMARY.pattern, timeout)

    def waiting(self):
        """The lines up to the loop's saying it waits for saves (after each
        round: all its sessions)."""
        return self.until(r"waiting for saves")

    def interrupt(self):
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=TIMEOUT)

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text).lstrip())


@pytest.fixture
def project(tmp_path):
    """calc.ops (used by tests/test_ops.py), calc.other (used by
    tests/test_other.py through calc.wrap), a conftest with a fixture, and
    a test that records the process id of each round."""
    root = tmp_path / "proj"
    write(str(root / "calc/__init__.py"), "")
    write(str(root / "calc/ops.py"), """
        def add(a, b):
            return a - b
        """)
    write(str(root / "calc/other.py"), """
        def mul(a, b):
            return a * b
        """)
    write(str(root / "calc/wrap.py"), """
        from calc.other import mul
        """)
    write(str(root / "tests/conftest.py"), """
        import pytest

        @pytest.fixture
        def two():
            return 2
        """)
    write(str(root / "tests/test_ops.py"), """
        from calc.ops import add

        def test_add():
            assert add(2, 2) == 4
        """)
    write(str(root / "tests/test_other.py"), """
        from calc.wrap import mul

        def test_mul(two):
            assert mul(two, 3) == 6
        """)
    write(str(root / "tests/test_pid.py"), """
        import os

        def test_pid():
            with open(os.path.join(os.path.dirname(__file__), "..", "pids"), "a") as f:
                f.write("%d\\n" % os.getpid())
        """)
    return root


@pytest.fixture
def start(project):
    loops = []

    def start_loop(*loop_args, pytest_args=("-v", "-p", "no:cacheprovider", "tests"), plugin=False):
        # CTest runs the suite a second time with PYFRESH_TEST_RELOAD_SCOPE=dependents.
        scope = os.environ.get("PYFRESH_TEST_RELOAD_SCOPE")
        if scope and "--reload-scope" not in loop_args:
            loop_args = ("--reload-scope", scope) + loop_args
        if plugin:
            argv = [sys.executable, "-m", "pytest", "--reload-loop", *loop_args, *pytest_args]
        else:
            argv = [sys.executable, "-m", "pyfresh.test", *loop_args, "--", *pytest_args]
        loop = Loop(argv, str(project))
        loops.append(loop)
        return loop

    yield start_loop
    for loop in loops:
        loop.kill()


def save(path, text):
    """An editor's in-place save; the next thing read is the loop's output."""
    write(str(path), text)


def test_a_fix_turns_a_failure_into_a_pass_in_the_same_process(project, start):
    loop = start()
    first = loop.waiting()
    assert "1 failed, 2 passed" in summaries(first)[-1], first
    save(project / "calc/ops.py", """
        def add(a, b):
            return a + b
        """)
    second = loop.waiting()
    found = summaries(second)
    assert "1 passed" in found[0] and "2 passed" in found[1], second  # affected first, then the rest
    assert any("calc/ops.py changed" in line for line in second), second
    assert "exit status 0" in second[-1]
    pids = set((project / "pids").read_text().split())
    assert pids == {str(loop.proc.pid)}
    assert loop.proc.poll() is None


def ran_files(lines):
    """The test files of the PASSED/FAILED lines, in order."""
    return [line.split("::")[0].split("/")[-1] for line in lines
            if "::" in line and (" PASSED" in line or " FAILED" in line)]


def summaries(lines):
    return [line for line in lines if SUMMARY.search(line)]


def test_new_deleted_and_broken_test_files(project, start):
    loop = start()
    loop.waiting()
    save(project / "tests/test_new.py", """
        def test_new():
            assert True
        """)
    lines = loop.waiting()
    assert ran_files(lines)[0] == "test_new.py", lines  # a new file is affected by its own creation
    os.remove(str(project / "tests/test_new.py"))
    lines = loop.waiting()
    assert "test_new.py" not in ran_files(lines), lines
    assert "1 failed, 2 passed" in summaries(lines)[-1], lines
    save(project / "tests/test_other.py", """
        from calc.wrap import mul

        def test_mul(two:
            assert mul(two, 3) == 6
        """)
    lines = loop.waiting()
    assert any("SyntaxError" in line for line in lines), lines
    assert re.search(r"\b1 error\b", summaries(lines)[-1]), lines
    assert loop.proc.poll() is None  # reported; the loop waits for the next save
    save(project / "tests/test_other.py", """
        from calc.wrap import mul

        def test_mul(two):
            assert mul(two, 3) == 6
        """)
    lines = loop.waiting()
    assert ran_files(lines)[0] == "test_other.py", lines
    assert any("test_other.py::test_mul PASSED" in line for line in lines), lines


def test_a_broken_package_module_is_a_collection_error_until_fixed(project, start):
    loop = start()
    loop.waiting()
    save(project / "calc/other.py", "def mul(a, b)\n    return a * b\n")
    lines = loop.waiting()
    assert re.search(r"\b1 error\b", summaries(lines)[-1]), lines
    assert any("SyntaxError" in line for line in lines), lines
    assert loop.proc.poll() is None
    save(project / "calc/other.py", "def mul(a, b):\n    return a * b\n")
    lines = loop.waiting()
    assert any("test_other.py::test_mul PASSED" in line for line in lines), lines


def test_a_conftest_change_applies(project, start):
    loop = start()
    loop.waiting()
    save(project / "tests/conftest.py", """
        import pytest

        @pytest.fixture
        def two():
            return 3
        """)
    lines = loop.waiting()
    assert any("test_other.py::test_mul FAILED" in line for line in lines), lines
    assert any("every test" in line and "conftest.py changed" in line for line in lines), lines
    assert len(summaries(lines)) == 1, lines


@pytest.mark.parametrize("scope", ["packages", "dependents"])
def test_affected_tests_run_first_then_the_rest(project, start, scope):
    loop = start("--reload-scope", scope)
    loop.waiting()
    # calc.other is imported by tests/test_other.py, through calc.wrap only.
    save(project / "calc/other.py", """
        def mul(a, b):
            return b * a
        """)
    lines = loop.waiting()
    assert any("running the affected tests first" in line and "test_other.py" in line for line in lines), lines
    assert ran_files(lines)[0] == "test_other.py", lines
    assert sorted(ran_files(lines)[1:]) == ["test_ops.py", "test_pid.py"], lines
    first, rest = summaries(lines)
    assert "1 passed" in first and "failed" not in first, lines
    assert "1 failed, 1 passed" in rest, lines
    assert "exit status 1" in lines[-1]
    reload_line = [line for line in lines if "reloaded the tests under" in line][0]
    if scope == "dependents":
        # calc.other, calc.wrap and tests/test_other.py: not calc.ops, test_ops.py, test_pid.py
        assert "(3 modules cleared" in reload_line and "their importers" in reload_line, reload_line
    else:
        assert "(3 modules cleared" not in reload_line, reload_line


def test_a_failing_affected_test_stops_the_round(project, start):
    loop = start()
    loop.waiting()
    save(project / "calc/other.py", """
        def mul(a, b):
            return a + b
        """)
    lines = loop.waiting()
    assert ran_files(lines) == ["test_other.py"], lines  # the rest runs only after a pass
    assert len(summaries(lines)) == 1 and "1 failed" in summaries(lines)[0], lines


def test_session_fixtures_are_set_up_again_each_round_and_watch_paths_start_one(project, start):
    write(str(project / "tests/conftest.py"), """
        import os
        import pytest

        @pytest.fixture
        def two():
            return 2

        @pytest.fixture(scope="session", autouse=True)
        def session_setup():
            with open(os.path.join(os.path.dirname(__file__), "..", "setups"), "a") as f:
                f.write("x\\n")
            yield
        """)
    write(str(project / "data.txt"), "1\n")
    loop = start("--watch", "data.txt")
    loop.waiting()
    save(project / "data.txt", "2\n")
    lines = loop.waiting()
    assert any("data.txt changed; running every test" in line and "not a module" in line for line in lines), lines
    assert (project / "setups").read_text().split() == ["x", "x"]  # one per session


def test_affected_only_runs_only_the_affected_tests(project, start):
    loop = start("--affected-only")
    loop.waiting()
    save(project / "calc/other.py", """
        def mul(a, b):
            return b * a
        """)
    lines = loop.waiting()
    assert ran_files(lines) == ["test_other.py"], lines
    save(project / "calc/ops.py", """
        def add(a, b):
            return a + b
        """)
    lines = loop.waiting()
    # test_ops was not imported by the previous round: affected all the same.
    assert ran_files(lines) == ["test_ops.py"], lines
    assert "exit status 0" in lines[-1]


def test_assertion_rewriting_survives_a_re_import(project, start):
    loop = start()
    first = loop.waiting()
    assert any("where 0 = add(2, 2)" in line for line in first), first
    # Same size, within the same second: the rewriter's cached .pyc would
    # be taken for the new file if the loop did not remove it.
    for expected in ("5", "6"):
        save(project / "tests/test_ops.py", """
            from calc.ops import add

            def test_add():
                assert add(2, 2) == %s
            """ % expected)
        lines = loop.waiting()
        assert any(("assert 0 == %s" % expected) in line for line in lines), lines
        assert any("where 0 = add(2, 2)" in line for line in lines), lines


def test_ctrl_c_ends_with_the_last_rounds_status(project, start):
    loop = start()
    loop.waiting()
    assert loop.interrupt() == 1
    loop = start()
    loop.waiting()
    save(project / "calc/ops.py", """
        def add(a, b):
            return a + b
        """)
    loop.waiting()
    assert loop.interrupt() == 0


def test_pytest_reload_loop_plugin(project, start):
    # The loop's own options are taken out of the rounds' arguments (a
    # round given --reload-loop would start a loop inside the loop).
    loop = start("--reload-packages", "calc", "--reload-exclude=calc.wrap", plugin=True)
    first = loop.waiting()
    assert "1 failed, 2 passed" in summaries(first)[-1], first
    save(project / "calc/ops.py", """
        def add(a, b):
            return a + b
        """)
    lines = loop.waiting()
    assert ran_files(lines)[0] == "test_ops.py", lines
    assert "exit status 0" in lines[-1]
    assert any("packages given; reloading calc" in line and "(kept: calc.wrap)" in line for line in first), first
    pids = set((project / "pids").read_text().split())
    assert pids == {str(loop.proc.pid)}
    assert loop.interrupt() == 0


def test_the_plugin_is_registered_through_the_build_trees_dist_info():
    out = subprocess.run([sys.executable, "-m", "pytest", "--help"], env={
        "PATH": "/usr/bin:/bin", "PYTHONPATH": BUILD_PYTHON}, capture_output=True, text=True, check=True).stdout
    assert "--reload-loop" in out and "--affected-only" in out
