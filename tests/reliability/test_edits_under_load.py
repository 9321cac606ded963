"""Edits under load: 16 concurrent connections against uWSGI (2 processes x
4 threads) and Apache + mod_wsgi (daemon process, 4 threads) while an
editor makes EDITS edit steps to a multi-module app (edit_model.py):
atomic saves, in-place appends, two same-size saves within one second,
a save restoring an older mtime, a module deleted and recreated, a
two-file change swapped in atomically, a two-file change saved file by
file, a new module the app starts importing, and edits of the app's own
module.

Pass: no failed request (all code on disk is valid at every instant), no
mixed response, no stale response, every worker serves the last version
on its next request after the last save, worker pids unchanged.
"""

import time

import pytest

from edit_model import SETTLE, SPEC, Editor, Verdict
from rel_common import EDITS, LoadGenerator, make_target, report, request, wait_until

CONNECTIONS = 16
# After the last save: how long the load goes on (every worker must answer).
FINAL_SECONDS = 2.0


@pytest.mark.parametrize("server", ["uwsgi", "apache"])
def test_edits_under_load(server, tmp_path):
    target = make_target(server, tmp_path)
    editor = Editor(target.app_root, own=target.own)
    editor.create()
    try:
        target.start(SPEC)
        first = wait_until(lambda: (lambda r: r if r.status == 200 else None)(
            request(target.port, host=target.host)), timeout=30)
        assert first and first.status == 200, "the app does not answer: %r\n%s" % (first, target.log()[-3000:])
        pids_before = target.worker_pids()
        assert len(pids_before) == target.processes, pids_before

        plan = editor.plan(EDITS)
        # Bounded: the whole run may take at most this long.
        budget = 60 + 0.6 * EDITS
        load = LoadGenerator(target.port, host=target.host, connections=CONNECTIONS, keep_alive=target.keep_alive,
                             max_seconds=budget + 30).start()
        started = time.monotonic()
        try:
            time.sleep(0.5)
            for step, kind in enumerate(plan, start=1):
                pause = editor.save(step, kind)
                assert time.monotonic() - started < budget, "the edits took longer than %d s" % budget
                time.sleep(pause)
            last_save = editor.history.completed[-1]
            # Every worker's next request after the last save (+ SETTLE) must
            # show the last state: keep the load on until each has answered.
            time.sleep(SETTLE)
            time.sleep(FINAL_SECONDS)
        finally:
            records = load.stop()
        elapsed = time.monotonic() - started
        pids_after = target.worker_pids()
        verdict = Verdict(editor.history, records)

        final_key = editor.state().key()
        after_last = [r for r in records if r.sent >= last_save + SETTLE]
        final_pids = set()
        not_final = []
        for record in after_last:
            if record.status == 200:
                answer = record.json()
                final_pids.add(answer["pid"])
                markers = answer["m"]
                if tuple((k, markers[k]) for k, _ in final_key if k in markers) != final_key or \
                        len(markers) != len(final_key):
                    not_final.append(record)

        figures = {
            "server": server,
            "requests": verdict.requests,
            "requests_per_second": round(verdict.requests / elapsed, 1),
            "edit_steps": len(plan),
            "file_operations": editor.file_writes,
            "edit_kinds": editor.counts,
            "same_second_same_size_pairs": editor.same_second_pairs,
            "disk_states": len(editor.history.states),
            "disk_states_served": len(verdict.states_seen),
            "failures": len(verdict.failures),
            "mixed": len(verdict.mixed),
            "stale": len(verdict.stale),
            "in_window_intermediate": verdict.in_window,
            "max_lag_seconds": round(verdict.max_lag, 4),
            "final_version_misses": len(not_final),
            "worker_pids_before": sorted(pids_before),
            "worker_pids_after": sorted(pids_after),
            "pids_serving": sorted(verdict.pids),
            "reloads_logged": target.log().count("reloaded relapp.wsgi:application"),
            "server_problems": target.problems(),
        }
        report("edits_under_load_%s" % server, figures)

        assert not verdict.failures, "%d failed requests:\n%s" % (len(verdict.failures),
                                                                   verdict.describe(verdict.failures))
        assert not verdict.mixed, "%d mixed responses:\n%s" % (len(verdict.mixed), verdict.describe(verdict.mixed))
        assert not verdict.stale, "%d stale responses:\n%s" % (len(verdict.stale), verdict.describe(verdict.stale))
        assert after_last, "no request after the last save"
        assert not not_final, "after the last save:\n%s" % verdict.describe(not_final)
        assert final_pids == pids_before, "workers answering after the last save: %s, workers: %s" % (
            final_pids, pids_before)
        assert pids_after == pids_before and verdict.pids <= pids_before, (pids_before, pids_after, verdict.pids)
        assert editor.same_second_pairs == editor.counts.get("same_size_b", 0) > 0, editor.same_size_pair_log
        assert not figures["server_problems"], target.log()[-5000:]
        assert target.alive()
    finally:
        target.stop()
        if server == "apache":
            target.cleanup()
