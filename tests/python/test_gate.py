"""The request gate: reloads and requests never overlap within a process."""

import logging
import sys
import threading
import time

import pyfresh
from conftest import call

STREAM_WSGI = """
import importlib, time
import PKG.version

def application(environ, start_response):
    start_response("200 OK", [])
    def chunks():
        for _ in range(5):
            yield importlib.import_module('PKG.version').V.encode() + b' '
            time.sleep(0.05)
    return chunks()
"""


def test_streaming_response_is_in_flight_until_closed(app, on_path):
    app.write("version", "V = 'old'\n")
    app.write("wsgi", STREAM_WSGI)
    reloader = pyfresh.Reloader(app.spec())
    streamed = {}

    def stream():
        streamed["body"] = call(reloader)[1]

    first = threading.Thread(target=stream)
    first.start()
    deadline = time.monotonic() + 5
    while reloader.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert reloader.in_flight == 1
    app.write("version", "V = 'new'\n")
    second = call(reloader)  # triggers the reload: must wait for the stream
    first.join(10)
    assert streamed["body"].split() == ["old"] * 5
    assert second[1].split() == ["new"] * 5
    assert reloader.in_flight == 0


def test_response_closed_without_iteration_leaves_the_gate(app, on_path):
    app.write("version", "V = 'x'\n")
    app.write("wsgi", STREAM_WSGI)
    reloader = pyfresh.Reloader(app.spec())
    result = reloader({}, lambda status, headers, exc_info=None: None)
    assert reloader.in_flight == 1
    result.close()
    assert reloader.in_flight == 0
    result.close()  # idempotent
    assert reloader.in_flight == 0


def test_app_exception_leaves_the_gate(app, on_path):
    app.write("wsgi", "def application(environ, start_response):\n    raise LookupError('in app')\n")
    reloader = pyfresh.Reloader(app.spec())
    try:
        reloader({}, lambda *a: None)
    except LookupError:
        pass
    assert reloader.in_flight == 0


def test_requests_arriving_during_a_reload_wait_and_get_new_code(app, on_path):
    """The reload blocks for 0.5 s at import; concurrent requests wait (the
    GIL is released while they do) and are served the new code."""
    app.write("version", "V = 'old'\n")
    app.write("wsgi", "import importlib\n\ndef application(environ, start_response):\n"
                      "    start_response('200 OK', [])\n"
                      "    return [importlib.import_module('PKG.version').V.encode()]\n")
    reloader = pyfresh.Reloader(app.spec())
    assert call(reloader) == (200, "old")
    app.write("version", "import time\ntime.sleep(0.5)\nV = 'new'\n")
    results = []
    ticks = []
    stop = threading.Event()

    def ticker():  # proves other Python threads run while requests wait
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.01)

    tick_thread = threading.Thread(target=ticker)
    tick_thread.start()
    threads = [threading.Thread(target=lambda: results.append(call(reloader))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    stop.set()
    tick_thread.join(5)
    assert results == [(200, "new")] * 8
    assert reloader.reload_count == 1
    assert len(ticks) > 10


def test_gate_is_a_plain_wsgi_callable_when_disabled_overhead_free(app, on_path):
    app.write("wsgi", "def application(environ, start_response):\n"
                      "    start_response('200 OK', [])\n    return iter([b'gen'])\n")
    reloader = pyfresh.Reloader(app.spec(), enabled=False)
    result = reloader({}, lambda *a: None)
    # Disabled: the app's own result object is returned untouched.
    assert type(result).__name__ == "list_iterator"
    assert sys.getrefcount(reloader) > 0


def test_gate_calls_the_on_stale_callable_it_is_given(tmp_path):
    # The Gate knows no method names: a request that finds a stale file calls
    # whatever on_stale holds, before it enters; None leaves the app serving.
    watched = tmp_path / "watched.py"
    watched.write_text("A = 1\n")
    gate = pyfresh._core.Gate()
    gate.app = lambda environ, start_response: [b"app"]
    gate.detector = pyfresh._core.Detector()
    gate.detector.track(str(watched))
    calls = []
    gate.on_stale = lambda stale_gate: calls.append(stale_gate.detector.stale_paths())
    assert gate({}, None) == [b"app"]
    assert calls == []
    watched.write_text("A = 22\n")
    assert gate({}, None) == [b"app"]
    assert calls == [[str(watched)]]
    gate.on_stale = None
    assert gate({}, None) == [b"app"]
    assert len(calls) == 1


def test_detector_log_lines_carry_their_level(tmp_path):
    # The core gives each line its logging level; nothing reads the words.
    watched = tmp_path / "watched.py"
    watched.write_text("A = 1\n")
    lines = []
    detector = pyfresh._core.Detector(log=lambda level, message: lines.append((level, message)))
    detector.track(str(watched))
    assert detector.check() is False
    assert lines == [(logging.INFO, "pyfresh: watching 1 file in 1 directory with inotify")]
    # wait() releases the GIL around the core; its lines reach Python too.
    waited = []
    waiting = pyfresh._core.Detector(log=lambda level, message: waited.append((level, message)))
    waiting.track(str(watched))
    assert waiting.wait(0.01) is False
    assert waited == [(logging.INFO, "pyfresh: watching 1 file in 1 directory with inotify")]


def test_detector_log_callback_errors_reach_the_caller(tmp_path):
    watched = tmp_path / "watched.py"
    watched.write_text("A = 1\n")

    def failing(level, message):
        raise LookupError(message)

    detector = pyfresh._core.Detector(log=failing)
    detector.track(str(watched))
    try:
        detector.check()
    except LookupError as exc:
        assert "watching" in str(exc)
    else:
        raise AssertionError("the log callback's exception was lost")


def test_a_dropped_reloader_is_freed_without_a_collection(app, on_path):
    # on_stale is not a bound method of the Reloader: no reference cycle
    # keeps a Reloader (and its place in pyfresh.stats()) alive after use.
    import gc
    import weakref
    app.write("wsgi", "def application(environ, start_response):\n"
                      "    start_response('200 OK', [])\n    return [b'ok']\n")
    reloader = pyfresh.Reloader(app.spec())
    assert reloader.on_stale is not None
    dropped = weakref.ref(reloader)
    collector_was_on = gc.isenabled()
    gc.disable()
    try:
        del reloader
        assert dropped() is None
    finally:
        if collector_was_on:
            gc.enable()
