"""WSGI call overhead of pyfresh.Reloader over the bare app when nothing
changed: inotify path, reloading switched off, a streaming response, and
the Python side of Apache's path (mod_wsgi calling pyfresh's entry script
with PYFRESH_CONFIG in the environ).

    PYTHONPATH=build/python /usr/bin/python3 bench/wsgi_overhead.py
"""

import os
import statistics
import sys
import tempfile
import timeit

APP = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]

def streaming(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return iter([b"hello"])
"""


def per_call_ns(func, number=200_000, repeat=7):
    times = timeit.repeat(func, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e9


def main():
    root = tempfile.mkdtemp(prefix="pyfresh-overhead-")
    os.makedirs(os.path.join(root, "benchapp"))
    open(os.path.join(root, "benchapp", "__init__.py"), "w").close()
    with open(os.path.join(root, "benchapp", "wsgi.py"), "w") as f:
        f.write(APP)
    sys.path.insert(0, root)
    import pyfresh
    import logging
    logging.getLogger("pyfresh").setLevel(logging.WARNING)
    from benchapp import wsgi

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}

    def start_response(status, headers, exc_info=None):
        return None

    def consume(app):
        def run():
            result = app(environ, start_response)
            for _ in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return run

    on = pyfresh.Reloader("benchapp.wsgi:application")
    off = pyfresh.Reloader("benchapp.wsgi:application", enabled=False)
    stream = pyfresh.Reloader("benchapp.wsgi:streaming")
    on(environ, start_response)
    stream(environ, start_response).close()
    assert on.detector.method == "inotify", on.detector.method

    bare = per_call_ns(consume(wsgi.application))
    with_reloader = per_call_ns(consume(on))
    disabled = per_call_ns(consume(off))
    bare_stream = per_call_ns(consume(wsgi.streaming))
    with_stream = per_call_ns(consume(stream))
    # mod_wsgi builds a new environ, with a new PYFRESH_CONFIG string (its
    # hash not yet computed), for every request: so do both sides here.
    from pyfresh.hosts import mod_wsgi as mod_wsgi_entry
    from pyfresh.config import serialize_config
    config = serialize_config([("app", "benchapp.wsgi:application"), ("packages", "benchapp")]).encode("utf-8")

    def consume_fresh_environ(app):
        def run():
            request_environ = dict(environ)
            request_environ["PYFRESH_CONFIG"] = config.decode("latin-1")
            for _ in app(request_environ, start_response):
                pass
        return run

    consume_fresh_environ(mod_wsgi_entry.application)()
    bare_apache = per_call_ns(consume_fresh_environ(wsgi.application))
    entry = per_call_ns(consume_fresh_environ(mod_wsgi_entry.application))

    print("bare app (list response)            %7.0f ns/request" % bare)
    print("Reloader, inotify, nothing changed  %7.0f ns/request  (+%.0f ns)" % (with_reloader, with_reloader - bare))
    print("Reloader, enabled=False             %7.0f ns/request  (+%.0f ns)" % (disabled, disabled - bare))
    print("bare app (streaming response)       %7.0f ns/request" % bare_stream)
    print("Reloader, streaming response        %7.0f ns/request  (+%.0f ns)" % (with_stream, with_stream - bare_stream))
    print("bare app, mod_wsgi-like environ     %7.0f ns/request" % bare_apache)
    print("mod_wsgi entry script, PyFresh On   %7.0f ns/request  (+%.0f ns)" % (entry, entry - bare_apache))


if __name__ == "__main__":
    main()
