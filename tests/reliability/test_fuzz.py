"""Runs the libFuzzer target over the config and package-name parsers
(tests/fuzz/config_fuzzer.cc) for FUZZ_SECONDS, from the seed corpus in
tests/fuzz/corpus (copied: the source tree is not written). A crash, a
sanitizer report or a broken check fails the test; the reproducer is kept
in the report directory (fuzz-artifacts/)."""

import os
import re
import shutil
import subprocess

import pytest

from rel_common import FUZZ_SECONDS, TESTS, report, report_dir


def fuzzer_path():
    build = os.environ.get("PYFRESH_BUILD_DIR", "")
    return os.path.join(build, "tests", "fuzz", "pyfresh_config_fuzzer")


def test_config_fuzzer(tmp_path):
    binary = fuzzer_path()
    if not os.path.exists(binary):
        pytest.fail("%s is missing: configure with clang++ and libclang-rt-14-dev installed "
                    "(PYFRESH_BUILD_FUZZ=ON) and build the target pyfresh_config_fuzzer" % binary, pytrace=False)
    corpus = tmp_path / "corpus"
    shutil.copytree(os.path.join(TESTS, "fuzz", "corpus"), corpus)
    artifacts = os.path.join(report_dir(), "fuzz-artifacts") + os.sep
    os.makedirs(artifacts, exist_ok=True)
    command = [binary, "-max_total_time=%d" % FUZZ_SECONDS, "-max_len=8192", "-timeout=10", "-rss_limit_mb=2048",
               "-print_final_stats=1", "-artifact_prefix=" + artifacts, str(corpus)]
    result = subprocess.run(command, cwd=str(tmp_path), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=FUZZ_SECONDS + 120)
    output = result.stdout.decode("utf-8", "replace")
    stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", output, re.MULTILINE))
    figures = {
        "seconds": FUZZ_SECONDS,
        "executions": int(stats.get("number_of_executed_units", 0)),
        "executions_per_second": int(stats.get("average_exec_per_sec", 0)),
        "new_units": int(stats.get("new_units_added", 0)),
        "corpus_files": len(os.listdir(corpus)),
        "peak_rss_mb": int(stats.get("peak_rss_mb", 0)),
        "exit_status": result.returncode,
    }
    report("fuzz_config", figures)
    assert result.returncode == 0, "the fuzzer failed (exit %d):\n%s" % (result.returncode, output[-6000:])
    assert figures["executions"] > 0, output[-3000:]
