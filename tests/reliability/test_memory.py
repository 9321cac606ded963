"""Memory across reloads of a Flask app: in one Python process through
pyfresh.Reloader (RELOADS reloads), and in a uWSGI worker over HTTP.

Pass: resident memory grows by at most 10 KB per reload on average (after
a warm-up), and old generations do not pile up: at most 2 views modules /
Flask apps of earlier generations alive (weak references, after gc)."""

import json
import os
import subprocess
import sys
import time

from memory_probe import APP, INIT, MODELS, VIEWS, write
from rel_common import HERE, RELOADS, UwsgiTarget, report, request

KB_PER_RELOAD_LIMIT = 10.0
MAX_ALIVE_GENERATIONS = 2


def test_flask_reloads_in_process(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, os.path.join(HERE, "memory_probe.py"), str(tmp_path), str(RELOADS)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    figures = json.loads(result.stdout.decode().strip().splitlines()[-1])
    report("memory_in_process", figures)
    assert figures["engine_reloads"] == figures["reloads"] + figures["warmup_reloads"]
    assert figures["kb_per_reload"] <= KB_PER_RELOAD_LIMIT, figures
    assert figures["kb_per_reload_slope"] <= KB_PER_RELOAD_LIMIT, figures
    assert figures["alive_views_modules"] <= MAX_ALIVE_GENERATIONS, figures
    assert figures["alive_flask_apps"] <= MAX_ALIVE_GENERATIONS, figures
    assert figures["max_alive_generations"] <= MAX_ALIVE_GENERATIONS, figures


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def test_flask_reloads_in_uwsgi_worker(tmp_path):
    """One worker, one thread: every save is followed by requests until the
    new version answers (bounded), then the worker's RSS is read."""
    reloads = RELOADS
    warmup = 30
    target = UwsgiTarget(tmp_path, processes=1, threads=1)
    package = os.path.join(target.app_root, "relflask")
    os.makedirs(package)
    write(os.path.join(package, "__init__.py"), INIT)
    write(os.path.join(package, "app.py"), APP)
    write(os.path.join(package, "models.py"), MODELS)
    write(os.path.join(package, "views.py"), VIEWS.format(token="t-00000"))
    try:
        target.start("relflask.app:app")
        (pid,) = target.worker_pids()
        samples = []
        started = time.monotonic()
        for i in range(1, warmup + reloads + 1):
            token = "t-%05d" % i
            write(os.path.join(package, "views.py"), VIEWS.format(token=token))
            deadline = time.monotonic() + 10
            while True:
                answer = request(target.port, "/api")
                assert answer.status == 200, (answer.status, answer.error, answer.body[:300])
                if json.loads(answer.body)["version"] == token:
                    break
                assert time.monotonic() < deadline, "reload %d not served within 10 s" % i
                time.sleep(0.002)
            if i >= warmup and (i - warmup) % 25 == 0:
                samples.append((i - warmup, rss_kb(pid)))
            assert time.monotonic() - started < 600, "over 600 s"
        assert target.worker_pids() == {pid}, "the worker was replaced"
        xs, ys = [s[0] for s in samples], [s[1] for s in samples]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / (sum((x - mean_x) ** 2 for x in xs) or 1)
        figures = {
            "reloads": reloads, "warmup_reloads": warmup, "rss_start_kb": ys[0], "rss_end_kb": ys[-1],
            "kb_per_reload": round((ys[-1] - ys[0]) / reloads, 3), "kb_per_reload_slope": round(slope, 3),
            "reloads_logged": target.log().count("reloaded relflask.app:app"), "samples": samples,
            "seconds": round(time.monotonic() - started, 1), "server_problems": target.problems(),
        }
        report("memory_uwsgi_worker", figures)
        assert figures["reloads_logged"] >= warmup + reloads, figures["reloads_logged"]
        assert figures["kb_per_reload"] <= KB_PER_RELOAD_LIMIT, figures
        assert figures["kb_per_reload_slope"] <= KB_PER_RELOAD_LIMIT, figures
        assert not figures["server_problems"], figures["server_problems"]
    finally:
        target.stop()
